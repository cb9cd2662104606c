//! `shopbridge winit ...`: the Winit overseas-warehouse API from the shell.

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use shopbridge_core::{Clock, SystemClock};
use shopbridge_winit::actions::{
    CreateOutboundOrder, ItemList, OrderVendorTracking, OutboundProduct, QueryDeliveryWay,
    QueryOutboundOrder, QueryOutboundOrderList, QueryWarehouse, QueryWarehouseStorage,
    VoidOutboundOrder,
};
use shopbridge_winit::{WinitClient, WinitConfig, WinitRequest};

use crate::config::{sandbox_clock, sandbox_credentials};

#[derive(Debug, Args)]
pub struct WinitArgs {
    #[command(flatten)]
    config: crate::settings::ConfigArgs,
    /// Use a running shopbridge sandbox (its URLs, demo application and seller, and clock).
    #[arg(long, env = "SHOPBRIDGE_SANDBOX", global = true)]
    sandbox: Option<String>,
    /// The seller's 万邑联 account.
    #[arg(long, env = "SHOPBRIDGE_WINIT_APP_KEY", global = true)]
    app_key: Option<String>,
    /// The seller's access token, which signs each request; prefer the environment variable:
    /// arguments show up in `ps`.
    #[arg(
        long,
        env = "SHOPBRIDGE_WINIT_TOKEN",
        hide_env_values = true,
        global = true
    )]
    token: Option<String>,
    /// The application's id (client_id).
    #[arg(long, env = "SHOPBRIDGE_WINIT_CLIENT_ID", global = true)]
    client_id: Option<String>,
    /// The application's secret (signs `client_sign`); prefer the environment variable:
    /// arguments show up in `ps`.
    #[arg(
        long,
        env = "SHOPBRIDGE_WINIT_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    client_secret: Option<String>,
    /// The application's Code.
    #[arg(long, env = "SHOPBRIDGE_WINIT_PLATFORM", global = true)]
    platform: Option<String>,
    /// OpenAPI endpoint (default production).
    #[arg(long, env = "SHOPBRIDGE_WINIT_ENDPOINT", global = true)]
    endpoint: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: WinitCommand,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum WinitCommand {
    /// queryWarehouse.
    Warehouses,
    /// queryDeliveryWay for a warehouse.
    DeliveryWays {
        /// The warehouse: its id (1000089) or its code (DE0001).
        warehouse: String,
    },
    /// Outbound orders: create, get, list, void.
    Outbound {
        #[command(subcommand)]
        command: OutboundCommand,
    },
    /// queryWarehouseStorage: stock per product in a warehouse.
    Inventory {
        /// The warehouse: its id (1000008) or its code (US0001).
        warehouse: String,
    },
    /// winit.mms.item.list: registered products.
    Products,
    /// tracking.getOrderVerdorTracking for outbound order or tracking numbers.
    Track { numbers: Vec<String> },
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum OutboundCommand {
    Create {
        /// The warehouse: its id (1000008) or its code (US0001).
        #[arg(long)]
        warehouse: String,
        /// The delivery way's id (deliveryID), as `winit delivery-ways WAREHOUSE` lists them.
        #[arg(long)]
        delivery_way: i64,
        /// Your own order number (sellerOrderNo); it must not repeat.
        #[arg(long)]
        order_no: String,
        /// The recipient's name.
        #[arg(long)]
        name: String,
        /// The recipient's phone number.
        #[arg(long)]
        phone: String,
        /// The recipient's country (ISO-2): Winit calls it `state`.
        #[arg(long)]
        country: String,
        /// The state or province: Winit calls it `region`.
        #[arg(long)]
        region: String,
        /// The recipient's city.
        #[arg(long)]
        city: String,
        /// The recipient's postcode.
        #[arg(long)]
        zip: String,
        /// The recipient's street address.
        #[arg(long)]
        address: String,
        /// The house number; required by the delivery ways `winit delivery-ways` marks so.
        #[arg(long, default_value = "")]
        house_no: String,
        /// SKU:QUANTITY (repeatable).
        lines: Vec<String>,
    },
    Get {
        number: String,
    },
    List,
    Void {
        number: String,
    },
}

/// The whole answer as JSON with `--json`, else a table for people.
fn print<T: Serialize>(value: &T, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        crate::table::print_value(&serde_json::to_value(value)?);
    }
    Ok(())
}

async fn run_request<R: WinitRequest>(
    client: &WinitClient,
    request: &R,
) -> anyhow::Result<R::Output> {
    client.execute(request).await.map_err(|err| {
        use shopbridge_core::error::Classify;
        let hint = match err.class() {
            shopbridge_core::error::ErrorClass::InvalidRequest => {
                "fix the request; `shopbridge sign winit -v` shows what is signed"
            }
            shopbridge_core::error::ErrorClass::Credentials => {
                "check the client id, client secret and platform code"
            }
            shopbridge_core::error::ErrorClass::NeedsReauthorization => {
                "the seller must authorize again"
            }
            shopbridge_core::error::ErrorClass::RateLimited => {
                "over 1000 requests a minute: slow down"
            }
            _ => "see the platform's message",
        };
        anyhow::Error::new(err).context(hint)
    })
}

