//! The kept sums recomputed from the rows they sum: a check that they agree, and a rebuild of a
//! shop's sums where they do not (a bug fixed since, a restore of part of a database, a hand
//! edit), by the same arithmetic as the writer that keeps them.
//!
//! The work goes a Beijing day at a time (a day's hours are whole hours), jumping over days
//! with nothing in them: its memory is one day's sums whatever the shop's size. Each day is read
//! from one snapshot, without locks, so syncs go on meanwhile; a rebuild computes a day that
//! differed again inside a write of its own, as short as a page's and under the same lock, and
//! brings that day's kept rows to what its rows make.

use std::collections::BTreeMap;

use crate::kept::{
    CountedTime, HourCounts, RefundDays, RefundShare, TIME_LIMIT_MS, UNION_REFUNDS_STREAM,
};
use crate::page_sql::{Arg, PageSql, PageWrite, SqlxTx};
use crate::union::DAY_MS;
use crate::{Placeholders, Store, StoreError};

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
    /// The shop's kept sums were brought to what its rows make.
    pub rebuilt: bool,
}

impl SumsCheck {
    /// Whether every table agreed with its rows when it was read.
    pub fn agrees(&self) -> bool {
        self.tables.iter().all(|table| table.differing == 0)
    }
}

/// Rows of sums: a time (day or hour), three texts that with it make the row's key (unused
/// places empty), and two figures (a count and an amount in ten-thousandths of a yuan, or a
/// count and 0).
type Sums = BTreeMap<(i64, [String; 3]), (i64, i64)>;

/// A table of kept sums as this module reads and writes it.
struct Kept {
    name: &'static str,
    time: &'static str,
    /// The key's columns after the time (`""` where unused); `true` for an integer column,
    /// whose value the key holds as its decimal text.
    keys: [(&'static str, bool); 3],
    /// The figures' columns (`""` for an unused second).
    figures: [&'static str; 2],
}

/// Settled orders summed per period and tags: the daily and the hourly table differ only in
/// these.
const fn settled(name: &'static str, time: &'static str) -> Kept {
    Kept {
        name,
        time,
        keys: [("chan_tag", false), ("stat_param", false), ("", false)],
        figures: ["orders", "commission_e4"],
    }
}

const SETTLED_DAILY: Kept = settled("union_settled_daily", "day_ms");
const SETTLED_HOURLY: Kept = settled("union_settled_hourly", "hour_ms");
const REFUND_DAILY: Kept = Kept {
    name: "union_refund_daily",
    time: "day_ms",
    keys: [("known", true), ("chan_tag", false), ("stat_param", false)],
    figures: ["refunds", "deduction_e4"],
};
const RECORD_HOURS: Kept = Kept {
    name: "synced_record_hours",
    time: "hour_ms",
    keys: [("stream", false), ("time_field", false), ("status", false)],
    figures: ["records", ""],
};

/// A table's rows of one shop, with `filters` (column, value) besides.
struct Scope<'a> {
    table: &'a Kept,
    connection_id: &'a str,
    filters: &'a [(&'static str, &'a str)],
}

impl Scope<'_> {
    /// `WHERE` for the shop and filters, then `time`; and the arguments of the first part.
    fn clause<'s>(&'s self, p: &mut Placeholders) -> (String, Vec<Arg<'s>>) {
        let mut sql = format!("connection_id = {}", p.one());
        let mut args: Vec<Arg> = vec![self.connection_id.into()];
        for (column, value) in self.filters {
            sql.push_str(&format!(" AND {column} = {}", p.one()));
            args.push((*value).into());
        }
        (sql, args)
    }

    /// The earliest time of a kept row at or after `from`.
    async fn next(&self, tx: &mut impl PageSql, from: i64) -> Result<Option<i64>, StoreError> {
        let mut p = Placeholders::new(tx.backend());
        let (clause, mut args) = self.clause(&mut p);
        let time = self.table.time;
        let sql = format!(
            "SELECT MIN({time}) FROM {} WHERE {clause} AND {time} >= {}",
            self.table.name,
            p.one()
        );
        args.push(from.into());
        first_int(tx, &sql, &args).await
    }

