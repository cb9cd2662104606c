//! Sums the record writer keeps beside the records, in the same transaction as each page: generic
//! records counted per hour and status (a window's total and where a numbered page starts), and
//! Union refunds summed per Beijing day and their order's tags (earnings), so that these reads
//! cost a row per hour or day instead of a row per record.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use crate::page_sql::{Arg, PageSql, insert_rows};
use crate::{Placeholders, Store, StoreError, WRITE_CHUNK};

/// The stream Union after-settlement refunds are stored under: the order writer moves their sums
/// when an order arrives after its refunds or changes its tags.
pub const UNION_REFUNDS_STREAM: &str = "union_refunds";

/// The first key of the PostgreSQL advisory lock under which one shop's pages are written: a
/// key space of its own, apart from the single-key locks of token refreshes.
const SHOP_PAGES_LOCK: i32 = 0x5342_5057;

/// The kept sums are read and changed across streams (an order's page moves the sums of its
/// refunds), so one shop's pages are written, and the shop deleted, one at a time: on
/// PostgreSQL under a transaction's advisory lock taken before anything else; SQLite has one
/// writer anyway.
pub(crate) async fn lock_shop_pages(
    store: &Store,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    connection_id: &str,
) -> Result<(), StoreError> {
    if store.backend() == crate::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(SHOP_PAGES_LOCK)
            .bind(connection_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Times are counted and summed only within 10,000 years of 1970 either way (the migration that
/// filled the sums says the same): a platform's nonsense cannot overflow the arithmetic, and no
/// window a caller can name reaches beyond.
pub(crate) const TIME_LIMIT_MS: i64 = 253_402_300_800_000;

pub(crate) fn countable(time_ms: i64) -> bool {
    (-TIME_LIMIT_MS + 1..TIME_LIMIT_MS).contains(&time_ms)
}

/// Which time of a record its hourly count is by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CountedTime {
    Created,
    Updated,
}

impl CountedTime {
    /// Both times a record is counted by.
    pub(crate) const BOTH: [CountedTime; 2] = [CountedTime::Created, CountedTime::Updated];

    /// The record column that holds this time.
    pub(crate) fn column(self) -> &'static str {
        match self {
            CountedTime::Created => "created_ms",
            CountedTime::Updated => "updated_ms",
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            CountedTime::Created => "created",
            CountedTime::Updated => "updated",
        }
    }
}

/// Changes to the hourly counts of one page's records: `+1` where a version lands, `-1` where
/// the version it replaces was.
#[derive(Debug, Default)]
pub(crate) struct HourCounts {
    deltas: HashMap<(CountedTime, i64, String), i64>,
}

impl HourCounts {
    /// Counts a record's version in (`sign` 1) or out (`sign` -1) of its hours.
    pub(crate) fn add(
        &mut self,
        created_ms: Option<i64>,
        updated_ms: i64,
        status: Option<&str>,
        sign: i64,
    ) {
        if let Some(created_ms) = created_ms {
            self.count(CountedTime::Created, created_ms, status, sign);
        }
        self.count(CountedTime::Updated, updated_ms, status, sign);
    }

    /// Counts a record in (`sign` 1) or out (`sign` -1) of the hour `time` falls in by one of
    /// its times; a time beyond any hour is counted nowhere.
    pub(crate) fn count(&mut self, field: CountedTime, time: i64, status: Option<&str>, sign: i64) {
        if countable(time) {
            let key = (
                field,
                crate::hour_of(time),
                status.unwrap_or_default().to_owned(),
            );
            *self.deltas.entry(key).or_default() += sign;
        }
    }

    /// The counts by `(time, hour, status)`.
    pub(crate) fn into_deltas(self) -> impl Iterator<Item = ((CountedTime, i64, String), i64)> {
        self.deltas.into_iter()
    }

    pub(crate) async fn write(
        self,
        tx: &mut impl PageSql,
        connection_id: &str,
        stream: &str,
    ) -> Result<(), StoreError> {
        let deltas: Vec<_> = self.deltas.into_iter().filter(|(_, n)| *n != 0).collect();
        insert_rows(
            tx,
            "INSERT INTO synced_record_hours (connection_id, stream, time_field, hour_ms, status, records)",
            "ON CONFLICT (connection_id, stream, time_field, hour_ms, status) DO UPDATE SET
             records = synced_record_hours.records + excluded.records",
            &deltas,
            |((field, hour_ms, status), n)| {
                [
                    connection_id.into(),
                    stream.into(),
                    field.name().into(),
                    (*hour_ms).into(),
                    status.into(),
                    (*n).into(),
                ]
            },
        )
        .await
    }
}

/// A refund's part in the daily sums: the day it is booked on, its order, its deduction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefundShare {
    pub day_ms: i64,
    /// Its order; `None` for a refund that names none, which is summed as of an order not
    /// stored.
    pub order_sn: Option<String>,
    pub deduction_e4: i64,
}

