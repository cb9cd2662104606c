//! `shopbridge init`: a new deployment's directory: a commented config file, the master key
//! (mode 0600), the callback URLs to register with each platform, and the next commands.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where the config file, the key and (by default) the SQLite database go.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The URL platforms and people will reach the hub at (https behind a reverse proxy).
    #[arg(long)]
    public_url: String,
    /// Fill the platform tables from a running shopbridge sandbox (to try everything offline).
    #[arg(long)]
    sandbox: Option<String>,
}

/// Writes `text` to a new file readable by its owner only.
fn write_new(path: &Path, text: &str, private: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// A TOML string, quoted and escaped.
fn quoted(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

pub async fn run(args: InitArgs) -> anyhow::Result<()> {
    let parsed = url::Url::parse(args.public_url.trim()).with_context(|| {
        format!(
            "--public-url: expected an http(s) URL, got {:?}",
            args.public_url
        )
    })?;
    anyhow::ensure!(
        matches!(parsed.scheme(), "http" | "https"),
        "--public-url: expected an http(s) URL, got {:?}",
        args.public_url
    );
    // The URL as parsed (normalized, nothing that could break out of its TOML string).
    let public_url = parsed.as_str().trim_end_matches('/').to_owned();
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let dir = args.dir.canonicalize()?;
    let config = dir.join("shopbridge.toml");
    let key = dir.join("shopbridge.key");
    for existing in [&config, &key, &dir.join("shopbridge.db")] {
        anyhow::ensure!(
            !existing.exists(),
            "{} exists: init sets up a new deployment and never overwrites one",
            existing.display()
        );
    }
    let (vop, winit) = match &args.sandbox {
        Some(base) => {
            let base = base.trim_end_matches('/');
            let creds = crate::config::sandbox_credentials(base).await?;
            write_new(&dir.join("vop.secret"), &creds.vop.app_secret, true)?;
            write_new(&dir.join("winit.token"), &creds.winit.token, true)?;
            write_new(&dir.join("winit.secret"), &creds.winit.client_secret, true)?;
            (
                format!(
                    "app_key = {}\napp_secret_file = \"vop.secret\"\ngateway_url = {}\noauth_url = {}\n",
                    quoted(&creds.vop.app_key),
                    quoted(&format!("{base}{}", creds.vop.gateway_path)),
                    quoted(&format!("{base}{}", creds.vop.oauth_path))
                ),
                format!(
                    "app_key = {}\ntoken_file = \"winit.token\"\nclient_id = {}\nclient_secret_file = \"winit.secret\"\nplatform = {}\nendpoint = {}\n",
                    quoted(&creds.winit.app_key),
                    quoted(&creds.winit.client_id),
                    quoted(&creds.winit.platform),
                    quoted(&format!("{base}{}", creds.winit.service_path))
                ),
            )
        }
        None => (
            "# Your app on the Vipshop open platform (open.vip.com): its key, and a file holding\n\
             # its secret (mode 0600). The gateway and OAuth URLs default to Vipshop's.\n\
             # app_key = \"\"\n# app_secret_file = \"vop.secret\"\n"
                .to_owned(),
            "# Your Winit app (万邑通 ISP): app key, seller token, client id and secret.\n\
             # app_key = \"\"\n# token_file = \"winit.token\"\n# client_id = \"\"\n\
             # client_secret_file = \"winit.secret\"\n# platform = \"\"\n"
                .to_owned(),
        ),
    };
    let public_url_toml = quoted(&public_url);
    let text = format!(
        r#"# shopbridge configuration. Every command reads it with --config FILE or
# SHOPBRIDGE_CONFIG=FILE; flags and SHOPBRIDGE_* variables override what it says. Relative
# paths are relative to this file. `shopbridge doctor` checks it.

[hub]
# sqlite://PATH, or postgres://USER@HOST/DATABASE to run several hub processes.
database = "sqlite://shopbridge.db"
# The vault's master key. The database's secrets open only with it: keep a copy apart from
# the database backups.
master_key_file = "shopbridge.key"
# Where platforms and people reach the hub; the OAuth callbacks are built from it.
public_url = {public_url_toml}
# Several hub processes share quota windows through Redis:
# redis = "redis://127.0.0.1:6379"

[vop]
{vop}
[winit]
{winit}"#
    );
    write_new(&config, &text, true)?;
    let master = shopbridge_store::MasterKey::load_or_create(&key)?;
    // The empty store, migrated: the next commands find it and need no --create.
    let database = dir.join("shopbridge.db");
    anyhow::ensure!(
        !database.exists(),
        "{} exists: init never touches an existing store",
        database.display()
    );
    shopbridge_store::Store::open(
        &format!("sqlite://{}", database.display()),
        shopbridge_store::Vault::new(master),
    )
    .await?
    .pool()
    .close()
    .await;
    println!("wrote {}", config.display());
    println!(
        "wrote {} (the master key, mode 0600): keep a copy apart from the database backups",
        key.display()
    );
    println!(
        "wrote {} (an empty store; switch [hub] database to PostgreSQL to scale out)",
        database.display()
    );
    println!();
    println!("register these callback URLs with the platforms:");
    println!(
        "  Vipshop (open.vip.com, the app's callback address)  {public_url}/connect/vop/callback"
    );
    println!(
        "  Winit (the app's redirect URI)                      {public_url}/connect/winit/callback"
    );
    println!();
    println!("next:");
    println!("  export SHOPBRIDGE_CONFIG={}", config.display());
    if args.sandbox.is_none() {
        println!("  $EDITOR {}    # your platform apps", config.display());
    }
    println!("  shopbridge doctor");
    println!(
        "  shopbridge tenant create \"my ERP\"    # the app key and secret your ERP calls with"
    );
    println!("  shopbridge serve");
    Ok(())
}
