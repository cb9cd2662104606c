//! The kept sums recomputed from the rows they sum: a check that they agree, and a rebuild of a
//! shop's sums where they do not (a bug fixed since, a restore of part of a database, a hand
//! edit), by the same arithmetic as the writer that keeps them.

use std::collections::BTreeMap;

use crate::kept::{HourCounts, RefundDays, RefundShare, UNION_REFUNDS_STREAM};
use crate::page_sql::{Arg, PageSql, Row, SqliteTx, SqlxTx, insert_rows};
use crate::{Placeholders, Store, StoreError};

/// Rows read at a time: the recomputation's memory is this and the sums, whatever the shop's
/// size.
const SCAN_ROWS: i64 = 5_000;

/// One table of kept sums, compared with the sums recomputed from the rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumsTable {
    pub table: &'static str,
    /// Rows of sums kept (those summing to nothing left out).
    pub kept: usize,
    /// Rows of sums the stored rows make.
    pub recomputed: usize,
    /// Rows missing, extra, or holding other figures.
    pub differing: usize,
}

/// How one shop's kept sums compare with its rows, and whether they were rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumsCheck {
    pub connection_id: String,
    pub tables: Vec<SumsTable>,
    /// The shop's kept sums were replaced by the recomputed ones.
    pub rebuilt: bool,
}

impl SumsCheck {
    /// Whether every table agrees with its rows.
    pub fn agrees(&self) -> bool {
        self.tables.iter().all(|table| table.differing == 0)
    }
}

/// A row of sums: its time (day or hour), three texts that with the time make its key, and two
/// figures (a count and an amount in ten-thousandths of a yuan, or a count and 0).
type Sums = BTreeMap<(i64, [String; 3]), (i64, i64)>;

/// The four tables of kept sums, and how each one's rows read as [`Sums`].
const TABLES: [(&str, &str); 4] = [
    (
        "union_settled_daily",
        "SELECT day_ms, chan_tag, stat_param, '', orders, commission_e4 FROM union_settled_daily",
    ),
    (
        "union_settled_hourly",
        "SELECT hour_ms, chan_tag, stat_param, '', orders, commission_e4 FROM union_settled_hourly",
    ),
    (
        "union_refund_daily",
        "SELECT day_ms, CAST(known AS TEXT), chan_tag, stat_param, refunds, deduction_e4 FROM union_refund_daily",
    ),
    (
        "synced_record_hours",
        "SELECT hour_ms, stream, time_field, status, records, CAST(0 AS BIGINT) FROM synced_record_hours",
    ),
];

impl Store {
    /// Compares a shop's kept sums with the sums its stored rows make and, with `rebuild`,
    /// replaces them where any differs. Runs as one of the shop's page writes (the same lock,
    /// one transaction), so a sync writing meanwhile waits and then adds to the sums as they
    /// are rebuilt; reads the rows a few thousand at a time.
    pub async fn check_kept_sums(
        &self,
        connection_id: &str,
        rebuild: bool,
    ) -> Result<SumsCheck, StoreError> {
        let Some(page_connection) = &self.page_connection else {
            let mut tx = self.pool().begin().await?;
            crate::kept::lock_shop_pages(self, &mut tx, connection_id).await?;
            let check = check_in(
                &mut SqlxTx {
                    tx: &mut tx,
                    backend: self.backend(),
                },
                connection_id,
                rebuild,
            )
            .await?;
            tx.commit().await?;
            return Ok(check);
        };
        // SQLite: as a page's write (see `save_fetched_pages`).
        let _writer_turn = self.pool().acquire().await?;
        let mut conn = page_connection.lock().await;
        let mut tx = SqliteTx::begin(&mut conn).await?;
        let check = check_in(&mut tx, connection_id, rebuild).await?;
        tx.commit()?;
        Ok(check)
    }
}

async fn check_in(
    tx: &mut impl PageSql,
    connection_id: &str,
    rebuild: bool,
) -> Result<SumsCheck, StoreError> {
    let recomputed = recompute(tx, connection_id).await?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for ((table, select), sums) in TABLES.iter().zip(&recomputed) {
        let kept = kept_sums(tx, select, connection_id).await?;
        let differing = kept
            .iter()
            .filter(|(key, figures)| sums.get(*key) != Some(*figures))
            .count()
            + sums.keys().filter(|key| !kept.contains_key(*key)).count();
        tables.push(SumsTable {
            table,
            kept: kept.len(),
            recomputed: sums.len(),
            differing,
        });
    }
    let rebuilt = rebuild && tables.iter().any(|table| table.differing > 0);
    if rebuilt {
        for (table, _) in TABLES {
            let mut p = Placeholders::new(tx.backend());
            tx.run(
                &format!("DELETE FROM {table} WHERE connection_id = {}", p.one()),
                &[connection_id.into()],
            )
            .await?;
        }
        write_sums(tx, connection_id, &recomputed).await?;
    }
    Ok(SumsCheck {
        connection_id: connection_id.to_owned(),
        tables,
        rebuilt,
    })
}

