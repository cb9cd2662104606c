//! `shopbridge bench ingest`: the real `sync union` process against a separately started sandbox,
//! beside two baselines that read the same orders in the same run: a minimal Rust client that
//! only fetches and inserts raw rows (the practical limit), and a plain Python script
//! (`bench/union_ingest.py`). Each runs as a process of its own, so that its CPU (getrusage) and
//! peak memory are its own; the sandbox's CPU during each run shows when it is the bound.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;
use serde_json::json;
use shopbridge_core::Clock;
use shopbridge_vop::Mode;
use shopbridge_vop::union::{GenByGoodsId, GoodsList};

use crate::bench_cmd::{admin, sandbox_client, spawn};

/// How far back every contestant reads: the 30 simulated days the orders were placed over,
/// and one more.
const DAYS: i64 = 31;
const DAY_MS: i64 = 86_400_000;

/// What one process did.
struct Measured {
    name: &'static str,
    stored: u64,
    wall_s: f64,
    cpu_s: f64,
    peak_rss_mib: f64,
    /// What it wrote through system calls (`wchar`): the database's log, its checkpoints and
    /// the requests; how a layout or a batch size amplifies each order's bytes.
    written_mib: f64,
    sandbox_cpu_s: f64,
}

/// User plus system CPU seconds a running process has used so far (`/proc/PID/stat`).
fn process_cpu_s(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("unreadable /proc stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |n: usize| -> anyhow::Result<f64> {
        Ok(fields.get(n).context("short /proc stat")?.parse::<f64>()?)
    };
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name and state.
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    Ok((ticks(11)? + ticks(12)?) / per_second.max(1.0))
}

/// User and system CPU seconds of every child reaped so far (getrusage of `RUSAGE_CHILDREN`).
fn children_cpu_s() -> anyhow::Result<(f64, f64)> {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)?;
    let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    Ok((seconds(usage.user_time()), seconds(usage.system_time())))
}

/// A process's peak resident memory so far (`VmHWM`), in MiB.
fn peak_rss_of(pid: u32) -> Option<f64> {
    crate::bench_cmd::peak_rss_mib(Some(pid))
}

/// The bytes a running process has written through system calls so far (`wchar` of
/// `/proc/PID/io`), in MiB.
fn written_by(pid: u32) -> Option<f64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let line = io.lines().find(|l| l.starts_with("wchar:"))?;
    let bytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(bytes / 1_048_576.0)
}

/// What [`run_measured`] saw of a process.
struct Run {
    wall_s: f64,
    cpu_s: f64,
    /// The part of `cpu_s` spent in the kernel: writes, syncs, page faults, the sockets.
    system_s: f64,
    peak_rss_mib: f64,
    written_mib: f64,
}

