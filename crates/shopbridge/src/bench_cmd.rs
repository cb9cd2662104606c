//! `shopbridge bench`: measurements with their baseline taken in the same run — sync ingest
//! against a minimal client and a script (`bench_ingest`), quota use over a long run, and the
//! unified API against a direct sandbox call. The platforms run as a separate `shopbridge sandbox`
//! process, so that peak memory is the hub's own.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use secrecy::SecretString;
use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_hub::QuotaGate;
use shopbridge_store::{MasterKey, NewConnection, Store, Vault};
use shopbridge_vop::union::GoodsList;
use shopbridge_vop::{Mode, VopClient, VopConfig};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

impl BenchArgs {
    /// The minimal client is measured as the one-shot `sync union` it stands beside runs: on one
    /// thread. The benchmarks themselves drive load from every core.
    pub fn runs_tasks_in_parallel(&self) -> bool {
        !matches!(self.command, BenchCommand::RawClient { .. })
    }
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Union orders from a separate sandbox into SQLite with quotas off: the real `sync union`
    /// process beside a minimal Rust client and a Python script reading the same orders; each
    /// one's orders/s, CPU per 1,000 orders and peak memory, and the sandbox's CPU meanwhile.
    Ingest {
        /// Orders to place and sync (spread over 30 days).
        #[arg(long, default_value_t = 100_000)]
        orders: u64,
        /// Runs of each process, taking turns; the figures are their medians.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// The Python baseline (default: the repository's bench/union_ingest.py).
        #[arg(long)]
        script: Option<std::path::PathBuf>,
        /// Record a CPU profile of the hub's sync into this file (`perf record`, call graphs);
        /// read it with `perf report -i FILE`. Its figures then include perf's own CPU.
        #[arg(long)]
        perf: Option<std::path::PathBuf>,
        /// After the measured rounds, run the hub's sync once more under valgrind's callgrind,
        /// writing its profile to this file (`callgrind_annotate FILE`), and report the
        /// instructions it executed per order: unlike CPU seconds, the same on a busy machine
        /// as on an idle one, so two builds compare to a fraction of a percent.
        #[arg(long, conflicts_with = "perf")]
        callgrind: Option<std::path::PathBuf>,
    },
    /// The minimal client `bench ingest` compares the hub with: fetch and insert raw rows.
    #[command(hide = true)]
    RawClient {
        /// The running sandbox's URL.
        #[arg(long)]
        sandbox: String,
        /// The SQLite file to fill.
        #[arg(long)]
        database: std::path::PathBuf,
        /// Store each order as the hub's order table does (its row, key and indexes, made by
        /// the store's migrations) instead of a number and its JSON.
        #[arg(long)]
        hub_table: bool,
    },
    /// A background sync held at orderList's documented quota (180 per 30 s): the share of the
    /// quota it uses and the throttles the gateway answered.
    Quota {
        /// How long the sync runs, in minutes (1 to 120).
        #[arg(long, default_value_t = 10)]
        minutes: u64,
    },
    /// GetOrder through `/openapi/do` of `shopbridge serve`, beside a direct signed sandbox call.
    Api {
        /// How long each side (the hub, then the direct call) is measured, in seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Requests in flight at once on each side (at least 1).
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Direct-ship orders a day for the demo JIT vendor over 30 days: how large the account
        /// GetOrder reads is (0: the demo's dozen).
        #[arg(long, default_value_t = 0)]
        jit_orders_per_day: usize,
    },
    /// Reads served from the store (GetOrder, REST lists and details, earnings, the console's
    /// pages) at several account sizes, from a `serve` process of its own: p50/p99, its memory,
    /// and `/healthz` while four year-long earnings reports run.
    Reads {
        /// Union orders (and as many JIT orders) per account, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
        sizes: Vec<u64>,
        /// Sequential requests per read.
        #[arg(long, default_value_t = 20)]
        repeats: usize,
        /// Build each account in a PostgreSQL database of its own on this server instead of a
        /// SQLite file: the URL of a database there whose user may create databases (such as
        /// `postgres://postgres@127.0.0.1:5432/postgres`); each account's database is dropped
        /// after it is measured.
        #[arg(long)]
        postgres: Option<String>,
    },
}

