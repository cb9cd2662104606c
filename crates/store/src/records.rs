//! Synced records and the one writer of every stream's pages: generic records (Union refunds,
//! JIT direct-ship orders, Winit outbound orders...) in one table keyed by (connection, stream,
//! platform id), Union orders in their own; the newest version kept, a final record never
//! replaced, an unchanged record left alone, and the checkpoint written with each page.

use std::collections::HashMap;

use sqlx::Row;

use crate::by_status::{
    Direction, OrderedTable, Params, StatusRange, UNION_ORDERS, after_clause, feed_clause,
    read_ranged_page,
};
use crate::page_sql::{Arg, PageSql, PageWrite, insert_rows};
use crate::{
    Checkpoint, Placeholders, RecordEvents, Store, StoreError, UnionOrderRecord, newest_per_key,
};

/// One record as a stream writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedRecord {
    /// The platform's id of the record.
    pub id: String,
    /// When the platform last changed it (epoch ms); where a platform gives no update time,
    /// when it was seen.
    pub updated_ms: i64,
    /// A record that can no longer change (settled, cancelled, delivered...).
    pub is_final: bool,
    /// The platform's JSON.
    pub payload: String,
    /// What the record is queried by.
    pub columns: RecordColumns,
}

/// What a record is queried by besides its id and update time, each an indexed or filterable
/// column: every stream fills what its records have.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordColumns {
    /// When the platform created it (epoch ms).
    pub created_ms: Option<i64>,
    /// The platform's status code.
    pub status: Option<String>,
    /// When it counts in a money report (a refund's booked deduction), epoch ms.
    pub booked_ms: Option<i64>,
    /// The record it belongs to (a refund's order).
    pub parent_id: Option<String>,
    /// The seller's own code for it (a product's outer id).
    pub alt_id: Option<String>,
    /// Its name, for searching.
    pub title: Option<String>,
    /// Its amount as a decimal string (an order's total, a refund's deduction).
    pub amount: Option<String>,
    /// An order with a line refunded or being refunded.
    pub has_refund: bool,
}

/// A record as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub record: SyncedRecord,
    /// How many distinct versions were stored.
    pub versions: i64,
}

impl StoredRecord {
    /// Where a listing continues after this record.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            updated_ms: self.record.updated_ms,
            id: self.record.id.clone(),
        }
    }
}

/// The records of one page, in the table their stream keeps them in: generic records (orders,
/// refunds, products...) or a Union account's orders, whose table also keeps daily sums.
#[derive(Debug, Clone)]
pub enum PageRecords {
    /// Generic records; those of [`crate::UNION_REFUNDS_STREAM`] are also summed per Beijing
    /// day and order tags.
    Records(Vec<SyncedRecord>),
    UnionOrders(Vec<UnionOrderRecord>),
}

impl PageRecords {
    pub fn len(&self) -> usize {
        match self {
            Self::Records(records) => records.len(),
            Self::UnionOrders(orders) => orders.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the store holds of a record the writer is about to replace.
struct Held {
    updated_ms: i64,
    is_final: bool,
    payload: String,
    created_ms: Option<i64>,
    status: Option<String>,
    booked_ms: Option<i64>,
    parent_id: Option<String>,
    /// The amount in ten-thousandths of a yuan, as the writer computed it when it was stored.
    amount_e4: Option<i64>,
}

impl Held {
    fn of(record: &SyncedRecord) -> Self {
        Self {
            updated_ms: record.updated_ms,
            is_final: record.is_final,
            payload: record.payload.clone(),
            created_ms: record.columns.created_ms,
            status: record.columns.status.clone(),
            booked_ms: record.columns.booked_ms,
            parent_id: record.columns.parent_id.clone(),
            amount_e4: amount_e4_of(record),
        }
    }
}

/// A record's amount in ten-thousandths of a yuan, where it has one.
fn amount_e4_of(record: &SyncedRecord) -> Option<i64> {
    record
        .columns
        .amount
        .as_deref()
        .map(|amount| crate::union::amount_e4(Some(amount)))
}

/// Whose pages a save writes, and what every row of them is written with.
#[derive(Debug, Clone, Copy)]
pub struct PageTarget<'a> {
    pub connection_id: &'a str,
    pub stream: &'a str,
    /// The announcements the records' changes make, if the stream makes any.
    pub events: Option<RecordEvents>,
    /// When the rows are written (`synced_ms`).
    pub now_ms: i64,
    /// The claim of the stream's lease the run holds, if it holds one: the pages are written
    /// only while the lease is still this claim's, so that a run whose lease lapsed and was
    /// claimed again (by another process, or its own) never writes its checkpoint after the new
    /// holder's.
    pub lease: Option<&'a crate::Claimed>,
}

/// A page as a sync read it: its records, and the platform call that fetched them (recorded in
/// the page's transaction, so that a sync commits once, not twice).
#[derive(Debug, Clone, Copy)]
pub struct FetchedRecords<'a> {
    pub records: &'a PageRecords,
    pub call: Option<ApiCall<'a>>,
}

/// A platform call as the quota report counts it (see [`Store::record_call`]).
#[derive(Debug, Clone, Copy)]
pub struct ApiCall<'a> {
    pub at_ms: i64,
    pub platform: &'a str,
    pub service: &'a str,
    pub method: &'a str,
    pub caller: &'a str,
    pub ok: bool,
}

