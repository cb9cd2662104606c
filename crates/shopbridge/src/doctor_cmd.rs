//! `shopbridge doctor`: checks a deployment the way `serve` would use it (the database and its
//! migrations, the master key against the sealed data, Redis, each platform's gateway with a
//! signed call, its OAuth server, the public URL) without changing anything, and prints what is
//! wrong with the fix. Exits non-zero on a problem.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use shopbridge_store::SchemaState;
use shopbridge_vop::union::GoodsList;
use shopbridge_vop::{ApiErrorKind, Mode, VopError};

use crate::config::VopCredentialArgs;
use crate::table::Table;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// `sqlite://...` or `postgres://...` (else the config file's `[hub] database`, else
    /// `sqlite://shopbridge.db`).
    #[arg(long, env = "SHOPBRIDGE_DATABASE_URL")]
    database: Option<String>,
    /// The vault's master key file (else the config file's, else `shopbridge.key`).
    #[arg(long, env = "SHOPBRIDGE_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
    /// Redis the hubs share quota windows through, if any.
    #[arg(long, env = "SHOPBRIDGE_REDIS_URL")]
    redis: Option<String>,
    /// The URL platforms and people reach the hub at.
    #[arg(long, env = "SHOPBRIDGE_PUBLIC_URL")]
    public_url: Option<String>,
    #[command(flatten)]
    credentials: VopCredentialArgs,
}

/// One check's outcome.
enum Outcome {
    Ok(String),
    /// Not configured, so not checked.
    Skipped(String),
    /// What is wrong, and what to do.
    Problem(String),
}

struct Report {
    table: Table,
    problems: usize,
}

impl Report {
    fn add(&mut self, check: &str, outcome: Outcome) {
        let (result, detail) = match outcome {
            Outcome::Ok(detail) => ("ok", detail),
            Outcome::Skipped(detail) => ("skipped", detail),
            Outcome::Problem(detail) => {
                self.problems += 1;
                ("PROBLEM", detail)
            }
        };
        self.table
            .row([check.to_owned(), result.to_owned(), detail]);
    }
}

/// How long one reachability check waits.
const REACH: Duration = Duration::from_secs(10);

pub async fn run(args: DoctorArgs) -> anyhow::Result<bool> {
    let mut report = Report {
        table: Table::new(["CHECK", "RESULT", "DETAIL"]),
        problems: 0,
    };
    let file = match args.credentials.config_path() {
        Some(path) => match crate::config::load_file(path) {
            Ok(file) => {
                report.add("config file", Outcome::Ok(path.display().to_string()));
                Some(file)
            }
            Err(err) => {
                report.add("config file", Outcome::Problem(format!("{err:#}")));
                None
            }
        },
        None => {
            report.add(
                "config file",
                Outcome::Skipped("none (--config or SHOPBRIDGE_CONFIG)".into()),
            );
            None
        }
    };
    let settings = match crate::settings::hub(
        args.credentials.config_path(),
        crate::settings::HubOverrides {
            database: args.database.clone(),
            master_key_file: args.master_key_file.clone(),
            public_url: args.public_url.clone(),
            redis: args.redis.clone(),
            ..Default::default()
        },
    ) {
        Ok(settings) => settings,
        Err(err) => {
            report.add("settings", Outcome::Problem(format!("{err:#}")));
            report.table.print_or("");
            return Ok(false);
        }
    };
    let (database, key_file) = (settings.database, settings.master_key_file);
    let (redis, public_url) = (settings.redis, settings.public_url);

    check_store(&mut report, &database, &key_file).await;
    match redis {
        Some(url) => report.add("redis", check_redis(&url).await),
        None => report.add(
            "redis",
            Outcome::Skipped("not configured (one hub process needs none)".into()),
        ),
    }
    check_vop(&mut report, &args.credentials).await;
    check_winit(&mut report, &args.credentials, file.is_some()).await;
    report.add("public url", check_public_url(public_url.as_deref()).await);

    let problems = report.problems;
    report.table.print_or("");
    if problems > 0 {
        println!("{problems} problem(s)");
    } else {
        println!("no problems");
    }
    Ok(problems == 0)
}

