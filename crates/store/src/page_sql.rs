//! Where a page's statements run: a sqlx transaction (PostgreSQL), or, on SQLite, the store's own
//! page connection, whose prepared statements run on the caller's thread instead of being handed
//! one by one to a driver thread (that hand-off cost more than the writes themselves).

use sqlx::Row as _;

use crate::{Backend, Placeholders, Store, StoreError, WRITE_CHUNK};

/// A value bound to a statement's next placeholder.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(Some(text))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Arg::Text(Some(text))
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(text: &'a Option<String>) -> Self {
        Arg::Text(text.as_deref())
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(text: Option<&'a str>) -> Self {
        Arg::Text(text)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(Some(n))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(n: Option<i64>) -> Self {
        Arg::Int(n)
    }
}

/// A row a page's query read; its columns are read by position.
pub(crate) enum Row {
    Sqlx(sqlx::any::AnyRow),
    Sqlite(Vec<rusqlite::types::Value>),
}

impl Row {
    pub(crate) fn opt_int(&self, column: usize) -> Result<Option<i64>, StoreError> {
        match self {
            Row::Sqlx(row) => Ok(row.try_get(column)?),
            Row::Sqlite(values) => match values.get(column) {
                Some(rusqlite::types::Value::Integer(n)) => Ok(Some(*n)),
                Some(rusqlite::types::Value::Null) => Ok(None),
                other => Err(unexpected(column, "an integer", other)),
            },
        }
    }

    pub(crate) fn int(&self, column: usize) -> Result<i64, StoreError> {
        self.opt_int(column)?
            .ok_or_else(|| unexpected(column, "an integer", None))
    }

    pub(crate) fn opt_text(&self, column: usize) -> Result<Option<String>, StoreError> {
        match self {
            Row::Sqlx(row) => Ok(row.try_get(column)?),
            Row::Sqlite(values) => match values.get(column) {
                Some(rusqlite::types::Value::Text(text)) => Ok(Some(text.clone())),
                Some(rusqlite::types::Value::Null) => Ok(None),
                other => Err(unexpected(column, "text", other)),
            },
        }
    }

    pub(crate) fn text(&self, column: usize) -> Result<String, StoreError> {
        self.opt_text(column)?
            .ok_or_else(|| unexpected(column, "text", None))
    }
}

/// A stored value of another type than the writer reads there (named by type only: the value
/// may be a buyer's data).
fn unexpected(column: usize, expected: &str, found: Option<&rusqlite::types::Value>) -> StoreError {
    let found = match found {
        None => "nothing",
        Some(rusqlite::types::Value::Null) => "NULL",
        Some(rusqlite::types::Value::Integer(_)) => "an integer",
        Some(rusqlite::types::Value::Real(_)) => "a real",
        Some(rusqlite::types::Value::Text(_)) => "text",
        Some(rusqlite::types::Value::Blob(_)) => "a blob",
    };
    StoreError::Invalid(format!(
        "column {column} of a stored row: expected {expected}, found {found}"
    ))
}

/// A transaction a page is written in.
pub(crate) trait PageSql {
    fn backend(&self) -> Backend;

    /// The rows `sql` reads with `args` bound in order.
    async fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StoreError>;

    /// Runs `sql` with `args` bound in order.
    async fn run(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<(), StoreError>;

    /// Inserts rows of `width` values each, `args` holding them row after row (see
    /// [`insert_rows`]).
    async fn insert_values(
        &mut self,
        insert: &str,
        tail: &str,
        width: usize,
        args: &[Arg<'_>],
    ) -> Result<(), StoreError>;

    /// Inserts rows as [`PageSql::insert_values`] does, where `tail` is an `ON CONFLICT ... DO
    /// NOTHING` on the key whose value is the text at `key` of each row (its column `key_column`):
    /// whether each row was inserted (its key was not there yet), in order.
    async fn insert_absent(
        &mut self,
        insert: &str,
        tail: &str,
        key: (usize, &str),
        width: usize,
        args: &[Arg<'_>],
    ) -> Result<Vec<bool>, StoreError>;
}

/// A page written through sqlx (PostgreSQL; SQLite in memory).
pub(crate) struct SqlxTx<'t, 'c> {
    pub tx: &'t mut sqlx::Transaction<'c, sqlx::Any>,
    pub backend: Backend,
}

fn bind_args<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for arg in args {
        query = match *arg {
            Arg::Text(text) => query.bind(text),
            Arg::Int(n) => query.bind(n),
        };
    }
    query
}

impl PageSql for SqlxTx<'_, '_> {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StoreError> {
        let rows = bind_args(sqlx::query(sql), args)
            .fetch_all(&mut **self.tx)
            .await?;
        Ok(rows.into_iter().map(Row::Sqlx).collect())
    }

    async fn run(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<(), StoreError> {
        bind_args(sqlx::query(sql), args)
            .execute(&mut **self.tx)
            .await?;
        Ok(())
    }

    /// One multi-row statement per [`WRITE_CHUNK`] rows, returning the keys it inserted.
    async fn insert_absent(
        &mut self,
        insert: &str,
        tail: &str,
        (key, key_column): (usize, &str),
        width: usize,
        args: &[Arg<'_>],
    ) -> Result<Vec<bool>, StoreError> {
        let width = width.max(1);
        let mut inserted = Vec::with_capacity(args.len() / width);
        for chunk in args.chunks(width.saturating_mul(WRITE_CHUNK)) {
            let tuples = Placeholders::new(self.backend).rows(width, chunk.len() / width);
            let returned = self
                .rows(
                    &format!("{insert} VALUES {tuples} {tail} RETURNING {key_column}"),
                    chunk,
                )
                .await?;
            let keys = returned
                .iter()
                .map(|row| row.text(0))
                .collect::<Result<std::collections::HashSet<String>, _>>()?;
            inserted.extend(chunk.chunks(width).map(
                |row| matches!(row.get(key), Some(Arg::Text(Some(value))) if keys.contains(*value)),
            ));
        }
        Ok(inserted)
    }

    /// One multi-row statement per [`WRITE_CHUNK`] rows: each statement is a round trip.
    async fn insert_values(
        &mut self,
        insert: &str,
        tail: &str,
        width: usize,
        args: &[Arg<'_>],
    ) -> Result<(), StoreError> {
        let width = width.max(1);
        for chunk in args.chunks(width.saturating_mul(WRITE_CHUNK)) {
            let tuples = Placeholders::new(self.backend).rows(width, chunk.len() / width);
            self.run(&format!("{insert} VALUES {tuples} {tail}"), chunk)
                .await?;
        }
        Ok(())
    }
}

/// A page written through the SQLite page connection, inside its `BEGIN IMMEDIATE`: unless
/// committed, dropping it (an error, a panic, a failed `COMMIT`) rolls the page back, so the
/// connection never keeps the file's write lock.
pub(crate) struct SqliteTx<'c> {
    conn: &'c mut rusqlite::Connection,
}

/// How long a page waits for another process's write lock on the file before giving up busy.
const BEGIN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

impl<'c> SqliteTx<'c> {
    /// Begins the page's transaction, waiting (without holding the thread) while another
    /// process writes.
    pub(crate) async fn begin(conn: &'c mut rusqlite::Connection) -> Result<Self, StoreError> {
        if !conn.is_autocommit() {
            // Left open by a write that ended half-way: nothing of it was committed.
            conn.execute_batch("ROLLBACK")?;
        }
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(2);
        loop {
            match conn.execute_batch("BEGIN IMMEDIATE") {
                Ok(()) => return Ok(Self { conn }),
                Err(rusqlite::Error::SqliteFailure(failure, _))
                    if failure.code == rusqlite::ErrorCode::DatabaseBusy
                        && started.elapsed() < BEGIN_PATIENCE =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_millis(100));
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// Commits the page; on failure it is rolled back when `self` drops.
    pub(crate) fn commit(self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if !self.conn.is_autocommit()
            && let Err(err) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(error = %err, "could not roll a page back");
        }
    }
}

impl SqliteTx<'_> {
    fn prepared(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<rusqlite::CachedStatement<'_>, StoreError> {
        let mut statement = self.conn.prepare_cached(sql)?;
        bind_all(&mut statement, args)?;
        Ok(statement)
    }
}

/// Binds `args` to `statement`'s placeholders in order; they must be as many.
fn bind_all(statement: &mut rusqlite::Statement<'_>, args: &[Arg<'_>]) -> Result<(), StoreError> {
    if statement.parameter_count() != args.len() {
        return Err(StoreError::Invalid(format!(
            "a statement takes {} values, {} were given",
            statement.parameter_count(),
            args.len()
        )));
    }
    for (n, arg) in args.iter().enumerate() {
        match *arg {
            Arg::Text(text) => statement.raw_bind_parameter(n + 1, text)?,
            Arg::Int(value) => statement.raw_bind_parameter(n + 1, value)?,
        }
    }
    Ok(())
}

impl PageSql for SqliteTx<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StoreError> {
        let mut statement = self.prepared(sql, args)?;
        let columns = statement.column_count();
        let mut rows = statement.raw_query();
        let mut read = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns);
            for column in 0..columns {
                use rusqlite::types::{Value, ValueRef};
                values.push(match row.get_ref(column)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Integer(n),
                    ValueRef::Real(x) => Value::Real(x),
                    // Text that is not UTF-8 is an error to report, not a panic.
                    ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
                        Ok(text) => Value::Text(text.to_owned()),
                        Err(_) => {
                            return Err(StoreError::Invalid(format!(
                                "column {column} of a stored row is not UTF-8 text"
                            )));
                        }
                    },
                    ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
                });
            }
            read.push(Row::Sqlite(values));
        }
        Ok(read)
    }

    async fn run(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<(), StoreError> {
        self.prepared(sql, args)?.raw_execute()?;
        Ok(())
    }

    /// One single-row statement, prepared once and run for each row. A statement that writes
    /// several rows could stop half-way, so SQLite copies every page it changes to a statement
    /// journal first, to undo just that statement (a fifth of a sync's CPU went there); a
    /// single-row one needs no such copy. Nothing is lost by it: a row that fails fails the
    /// page, whose whole transaction is rolled back, and a statement here costs no round trip.
    async fn insert_values(
        &mut self,
        insert: &str,
        tail: &str,
        width: usize,
        args: &[Arg<'_>],
    ) -> Result<(), StoreError> {
        if args.is_empty() {
            return Ok(());
        }
        let tuple = Placeholders::new(Backend::Sqlite).rows(width, 1);
        let mut statement = self
            .conn
            .prepare_cached(&format!("{insert} VALUES {tuple} {tail}"))?;
        for row in args.chunks(width.max(1)) {
            bind_all(&mut statement, row)?;
            statement.raw_execute()?;
        }
        Ok(())
    }

    /// One single-row statement per row, as [`SqliteTx::insert_values`]; a row was inserted
    /// when its statement changed a row.
    async fn insert_absent(
        &mut self,
        insert: &str,
        tail: &str,
        _key: (usize, &str),
        width: usize,
        args: &[Arg<'_>],
    ) -> Result<Vec<bool>, StoreError> {
        if args.is_empty() {
            return Ok(Vec::new());
        }
        let tuple = Placeholders::new(Backend::Sqlite).rows(width, 1);
        let mut statement = self
            .conn
            .prepare_cached(&format!("{insert} VALUES {tuple} {tail}"))?;
        let mut inserted = Vec::with_capacity(args.len() / width.max(1));
        for row in args.chunks(width.max(1)) {
            bind_all(&mut statement, row)?;
            inserted.push(statement.raw_execute()? > 0);
        }
        Ok(inserted)
    }
}

/// A write made as one of a shop's page writes (see [`Store::write_as_page`]).
pub(crate) trait PageWrite {
    type Output;

    async fn write(&self, tx: &mut impl PageSql) -> Result<Self::Output, StoreError>;
}

impl Store {
    /// Makes `write` in one transaction as one of the shop's page writes. On PostgreSQL (and
    /// in-memory SQLite) under the shop's page lock. On SQLite through the page connection while
    /// the pool's one writing connection is held, so that no other write of this process runs
    /// meanwhile (SQLite takes one writer at a time, and a transaction that read before
    /// another's commit could not write after it).
    pub(crate) async fn write_as_page<W: PageWrite>(
        &self,
        connection_id: &str,
        write: &W,
    ) -> Result<W::Output, StoreError> {
        let Some(page_connection) = &self.page_connection else {
            let mut tx = self.pool().begin().await?;
            crate::kept::lock_shop_pages(self, &mut tx, connection_id).await?;
            let written = write
                .write(&mut SqlxTx {
                    tx: &mut tx,
                    backend: self.backend(),
                })
                .await?;
            tx.commit().await?;
            return Ok(written);
        };
        let _writer_turn = self.pool().acquire().await?;
        let mut conn = page_connection.lock().await;
        let mut tx = SqliteTx::begin(&mut conn).await?;
        let written = write.write(&mut tx).await?;
        tx.commit()?;
        Ok(written)
    }

    /// Runs one write of its own (`sql` with `args` bound in order) where the sync's pages are
    /// written: on SQLite through the page connection, because a write on any other connection
    /// empties that connection's page cache, and the next page would read its indexes from the
    /// file again.
    pub(crate) async fn write_alone(&self, sql: &str, args: &[Arg<'_>]) -> Result<(), StoreError> {
        let Some(page_connection) = &self.page_connection else {
            bind_args(sqlx::query(sql), args)
                .execute(self.pool())
                .await?;
            return Ok(());
        };
        // As in `write_as_page`: no other write of this process runs meanwhile.
        let _writer_turn = self.pool().acquire().await?;
        let mut conn = page_connection.lock().await;
        let mut tx = SqliteTx::begin(&mut conn).await?;
        tx.run(sql, args).await?;
        tx.commit()
    }
}

/// Inserts `rows`: `insert` names the table and its columns, `tail` follows the values (an `ON
/// CONFLICT` clause, or nothing), and `values` gives each row's `N` values in the columns' order.
/// Each way of writing takes its cheapest: through sqlx (PostgreSQL, and in-memory SQLite, which
/// has no page connection) in multi-row statements of up to [`WRITE_CHUNK`] rows, through the
/// SQLite page connection a row a statement.
pub(crate) async fn insert_rows<'a, T, const N: usize>(
    tx: &mut impl PageSql,
    insert: &str,
    tail: &str,
    rows: &'a [T],
    values: impl Fn(&'a T) -> [Arg<'a>; N],
) -> Result<(), StoreError> {
    let mut args = Vec::with_capacity(N.saturating_mul(rows.len()));
    for row in rows {
        args.extend(values(row));
    }
    tx.insert_values(insert, tail, N, &args).await
}
