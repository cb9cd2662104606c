//! Synced Union orders: upserts that keep the newest version (never overwrite a settled order
//! with older data), their history, and the per-stream checkpoint written in the same
//! transaction as each page.

// The writer's maps are keyed by a page's order numbers: a fast seeded hash, not SipHash,
// which was a thirtieth of a sync's CPU.
use foldhash::{HashMap, HashMapExt, HashSet};

use futures_util::TryStreamExt;
use shopbridge_core::money::Decimal;
use sqlx::Row;

use crate::page_sql::{Arg, PageSql, insert_rows};
use crate::{Placeholders, Store, StoreError, WRITE_CHUNK, newest_per_key};

/// Whether a version of an order replaces what is stored of it (`(change time, settled)`, or
/// nothing): older data never replaces newer, and a settled order never changes again. A version
/// seen again never replaces itself (the change time must grow), which is what lets a sync leave
/// out of a page read again the orders whose text it has already stored
/// (`StreamSource::fetch_again` in the hub).
fn replaces(stored: Option<&(i64, bool)>, order: &UnionOrderRecord) -> bool {
    stored.is_none_or(|&(stored_update, settled)| !settled && order.last_update_ms > stored_update)
}

/// The statement head that writes an order's row; [`order_row`] gives its values.
const ORDER_INSERT: &str = "INSERT INTO union_orders (connection_id, order_sn, status, sub_status, chan_tag, stat_param, commission,
     order_time_ms, last_update_ms, settled, settled_ms, payload, versions, synced_ms)";

/// How many values an order's row has.
const ORDER_ROW_WIDTH: usize = 14;

/// An order's row as [`ORDER_INSERT`] writes it, `new_versions` being how many versions of it
/// this page brings.
fn order_row<'a>(
    connection_id: &'a str,
    now_ms: i64,
    order: &'a UnionOrderRecord,
    new_versions: i64,
) -> [Arg<'a>; ORDER_ROW_WIDTH] {
    [
        connection_id.into(),
        (&order.order_sn).into(),
        order.status.into(),
        (&order.sub_status).into(),
        (&order.chan_tag).into(),
        (&order.stat_param).into(),
        (&order.commission).into(),
        order.order_time_ms.into(),
        order.last_update_ms.into(),
        i64::from(order.settled).into(),
        order.settled_ms.into(),
        (&order.payload).into(),
        new_versions.into(),
        now_ms.into(),
    ]
}

/// One order as the sync writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnionOrderRecord {
    pub order_sn: String,
    pub status: i64,
    pub sub_status: Option<String>,
    pub chan_tag: Option<String>,
    pub stat_param: Option<String>,
    pub commission: Option<String>,
    pub order_time_ms: i64,
    pub last_update_ms: i64,
    pub settled: bool,
    /// When it was settled (epoch ms), for a settled order: what earnings are reported by.
    pub settled_ms: Option<i64>,
    /// The platform's JSON of the order.
    pub payload: String,
}

/// Beijing time is UTC+8: its days start at 16:00 UTC.
pub const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;
pub const DAY_MS: i64 = 86_400_000;
pub const HOUR_MS: i64 = 3_600_000;

