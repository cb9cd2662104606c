-- The console's filters and run history by index: orders of one status newest change first,
-- and one stream's runs newest first, without reading other statuses or streams.
CREATE INDEX synced_records_by_status ON synced_records (connection_id, stream, status, updated_ms, record_id);
CREATE INDEX union_orders_by_sub_status ON union_orders (connection_id, sub_status, last_update_ms, order_sn);
CREATE INDEX sync_runs_by_stream ON sync_runs (connection_id, stream, id);