/// Runs `command` to its end: its wall time, its CPU seconds (the growth of the reaped
/// children's getrusage: contestants run one at a time), its peak RSS (its high-water mark,
/// read until it exits) and what it wrote through system calls.
fn run_measured(mut command: Command, log: &Path) -> anyhow::Result<Run> {
    let (user_before, system_before) = children_cpu_s()?;
    let started = Instant::now();
    // Its diagnostics go to a file: a pipe nobody reads while it runs could fill and stall it.
    let mut child = command
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()
        .context("cannot start the process")?;
    let pid = child.id();
    let (mut peak, mut written) = (0.0_f64, 0.0_f64);
    let status = loop {
        // Waited for without being reaped, so that its last figures (the final checkpoint's
        // writes included) can still be read from /proc after it exits.
        let exited = !matches!(
            waitid(
                Id::Pid(Pid::from_raw(i32::try_from(pid)?)),
                WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT,
            )?,
            WaitStatus::StillAlive
        );
        if let Some(rss) = peak_rss_of(pid) {
            peak = peak.max(rss);
        }
        if let Some(mib) = written_by(pid) {
            written = written.max(mib);
        }
        if exited {
            break child.wait()?;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        let stderr = std::fs::read_to_string(log).unwrap_or_default();
        bail!("exited with {status}: {}", stderr.trim());
    }
    let (user, system) = children_cpu_s()?;
    let system_s = system - system_before;
    Ok(Run {
        wall_s: wall,
        cpu_s: user - user_before + system_s,
        system_s,
        peak_rss_mib: peak,
        written_mib: written,
    })
}

/// Rows in `table` of a SQLite file.
async fn rows_in(path: &Path, table: &str) -> anyhow::Result<u64> {
    use sqlx::Connection;
    let mut db =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await?;
    let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut db)
        .await?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Places `orders` Union orders over 30 simulated days through the sandbox's click API.
async fn place_orders(base: &str, orders: u64) -> anyhow::Result<()> {
    let http = shopbridge_vop::http_client_builder().build()?;
    let (client, _) = sandbox_client(base).await?;
    let goods = client
        .execute(&GoodsList::channel(Mode::Channel, 0, 1).page_size(10))
        .await?
        .goods_info_list;
    let mut links = Vec::new();
    for g in &goods {
        let made = client
            .execute(&GenByGoodsId::new(Mode::Channel, [g.goods_id.clone()]).chan_tag("bench"))
            .await?;
        links.extend(made.url_info_list.into_iter().filter_map(|u| u.url));
    }
    anyhow::ensure!(!links.is_empty(), "the sandbox made no links");
    // Each day's clicks of 100 orders in one bulk admin call, the remainder in one more.
    let started = Instant::now();
    let per_day = orders.div_ceil(30);
    let mut placed = 0;
    for day in 0..30 {
        let today = per_day.min(orders - placed);
        let link = &links[day % links.len()];
        let (full, rest) = (today / 100, today % 100);
        if full > 0 {
            let body = json!({"link": link, "orders": 100, "clicks": full});
            admin(&http, base, "/_sandbox/vop/union/clicks", body).await?;
        }
        if rest > 0 {
            let body = json!({"link": link, "orders": rest});
            admin(&http, base, "/_sandbox/vop/union/clicks", body).await?;
        }
        placed += today;
        let body = json!({"advance_seconds": 86_400});
        admin(&http, base, "/_sandbox/clock", body).await?;
    }
    // The gateway's quotas lifted: what is measured is the work, not the waiting.
    let body = json!({"overrides": ["orderList=1000000/1s"]});
    admin(&http, base, "/_sandbox/vop/quotas", body).await?;
    println!(
        "placed {placed} orders over 30 simulated days in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A process `bench ingest` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contestant {
    Hub,
    Raw,
    RawHubTable,
    Script,
}

impl Contestant {
    fn name(self) -> &'static str {
        match self {
            Contestant::Hub => "hub: shopbridge sync union",
            Contestant::Raw => "minimal Rust client",
            Contestant::RawHubTable => "minimal Rust client, hub's order table",
            Contestant::Script => "Python script (urllib, sqlite3)",
        }
    }

    /// The table its orders land in.
    fn table(self) -> &'static str {
        match self {
            Contestant::Hub | Contestant::RawHubTable => "union_orders",
            Contestant::Raw | Contestant::Script => "orders",
        }
    }
}