/// The start of the hour `at_ms` falls in (Beijing hours are UTC hours: the offset is whole).
pub fn hour_of(at_ms: i64) -> i64 {
    at_ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// The start of the Beijing day holding `at_ms`.
pub fn beijing_day(at_ms: i64) -> i64 {
    (at_ms + BEIJING_OFFSET_MS).div_euclid(DAY_MS) * DAY_MS - BEIJING_OFFSET_MS
}

/// What an order adds to the settled sums, once it has settled: the Beijing day and the hour
/// it is summed under and its commission in ten-thousandths of a yuan. `None` for an order not
/// settled, or settled at a time beyond 10,000 years of 1970 either way (a platform's
/// nonsense), which no sum counts and whose day could not even be computed without overflow.
pub(crate) fn settled_share(
    settled: bool,
    settled_ms: Option<i64>,
    commission: Option<&str>,
) -> Option<(i64, i64, i64)> {
    let settled_ms = settled_ms.filter(|at| settled && crate::kept::countable(*at))?;
    Some((
        beijing_day(settled_ms),
        hour_of(settled_ms),
        amount_e4(commission),
    ))
}

/// Adds one settled order's commission to a sum of `(orders, commission_e4)`.
pub(crate) fn add_settled(sum: &mut (i64, i64), commission_e4: i64) {
    sum.0 += 1;
    sum.1 = sum.1.saturating_add(commission_e4);
}

/// An amount in ten-thousandths of a yuan, halves rounded away from zero as SQL's `ROUND` does
/// (0 when absent, not a number, or ten billion yuan or more: no amount, and sums of them cannot
/// overflow).
pub(crate) fn amount_e4(text: Option<&str>) -> i64 {
    let Some(mut amount) = text.and_then(|t| t.trim().parse::<Decimal>().ok()) else {
        return 0;
    };
    if amount.abs() >= Decimal::from(10_000_000_000_i64) {
        return 0;
    }
    amount = amount.round_dp_with_strategy(
        4,
        shopbridge_core::money::RoundingStrategy::MidpointAwayFromZero,
    );
    amount.rescale(4);
    i64::try_from(amount.mantissa()).unwrap_or(0)
}

/// Ten-thousandths of a yuan as an amount with the platform's two decimals (more where the
/// amount has them), as the amounts summed from the orders themselves print.
pub(crate) fn yuan(e4: i64) -> Decimal {
    let mut amount = Decimal::new(e4, 4).normalize();
    if amount.scale() < 2 {
        amount.rescale(2);
    }
    amount
}

/// Settled orders of one Beijing day and tag, summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledDay {
    pub day_ms: i64,
    pub chan_tag: Option<String>,
    pub stat_param: Option<String>,
    pub orders: i64,
    pub commission: Decimal,
}

/// A settled order as earnings count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledOrder {
    pub settled_ms: i64,
    pub chan_tag: Option<String>,
    pub stat_param: Option<String>,
    /// Decimal text.
    pub commission: Option<String>,
}

/// After-settlement refunds of one Beijing day and order tags, summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundSum {
    pub day_ms: i64,
    /// `(chan_tag, stat_param)` of their order; `None` for refunds whose order is not stored.
    pub order: Option<(Option<String>, Option<String>)>,
    pub refunds: i64,
    /// The sum of the deductions' sizes.
    pub deduction: Decimal,
}

/// Where a stream's sync stands: everything updated up to `cursor_ms` is stored; a window in
/// progress resumes at `next_page`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checkpoint {
    pub cursor_ms: i64,
    pub window: Option<(i64, i64, i64)>,
}

impl Store {
    /// Upserts a stream's checkpoint inside the caller's transaction.
    pub(crate) async fn write_checkpoint(
        &self,
        tx: &mut impl PageSql,
        connection_id: &str,
        stream: &str,
        checkpoint: Checkpoint,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (start, end, page) = match checkpoint.window {
            Some((s, e, p)) => (Some(s), Some(e), Some(p)),
            None => (None, None, None),
        };
        tx.run(
            "INSERT INTO sync_checkpoints (connection_id, stream, cursor_ms, window_start_ms, window_end_ms, next_page, updated_ms, covered_from_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (connection_id, stream) DO UPDATE SET cursor_ms = excluded.cursor_ms, window_start_ms = excluded.window_start_ms,
             window_end_ms = excluded.window_end_ms, next_page = excluded.next_page, updated_ms = excluded.updated_ms",
            &[
                connection_id.into(),
                stream.into(),
                checkpoint.cursor_ms.into(),
                start.into(),
                end.into(),
                page.into(),
                now_ms.into(),
                // The first checkpoint's window is where the stream's history starts; later
                // writes keep it.
                start.unwrap_or(checkpoint.cursor_ms).into(),
            ],
        )
        .await
    }

    /// What a stream's sync has stored: every change from `.0` until before `.1` (epoch ms);
    /// `None` before its first page.
    pub async fn coverage(
        &self,
        connection_id: &str,
        stream: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query("SELECT covered_from_ms, cursor_ms FROM sync_checkpoints WHERE connection_id = $1 AND stream = $2")
            .bind(connection_id)
            .bind(stream)
            .fetch_optional(self.reader())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let until: i64 = row.try_get("cursor_ms")?;
        let from: Option<i64> = row.try_get("covered_from_ms")?;
        Ok(Some((from.unwrap_or(until), until)))
    }

