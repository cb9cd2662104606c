-- Where each stream's synced history starts: a read for an earlier window is not answered from
-- the store as if it were complete. New checkpoints get it from their first window; existing ones
-- from their first run, less the thirty days and ten minutes a first run reads back.
ALTER TABLE sync_checkpoints ADD COLUMN covered_from_ms BIGINT;
UPDATE sync_checkpoints SET covered_from_ms = COALESCE(
    (SELECT MIN(r.started_ms) FROM sync_runs r
     WHERE r.connection_id = sync_checkpoints.connection_id AND r.stream = sync_checkpoints.stream),
    updated_ms) - 2592600000;

-- Prefix searches of order numbers compare bytes, whatever the database's collation.
CREATE INDEX synced_records_by_id_bytes ON synced_records (connection_id, stream, record_id COLLATE "C");
CREATE INDEX union_orders_by_sn_bytes ON union_orders (connection_id, order_sn COLLATE "C");
