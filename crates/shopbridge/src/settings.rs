//! Where the hub keeps its data and how it is reached (`[hub]`), layered through figment for
//! every command alike: defaults, then the config file's `[hub]` table (paths in it are
//! relative to the file), then `SHOPBRIDGE_*` variables and flags (clap reads both, a flag
//! winning over its variable).

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use figment::value::magic::RelativePathBuf;
use serde::{Deserialize, Serialize};

/// The `[hub]` settings as every command resolves them.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HubSettings {
    /// `sqlite://PATH` or `postgres://...`.
    pub database: String,
    /// The vault's master key file.
    pub master_key_file: RelativePathBuf,
    pub public_url: Option<String>,
    pub redis: Option<String>,
    #[serde(default)]
    pub allow_private_webhook_targets: bool,
    #[serde(default)]
    pub trust_forwarded_for: bool,
    /// A file holding the bearer token `/metrics` asks for.
    #[serde(default)]
    pub metrics_token_file: Option<RelativePathBuf>,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            database: "sqlite://shopbridge.db".into(),
            master_key_file: PathBuf::from("shopbridge.key").into(),
            public_url: None,
            redis: None,
            allow_private_webhook_targets: false,
            trust_forwarded_for: false,
            metrics_token_file: None,
        }
    }
}

/// What flags and variables set; unset values leave the file's or the default.
#[derive(Debug, Default, Serialize)]
pub struct HubOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_private_webhook_targets: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub trust_forwarded_for: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_token_file: Option<PathBuf>,
}

/// The resolved settings: the key file as a path to open, and a SQLite database given in the
/// config file as a relative path made relative to the file too.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub database: String,
    /// Whether a flag, a variable or the file named the database (else it is the default).
    pub database_named: bool,
    pub master_key_file: PathBuf,
    pub public_url: Option<String>,
    pub redis: Option<String>,
    pub allow_private_webhook_targets: bool,
    pub trust_forwarded_for: bool,
    pub metrics_token_file: Option<PathBuf>,
}

/// One table of the configuration, layered: `base`, then the config file's table (checked for
/// misspelt keys), then `overrides` (what flags and variables set). Answers the table and the
/// figment, which knows where each value came from.
pub fn layered<T: serde::de::DeserializeOwned>(
    table: &str,
    base: &impl Serialize,
    config: Option<&Path>,
    overrides: &impl Serialize,
) -> anyhow::Result<(T, Figment)> {
    let mut figment = Figment::new().merge(Serialized::default(table, base));
    if let Some(path) = config {
        anyhow::ensure!(
            path.is_file(),
            "--config: no file at {} (`shopbridge init` writes one)",
            path.display()
        );
        // The file's own check refuses unknown keys, which figment would ignore.
        crate::config::load_file(path)?;
        figment = figment.merge(Toml::file_exact(path));
    }
    let figment = figment.merge(Serialized::default(table, overrides));
    let value = figment.extract_inner(table).with_context(|| match config {
        Some(path) => format!("the [{table}] table of {}", path.display()),
        None => format!("the {table} settings"),
    })?;
    Ok((value, figment))
}

pub fn hub(config: Option<&Path>, overrides: HubOverrides) -> anyhow::Result<Resolved> {
    let overridden = overrides.database.is_some();
    let (settings, figment): (HubSettings, _) =
        layered("hub", &HubSettings::default(), config, &overrides)?;
    let from_file = figment
        .find_metadata("hub.database")
        .and_then(|meta| meta.source.as_ref())
        .and_then(|source| source.file_path())
        .and_then(Path::parent);
    let database = match (settings.database.strip_prefix("sqlite://"), from_file) {
        (Some(path), Some(dir))
            if Path::new(path.split('?').next().unwrap_or(path)).is_relative() =>
        {
            format!("sqlite://{}", dir.join(path).display())
        }
        _ => settings.database,
    };
    Ok(Resolved {
        database_named: overridden || from_file.is_some(),
        database,
        master_key_file: settings.master_key_file.relative(),
        public_url: settings.public_url,
        redis: settings.redis,
        allow_private_webhook_targets: settings.allow_private_webhook_targets,
        trust_forwarded_for: settings.trust_forwarded_for,
        metrics_token_file: settings.metrics_token_file.map(|file| file.relative()),
    })
}

/// `[vop]` or `[winit]` values as every layer gives them: each one set or not.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct PlatformLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_secret: Option<String>,
    /// A file holding the app secret (relative to the config file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_secret_file: Option<RelativePathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<RelativePathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<RelativePathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// A secret given directly, else read from the file named (a trailing newline dropped).
pub fn secret_or_file(
    value: Option<String>,
    file: Option<&RelativePathBuf>,
) -> anyhow::Result<Option<String>> {
    match (value, file) {
        (Some(value), _) => Ok(Some(value)),
        (None, Some(path)) => Ok(Some(crate::config::read_secret_file(&path.relative())?)),
        (None, None) => Ok(None),
    }
}

/// `--config` for commands that take no platform credentials (the credentials' flags carry
/// their own).
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// A shopbridge TOML file (`shopbridge init` writes one); its `[hub]` table says where the
    /// store and the key file are.
    #[arg(long, env = "SHOPBRIDGE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}
