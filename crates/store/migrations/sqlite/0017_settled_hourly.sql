-- Settled Union orders summed per hour and tag beside the daily sums, kept by the same writer:
-- a report whose period starts or ends inside a day reads that day's whole hours from here and
-- only the orders of its partial hours, so its cost no longer grows with a day's orders.
CREATE TABLE union_settled_hourly (
    connection_id TEXT NOT NULL,
    hour_ms BIGINT NOT NULL,
    chan_tag TEXT NOT NULL,
    stat_param TEXT NOT NULL,
    orders BIGINT NOT NULL,
    commission_e4 BIGINT NOT NULL,
    PRIMARY KEY (connection_id, hour_ms, chan_tag, stat_param)
);

INSERT INTO union_settled_hourly (connection_id, hour_ms, chan_tag, stat_param, orders, commission_e4)
SELECT connection_id, (settled_ms / 3600000) * 3600000,
       COALESCE(chan_tag, ''), COALESCE(stat_param, ''),
       COUNT(*), COALESCE(SUM(CAST(ROUND(CAST(commission AS REAL) * 10000) AS BIGINT)), 0)
FROM union_orders
WHERE settled = 1 AND settled_ms IS NOT NULL
GROUP BY connection_id, (settled_ms / 3600000) * 3600000, COALESCE(chan_tag, ''), COALESCE(stat_param, '');

