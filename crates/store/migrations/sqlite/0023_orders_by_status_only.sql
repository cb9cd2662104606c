-- Union orders are read by change time through their index by sub-status alone: one status is
-- one range of it, all statuses a merge of one range per status. The index by change time
-- alone cost every order written about 8% of a sync's instructions and 11% of its bytes, and no
-- read needs it.
DROP INDEX union_orders_by_update;
