-- Settled Union orders summed per Beijing day and tag, kept by the order writer as each order
-- settles (a settled order never changes again): an earnings report over a year reads a row per
-- day and tag instead of every order. Commission in ten-thousandths of a yuan, exact in SQL.
CREATE TABLE union_settled_daily (
    connection_id TEXT NOT NULL,
    day_ms BIGINT NOT NULL,
    chan_tag TEXT NOT NULL,
    stat_param TEXT NOT NULL,
    orders BIGINT NOT NULL,
    commission_e4 BIGINT NOT NULL,
    PRIMARY KEY (connection_id, day_ms, chan_tag, stat_param)
);

INSERT INTO union_settled_daily (connection_id, day_ms, chan_tag, stat_param, orders, commission_e4)
SELECT connection_id,
       ((settled_ms + 28800000) / 86400000) * 86400000 - 28800000,
       COALESCE(chan_tag, ''), COALESCE(stat_param, ''),
       COUNT(*), COALESCE(SUM(CAST(ROUND(CAST(commission AS REAL) * 10000) AS BIGINT)), 0)
FROM union_orders
WHERE settled = 1 AND settled_ms IS NOT NULL
GROUP BY connection_id, ((settled_ms + 28800000) / 86400000) * 86400000 - 28800000,
         COALESCE(chan_tag, ''), COALESCE(stat_param, '');