/// A child process killed when dropped.
pub(crate) struct Process {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `shopbridge ARGS...`: the URL is the rest of the line starting with `marker`, and the
/// process is ready at the line `ready` (or at once when `ready` is `None`).
pub(crate) fn spawn(args: &[&str], marker: &str, ready: Option<&str>) -> anyhow::Result<Process> {
    let exe = std::env::current_exe().context("where am I")?;
    let mut child = Command::new(exe)
        .args(args)
        .env_remove("SHOPBRIDGE_VOP_APP_KEY")
        .env_remove("SHOPBRIDGE_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start a child shopbridge")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut url = None;
    loop {
        let Some(line) = lines.next() else {
            bail!("the child exited before it was ready");
        };
        let line = line?;
        if let Some(rest) = line.strip_prefix(marker) {
            url = Some(rest.trim().to_owned());
        }
        if url.is_some() && ready.is_none_or(|ready| line == ready) {
            break;
        }
    }
    let url = url.context("no URL printed")?;
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(Process { child, url })
}

/// Peak resident memory of a process (Linux `VmHWM`), in MiB.
pub(crate) fn peak_rss_mib(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub(crate) async fn sandbox_client(
    base: &str,
) -> anyhow::Result<(VopClient, shopbridge_core::SimClock)> {
    let creds = crate::config::sandbox_credentials(base).await?;
    let clock = crate::config::sandbox_clock(base).await?;
    let config = VopConfig::new(
        creds.vop.app_key.clone(),
        SecretString::from(creds.vop.app_secret.clone()),
    )
    .with_gateway_url(&format!("{base}{}", creds.vop.gateway_path))?;
    Ok((
        VopClient::with_clock(config, Arc::new(clock.clone()))?,
        clock,
    ))
}

pub(crate) async fn admin(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<()> {
    http.post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

async fn temp_store() -> anyhow::Result<(Store, std::path::PathBuf)> {
    let path = std::env::temp_dir().join(format!(
        "shopbridge-bench-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let store = Store::open(
        &format!("sqlite://{}", path.display()),
        Vault::new(MasterKey::generate()),
    )
    .await?;
    Ok((store, path))
}

async fn union_connection(store: &Store, now: i64) -> anyhow::Result<String> {
    let tenant = store
        .create_tenant("bench", "bench", &SecretString::from("bench"), now)
        .await?;
    Ok(store
        .create_connection(
            &NewConnection {
                tenant_id: &tenant,
                kind: shopbridge_core::ShopKind::VopUnionChannel,
                name: "bench",
                credentials: &SecretString::from("{}"),
                access_expires_ms: None,
                refresh_expires_ms: None,
            },
            now,
        )
        .await?)
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Ingest {
            orders,
            rounds,
            script,
            perf,
            callgrind,
        } => {
            use crate::bench_ingest::Profiler;
            let script = script.unwrap_or_else(crate::bench_ingest::default_script);
            let profiler = match (&perf, &callgrind) {
                (Some(out), _) => Some(Profiler::Perf(out)),
                (None, Some(out)) => Some(Profiler::Callgrind(out)),
                (None, None) => None,
            };
            crate::bench_ingest::ingest(orders, rounds, &script, profiler).await
        }
        BenchCommand::RawClient {
            sandbox,
            database,
            hub_table,
        } => crate::bench_ingest::raw_client(&sandbox, &database, hub_table).await,
        BenchCommand::Quota { minutes } => quota(minutes).await,
        BenchCommand::Api {
            seconds,
            concurrency,
            jit_orders_per_day,
        } => {
            anyhow::ensure!(
                jit_orders_per_day <= 100_000,
                "--jit-orders-per-day: 0 to 100,000"
            );
            api(seconds, concurrency.max(1), jit_orders_per_day).await
        }
        BenchCommand::Reads {
            sizes,
            repeats,
            postgres,
        } => crate::bench_reads::reads(&sizes, repeats, postgres.as_deref()).await,
    }
}

async fn quota(minutes: u64) -> anyhow::Result<()> {
    anyhow::ensure!((1..=120).contains(&minutes), "--minutes: 1 to 120");
    let sandbox = spawn(
        &["sandbox", "--addr", "127.0.0.1:0", "--union-goods", "100"],
        "sandbox listening on ",
        None,
    )?;
    let (client, clock) = sandbox_client(&sandbox.url).await?;
    let (store, path) = temp_store().await?;
    let connection = union_connection(&store, clock.now_ms()).await?;
    let mut sync =
        shopbridge_hub::sources::union_order_sync(store, client, Mode::Channel, connection);
    // One-minute windows over a year: more calls than the run can make.
    sync.window_ms = 60_000;
    sync.lookback_ms = 0;
    sync.initial_ms = 365 * 86_400_000;
    sync.gate = Some(QuotaGate::new(Arc::new(clock)));
    println!(
        "syncing at orderList's documented quota (180 calls per 30 s) for {minutes} minutes..."
    );
    let _ = tokio::time::timeout(Duration::from_secs(minutes * 60), sync.run()).await;
    let http = shopbridge_vop::http_client_builder().build()?;
    let log: Value = http
        .get(format!(
            "{}/_sandbox/vop/calls?method=orderList",
            sandbox.url
        ))
        .send()
        .await?
        .json()
        .await?;
    let admitted: Vec<i64> = log["admitted_at_ms"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .collect();
    let (first, last) = (
        admitted.first().copied().unwrap_or(0),
        admitted.last().copied().unwrap_or(0),
    );
    let windows = (last - first) / 30_000;
    let counted = admitted
        .iter()
        .filter(|&&at| at < first + windows * 30_000)
        .count();
    println!(
        "{} calls, {} throttled, at most {} in any 30 s window (limit 180), {:.1}% of the quota used over {windows} whole windows",
        log["calls"],
        log["throttled"],
        log["max_in_any_window"],
        100.0 * counted as f64 / (windows.max(1) * 180) as f64
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}

/// Latencies in microseconds, sorted: (count per second, p50 ms, p99 ms).
fn summarize(mut micros: Vec<u64>, seconds: f64) -> (f64, f64, f64) {
    micros.sort_unstable();
    let at = |q: f64| {
        micros
            .get(((micros.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    (micros.len() as f64 / seconds, at(0.5), at(0.99))
}

/// Runs `call` from `concurrency` tasks for `seconds`; answers each call's latency.
async fn hammer<F, Fut>(seconds: u64, concurrency: usize, call: F) -> anyhow::Result<Vec<u64>>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let call = Arc::new(call);
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (call, stop) = (call.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                call().await?;
                latencies.push(started.elapsed().as_micros() as u64);
            }
            anyhow::Ok(latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

async fn api(seconds: u64, concurrency: usize, jit_orders_per_day: usize) -> anyhow::Result<()> {
    let per_day = jit_orders_per_day.to_string();
    let hub = spawn(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--union-goods",
            "200",
            "--jit-orders-per-day",
            &per_day,
        ],
        "shopbridge hub at ",
        Some("ready"),
    )?;
    let http = shopbridge_vop::http_client_builder().build()?;
    let demo: Value = http
        .get(format!("{}/demo/credentials", hub.url))
        .send()
        .await?
        .json()
        .await?;
    let appkey = demo["appkey"].as_str().context("appkey")?.to_owned();
    let secret = demo["appsecret"].as_str().context("appsecret")?.to_owned();
    let sandbox = demo["sandbox"].as_str().context("sandbox")?.to_owned();
    let shop = demo["shops"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["platid"] == "9002")
        .context("JIT shop")?;
    let token = shop["token"].as_str().context("token")?.to_owned();
    // Until every stream has run to the end (the first sync of a large vendor takes a while,
    // and the background scheduler may hold it).
    let started = Instant::now();
    loop {
        let ran: Value = http
            .post(format!("{}/v1/sync/run", hub.url))
            .bearer_auth(format!("{appkey}:{secret}"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if ran["complete"] == true {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "the first sync did not finish in 10 minutes"
        );
    }

    let caller = crate::serve::PolyCaller::new(&hub.url, &appkey, &secret)?;
    // Modified in the 30 days before the sync that just ran: a window the store covers.
    let synced_at = shopbridge_core::SystemClock.now_ms();
    let stored = {
        let (caller, token) = (caller.clone(), token.clone());
        move || {
            let (caller, token) = (caller.clone(), token.clone());
            async move {
                let biz = json!({
                    "OrderStatus": "JH_99",
                    "TimeType": "JH_01",
                    "StartTime": shopbridge_vop::time::format_datetime_ms(synced_at - 30 * 86_400_000),
                    "EndTime": shopbridge_vop::time::format_datetime_ms(synced_at - 60_000),
                    "PageSize": 20,
                });
                caller
                    .ok(&token, "9002", "Differ.JH.Business.GetOrder", &biz)
                    .await?;
                Ok(())
            }
        }
    };
    // Created in the last 30 days, up to now: each answer first catches the stream up to the
    // moment of the request (one run shared by the callers waiting for it).
    let fresh = move || {
        let (caller, token) = (caller.clone(), token.clone());
        async move {
            let now = shopbridge_core::SystemClock.now_ms();
            let biz = json!({
                "OrderStatus": "JH_99",
                "StartTime": shopbridge_vop::time::format_datetime_ms(now - 30 * 86_400_000),
                "EndTime": shopbridge_vop::time::format_datetime_ms(now),
                "PageSize": 20,
            });
            caller
                .ok(&token, "9002", "Differ.JH.Business.GetOrder", &biz)
                .await?;
            Ok(())
        }
    };
    // The baseline measures the gateway, not its quota.
    admin(
        &http,
        &sandbox,
        "/_sandbox/vop/quotas",
        json!({"overrides": ["goodsList=1000000/1s"]}),
    )
    .await?;
    let (client, _) = sandbox_client(&sandbox).await?;
    let direct = move || {
        let client = client.clone();
        async move {
            client
                .execute(&GoodsList::channel(Mode::Channel, 0, 1).page_size(20))
                .await?;
            Ok(())
        }
    };
    let stored_latencies = hammer(seconds, concurrency, stored).await?;
    let fresh_latencies = hammer(seconds, concurrency, fresh).await?;
    let direct_latencies = hammer(seconds, concurrency, direct).await?;
    for (name, latencies) in [
        (
            "GetOrder via /openapi/do, a window the store covers",
            stored_latencies,
        ),
        (
            "GetOrder via /openapi/do, a window up to now",
            fresh_latencies,
        ),
        ("direct sandbox goodsList", direct_latencies),
    ] {
        let (rps, p50, p99) = summarize(latencies, seconds as f64);
        println!(
            "{name}: {rps:.0} requests/s, p50 {p50:.2} ms, p99 {p99:.2} ms ({concurrency} concurrent, {seconds} s)"
        );
    }
    Ok(())
}