impl RefundShare {
    /// What a refund with these columns adds to the sums; `None` for one not booked yet.
    pub(crate) fn of(
        booked_ms: Option<i64>,
        parent_id: Option<&str>,
        amount_e4: Option<i64>,
    ) -> Option<Self> {
        Some(Self {
            day_ms: crate::beijing_day(booked_ms.filter(|time| countable(*time))?),
            order_sn: parent_id.map(str::to_owned),
            // Deductions count whatever sign the platform gave them.
            deduction_e4: amount_e4.unwrap_or_default().saturating_abs(),
        })
    }
}

/// An order's tags as the sums are keyed by: `None` while the order is not stored.
pub(crate) type OrderTags = Option<(String, String)>;

/// Changes to the daily refund sums of one page.
#[derive(Debug, Default)]
pub(crate) struct RefundDays {
    deltas: HashMap<(i64, OrderTags), (i64, i64)>,
}

impl RefundDays {
    /// Adds (`sign` 1) or takes away (`sign` -1) a refund's share under its order's tags.
    pub(crate) fn add(&mut self, share: &RefundShare, tags: &OrderTags, sign: i64) {
        let sum = self.deltas.entry((share.day_ms, tags.clone())).or_default();
        sum.0 += sign;
        sum.1 = sum
            .1
            .saturating_add(sign.saturating_mul(share.deduction_e4));
    }

    /// The sums by `(day, tags)`: `(refunds, deductions)`.
    pub(crate) fn into_deltas(self) -> impl Iterator<Item = ((i64, OrderTags), (i64, i64))> {
        self.deltas.into_iter()
    }

    pub(crate) async fn write(
        self,
        tx: &mut impl PageSql,
        connection_id: &str,
    ) -> Result<(), StoreError> {
        let deltas: Vec<_> = self
            .deltas
            .into_iter()
            .filter(|(_, (n, e4))| *n != 0 || *e4 != 0)
            .collect();
        insert_rows(
            tx,
            "INSERT INTO union_refund_daily (connection_id, day_ms, known, chan_tag, stat_param, refunds, deduction_e4)",
            "ON CONFLICT (connection_id, day_ms, known, chan_tag, stat_param) DO UPDATE SET
             refunds = union_refund_daily.refunds + excluded.refunds,
             deduction_e4 = union_refund_daily.deduction_e4 + excluded.deduction_e4",
            &deltas,
            |((day_ms, tags), (refunds, deduction_e4))| {
                let (chan_tag, stat_param) = match tags {
                    Some((chan_tag, stat_param)) => (chan_tag.as_str(), stat_param.as_str()),
                    None => ("", ""),
                };
                [
                    connection_id.into(),
                    (*day_ms).into(),
                    i64::from(tags.is_some()).into(),
                    chan_tag.into(),
                    stat_param.into(),
                    (*refunds).into(),
                    (*deduction_e4).into(),
                ]
            },
        )
        .await
    }
}

/// The stored tags of these Union orders; an order not stored is absent.
pub(crate) async fn order_tags(
    tx: &mut impl PageSql,
    connection_id: &str,
    order_sns: &HashSet<&str>,
) -> Result<HashMap<String, (String, String)>, StoreError> {
    let mut tags = HashMap::new();
    let order_sns: Vec<&str> = order_sns.iter().copied().collect();
    for chunk in order_sns.chunks(WRITE_CHUNK) {
        let mut p = Placeholders::new(tx.backend());
        let (connection, list) = (p.one(), p.list(chunk.len()));
        let sql = format!(
            "SELECT order_sn, chan_tag, stat_param FROM union_orders
             WHERE connection_id = {connection} AND order_sn IN ({list})"
        );
        let mut args: Vec<Arg> = vec![connection_id.into()];
        args.extend(chunk.iter().map(|order_sn| Arg::from(*order_sn)));
        for row in tx.rows(&sql, &args).await? {
            tags.insert(
                row.text(0)?,
                (
                    row.opt_text(1)?.unwrap_or_default(),
                    row.opt_text(2)?.unwrap_or_default(),
                ),
            );
        }
    }
    Ok(tags)
}