    /// The kept rows with a time in `[from, to)` (or outside it, with `outside`), those summing
    /// to nothing left out.
    async fn read(
        &self,
        tx: &mut impl PageSql,
        (from, to): (i64, i64),
        outside: bool,
    ) -> Result<Sums, StoreError> {
        let Kept {
            name,
            time,
            keys,
            figures,
        } = self.table;
        let key = |(column, integer): (&str, bool)| match (column, integer) {
            ("", _) => "''".to_owned(),
            (column, true) => format!("CAST({column} AS TEXT)"),
            (column, false) => column.to_owned(),
        };
        let second = match figures[1] {
            "" => "CAST(0 AS BIGINT)",
            column => column,
        };
        let mut p = Placeholders::new(tx.backend());
        let (clause, mut args) = self.clause(&mut p);
        let range = range_clause(time, outside, &mut p);
        let sql = format!(
            "SELECT {time}, {}, {}, {}, {}, {second} FROM {name} WHERE {clause} AND {range}",
            key(keys[0]),
            key(keys[1]),
            key(keys[2]),
            figures[0],
        );
        args.extend([Arg::from(from), Arg::from(to)]);
        let mut sums = Sums::new();
        for row in tx.rows(&sql, &args).await? {
            let figures = (row.int(4)?, row.int(5)?);
            if figures != (0, 0) {
                sums.insert(
                    (row.int(0)?, [row.text(1)?, row.text(2)?, row.text(3)?]),
                    figures,
                );
            }
        }
        Ok(sums)
    }

    /// Adds `deltas` to the kept rows, then drops those of `[from, to)` (or outside it) that
    /// now sum to nothing.
    async fn apply(
        &self,
        tx: &mut impl PageSql,
        deltas: &Sums,
        (from, to): (i64, i64),
        outside: bool,
    ) -> Result<(), StoreError> {
        let Kept {
            name,
            time,
            keys,
            figures,
        } = self.table;
        let used_keys: Vec<(usize, &str, bool)> = keys
            .iter()
            .enumerate()
            .filter(|(_, (column, _))| !column.is_empty())
            .map(|(n, &(column, integer))| (n, column, integer))
            .collect();
        let used_figures: Vec<&str> = figures.iter().copied().filter(|f| !f.is_empty()).collect();
        let key_columns: Vec<&str> = used_keys.iter().map(|(_, column, _)| *column).collect();
        let columns = [
            vec!["connection_id", time],
            key_columns.clone(),
            used_figures.clone(),
        ]
        .concat()
        .join(", ");
        let conflict = [vec!["connection_id", time], key_columns]
            .concat()
            .join(", ");
        let adds = used_figures
            .iter()
            .map(|f| format!("{f} = {name}.{f} + excluded.{f}"))
            .collect::<Vec<_>>()
            .join(", ");
        let width = 2 + used_keys.len() + used_figures.len();
        let mut values: Vec<Arg> = Vec::with_capacity(width.saturating_mul(deltas.len()));
        for ((at, texts), (first, second)) in deltas {
            values.push(self.connection_id.into());
            values.push((*at).into());
            for &(n, _, integer) in &used_keys {
                values.push(if integer {
                    // The key holds an integer column's value as its decimal text.
                    Arg::from(texts[n].parse::<i64>().map_err(|_| {
                        StoreError::Invalid(format!("{name}: {:?} is not an integer", texts[n]))
                    })?)
                } else {
                    Arg::from(texts[n].as_str())
                });
            }
            values.push((*first).into());
            if used_figures.len() > 1 {
                values.push((*second).into());
            }
        }
        tx.insert_values(
            &format!("INSERT INTO {name} ({columns})"),
            &format!("ON CONFLICT ({conflict}) DO UPDATE SET {adds}"),
            width,
            &values,
        )
        .await?;
        let mut p = Placeholders::new(tx.backend());
        let (clause, mut args) = self.clause(&mut p);
        let range = range_clause(time, outside, &mut p);
        let nothing = used_figures
            .iter()
            .map(|f| format!("{f} = 0"))
            .collect::<Vec<_>>()
            .join(" AND ");
        args.extend([Arg::from(from), Arg::from(to)]);
        tx.run(
            &format!("DELETE FROM {name} WHERE {clause} AND {range} AND {nothing}"),
            &args,
        )
        .await
    }
}

