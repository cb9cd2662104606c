-- Earnings sum a period's refunds per day and order tags in the database: these indexes hold
-- every column that reads, so neither the refunds' nor the orders' (wide) rows are visited.
DROP INDEX synced_records_by_booked;
CREATE INDEX synced_records_by_booked ON synced_records (connection_id, stream, booked_ms, parent_id, amount);
CREATE INDEX union_orders_tags ON union_orders (connection_id, order_sn, chan_tag, stat_param);