impl Store {
    /// The one record writer: a page of a stream's records and the stream's checkpoint, with
    /// the new versions' history and their announcements, in one transaction; returns how many
    /// records were inserted or replaced. Older data never replaces newer, nothing replaces a
    /// final record, and the same content seen again is not a new version.
    pub async fn save_page(
        &self,
        connection_id: &str,
        stream: &str,
        page: &PageRecords,
        checkpoint: Checkpoint,
        events: Option<RecordEvents>,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let target = PageTarget {
            connection_id,
            stream,
            events,
            now_ms,
            lease: None,
        };
        let pages = [FetchedRecords {
            records: page,
            call: None,
        }];
        let changed = self.save_fetched_pages(&target, &pages, checkpoint).await?;
        Ok(changed.into_iter().sum())
    }

    /// Pages a sync read one after another, each with the platform call that fetched it, and
    /// the checkpoint after the last of them, in one transaction; returns how many records each
    /// page inserted or replaced. The pages are written in the order they were read, so a record
    /// that two of them hold ends at its newest version, as if each page had been saved on its
    /// own; one commit for several pages writes each index page they share to the log once.
    pub async fn save_fetched_pages(
        &self,
        target: &PageTarget<'_>,
        pages: &[FetchedRecords<'_>],
        checkpoint: Checkpoint,
    ) -> Result<Vec<usize>, StoreError> {
        let write = FetchedPagesWrite {
            store: self,
            target,
            pages,
            checkpoint,
        };
        self.write_as_page(target.connection_id, &write).await
    }

    /// Pages' records, their calls, sums and announcements, then the checkpoint, inside `tx`.
    async fn write_pages(
        &self,
        tx: &mut impl PageSql,
        target: &PageTarget<'_>,
        pages: &[FetchedRecords<'_>],
        checkpoint: Checkpoint,
    ) -> Result<Vec<usize>, StoreError> {
        let (connection_id, stream) = (target.connection_id, target.stream);
        if let Some(claim) = target.lease {
            crate::schedule::hold_lease(tx, connection_id, stream, claim).await?;
        }
        let subscribers = match target.events {
            Some(_) => crate::webhooks::Subscribers::of_connection(tx, connection_id).await?,
            None => Default::default(),
        };
        let mut changed = Vec::with_capacity(pages.len());
        for page in pages {
            if let Some(call) = &page.call {
                tx.run(crate::calls::INSERT_CALL, &crate::calls::call_args(call))
                    .await?;
            }
            changed.push(match page.records {
                PageRecords::Records(records) => {
                    // The stream, not the caller, decides: the order writer moves the sums of
                    // every record of this stream, so each one of them must be in the sums.
                    let refund_sums = stream == crate::UNION_REFUNDS_STREAM;
                    self.write_records(tx, target, &subscribers, records, refund_sums)
                        .await?
                }
                PageRecords::UnionOrders(orders) => {
                    self.write_union_orders(tx, target, &subscribers, orders)
                        .await?
                }
            });
        }
        self.write_checkpoint(tx, connection_id, stream, checkpoint, target.now_ms)
            .await?;
        Ok(changed)
    }

    /// Writes one page of generic records (see [`Store::save_page`]), keeping their hourly
    /// counts and, for Union refunds (`refund_sums`), the daily refund sums.
    async fn write_records(
        &self,
        tx: &mut impl PageSql,
        page: &PageTarget<'_>,
        subscribers: &crate::webhooks::Subscribers,
        records: &[SyncedRecord],
        refund_sums: bool,
    ) -> Result<usize, StoreError> {
        let (connection_id, stream, events, now_ms) =
            (page.connection_id, page.stream, page.events, page.now_ms);
        // What the store holds of this page's records, in one query rather than one per record.
        let mut existing: HashMap<String, Held> = HashMap::new();
        if !records.is_empty() {
            let mut p = Placeholders::new(self.backend());
            let (connection, stream_p, ids) = (p.one(), p.one(), p.list(records.len()));
            let sql = format!(
                "SELECT record_id, updated_ms, final, payload, created_ms, status, booked_ms, parent_id, amount_e4
                 FROM synced_records
                 WHERE connection_id = {connection} AND stream = {stream_p} AND record_id IN ({ids})"
            );
            let mut args: Vec<Arg> = vec![connection_id.into(), stream.into()];
            args.extend(records.iter().map(|record| Arg::from(&record.id)));
            for row in tx.rows(&sql, &args).await? {
                existing.insert(
                    row.text(0)?,
                    Held {
                        updated_ms: row.int(1)?,
                        is_final: row.int(2)? != 0,
                        payload: row.text(3)?,
                        created_ms: row.opt_int(4)?,
                        status: row.opt_text(5)?,
                        booked_ms: row.opt_int(6)?,
                        parent_id: row.opt_text(7)?,
                        amount_e4: row.opt_int(8)?,
                    },
                );
            }
        }
        // Every new version goes to the history; the newest of each record (with how many new
        // versions it brings) replaces the stored row. Each replacement moves the record's
        // counts (and a refund's share of the sums) from where the version it replaces was.
        let mut versions: Vec<&SyncedRecord> = Vec::new();
        let mut hours = crate::kept::HourCounts::default();
        let mut refund_moves: Vec<(crate::kept::RefundShare, i64)> = Vec::new();
        for record in records {
            let stored = existing.get(&record.id);
            // Older data never replaces newer, nothing replaces a final record, and the same
            // content seen again is not a new version.
            let replace = stored.is_none_or(|held| {
                !held.is_final
                    && record.updated_ms >= held.updated_ms
                    && record.payload != held.payload
            });
            if !replace {
                continue;
            }
            let held = Held::of(record);
            for (version, sign) in stored.map(|old| (old, -1)).into_iter().chain([(&held, 1)]) {
                hours.add(
                    version.created_ms,
                    version.updated_ms,
                    version.status.as_deref(),
                    sign,
                );
                if refund_sums {
                    refund_moves.extend(
                        crate::kept::RefundShare::of(
                            version.booked_ms,
                            version.parent_id.as_deref(),
                            version.amount_e4,
                        )
                        .map(|share| (share, sign)),
                    );
                }
            }
            let replaced = existing.insert(record.id.clone(), held);
            if let Some(events) = events {
                // Announced in the same transaction: a stored change is never left unannounced.
                let event = if replaced.is_some() {
                    events.updated
                } else {
                    events.created
                };
                if subscribers.want(event) {
                    let body: serde_json::Value =
                        serde_json::from_str(&record.payload).unwrap_or(serde_json::Value::Null);
                    let data = serde_json::json!({"connection_id": connection_id, "stream": stream, "id": record.id, "record": body});
                    subscribers.enqueue(tx, event, data, now_ms).await?;
                }
            }
            versions.push(record);
        }
        hours.write(tx, connection_id, stream).await?;
        if !refund_moves.is_empty() {
            // Each share under its order's tags as stored now (the order may not be yet).
            let orders = refund_moves
                .iter()
                .filter_map(|(share, _)| share.order_sn.as_deref())
                .collect();
            let tags = crate::kept::order_tags(tx, connection_id, &orders).await?;
            let mut sums = crate::kept::RefundDays::default();
            for (share, sign) in &refund_moves {
                let order_tags = share
                    .order_sn
                    .as_ref()
                    .and_then(|order_sn| tags.get(order_sn))
                    .cloned();
                sums.add(share, &order_tags, *sign);
            }
            sums.write(tx, connection_id).await?;
        }
        insert_rows(
            tx,
            "INSERT INTO synced_record_history (connection_id, stream, record_id, updated_ms, synced_ms, payload)",
            "",
            &versions,
            |record| {
                [
                    connection_id.into(),
                    stream.into(),
                    (&record.id).into(),
                    record.updated_ms.into(),
                    now_ms.into(),
                    (&record.payload).into(),
                ]
            },
        )
        .await?;
        let rows = newest_per_key(&versions, |record| &record.id);
        insert_rows(
            tx,
            "INSERT INTO synced_records (connection_id, stream, record_id, updated_ms, final, payload, versions, synced_ms,
             created_ms, status, booked_ms, parent_id, alt_id, title, amount, has_refund, amount_e4)",
            "ON CONFLICT (connection_id, stream, record_id) DO UPDATE SET
             updated_ms = excluded.updated_ms, final = excluded.final, payload = excluded.payload,
             versions = synced_records.versions + excluded.versions, synced_ms = excluded.synced_ms,
             created_ms = excluded.created_ms, status = excluded.status, booked_ms = excluded.booked_ms,
             parent_id = excluded.parent_id, alt_id = excluded.alt_id, title = excluded.title,
             amount = excluded.amount, has_refund = excluded.has_refund, amount_e4 = excluded.amount_e4",
            &rows,
            |(record, new_versions)| {
                [
                    connection_id.into(),
                    stream.into(),
                    (&record.id).into(),
                    record.updated_ms.into(),
                    i64::from(record.is_final).into(),
                    (&record.payload).into(),
                    (*new_versions).into(),
                    now_ms.into(),
                    record.columns.created_ms.into(),
                    (&record.columns.status).into(),
                    record.columns.booked_ms.into(),
                    (&record.columns.parent_id).into(),
                    (&record.columns.alt_id).into(),
                    (&record.columns.title).into(),
                    (&record.columns.amount).into(),
                    i64::from(record.columns.has_refund).into(),
                    amount_e4_of(record).into(),
                ]
            },
        )
        .await?;
        Ok(versions.len())
    }

    /// One record of a stream.
    pub async fn synced_record(
        &self,
        connection_id: &str,
        stream: &str,
        id: &str,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM synced_records WHERE connection_id = $1 AND stream = $2 AND record_id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(connection_id)
            .bind(stream)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(stored).transpose()
    }

    /// Every stored version of a record, oldest first: `(updated_ms, synced_ms, payload)`.
    pub async fn synced_record_versions(
        &self,
        connection_id: &str,
        stream: &str,
        id: &str,
    ) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let rows = sqlx::query("SELECT updated_ms, synced_ms, payload FROM synced_record_history WHERE connection_id = $1 AND stream = $2 AND record_id = $3 ORDER BY updated_ms, synced_ms LIMIT 1000")
            .bind(connection_id)
            .bind(stream)
            .bind(id)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("updated_ms")?,
                    row.try_get("synced_ms")?,
                    row.try_get("payload")?,
                ))
            })
            .collect()
    }

    /// Every record of a stream, by id: for tests and exports, never for a request.
    pub async fn synced_records(
        &self,
        connection_id: &str,
        stream: &str,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM synced_records WHERE connection_id = $1 AND stream = $2 ORDER BY record_id"
        );
        let rows = sqlx::query(&sql)
            .bind(connection_id)
            .bind(stream)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(stored).collect()
    }

    /// The records of a stream that match `filter`: how many there are, and `limit` of them
    /// after skipping `offset`, ordered by the filter's time (then id) or by id. Offsets are for
    /// APIs whose callers page by number. A window by creation or change time (with a status or
    /// not) is counted from the writer's hourly counts, with only its partial hours at either
    /// end counted from the index, and its page starts at the hour its offset falls in: neither
    /// grows with the records in the window. Other filters are one indexed count and one
    /// indexed page.
    pub async fn find_records(
        &self,
        connection_id: &str,
        stream: &str,
        filter: &RecordFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<StoredRecord>), StoreError> {
        let counted = match filter.time {
            Some((TimeField::Created, start, end)) => {
                Some((crate::kept::CountedTime::Created, start, end))
            }
            Some((TimeField::Updated, start, end)) => {
                Some((crate::kept::CountedTime::Updated, start, end))
            }
            _ => None,
        }
        .filter(|_| {
            !filter.has_refund && filter.id_or_alt_id.is_none() && filter.title_contains.is_none()
        });
        // Counts and page from one snapshot: a page committed between them cannot shift the
        // page against its total.
        let mut snapshot = match self.backend() {
            crate::Backend::Sqlite => self.reader().begin().await?,
            crate::Backend::Postgres => {
                self.reader()
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        };
        let reader = &mut *snapshot;
        let Some((time, start, end)) = counted else {
            let total = self
                .count_records(&mut *reader, connection_id, stream, filter)
                .await?;
            let rows = self
                .records_from(&mut *reader, connection_id, stream, filter, offset, limit)
                .await?;
            return Ok((total, rows));
        };
        // The window's parts in time order, each `(where it starts, how many records it
        // holds)`: the partial hours at either end counted by index, the whole hours between
        // from the counts.
        let within = |from: i64, to: i64| RecordFilter {
            time: filter.time.map(|(field, _, _)| (field, from, to)),
            ..filter.clone()
        };
        let first_hour = crate::hour_of(start.saturating_add(crate::union::HOUR_MS - 1));
        let end_hour = crate::hour_of(end.saturating_add(1));
        let mut parts: Vec<(i64, i64)> = Vec::new();
        if first_hour < end_hour {
            if start < first_hour {
                let head = within(start, first_hour - 1);
                parts.push((
                    start,
                    self.count_records(&mut *reader, connection_id, stream, &head)
                        .await?,
                ));
            }
            parts.extend(
                self.hour_counts(
                    &mut *reader,
                    connection_id,
                    stream,
                    time,
                    filter.status.as_deref(),
                    (first_hour, end_hour),
                )
                .await?,
            );
            if end_hour <= end {
                let tail = within(end_hour, end);
                parts.push((
                    end_hour,
                    self.count_records(&mut *reader, connection_id, stream, &tail)
                        .await?,
                ));
            }
        } else {
            parts.push((
                start,
                self.count_records(&mut *reader, connection_id, stream, filter)
                    .await?,
            ));
        }
        let total = parts
            .iter()
            .fold(0i64, |sum, (_, n)| sum.saturating_add(*n));
        // The page starts in the part its offset falls in, and reads on to the window's end.
        let mut before = 0i64;
        for (from, n) in parts {
            if offset < before.saturating_add(n) {
                let rows = self
                    .records_from(
                        &mut *reader,
                        connection_id,
                        stream,
                        &within(from, end),
                        offset - before,
                        limit,
                    )
                    .await?;
                return Ok((total, rows));
            }
            before = before.saturating_add(n);
        }
        Ok((total, Vec::new()))
    }

    /// The first `limit` records of a stream that match `filter`, in the order `find_records`
    /// pages them, without counting them all: for callers that only need to know whether there
    /// are more than they take.
    pub async fn first_records(
        &self,
        connection_id: &str,
        stream: &str,
        filter: &RecordFilter,
        limit: i64,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let mut reader = self.reader().acquire().await?;
        self.records_from(&mut reader, connection_id, stream, filter, 0, limit)
            .await
    }

    /// How many records of a stream match `filter`, by index.
    async fn count_records(
        &self,
        reader: &mut sqlx::AnyConnection,
        connection_id: &str,
        stream: &str,
        filter: &RecordFilter,
    ) -> Result<i64, StoreError> {
        let (filter_sql, binds, _, _) = self.record_filter_sql(connection_id, stream, filter);
        let count_sql = format!("SELECT COUNT(*) AS n FROM synced_records WHERE {filter_sql}");
        Ok(bind_all(sqlx::query(&count_sql), &binds)
            .fetch_one(reader)
            .await?
            .try_get("n")?)
    }

    /// `limit` records of a stream that match `filter`, after skipping `offset`, ordered by the
    /// filter's time (then id) or by id.
    async fn records_from(
        &self,
        reader: &mut sqlx::AnyConnection,
        connection_id: &str,
        stream: &str,
        filter: &RecordFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let (filter_sql, binds, order, mut p) =
            self.record_filter_sql(connection_id, stream, filter);
        let (limit_p, offset_p) = (p.one(), p.one());
        let page_sql = format!(
            "SELECT {RECORD_COLUMNS} FROM synced_records WHERE {filter_sql} ORDER BY {order} LIMIT {limit_p} OFFSET {offset_p}"
        );
        let rows = bind_all(sqlx::query(&page_sql), &binds)
            .bind(limit)
            .bind(offset)
            .fetch_all(reader)
            .await?;
        rows.iter().map(stored).collect()
    }

    /// `filter` as a WHERE clause with its binds, the order its pages read in, and the
    /// placeholders that follow.
    fn record_filter_sql(
        &self,
        connection_id: &str,
        stream: &str,
        filter: &RecordFilter,
    ) -> (String, Vec<Bind>, String, Placeholders) {
        let mut p = Placeholders::new(self.backend());
        let mut clauses = vec![
            format!("connection_id = {}", p.one()),
            format!("stream = {}", p.one()),
        ];
        let mut binds: Vec<Bind> = vec![
            Bind::Text(connection_id.to_owned()),
            Bind::Text(stream.to_owned()),
        ];
        let order = match filter.time {
            Some((field, start_ms, end_ms)) => {
                let column = field.column();
                clauses.push(format!("{column} >= {}", p.one()));
                clauses.push(format!("{column} <= {}", p.one()));
                binds.push(Bind::Int(start_ms));
                binds.push(Bind::Int(end_ms));
                format!("{column}, record_id")
            }
            None => "record_id".to_owned(),
        };
        if let Some(status) = &filter.status {
            clauses.push(format!("status = {}", p.one()));
            binds.push(Bind::Text(status.clone()));
        }
        if filter.has_refund {
            clauses.push("has_refund = 1".to_owned());
        }
        if let Some(id) = &filter.id_or_alt_id {
            let (a, b) = (p.one(), p.one());
            clauses.push(format!("(record_id = {a} OR alt_id = {b})"));
            binds.push(Bind::Text(id.clone()));
            binds.push(Bind::Text(id.clone()));
        }
        if let Some(part) = &filter.title_contains {
            // A plain substring test: no LIKE wildcards to escape in what a caller typed.
            let find = match self.backend() {
                crate::Backend::Sqlite => "instr",
                crate::Backend::Postgres => "strpos",
            };
            clauses.push(format!("{find}(COALESCE(title, ''), {}) > 0", p.one()));
            binds.push(Bind::Text(part.clone()));
        }
        (clauses.join(" AND "), binds, order, p)
    }

    /// A page of a stream's records newest change first, for people browsing: keyset paging
    /// (`seek`), an optional id prefix, and a count capped at `count_cap` so that neither grows
    /// with the shop.
    pub async fn browse_records(
        &self,
        connection_id: &str,
        stream: &str,
        filter: &BrowseFilter,
        seek: &Seek,
        limit: i64,
        count_cap: i64,
    ) -> Result<Browsed<StoredRecord>, StoreError> {
        let table = OrderedTable {
            table: "synced_records",
            id: "record_id",
            updated: "updated_ms",
            status: "status",
            columns: RECORD_COLUMNS,
            stream: Some(stream),
            indexed_by_status_only: false,
        };
        let (rows, matching) = self
            .browse(&table, connection_id, filter, seek, limit, count_cap)
            .await?;
        Ok(Browsed {
            rows: rows.iter().map(stored).collect::<Result<_, _>>()?,
            matching,
        })
    }

    /// [`Store::browse_records`] for Union orders: `(cursor, payload)` rows.
    pub async fn browse_union_orders(
        &self,
        connection_id: &str,
        filter: &BrowseFilter,
        seek: &Seek,
        limit: i64,
        count_cap: i64,
    ) -> Result<Browsed<(Cursor, String)>, StoreError> {
        let (rows, matching) = self
            .browse(&UNION_ORDERS, connection_id, filter, seek, limit, count_cap)
            .await?;
        Ok(Browsed {
            rows: rows.iter().map(union_row).collect::<Result<_, _>>()?,
            matching,
        })
    }

    async fn browse(
        &self,
        table: &OrderedTable<'_>,
        connection_id: &str,
        filter: &BrowseFilter,
        seek: &Seek,
        limit: i64,
        count_cap: i64,
    ) -> Result<(Vec<sqlx::any::AnyRow>, Capped), StoreError> {
        let prefix = filter.id_prefix.as_deref().filter(|p| !p.is_empty());
        let mut snapshot = self.read_snapshot().await?;
        let ranges = match prefix {
            // A prefix is a range of the key by id, whatever the statuses.
            Some(_) if filter.status.is_none() => vec![StatusRange::Any],
            _ => {
                self.status_ranges(
                    &mut snapshot,
                    table,
                    connection_id,
                    filter.status.as_deref(),
                )
                .await?
            }
        };
        // The conditions of one range: the shop (and stream), its status, the change times
        // and the id prefix asked for.
        let filtered = |params: &mut Params, range: &StatusRange| {
            let mut clauses = vec![format!("connection_id = {}", params.text(connection_id))];
            if let Some(stream) = table.stream {
                clauses.push(format!("stream = {}", params.text(stream)));
            }
            clauses.extend(range.clause(table.status, params));
            if let Some(from) = filter.updated_from_ms {
                clauses.push(format!("{} >= {}", table.updated, params.int(from)));
            }
            if let Some(to) = filter.updated_to_ms {
                clauses.push(format!("{} < {}", table.updated, params.int(to)));
            }
            if let Some(prefix) = prefix {
                // A prefix is a range of the id index: `[prefix, prefix + U+10FFFF)`.
                // Bytes, not the database's collation: a linguistic one orders ids by other rules.
                let bytes = match self.backend() {
                    crate::Backend::Sqlite => "",
                    crate::Backend::Postgres => r#" COLLATE "C""#,
                };
                let (low, high) = (
                    params.text(prefix),
                    params.text(&format!("{prefix}\u{10FFFF}")),
                );
                clauses.push(format!(
                    "{id}{bytes} >= {low} AND {id}{bytes} < {high}",
                    id = table.id
                ));
            }
            clauses
        };
        // Counted up to the cap, range by range. The cap is a number, written into the
        // statement: its placeholder would shift the numbering on PostgreSQL.
        let cap_rows = count_cap.max(0).saturating_add(1);
        let mut counted: i64 = 0;
        for range in &ranges {
            let mut params = Params::new(self.backend());
            let filter_sql = filtered(&mut params, range).join(" AND ");
            let count_sql = format!(
                "SELECT COUNT(*) AS n FROM (SELECT 1 FROM {} WHERE {filter_sql} LIMIT {cap_rows}) AS capped",
                table.table
            );
            let n: i64 = bind_all(sqlx::query(&count_sql), &params.binds)
                .fetch_one(&mut *snapshot)
                .await?
                .try_get("n")?;
            counted = counted.saturating_add(n);
            if counted > count_cap {
                break;
            }
        }
        let matching = if counted > count_cap {
            Capped::MoreThan(count_cap)
        } else {
            Capped::Exactly(counted)
        };
        if ranges.is_empty() {
            return Ok((Vec::new(), matching));
        }
        // Newest first; `Newer` and `Oldest` read the other way and turn the page around.
        let (after, direction, reverse) = match seek {
            Seek::Newest => (None, Direction::Descending, false),
            Seek::Older(cursor) => (Some(cursor), Direction::Descending, false),
            Seek::Newer(cursor) => (Some(cursor), Direction::Ascending, true),
            Seek::Oldest => (None, Direction::Ascending, true),
        };
        let mut rows = read_ranged_page(
            &mut snapshot,
            self.backend(),
            (table, connection_id),
            &ranges,
            |params, range| {
                let mut clauses = filtered(params, range);
                if let Some(cursor) = after {
                    clauses.push(after_clause(
                        (table.updated, table.id),
                        direction,
                        cursor,
                        params,
                    ));
                }
                clauses
            },
            direction,
            limit,
        )
        .await?;
        snapshot.commit().await?;
        if reverse {
            rows.reverse();
        }
        Ok((rows, matching))
    }

    /// Up to `limit` records of a stream updated at or after `from_ms`, after `cursor`, by
    /// (update time, id).
    pub async fn records_page(
        &self,
        connection_id: &str,
        stream: &str,
        from_ms: i64,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        // Oldest first from where the page starts: one range of the index by (shop, stream,
        // change time, id).
        let mut params = Params::new(self.backend());
        let (shop, stream) = (params.text(connection_id), params.text(stream));
        let after = feed_clause(("updated_ms", "record_id"), from_ms, cursor, &mut params);
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM synced_records
             WHERE connection_id = {shop} AND stream = {stream} AND {after}
             ORDER BY updated_ms, record_id LIMIT {}",
            params.int(limit)
        );
        let rows = bind_all(sqlx::query(&sql), &params.binds)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(stored).collect()
    }

    /// Up to `limit` Union orders updated at or after `from_ms`, after `cursor`, by (update
    /// time, order number), as the platform's JSON.
    pub async fn union_orders_page(
        &self,
        connection_id: &str,
        from_ms: i64,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<(Cursor, String)>, StoreError> {
        let mut snapshot = self.read_snapshot().await?;
        let ranges = self
            .status_ranges(&mut snapshot, &UNION_ORDERS, connection_id, None)
            .await?;
        let rows = read_ranged_page(
            &mut snapshot,
            self.backend(),
            (&UNION_ORDERS, connection_id),
            &ranges,
            |params, range| {
                let mut clauses = vec![format!("connection_id = {}", params.text(connection_id))];
                clauses.extend(range.clause(UNION_ORDERS.status, params));
                clauses.push(feed_clause(
                    (UNION_ORDERS.updated, UNION_ORDERS.id),
                    from_ms,
                    cursor,
                    params,
                ));
                clauses
            },
            Direction::Ascending,
            limit,
        )
        .await?;
        snapshot.commit().await?;
        rows.iter().map(union_row).collect()
    }

    /// One Union order: its cursor (update time, number) and the platform's JSON.
    pub async fn union_order(
        &self,
        connection_id: &str,
        order_sn: &str,
    ) -> Result<Option<(Cursor, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT order_sn, last_update_ms, payload FROM union_orders WHERE connection_id = $1 AND order_sn = $2",
        )
        .bind(connection_id)
        .bind(order_sn)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(union_row).transpose()
    }

    /// The latest sync runs of a connection, newest first.
    pub async fn sync_runs(
        &self,
        connection_id: &str,
        limit: i64,
    ) -> Result<Vec<SyncRun>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, stream, started_ms, finished_ms, status, pages, records, error FROM sync_runs
             WHERE connection_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(connection_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        sync_run_rows(&rows)
    }

    /// The latest runs of one stream of a connection, newest first, by index.
    pub async fn stream_runs(
        &self,
        connection_id: &str,
        stream: &str,
        limit: i64,
    ) -> Result<Vec<SyncRun>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, stream, started_ms, finished_ms, status, pages, records, error FROM sync_runs
             WHERE connection_id = $1 AND stream = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(connection_id)
        .bind(stream)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        sync_run_rows(&rows)
    }
}