async fn check_store(report: &mut Report, database: &str, key_file: &std::path::Path) {
    let shown = shopbridge_store::redact(database);
    if let Some(path) = database
        .strip_prefix("sqlite://")
        .map(|rest| std::path::Path::new(rest.split('?').next().unwrap_or(rest)))
        .filter(|path| !path.exists())
    {
        report.add(
            "database",
            Outcome::Problem(format!(
                "no SQLite file at {}: a new hub's first `serve` creates it; an existing one is restored with `shopbridge restore`",
                path.display()
            )),
        );
        report.add("master key", Outcome::Skipped("no database".into()));
        return;
    }
    let state = match shopbridge_store::schema_state(database).await {
        Ok(state) => state,
        Err(err) => {
            report.add(
                "database",
                Outcome::Problem(format!(
                    "{shown}: {err} (is it running and reachable? `serve` creates a new SQLite file; --database or [hub] database names another)"
                )),
            );
            report.add(
                "master key",
                Outcome::Skipped("the database did not open".into()),
            );
            return;
        }
    };
    match state {
        SchemaState::Current(version) => report.add(
            "database",
            Outcome::Ok(format!("{shown}, migrations current ({version})")),
        ),
        SchemaState::Behind { applied, latest } => report.add(
            "database",
            Outcome::Ok(format!(
                "{shown}, migration {applied} of {latest}: the next `serve` applies the rest (back it up first)"
            )),
        ),
        SchemaState::Ahead { applied, latest } => report.add(
            "database",
            Outcome::Problem(format!(
                "{shown} has migration {applied}, this shopbridge knows up to {latest}: run the newer shopbridge that wrote it"
            )),
        ),
        SchemaState::Empty => report.add(
            "database",
            Outcome::Ok(format!("{shown}, empty: `serve` sets it up")),
        ),
    }
    if matches!(state, SchemaState::Ahead { .. }) {
        report.add(
            "master key",
            Outcome::Skipped("the database is newer".into()),
        );
        return;
    }
    if std::env::var("SHOPBRIDGE_MASTER_KEY").is_err() && !key_file.exists() {
        report.add(
            "master key",
            Outcome::Problem(format!(
                "{} does not exist: restore the key file that goes with this database, or (for a new hub) let `serve` create it",
                key_file.display()
            )),
        );
        return;
    }
    if matches!(state, SchemaState::Behind { .. } | SchemaState::Empty) {
        report.add(
            "master key",
            Outcome::Skipped("checked once the migrations are applied".into()),
        );
        return;
    }
    // The schema is current: opening changes nothing, and checks the key against every sealed
    // secret.
    let opened = match crate::sync_cmd::load_vault(key_file) {
        Ok(vault) => shopbridge_store::Store::open(database, vault)
            .await
            .map_err(anyhow::Error::from),
        Err(err) => Err(err),
    };
    match opened {
        Ok(store) => {
            let tenants = store.tenants().await.map(|t| t.len()).unwrap_or(0);
            report.add(
                "master key",
                Outcome::Ok(format!(
                    "key {} opens every sealed secret ({tenants} tenants)",
                    store.vault().current_key_id()
                )),
            );
        }
        Err(err) => report.add("master key", Outcome::Problem(format!("{err:#}"))),
    }
}

async fn check_redis(url: &str) -> Outcome {
    let ping = async {
        let client = redis::Client::open(url)?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
    };
    match tokio::time::timeout(REACH, ping).await {
        Ok(Ok(_)) => Outcome::Ok(format!("{} answers PING", shopbridge_store::redact(url))),
        Ok(Err(err)) => Outcome::Problem(format!(
            "{}: {err} (start Redis, or drop --redis for a single hub process)",
            shopbridge_store::redact(url)
        )),
        Err(_) => Outcome::Problem(format!(
            "{}: no answer in {} s",
            shopbridge_store::redact(url),
            REACH.as_secs()
        )),
    }
}

