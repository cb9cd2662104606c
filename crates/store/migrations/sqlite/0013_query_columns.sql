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
    created_ms = json_extract(payload, '$.created_at_ms'),
    status = json_extract(payload, '$.status'),
    amount = json_extract(payload, '$.total_amount'),
    has_refund = EXISTS (SELECT 1 FROM json_each(payload, '$.lines')
                         WHERE json_extract(value, '$.refund_status') <> 'JH_07')
WHERE stream = 'jit_orders' AND json_valid(payload);

UPDATE synced_records SET
    created_ms = json_extract(payload, '$.applyTime'),
    booked_ms = COALESCE(json_extract(payload, '$.commissionSettledTime'),
                         json_extract(payload, '$.commissionEnterTime')),
    parent_id = json_extract(payload, '$.orderSn'),
    amount = json_extract(payload, '$.commission')
WHERE stream = 'union_refunds' AND json_valid(payload);

UPDATE synced_records SET
    alt_id = json_extract(payload, '$.outer_id'),
    title = json_extract(payload, '$.name'),
    status = CASE WHEN json_extract(payload, '$.on_sale') THEN 'JH_01' ELSE 'JH_02' END
WHERE stream = 'products' AND json_valid(payload);

UPDATE union_orders SET settled_ms = json_extract(payload, '$.settledTime')
WHERE settled = 1 AND json_valid(payload);

DROP INDEX synced_records_by_update;
CREATE INDEX synced_records_by_update ON synced_records (connection_id, stream, updated_ms, record_id);
CREATE INDEX synced_records_by_created ON synced_records (connection_id, stream, created_ms, record_id);
CREATE INDEX synced_records_by_booked ON synced_records (connection_id, stream, booked_ms);
CREATE INDEX synced_records_by_alt_id ON synced_records (connection_id, stream, alt_id);
DROP INDEX union_orders_by_update;
CREATE INDEX union_orders_by_update ON union_orders (connection_id, last_update_ms, order_sn);
CREATE INDEX union_orders_by_settled ON union_orders (connection_id, settled_ms);