/// A profiler the hub's sync runs under, and the file it writes.
#[derive(Debug, Clone, Copy)]
pub enum Profiler<'a> {
    /// `perf record` with call graphs: where the CPU time goes.
    Perf(&'a Path),
    /// valgrind's callgrind: the instructions the sync executes, which unlike CPU time do not
    /// change with what else the machine runs.
    Callgrind(&'a Path),
}

/// The command that runs `contestant` into `db` (a fresh file).
fn command_of(
    contestant: Contestant,
    exe: &Path,
    base: &str,
    db: &Path,
    script: &Path,
    profiler: Option<Profiler<'_>>,
) -> Command {
    match contestant {
        Contestant::Hub => {
            let mut hub = match profiler {
                // Under `perf record`, whose own CPU is then counted too.
                Some(Profiler::Perf(out)) => {
                    let mut perf = Command::new("perf");
                    perf.args(["record", "-e", "cpu-clock", "-F", "999"])
                        .args(["--call-graph", "dwarf,16384", "-o"])
                        .arg(out)
                        .arg("--")
                        .arg(exe);
                    perf
                }
                Some(Profiler::Callgrind(out)) => {
                    let mut valgrind = Command::new("valgrind");
                    valgrind
                        .args(["--tool=callgrind", "--quiet"])
                        .arg(format!("--callgrind-out-file={}", out.display()))
                        .arg(exe);
                    valgrind
                }
                None => Command::new(exe),
            };
            hub.args(["sync", "--create", "--database"])
                .arg(format!("sqlite://{}", db.display()))
                .arg("--master-key-file")
                .arg(db.with_extension("key"))
                .args(["union", "--sandbox", base, "--initial-days"])
                .arg(DAYS.to_string())
                .env_remove("SHOPBRIDGE_DATABASE_URL");
            hub
        }
        Contestant::Raw | Contestant::RawHubTable => {
            let mut raw = Command::new(exe);
            raw.args(["bench", "raw-client", "--sandbox", base, "--database"])
                .arg(db);
            if contestant == Contestant::RawHubTable {
                raw.arg("--hub-table");
            }
            raw
        }
        Contestant::Script => {
            let mut python = Command::new("python3");
            python.arg(script).arg(base).arg(db).arg(DAYS.to_string());
            python
        }
    }
}

/// The median of some figures, those not measured (NaN) left out.
fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|value| !value.is_nan());
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

pub async fn ingest(
    orders: u64,
    rounds: usize,
    script: &Path,
    profiler: Option<Profiler<'_>>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        (100..=5_000_000).contains(&orders),
        "--orders: 100 to 5,000,000"
    );
    anyhow::ensure!((1..=20).contains(&rounds), "--rounds: 1 to 20");
    let sandbox = spawn(
        &["sandbox", "--addr", "127.0.0.1:0", "--union-goods", "1000"],
        "sandbox listening on ",
        None,
    )?;
    let base = sandbox.url.clone();
    place_orders(&base, orders).await?;
    let dir = tempfile_dir()?;
    let exe = std::env::current_exe().context("where am I")?;
    let mut contestants = vec![Contestant::Hub, Contestant::Raw, Contestant::RawHubTable];
    if script.exists() {
        contestants.push(Contestant::Script);
    } else {
        println!(
            "(no {} here: the script baseline is skipped)",
            script.display()
        );
    }
    // Rounds take turns, so that a slow spell of the machine falls on every contestant alike;
    // each figure is the median of its rounds.
    let mut runs: Vec<Vec<Measured>> = contestants.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        for (n, &contestant) in contestants.iter().enumerate() {
            let db = dir.join(format!("{}-{round}.db", n));
            let profile = match profiler {
                Some(Profiler::Perf(out)) if round == 0 => Some(Profiler::Perf(out)),
                _ => None,
            };
            let command = command_of(contestant, &exe, &base, &db, script, profile);
            let table = contestant.table();
            let mut measured = measure(contestant.name(), command, sandbox.child.id(), || async {
                rows_in(&db, table).await
            })
            .await?;
            if profile.is_some() {
                // What was measured is `perf`, which writes its profile: not the sync's bytes.
                measured.written_mib = f64::NAN;
            }
            runs[n].push(measured);
        }
    }
    let results: Vec<Measured> = runs
        .into_iter()
        .map(|runs| {
            let name = runs.first().map(|r| r.name).unwrap_or_default();
            let stored = runs.iter().map(|r| r.stored).min().unwrap_or_default();
            let pick = |f: fn(&Measured) -> f64| median(runs.iter().map(f).collect());
            Measured {
                name,
                stored,
                wall_s: pick(|r| r.wall_s),
                cpu_s: pick(|r| r.cpu_s),
                peak_rss_mib: pick(|r| r.peak_rss_mib),
                written_mib: pick(|r| r.written_mib),
                sandbox_cpu_s: pick(|r| r.sandbox_cpu_s),
            }
        })
        .collect();

    println!("\nmedians of {rounds} rounds:\n");
    println!(
        "| process | orders stored | wall s | orders/s | CPU s per 1,000 orders | peak RSS MiB | MiB written | sandbox CPU s per 1,000 orders |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &results {
        let per_thousand = |seconds: f64| seconds * 1000.0 / (r.stored.max(1) as f64);
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.3} | {:.0} | {} | {:.3} |",
            r.name,
            r.stored,
            r.wall_s,
            r.stored as f64 / r.wall_s,
            per_thousand(r.cpu_s),
            r.peak_rss_mib,
            if r.written_mib.is_nan() {
                "n/a (under perf)".to_owned()
            } else {
                format!("{:.0}", r.written_mib)
            },
            per_thousand(r.sandbox_cpu_s),
        );
    }
    if let (Some(hub), Some(script)) = (
        results.first(),
        results.iter().find(|r| r.name == Contestant::Script.name()),
    ) {
        let per_order = |r: &Measured| r.cpu_s / r.stored.max(1) as f64;
        println!(
            "\nthe hub's CPU per stored order is {:.2} of the script's",
            per_order(hub) / per_order(script)
        );
    }
    if let Some(Profiler::Callgrind(out)) = profiler {
        // A run of its own, after the measured ones: valgrind slows it some fifty times.
        let db = dir.join("callgrind.db");
        let command = command_of(Contestant::Hub, &exe, &base, &db, script, profiler);
        let run = measure(
            "hub under callgrind",
            command,
            sandbox.child.id(),
            || async { rows_in(&db, Contestant::Hub.table()).await },
        )
        .await?;
        let instructions = callgrind_total(out)?;
        println!(
            "the hub's sync executed {:.0} instructions per stored order (callgrind, user space; {})",
            instructions as f64 / run.stored.max(1) as f64,
            out.display()
        );
    }
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The instructions a callgrind profile counted in all: its `totals:` line.
fn callgrind_total(profile: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(profile)
        .with_context(|| format!("reading the callgrind profile {}", profile.display()))?;
    text.lines()
        .find_map(|line| line.strip_prefix("totals:"))
        .and_then(|total| total.split_whitespace().next())
        .and_then(|total| total.parse().ok())
        .with_context(|| format!("{} has no totals line", profile.display()))
}

