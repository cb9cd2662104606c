//! `shopbridge serve`: the hub over HTTP with its scheduler running. With no configuration it
//! embeds the sandbox, creates a demo tenant and connects demo shops through the hub's own
//! connect flows; with a config (or `--sandbox`, or credentials) it talks to those platforms.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use secrecy::SecretString;
use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_core::ShopKind;
use shopbridge_hub::{AppConfig, Application, QuotaGate};
use shopbridge_sandbox::{RunningSandbox, Sandbox, SandboxConfig, browser};
use shopbridge_store::{MasterKey, NewConnection, Store, Vault};
use shopbridge_vop::VopClient;
use shopbridge_winit::WinitClient;

use crate::config::VopCredentialArgs;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the hub listens (port 0: any free port).
    #[arg(long, env = "SHOPBRIDGE_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// The URL people and platforms reach the hub at (callbacks are built from it).
    #[arg(long, env = "SHOPBRIDGE_PUBLIC_URL")]
    public_url: Option<String>,
    /// `sqlite://...` or `postgres://...`; in demo mode a fresh file in the temp directory.
    #[arg(long, env = "SHOPBRIDGE_DATABASE_URL")]
    database: Option<String>,
    /// The vault's master key file, created (mode 0600) on first use (default: the config
    /// file's `[hub] master_key_file`, else `shopbridge.key`).
    #[arg(long, env = "SHOPBRIDGE_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
    #[command(flatten)]
    credentials: VopCredentialArgs,
    /// Share quota windows with other hub processes through this Redis.
    #[arg(long, env = "SHOPBRIDGE_REDIS_URL")]
    redis: Option<String>,
    /// Quotas other than the documented ones: METHOD=LIMIT/SECONDSs (repeatable).
    #[arg(long = "quota", value_name = "METHOD=LIMIT/SECONDSs")]
    quotas: Vec<String>,
    /// How often the scheduler looks for due work, in seconds.
    #[arg(long, default_value_t = 15)]
    poll_secs: u64,
    /// Let webhooks target loopback, private, link-local and unique-local addresses. Off by
    /// default: a webhook would otherwise let a tenant probe the hub's own network.
    #[arg(long, env = "SHOPBRIDGE_ALLOW_PRIVATE_WEBHOOK_TARGETS")]
    allow_private_webhook_targets: bool,
    /// Behind a reverse proxy: count failed sign-ins by the client address the proxy appends to
    /// `X-Forwarded-For`, not by the proxy's own. Only where the proxy sets that header itself.
    #[arg(long, env = "SHOPBRIDGE_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
    /// A file holding a bearer token that `GET /metrics` then asks for (`Authorization: Bearer
    /// TOKEN`); without it the metrics are open to whoever reaches the hub. Also
    /// `SHOPBRIDGE_METRICS_TOKEN` with the token itself.
    #[arg(long, env = "SHOPBRIDGE_METRICS_TOKEN_FILE")]
    metrics_token_file: Option<PathBuf>,
    /// Size of the embedded sandbox's Union catalog (demo mode).
    #[arg(long, default_value_t = 2_000)]
    union_goods: usize,
    /// Direct-ship orders a day the embedded sandbox's JIT vendor had over the last 30 days
    /// (demo mode; a large vendor for load).
    #[arg(long, default_value_t = 0)]
    jit_orders_per_day: usize,
}

/// The demo tenant's app key.
pub const DEMO_APP_KEY: &str = "demo-erp";

fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

struct Platform {
    vop: VopClient,
    winit: Option<WinitClient>,
    clock: Arc<dyn Clock>,
    sandbox: Option<RunningSandbox>,
}

