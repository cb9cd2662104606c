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
}

/// The resolved settings: the key file as a path to open, and a SQLite database given in the
/// config file as a relative path made relative to the file too.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub database: String,
    pub master_key_file: PathBuf,
    pub public_url: Option<String>,
    pub redis: Option<String>,
    pub allow_private_webhook_targets: bool,
    pub trust_forwarded_for: bool,
}

pub fn hub(config: Option<&Path>, overrides: HubOverrides) -> anyhow::Result<Resolved> {
    let mut figment = Figment::new().merge(Serialized::default("hub", HubSettings::default()));
    if let Some(path) = config {
        anyhow::ensure!(
            path.is_file(),
            "--config: no file at {} (`shopbridge init` writes one)",
            path.display()
        );
        figment = figment.merge(Toml::file_exact(path));
    }
    let figment = figment.merge(Serialized::default("hub", overrides));
    let settings: HubSettings = figment.extract_inner("hub").with_context(|| match config {
        Some(path) => format!("the [hub] table of {}", path.display()),
        None => "the hub's settings".to_owned(),
    })?;
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
        database,
        master_key_file: settings.master_key_file.relative(),
        public_url: settings.public_url,
        redis: settings.redis,
        allow_private_webhook_targets: settings.allow_private_webhook_targets,
        trust_forwarded_for: settings.trust_forwarded_for,
    })
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
