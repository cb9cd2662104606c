//! What the command-line tests share: a `shopbridge serve` process, a fresh PostgreSQL
//! database per test, and the lease owner's names processes give themselves.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `shopbridge serve` process, killed when dropped.
pub struct Hub {
    child: Child,
    pub url: String,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `shopbridge serve` in demo mode on a free port, once it says it is ready.
pub fn serve() -> Hub {
    serve_with(&["serve", "--addr", "127.0.0.1:0", "--union-goods", "200"])
}

/// `shopbridge ARGS...`, a hub, once it says it is ready.
pub fn serve_with(args: &[&str]) -> Hub {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args(args)
        .env_remove("SHOPBRIDGE_VOP_APP_KEY")
        .env_remove("SHOPBRIDGE_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut url = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(rest) = line.strip_prefix("shopbridge hub at ") {
            url = Some(rest.trim().to_owned());
        }
        if line == "ready" {
            break;
        }
    }
    Hub {
        child,
        url: url.expect("the hub printed its URL"),
    }
}

/// The demo tenant's `(appkey, appsecret)` of a demo-mode hub.
pub async fn demo_credentials(http: &reqwest::Client, hub: &Hub) -> (String, String) {
    let demo: serde_json::Value = http
        .get(format!("{}/demo/credentials", hub.url))
        .send()
        .await
        .expect("credentials")
        .json()
        .await
        .expect("json");
    let field = |name: &str| demo[name].as_str().expect(name).to_owned();
    (field("appkey"), field("appsecret"))
}

/// A fresh PostgreSQL database, dropped by [`PgDatabase::drop_now`].
pub struct PgDatabase {
    pub url: String,
    admin: sqlx::AnyPool,
    name: String,
}

impl PgDatabase {
    pub async fn create(prefix: &str) -> Self {
        let admin_url = std::env::var("SHOPBRIDGE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&admin_url)
            .await
            .expect("PostgreSQL is running (see .ci/run)");
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create database");
        let url = format!("{}/{name}", admin_url.rsplit_once('/').expect("url").0);
        Self { url, admin, name }
    }

    pub async fn drop_now(self) {
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&self.admin)
            .await
            .expect("drop");
    }
}

/// A process's lease owner's name in `role`, as that process calls itself: its number, when it
/// started, the boot, its process-number and time namespaces, and the host.
pub fn process_name(role: &str, pid: u32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let started = stat
        .rsplit_once(')')
        .and_then(|(_, fields)| fields.split_whitespace().nth(19))
        .expect("start time")
        .to_owned();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").expect("boot id");
    let inode = |kind: &str| {
        let link = std::fs::read_link(format!("/proc/self/ns/{kind}")).ok()?;
        let inode = link
            .to_str()?
            .strip_prefix(kind)?
            .strip_prefix(":[")?
            .strip_suffix(']')?
            .to_owned();
        Some(inode)
    };
    let namespaces = format!(
        "{}.{}",
        inode("pid").expect("pid namespace"),
        inode("time").unwrap_or_else(|| "0".to_owned())
    );
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    format!(
        "{role}:{pid}:{started}:{}:{namespaces}@{}",
        boot.trim(),
        host.trim()
    )
}

/// The lease owner's name of a process of this machine that has exited, in `role`.
pub fn exited_process(role: &str) -> String {
    let mut exited = Command::new("sleep").arg("30").spawn().expect("a child");
    let name = process_name(role, exited.id());
    exited.kill().expect("kill");
    exited.wait().expect("reaped");
    name
}

/// `shopbridge serve` on a free port against a sandbox, a store and its key file, once it says
/// it is ready.
pub fn serve_store(sandbox_url: &str, database: &str, key_file: &str) -> Hub {
    serve_with(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--sandbox",
        sandbox_url,
        "--database",
        database,
        "--master-key-file",
        key_file,
    ])
}

/// A connection to a test's SQLite store (`sqlite://PATH`).
pub async fn sqlite(database: &str) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    sqlx::SqliteConnection::connect(database)
        .await
        .expect("the store")
}

/// Gives the Union order stream's lease to `holder` for as good as ever, due now, as a process
/// that stopped holding it would have left it.
pub async fn hold_union_orders(database: &str, holder: &str) {
    let held = sqlx::query(
        "UPDATE sync_schedule SET lease_owner = $1, lease_until_ms = $2, lease_token = 'left', next_run_ms = 0
         WHERE stream = 'union_orders'",
    )
    .bind(holder)
    .bind(i64::MAX / 2)
    .execute(&mut sqlite(database).await)
    .await
    .expect("the lease");
    assert_eq!(held.rows_affected(), 1, "the stream has a schedule");
}

/// Who holds the Union order stream's lease now.
pub async fn union_orders_holder(database: &str) -> Option<String> {
    sqlx::query_scalar("SELECT lease_owner FROM sync_schedule WHERE stream = 'union_orders'")
        .fetch_one(&mut sqlite(database).await)
        .await
        .expect("the schedule")
}
