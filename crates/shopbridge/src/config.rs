//! Where the CLI's configuration comes from: VOP credentials (flags and environment, a TOML
//! file, or a sandbox) and quotas (overrides, shared windows).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use secrecy::SecretString;
use serde::Deserialize;
use shopbridge_core::{Clock, SimClock, SystemClock};
use shopbridge_sandbox::Credentials;
use shopbridge_vop::{Format, VopClient, VopConfig};

/// Credentials and endpoints; each flag also reads its environment variable, then the
/// `[vop]` table of `--config`, then (with `--sandbox`) the sandbox's demo credentials.
#[derive(Debug, Args)]
pub struct VopCredentialArgs {
    /// A shopbridge TOML file (`shopbridge init` writes one): `[vop]` (app_key, app_secret or
    /// app_secret_file, access_token, gateway_url, oauth_url, language), `[winit]` (the Winit
    /// application and seller) and `[hub]` (where the hub keeps its data and how it is reached).
    #[arg(long, env = "SHOPBRIDGE_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Use a running shopbridge sandbox (e.g. http://127.0.0.1:8700): its URLs and demo app.
    #[arg(long, env = "SHOPBRIDGE_SANDBOX", global = true)]
    sandbox: Option<String>,
    /// The VOP application's app key (appKey), as the open platform issued it.
    #[arg(long, env = "SHOPBRIDGE_VOP_APP_KEY", global = true)]
    app_key: Option<String>,
    /// Prefer the environment variable: arguments show up in `ps`.
    #[arg(
        long,
        env = "SHOPBRIDGE_VOP_APP_SECRET",
        hide_env_values = true,
        global = true
    )]
    app_secret: Option<String>,
    /// The access token (session key) of the user or vendor the calls act for; prefer the
    /// environment variable: arguments show up in `ps`.
    #[arg(
        long,
        env = "SHOPBRIDGE_VOP_ACCESS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    access_token: Option<String>,
    /// Gateway base URL (default https://vop.vipapis.com/).
    #[arg(long, env = "SHOPBRIDGE_VOP_GATEWAY_URL", global = true)]
    gateway_url: Option<String>,
    /// OAuth server base URL (default https://auth.vip.com/).
    #[arg(long, env = "SHOPBRIDGE_VOP_OAUTH_URL", global = true)]
    oauth_url: Option<String>,
    /// The `language` system parameter (zh, en, ja...).
    #[arg(long, env = "SHOPBRIDGE_VOP_LANGUAGE", global = true)]
    language: Option<String>,
    /// Send `format=JSON` as the official SDKs do, instead of `json`.
    #[arg(long, global = true)]
    upper_format: bool,
}

/// `[vop]`, as checked by [`load_file`]; the values are layered by `settings::layered`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FileVop {
    app_key: Option<String>,
    app_secret: Option<String>,
    /// A file holding the app secret (for secrets mounted by an orchestrator).
    app_secret_file: Option<PathBuf>,
    access_token: Option<String>,
    gateway_url: Option<String>,
    oauth_url: Option<String>,
    language: Option<String>,
}

/// `[hub]`: where `shopbridge serve` keeps its data and how it is reached. Parsing the file into
/// this refuses a misspelt key; the values themselves are resolved by `settings::hub`, layered
/// with the flags and variables.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct FileHub {
    pub database: Option<String>,
    pub public_url: Option<String>,
    pub redis: Option<String>,
    pub master_key_file: Option<PathBuf>,
    /// Let webhooks target loopback and private networks (development and tests only).
    pub allow_private_webhook_targets: Option<bool>,
    /// Count failed sign-ins by the `X-Forwarded-For` address (behind a trusted proxy).
    pub trust_forwarded_for: Option<bool>,
    /// A file holding the bearer token `/metrics` asks for (relative to this file).
    pub metrics_token_file: Option<PathBuf>,
}

/// `[winit]`: the Winit application and seller.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct FileWinit {
    pub app_key: Option<String>,
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub platform: Option<String>,
    pub endpoint: Option<String>,
}

/// A shopbridge TOML config: `[vop]`, `[winit]` and `[hub]` tables, as checked by [`load_file`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct FileConfig {
    #[serde(default)]
    vop: FileVop,
    #[serde(default)]
    pub winit: FileWinit,
    #[serde(default)]
    pub hub: FileHub,
}