/// Runs one contestant, with the sandbox's CPU over the same span.
async fn measure<F, Fut>(
    name: &'static str,
    command: Command,
    sandbox_pid: u32,
    stored: F,
) -> anyhow::Result<Measured>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<u64>>,
{
    let sandbox_before = process_cpu_s(sandbox_pid)?;
    let log = std::env::temp_dir().join(format!(
        "shopbridge-ingest-{}.log",
        uuid::Uuid::new_v4().simple()
    ));
    let logged = log.clone();
    let measured = tokio::task::spawn_blocking(move || run_measured(command, &logged)).await?;
    let _ = std::fs::remove_file(&log);
    let Run {
        wall_s,
        cpu_s,
        system_s,
        peak_rss_mib,
        written_mib,
    } = measured.with_context(|| name.to_string())?;
    let sandbox_cpu_s = process_cpu_s(sandbox_pid)? - sandbox_before;
    let stored = stored().await?;
    println!(
        "{name}: {stored} orders in {wall_s:.1} s, {cpu_s:.2} CPU s ({system_s:.2} system), {written_mib:.0} MiB written"
    );
    Ok(Measured {
        name,
        stored,
        written_mib,
        wall_s,
        cpu_s,
        peak_rss_mib,
        sandbox_cpu_s,
    })
}

