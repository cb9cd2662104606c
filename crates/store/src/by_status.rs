//! Reads in change-time order from an index by (shop, status, change time, id) alone.

// A status is one range of the index, and all statuses at once are a merge of one range per
// status present. Union orders are kept this way. A second index by change time alone would
// serve the reads across statuses directly, but every order written pays for each index it
// enters (this one was about 8% of a sync's instructions and 11% of the bytes it wrote), while a
// read across statuses costs one short range per status: the platform's sub-statuses are a
// handful.

use sqlx::Row;

use crate::records::{Bind, bind_all};
use crate::{Backend, Cursor, Placeholders, Store, StoreError};

/// A statement's placeholders and the values bound to them, in the order they are written.
pub(crate) struct Params {
    placeholders: Placeholders,
    pub binds: Vec<Bind>,
}

impl Params {
    pub(crate) fn new(backend: Backend) -> Self {
        Self {
            placeholders: Placeholders::new(backend),
            binds: Vec::new(),
        }
    }

    /// The placeholder of a text value.
    pub(crate) fn text(&mut self, value: &str) -> String {
        self.binds.push(Bind::Text(value.to_owned()));
        self.placeholders.one()
    }

    /// The placeholder of an integer value.
    pub(crate) fn int(&mut self, value: i64) -> String {
        self.binds.push(Bind::Int(value));
        self.placeholders.one()
    }
}

/// The most statuses one statement merges; a shop whose rows carry more (the platform names a
/// handful) is read by one statement per this many, whose pages are merged in turn.
pub(crate) const MAX_MERGED_STATUSES: usize = 64;

/// A table read in (change time, id) order, with the columns its reads name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OrderedTable<'a> {
    pub table: &'static str,
    pub id: &'static str,
    pub updated: &'static str,
    /// The status column the filter compares.
    pub status: &'static str,
    pub columns: &'static str,
    pub stream: Option<&'a str>,
    /// Whether the table has no index by change time alone, only by status and change time:
    /// then a read across statuses merges one range per status.
    pub indexed_by_status_only: bool,
}

/// Union orders, read by change time through their index by sub-status alone.
pub(crate) const UNION_ORDERS: OrderedTable<'static> = OrderedTable {
    table: "union_orders",
    id: "order_sn",
    updated: "last_update_ms",
    status: "sub_status",
    columns: "order_sn, last_update_ms, payload",
    stream: None,
    indexed_by_status_only: true,
};

/// The rows one range of a read covers, by status.
#[derive(Debug, Clone)]
pub(crate) enum StatusRange {
    Any,
    Is(String),
    IsNull,
}

impl StatusRange {
    /// The clause that keeps a read to this range, its value bound in `params`.
    pub(crate) fn clause(&self, column: &str, params: &mut Params) -> Option<String> {
        match self {
            StatusRange::Any => None,
            StatusRange::Is(status) => Some(format!("{column} = {}", params.text(status))),
            StatusRange::IsNull => Some(format!("{column} IS NULL")),
        }
    }
}

/// Which way a page of a read in (change time, id) order goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Ascending,
    Descending,
}

impl Direction {
    fn sql(self) -> &'static str {
        match self {
            Direction::Ascending => "ASC",
            Direction::Descending => "DESC",
        }
    }
}