/// Where a Winit client's settings come from: flags or environment, else a sandbox's demo app.
#[derive(Debug, Default)]
pub struct WinitSettings {
    pub sandbox: Option<String>,
    pub app_key: Option<String>,
    pub token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub platform: Option<String>,
    pub endpoint: Option<String>,
}

impl WinitSettings {
    /// Flags and the `SHOPBRIDGE_WINIT_*` environment (secrets also as `*_FILE`) over the
    /// config file's `[winit]` table, layered through figment, with an optional sandbox.
    pub fn from_config(
        sandbox: Option<String>,
        config: Option<&std::path::Path>,
        flags: crate::settings::PlatformLayer,
    ) -> anyhow::Result<Self> {
        use crate::settings::{PlatformLayer, secret_or_file};
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let overrides = PlatformLayer {
            app_key: flags.app_key.or(var("SHOPBRIDGE_WINIT_APP_KEY")),
            token: flags
                .token
                .or(crate::config::secret_from_env("SHOPBRIDGE_WINIT_TOKEN")?),
            client_id: flags.client_id.or(var("SHOPBRIDGE_WINIT_CLIENT_ID")),
            client_secret: flags.client_secret.or(crate::config::secret_from_env(
                "SHOPBRIDGE_WINIT_CLIENT_SECRET",
            )?),
            platform: flags.platform.or(var("SHOPBRIDGE_WINIT_PLATFORM")),
            endpoint: flags.endpoint.or(var("SHOPBRIDGE_WINIT_ENDPOINT")),
            ..PlatformLayer::default()
        };
        let (winit, _): (PlatformLayer, _) =
            crate::settings::layered("winit", &PlatformLayer::default(), config, &overrides)?;
        Ok(Self {
            sandbox,
            app_key: winit.app_key,
            token: secret_or_file(winit.token, winit.token_file.as_ref())?,
            client_id: winit.client_id,
            client_secret: secret_or_file(winit.client_secret, winit.client_secret_file.as_ref())?,
            platform: winit.platform,
            endpoint: winit.endpoint,
        })
    }

    /// Whether anything configures Winit at all.
    pub fn is_configured(&self) -> bool {
        self.sandbox.is_some() || self.app_key.is_some()
    }

    pub async fn client(&self) -> anyhow::Result<WinitClient> {
        let sandbox = match &self.sandbox {
            Some(base) => Some((
                sandbox_credentials(base).await?.winit,
                base.trim_end_matches('/').to_owned(),
            )),
            None => None,
        };
        let pick = |flag: &Option<String>, from_sandbox: Option<String>, name: &str| {
            flag.clone().or(from_sandbox).with_context(|| {
                format!("no Winit {name}: pass --{name} or its environment variable, or --sandbox")
            })
        };
        let s = sandbox.as_ref();
        let config = WinitConfig::new(
            pick(&self.app_key, s.map(|(c, _)| c.app_key.clone()), "app-key")?,
            pick(&self.token, s.map(|(c, _)| c.token.clone()), "token")?,
            pick(
                &self.client_id,
                s.map(|(c, _)| c.client_id.clone()),
                "client-id",
            )?,
            pick(
                &self.client_secret,
                s.map(|(c, _)| c.client_secret.clone()),
                "client-secret",
            )?,
            pick(
                &self.platform,
                s.map(|(c, _)| c.platform.clone()),
                "platform",
            )?,
        );
        let config = match self
            .endpoint
            .clone()
            .or(s.map(|(c, base)| format!("{base}{}", c.service_path)))
        {
            Some(endpoint) => config.with_endpoint(&endpoint)?,
            None => config,
        };
        let clock: Arc<dyn Clock> = match &self.sandbox {
            Some(base) => Arc::new(sandbox_clock(base).await?) as Arc<dyn Clock>,
            None => Arc::new(SystemClock),
        };
        Ok(WinitClient::with_clock(config, clock)?)
    }
}

impl WinitArgs {
    async fn client(&self) -> anyhow::Result<WinitClient> {
        WinitSettings::from_config(
            self.sandbox.clone(),
            self.config.config.as_deref(),
            crate::settings::PlatformLayer {
                app_key: self.app_key.clone(),
                token: self.token.clone(),
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.clone(),
                platform: self.platform.clone(),
                endpoint: self.endpoint.clone(),
                ..Default::default()
            },
        )?
        .client()
        .await
    }
}

/// A warehouse id from what a person typed: the id itself, or a code such as `US0001` looked
/// up in the account's warehouses.
async fn warehouse_id(client: &WinitClient, given: &str) -> anyhow::Result<i64> {
    if let Ok(id) = given.trim().parse::<i64>() {
        return Ok(id);
    }
    let warehouses = run_request(client, &QueryWarehouse {}).await?;
    let codes: Vec<String> = warehouses
        .iter()
        .filter_map(|w| w.warehouse_code.clone())
        .collect();
    warehouses
        .iter()
        .find(|w| {
            w.warehouse_code
                .as_deref()
                .is_some_and(|code| code.eq_ignore_ascii_case(given.trim()))
        })
        .and_then(|w| w.warehouse_id)
        .with_context(|| {
            format!(
                "warehouse: no warehouse with id or code {given:?}; the account's codes: {}",
                codes.join(", ")
            )
        })
}

