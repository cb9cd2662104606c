//! `shopbridge sync union`: pull a Union account's orders into the local store, with a progress
//! bar on a terminal. Safe to interrupt at any point: the next run resumes from the last page.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::SecretString;
use shopbridge_store::{MasterKey, NewConnection, Store, Vault};
use shopbridge_vop::Mode;

use crate::config::VopCredentialArgs;

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    stream: SyncStream,
}

impl SyncArgs {
    /// The scheduled sync keeps many shops' streams going at once; one stream's sync is a
    /// sequence of calls and writes.
    pub fn runs_tasks_in_parallel(&self) -> bool {
        matches!(self.stream, SyncStream::Scheduled { .. })
    }
}

#[derive(Debug, Subcommand)]
enum SyncStream {
    /// Union orders of the configured app (channel mode) or of the user whose token is given (--tool).
    Union {
        #[command(flatten)]
        credentials: VopCredentialArgs,
        /// The connection's name in the store.
        #[arg(long, default_value = "union")]
        connection: String,
        /// Act as a tool provider (工具商) for the user whose access token is configured; the
        /// default is channel mode (渠道商).
        #[arg(long)]
        tool: bool,
        /// How far back the first run reaches, in days.
        #[arg(long, default_value_t = 30)]
        initial_days: i64,
    },
    /// Every active connection's streams on their schedules (orders every 3 minutes...), with
    /// tokens refreshed ahead of expiry. Any number of these may share a PostgreSQL database:
    /// streams are leased, refreshes single-flight, and with --redis the quotas are shared.
    Scheduled {
        #[command(flatten)]
        credentials: VopCredentialArgs,
        /// Share quota windows with other hub processes through this Redis.
        #[arg(long, env = "SHOPBRIDGE_REDIS_URL")]
        redis: Option<String>,
        /// Prefix of the quota keys in Redis; hubs sharing quotas use the same one.
        #[arg(long, default_value = "shopbridge")]
        redis_prefix: String,
        /// Quotas other than the documented ones: METHOD=LIMIT/SECONDSs (repeatable).
        #[arg(long = "quota", value_name = "METHOD=LIMIT/SECONDSs")]
        quotas: Vec<String>,
        /// This process's name on the leases it holds (default: `hub:PID:START:BOOT:PIDNS@HOST`,
        /// unique to this process even among containers). A name given here must be unique
        /// too: a stopping process hands back every lease held under its name.
        #[arg(long)]
        owner: Option<String>,
        /// Exit once nothing is due instead of running forever.
        #[arg(long)]
        until_idle: bool,
        /// How often to look for due work, in seconds.
        #[arg(long, default_value_t = 15)]
        poll_secs: u64,
    },
}

/// The exit status of a `sync` that a signal stopped before it finished: `EX_TEMPFAIL`, "try
/// again", which is what to do (the next run goes on from where this one stopped).
pub const STOPPED_EXIT: u8 = 75;

/// A `sync` stopped by a signal before it finished; what it stored is said on its output.
#[derive(Debug)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped before the sync finished")
    }
}

impl std::error::Error for Stopped {}

/// A key file next to the main one (`.old` after a rotation, `.next` during one).
fn sibling(key_file: &std::path::Path, suffix: &str) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The vault: the master key from `SHOPBRIDGE_MASTER_KEY` (64 hex) or the key file, plus the
/// keys a rotation left beside it, so that secrets sealed under any of them still open.
pub fn load_vault(key_file: &std::path::Path) -> anyhow::Result<Vault> {
    let key = match std::env::var("SHOPBRIDGE_MASTER_KEY") {
        Ok(hex) => MasterKey::from_hex(&SecretString::from(hex))?,
        Err(_) => MasterKey::load_or_create(key_file)?,
    };
    let mut vault = Vault::new(key);
    for suffix in [".old", ".next"] {
        let path = sibling(key_file, suffix);
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            vault = vault.with_old_key(MasterKey::from_hex(&SecretString::from(text))?);
        }
    }
    Ok(vault)
}