/// `time` in `[from, to)`, or outside it with `outside`: two placeholders, `from` then `to`.
fn range_clause(time: &str, outside: bool, p: &mut Placeholders) -> String {
    let (from, to) = (p.one(), p.one());
    if outside {
        format!("({time} < {from} OR {time} >= {to})")
    } else {
        format!("{time} >= {from} AND {time} < {to}")
    }
}

/// The first column of the first row `sql` reads, as an integer (`None` for NULL or no row).
async fn first_int(
    tx: &mut impl PageSql,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<Option<i64>, StoreError> {
    match tx.rows(sql, args).await?.first() {
        Some(row) => row.opt_int(0),
        None => Ok(None),
    }
}

/// What one family of sums is recomputed from: the rows of a time column, read a day at a time.
enum Source<'a> {
    /// Settled Union orders, by settlement time: the daily and hourly settled sums.
    Settled,
    /// Booked Union refunds, by booking time, under their order's tags as stored now.
    Refunds,
    /// One stream's records by one of their times and status.
    Records { stream: &'a str, time: CountedTime },
}

impl Source<'_> {
    /// The earliest time of a row at or after `from`.
    async fn next(
        &self,
        tx: &mut impl PageSql,
        connection_id: &str,
        from: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut p = Placeholders::new(tx.backend());
        let shop = p.one();
        match self {
            Source::Settled => {
                let sql = format!(
                    "SELECT MIN(settled_ms) FROM union_orders WHERE connection_id = {shop}
                     AND settled_ms IS NOT NULL AND settled_ms >= {}",
                    p.one()
                );
                first_int(tx, &sql, &[connection_id.into(), from.into()]).await
            }
            Source::Refunds => {
                let (stream, at) = (p.one(), p.one());
                let sql = format!(
                    "SELECT MIN(booked_ms) FROM synced_records WHERE connection_id = {shop}
                     AND stream = {stream} AND booked_ms IS NOT NULL AND booked_ms >= {at}"
                );
                let args = [
                    connection_id.into(),
                    UNION_REFUNDS_STREAM.into(),
                    from.into(),
                ];
                first_int(tx, &sql, &args).await
            }
            Source::Records { stream, time } => {
                let column = time.column();
                let (stream_p, at) = (p.one(), p.one());
                let sql = format!(
                    "SELECT MIN({column}) FROM synced_records WHERE connection_id = {shop}
                     AND stream = {stream_p} AND {column} >= {at}"
                );
                first_int(
                    tx,
                    &sql,
                    &[connection_id.into(), (*stream).into(), from.into()],
                )
                .await
            }
        }
    }

    /// The sums the rows with a time in `[from, to)` make, one map per kept table of the
    /// family, by the writer's own arithmetic.
    async fn sums(
        &self,
        tx: &mut impl PageSql,
        connection_id: &str,
        (from, to): (i64, i64),
    ) -> Result<Vec<Sums>, StoreError> {
        let mut p = Placeholders::new(tx.backend());
        let shop = p.one();
        match self {
            Source::Settled => {
                let (a, b) = (p.one(), p.one());
                let sql = format!(
                    "SELECT settled_ms, chan_tag, stat_param, commission FROM union_orders
                     WHERE connection_id = {shop} AND settled_ms IS NOT NULL
                     AND settled_ms >= {a} AND settled_ms < {b} AND settled = 1"
                );
                let (mut days, mut hours) = (Sums::new(), Sums::new());
                for row in tx
                    .rows(&sql, &[connection_id.into(), from.into(), to.into()])
                    .await?
                {
                    let Some((day, hour, commission)) = crate::union::settled_share(
                        true,
                        Some(row.int(0)?),
                        row.opt_text(3)?.as_deref(),
                    ) else {
                        continue;
                    };
                    let tags = [
                        row.opt_text(1)?.unwrap_or_default(),
                        row.opt_text(2)?.unwrap_or_default(),
                        String::new(),
                    ];
                    for (sums, start) in [(&mut days, day), (&mut hours, hour)] {
                        crate::union::add_settled(
                            sums.entry((start, tags.clone())).or_default(),
                            commission,
                        );
                    }
                }
                Ok(vec![days, hours])
            }
            Source::Refunds => {
                let (stream, a, b) = (p.one(), p.one(), p.one());
                let sql = format!(
                    "SELECT r.booked_ms, r.parent_id, r.amount_e4, o.order_sn, o.chan_tag, o.stat_param
                     FROM synced_records r LEFT JOIN union_orders o
                     ON o.connection_id = r.connection_id AND o.order_sn = r.parent_id
                     WHERE r.connection_id = {shop} AND r.stream = {stream} AND r.booked_ms IS NOT NULL
                     AND r.booked_ms >= {a} AND r.booked_ms < {b}"
                );
                let args = [
                    connection_id.into(),
                    UNION_REFUNDS_STREAM.into(),
                    from.into(),
                    to.into(),
                ];
                let mut refunds = RefundDays::default();
                for row in tx.rows(&sql, &args).await? {
                    let parent = row.opt_text(1)?;
                    let Some(share) =
                        RefundShare::of(row.opt_int(0)?, parent.as_deref(), row.opt_int(2)?)
                    else {
                        continue;
                    };
                    let tags = match row.opt_text(3)? {
                        Some(_) => Some((
                            row.opt_text(4)?.unwrap_or_default(),
                            row.opt_text(5)?.unwrap_or_default(),
                        )),
                        None => None,
                    };
                    refunds.add(&share, &tags, 1);
                }
                let days = refunds
                    .into_deltas()
                    .map(|((day_ms, tags), figures)| {
                        let key = match tags {
                            Some((chan_tag, stat_param)) => ["1".to_owned(), chan_tag, stat_param],
                            None => ["0".to_owned(), String::new(), String::new()],
                        };
                        ((day_ms, key), figures)
                    })
                    .collect();
                Ok(vec![days])
            }
            Source::Records { stream, time } => {
                let column = time.column();
                let (stream_p, a, b) = (p.one(), p.one(), p.one());
                let sql = format!(
                    "SELECT {column}, status FROM synced_records WHERE connection_id = {shop}
                     AND stream = {stream_p} AND {column} >= {a} AND {column} < {b}"
                );
                let args = [
                    connection_id.into(),
                    (*stream).into(),
                    from.into(),
                    to.into(),
                ];
                let mut counts = HourCounts::default();
                for row in tx.rows(&sql, &args).await? {
                    counts.count(*time, row.int(0)?, row.opt_text(1)?.as_deref(), 1);
                }
                let hours = counts
                    .into_deltas()
                    .map(|((counted, hour_ms, status), records)| {
                        let key = [(*stream).to_owned(), counted.name().to_owned(), status];
                        ((hour_ms, key), (records, 0))
                    })
                    .collect();
                Ok(vec![hours])
            }
        }
    }
}