impl Store {
    /// The ranges a read of `table` with `status` (or every status) is made of: one, where an
    /// index serves the read as it is; one per status the shop's rows carry (NULL included),
    /// found by one index seek each, where only the index by status does.
    pub(crate) async fn status_ranges(
        &self,
        snapshot: &mut sqlx::AnyConnection,
        table: &OrderedTable<'_>,
        connection_id: &str,
        status: Option<&str>,
    ) -> Result<Vec<StatusRange>, StoreError> {
        if let Some(status) = status {
            return Ok(vec![StatusRange::Is(status.to_owned())]);
        }
        if !table.indexed_by_status_only {
            return Ok(vec![StatusRange::Any]);
        }
        let OrderedTable {
            table: name,
            status: column,
            ..
        } = *table;
        let mut params = Params::new(self.backend());
        let (first, next) = (params.text(connection_id), params.text(connection_id));
        // Each step is the least status above the last: a seek of the index, not a read of
        // the rows between.
        let sql = format!(
            "WITH RECURSIVE present(status) AS (
                 SELECT MIN({column}) FROM {name} WHERE connection_id = {first}
                 UNION ALL
                 SELECT (SELECT MIN({column}) FROM {name}
                         WHERE connection_id = {next} AND {column} > present.status)
                 FROM present WHERE present.status IS NOT NULL
             )
             SELECT status FROM present WHERE status IS NOT NULL"
        );
        let rows = fetch_with(snapshot, &sql, &params).await?;
        let mut ranges = rows
            .iter()
            .map(|row| Ok(StatusRange::Is(row.try_get("status")?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut params = Params::new(self.backend());
        let null_sql = format!(
            "SELECT 1 AS present FROM {name} WHERE connection_id = {} AND {column} IS NULL LIMIT 1",
            params.text(connection_id)
        );
        let nulls = fetch_with(snapshot, &null_sql, &params).await?.len();
        if nulls > 0 {
            ranges.push(StatusRange::IsNull);
        }
        Ok(ranges)
    }
}

/// One statement reading up to `limit` rows of `table` in (change time, id) order from
/// `ranges`, each range's conditions given by `clauses_of` (which binds their values).
///
/// One range is one ordered read of its index. Several are merged inside the statement: each
/// range yields its first `limit` keys (a covering read of the index by status), the first
/// `limit` of those are taken, and only their rows are read.
pub(crate) fn ranged_page_sql(
    params: &mut Params,
    table: &OrderedTable<'_>,
    connection_id: &str,
    ranges: &[StatusRange],
    mut clauses_of: impl FnMut(&mut Params, &StatusRange) -> Vec<String>,
    direction: Direction,
    limit: i64,
) -> String {
    let OrderedTable {
        table: name,
        id,
        updated,
        columns,
        ..
    } = *table;
    let order = direction.sql();
    let order_by = format!("ORDER BY {updated} {order}, {id} {order}");
    if let [range] = ranges {
        let clauses = clauses_of(params, range).join(" AND ");
        let limit = params.int(limit);
        return format!("SELECT {columns} FROM {name} WHERE {clauses} {order_by} LIMIT {limit}");
    }
    let mut key = vec![format!("connection_id = {}", params.text(connection_id))];
    if let Some(stream) = table.stream {
        key.push(format!("stream = {}", params.text(stream)));
    }
    let branches: Vec<String> = ranges
        .iter()
        .enumerate()
        .map(|(n, range)| {
            let clauses = clauses_of(params, range).join(" AND ");
            let limit = params.int(limit);
            format!(
                "SELECT {id}, {updated} FROM (SELECT {id}, {updated} FROM {name} WHERE {clauses} {order_by} LIMIT {limit}) AS range_{n}"
            )
        })
        .collect();
    let limit = params.int(limit);
    format!(
        "SELECT {columns} FROM {name} WHERE {key} AND {id} IN (
             SELECT {id} FROM ({branches}) AS merged {order_by} LIMIT {limit}
         ) {order_by}",
        key = key.join(" AND "),
        branches = branches.join(" UNION ALL "),
    )
}

/// The clause that keeps rows after `cursor` by `(updated, id)` in `direction`, written as a
/// range of the change time (which an index can seek to) narrowed by the id at its edge.
pub(crate) fn after_clause(
    (updated, id): (&str, &str),
    direction: Direction,
    cursor: &Cursor,
    params: &mut Params,
) -> String {
    let (edge, beyond) = match direction {
        Direction::Ascending => (">=", ">"),
        Direction::Descending => ("<=", "<"),
    };
    let (a, b, c) = (
        params.int(cursor.updated_ms),
        params.int(cursor.updated_ms),
        params.text(&cursor.id),
    );
    format!("{updated} {edge} {a} AND ({updated} {beyond} {b} OR {id} {beyond} {c})")
}

/// The clause of a feed read oldest first by `(updated, id)`: rows changed at or after
/// `from_ms`, and after `cursor` when it lies there. Without a cursor there is no cursor
/// clause at all, and with one the lower bound is the larger of the two: either way the index
/// range starts where the page does.
pub(crate) fn feed_clause(
    (updated, id): (&str, &str),
    from_ms: i64,
    cursor: Option<&Cursor>,
    params: &mut Params,
) -> String {
    match cursor {
        Some(cursor) if cursor.updated_ms >= from_ms => {
            after_clause((updated, id), Direction::Ascending, cursor, params)
        }
        _ => format!("{updated} >= {}", params.int(from_ms)),
    }
}

impl Store {
    /// A read on a reading connection in which every statement sees the same commit: the
    /// statuses present and the page read from them agree.
    pub(crate) async fn read_snapshot(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend() {
            Backend::Sqlite => self.reader().begin().await?,
            Backend::Postgres => {
                self.reader()
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        })
    }
}

/// Runs a statement with its parameters.
pub(crate) async fn fetch_with(
    connection: &mut sqlx::AnyConnection,
    sql: &str,
    params: &Params,
) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
    Ok(bind_all(sqlx::query(sql), &params.binds)
        .fetch_all(connection)
        .await?)
}

