//! `shopbridge tenant` and `shopbridge shops`: the apps allowed to call the hub (each with an app
//! key and a secret shown once) and their shops, as an operator manages them.

use clap::{Args, Subcommand};
use secrecy::SecretString;
use shopbridge_core::Clock;

use crate::table::Table;

#[derive(Debug, Args)]
pub struct TenantArgs {
    #[command(flatten)]
    config: crate::settings::ConfigArgs,
    #[command(flatten)]
    store: crate::sync_cmd::StoreArgs,
    #[command(subcommand)]
    command: TenantCommand,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Adds a tenant; prints its app key and secret (the secret is not shown again).
    Create {
        /// What the tenant is called (shown in listings and the console).
        name: String,
        /// The app key (default: a random one).
        #[arg(long)]
        app_key: Option<String>,
    },
    /// Every tenant: name, app key, shops, created.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Gives a tenant a new secret (printed once); the old one stops working at once and its
    /// console sessions end.
    RotateSecret {
        /// The tenant's app key.
        app_key: String,
    },
    /// Deletes a tenant with its webhooks and sessions; its shops must be deleted first.
    Delete {
        /// The tenant's app key.
        app_key: String,
    },
}

fn new_secret() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub async fn run(args: TenantArgs) -> anyhow::Result<()> {
    let store = args.store.open(args.config.config.as_deref()).await?;
    let now = shopbridge_core::SystemClock.now_ms();
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
            let secret = new_secret();
            store
                .create_tenant(&name, &app_key, &SecretString::from(secret.clone()), now)
                .await?;
            println!("appkey     {app_key}");
            println!("appsecret  {secret}");
        }
        TenantCommand::List { json } => {
            let tenants = store.tenants().await?;
            if json {
                let rows: Vec<_> = tenants
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "name": t.name, "app_key": t.app_key, "shops": t.shops,
                            "created_ms": t.created_ms,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            let mut table = Table::new(["NAME", "APP KEY", "SHOPS", "CREATED"]);
            for t in &tenants {
                table.row([
                    t.name.clone(),
                    t.app_key.clone(),
                    t.shops.to_string(),
                    shopbridge_vop::time::format_datetime_ms(t.created_ms),
                ]);
            }
            table.print_or("no tenants: `shopbridge tenant create NAME` adds one");
        }
        TenantCommand::RotateSecret { app_key } => {
            let secret = new_secret();
            anyhow::ensure!(
                store
                    .rotate_tenant_secret(&app_key, &SecretString::from(secret.clone()), now)
                    .await?,
                "no tenant has app key {app_key:?} (`shopbridge tenant list`)"
            );
            println!("appkey     {app_key}");
            println!("appsecret  {secret}");
        }
        TenantCommand::Delete { app_key } => {
            anyhow::ensure!(
                store.delete_tenant(&app_key, now).await?,
                "no tenant has app key {app_key:?} (`shopbridge tenant list`)"
            );
            println!("deleted tenant {app_key}");
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ShopsArgs {
    #[command(flatten)]
    config: crate::settings::ConfigArgs,
    #[command(flatten)]
    store: crate::sync_cmd::StoreArgs,
    #[command(subcommand)]
    command: ShopsCommand,
}

#[derive(Debug, Subcommand)]
enum ShopsCommand {
    /// Every shop (or one tenant's): id, tenant, platform, mode, name, state.
    List {
        /// Only this tenant's shops (its app key).
        #[arg(long)]
        tenant: Option<String>,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Deletes a shop that is no longer authorized, with all its synced data (audited). An
    /// authorized shop is revoked first, in the console or with `POST /v1/shops/{id}/revoke`.
    Delete {
        /// The shop's id (`shopbridge shops list`).
        id: String,
    },
    /// Checks the sums the hub keeps beside each shop's rows (settled earnings per day and
    /// hour, refunds per day, records per hour and status) against the sums the rows make; exits
    /// non-zero when any differs. With --rebuild, brings those that differ to what the rows
    /// make. Reads a day at a time from snapshots, so syncs go on meanwhile; a rebuild
    /// computes each day that differed again in a write as short as a page's.
    Sums {
        /// Only this shop (its id, `shopbridge shops list`).
        #[arg(long)]
        shop: Option<String>,
        /// Bring each shop's sums that differ to what its rows make.
        #[arg(long)]
        rebuild: bool,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub async fn shops(args: ShopsArgs) -> anyhow::Result<()> {
    let store = args.store.open(args.config.config.as_deref()).await?;
    match args.command {
        ShopsCommand::List { tenant, json } => {
            let tenants = store.tenants().await?;
            if let Some(key) = &tenant {
                anyhow::ensure!(
                    tenants.iter().any(|t| &t.app_key == key),
                    "--tenant: no tenant has app key {key:?} (`shopbridge tenant list`)"
                );
            }
            let mut shops = Vec::new();
            for t in tenants
                .iter()
                .filter(|t| tenant.as_ref().is_none_or(|key| &t.app_key == key))
            {
                for shop in store.tenant_connections(&t.id).await? {
                    shops.push((t.app_key.clone(), shop));
                }
            }
            if json {
                let rows: Vec<_> = shops
                    .iter()
                    .map(|(tenant, s)| {
                        serde_json::json!({
                            "id": s.id, "tenant": tenant, "platform": s.kind.platform().as_str(), "mode": s.kind.mode(),
                            "name": s.name, "state": s.state.as_str(), "last_error": s.last_error,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            let mut table = Table::new(["ID", "TENANT", "PLATFORM", "MODE", "NAME", "STATE"]);
            for (tenant, s) in &shops {
                table.row([
                    s.id.clone(),
                    tenant.clone(),
                    s.kind.platform().as_str().to_owned(),
                    s.kind.mode().to_owned(),
                    s.name.clone(),
                    s.state.as_str().to_owned(),
                ]);
            }
            table.print_or("no shops");
        }
        ShopsCommand::Delete { id } => {
            let now = shopbridge_core::SystemClock.now_ms();
            let deleted =
                store
                    .delete_connection(&id, "cli", now)
                    .await
                    .map_err(|err| match err {
                        shopbridge_store::StoreError::Conflict(message) => anyhow::anyhow!(
                            "{message} (in the console, or POST /v1/shops/{id}/revoke)"
                        ),
                        other => other.into(),
                    })?;
            println!("deleted shop {id} and {} stored records", deleted.records);
        }
        ShopsCommand::Sums {
            shop,
            rebuild,
            json,
        } => {
            let shops = match shop {
                // Named: it must exist (a typo would otherwise "agree").
                Some(id) => vec![store.connection(&id).await?.id],
                None => store
                    .connection_summaries()
                    .await?
                    .into_iter()
                    .map(|shop| shop.id)
                    .collect(),
            };
            // Every shop is checked whatever befalls one: a failure is reported, not a stop.
            let mut checks = Vec::with_capacity(shops.len());
            let mut failed = 0_usize;
            for id in &shops {
                match store.check_kept_sums(id, rebuild).await {
                    Ok(check) => checks.push(check),
                    Err(err) => {
                        eprintln!("shop {id}: the sums could not be checked: {err}");
                        failed += 1;
                    }
                }
            }
            if json {
                let rows: Vec<_> = checks
                    .iter()
                    .map(|check| {
                        serde_json::json!({
                            "shop": check.connection_id,
                            "agrees": check.agrees(),
                            "rebuilt": check.rebuilt,
                            "tables": check.tables.iter().map(|t| serde_json::json!({
                                "table": t.table, "kept": t.kept, "recomputed": t.recomputed, "differing": t.differing,
                            })).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                let mut table = Table::new(["SHOP", "SUMS", "KEPT", "FROM ROWS", "DIFFERING", ""]);
                for check in &checks {
                    for t in &check.tables {
                        let outcome = match (t.differing, check.rebuilt) {
                            (0, _) => "ok",
                            (_, true) => "rebuilt",
                            (_, false) => "DIFFERS",
                        };
                        table.row([
                            check.connection_id.clone(),
                            t.table.to_owned(),
                            t.kept.to_string(),
                            t.recomputed.to_string(),
                            t.differing.to_string(),
                            outcome.to_owned(),
                        ]);
                    }
                }
                table.print_or("no shops");
            }
            let differing = checks
                .iter()
                .filter(|check| !check.agrees() && !check.rebuilt)
                .count();
            anyhow::ensure!(
                failed == 0,
                "the sums of {failed} shop(s) could not be checked (above)"
            );
            anyhow::ensure!(
                differing == 0,
                "the kept sums of {differing} shop(s) differ from their rows: `shopbridge shops sums --rebuild` rebuilds them"
            );
        }
    }
    Ok(())
}