/// A kept table's rows of one shop, those summing to nothing left out.
async fn kept_sums(
    tx: &mut impl PageSql,
    select: &str,
    connection_id: &str,
) -> Result<Sums, StoreError> {
    let mut p = Placeholders::new(tx.backend());
    let sql = format!("{select} WHERE connection_id = {}", p.one());
    let mut sums = Sums::new();
    for row in tx.rows(&sql, &[connection_id.into()]).await? {
        let figures = (row.int(4)?, row.int(5)?);
        if figures != (0, 0) {
            let key = [row.text(1)?, row.text(2)?, row.text(3)?];
            sums.insert((row.int(0)?, key), figures);
        }
    }
    Ok(sums)
}

/// The four tables' sums as the shop's rows make them, in [`TABLES`]' order.
async fn recompute(tx: &mut impl PageSql, connection_id: &str) -> Result<[Sums; 4], StoreError> {
    let mut settled_days = Sums::new();
    let mut settled_hours = Sums::new();
    scan(
        tx,
        "SELECT order_sn, settled_ms, chan_tag, stat_param, commission FROM union_orders
         WHERE connection_id = {shop} AND settled = 1 AND settled_ms IS NOT NULL AND order_sn > {after}
         ORDER BY order_sn LIMIT {limit}",
        connection_id,
        None,
        |row| {
            let Some((day, hour)) = crate::union::settled_periods(row.int(1)?) else {
                return Ok(());
            };
            let tags = [
                row.opt_text(2)?.unwrap_or_default(),
                row.opt_text(3)?.unwrap_or_default(),
                String::new(),
            ];
            let commission = crate::union::amount_e4(row.opt_text(4)?.as_deref());
            for (sums, start) in [(&mut settled_days, day), (&mut settled_hours, hour)] {
                let sum = sums.entry((start, tags.clone())).or_default();
                sum.0 += 1;
                sum.1 = sum.1.saturating_add(commission);
            }
            Ok(())
        },
    )
    .await?;
    // Refunds, each under its order's tags as stored now: the writer's own sums, added up.
    let mut refunds = RefundDays::default();
    scan(
        tx,
        &format!(
            "SELECT r.record_id, r.booked_ms, r.parent_id, r.amount_e4, o.order_sn, o.chan_tag, o.stat_param
             FROM synced_records r LEFT JOIN union_orders o ON o.connection_id = r.connection_id AND o.order_sn = r.parent_id
             WHERE r.connection_id = {{shop}} AND r.stream = '{UNION_REFUNDS_STREAM}' AND r.booked_ms IS NOT NULL
             AND r.record_id > {{after}} ORDER BY r.record_id LIMIT {{limit}}"
        ),
        connection_id,
        None,
        |row| {
            let parent = row.opt_text(2)?;
            if let Some(share) = RefundShare::of(row.opt_int(1)?, parent.as_deref(), row.opt_int(3)?) {
                let tags = match row.opt_text(4)? {
                    Some(_) => Some((
                        row.opt_text(5)?.unwrap_or_default(),
                        row.opt_text(6)?.unwrap_or_default(),
                    )),
                    None => None,
                };
                refunds.add(&share, &tags, 1);
            }
            Ok(())
        },
    )
    .await?;
    let refund_days = refunds
        .into_deltas()
        .map(|((day_ms, tags), figures)| {
            let key = match tags {
                Some((chan_tag, stat_param)) => ["1".to_owned(), chan_tag, stat_param],
                None => ["0".to_owned(), String::new(), String::new()],
            };
            ((day_ms, key), figures)
        })
        .collect();
    // Every stream's records per hour of their creation and last change, and status: stream
    // by stream, each read in the order of its key.
    let mut p = Placeholders::new(tx.backend());
    let streams: Vec<String> = tx
        .rows(
            &format!(
                "SELECT DISTINCT stream FROM synced_records WHERE connection_id = {}",
                p.one()
            ),
            &[connection_id.into()],
        )
        .await?
        .iter()
        .map(|row| row.text(0))
        .collect::<Result<_, _>>()?;
    let mut hours: Vec<(String, HourCounts)> = Vec::with_capacity(streams.len());
    for stream in streams {
        let mut counts = HourCounts::default();
        scan(
            tx,
            "SELECT record_id, created_ms, updated_ms, status FROM synced_records
             WHERE connection_id = {shop} AND stream = {stream} AND record_id > {after}
             ORDER BY record_id LIMIT {limit}",
            connection_id,
            Some(&stream),
            |row| {
                counts.add(row.opt_int(1)?, row.int(2)?, row.opt_text(3)?.as_deref(), 1);
                Ok(())
            },
        )
        .await?;
        hours.push((stream, counts));
    }
    let mut record_hours = Sums::new();
    for (stream, counts) in hours {
        for ((field, hour_ms, status), records) in counts.into_deltas() {
            let key = [stream.clone(), field.name().to_owned(), status];
            record_hours.insert((hour_ms, key), (records, 0));
        }
    }
    let drop_nothing = |sums: Sums| -> Sums {
        sums.into_iter()
            .filter(|(_, figures)| *figures != (0, 0))
            .collect()
    };
    Ok([
        drop_nothing(settled_days),
        drop_nothing(settled_hours),
        drop_nothing(refund_days),
        drop_nothing(record_hours),
    ])
}

