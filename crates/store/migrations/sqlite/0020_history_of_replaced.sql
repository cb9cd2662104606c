-- A Union order's history holds only the versions its row no longer shows: the current version
-- lives in the row alone, so an order that never changes costs one row and its indexes, not a
-- second, randomly keyed entry in the history as well. Earlier writers also kept the current
-- version there (with its JSON, or '' once the row held it); those entries go.
DELETE FROM union_order_history
WHERE EXISTS (SELECT 1 FROM union_orders o
              WHERE o.connection_id = union_order_history.connection_id
                AND o.order_sn = union_order_history.order_sn
                AND o.last_update_ms = union_order_history.last_update_ms);

-- Earnings read settled orders by settlement time; the others need no entry.
DROP INDEX union_orders_by_settled;
CREATE INDEX union_orders_by_settled ON union_orders (connection_id, settled_ms) WHERE settled_ms IS NOT NULL;