/// The times every kept key lies within: from the Beijing day of the earliest time the writer
/// counts (which starts before it) to the limit of the times it counts.
fn summed_keys() -> (i64, i64) {
    (crate::union::beijing_day(-TIME_LIMIT_MS + 1), TIME_LIMIT_MS)
}

/// What a family's check found in one table, summed over its days.
#[derive(Default, Clone, Copy)]
struct Tally {
    kept: usize,
    recomputed: usize,
    differing: usize,
}

impl Store {
    /// Compares a shop's kept sums with the sums its stored rows make and, with `rebuild`,
    /// brings them to those (see the module's doc for how, and why a sync may go on meanwhile).
    pub async fn check_kept_sums(
        &self,
        connection_id: &str,
        rebuild: bool,
    ) -> Result<SumsCheck, StoreError> {
        let mut tables = Vec::new();
        let mut rebuilt = false;
        let settled = self
            .check_family(
                connection_id,
                &Source::Settled,
                &[(&SETTLED_DAILY, &[]), (&SETTLED_HOURLY, &[])],
                rebuild,
            )
            .await?;
        let refunds = self
            .check_family(
                connection_id,
                &Source::Refunds,
                &[(&REFUND_DAILY, &[])],
                rebuild,
            )
            .await?;
        for (kept, (tally, changed)) in [SETTLED_DAILY, SETTLED_HOURLY]
            .iter()
            .zip(settled)
            .chain([(&REFUND_DAILY, refunds[0])])
        {
            rebuilt |= changed;
            tables.push(SumsTable {
                table: kept.name,
                kept: tally.kept,
                recomputed: tally.recomputed,
                differing: tally.differing,
            });
        }
        // Every stream with records or kept counts, by each of its two times.
        let mut hours = Tally::default();
        for stream in self.counted_streams(connection_id).await? {
            for time in CountedTime::BOTH {
                let source = Source::Records {
                    stream: &stream,
                    time,
                };
                let filters = [("stream", stream.as_str()), ("time_field", time.name())];
                let [(tally, changed)] = self
                    .check_family(
                        connection_id,
                        &source,
                        &[(&RECORD_HOURS, &filters)],
                        rebuild,
                    )
                    .await?[..]
                else {
                    continue;
                };
                rebuilt |= changed;
                hours.kept += tally.kept;
                hours.recomputed += tally.recomputed;
                hours.differing += tally.differing;
            }
        }
        // Kept counts under a time field no writer uses.
        let unused_fields = {
            let mut tx = self.reader().begin().await?;
            let mut read = SqlxTx {
                tx: &mut tx,
                backend: self.backend(),
            };
            let mut p = Placeholders::new(self.backend());
            let sql = format!(
                "SELECT COUNT(*) FROM synced_record_hours WHERE connection_id = {}
                 AND time_field NOT IN ('created', 'updated') AND records <> 0",
                p.one()
            );
            first_int(&mut read, &sql, &[connection_id.into()]).await?
        };
        if let Some(count) = unused_fields.filter(|count| *count > 0) {
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            hours.kept += count;
            hours.differing += count;
            if rebuild {
                self.write_sums(connection_id, &SumsWrite::DropUnusedFields)
                    .await?;
                rebuilt = true;
            }
        }
        tables.push(SumsTable {
            table: RECORD_HOURS.name,
            kept: hours.kept,
            recomputed: hours.recomputed,
            differing: hours.differing,
        });
        Ok(SumsCheck {
            connection_id: connection_id.to_owned(),
            tables,
            rebuilt,
        })
    }