/// Reads a secret file, dropping a trailing newline.
pub fn read_secret_file(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the secret file {}", path.display()))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

/// Reads and checks a config file.
/// Reads and checks a config file: a misspelt key or a value of the wrong type is refused
/// here, naming the file (figment, which layers the values, would ignore an unknown key).
pub fn load_file(path: &std::path::Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    // The parser's own message quotes the offending line, which may hold a secret: say the
    // line number and what is wrong instead.
    toml::from_str::<FileConfig>(&text).map_err(|err| {
        let line = err
            .span()
            .and_then(|span| text.get(..span.start))
            .map(|before| before.matches('\n').count() + 1);
        let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
        anyhow::anyhow!(
            "{} is not a valid shopbridge config{at}: {}",
            path.display(),
            err.message()
        )
    })
}

/// Fetches `GET /_sandbox/credentials` from a running sandbox.
pub async fn sandbox_credentials(base_url: &str) -> anyhow::Result<Credentials> {
    let url = format!("{}/_sandbox/credentials", base_url.trim_end_matches('/'));
    let http = shopbridge_vop::http_client_builder().build()?;
    let response = http
        .get(&url)
        .send()
        .await
        .with_context(|| format!("cannot reach the sandbox at {url}"))?;
    if !response.status().is_success() {
        bail!("{url} answered HTTP {}", response.status());
    }
    response
        .json()
        .await
        .with_context(|| format!("{url} did not return sandbox credentials"))
}

/// How often a hub re-reads the sandbox's clock.
const SANDBOX_CLOCK_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// The sandbox's simulated clock as a client sees it, so that its timestamps agree with a
/// sandbox whose clock has been moved: read once now, then again every second in the background
/// for as long as the process runs, so that a long-running hub follows the sandbox when a test
/// or a demo moves its clock days ahead.
pub async fn sandbox_clock(base_url: &str) -> anyhow::Result<SimClock> {
    let url = format!("{}/_sandbox/clock", base_url.trim_end_matches('/'));
    let http = shopbridge_vop::http_client_builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?;
    let clock = SimClock::new();
    clock.set_offset_ms(sandbox_offset(&http, &url).await?);
    let following = clock.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(SANDBOX_CLOCK_POLL).await;
            match sandbox_offset(&http, &url).await {
                Ok(offset) => following.set_offset_ms(offset),
                Err(err) => tracing::debug!(error = %err, "could not re-read the sandbox clock"),
            }
        }
    });
    Ok(clock)
}

async fn sandbox_offset(http: &reqwest::Client, url: &str) -> anyhow::Result<i64> {
    let answer: serde_json::Value = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("cannot reach the sandbox at {url}"))?
        .json()
        .await
        .with_context(|| format!("{url} did not return the clock"))?;
    answer["offset_ms"]
        .as_i64()
        .with_context(|| format!("{url}: no offset_ms"))
}

/// A secret from `NAME`, else from the file `NAME_FILE` names (trailing newline dropped).
pub fn secret_from_env(name: &str) -> anyhow::Result<Option<String>> {
    if let Ok(value) = std::env::var(name) {
        return Ok(Some(value));
    }
    match std::env::var(format!("{name}_FILE")) {
        Ok(path) => Ok(Some(
            read_secret_file(std::path::Path::new(&path))
                .with_context(|| format!("{name}_FILE"))?,
        )),
        Err(_) => Ok(None),
    }
}

/// Clients of the embedded sandbox's demo VOP app and Winit app, on its clock.
pub fn embedded_clients(
    running: &shopbridge_sandbox::RunningSandbox,
) -> anyhow::Result<(VopClient, shopbridge_winit::WinitClient)> {
    let creds = running.credentials();
    let clock: Arc<dyn Clock> = Arc::new(running.clock());
    let config = VopConfig::new(
        creds.vop.app_key.clone(),
        SecretString::from(creds.vop.app_secret.clone()),
    )
    .with_gateway_url(&running.vop_gateway_url())?
    .with_oauth_url(&running.vop_oauth_url())?;
    let vop = VopClient::with_clock(config, clock.clone())?;
    let w = creds.winit;
    let winit_config = shopbridge_winit::WinitConfig::new(
        w.app_key,
        w.token,
        w.client_id,
        w.client_secret,
        w.platform,
    )
    .with_endpoint(&running.winit_endpoint())?
    .with_authorize_url(&running.winit_authorize_url())?;
    let winit = shopbridge_winit::WinitClient::with_clock(winit_config, clock)?;
    Ok((vop, winit))
}