    pub async fn checkpoint(
        &self,
        connection_id: &str,
        stream: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        let row = sqlx::query("SELECT cursor_ms, window_start_ms, window_end_ms, next_page FROM sync_checkpoints WHERE connection_id = $1 AND stream = $2")
            .bind(connection_id)
            .bind(stream)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let start: Option<i64> = row.try_get("window_start_ms")?;
        let end: Option<i64> = row.try_get("window_end_ms")?;
        let page: Option<i64> = row.try_get("next_page")?;
        Ok(Some(Checkpoint {
            cursor_ms: row.try_get("cursor_ms")?,
            window: match (start, end, page) {
                (Some(s), Some(e), Some(p)) => Some((s, e, p)),
                _ => None,
            },
        }))
    }

    /// Writes one page of a Union account's orders (see [`Store::save_page`]): orders not stored
    /// yet are inserted first ([`PageSql::insert_absent`]), only those found stored are looked up
    /// and written by the newest-wins rules, and the orders that settle are added to the daily
    /// sums.
    pub(crate) async fn write_union_orders(
        &self,
        tx: &mut impl PageSql,
        page: &crate::records::PageTarget<'_>,
        subscribers: &crate::webhooks::Subscribers,
        orders: &[UnionOrderRecord],
    ) -> Result<usize, StoreError> {
        let (connection_id, events, now_ms) = (page.connection_id, page.events, page.now_ms);
        // Orders not stored yet are inserted first, each as the newest of its versions in the
        // page would be were nothing stored. The insert checks the key anyway, so it tells
        // which orders were not stored without a lookup of their own: a first sync looks
        // nothing up. The orders it finds stored are looked up and go through the rules below,
        // which treat the inserted ones as unstored and so accept the very versions inserted.
        let mut unstored: HashMap<&str, (i64, bool)> = HashMap::with_capacity(orders.len());
        let mut unstored_versions: Vec<&UnionOrderRecord> = Vec::with_capacity(orders.len());
        for order in orders {
            let order_sn = order.order_sn.as_str();
            if replaces(unstored.get(order_sn), order) {
                unstored.insert(order_sn, (order.last_update_ms, order.settled));
                unstored_versions.push(order);
            }
        }
        let unstored_rows = newest_per_key(&unstored_versions, |order| &order.order_sn);
        let mut args = Vec::with_capacity(unstored_rows.len().saturating_mul(ORDER_ROW_WIDTH));
        for &(order, new_versions) in &unstored_rows {
            args.extend(order_row(connection_id, now_ms, order, new_versions));
        }
        let was_inserted = tx
            .insert_absent(
                ORDER_INSERT,
                "ON CONFLICT (connection_id, order_sn) DO NOTHING",
                (1, "order_sn"),
                ORDER_ROW_WIDTH,
                &args,
            )
            .await?;
        let inserted: HashSet<&str> = unstored_rows
            .iter()
            .zip(was_inserted)
            .filter(|(_, inserted)| *inserted)
            .map(|((order, _), _)| order.order_sn.as_str())
            .collect();
        // Keyed by the page's own order numbers: nothing is copied per order.
        let numbers: HashSet<&str> = orders
            .iter()
            .map(|order| order.order_sn.as_str())
            .filter(|order_sn| !inserted.contains(order_sn))
            .collect();
        // What the store holds of this page's orders.
        let mut stored: HashMap<&str, (i64, bool)> = HashMap::with_capacity(orders.len());
        // The tags each order's refunds are summed under now (none for an order not stored),
        // and those its newest version brings.
        let mut tags_before: HashMap<&str, crate::kept::OrderTags> =
            HashMap::with_capacity(orders.len());
        let mut tags_after: HashMap<&str, (&str, &str)> = HashMap::with_capacity(orders.len());
        if !numbers.is_empty() {
            let mut p = Placeholders::new(self.backend());
            let (connection, order_sns) = (p.one(), p.list(numbers.len()));
            let sql = format!(
                "SELECT order_sn, last_update_ms, settled, chan_tag, stat_param FROM union_orders WHERE connection_id = {connection} AND order_sn IN ({order_sns})"
            );
            let mut args: Vec<Arg> = vec![connection_id.into()];
            args.extend(numbers.iter().map(|order_sn| Arg::from(*order_sn)));
            for row in tx.rows(&sql, &args).await? {
                let Some(order_sn) = numbers.get(row.text(0)?.as_str()).copied() else {
                    continue;
                };
                let (chan_tag, stat_param) = (row.opt_text(3)?, row.opt_text(4)?);
                tags_before.insert(
                    order_sn,
                    Some((chan_tag.unwrap_or_default(), stat_param.unwrap_or_default())),
                );
                stored.insert(order_sn, (row.int(1)?, row.int(2)? != 0));
            }
        }
        // Every newer version is stored: the newest of each order (with how many new versions
        // it brings) replaces the stored row, the others go to the history.
        let mut versions: Vec<&UnionOrderRecord> = Vec::with_capacity(orders.len());
        // Orders settling now, summed per day and tag: a settled order is final, so each one
        // is added to the daily sums exactly once.
        let mut settling: HashMap<(i64, &str, &str), (i64, i64)> = HashMap::new();
        // The same, per hour.
        let mut settling_hours: HashMap<(i64, &str, &str), (i64, i64)> = HashMap::new();
        for order in orders {
            let order_sn = order.order_sn.as_str();
            // A settled order never changes again; older data never replaces newer.
            if !replaces(stored.get(order_sn), order) {
                continue;
            }
            let before = stored.insert(order_sn, (order.last_update_ms, order.settled));
            tags_before.entry(order_sn).or_insert(None);
            let tags = (
                order.chan_tag.as_deref().unwrap_or_default(),
                order.stat_param.as_deref().unwrap_or_default(),
            );
            tags_after.insert(order_sn, tags);
            if let Some((day, hour, commission)) =
                settled_share(order.settled, order.settled_ms, order.commission.as_deref())
            {
                for (sums, start) in [(&mut settling, day), (&mut settling_hours, hour)] {
                    add_settled(sums.entry((start, tags.0, tags.1)).or_default(), commission);
                }
            }
            if let Some(events) = events {
                // Announced in the same transaction: a stored change is never left unannounced.
                let event = if before.is_some() {
                    events.updated
                } else {
                    events.created
                };
                if subscribers.want(event) {
                    let body: serde_json::Value =
                        serde_json::from_str(&order.payload).unwrap_or(serde_json::Value::Null);
                    let data = serde_json::json!({"connection_id": connection_id, "order_sn": order.order_sn, "order": body});
                    subscribers.enqueue(tx, event, data, now_ms).await?;
                }
            }
            versions.push(order);
        }
        // The history holds the versions an order's row no longer shows: the current version
        // lives only in the row, so a first sync writes each order once, and no random-keyed
        // history entry is made for an order that never changes. A stored version being replaced
        // is copied from its row before the row is overwritten; versions that a later one of the
        // same page replaces go there directly. (A history row of the same version, left by an
        // earlier writer that kept the current version there too, takes the row's JSON.)
        let replaced: Vec<&str> = tags_after
            .keys()
            .copied()
            .filter(|order_sn| matches!(tags_before.get(*order_sn), Some(Some(_))))
            .collect();
        for chunk in replaced.chunks(WRITE_CHUNK) {
            let mut p = Placeholders::new(self.backend());
            let (connection, list) = (p.one(), p.list(chunk.len()));
            let sql = format!(
                "INSERT INTO union_order_history (connection_id, order_sn, last_update_ms, sub_status, commission, payload)
                 SELECT connection_id, order_sn, last_update_ms, sub_status, commission, payload FROM union_orders
                 WHERE connection_id = {connection} AND order_sn IN ({list})
                 ON CONFLICT (connection_id, order_sn, last_update_ms) DO UPDATE SET
                 sub_status = excluded.sub_status, commission = excluded.commission, payload = excluded.payload"
            );
            let mut args: Vec<Arg> = vec![connection_id.into()];
            args.extend(chunk.iter().map(|order_sn| Arg::from(*order_sn)));
            tx.run(&sql, &args).await?;
        }
        let rows = newest_per_key(&versions, |order| &order.order_sn);
        // Each order's last version in the page is the one its row gets.
        let last_of: HashMap<&str, usize> = versions
            .iter()
            .enumerate()
            .map(|(n, order)| (order.order_sn.as_str(), n))
            .collect();
        let superseded: Vec<&UnionOrderRecord> = versions
            .iter()
            .enumerate()
            .filter(|(n, order)| last_of.get(order.order_sn.as_str()) != Some(n))
            .map(|(_, order)| *order)
            .collect();
        insert_rows(
            tx,
            "INSERT INTO union_order_history (connection_id, order_sn, last_update_ms, sub_status, commission, payload)",
            "ON CONFLICT DO NOTHING",
            &superseded,
            |order| {
                [
                    connection_id.into(),
                    (&order.order_sn).into(),
                    order.last_update_ms.into(),
                    (&order.sub_status).into(),
                    (&order.commission).into(),
                    (&order.payload).into(),
                ]
            },
        )
        .await?;
        // The rows of orders that were stored; those inserted above are written already.
        let stored_rows: Vec<(&UnionOrderRecord, i64)> = rows
            .into_iter()
            .filter(|(order, _)| !inserted.contains(order.order_sn.as_str()))
            .collect();
        insert_rows(
            tx,
            ORDER_INSERT,
            "ON CONFLICT (connection_id, order_sn) DO UPDATE SET status = excluded.status,
             sub_status = excluded.sub_status, chan_tag = excluded.chan_tag,
             stat_param = excluded.stat_param, commission = excluded.commission,
             order_time_ms = excluded.order_time_ms, last_update_ms = excluded.last_update_ms,
             settled = excluded.settled, settled_ms = excluded.settled_ms, payload = excluded.payload,
             versions = union_orders.versions + excluded.versions, synced_ms = excluded.synced_ms",
            &stored_rows,
            |&(order, new_versions)| order_row(connection_id, now_ms, order, new_versions),
        )
        .await?;
        // An order arriving after its refunds, or changing its tags, moves their sums.
        let moved: Vec<&str> = tags_after
            .iter()
            .filter(|&(order_sn, &(chan_tag, stat_param))| {
                tags_before
                    .get(*order_sn)
                    .and_then(Option::as_ref)
                    .is_none_or(|(before_tag, before_param)| {
                        (before_tag.as_str(), before_param.as_str()) != (chan_tag, stat_param)
                    })
            })
            .map(|(order_sn, _)| *order_sn)
            .collect();
        if !moved.is_empty() {
            let mut sums = crate::kept::RefundDays::default();
            for share in crate::kept::refund_shares_of(tx, connection_id, &moved).await? {
                // Every share read here names one of these orders.
                let Some(order_sn) = share.order_sn.as_deref() else {
                    continue;
                };
                let before = tags_before.get(order_sn).cloned().flatten();
                let after = tags_after
                    .get(order_sn)
                    .map(|&(chan_tag, stat_param)| (chan_tag.to_owned(), stat_param.to_owned()));
                sums.add(&share, &before, -1);
                sums.add(&share, &after, 1);
            }
            sums.write(tx, connection_id).await?;
        }
        for (table, column, sums) in [
            ("union_settled_daily", "day_ms", settling),
            ("union_settled_hourly", "hour_ms", settling_hours),
        ] {
            let sums: Vec<_> = sums.into_iter().collect();
            insert_rows(
                tx,
                &format!(
                    "INSERT INTO {table} (connection_id, {column}, chan_tag, stat_param, orders, commission_e4)"
                ),
                &format!(
                    "ON CONFLICT (connection_id, {column}, chan_tag, stat_param) DO UPDATE SET
                     orders = {table}.orders + excluded.orders,
                     commission_e4 = {table}.commission_e4 + excluded.commission_e4"
                ),
                &sums,
                |((start_ms, chan_tag, stat_param), (count, commission))| {
                    [
                        connection_id.into(),
                        (*start_ms).into(),
                        (*chan_tag).into(),
                        (*stat_param).into(),
                        (*count).into(),
                        (*commission).into(),
                    ]
                },
            )
            .await?;
        }
        Ok(versions.len())
    }

