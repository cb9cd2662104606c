-- Two kinds of sums the record writer keeps as it writes, so that reports and numbered pages
-- read a row per day or hour instead of a row per record.
--
-- A record's amount in ten-thousandths of a yuan, computed once by the writer (here, for the
-- refunds stored before, the only stream whose sums read it), so that every sum of the same
-- refund, kept or summed on the spot, adds the same integer. An amount of ten billion yuan or
-- more is no amount (0): sums of them cannot overflow.
--
-- Times are counted and summed only within 10,000 years of 1970 (what the Rust writer counts),
-- so that no platform's nonsense overflows the arithmetic.
ALTER TABLE synced_records ADD COLUMN amount_e4 BIGINT;
UPDATE synced_records SET amount_e4 = CASE WHEN amount ~ '^\s*-?[0-9]+(\.[0-9]+)?\s*$' AND abs(CAST(amount AS NUMERIC)) < 10000000000
    THEN CAST(ROUND(CAST(amount AS NUMERIC) * 10000) AS BIGINT) ELSE 0 END
WHERE stream = 'union_refunds' AND amount IS NOT NULL;

-- The refunds of a period by booking time, holding what their sums read; only records that are
-- booked at all (refunds) are in it.
DROP INDEX synced_records_by_booked;
CREATE INDEX synced_records_by_booked ON synced_records (connection_id, stream, booked_ms, parent_id, amount_e4)
WHERE booked_ms IS NOT NULL;

-- Union after-settlement refunds summed per Beijing day and the tags of their order (`known` is
-- 0, with empty tags, for refunds whose order is not stored yet). A refund's sums move when a
-- later version changes its day or amount, and when its order arrives or changes its tags.
CREATE TABLE union_refund_daily (
    connection_id TEXT NOT NULL,
    day_ms BIGINT NOT NULL,
    known BIGINT NOT NULL,
    chan_tag TEXT NOT NULL,
    stat_param TEXT NOT NULL,
    refunds BIGINT NOT NULL,
    deduction_e4 BIGINT NOT NULL,
    PRIMARY KEY (connection_id, day_ms, known, chan_tag, stat_param)
);

INSERT INTO union_refund_daily (connection_id, day_ms, known, chan_tag, stat_param, refunds, deduction_e4)
SELECT r.connection_id,
       (r.booked_ms + 28800000) - (((r.booked_ms + 28800000) % 86400000) + 86400000) % 86400000 - 28800000,
       CASE WHEN o.order_sn IS NULL THEN 0 ELSE 1 END,
       COALESCE(o.chan_tag, ''), COALESCE(o.stat_param, ''),
       COUNT(*), COALESCE(SUM(ABS(COALESCE(r.amount_e4, 0))), 0)
FROM synced_records r
LEFT JOIN union_orders o ON o.connection_id = r.connection_id AND o.order_sn = r.parent_id
WHERE r.stream = 'union_refunds' AND r.booked_ms > -253402300800000 AND r.booked_ms < 253402300800000
GROUP BY 1, 2, 3, 4, 5;

-- An order's refunds, found when the order arrives or changes its tags.
CREATE INDEX synced_records_by_parent ON synced_records (connection_id, stream, parent_id)
WHERE parent_id IS NOT NULL;

-- Generic records counted per hour of their creation and of their last change, and per status:
-- a window's total and where its numbered page starts are read from here, and only the
-- records of its partial hours from the records' indexes.
CREATE TABLE synced_record_hours (
    connection_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    time_field TEXT NOT NULL,
    hour_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    records BIGINT NOT NULL,
    PRIMARY KEY (connection_id, stream, time_field, hour_ms, status)
);

INSERT INTO synced_record_hours (connection_id, stream, time_field, hour_ms, status, records)
SELECT connection_id, stream, 'created',
       created_ms - ((created_ms % 3600000) + 3600000) % 3600000, COALESCE(status, ''), COUNT(*)
FROM synced_records WHERE created_ms > -253402300800000 AND created_ms < 253402300800000
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO synced_record_hours (connection_id, stream, time_field, hour_ms, status, records)
SELECT connection_id, stream, 'updated',
       updated_ms - ((updated_ms % 3600000) + 3600000) % 3600000, COALESCE(status, ''), COUNT(*)
FROM synced_records WHERE updated_ms > -253402300800000 AND updated_ms < 253402300800000
GROUP BY 1, 2, 3, 4, 5;

-- Refunds of whole days are now read from their sums; the few of a report's partial days find
-- their order by its key. The index that answered the join from itself for every refund of a
-- period only costs each order's write.
DROP INDEX union_orders_tags;
