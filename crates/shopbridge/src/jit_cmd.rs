//! `shopbridge jit ...`: the unified JIT operations (orders, products, ship, stock, refunds) and
//! the native PO flow (po, pick, delivery) from the shell.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use shopbridge_core::capability::Connector;
use shopbridge_core::codes::{OrderStatus, ShopType};
use shopbridge_core::model::{
    OrderQuery, OrderTimeType, ProductQuery, Shipment, StockMode, StockUpdate,
};
use shopbridge_vop::jit::connector::JitConnector;
use shopbridge_vop::jit::delivery::{
    ConfirmDelivery, CreateDelivery, CreatePick, DeliveryItem, GetDeliveryList, GetPickDetail,
    GetPoList, GetPoSkuList, ImportDeliveryDetail,
};
use shopbridge_vop::jit::{Warehouse, fetch_all};
use shopbridge_vop::time::format_datetime_ms;

use crate::config::VopCredentialArgs;
use crate::union_cmd::parse_time;
use crate::vop_cmd::{explain, run_request};

#[derive(Debug, Args)]
pub struct JitArgs {
    #[command(flatten)]
    credentials: VopCredentialArgs,
    /// The vendor (supplier) id; the configured access token must be that vendor's session key.
    #[arg(long, env = "SHOPBRIDGE_VOP_VENDOR_ID", global = true)]
    vendor_id: Option<i64>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: JitCommand,
}

#[derive(Debug, Subcommand)]
enum JitCommand {
    /// 订单下载: direct-ship (JITX) orders, or purchase orders with --po.
    Orders {
        /// Start: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` (Beijing time) or epoch milliseconds
        /// (default: 7 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// End, in the same formats (default: now).
        #[arg(long)]
        to: Option<String>,
        /// polyapi status code (JH_02 待发货, JH_99 all...).
        #[arg(long, default_value = "JH_99")]
        status: String,
        /// Filter on the last modification instead of creation.
        #[arg(long)]
        modified: bool,
        /// Purchase orders (JIT) instead of direct-ship orders (JITX).
        #[arg(long)]
        po: bool,
        /// One order.
        #[arg(long)]
        no: Option<String>,
        /// The page to show, from 1.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Orders per page, 1 to 100.
        #[arg(long, default_value_t = 50)]
        page_size: u32,
    },
    /// 商品下载.
    Products {
        /// The page to show, from 1.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Products per page, 1 to 100.
        #[arg(long, default_value_t = 50)]
        page_size: u32,
    },
    /// 发货同步: a direct-ship order (ship) or a PO (pick -> delivery -> import -> confirm).
    Ship {
        order: String,
        /// polyapi LogisticType (JH_014 顺丰, JH_006 中通...).
        #[arg(long)]
        logistic_type: String,
        /// The tracking number (运单号) of the shipment.
        #[arg(long)]
        logistic_no: String,
        /// Ship part of the order: BARCODE:COUNT (repeatable).
        #[arg(long = "line")]
        lines: Vec<String>,
        /// Force the PO flow.
        #[arg(long, conflicts_with = "jitx")]
        po: bool,
        /// Force the direct-ship flow.
        #[arg(long)]
        jitx: bool,
    },
    /// 库存同步: set (or with --incremental add to) a barcode's stock.
    Stock {
        barcode: String,
        #[arg(allow_negative_numbers = true)]
        quantity: i64,
        /// Add QUANTITY to the stock (a negative one removes) instead of replacing it.
        #[arg(long)]
        incremental: bool,
        /// The Vipshop warehouse (VIP_NH, VIP_SH, VIP_CD...); default: the vendor's main warehouse.
        #[arg(long)]
        warehouse: Option<String>,
        /// Acknowledge a circuit break (熔断确认).
        #[arg(long)]
        ack: bool,
        /// The update's idempotency key (batch_no): unique per vendor, at most 40 characters;
        /// generated when absent.
        #[arg(long)]
        batch_no: Option<String>,
    },
    /// 退款检查: per order and per line refund status.
    Refunds { orders: Vec<String> },
    /// The native PO flow: `po list`, `po skus PO`.
    Po {
        #[command(subcommand)]
        command: PoCommand,
    },
    /// `pick create PO`, `pick detail PO PICK`.
    Pick {
        #[command(subcommand)]
        command: PickCommand,
    },
    /// `delivery list`, `delivery create ...`, `delivery import ...`, `delivery confirm STORAGE_NO`.
    Delivery {
        #[command(subcommand)]
        command: DeliveryCommand,
    },
}

#[derive(Debug, Subcommand)]
enum PoCommand {
    List,
    Skus { po_no: String },
}

#[derive(Debug, Subcommand)]
enum PickCommand {
    Create { po_no: String },
    Detail { po_no: String, pick_no: String },
}