    /// The streams a shop has records or kept counts of.
    async fn counted_streams(&self, connection_id: &str) -> Result<Vec<String>, StoreError> {
        let mut p = Placeholders::new(self.backend());
        let (a, b) = (p.one(), p.one());
        let sql = format!(
            "SELECT DISTINCT stream FROM synced_records WHERE connection_id = {a}
             UNION SELECT DISTINCT stream FROM synced_record_hours WHERE connection_id = {b}"
        );
        let rows: Vec<(String,)> = sqlx::query_as(&sql)
            .bind(connection_id)
            .bind(connection_id)
            .fetch_all(self.reader())
            .await?;
        Ok(rows.into_iter().map(|(stream,)| stream).collect())
    }

    /// Checks the kept tables one source sums into, a Beijing day at a time from the earliest
    /// day holding a row or a kept sum, then the kept rows outside the times anything is summed
    /// in; with `rebuild`, adds each day's differences. Per table: what was found, and whether
    /// anything was changed.
    async fn check_family(
        &self,
        connection_id: &str,
        source: &Source<'_>,
        tables: &[(&Kept, &[(&'static str, &str)])],
        rebuild: bool,
    ) -> Result<Vec<(Tally, bool)>, StoreError> {
        let scopes: Vec<Scope> = tables
            .iter()
            .map(|&(table, filters)| Scope {
                table,
                connection_id,
                filters,
            })
            .collect();
        let mut found = vec![(Tally::default(), false); scopes.len()];
        // Every key the writer makes lies in [LOW, HIGH): the days and hours of the times it
        // counts (within 10,000 years of 1970 either way), the first of them starting before it.
        let (low, high) = summed_keys();
        let mut from = low;
        loop {
            // One snapshot for the day: its rows and its sums as one commit left them.
            let mut snapshot = self.read_snapshot().await?;
            let mut read = SqlxTx {
                tx: &mut snapshot,
                backend: self.backend(),
            };
            let mut next = source.next(&mut read, connection_id, from).await?;
            for scope in &scopes {
                if let Some(at) = scope.next(&mut read, from).await? {
                    next = Some(next.map_or(at, |next| next.min(at)));
                }
            }
            let Some(next) = next.filter(|next| *next < high) else {
                break;
            };
            let day = crate::union::beijing_day(next);
            let range = (day.max(low), day.saturating_add(DAY_MS).min(high));
            let recomputed = source.sums(&mut read, connection_id, range).await?;
            let mut deltas = Vec::with_capacity(scopes.len());
            for ((scope, sums), (tally, _)) in scopes.iter().zip(&recomputed).zip(&mut found) {
                let kept = scope.read(&mut read, range, false).await?;
                deltas.push(tally.compare(&kept, sums));
            }
            snapshot.commit().await?;
            if rebuild {
                self.rebuild_day(&scopes, Some(source), &deltas, range, &mut found)
                    .await?;
            }
            from = range.1;
        }
        // Kept rows beyond the times anything is summed in: none should be there.
        let range = (low, high);
        let mut deltas = Vec::with_capacity(scopes.len());
        {
            let mut tx = self.reader().begin().await?;
            let mut read = SqlxTx {
                tx: &mut tx,
                backend: self.backend(),
            };
            for (scope, (tally, _)) in scopes.iter().zip(&mut found) {
                let kept = scope.read(&mut read, range, true).await?;
                deltas.push(tally.compare(&kept, &Sums::new()));
            }
        }
        if rebuild {
            self.rebuild_day(&scopes, None, &deltas, range, &mut found)
                .await?;
        }
        Ok(found)
    }

    /// Where a day's snapshot showed differences (`found`), brings its kept rows to what its
    /// rows make (with no `source`, drops the kept rows outside every day): computed again
    /// inside the write's own transaction, as short as a page's, so that neither a sync nor
    /// another rebuild that committed since the snapshot is counted twice.
    async fn rebuild_day(
        &self,
        scopes: &[Scope<'_>],
        source: Option<&Source<'_>>,
        found: &[Sums],
        range: (i64, i64),
        tallies: &mut [(Tally, bool)],
    ) -> Result<(), StoreError> {
        let Some(first) = scopes.first() else {
            return Ok(());
        };
        if found.iter().all(Sums::is_empty) {
            return Ok(());
        }
        let changed = self
            .write_sums(
                first.connection_id,
                &SumsWrite::Day {
                    scopes,
                    source,
                    range,
                },
            )
            .await?;
        for ((_, rebuilt), changed) in tallies.iter_mut().zip(changed) {
            *rebuilt |= changed;
        }
        Ok(())
    }

    /// Makes `write` as one of the shop's page writes ([`Store::write_as_page`]). Answers, per
    /// table written, whether anything in it changed.
    async fn write_sums(
        &self,
        connection_id: &str,
        write: &SumsWrite<'_, '_>,
    ) -> Result<Vec<bool>, StoreError> {
        self.write_as_page(connection_id, &ShopSums(connection_id, write))
            .await
    }
}

/// A change to a shop's kept sums, with the shop it is for.
struct ShopSums<'w, 's, 'a>(&'w str, &'w SumsWrite<'s, 'a>);

impl PageWrite for ShopSums<'_, '_, '_> {
    type Output = Vec<bool>;

    async fn write(&self, tx: &mut impl PageSql) -> Result<Vec<bool>, StoreError> {
        self.1.run(tx, self.0).await
    }
}

/// A change to a shop's kept sums.
enum SumsWrite<'s, 'a> {
    /// One day's kept rows brought to what its rows make (with no `source`, the kept rows
    /// outside every day dropped), computed in the write's own transaction.
    Day {
        scopes: &'s [Scope<'a>],
        source: Option<&'s Source<'a>>,
        range: (i64, i64),
    },
    /// Record counts under a time field no writer uses, dropped.
    DropUnusedFields,
}

impl SumsWrite<'_, '_> {
    /// Per table written, whether anything in it changed.
    async fn run(
        &self,
        tx: &mut impl PageSql,
        connection_id: &str,
    ) -> Result<Vec<bool>, StoreError> {
        match self {
            SumsWrite::Day {
                scopes,
                source,
                range,
            } => {
                let recomputed = match source {
                    Some(source) => source.sums(tx, connection_id, *range).await?,
                    None => vec![Sums::new(); scopes.len()],
                };
                let mut changed = Vec::with_capacity(scopes.len());
                for (scope, sums) in scopes.iter().zip(&recomputed) {
                    let kept = scope.read(tx, *range, source.is_none()).await?;
                    let deltas = differences(&kept, sums);
                    if !deltas.is_empty() {
                        scope.apply(tx, &deltas, *range, source.is_none()).await?;
                    }
                    changed.push(!deltas.is_empty());
                }
                Ok(changed)
            }
            SumsWrite::DropUnusedFields => {
                let mut p = Placeholders::new(tx.backend());
                tx.run(
                    &format!(
                        "DELETE FROM synced_record_hours WHERE connection_id = {}
                         AND time_field NOT IN ('created', 'updated')",
                        p.one()
                    ),
                    &[connection_id.into()],
                )
                .await?;
                Ok(vec![true])
            }
        }
    }
}

impl Tally {
    /// Counts one day's kept rows against the recomputed ones; what to add to the kept rows to
    /// make them equal.
    fn compare(&mut self, kept: &Sums, recomputed: &Sums) -> Sums {
        self.kept += kept.len();
        self.recomputed += recomputed.len();
        let deltas = differences(kept, recomputed);
        self.differing += deltas.len();
        deltas
    }
}

/// What to add to `kept` to make it `recomputed`, row by row.
fn differences(kept: &Sums, recomputed: &Sums) -> Sums {
    let mut deltas = Sums::new();
    for (key, &(first, second)) in recomputed {
        let (had_first, had_second) = kept.get(key).copied().unwrap_or_default();
        if (had_first, had_second) != (first, second) {
            deltas.insert(
                key.clone(),
                (
                    first.saturating_sub(had_first),
                    second.saturating_sub(had_second),
                ),
            );
        }
    }
    for (key, &(first, second)) in kept {
        if !recomputed.contains_key(key) {
            deltas.insert(
                key.clone(),
                (first.saturating_neg(), second.saturating_neg()),
            );
        }
    }
    deltas
}
