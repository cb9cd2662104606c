//! shopbridge's local store: tenants, connections with their encrypted credentials and states,
//! synced Union orders with their history, sync checkpoints and runs, and the audit log — on
//! SQLite (the default, a file in WAL mode) or PostgreSQL, chosen by the database URL.

pub mod admin;
mod by_status;
pub mod calls;
pub mod connect;
pub mod connection;
mod kept;
pub mod kept_check;
mod page_sql;
pub mod records;
pub mod replay;
pub mod schedule;
pub mod tokens;
pub mod union;
pub mod vault;
pub mod webhooks;

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

pub use admin::{Deleted, TenantSummary};
pub use calls::QuotaUse;
pub use connect::ConnectState;
pub use connection::{
    Connection, ConnectionLock, ConnectionState, ConnectionSummary, NewConnection,
};
pub use kept::UNION_REFUNDS_STREAM;
pub use kept_check::{SumsCheck, SumsTable};
pub use records::{
    ApiCall, BrowseFilter, Browsed, Capped, Cursor, FetchedRecords, PageRecords, PageTarget,
    RecordColumns, RecordFilter, Seek, StoredRecord, SyncRun, SyncedRecord, TimeField,
};
pub use replay::SignedRequest;
pub use schedule::{ClaimScope, Claimed, Schedule};
pub use tokens::ConsoleSession;
pub use union::{
    Checkpoint, RefundSum, SettledDay, SettledOrder, UnionOrderRecord, beijing_day, hour_of,
};
pub use vault::{MasterKey, Sealed, Vault};
pub use webhooks::{
    Attempt, AttemptOutcome, Delivery, DueDelivery, RecordEvents, Redelivery, Webhook,
};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The SQLite connection sync pages are written through.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("vault: {0}")]
    Vault(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the record's state (deleting a shop still active).
    #[error("{0}")]
    Conflict(String),
    /// A sync's pages came to be written after its lease on the stream had ended: it lapsed and
    /// another claim (of this process or another) took the stream, or the stream was handed
    /// back at a stop.
    #[error(
        "this run no longer holds the lease on {stream} for shop {connection_id} (it lapsed and the stream was claimed again, or was handed back): its pages were not written, and the stream's next run reads them again"
    )]
    LeaseLost {
        connection_id: String,
        stream: String,
    },
}

impl StoreError {
    /// Every pooled connection stayed taken for as long as a query may wait, or another writer
    /// held a SQLite file as long: the store is overloaded, not broken, and the request may be
    /// retried.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::PoolTimedOut) => true,
            // SQLite's BUSY and LOCKED (and their extended codes): another writer holds the file.
            StoreError::Database(sqlx::Error::Database(db)) => db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => matches!(
                failure.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

/// How many of each pool's connections are in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PoolUse {
    pub writer_in_use: u32,
    pub writer_max: u32,
    pub reader_in_use: u32,
    pub reader_max: u32,
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// What a database's migrations say about it, without changing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    /// Every migration this version knows is applied.
    Current(i64),
    /// Older: `serve` (or any store command) applies the rest when it opens it.
    Behind { applied: i64, latest: i64 },
    /// Written by a newer version of the hub.
    Ahead { applied: i64, latest: i64 },
    /// No migrations applied: an empty database.
    Empty,
}

/// Reads the migrations a database has applied, opening it without creating or migrating it.
pub async fn schema_state(url: &str) -> Result<SchemaState, StoreError> {
    sqlx::any::install_default_drivers();
    let (migrator, url) = if url.starts_with("sqlite:") {
        // Read-only: a missing file is an error, never a new empty database.
        let url = match url.split_once('?') {
            Some((base, _)) => format!("{base}?mode=ro"),
            None => format!("{url}?mode=ro"),
        };
        (&SQLITE, url)
    } else {
        (&POSTGRES, url.to_owned())
    };
    let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(POOL_WAIT)
        .connect(&url)
        .await?;
    let applied: Option<i64> =
        match sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations WHERE success")
            .fetch_one(&pool)
            .await
        {
            Ok(row) => sqlx::Row::try_get(&row, "v")?,
            // No migrations table (SQLite's message, PostgreSQL's undefined_table): nothing
            // was ever applied. Any other failure (not a database, no permission) is one.
            Err(sqlx::Error::Database(err))
                if err.message().contains("no such table")
                    || err.code().as_deref() == Some("42P01") =>
            {
                None
            }
            Err(err) => return Err(err.into()),
        };
    pool.close().await;
    Ok(match applied {
        None => SchemaState::Empty,
        Some(v) if v == latest => SchemaState::Current(v),
        Some(v) if v < latest => SchemaState::Behind { applied: v, latest },
        Some(v) => SchemaState::Ahead { applied: v, latest },
    })
}

/// A store: a pool, its backend, and the vault that seals credentials.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// Read-only connections for API reads (the same pool on PostgreSQL).
    reader: AnyPool,
    backend: Backend,
    vault: std::sync::Arc<Vault>,
    /// Long reads (reports streaming a year of rows) take one of these first: they never hold
    /// every reading connection, so health checks and short reads always find one.
    long_reads: std::sync::Arc<tokio::sync::Semaphore>,
    /// SQLite: the connection every sync page is written through (see [`Store::save_page`]).
    page_connection: Option<std::sync::Arc<tokio::sync::Mutex<rusqlite::Connection>>>,
}