/// A fresh directory for the run's databases.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "shopbridge-ingest-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `bench raw-client`: pages through orderList by update time, day by day (the SDK's typed
/// request, each order kept as the platform's JSON), and inserts each order's number and JSON
/// with one prepared statement per page's transaction; no history, no checkpoint, no typed model:
/// the least a Rust client of this stack can spend on an order.
///
/// With `hub_table`, each order's head is read as the hub reads it and stored as the hub's order
/// table keeps it (the same row, the shop's key, the indexes the reads use, the same upsert), and
/// nothing else: no lookup of what is stored, no history, sums, checkpoint, call log or
/// announcements. That is what the hub's storage layout costs by itself.
pub async fn raw_client(sandbox: &str, database: &Path, hub_table: bool) -> anyhow::Result<()> {
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    struct Page {
        order_info_list: Vec<Box<serde_json::value::RawValue>>,
        total: i64,
    }
    #[derive(serde::Deserialize)]
    struct Numbered {
        #[serde(rename = "orderSn")]
        order_sn: String,
    }
    let (client, clock) = sandbox_client(sandbox).await?;
    if hub_table {
        // The store's own migrations make the table and its indexes.
        let key = shopbridge_store::MasterKey::load_or_create(&database.with_extension("key"))?;
        let store = shopbridge_store::Store::open(
            &format!("sqlite://{}", database.display()),
            shopbridge_store::Vault::new(key),
        )
        .await?;
        store.pool().close().await;
    }
    let mut db = rusqlite::Connection::open(database)?;
    db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")?;
    if hub_table {
        // The orders belong to no shop row of the store: only their key's width matters here.
        db.execute_batch("PRAGMA foreign_keys = OFF")?;
    } else {
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS orders (order_sn TEXT PRIMARY KEY, payload TEXT)",
        )?;
    }
    let shop = uuid::Uuid::new_v4().to_string();
    let now = clock.now_ms();
    let mut stored = 0u64;
    for day in (1..=DAYS).rev() {
        let (start, end) = (now - day * DAY_MS, now - (day - 1) * DAY_MS - 1);
        let mut page = 1i32;
        loop {
            let request =
                shopbridge_vop::union::OrderList::by_update_time(Mode::Channel, start, end)
                    .page_size(100)
                    .page(page);
            let total = if hub_table {
                // Each order's head and text in one pass, as the hub reads them.
                let result = client
                    .execute_list::<_, shopbridge_vop::union::OrderHead>(&request, "orderInfoList")
                    .await?;
                let tx = db.transaction()?;
                let mut upsert = tx.prepare_cached(
                    "INSERT INTO union_orders (connection_id, order_sn, status, sub_status, chan_tag, stat_param, commission,
                     order_time_ms, last_update_ms, settled, settled_ms, payload, versions, synced_ms)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
                     ON CONFLICT (connection_id, order_sn) DO UPDATE SET status = excluded.status,
                     sub_status = excluded.sub_status, chan_tag = excluded.chan_tag,
                     stat_param = excluded.stat_param, commission = excluded.commission,
                     order_time_ms = excluded.order_time_ms, last_update_ms = excluded.last_update_ms,
                     settled = excluded.settled, settled_ms = excluded.settled_ms, payload = excluded.payload,
                     versions = union_orders.versions + 1, synced_ms = excluded.synced_ms",
                )?;
                for (head, text) in result.items {
                    let row = shopbridge_hub::platforms::vop::streams::union_order_record_with(
                        head, text,
                    );
                    upsert.execute(rusqlite::params![
                        shop,
                        row.order_sn,
                        row.status,
                        row.sub_status,
                        row.chan_tag,
                        row.stat_param,
                        row.commission,
                        row.order_time_ms,
                        row.last_update_ms,
                        row.settled,
                        row.settled_ms,
                        row.payload,
                        now,
                    ])?;
                    stored += 1;
                }
                drop(upsert);
                tx.commit()?;
                result.total
            } else {
                let result: Page = client.execute_as(&request).await?;
                let tx = db.transaction()?;
                let mut insert = tx.prepare_cached(
                    "INSERT OR REPLACE INTO orders (order_sn, payload) VALUES (?, ?)",
                )?;
                for order in &result.order_info_list {
                    let numbered: Numbered = serde_json::from_str(order.get())?;
                    insert.execute((numbered.order_sn, order.get()))?;
                    stored += 1;
                }
                drop(insert);
                tx.commit()?;
                result.total
            };
            if i64::from(page) * 100 >= total {
                break;
            }
            page += 1;
        }
    }
    println!("{stored}");
    Ok(())
}

/// The default place of the script baseline: the repository's `bench/` directory.
pub fn default_script() -> PathBuf {
    let from_repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/union_ingest.py");
    if from_repo.exists() {
        from_repo
    } else {
        PathBuf::from("bench/union_ingest.py")
    }
}
