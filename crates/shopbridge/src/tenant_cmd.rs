//! `shopbridge tenant`: the ERP and affiliate apps allowed to call the hub, each with an app key
//! and a secret shown once.

use clap::{Args, Subcommand};
use secrecy::SecretString;
use shopbridge_core::Clock;

#[derive(Debug, Args)]
pub struct TenantArgs {
    #[command(flatten)]
    store: crate::sync_cmd::StoreArgs,
    #[command(subcommand)]
    command: TenantCommand,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Adds a tenant; prints its app key and secret (the secret is not shown again).
    Create {
        name: String,
        /// The app key (default: a random one).
        #[arg(long)]
        app_key: Option<String>,
    },
}

pub async fn run(args: TenantArgs) -> anyhow::Result<()> {
    let store = args.store.open().await?;
    match args.command {
        TenantCommand::Create { name, app_key } => {
            let app_key = app_key.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
            anyhow::ensure!(
                !app_key.is_empty() && app_key.len() <= 64 && !app_key.contains(':'),
                "--app-key: 1 to 64 characters, no ':'"
            );
            if store.tenant_by_app_key(&app_key).await?.is_some() {
                anyhow::bail!("--app-key: a tenant with app key {app_key:?} exists");
            }
            let secret = uuid::Uuid::new_v4().simple().to_string();
            let now = shopbridge_core::SystemClock.now_ms();
            store
                .create_tenant(&name, &app_key, &SecretString::from(secret.clone()), now)
                .await?;
            println!("appkey     {app_key}");
            println!("appsecret  {secret}");
        }
    }
    Ok(())
}