/// Connections reading a SQLite store alongside its writer.
const SQLITE_READERS: u32 = 4;

/// The page size of a new SQLite store, in bytes. A sync's commit writes every page it changed to
/// the log, and a checkpoint copies each into the file, a system call or two a page: with 16 KiB
/// pages an order's row and index entries take a quarter of the pages and calls they took with
/// SQLite's default of 4 KiB (`BENCHMARKS.md`).
const SQLITE_PAGE_SIZE: u32 = 16_384;

/// The longest a query waits for a pooled connection before failing as busy
/// ([`StoreError::is_busy`]): a request is better answered "retry" than left hanging, and the
/// background loops retry on their next pass.
const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Rows per multi-row statement (lookups' key lists, PostgreSQL's inserts): up to 17 parameters
/// a row stays far below SQLite's (32,766) and PostgreSQL's (65,535) limits on parameters per
/// statement.
pub(crate) const WRITE_CHUNK: usize = 500;

/// The last of each key's versions in a page, with how many versions of that key the page
/// brings: what a page's upsert writes.
pub(crate) fn newest_per_key<'a, T>(
    versions: &[&'a T],
    key: impl Fn(&T) -> &str,
) -> Vec<(&'a T, i64)> {
    let mut newest: foldhash::HashMap<&str, (&'a T, i64)> = Default::default();
    for &version in versions {
        let entry = newest.entry(key(version)).or_insert((version, 0));
        *entry = (version, entry.1 + 1);
    }
    newest.into_values().collect()
}

/// Placeholders for a statement built at run time, in binding order: `$N` on PostgreSQL, `?` on
/// SQLite, whose lookup of numbered parameters grows with the square of their count.
pub(crate) struct Placeholders {
    sqlite: bool,
    next: usize,
}

impl Placeholders {
    pub(crate) fn new(backend: Backend) -> Self {
        Self {
            sqlite: backend == Backend::Sqlite,
            next: 1,
        }
    }

    pub(crate) fn one(&mut self) -> String {
        let n = self.next;
        self.next += 1;
        if self.sqlite {
            "?".to_owned()
        } else {
            format!("${n}")
        }
    }

    /// `count` placeholders separated by commas.
    pub(crate) fn list(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| self.one())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `rows` parenthesized tuples of `width` placeholders.
    pub(crate) fn rows(&mut self, width: usize, rows: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(width)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates. `url` is `sqlite://path.db` or
    /// `postgres://...`.
    pub async fn open(url: &str, vault: Vault) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid(format!(
                "database URL: expected sqlite:// or postgres://, got {:?}",
                redact(url)
            )));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        if backend == Backend::Sqlite {
            create_private_sqlite_file(&url)?;
        }
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        // SQLite takes one writer at a time: one writing connection avoids lock upgrades that
        // fail instead of waiting. Reads that serve API requests go to a few more connections,
        // which WAL lets read alongside the writer.
        let sqlite_pool = |max: u32, read_only: bool| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(POOL_WAIT)
                // A connection to a local file does not drop while idle: no ping (a round trip
                // to the driver's thread) before each use.
                .test_before_acquire(false)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        // Per connection, so that a pool's replacement connection has them too.
                        // synchronous=NORMAL in WAL mode survives any crash of the process; a
                        // power cut may lose the last commits, each of which carries its own
                        // checkpoint, so the next sync fetches them again.
                        let mut pragmas = vec![
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA busy_timeout = 5000",
                            // Statement journals (statements that write several rows) and
                            // the sorting of key lists stay in memory instead of creating and
                            // deleting a file for each.
                            "PRAGMA temp_store = MEMORY",
                        ];
                        if read_only {
                            pragmas.push("PRAGMA query_only = ON");
                        }
                        for pragma in pragmas {
                            sqlx::Executor::execute(&mut *conn, pragma).await?;
                        }
                        Ok(())
                    })
                })
        };
        let (pool, reader, page_connection) = match backend {
            Backend::Sqlite => {
                let pool = sqlite_pool(1, false).connect_with(options.clone()).await?;
                // Before the first write of a new database only (an existing one keeps its
                // size): see `SQLITE_PAGE_SIZE`.
                sqlx::query(&format!("PRAGMA page_size = {SQLITE_PAGE_SIZE}"))
                    .execute(&pool)
                    .await?;
                sqlx::query("PRAGMA journal_mode = WAL")
                    .execute(&pool)
                    .await?;
                SQLITE.run(&pool).await?;
                let reader = sqlite_pool(SQLITE_READERS, true)
                    .connect_with(options)
                    .await?;
                let page_connection = open_page_connection(&url)?
                    .map(|conn| std::sync::Arc::new(tokio::sync::Mutex::new(conn)));
                (pool, reader, page_connection)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(POOL_WAIT)
                    // Every statement is planned for the tables as they are when it runs. A
                    // prepared statement's generic plan, which PostgreSQL settles on after five
                    // runs, is made for the tables as they were then: a writer's lookup planned
                    // while a new shop's tables were nearly empty scans them on every later page
                    // until an ANALYZE replaces the plan, so an initial sync into a fresh database
                    // slowed with every page it wrote (measured: 100,000 orders took 153 s
                    // where 10,000 took 2.4). Planning a statement costs a fraction of a
                    // millisecond.
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            sqlx::query("SET plan_cache_mode = force_custom_plan")
                                .execute(conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?;
                POSTGRES.run(&pool).await?;
                (pool.clone(), pool, None)
            }
        };
        let long_read_slots = reader
            .options()
            .get_max_connections()
            .saturating_sub(1)
            .max(1);
        let store = Self {
            pool,
            reader,
            backend,
            vault: std::sync::Arc::new(vault),
            long_reads: std::sync::Arc::new(tokio::sync::Semaphore::new(long_read_slots as usize)),
            page_connection,
        };
        store.check_vault().await?;
        Ok(store)
    }

    /// Fails, naming the key ids, when the store holds secrets sealed under a master key the
    /// vault does not have: a replaced or lost key file would otherwise let the hub start and
    /// then fail every call that opens a secret.
    pub async fn check_vault(&self) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "SELECT key_id FROM tenants UNION SELECT key_id FROM connections WHERE key_id IS NOT NULL
             UNION SELECT key_id FROM webhooks",
        )
        .fetch_all(self.reader())
        .await?;
        let mut unknown = Vec::new();
        for row in &rows {
            let key_id: String = sqlx::Row::try_get(row, "key_id")?;
            if !self.vault.has_key(&key_id) {
                unknown.push(key_id);
            }
        }
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort();
        Err(StoreError::Vault(format!(
            "the store holds secrets sealed with master key {} but the key given has id {}: \
             restore the key file (or SHOPBRIDGE_MASTER_KEY) that goes with this database",
            unknown.join(", "),
            self.vault.current_key_id()
        )))
    }

    /// The same database with another vault (key rotation, tests).
    pub fn with_vault(&self, vault: Vault) -> Self {
        Self {
            pool: self.pool.clone(),
            reader: self.reader.clone(),
            backend: self.backend,
            vault: std::sync::Arc::new(vault),
            long_reads: self.long_reads.clone(),
            page_connection: self.page_connection.clone(),
        }
    }

    /// A place among the long reads: at most all reading connections but one at once. Waiting
    /// is bounded like a pool wait, and answers busy the same way.
    pub(crate) async fn long_read(&self) -> Result<tokio::sync::SemaphorePermit<'_>, StoreError> {
        match tokio::time::timeout(POOL_WAIT, self.long_reads.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(StoreError::Database(sqlx::Error::PoolTimedOut)),
        }
    }

    /// Where reads that are not part of a change go: on SQLite, connections that read alongside
    /// the single writer (and cannot write); on PostgreSQL, the one pool.
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// How busy the pools are (on PostgreSQL, writer and reader are the one pool).
    pub fn pool_use(&self) -> PoolUse {
        let in_use = |pool: &AnyPool| {
            pool.size()
                .saturating_sub(u32::try_from(pool.num_idle()).unwrap_or(u32::MAX))
        };
        PoolUse {
            writer_in_use: in_use(&self.pool),
            writer_max: self.pool.options().get_max_connections(),
            reader_in_use: in_use(&self.reader),
            reader_max: self.reader.options().get_max_connections(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// A tenant's latest audit entries, newest first: `(at_ms, connection_id, action, detail)`.
    pub async fn audit_entries(
        &self,
        tenant_id: &str,
        limit: i64,
    ) -> Result<Vec<(i64, Option<String>, String, String)>, StoreError> {
        let rows = sqlx::query("SELECT at_ms, connection_id, action, detail FROM audit_log WHERE tenant_id = $1 ORDER BY at_ms DESC, id DESC LIMIT $2")
            .bind(tenant_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                use sqlx::Row;
                Ok((
                    row.try_get("at_ms")?,
                    row.try_get("connection_id")?,
                    row.try_get("action")?,
                    row.try_get("detail")?,
                ))
            })
            .collect()
    }

    /// Records an action in the audit log.
    pub async fn audit(
        &self,
        at_ms: i64,
        tenant_id: Option<&str>,
        connection_id: Option<&str>,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO audit_log (at_ms, tenant_id, connection_id, action, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(at_ms)
            .bind(tenant_id)
            .bind(connection_id)
            .bind(action)
            .bind(detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Whether a SQLite URL names a database in memory (which sqlx renames to a `file:` URI of its
/// own): nothing to create on disk, and nothing a second connection would share.
fn in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// The SQLite connection sync pages are written through, with the pool's settings: prepared
/// statements run on the caller's thread, where sqlx's driver hands every statement and row to a
/// thread of its own and back (which cost more than the writes). `None` for an in-memory
/// database, which a second connection would not share.
fn open_page_connection(url: &str) -> Result<Option<rusqlite::Connection>, StoreError> {
    use sqlx::sqlite::SqliteConnectOptions;
    if in_memory(url) {
        return Ok(None);
    }
    let options = SqliteConnectOptions::from_str(url)?;
    let path = options.get_filename();
    if path.as_os_str().is_empty() || path.to_string_lossy().starts_with(':') {
        return Ok(None);
    }
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The same settings as the pool's connections (see `Store::open`), but no busy timeout:
    // SQLite would wait for another process's write lock on the async task's thread, so
    // `save_page` waits for it between attempts instead.
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 0;
         PRAGMA temp_store = MEMORY;",
    )?;
    // A page's lookups differ by their number of keys; most pages are full ones.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(Some(conn))
}

/// Creates a SQLite database file readable by its owner only (0600) before SQLite opens it: it
/// holds buyers' names, addresses and phones. SQLite gives its `-wal` and `-shm` files the
/// database file's permissions. An existing file keeps the mode it has.
fn create_private_sqlite_file(url: &str) -> Result<(), StoreError> {
    use sqlx::sqlite::SqliteConnectOptions;
    if in_memory(url) {
        return Ok(());
    }
    let options = SqliteConnectOptions::from_str(url)?;
    let path = options.get_filename();
    if path.as_os_str().is_empty() || path.to_string_lossy().starts_with(':') || path.exists() {
        return Ok(());
    }
    match create_private_file(path) {
        Err(StoreError::Invalid(_)) if path.exists() => Ok(()),
        other => other,
    }
}

/// Creates an empty file only its owner may read or write; fails if it exists.
pub(crate) fn create_private_file(path: &std::path::Path) -> Result<(), StoreError> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    open.open(path)
        .map(drop)
        .map_err(|err| StoreError::Invalid(format!("file {}: {err}", path.display())))
}

/// A database URL with its password replaced by `***`, for messages: in the user part and in
/// a `password=` query parameter.
pub fn redact(url: &str) -> String {
    let url = redact_user_password(url);
    match url.split_once('?') {
        Some((base, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                        format!("{name}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{base}?{}", query.join("&"))
        }
        None => url,
    }
}

fn redact_user_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A store on a new SQLite file in the temporary directory, named after `name`, for the crate's
/// own tests; the caller removes the file.
#[cfg(test)]
pub(crate) async fn scratch_sqlite(name: &str) -> (Store, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("sb-{name}-{}.db", uuid::Uuid::new_v4()));
    let store = Store::open(
        &format!("sqlite://{}", path.display()),
        Vault::new(MasterKey::from_bytes([7; 32])),
    )
    .await
    .expect("a scratch store");
    (store, path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://app:s3cret@db/x"),
            "postgres://app:***@db/x"
        );
        assert_eq!(super::redact("sqlite://a.db"), "sqlite://a.db");
        assert_eq!(
            super::redact("postgres://h/db?user=a&password=s3cret&sslmode=require"),
            "postgres://h/db?user=a&password=***&sslmode=require"
        );
    }

    /// Deleting a shop deletes from every table that holds a shop's rows: a table added later
    /// with a `connection_id` and forgotten in the list fails here.
    #[tokio::test]
    async fn shop_deletion_knows_every_table_of_a_shop() {
        let path = std::env::temp_dir().join(format!("sb-tables-{}.db", uuid::Uuid::new_v4()));
        let store = super::Store::open(
            &format!("sqlite://{}", path.display()),
            super::Vault::new(super::MasterKey::from_bytes([1; 32])),
        )
        .await
        .expect("store");
        let rows = sqlx::query(
            "SELECT m.name AS name FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND p.name = 'connection_id' ORDER BY m.name",
        )
        .fetch_all(store.pool())
        .await
        .expect("tables");
        let mut with_shop: Vec<String> = rows
            .iter()
            .map(|row| sqlx::Row::try_get(row, "name").expect("name"))
            .filter(|name: &String| name != "audit_log")
            .collect();
        with_shop.sort();
        let mut listed: Vec<String> = crate::admin::SHOP_TABLES
            .iter()
            .map(|t| (*t).to_owned())
            .collect();
        listed.sort();
        assert_eq!(with_shop, listed);
        let _ = std::fs::remove_file(&path);
    }

    /// A new store is made with 16 KiB pages; one made with SQLite's default 4 KiB keeps them
    /// and opens as before.
    #[tokio::test]
    async fn new_sqlite_stores_have_large_pages_and_old_ones_keep_theirs() {
        let page_size = |path: &std::path::Path| {
            let conn = rusqlite::Connection::open(path).expect("open");
            conn.query_row("PRAGMA page_size", [], |row| row.get::<_, i64>(0))
                .expect("page size")
        };
        let vault = || super::Vault::new(super::MasterKey::from_bytes([1; 32]));
        let new = std::env::temp_dir().join(format!("sb-pages-{}.db", uuid::Uuid::new_v4()));
        let store = super::Store::open(&format!("sqlite://{}", new.display()), vault())
            .await
            .expect("store");
        store.pool().close().await;
        assert_eq!(page_size(&new), i64::from(super::SQLITE_PAGE_SIZE));

        let old = std::env::temp_dir().join(format!("sb-pages-{}.db", uuid::Uuid::new_v4()));
        rusqlite::Connection::open(&old)
            .and_then(|conn| conn.execute_batch("PRAGMA page_size = 4096; CREATE TABLE t (x);"))
            .expect("a 4 KiB database");
        let store = super::Store::open(&format!("sqlite://{}", old.display()), vault())
            .await
            .expect("an existing database opens");
        store
            .create_tenant("t", "key", &secrecy::SecretString::from("s"), 0)
            .await
            .expect("written");
        store.pool().close().await;
        assert_eq!(page_size(&old), 4096);
        for path in [new, old] {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }

    #[tokio::test]
    async fn sqlite_readers_see_every_commit_and_cannot_write() {
        let path = std::env::temp_dir().join(format!("sb-readers-{}.db", uuid::Uuid::new_v4()));
        let store = super::Store::open(
            &format!("sqlite://{}", path.display()),
            super::Vault::new(super::MasterKey::from_bytes([1; 32])),
        )
        .await
        .expect("store");
        let secret = secrecy::SecretString::from("s");
        store
            .create_tenant("t", "key-1", &secret, 0)
            .await
            .expect("tenant");
        // Each read right after a commit, on any of the readers.
        for i in 0..super::SQLITE_READERS * 2 {
            let key = format!("key-{}", i + 2);
            store
                .create_tenant("t", &key, &secret, 0)
                .await
                .expect("tenant");
            assert!(
                store.tenant_by_app_key(&key).await.expect("read").is_some(),
                "{key} seen at once"
            );
        }
        let written = sqlx::query("DELETE FROM tenants")
            .execute(store.reader())
            .await;
        assert!(written.is_err(), "a reader cannot write");
        assert!(
            store
                .tenant_by_app_key("key-1")
                .await
                .expect("read")
                .is_some()
        );
        store.pool().close().await;
        store.reader().close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