async fn check_vop(report: &mut Report, credentials: &VopCredentialArgs) {
    if !credentials.is_configured() {
        report.add(
            "vop gateway",
            Outcome::Skipped(
                "no VOP app configured (--config, SHOPBRIDGE_VOP_APP_KEY or --sandbox)".into(),
            ),
        );
        return;
    }
    let client = match credentials.client().await {
        Ok(client) => client,
        Err(err) => {
            report.add("vop gateway", Outcome::Problem(format!("{err:#}")));
            return;
        }
    };
    let gateway = client.config().gateway_url.to_string();
    // The cheapest signed call every app can make: one goods of the Union catalog. What counts
    // is how the gateway answers: a refusal of the signature or of the app is a problem, a
    // business answer (even "no permission for this method") shows key and secret work.
    let call = GoodsList::channel(Mode::Channel, 0, 1).page_size(1);
    let outcome = match tokio::time::timeout(REACH, client.execute(&call)).await {
        Err(_) => Outcome::Problem(format!("{gateway}: no answer in {} s", REACH.as_secs())),
        Ok(Ok(_)) => Outcome::Ok(format!("{gateway}: a signed call answered")),
        Ok(Err(err)) => match err.api_kind() {
            Some(ApiErrorKind::SignMismatch) => Outcome::Problem(format!(
                "{gateway}: the signature was refused: check the app secret (`shopbridge sign vop -v` shows what is signed)"
            )),
            Some(ApiErrorKind::AppKeyUnknown | ApiErrorKind::AppKeyBlocked) => {
                Outcome::Problem(format!("{gateway}: the app key is refused: {err}"))
            }
            Some(ApiErrorKind::IpNotAllowed) => Outcome::Problem(format!(
                "{gateway}: this machine's address is not on the app's allow list: {err}"
            )),
            Some(_) => Outcome::Ok(format!(
                "{gateway}: signature and app accepted (the call itself: {err})"
            )),
            None => match err {
                VopError::Timeout { .. } | VopError::Transport { .. } | VopError::Http { .. } => {
                    Outcome::Problem(format!("{gateway}: unreachable: {err}"))
                }
                other => Outcome::Problem(format!("{gateway}: {other}")),
            },
        },
    };
    report.add("vop gateway", outcome);
    let oauth = client.config().oauth_url.to_string();
    report.add("vop oauth", reachable(&oauth).await);
}

async fn check_winit(report: &mut Report, credentials: &VopCredentialArgs, file: bool) {
    let settings = match crate::winit_cmd::WinitSettings::from_config(
        credentials.sandbox_url().map(str::to_owned),
        file.then_some(()).and(credentials.config_path()),
        Default::default(),
    ) {
        Ok(settings) => settings,
        Err(err) => {
            report.add("winit", Outcome::Problem(format!("{err:#}")));
            return;
        }
    };
    if !settings.is_configured() {
        report.add("winit", Outcome::Skipped("no Winit app configured".into()));
        return;
    }
    let outcome = match settings.client().await {
        Err(err) => Outcome::Problem(format!("{err:#}")),
        Ok(client) => {
            let call = shopbridge_winit::actions::QueryWarehouse::default();
            match tokio::time::timeout(REACH, client.execute(&call)).await {
                Err(_) => Outcome::Problem(format!("no answer in {} s", REACH.as_secs())),
                Ok(Ok(warehouses)) => Outcome::Ok(format!(
                    "a signed queryWarehouse answered ({} warehouses)",
                    warehouses.len()
                )),
                Ok(Err(err)) => Outcome::Problem(format!(
                    "{err} (check the app key, token and client secret)"
                )),
            }
        }
    };
    report.add("winit", outcome);
}

async fn check_public_url(url: Option<&str>) -> Outcome {
    let Some(url) = url else {
        return Outcome::Problem(
            "not set: callbacks would name the listen address; set --public-url (or [hub] public_url) to the https URL platforms reach".into(),
        );
    };
    let health = format!("{}/healthz", url.trim_end_matches('/'));
    match reachable(&health).await {
        Outcome::Ok(_) => Outcome::Ok(format!(
            "{url} reaches a hub; callbacks: {0}/connect/vop/callback, {0}/connect/winit/callback",
            url.trim_end_matches('/')
        )),
        Outcome::Problem(detail) => Outcome::Problem(format!(
            "{detail} (is `serve` running behind it? register {0}/connect/vop/callback with Vipshop)",
            url.trim_end_matches('/')
        )),
        skipped => skipped,
    }
}

/// Whether a URL answers HTTP at all (any status).
async fn reachable(url: &str) -> Outcome {
    let http = match shopbridge_core::http::client_builder()
        .timeout(REACH)
        .build()
    {
        Ok(http) => http,
        Err(err) => return Outcome::Problem(err.to_string()),
    };
    match http.get(url).send().await {
        Ok(answer) => Outcome::Ok(format!("{url} answers (HTTP {})", answer.status().as_u16())),
        Err(err) => Outcome::Problem(format!("{url}: unreachable ({err})")),
    }
}