    /// The daily sums of settled orders for the Beijing days starting in `[from_day_ms,
    /// to_day_ms)`: one row per day and tag, whatever the number of orders.
    pub async fn settled_days(
        &self,
        connection_id: &str,
        from_day_ms: i64,
        to_day_ms: i64,
    ) -> Result<Vec<SettledDay>, StoreError> {
        self.settled_sums(
            "union_settled_daily",
            "day_ms",
            connection_id,
            from_day_ms,
            to_day_ms,
        )
        .await
    }

    /// The hourly sums of settled orders for the hours starting in `[from_hour_ms, to_hour_ms)`
    /// (`day_ms` holds the hour's start): one row per hour and tag.
    pub async fn settled_hours(
        &self,
        connection_id: &str,
        from_hour_ms: i64,
        to_hour_ms: i64,
    ) -> Result<Vec<SettledDay>, StoreError> {
        self.settled_sums(
            "union_settled_hourly",
            "hour_ms",
            connection_id,
            from_hour_ms,
            to_hour_ms,
        )
        .await
    }

    async fn settled_sums(
        &self,
        table: &str,
        column: &str,
        connection_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SettledDay>, StoreError> {
        let _slot = self.long_read().await?;
        let rows = sqlx::query(&format!(
            "SELECT {column} AS start_ms, chan_tag, stat_param, orders, commission_e4 FROM {table}
             WHERE connection_id = $1 AND {column} >= $2 AND {column} < $3"
        ))
        .bind(connection_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let tag = |name: &str| -> Result<Option<String>, StoreError> {
                    let text: String = row.try_get(name)?;
                    Ok(Some(text).filter(|t| !t.is_empty()))
                };
                Ok(SettledDay {
                    day_ms: row.try_get("start_ms")?,
                    chan_tag: tag("chan_tag")?,
                    stat_param: tag("stat_param")?,
                    orders: row.try_get("orders")?,
                    commission: yuan(row.try_get("commission_e4")?),
                })
            })
            .collect()
    }

