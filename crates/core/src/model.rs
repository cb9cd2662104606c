//! The unified model every connector maps to and the hub serves: orders, products, shipments,
//! stock updates and refund checks, in polyapi's vocabulary. Times are UTC epoch milliseconds;
//! money is exact.

use serde::{Deserialize, Serialize};

use crate::codes::{OrderStatus, RefundStatus, ShopType};
use crate::money::Decimal;

/// Where an order goes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    pub receiver_name: String,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    /// ISO 3166 two-letter code.
    pub country: Option<String>,
    pub province: String,
    pub city: String,
    pub area: String,
    pub town: Option<String>,
    pub address: String,
    /// The house number, where a carrier wants it apart (Winit's `doorplateNumbers`).
    #[serde(default)]
    pub house_number: Option<String>,
    pub zip: Option<String>,
}

/// One line (`goodinfos[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    /// Unique within the order; used to ship part of an order.
    pub sub_order_no: String,
    /// The platform's product (or SKU) id.
    pub product_id: String,
    pub sku_id: Option<String>,
    /// The merchant's code (货品/SKU 编码): the barcode for Vipshop.
    pub outer_id: Option<String>,
    pub name: String,
    pub spec: Option<String>,
    pub count: i64,
    /// Unit price.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "19.90"))]
    pub price: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "JH_07"))]
    pub refund_status: RefundStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub status: Option<OrderStatus>,
}

/// An order in the unified model (`Differ.JH.Business.GetOrder`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub plat_order_no: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "JH_02"))]
    pub status: OrderStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "JH_005"))]
    pub shop_type: ShopType,
    pub created_at_ms: i64,
    pub modified_at_ms: i64,
    pub paid_at_ms: Option<i64>,
    pub receiver: Address,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "19.90"))]
    pub goods_fee: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "19.90"))]
    pub post_fee: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "19.90"))]
    pub total_amount: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "19.90"))]
    pub real_paid: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "19.90"))]
    pub discount: Decimal,
    /// The platform warehouse the order ships from or to (Vipshop's `VIP_NH`...).
    pub warehouse: Option<String>,
    pub buyer_remark: Option<String>,
    pub seller_remark: Option<String>,
    pub logistic_no: Option<String>,
    pub logistic_name: Option<String>,
    pub lines: Vec<OrderLine>,
}

/// Which time an order query filters on (`TimeType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OrderTimeType {
    /// `JH_01`: last modification.
    Modified,
    /// `JH_02`: creation (ERPs' default).
    #[default]
    Created,
}

/// `GetOrder`'s request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderQuery {
    /// `JH_99` for all.
    pub status: OrderStatus,
    /// A single order; the other filters are then ignored.
    pub plat_order_no: Option<String>,
    pub time_type: OrderTimeType,
    pub start_ms: i64,
    pub end_ms: i64,
    /// From 1.
    pub page: u32,
    /// At most 100.
    pub page_size: u32,
    /// Which kind of orders, where a platform has several (Vipshop: `JH_005` JITX direct-ship
    /// orders, `JH_001` JIT purchase orders).
    pub shop_type: Option<ShopType>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Every match, not just this page.
    pub total: u64,
    pub has_next: bool,
}

/// A SKU of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sku {
    pub sku_id: String,
    pub outer_id: String,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "19.90"))]
    pub price: Decimal,
    pub quantity: i64,
    pub property: Option<String>,
}

/// A product (`DownloadProduct`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub plat_product_id: String,
    pub name: String,
    pub outer_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "19.90"))]
    pub price: Decimal,
    pub quantity: i64,
    pub picture_url: Option<String>,
    /// `JH_01` on sale, `JH_02` off sale.
    pub on_sale: bool,
    pub skus: Vec<Sku>,
}

/// `DownloadProduct`'s request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProductQuery {
    pub product_id: Option<String>,
    pub name: Option<String>,
    pub page: u32,
    pub page_size: u32,
}

/// What to ship (`Send`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub plat_order_no: String,
    /// polyapi `LogisticType` (`JH_014` 顺丰...).
    pub logistic_type: String,
    pub logistic_no: String,
    pub logistic_name: Option<String>,
    /// Lines and counts when only part of the order ships; empty = the whole order.
    pub lines: Vec<(String, i64)>,
    pub warehouse: Option<String>,
    /// Which flow ships it, where a platform has several (Vipshop: JITX ships the buyer's
    /// order, JIT delivers a purchase order to a warehouse); guessed when absent.
    pub shop_type: Option<ShopType>,
}

/// What the platform answered to a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShipmentResult {
    pub plat_order_no: String,
    pub logistic_no: String,
    /// The platform's own reference (a delivery's storage number for JIT).
    pub platform_reference: Option<String>,
}

/// How a stock quantity is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StockMode {
    /// The quantity replaces the platform's (`JH_01`, VOP `sync_mode=0`).
    #[default]
    Full,
    /// The quantity is added (negative: removed) (`JH_02`, VOP `sync_mode=1`).
    Incremental,
}

/// `SyncStock`'s request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockUpdate {
    pub product_id: Option<String>,
    pub sku_id: Option<String>,
    /// The merchant code; the barcode for Vipshop.
    pub outer_id: String,
    pub quantity: i64,
    pub mode: StockMode,
    pub warehouse: Option<String>,
    /// Acknowledge a circuit break (唯品会JIT 熔断确认).
    pub circuit_break_ack: bool,
    /// Idempotency key; generated when absent.
    pub batch_no: Option<String>,
}

/// The quantity after a stock update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockResult {
    pub outer_id: String,
    pub quantity: i64,
    pub batch_no: String,
}

/// Stock of one SKU in one warehouse (a fulfilment platform's answer, the source of `SyncStock`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub outer_id: String,
    pub warehouse: String,
    /// What can be sold now.
    pub available: i64,
    /// Everything physically in the warehouse.
    pub in_stock: i64,
}

/// The refund state of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineRefund {
    pub sub_order_no: String,
    pub refund_no: Option<String>,
    pub product_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "JH_07"))]
    pub status: RefundStatus,
}

/// `CheckRefundStatus`'s answer for one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundCheck {
    pub plat_order_no: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "JH_07"))]
    pub status: RefundStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "JH_03"))]
    pub order_status: Option<OrderStatus>,
    pub lines: Vec<LineRefund>,
}
