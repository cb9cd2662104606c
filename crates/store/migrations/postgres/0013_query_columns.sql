-- Typed query columns, so that windows, lists, searches and reports are answered by an index
-- instead of reading every record of a shop. Rows written before this migration get theirs from
-- their JSON here.
ALTER TABLE synced_records ADD COLUMN created_ms BIGINT;
ALTER TABLE synced_records ADD COLUMN status TEXT;
ALTER TABLE synced_records ADD COLUMN booked_ms BIGINT;
ALTER TABLE synced_records ADD COLUMN parent_id TEXT;
ALTER TABLE synced_records ADD COLUMN alt_id TEXT;
ALTER TABLE synced_records ADD COLUMN title TEXT;
ALTER TABLE synced_records ADD COLUMN amount TEXT;
ALTER TABLE synced_records ADD COLUMN has_refund BIGINT NOT NULL DEFAULT 0;
ALTER TABLE union_orders ADD COLUMN settled_ms BIGINT;

UPDATE synced_records SET
    created_ms = (payload::jsonb ->> 'created_at_ms')::BIGINT,
    status = payload::jsonb ->> 'status',
    amount = payload::jsonb ->> 'total_amount',
    has_refund = CASE WHEN EXISTS (
        SELECT 1 FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(payload::jsonb -> 'lines') = 'array'
                 THEN payload::jsonb -> 'lines' ELSE '[]'::jsonb END) AS line
        WHERE line ->> 'refund_status' <> 'JH_07') THEN 1 ELSE 0 END
WHERE stream = 'jit_orders' AND payload LIKE '{%';

UPDATE synced_records SET
    created_ms = (payload::jsonb ->> 'applyTime')::BIGINT,
    booked_ms = COALESCE((payload::jsonb ->> 'commissionSettledTime')::BIGINT,
                         (payload::jsonb ->> 'commissionEnterTime')::BIGINT),
    parent_id = payload::jsonb ->> 'orderSn',
    amount = payload::jsonb ->> 'commission'
WHERE stream = 'union_refunds' AND payload LIKE '{%';

UPDATE synced_records SET
    alt_id = payload::jsonb ->> 'outer_id',
    title = payload::jsonb ->> 'name',
    status = CASE WHEN (payload::jsonb ->> 'on_sale')::BOOLEAN THEN 'JH_01' ELSE 'JH_02' END
WHERE stream = 'products' AND payload LIKE '{%';

UPDATE union_orders SET settled_ms = (payload::jsonb ->> 'settledTime')::BIGINT
WHERE settled = 1 AND payload LIKE '{%';

DROP INDEX synced_records_by_update;
CREATE INDEX synced_records_by_update ON synced_records (connection_id, stream, updated_ms, record_id);
CREATE INDEX synced_records_by_created ON synced_records (connection_id, stream, created_ms, record_id);
CREATE INDEX synced_records_by_booked ON synced_records (connection_id, stream, booked_ms);
CREATE INDEX synced_records_by_alt_id ON synced_records (connection_id, stream, alt_id);
DROP INDEX union_orders_by_update;
CREATE INDEX union_orders_by_update ON union_orders (connection_id, last_update_ms, order_sn);
CREATE INDEX union_orders_by_settled ON union_orders (connection_id, settled_ms);