/// Reads a shop's rows (of one stream, where `stream` is given) `SCAN_ROWS` at a time, in the
/// order of their first column, which each next read starts after. `sql` names the shop
/// `{shop}`, the stream `{stream}`, that column's last value `{after}` and the count `{limit}`.
async fn scan(
    tx: &mut impl PageSql,
    sql: &str,
    connection_id: &str,
    stream: Option<&str>,
    mut each: impl FnMut(&Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut p = Placeholders::new(tx.backend());
    let shop = p.one();
    let stream_placeholder = stream.map(|_| p.one()).unwrap_or_default();
    let (after, limit) = (p.one(), p.one());
    let sql = sql
        .replace("{shop}", &shop)
        .replace("{stream}", &stream_placeholder)
        .replace("{after}", &after)
        .replace("{limit}", &limit);
    let mut last = String::new();
    loop {
        let mut args: Vec<Arg> = vec![connection_id.into()];
        args.extend(stream.map(Arg::from));
        args.push(last.as_str().into());
        args.push(SCAN_ROWS.into());
        let rows = tx.rows(&sql, &args).await?;
        for row in &rows {
            each(row)?;
        }
        match rows.last() {
            Some(row) if i64::try_from(rows.len()).unwrap_or(i64::MAX) >= SCAN_ROWS => {
                last = row.text(0)?;
            }
            _ => return Ok(()),
        }
    }
}

/// Writes recomputed sums into the tables they belong to.
async fn write_sums(
    tx: &mut impl PageSql,
    connection_id: &str,
    [settled_days, settled_hours, refund_days, record_hours]: &[Sums; 4],
) -> Result<(), StoreError> {
    for (table, column, sums) in [
        ("union_settled_daily", "day_ms", settled_days),
        ("union_settled_hourly", "hour_ms", settled_hours),
    ] {
        let rows: Vec<_> = sums.iter().collect();
        insert_rows(
            tx,
            &format!(
                "INSERT INTO {table} (connection_id, {column}, chan_tag, stat_param, orders, commission_e4)"
            ),
            "",
            &rows,
            |((start_ms, [chan_tag, stat_param, _]), (orders, commission))| {
                [
                    connection_id.into(),
                    (*start_ms).into(),
                    chan_tag.as_str().into(),
                    stat_param.as_str().into(),
                    (*orders).into(),
                    (*commission).into(),
                ]
            },
        )
        .await?;
    }
    let rows: Vec<_> = refund_days.iter().collect();
    insert_rows(
        tx,
        "INSERT INTO union_refund_daily (connection_id, day_ms, known, chan_tag, stat_param, refunds, deduction_e4)",
        "",
        &rows,
        |((day_ms, [known, chan_tag, stat_param]), (refunds, deduction))| {
            [
                connection_id.into(),
                (*day_ms).into(),
                i64::from(known == "1").into(),
                chan_tag.as_str().into(),
                stat_param.as_str().into(),
                (*refunds).into(),
                (*deduction).into(),
            ]
        },
    )
    .await?;
    let rows: Vec<_> = record_hours.iter().collect();
    insert_rows(
        tx,
        "INSERT INTO synced_record_hours (connection_id, stream, time_field, hour_ms, status, records)",
        "",
        &rows,
        |((hour_ms, [stream, field, status]), (records, _))| {
            [
                connection_id.into(),
                stream.as_str().into(),
                field.as_str().into(),
                (*hour_ms).into(),
                status.as_str().into(),
                (*records).into(),
            ]
        },
    )
    .await
}