/// Up to `limit` rows of `table` in (change time, id) order from `ranges`, each range's
/// conditions given by `clauses_of`: one statement per [`MAX_MERGED_STATUSES`] ranges (one in
/// practice), their pages merged when there are several.
pub(crate) async fn read_ranged_page(
    snapshot: &mut sqlx::AnyConnection,
    backend: Backend,
    (table, connection_id): (&OrderedTable<'_>, &str),
    ranges: &[StatusRange],
    mut clauses_of: impl FnMut(&mut Params, &StatusRange) -> Vec<String>,
    direction: Direction,
    limit: i64,
) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
    let mut rows = Vec::new();
    for chunk in ranges.chunks(MAX_MERGED_STATUSES) {
        let mut params = Params::new(backend);
        let sql = ranged_page_sql(
            &mut params,
            table,
            connection_id,
            chunk,
            &mut clauses_of,
            direction,
            limit,
        );
        rows.extend(fetch_with(snapshot, &sql, &params).await?);
    }
    if ranges.len() <= MAX_MERGED_STATUSES {
        return Ok(rows);
    }
    let mut keyed = rows
        .into_iter()
        .map(|row| {
            let key: (i64, String) = (row.try_get(table.updated)?, row.try_get(table.id)?);
            Ok((key, row))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    keyed.sort_by(|(a, _), (b, _)| match direction {
        Direction::Ascending => a.cmp(b),
        Direction::Descending => b.cmp(a),
    });
    keyed.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(keyed.into_iter().map(|(_, row)| row).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDERS: OrderedTable<'static> = UNION_ORDERS;

    /// The steps of SQLite's plan for `sql` that read `union_orders`.
    async fn steps_on_orders(store: &Store, sql: &str, params: &Params) -> Vec<String> {
        let mut snapshot = store.read_snapshot().await.expect("snapshot");
        let rows = fetch_with(&mut snapshot, &format!("EXPLAIN QUERY PLAN {sql}"), params)
            .await
            .expect("plan");
        rows.iter()
            .map(|row| row.try_get::<String, _>("detail").expect("detail"))
            .filter(|step| step.contains("union_orders"))
            .collect()
    }

    /// Whether a step seeks the index by status, or one order by its number: neither reads a
    /// shop's orders from end to end.
    fn seeks(step: &str) -> bool {
        step.starts_with(
            "SEARCH union_orders USING COVERING INDEX union_orders_by_sub_status (connection_id=?",
        ) || step.ends_with("(connection_id=? AND order_sn=?)")
    }

    #[tokio::test]
    async fn reads_across_statuses_seek_the_index_by_status() {
        let (store, path) = crate::scratch_sqlite("by-status").await;
        let ranges = [
            StatusRange::Is("已付款".into()),
            StatusRange::Is("已结算".into()),
            StatusRange::IsNull,
        ];
        for direction in [Direction::Ascending, Direction::Descending] {
            let mut params = Params::new(store.backend());
            let sql = ranged_page_sql(
                &mut params,
                &ORDERS,
                "shop",
                &ranges,
                |params, range| {
                    let mut clauses = vec![format!("connection_id = {}", params.text("shop"))];
                    clauses.extend(range.clause(ORDERS.status, params));
                    let cursor = Cursor {
                        updated_ms: 5,
                        id: "S1".into(),
                    };
                    clauses.push(after_clause(
                        (ORDERS.updated, ORDERS.id),
                        direction,
                        &cursor,
                        params,
                    ));
                    clauses
                },
                direction,
                20,
            );
            let steps = steps_on_orders(&store, &sql, &params).await;
            assert!(steps.iter().all(|step| seeks(step)), "{steps:#?}");
            // Each range is a seek to its status and change time, read in the index's order.
            let ranged = steps
                .iter()
                .filter(|step| {
                    step.contains("(connection_id=? AND sub_status=? AND last_update_ms")
                })
                .count();
            assert_eq!(ranged, ranges.len(), "{steps:#?}");
        }
        // Finding the statuses present: one seek per status.
        let mut snapshot = store.read_snapshot().await.expect("snapshot");
        let found = store
            .status_ranges(&mut snapshot, &ORDERS, "shop", None)
            .await
            .expect("statuses");
        drop(snapshot);
        assert!(found.is_empty(), "no orders, no ranges");
        let mut params = Params::new(store.backend());
        let (first, next) = (params.text("shop"), params.text("shop"));
        let sql = format!(
            "SELECT MIN(sub_status) FROM union_orders WHERE connection_id = {first}
             UNION ALL SELECT MIN(sub_status) FROM union_orders WHERE connection_id = {next} AND sub_status > 'a'"
        );
        let steps = steps_on_orders(&store, &sql, &params).await;
        assert_eq!(steps.len(), 2, "{steps:#?}");
        assert!(steps.iter().all(|step| seeks(step)), "{steps:#?}");
        store.pool().close().await;
        std::fs::remove_file(&path).ok();
    }
}