fn sync_run_rows(rows: &[sqlx::any::AnyRow]) -> Result<Vec<SyncRun>, StoreError> {
    rows.iter()
        .map(|row| {
            Ok(SyncRun {
                id: row.try_get("id")?,
                stream: row.try_get("stream")?,
                started_ms: row.try_get("started_ms")?,
                finished_ms: row.try_get("finished_ms")?,
                status: row.try_get("status")?,
                pages: row.try_get("pages")?,
                records: row.try_get("records")?,
                error: row.try_get("error")?,
            })
        })
        .collect()
}

/// One recorded sync run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncRun {
    pub id: i64,
    pub stream: String,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub status: String,
    pub pages: i64,
    pub records: i64,
    pub error: Option<String>,
}

/// The columns [`stored`] reads.
const RECORD_COLUMNS: &str = "record_id, updated_ms, final, payload, versions, created_ms, status, \
     booked_ms, parent_id, alt_id, title, amount, has_refund";

fn stored(row: &sqlx::any::AnyRow) -> Result<StoredRecord, StoreError> {
    Ok(StoredRecord {
        record: SyncedRecord {
            id: row.try_get("record_id")?,
            updated_ms: row.try_get("updated_ms")?,
            is_final: row.try_get::<i64, _>("final")? != 0,
            payload: row.try_get("payload")?,
            columns: RecordColumns {
                created_ms: row.try_get("created_ms")?,
                status: row.try_get("status")?,
                booked_ms: row.try_get("booked_ms")?,
                parent_id: row.try_get("parent_id")?,
                alt_id: row.try_get("alt_id")?,
                title: row.try_get("title")?,
                amount: row.try_get("amount")?,
                has_refund: row.try_get::<i64, _>("has_refund")? != 0,
            },
        },
        versions: row.try_get("versions")?,
    })
}