#[derive(Debug, Subcommand)]
enum DeliveryCommand {
    List,
    Create {
        /// The purchase order (PO) number the delivery is for.
        #[arg(long)]
        po: String,
        /// The delivery's waybill number (运单号).
        #[arg(long)]
        delivery_no: String,
        /// The Vipshop warehouse to deliver to (VIP_NH, VIP_SH, VIP_CD, VIP_BJ...).
        #[arg(long)]
        warehouse: String,
        /// The carrier's code, as the platform's carrier list gives it.
        #[arg(long)]
        carrier_code: String,
        /// The carrier's name.
        #[arg(long)]
        carrier_name: String,
        /// `YYYY-MM-DD HH:MM:SS` (default: in 24 hours).
        #[arg(long)]
        arrival: Option<String>,
    },
    /// Lines as BARCODE:AMOUNT[:BOX] (box 1 by default).
    Import {
        /// The purchase order (PO) number the delivery is for.
        #[arg(long)]
        po: String,
        /// The delivery's storage number (入库单号), as `delivery create` answered it.
        #[arg(long)]
        storage_no: String,
        /// The pick list (拣货单) number every line belongs to.
        #[arg(long)]
        pick: Option<String>,
        lines: Vec<String>,
    },
    Confirm {
        storage_no: String,
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

fn parse_line(text: &str) -> anyhow::Result<(String, i64, String)> {
    let mut parts = text.split(':');
    let barcode = parts
        .next()
        .filter(|b| !b.is_empty())
        .with_context(|| format!("{text:?}: expected BARCODE:COUNT"))?;
    let count: i64 = parts
        .next()
        .with_context(|| format!("{text:?}: expected BARCODE:COUNT"))?
        .parse()
        .with_context(|| format!("{text:?}: the count is not a whole number"))?;
    if count <= 0 {
        bail!("{text:?}: the count must be positive");
    }
    let box_no = parts.next().unwrap_or("1").to_owned();
    Ok((barcode.to_owned(), count, box_no))
}

pub async fn run(args: JitArgs) -> anyhow::Result<()> {
    let vendor_id = args
        .vendor_id
        .context("--vendor-id (or SHOPBRIDGE_VOP_VENDOR_ID) is required")?;
    let client = args.credentials.client().await?;
    if client.config().access_token.is_none() {
        bail!(
            "the vendor's access token (session key) is required: set SHOPBRIDGE_VOP_ACCESS_TOKEN or --access-token"
        );
    }
    let json = args.json;
    let jit = JitConnector::new(client.clone(), vendor_id);
    let now = client.clock().now_ms();
    let unified = |err: shopbridge_core::capability::ConnectorError| anyhow::anyhow!(err);
    match args.command {
        JitCommand::Orders {
            from,
            to,
            status,
            modified,
            po,
            no,
            page,
            page_size,
        } => {
            let status = OrderStatus::from_code(&status).with_context(|| {
                format!("--status: {status:?} is not a polyapi order status (JH_01..JH_99)")
            })?;
            let end = to
                .as_deref()
                .map(|t| parse_time("--to", t))
                .transpose()?
                .unwrap_or(now);
            let start = from
                .as_deref()
                .map(|t| parse_time("--from", t))
                .transpose()?
                .unwrap_or(end - 7 * 86_400_000);
            let query = OrderQuery {
                status,
                plat_order_no: no,
                time_type: if modified {
                    OrderTimeType::Modified
                } else {
                    OrderTimeType::Created
                },
                start_ms: start,
                end_ms: end,
                page,
                page_size,
                shop_type: Some(if po { ShopType::Normal } else { ShopType::Jitx }),
            };
            let orders = jit
                .orders()
                .map_err(unified)?
                .get_orders(&query)
                .await
                .map_err(unified)?;
            if json {
                return print(&orders, true);
            }
            println!(
                "{} orders (page {page}{})",
                orders.total,
                if orders.has_next { ", more" } else { "" }
            );
            for order in &orders.items {
                println!(
                    "{:<20} {} {:<10} {:>10}  {}  {} lines",
                    order.plat_order_no,
                    order.status.code(),
                    order.status.description(),
                    order.total_amount,
                    format_datetime_ms(order.created_at_ms),
                    order.lines.len()
                );
            }
        }
        JitCommand::Products { page, page_size } => {
            let products = jit
                .products()
                .map_err(unified)?
                .download_products(&ProductQuery {
                    page,
                    page_size,
                    ..ProductQuery::default()
                })
                .await
                .map_err(unified)?;
            if json {
                return print(&products, true);
            }
            println!("{} products", products.total);
            for product in &products.items {
                let skus: Vec<&str> = product.skus.iter().map(|s| s.outer_id.as_str()).collect();
                println!(
                    "{:<14} {:>8}  {}  [{}]",
                    product.plat_product_id,
                    product.price,
                    product.name,
                    skus.join(" ")
                );
            }
        }
        JitCommand::Ship {
            order,
            logistic_type,
            logistic_no,
            lines,
            po,
            jitx,
        } => {
            let lines = lines
                .iter()
                .map(|l| parse_line(l).map(|(b, c, _)| (b, c)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let shipment = Shipment {
                plat_order_no: order,
                logistic_type,
                logistic_no,
                logistic_name: None,
                lines,
                warehouse: None,
                shop_type: if po {
                    Some(ShopType::Normal)
                } else if jitx {
                    Some(ShopType::Jitx)
                } else {
                    None
                },
            };
            let result = jit
                .shipping()
                .map_err(unified)?
                .send(&shipment)
                .await
                .map_err(unified)?;
            print(&result, json)?;
        }
        JitCommand::Stock {
            barcode,
            quantity,
            incremental,
            warehouse,
            ack,
            batch_no,
        } => {
            let update = StockUpdate {
                product_id: None,
                sku_id: None,
                outer_id: barcode,
                quantity,
                mode: if incremental {
                    StockMode::Incremental
                } else {
                    StockMode::Full
                },
                warehouse,
                circuit_break_ack: ack,
                batch_no,
            };
            let result = jit
                .stock()
                .map_err(unified)?
                .sync_stock(&update)
                .await
                .map_err(unified)?;
            if json {
                return print(&result, true);
            }
            println!(
                "{} now {} (batch {})",
                result.outer_id, result.quantity, result.batch_no
            );
        }
        JitCommand::Refunds { orders } => {
            if orders.is_empty() {
                bail!("give the order numbers to check");
            }
            let mut checks = Vec::new();
            for order in orders {
                checks.push(
                    jit.refunds()
                        .map_err(unified)?
                        .check_refund(&order)
                        .await
                        .map_err(unified)?,
                );
            }
            if json {
                return print(&checks, true);
            }
            for check in &checks {
                println!(
                    "{:<20} {} {}",
                    check.plat_order_no,
                    check.status.code(),
                    check.status.description()
                );
                for line in &check.lines {
                    println!(
                        "  {:<16} {} {}",
                        line.sub_order_no,
                        line.status.code(),
                        line.status.description()
                    );
                }
            }
        }
        JitCommand::Po { command } => match command {
            PoCommand::List => print(
                &fetch_all(&client, &GetPoList::new(vendor_id))
                    .await
                    .map_err(explain)?,
                json,
            )?,
            PoCommand::Skus { po_no } => print(
                &fetch_all(&client, &GetPoSkuList::new(vendor_id, po_no))
                    .await
                    .map_err(explain)?,
                json,
            )?,
        },
        JitCommand::Pick { command } => match command {
            PickCommand::Create { po_no } => print(
                &run_request(&client, &CreatePick::new(vendor_id, po_no)).await?,
                json,
            )?,
            PickCommand::Detail { po_no, pick_no } => print(
                &run_request(&client, &GetPickDetail::new(vendor_id, po_no, pick_no)).await?,
                json,
            )?,
        },
        JitCommand::Delivery { command } => match command {
            DeliveryCommand::List => print(
                &fetch_all(&client, &GetDeliveryList::new(vendor_id))
                    .await
                    .map_err(explain)?,
                json,
            )?,
            DeliveryCommand::Create {
                po,
                delivery_no,
                warehouse,
                carrier_code,
                carrier_name,
                arrival,
            } => {
                let arrival = arrival.unwrap_or_else(|| format_datetime_ms(now + 86_400_000));
                let request = CreateDelivery {
                    vendor_id,
                    po_no: po,
                    delivery_no,
                    warehouse: Some(Warehouse::parse(&warehouse)?),
                    arrival_time: arrival,
                    carrier_name,
                    carrier_code,
                    delivery_method: Some("1".into()),
                    ..CreateDelivery::default()
                };
                print(&run_request(&client, &request).await?, json)?;
            }
            DeliveryCommand::Import {
                po,
                storage_no,
                pick,
                lines,
            } => {
                let delivery_list = lines
                    .iter()
                    .map(|line| {
                        parse_line(line).map(|(barcode, amount, box_no)| DeliveryItem {
                            vendor_type: "COMMON".into(),
                            barcode,
                            box_no,
                            pick_no: pick.clone(),
                            amount,
                            po_no: None,
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let request = ImportDeliveryDetail {
                    vendor_id,
                    po_no: po,
                    storage_no,
                    store_sn: None,
                    delivery_list,
                };
                print(&run_request(&client, &request).await?, json)?;
            }
            DeliveryCommand::Confirm { storage_no } => print(
                &run_request(&client, &ConfirmDelivery::new(vendor_id, storage_no)).await?,
                json,
            )?,
        },
    }
    Ok(())
}