async fn platforms(args: &ServeArgs) -> anyhow::Result<Platform> {
    if args.credentials.is_configured() {
        let vop = args.credentials.client().await?;
        let clock: Arc<dyn Clock> = match args.credentials.sandbox_url() {
            Some(base) => Arc::new(crate::config::sandbox_clock(base).await?),
            None => Arc::new(shopbridge_core::SystemClock),
        };
        let winit = crate::winit_cmd::WinitSettings::from_config(
            args.credentials.sandbox_url().map(str::to_owned),
            args.credentials.config_path(),
            Default::default(),
        )?;
        let winit = match winit.is_configured() {
            true => Some(winit.client().await?),
            false => None,
        };
        return Ok(Platform {
            vop,
            winit,
            clock,
            sandbox: None,
        });
    }
    let running = Sandbox::new(SandboxConfig {
        union_goods: args.union_goods,
        jit_orders_per_day: args.jit_orders_per_day.min(100_000),
        ..SandboxConfig::default()
    })
    .start(SocketAddr::from(([127, 0, 0, 1], 0)))
    .await
    .context("cannot start the embedded sandbox")?;
    let (vop, winit) = crate::config::embedded_clients(&running)?;
    Ok(Platform {
        vop,
        winit: Some(winit),
        clock: Arc::new(running.clock()),
        sandbox: Some(running),
    })
}

pub async fn run(mut args: ServeArgs) -> anyhow::Result<()> {
    // One resolution for every command: flags and SHOPBRIDGE_* variables, then the config
    // file's [hub] table (paths relative to the file), then the defaults.
    let config = args
        .credentials
        .config_path()
        .map(std::path::Path::to_path_buf);
    let settings = crate::settings::hub(
        config.as_deref(),
        crate::settings::HubOverrides {
            database: args.database.clone(),
            master_key_file: args.master_key_file.clone(),
            public_url: args.public_url.clone(),
            redis: args.redis.clone(),
            allow_private_webhook_targets: args.allow_private_webhook_targets,
            trust_forwarded_for: args.trust_forwarded_for,
            metrics_token_file: args.metrics_token_file.clone(),
        },
    )?;
    let metrics_token = metrics_token(settings.metrics_token_file.as_deref())?;
    // Without a database named anywhere, demo mode keeps its own temporary one.
    args.database = settings.database_named.then(|| settings.database.clone());
    args.public_url = settings.public_url;
    args.redis = settings.redis;
    args.allow_private_webhook_targets = settings.allow_private_webhook_targets;
    args.trust_forwarded_for = settings.trust_forwarded_for;
    let master_key_file = settings.master_key_file;
    let platform = platforms(&args).await?;
    let demo = platform.sandbox.is_some();
    let mut demo_database = None;
    let store = match (&args.database, demo) {
        (Some(url), _) => Store::open(url, crate::sync_cmd::load_vault(&master_key_file)?).await?,
        (None, true) => {
            // The embedded sandbox starts afresh each time: so does the demo's store.
            let path = std::env::temp_dir().join(format!("shopbridge-demo-{}.db", random_hex()));
            demo_database = Some(DemoDatabase(path.clone()));
            Store::open(
                &format!("sqlite://{}", path.display()),
                Vault::new(MasterKey::generate()),
            )
            .await?
        }
        (None, false) => {
            Store::open(
                &settings.database,
                crate::sync_cmd::load_vault(&master_key_file)?,
            )
            .await?
        }
    };
    let gate = crate::config::quota_gate(
        platform.clock.clone(),
        &args.quotas,
        args.redis.as_deref(),
        "shopbridge",
    )
    .await?;
    let demo_credentials = Arc::new(OnceLock::new());
    let hub = start_hub(HubParts {
        store: store.clone(),
        vop: platform.vop.clone(),
        winit: platform.winit.clone(),
        clock: platform.clock.clone(),
        gate,
        addr: args.addr,
        public_url: args.public_url.clone(),
        demo_credentials: demo.then(|| demo_credentials.clone()),
        poll: Duration::from_secs(args.poll_secs.max(1)),
        webhook_targets: shopbridge_hub::security::TargetPolicy {
            allow_private: args.allow_private_webhook_targets,
            own_origin: None,
        },
        trust_forwarded_for: args.trust_forwarded_for,
        metrics_token,
    })
    .await?;
    let public_url = hub.url.clone();
    println!("shopbridge hub at {public_url}");
    println!("  unified API (polyapi)  POST {public_url}/openapi/do");
    println!("  REST                   {public_url}/v1   (Authorization: Bearer APPKEY:APPSECRET)");
    println!("  health                 {public_url}/healthz");
    println!("  web console            {public_url}/console");
    println!("  API docs               {public_url}/swagger-ui/   ({public_url}/openapi.json)");
    if let Some(sandbox) = &platform.sandbox {
        let credentials = connect_demo_shops(&store, sandbox, &public_url).await?;
        println!("  embedded sandbox       {}", sandbox.base_url());
        println!("  demo credentials       {public_url}/demo/credentials");
        println!(
            "    appkey     {}",
            credentials["appkey"].as_str().unwrap_or_default()
        );
        println!(
            "    appsecret  {}",
            credentials["appsecret"].as_str().unwrap_or_default()
        );
        for shop in credentials["shops"].as_array().into_iter().flatten() {
            println!(
                "    shop       platid {}  token {}  {}",
                shop["platid"].as_str().unwrap_or_default(),
                shop["token"].as_str().unwrap_or_default(),
                shop["name"].as_str().unwrap_or_default()
            );
        }
        let _ = demo_credentials.set(credentials);
    }
    println!("ready");
    hub.server.await.context("server task")??;
    store.pool().close().await;
    drop(demo_database);
    Ok(())
}