pub async fn open_store(database: &str, key_file: &std::path::Path) -> anyhow::Result<Store> {
    Ok(Store::open(database, load_vault(key_file)?).await?)
}

/// Where the store is and the key file that opens its vault, as every store command takes them;
/// unset, they come from the config file's `[hub]` table, then the defaults.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// `sqlite://PATH` or `postgres://...` (default: the config file's `[hub] database`, else
    /// `sqlite://shopbridge.db`).
    #[arg(long, env = "SHOPBRIDGE_DATABASE_URL", global = true)]
    pub database: Option<String>,
    /// The vault's master key file, created (mode 0600) on first use (default: the config
    /// file's `[hub] master_key_file`, else `shopbridge.key`).
    #[arg(long, env = "SHOPBRIDGE_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,
    /// Create the SQLite file or the key file if missing. Without it a command asks at a
    /// terminal and refuses elsewhere: a new store in the wrong directory would hold data the
    /// hub never sees.
    #[arg(long, global = true)]
    pub create: bool,
}

/// Asks a person at a terminal; `false` when no one is there to answer.
fn confirm(question: &str) -> bool {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim(), "y" | "Y" | "yes")
}

impl StoreArgs {
    /// The database and key file, resolved through the config file (`config`) and defaults.
    pub fn resolve(&self, config: Option<&std::path::Path>) -> anyhow::Result<(String, PathBuf)> {
        let settings = crate::settings::hub(
            config,
            crate::settings::HubOverrides {
                database: self.database.clone(),
                master_key_file: self.master_key_file.clone(),
                ..Default::default()
            },
        )?;
        Ok((settings.database, settings.master_key_file))
    }

    /// Opens the store, saying on stderr which database and key file it uses and whether either
    /// was just created: a command run in the wrong directory must not go unnoticed.
    pub async fn open(&self, config: Option<&std::path::Path>) -> anyhow::Result<Store> {
        let (database, key_file) = self.resolve(config)?;
        let sqlite_file = database
            .strip_prefix("sqlite://")
            .map(|rest| PathBuf::from(rest.split('?').next().unwrap_or(rest)));
        let new_database = sqlite_file.as_ref().is_some_and(|path| !path.exists());
        let new_key = std::env::var("SHOPBRIDGE_MASTER_KEY").is_err() && !key_file.exists();
        if (new_database || new_key) && !self.create {
            let mut missing = Vec::new();
            if new_database {
                missing.push(format!(
                    "no database at {}",
                    shopbridge_store::redact(&database)
                ));
            }
            if new_key {
                missing.push(format!("no master key at {}", key_file.display()));
            }
            let missing = missing.join(" and ");
            if !confirm(&format!("{missing}: create them?")) {
                anyhow::bail!(
                    "{missing}: pass --create to make a new store, or --config / --database / --master-key-file (or SHOPBRIDGE_CONFIG) to use the hub's"
                );
            }
        }
        let store = open_store(&database, &key_file).await?;
        let key = if std::env::var("SHOPBRIDGE_MASTER_KEY").is_ok() {
            "SHOPBRIDGE_MASTER_KEY".to_owned()
        } else {
            key_file.display().to_string()
        };
        eprintln!(
            "store {}{} · master key {key}{} (id {})",
            shopbridge_store::redact(&database),
            if new_database { " (new)" } else { "" },
            if new_key { " (new)" } else { "" },
            store.vault().current_key_id()
        );
        Ok(store)
    }
}