pub async fn run(args: WinitArgs) -> anyhow::Result<()> {
    let client = args.client().await?;
    let json = args.json;
    match args.command {
        WinitCommand::Warehouses => {
            let warehouses = run_request(&client, &QueryWarehouse {}).await?;
            if json {
                return print(&warehouses, true);
            }
            for w in warehouses {
                println!(
                    "{:<9} {:<8} {}",
                    w.warehouse_id.unwrap_or_default(),
                    w.warehouse_code.unwrap_or_default(),
                    w.warehouse_name.unwrap_or_default()
                );
            }
        }
        WinitCommand::DeliveryWays { warehouse } => {
            let warehouse_id = warehouse_id(&client, &warehouse).await?;
            let ways = run_request(&client, &QueryDeliveryWay::new(warehouse_id)).await?;
            if json {
                return print(&ways, true);
            }
            for w in ways {
                println!(
                    "{:<9} {:<20} house number required: {}",
                    w.delivery_id.unwrap_or_default(),
                    w.delivery_way.unwrap_or_default(),
                    w.house_number_required.unwrap_or_default()
                );
            }
        }
        WinitCommand::Outbound { command } => match command {
            OutboundCommand::Create {
                warehouse,
                delivery_way,
                order_no,
                name,
                phone,
                country,
                region,
                city,
                zip,
                address,
                house_no,
                lines,
            } => {
                let product_list = lines
                    .iter()
                    .map(|line| {
                        let (sku, qty) = line
                            .split_once(':')
                            .with_context(|| format!("{line:?}: expected SKU:QUANTITY"))?;
                        Ok(OutboundProduct {
                            product_code: sku.into(),
                            product_num: qty.into(),
                            ..OutboundProduct::default()
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                if product_list.is_empty() {
                    bail!("give at least one SKU:QUANTITY");
                }
                let request = CreateOutboundOrder {
                    warehouse_id: warehouse_id(&client, &warehouse).await?,
                    delivery_way_id: delivery_way.to_string(),
                    insurance_type_id: 1_000_000,
                    repeatable: "N".into(),
                    seller_order_no: order_no,
                    recipient_name: name,
                    phone_num: phone,
                    state: country,
                    region,
                    city,
                    zip_code: zip,
                    address1: address,
                    doorplate_numbers: house_no,
                    product_list,
                    ..CreateOutboundOrder::default()
                };
                let created = run_request(&client, &request).await?;
                if json {
                    return print(&created, true);
                }
                println!("{}", created.outbound_order_num);
            }
            OutboundCommand::Get { number } => print(
                &run_request(&client, &QueryOutboundOrder::new(number)).await?,
                json,
            )?,
            OutboundCommand::List => {
                let list = run_request(
                    &client,
                    &QueryOutboundOrderList {
                        page_size: 100,
                        page_num: 1,
                        ..QueryOutboundOrderList::default()
                    },
                )
                .await?;
                print(&list, json)?;
            }
            OutboundCommand::Void { number } => {
                run_request(&client, &VoidOutboundOrder::new(number.clone())).await?;
                println!("voided {number}");
            }
        },
        WinitCommand::Inventory { warehouse } => {
            let warehouse_id = warehouse_id(&client, &warehouse).await?;
            let rows = run_request(&client, &QueryWarehouseStorage::new(warehouse_id)).await?;
            if json {
                return print(&rows, true);
            }
            println!(
                "{:<12} {:>9} {:>8} {:>8}",
                "product", "available", "in stock", "wait out"
            );
            for row in rows.list {
                println!(
                    "{:<12} {:>9} {:>8} {:>8}",
                    row.product_code,
                    row.qty_available.unwrap_or_default(),
                    row.in_stock_qty.unwrap_or_default(),
                    row.qty_wait_out.unwrap_or_default()
                );
            }
        }
        WinitCommand::Products => {
            print(&run_request(&client, &ItemList::page(1, 200)).await?, json)?
        }
        WinitCommand::Track { numbers } => {
            if numbers.is_empty() {
                bail!("give outbound order or tracking numbers");
            }
            let tracking = run_request(
                &client,
                &OrderVendorTracking {
                    trackingnos: numbers.join(","),
                },
            )
            .await?;
            if json {
                return print(&tracking, true);
            }
            for t in tracking {
                println!(
                    "{} {} {}",
                    t.order_no.unwrap_or_default(),
                    t.status.unwrap_or_default(),
                    t.tracking_no.unwrap_or_default()
                );
                for event in t.trace {
                    println!(
                        "  {} {} {}",
                        event.date.unwrap_or_default(),
                        event.event_code.unwrap_or_default(),
                        event.event_description.unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(())
}