/// The pages a sync read, written as one page write ([`Store::save_fetched_pages`]).
struct FetchedPagesWrite<'a, 'p> {
    store: &'a Store,
    target: &'a PageTarget<'p>,
    pages: &'a [FetchedRecords<'p>],
    checkpoint: Checkpoint,
}

impl PageWrite for FetchedPagesWrite<'_, '_> {
    type Output = Vec<usize>;

    async fn write(&self, tx: &mut impl PageSql) -> Result<Vec<usize>, StoreError> {
        self.store
            .write_pages(tx, self.target, self.pages, self.checkpoint)
            .await
    }
}

fn union_row(row: &sqlx::any::AnyRow) -> Result<(Cursor, String), StoreError> {
    Ok((
        Cursor {
            updated_ms: row.try_get("last_update_ms")?,
            id: row.try_get("order_sn")?,
        },
        row.try_get("payload")?,
    ))
}

/// Where a page of a listing by update time starts: after this `(updated_ms, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub updated_ms: i64,
    pub id: String,
}

impl Cursor {
    /// `"<updated_ms>:<id>"`, opaque to API callers.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.updated_ms, self.id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (ms, id) = text.split_once(':')?;
        if id.is_empty() {
            return None;
        }
        Some(Self {
            updated_ms: ms.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

/// A value bound to a placeholder of a query built at run time.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

pub(crate) fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text.as_str()),
            Bind::Int(n) => query.bind(*n),
        };
    }
    query
}