/// The booked refunds stored for these Union orders, each with its share of the sums.
pub(crate) async fn refund_shares_of(
    tx: &mut impl PageSql,
    connection_id: &str,
    order_sns: &[&str],
) -> Result<Vec<RefundShare>, StoreError> {
    let mut shares = Vec::new();
    for chunk in order_sns.chunks(WRITE_CHUNK) {
        let mut p = Placeholders::new(tx.backend());
        let (connection, stream, list) = (p.one(), p.one(), p.list(chunk.len()));
        let sql = format!(
            "SELECT booked_ms, parent_id, amount_e4 FROM synced_records
             WHERE connection_id = {connection} AND stream = {stream}
             AND parent_id IS NOT NULL AND parent_id IN ({list}) AND booked_ms IS NOT NULL"
        );
        let mut args: Vec<Arg> = vec![connection_id.into(), UNION_REFUNDS_STREAM.into()];
        args.extend(chunk.iter().map(|order_sn| Arg::from(*order_sn)));
        for row in tx.rows(&sql, &args).await? {
            let parent_id = row.opt_text(1)?;
            shares.extend(RefundShare::of(
                row.opt_int(0)?,
                parent_id.as_deref(),
                row.opt_int(2)?,
            ));
        }
    }
    Ok(shares)
}

impl Store {
    /// The daily sums of a Union account's after-settlement refunds for the Beijing days
    /// starting in `[from_day_ms, to_day_ms)`: one row per day and order tags.
    pub async fn refund_days(
        &self,
        connection_id: &str,
        from_day_ms: i64,
        to_day_ms: i64,
    ) -> Result<Vec<crate::RefundSum>, StoreError> {
        let rows = sqlx::query(
            "SELECT day_ms, known, chan_tag, stat_param, refunds, deduction_e4 FROM union_refund_daily
             WHERE connection_id = $1 AND day_ms >= $2 AND day_ms < $3 AND refunds <> 0",
        )
        .bind(connection_id)
        .bind(from_day_ms)
        .bind(to_day_ms)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let known: i64 = row.try_get("known")?;
                let tag = |name: &str| -> Result<Option<String>, StoreError> {
                    let text: String = row.try_get(name)?;
                    Ok(Some(text).filter(|t| !t.is_empty()))
                };
                Ok(crate::RefundSum {
                    day_ms: row.try_get("day_ms")?,
                    order: (known == 1)
                        .then(|| Ok::<_, StoreError>((tag("chan_tag")?, tag("stat_param")?)))
                        .transpose()?,
                    refunds: row.try_get("refunds")?,
                    deduction: crate::union::yuan(row.try_get("deduction_e4")?),
                })
            })
            .collect()
    }

    /// How many records of a stream each hour starting in `[from_hour_ms, to_hour_ms)` holds
    /// by `time` (of one status, or of all): `(hour_ms, records)` for the hours that hold any,
    /// in order.
    pub(crate) async fn hour_counts(
        &self,
        reader: &mut sqlx::AnyConnection,
        connection_id: &str,
        stream: &str,
        time: CountedTime,
        status: Option<&str>,
        (from_hour_ms, to_hour_ms): (i64, i64),
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut p = Placeholders::new(self.backend());
        let (connection, stream_p, field, from, to) = (p.one(), p.one(), p.one(), p.one(), p.one());
        let status_clause = match status {
            Some(_) => format!("AND status = {}", p.one()),
            None => String::new(),
        };
        let sql = format!(
            "SELECT hour_ms, CAST(SUM(records) AS BIGINT) AS n FROM synced_record_hours
             WHERE connection_id = {connection} AND stream = {stream_p} AND time_field = {field}
             AND hour_ms >= {from} AND hour_ms < {to} {status_clause}
             GROUP BY hour_ms ORDER BY hour_ms"
        );
        let mut query = sqlx::query(&sql)
            .bind(connection_id)
            .bind(stream)
            .bind(time.name())
            .bind(from_hour_ms)
            .bind(to_hour_ms);
        if let Some(status) = status {
            query = query.bind(status);
        }
        let rows = query.fetch_all(reader).await?;
        let mut hours = Vec::with_capacity(rows.len());
        for row in &rows {
            let n: i64 = row.try_get("n")?;
            if n > 0 {
                hours.push((row.try_get("hour_ms")?, n));
            }
        }
        Ok(hours)
    }
}