/// Ctrl-C, or SIGTERM (what `systemctl stop` and `kill` send). If neither can be watched, it
/// is logged and never comes: a stop that cannot be asked for is not taken as one.
pub(crate) async fn shutdown_signal() {
    match Signals::register() {
        Ok(mut signals) => signals.recv().await,
        Err(err) => {
            tracing::warn!(error = %err, "cannot watch for Ctrl-C and SIGTERM");
            std::future::pending::<()>().await;
        }
    }
}

/// Ctrl-C and SIGTERM, watched from the moment they are registered: one that comes before
/// the first wait is kept for it instead of ending the process.
pub(crate) struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The next of either.
    pub(crate) async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// The demo's throwaway database, removed (with its WAL files) when `serve` ends, however it
/// ends short of being killed.
struct DemoDatabase(std::path::PathBuf);

impl Drop for DemoDatabase {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.0.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(std::path::PathBuf::from(name));
        }
    }
}

/// What a hub is made of.
pub struct HubParts {
    pub store: Store,
    pub vop: VopClient,
    pub winit: Option<WinitClient>,
    pub clock: Arc<dyn Clock>,
    pub gate: QuotaGate,
    pub addr: SocketAddr,
    pub public_url: Option<String>,
    pub demo_credentials: Option<Arc<OnceLock<Value>>>,
    /// How often the scheduler looks for due work.
    pub poll: Duration,
    /// Where webhooks may be delivered.
    pub webhook_targets: shopbridge_hub::security::TargetPolicy,
    /// Count failed sign-ins by the address in `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// The bearer token `GET /metrics` asks for, if any.
    pub metrics_token: Option<SecretString>,
}

/// The token `/metrics` asks for: `SHOPBRIDGE_METRICS_TOKEN` (or the file its `_FILE` names),
/// else the first line of the configured file.
fn metrics_token(file: Option<&std::path::Path>) -> anyhow::Result<Option<SecretString>> {
    let token = match (
        crate::config::secret_from_env("SHOPBRIDGE_METRICS_TOKEN")?,
        file,
    ) {
        (Some(token), _) => token,
        (None, Some(path)) => crate::config::read_secret_file(path)?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        (None, None) => return Ok(None),
    };
    let token = token.trim();
    anyhow::ensure!(
        token.len() >= 16,
        "the metrics token must be at least 16 characters (a random one: `openssl rand -hex 32`)"
    );
    Ok(Some(SecretString::from(token.to_owned())))
}