impl VopCredentialArgs {
    /// Whether anything points at a platform (a config file, a sandbox, an app key).
    pub fn is_configured(&self) -> bool {
        let set = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
        self.config.is_some() || set(&self.sandbox) || set(&self.app_key)
    }

    /// The config file named, if any.
    pub fn config_path(&self) -> Option<&std::path::Path> {
        self.config.as_deref()
    }

    /// The sandbox these credentials come from, if any.
    pub fn sandbox_url(&self) -> Option<&str> {
        self.sandbox.as_deref()
    }

    /// A client for the resolved configuration; with `--sandbox`, on the sandbox's clock.
    pub async fn client(&self) -> anyhow::Result<VopClient> {
        let config = self.resolve().await?;
        let clock: Arc<dyn Clock> = match &self.sandbox {
            Some(base) => Arc::new(sandbox_clock(base).await?),
            None => Arc::new(SystemClock),
        };
        Ok(VopClient::with_clock(config, clock)?)
    }

    pub async fn resolve(&self) -> anyhow::Result<VopConfig> {
        use crate::settings::PlatformLayer;
        // Layered through figment: the sandbox's demo app (with --sandbox), then the config
        // file's [vop] table, then flags and SHOPBRIDGE_VOP_* variables.
        let base = match &self.sandbox {
            Some(base) => {
                let creds = sandbox_credentials(base).await?;
                let base = base.trim_end_matches('/');
                PlatformLayer {
                    app_key: Some(creds.vop.app_key.clone()),
                    app_secret: Some(creds.vop.app_secret.clone()),
                    gateway_url: Some(format!("{base}{}", creds.vop.gateway_path)),
                    oauth_url: Some(format!("{base}{}", creds.vop.oauth_path)),
                    ..PlatformLayer::default()
                }
            }
            None => PlatformLayer::default(),
        };
        let flags = PlatformLayer {
            app_key: self.app_key.clone(),
            app_secret: self
                .app_secret
                .clone()
                .or(secret_from_env("SHOPBRIDGE_VOP_APP_SECRET")?),
            access_token: self.access_token.clone(),
            gateway_url: self.gateway_url.clone(),
            oauth_url: self.oauth_url.clone(),
            language: self.language.clone(),
            ..PlatformLayer::default()
        };
        let (vop, _): (PlatformLayer, _) =
            crate::settings::layered("vop", &base, self.config.as_deref(), &flags)?;
        let app_key = vop.app_key.context(
            "no VOP app key: set app_key in the config file's [vop] table, pass --app-key or set SHOPBRIDGE_VOP_APP_KEY, or use --sandbox",
        )?;
        let app_secret =
            crate::settings::secret_or_file(vop.app_secret, vop.app_secret_file.as_ref())?
                .context(
                    "no VOP app secret: set app_secret_file in the config file's [vop] table or SHOPBRIDGE_VOP_APP_SECRET(_FILE), or use --sandbox",
                )?;
        let mut config = VopConfig::new(app_key, SecretString::from(app_secret));
        if let Some(url) = vop.gateway_url {
            config = config.with_gateway_url(&url)?;
        }
        if let Some(url) = vop.oauth_url {
            config = config.with_oauth_url(&url)?;
        }
        if let Some(token) = vop.access_token {
            config = config.with_access_token(SecretString::from(token));
        }
        if let Some(language) = vop.language {
            config = config.with_language(language);
        }
        if self.upper_format {
            config = config.with_format(Format::JsonUpper);
        }
        Ok(config)
    }
}

/// The quota gate of a hub process: the quota table with its overrides, its windows shared
/// through Redis when a URL is given.
pub async fn quota_gate(
    clock: std::sync::Arc<dyn shopbridge_core::Clock>,
    overrides: &[String],
    redis: Option<&str>,
    redis_prefix: &str,
) -> anyhow::Result<shopbridge_hub::QuotaGate> {
    let gate = shopbridge_hub::QuotaGate::new(clock).with_table(quota_table(overrides)?);
    Ok(match redis {
        Some(url) => gate
            .with_redis(url, redis_prefix)
            .await
            .context("--redis: cannot connect")?,
        None => gate,
    })
}

/// The documented quotas with `--quota METHOD=LIMIT/SECONDSs` overrides applied.
pub fn quota_table(overrides: &[String]) -> anyhow::Result<shopbridge_core::quota::QuotaTable> {
    let mut table = shopbridge_core::quota::QuotaTable::documented();
    for text in overrides {
        table = table.with_override(text).map_err(anyhow::Error::msg)?;
    }
    Ok(table)
}