    /// Every stored order of a connection: `(order_sn, sub_status, commission, last_update_ms)`.
    pub async fn union_orders(
        &self,
        connection_id: &str,
    ) -> Result<Vec<(String, Option<String>, Option<String>, i64)>, StoreError> {
        let rows = sqlx::query("SELECT order_sn, sub_status, commission, last_update_ms FROM union_orders WHERE connection_id = $1 ORDER BY order_sn")
            .bind(connection_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("order_sn")?,
                    row.try_get("sub_status")?,
                    row.try_get("commission")?,
                    row.try_get("last_update_ms")?,
                ))
            })
            .collect()
    }

    /// Calls `each` for every order settled in `[from_ms, to_ms)`, read as a stream from the
    /// settlement-time index: a report over a year of a large account holds one row at a time.
    pub async fn each_settled_union_order(
        &self,
        connection_id: &str,
        from_ms: i64,
        to_ms: i64,
        mut each: impl FnMut(SettledOrder),
    ) -> Result<(), StoreError> {
        let _slot = self.long_read().await?;
        let mut rows = sqlx::query(
            "SELECT settled_ms, chan_tag, stat_param, commission FROM union_orders
             WHERE connection_id = $1 AND settled_ms >= $2 AND settled_ms < $3",
        )
        .bind(connection_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch(self.reader());
        while let Some(row) = rows.try_next().await? {
            each(SettledOrder {
                settled_ms: row.try_get("settled_ms")?,
                chan_tag: row.try_get("chan_tag")?,
                stat_param: row.try_get("stat_param")?,
                commission: row.try_get("commission")?,
            });
        }
        Ok(())
    }

    /// The records of `stream` (after-settlement refunds) booked in `[from_ms, to_ms)`, summed
    /// in the database per Beijing day and the tags of their order: one row per day and tag
    /// (`order` is `None` for refunds whose order is not stored). Deductions count whatever
    /// sign the platform gave them.
    pub async fn booked_refund_sums(
        &self,
        connection_id: &str,
        stream: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<RefundSum>, StoreError> {
        let _slot = self.long_read().await?;
        // Each refund's amount was scaled to an integer when it was written: exact, and the
        // same integer the kept sums add.
        let sql = format!(
            // The Beijing day's start, floored as `beijing_day` floors (times before 1970 too).
            "SELECT (r.booked_ms + {BEIJING_OFFSET_MS})
                    - (((r.booked_ms + {BEIJING_OFFSET_MS}) % {DAY_MS}) + {DAY_MS}) % {DAY_MS}
                    - {BEIJING_OFFSET_MS} AS day_ms,
                    CAST(CASE WHEN o.order_sn IS NULL THEN 0 ELSE 1 END AS BIGINT) AS known,
                    COALESCE(o.chan_tag, '') AS chan_tag, COALESCE(o.stat_param, '') AS stat_param,
                    CAST(COUNT(*) AS BIGINT) AS refunds,
                    CAST(COALESCE(SUM(ABS(COALESCE(r.amount_e4, 0))), 0) AS BIGINT) AS deduction_e4
             FROM synced_records r
             LEFT JOIN union_orders o ON o.connection_id = r.connection_id AND o.order_sn = r.parent_id
             WHERE r.connection_id = $1 AND r.stream = $2 AND r.booked_ms >= $3 AND r.booked_ms < $4
             GROUP BY 1, known, COALESCE(o.chan_tag, ''), COALESCE(o.stat_param, '')"
        );
        let rows = sqlx::query(&sql)
            .bind(connection_id)
            .bind(stream)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                let known: i64 = row.try_get("known")?;
                Ok(RefundSum {
                    day_ms: row.try_get("day_ms")?,
                    // An empty tag is no tag, as in every kept sum.
                    order: (known == 1)
                        .then(|| {
                            let tag = |name: &str| -> Result<Option<String>, StoreError> {
                                let text: Option<String> = row.try_get(name)?;
                                Ok(text.filter(|t| !t.is_empty()))
                            };
                            Ok::<_, StoreError>((tag("chan_tag")?, tag("stat_param")?))
                        })
                        .transpose()?,
                    refunds: row.try_get("refunds")?,
                    deduction: yuan(row.try_get("deduction_e4")?),
                })
            })
            .collect()
    }

    /// Every stored version of a Union order, oldest first: `(last_update_ms, sub_status, commission)`.
    pub async fn union_order_versions(
        &self,
        connection_id: &str,
        order_sn: &str,
    ) -> Result<Vec<(i64, Option<String>, Option<String>)>, StoreError> {
        // The history holds the versions replaced; the order's row holds the current one. (A
        // history row of the current version, which a writer from before migration 0020 still
        // running could add, is not listed twice.)
        let rows = sqlx::query(
            "SELECT h.last_update_ms, h.sub_status, h.commission FROM union_order_history h WHERE h.connection_id = $1 AND h.order_sn = $2
               AND NOT EXISTS (SELECT 1 FROM union_orders o WHERE o.connection_id = $1 AND o.order_sn = $2 AND o.last_update_ms = h.last_update_ms)
             UNION ALL
             SELECT last_update_ms, sub_status, commission FROM union_orders WHERE connection_id = $1 AND order_sn = $2
             ORDER BY last_update_ms",
        )
            .bind(connection_id)
            .bind(order_sn)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("last_update_ms")?,
                    row.try_get("sub_status")?,
                    row.try_get("commission")?,
                ))
            })
            .collect()
    }

    /// How many Union orders a connection holds.
    pub async fn union_order_count(&self, connection_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM union_orders WHERE connection_id = $1")
            .bind(connection_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// How many versions of an order were stored: those replaced and the current one.
    pub async fn union_order_history_len(
        &self,
        connection_id: &str,
        order_sn: &str,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM union_order_history h WHERE h.connection_id = $1 AND h.order_sn = $2
                     AND NOT EXISTS (SELECT 1 FROM union_orders o WHERE o.connection_id = $1 AND o.order_sn = $2 AND o.last_update_ms = h.last_update_ms))
                  + (SELECT COUNT(*) FROM union_orders WHERE connection_id = $1 AND order_sn = $2) AS n",
        )
            .bind(connection_id)
            .bind(order_sn)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Starts a sync run; returns its id.
    pub async fn start_run(
        &self,
        connection_id: &str,
        stream: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO sync_runs (connection_id, stream, started_ms, status, pages, records) VALUES ($1, $2, $3, 'fetching', 0, 0) RETURNING id",
        )
        .bind(connection_id)
        .bind(stream)
        .bind(now_ms)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Ends a run with its status (`complete`, `fetch_error`, `auth_error`) and counts.
    /// Ends a failed run and queues the `sync.failed` webhook event announcing it, in one
    /// transaction: a crash cannot keep the failure and lose its announcement.
    pub async fn fail_run(
        &self,
        run_id: i64,
        status: &str,
        error: &str,
        tenant_id: &str,
        data: serde_json::Value,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE sync_runs SET finished_ms = $1, status = $2, pages = 0, records = 0, error = $3 WHERE id = $4")
            .bind(now_ms)
            .bind(status)
            .bind(error)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        self.enqueue_in(&mut tx, tenant_id, "sync.failed", data, now_ms)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn finish_run(
        &self,
        run_id: i64,
        status: &str,
        pages: i64,
        records: i64,
        error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE sync_runs SET finished_ms = $1, status = $2, pages = $3, records = $4, error = $5 WHERE id = $6")
            .bind(now_ms)
            .bind(status)
            .bind(pages)
            .bind(records)
            .bind(error)
            .bind(run_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