/// A hub serving HTTP, its scheduler and webhook dispatcher running in the background.
pub struct RunningHub {
    pub url: String,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Binds the address and starts the HTTP application, the scheduler and the webhook dispatcher.
pub async fn start_hub(parts: HubParts) -> anyhow::Result<RunningHub> {
    let listener = tokio::net::TcpListener::bind(parts.addr)
        .await
        .with_context(|| format!("cannot listen on {}", parts.addr))?;
    let local = listener.local_addr()?;
    let url = parts
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"))
        .trim_end_matches('/')
        .to_owned();
    // Streams a crashed predecessor on this machine left leased resume now, not when their
    // leases lapse.
    let this = crate::run_owner::ThisProcess::new();
    crate::run_owner::hand_back_leases_of_exited(&this, &parts.store, parts.clock.now_ms()).await;
    let application = Application::build(AppConfig {
        store: parts.store,
        vop: parts.vop,
        winit: parts.winit,
        clock: parts.clock,
        gate: Some(parts.gate),
        public_url: url.clone(),
        owner: this.owner("serve"),
        webhook_targets: parts.webhook_targets,
        trust_forwarded_for: parts.trust_forwarded_for,
        demo_credentials: parts.demo_credentials,
        metrics_token: parts.metrics_token,
    })?;
    let poll = parts.poll;
    let server =
        tokio::spawn(async move { application.serve(listener, poll, shutdown_signal()).await });
    Ok(RunningHub { url, server })
}

/// The demo tenant and its shops, each connected the way a real one would be: the JIT shop
/// through the hub's OAuth flow and the sandbox's login page, the Winit warehouse with its
/// legacy credentials, the Union account in channel mode.
pub async fn connect_demo_shops(
    store: &Store,
    sandbox: &RunningSandbox,
    hub: &str,
) -> anyhow::Result<Value> {
    let creds = sandbox.credentials();
    let now = sandbox.clock().now_ms();
    let http = shopbridge_vop::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    // The hub's callbacks, registered with both platforms' demo apps.
    let mut uris = creds.vop.redirect_uris.clone();
    uris.push(format!("{hub}/connect/vop/callback"));
    http.post(format!(
        "{}/_sandbox/vop/apps/{}",
        sandbox.base_url(),
        creds.vop.app_key
    ))
    .json(&json!({ "redirect_uris": uris }))
    .send()
    .await?
    .error_for_status()?;
    sandbox
        .state()
        .winit()
        .redirect_uris
        .push(format!("{hub}/connect/winit/callback"));

    let secret = random_hex();
    let tenant = store
        .create_tenant(
            "demo ERP",
            DEMO_APP_KEY,
            &SecretString::from(secret.clone()),
            now,
        )
        .await?;

    let jit_name = "唯品会JIT 演示店";
    let start = http
        .get(format!("{hub}/connect/vop"))
        .bearer_auth(format!("{DEMO_APP_KEY}:{secret}"))
        .query(&[
            ("name", jit_name),
            ("mode", "jit"),
            ("vendor_id", &creds.vop.vendor_id.to_string()),
        ])
        .send()
        .await?;
    let authorize = start
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .context("the hub did not redirect to the platform")?
        .to_owned();
    let vendor = creds.vop.user("vendor").context("no demo vendor user")?;
    let decision = browser::authorize(&http, &authorize, &vendor.username, &vendor.password, true)
        .await
        .context("the sandbox login page refused the demo vendor")?;
    let callback = decision.location.context("no redirect after consent")?;
    let landed = http.get(&callback).send().await?;
    if !landed.status().is_success() {
        bail!("the hub's callback answered {}", landed.status());
    }

    let w = &creds.winit;
    http.post(format!("{hub}/connect/winit/credentials"))
        .bearer_auth(format!("{DEMO_APP_KEY}:{secret}"))
        .json(&json!({"name": "万邑通海外仓", "app_key": w.app_key, "token": w.token}))
        .send()
        .await?
        .error_for_status()?;
    store
        .create_connection(
            &NewConnection {
                tenant_id: &tenant,
                kind: ShopKind::VopUnionChannel,
                name: "唯品会联盟推广",
                credentials: &SecretString::from("{}"),
                access_expires_ms: None,
                refresh_expires_ms: None,
            },
            now,
        )
        .await?;

    let mut shops = Vec::new();
    for connection in store.connection_summaries().await? {
        if connection.tenant_id != tenant {
            continue;
        }
        let token = store.issue_shop_token(&tenant, &connection.id, now).await?;
        shops.push(json!({
            "name": connection.name,
            "platform": connection.kind.platform().as_str(),
            "mode": connection.kind.mode(),
            "platid": shopbridge_hub::platforms::platid_of(connection.kind),
            "token": token,
            "connection_id": connection.id,
        }));
    }
    Ok(json!({
        "appkey": DEMO_APP_KEY,
        "appsecret": secret,
        "shops": shops,
        "sandbox": sandbox.base_url(),
    }))
}

/// An ERP's side of the unified endpoint: signed form posts to `/openapi/do`.
#[derive(Debug, Clone)]
pub struct PolyCaller {
    pub http: reqwest::Client,
    pub endpoint: String,
    pub appkey: String,
    pub secret: String,
    /// The clock the `timestamp` is read from (the hub's, when it runs on a simulated one).
    pub clock: Arc<dyn Clock>,
}

impl PolyCaller {
    pub fn new(hub: &str, appkey: &str, secret: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: shopbridge_vop::http_client_builder().build()?,
            endpoint: format!("{hub}/openapi/do"),
            appkey: appkey.to_owned(),
            secret: secret.to_owned(),
            clock: Arc::new(shopbridge_core::SystemClock),
        })
    }

    /// Calls `method` for the shop `token`; the envelope as answered.
    pub async fn call(
        &self,
        token: &str,
        platid: &str,
        method: &str,
        biz: &Value,
    ) -> anyhow::Result<Value> {
        let timestamp = shopbridge_vop::time::format_datetime_ms(self.clock.now_ms());
        let mut params = vec![
            ("method", method.to_owned()),
            ("appkey", self.appkey.clone()),
            ("token", token.to_owned()),
            ("platid", platid.to_owned()),
            ("version", "1.1".to_owned()),
            ("contenttype", "json".to_owned()),
            ("timestamp", timestamp),
            ("bizcontent", biz.to_string()),
        ];
        let sign = shopbridge_hub::polyapi::sign::sign(
            &self.secret,
            params.iter().map(|(name, value)| (*name, value.as_str())),
        );
        params.push(("sign", sign));
        Ok(self
            .http
            .post(&self.endpoint)
            .form(&params)
            .send()
            .await?
            .json()
            .await?)
    }

    /// Like [`call`](Self::call), failing unless the answer is a success.
    pub async fn ok(
        &self,
        token: &str,
        platid: &str,
        method: &str,
        biz: &Value,
    ) -> anyhow::Result<Value> {
        let answer = self.call(token, platid, method, biz).await?;
        anyhow::ensure!(
            answer["code"] == "10000",
            "{method}: {} {}",
            answer["subcode"].as_str().unwrap_or_default(),
            answer["submessage"].as_str().unwrap_or_default()
        );
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    /// The token file's first line, trimmed; a short token is refused rather than guessed.
    #[test]
    fn the_metrics_token_comes_from_its_file_and_is_long_enough() {
        if std::env::var_os("SHOPBRIDGE_METRICS_TOKEN").is_some()
            || std::env::var_os("SHOPBRIDGE_METRICS_TOKEN_FILE").is_some()
        {
            return;
        }
        let dir = std::env::temp_dir().join(format!("sb-metrics-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("metrics.token");
        std::fs::write(&file, "0123456789abcdef0123\nignored\n").expect("write");
        let token = super::metrics_token(Some(&file))
            .expect("read")
            .expect("a token");
        assert_eq!(token.expose_secret(), "0123456789abcdef0123");
        std::fs::write(&file, "short\n").expect("write");
        let err = super::metrics_token(Some(&file)).expect_err("too short");
        assert!(err.to_string().contains("at least 16"), "{err}");
        assert!(super::metrics_token(None).expect("none").is_none());
        std::fs::remove_dir_all(&dir).ok();
    }
}