/// `shopbridge keys rotate`: a new master key; every secret re-sealed with it; the old key kept
/// as `<file>.old`. Safe to interrupt: the new key is written as `<file>.next` before the
/// database changes, and both are loaded until the rename completes.
pub async fn rotate(database: &str, key_file: &std::path::Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        std::env::var("SHOPBRIDGE_MASTER_KEY").is_err(),
        "the master key comes from SHOPBRIDGE_MASTER_KEY: rotate it where that variable is set, not here"
    );
    // A missing key is not made up here: there would be nothing it could open.
    anyhow::ensure!(
        key_file.exists(),
        "no master key at {}: rotation replaces an existing key (check --master-key-file)",
        key_file.display()
    );
    let old = MasterKey::load(key_file)?;
    let next_path = sibling(key_file, ".next");
    let next = MasterKey::load_or_create(&next_path)?;
    let vault = Vault::new(next).with_old_key(old);
    let store = Store::open(database, vault).await?;
    let count = store.rotate_keys().await?;
    std::fs::rename(key_file, sibling(key_file, ".old"))
        .with_context(|| format!("cannot keep the old key as {}.old", key_file.display()))?;
    std::fs::rename(&next_path, key_file)
        .with_context(|| format!("cannot move the new key to {}", key_file.display()))?;
    println!(
        "re-encrypted {count} secrets with key {}",
        store.vault().current_key_id()
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(flatten)]
    config: crate::settings::ConfigArgs,
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Generate a new master key and re-encrypt every stored secret with it.
    Rotate,
}

pub async fn keys(args: KeysArgs) -> anyhow::Result<()> {
    match args.command {
        KeysCommand::Rotate => {
            let (database, key_file) = args.store.resolve(args.config.config.as_deref())?;
            rotate(&database, &key_file).await
        }
    }
}