/// Which time a [`RecordFilter`] bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    Created,
    Updated,
    Booked,
}

impl TimeField {
    fn column(self) -> &'static str {
        match self {
            TimeField::Created => "created_ms",
            TimeField::Updated => "updated_ms",
            TimeField::Booked => "booked_ms",
        }
    }
}

/// What [`Store::find_records`] selects; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// A time and its inclusive range.
    pub time: Option<(TimeField, i64, i64)>,
    pub status: Option<String>,
    pub has_refund: bool,
    /// The record's id or its seller's code.
    pub id_or_alt_id: Option<String>,
    pub title_contains: Option<String>,
}

/// Where a browsing page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seek {
    /// The most recently changed.
    Newest,
    /// The page changed before this row.
    Older(Cursor),
    /// The page changed after this row.
    Newer(Cursor),
    /// The least recently changed.
    Oldest,
}

/// A count that stops at a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capped {
    Exactly(i64),
    MoreThan(i64),
}

/// A browsing page: its rows (newest change first) and how many rows match.
#[derive(Debug, Clone)]
pub struct Browsed<T> {
    pub rows: Vec<T>,
    pub matching: Capped,
}

/// What a browsed list is narrowed to; every part is answered by an index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrowseFilter {
    /// Ids that start with this.
    pub id_prefix: Option<String>,
    /// The status column equals this (a unified order's `JH_..` code, a Union order's
    /// sub-status name).
    pub status: Option<String>,
    /// Changed at or after this time.
    pub updated_from_ms: Option<i64>,
    /// Changed before this time.
    pub updated_to_ms: Option<i64>,
}