pub async fn run(args: SyncArgs) -> anyhow::Result<()> {
    let config = match &args.stream {
        SyncStream::Union { credentials, .. } | SyncStream::Scheduled { credentials, .. } => {
            credentials.config_path().map(std::path::Path::to_path_buf)
        }
    };
    let store = args.store.open(config.as_deref()).await?;
    match args.stream {
        SyncStream::Union {
            credentials,
            connection,
            tool,
            initial_days,
        } => {
            let client = credentials.client().await?;
            anyhow::ensure!(
                !tool || client.config().access_token.is_some(),
                "--tool needs the user's access token"
            );
            anyhow::ensure!(
                (1..=365).contains(&initial_days),
                "--initial-days: expected 1 to 365"
            );
            let now = client.clock().now_ms();
            let (mode, kind) = if tool {
                (Mode::ToolProvider, shopbridge_core::ShopKind::VopUnionTool)
            } else {
                (Mode::Channel, shopbridge_core::ShopKind::VopUnionChannel)
            };
            let tenant = match store.tenant_by_app_key("local").await? {
                Some((id, _)) => id,
                None => {
                    store
                        .create_tenant(
                            "local",
                            "local",
                            &SecretString::from(uuid::Uuid::new_v4().simple().to_string()),
                            now,
                        )
                        .await?
                }
            };
            let connection_id = match store.connection_id_by_name(&tenant, &connection).await? {
                Some(id) => id,
                None => {
                    store
                        .create_connection(
                            &NewConnection {
                                tenant_id: &tenant,
                                kind,
                                name: &connection,
                                credentials: &SecretString::from(format!(
                                    r#"{{"app_key":"{}"}}"#,
                                    client.config().app_key
                                )),
                                access_expires_ms: None,
                                refresh_expires_ms: None,
                            },
                            now,
                        )
                        .await?
                }
            };
            let clock = client.shared_clock();
            let mut sync = shopbridge_hub::sources::union_order_sync(
                store.clone(),
                client,
                mode,
                connection_id,
            );
            sync.initial_ms = initial_days * 86_400_000;
            let start = store
                .checkpoint(&sync.connection_id, "union_orders")
                .await?
                .map_or(now - sync.initial_ms, |c| c.cursor_ms);
            let bar = ProgressBar::new(100);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {percent:>3}% {msg}")
                    .context("progress template")?,
            );
            let progress = bar.clone();
            let span = (now - start).max(1);
            sync.on_page = Some(Arc::new(move |report, window_end| {
                progress.set_position((((window_end - start).clamp(0, span)) * 100 / span) as u64);
                progress.set_message(format!(
                    "{} pages, {} orders changed",
                    report.pages, report.changed
                ));
            }));
            // Under the stream's lease, as a serving hub's runs are: neither runs the stream
            // beside the other, and a hub never takes this run for one a stopped process left.
            let interval_ms = shopbridge_hub::platforms::vop::plans(kind)
                .into_iter()
                .find(|plan| plan.stream == sync.stream())
                .map(|plan| plan.interval_ms)
                .context("the Union order stream has no schedule plan")?;
            // Ctrl-C or SIGTERM ends the run after its page (at once while it waits for a
            // retry): what it read is stored, and the stream is handed back due, so the next
            // run goes on from its checkpoint. A second signal ends the process at once.
            let mut signals =
                crate::serve::Signals::register().context("cannot watch for Ctrl-C and SIGTERM")?;
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let signal = tokio::spawn(async move {
                signals.recv().await;
                stop.send_replace(true);
                signals.recv().await;
                eprintln!(
                    "stopped at once: the next sync of this machine takes the stream over and reads again what was not stored"
                );
                std::process::exit(i32::from(STOPPED_EXIT));
            });
            sync.stop = vec![stopped];
            let this = crate::run_owner::ThisProcess::new();
            let report = shopbridge_hub::scheduler::run_by_hand(
                &store,
                &this.owner("sync"),
                clock,
                interval_ms,
                sync,
                |holder| this.holder_exited(holder),
            )
            .await;
            signal.abort();
            bar.finish_and_clear();
            let report = report?;
            if report.interrupted {
                println!(
                    "union orders sync stopped: {} pages, {} fetched, {} changed are stored; the next run goes on from there",
                    report.pages, report.fetched, report.changed
                );
                return Err(Stopped.into());
            } else {
                println!(
                    "synced union orders: {} windows, {} pages, {} fetched, {} changed",
                    report.windows, report.pages, report.fetched, report.changed
                );
            }
        }
        SyncStream::Scheduled {
            credentials,
            redis,
            redis_prefix,
            quotas,
            owner,
            until_idle,
            poll_secs,
        } => {
            let vop = credentials.client().await?;
            let clock = vop.shared_clock();
            let winit = crate::winit_cmd::WinitSettings::from_config(
                credentials.sandbox_url().map(str::to_owned),
                credentials.config_path(),
                Default::default(),
            )?;
            let winit = match winit.is_configured() {
                true => Some(winit.client().await?),
                false => None,
            };
            let gate =
                crate::config::quota_gate(clock.clone(), &quotas, redis.as_deref(), &redis_prefix)
                    .await?;
            if let Some(owner) = &owner {
                anyhow::ensure!(
                    !crate::run_owner::is_generated_name(owner),
                    "--owner: {owner:?} reads as a name the hub makes (ROLE:...); choose another, unique to this process"
                );
            }
            let this = crate::run_owner::ThisProcess::new();
            let owner = owner.unwrap_or_else(|| this.owner("hub"));
            // As `serve` does: streams a crashed predecessor on this machine left leased resume
            // now.
            crate::run_owner::hand_back_leases_of_exited(&this, &store, clock.now_ms()).await;
            // The same wiring as `serve`; only its scheduler runs here (no callbacks are served).
            let mut scheduler = shopbridge_hub::Application::build(shopbridge_hub::AppConfig {
                store,
                vop,
                winit,
                clock,
                gate: Some(gate),
                public_url: String::new(),
                owner,
                webhook_targets: Default::default(),
                trust_forwarded_for: false,
                demo_credentials: None,
                metrics_token: None,
            })?
            .scheduler;
            // A spinner on a terminal (hidden otherwise) naming the run in progress.
            let spinner = ProgressBar::new_spinner();
            spinner.set_style(
                ProgressStyle::with_template("{spinner} {msg}").context("progress template")?,
            );
            let progress = spinner.clone();
            scheduler.on_page = Some(Arc::new(move |connection, stream, report, window_end| {
                progress.set_message(format!(
                    "{connection} {stream}: {} pages, {} changed, up to {}",
                    report.pages,
                    report.changed,
                    shopbridge_vop::time::format_datetime_ms(window_end.min(i64::MAX / 8))
                ));
                progress.tick();
            }));
            if !until_idle {
                // Ctrl-C or SIGTERM: runs end after the page they are on (at once while they
                // wait for a quota slot or a retry), as under `serve`.
                let stopper = scheduler.clone();
                tokio::spawn(async move {
                    crate::serve::shutdown_signal().await;
                    stopper.stop();
                    // A second signal, or a page still in hand after this, is not waited for:
                    // the next process to take the stream ends the run's record.
                    tokio::select! {
                        () = crate::serve::shutdown_signal() => {}
                        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
                    }
                    eprintln!("stopped without waiting for the page in progress");
                    std::process::exit(130);
                });
                scheduler
                    .run_forever(std::time::Duration::from_secs(poll_secs.max(1)))
                    .await;
                spinner.finish_and_clear();
                return Ok(());
            }
            let outcomes = scheduler.run_until_idle().await;
            spinner.finish_and_clear();
            let outcomes = outcomes?;
            let mut failed = 0;
            for outcome in &outcomes {
                match &outcome.result {
                    Ok(report) => println!(
                        "{} {}: {} pages, {} changed",
                        outcome.connection_id, outcome.stream, report.pages, report.changed
                    ),
                    Err(err) => {
                        failed += 1;
                        println!(
                            "{} {}: failed: {err}",
                            outcome.connection_id, outcome.stream
                        );
                    }
                }
            }
            println!("{} runs, {failed} failed", outcomes.len());
            anyhow::ensure!(failed == 0, "{failed} runs failed");
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct QuotaArgs {
    #[command(flatten)]
    config: crate::settings::ConfigArgs,
    #[command(flatten)]
    store: StoreArgs,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    command: QuotaCommand,
}

#[derive(Debug, Subcommand)]
enum QuotaCommand {
    /// Per method and caller over the last days: calls, success rate, peak and average use of
    /// the limit, and whether the Union FAQ's upgrade conditions (98% success, 50% use) are met.
    Report {
        /// How far back the report reaches, in days (1 to 90).
        #[arg(long, default_value_t = 7)]
        days: i64,
        /// Rate use against these quotas instead of the documented ones, as granted to the app:
        /// METHOD=LIMIT/SECONDSs (repeatable).
        #[arg(long = "quota", value_name = "METHOD=LIMIT/SECONDSs")]
        quotas: Vec<String>,
    },
}

pub async fn quota(args: QuotaArgs) -> anyhow::Result<()> {
    let store = args.store.open(args.config.config.as_deref()).await?;
    match args.command {
        QuotaCommand::Report { days, quotas } => {
            anyhow::ensure!((1..=90).contains(&days), "--days: expected 1 to 90");
            let table = crate::config::quota_table(&quotas)?;
            let now = shopbridge_core::Clock::now_ms(&shopbridge_core::SystemClock);
            // Calls are stamped with the platform's clock (a sandbox's may run ahead): include them.
            let until = i64::MAX / 2;
            let report = store
                .quota_report_against(now - days * 86_400_000, until, &table)
                .await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(());
            }
            println!(
                "{:<16} {:<14} {:>7} {:>8} {:>9} {:>9}  upgrade",
                "method", "caller", "calls", "success", "peak use", "avg use"
            );
            let percent =
                |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0));
            for row in report {
                let caller: String = row.caller.chars().take(14).collect();
                println!(
                    "{:<16} {:<14} {:>7} {:>7.1}% {:>9} {:>9}  {}",
                    row.method,
                    caller,
                    row.calls,
                    row.success_rate * 100.0,
                    percent(row.peak_use),
                    percent(row.average_use),
                    if row.upgrade_eligible {
                        "eligible"
                    } else {
                        "no"
                    }
                );
            }
        }
    }
    Ok(())
}
