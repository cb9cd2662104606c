//! The overseas-warehouse actions (spec §5): warehouses, delivery ways, outbound orders (legacy
//! and 2.0 APIs), inventory, products, tracking, inbound orders and returns.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::WinitError;
use crate::request::{de_lenient_i64, ensure, required, winit_action};

/// `queryWarehouse`: `data` is an empty object.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueryWarehouse {}

impl QueryWarehouse {
    fn check(&self) -> Result<(), WinitError> {
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Warehouse {
    #[serde(rename = "warehouseID", deserialize_with = "de_lenient_i64", default)]
    pub warehouse_id: Option<i64>,
    #[serde(rename = "warehouseCode", default)]
    pub warehouse_code: Option<String>,
    #[serde(rename = "warehouseName", default)]
    pub warehouse_name: Option<String>,
    #[serde(rename = "warehouseAddress", default)]
    pub warehouse_address: Option<String>,
}

winit_action!(QueryWarehouse, "queryWarehouse", Vec<Warehouse>);

/// `queryDeliveryWay`: the last-mile services of a warehouse.
#[derive(Debug, Clone, Serialize)]
pub struct QueryDeliveryWay {
    #[serde(rename = "warehouseID")]
    pub warehouse_id: String,
}

impl QueryDeliveryWay {
    pub fn new(warehouse_id: i64) -> Self {
        Self {
            warehouse_id: warehouse_id.to_string(),
        }
    }

    fn check(&self) -> Result<(), WinitError> {
        required("warehouseID", &self.warehouse_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeliveryWay {
    #[serde(rename = "deliveryID", deserialize_with = "de_lenient_i64", default)]
    pub delivery_id: Option<i64>,
    #[serde(rename = "deliveryWay", default)]
    pub delivery_way: Option<String>,
    #[serde(rename = "warehouseID", deserialize_with = "de_lenient_i64", default)]
    pub warehouse_id: Option<i64>,
    #[serde(rename = "winitProductCode", default)]
    pub winit_product_code: Option<String>,
    /// `Y`: the house number (`doorplateNumbers`) is mandatory.
    #[serde(rename = "isMandoorplateNumbers", default)]
    pub house_number_required: Option<String>,
    #[serde(rename = "deliveryType", default)]
    pub delivery_type: Option<String>,
}

winit_action!(QueryDeliveryWay, "queryDeliveryWay", Vec<DeliveryWay>);

/// A product line of an outbound order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutboundProduct {
    #[serde(rename = "productCode")]
    pub product_code: String,
    /// A positive count, as a string on the wire.
    #[serde(rename = "productNum")]
    pub product_num: String,
    #[serde(default)]
    pub specification: String,
    #[serde(rename = "eBayItemID", default)]
    pub ebay_item_id: String,
    #[serde(rename = "eBayTransactionID", default)]
    pub ebay_transaction_id: String,
    #[serde(rename = "eBayBuyerID", default)]
    pub ebay_buyer_id: String,
    #[serde(rename = "eBaySellerID", default)]
    pub ebay_seller_id: String,
}

/// `createOutboundOrder`'s data. Mind the trap: `state` is the recipient's **country** (ISO-2),
/// `region` its state or province.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CreateOutboundOrder {
    #[serde(rename = "warehouseID")]
    pub warehouse_id: i64,
    #[serde(rename = "deliveryWayID")]
    pub delivery_way_id: String,
    /// `1000000`: no insurance (the field is retired but still sent by ERPs).
    #[serde(rename = "insuranceTypeID")]
    pub insurance_type_id: i64,
    /// `Y`/`N`: may the seller order number repeat.
    pub repeatable: String,
    #[serde(rename = "sellerOrderNo")]
    pub seller_order_no: String,
    #[serde(rename = "eBayOrderID", default)]
    pub ebay_order_id: String,
    #[serde(rename = "recipientName")]
    pub recipient_name: String,
    #[serde(rename = "phoneNum")]
    pub phone_num: String,
    #[serde(rename = "emailAddress", default)]
    pub email_address: String,
    /// The recipient's country, ISO 3166 two letters (`US`, `DE`...).
    pub state: String,
    /// The state or province.
    pub region: String,
    pub city: String,
    #[serde(rename = "zipCode")]
    pub zip_code: String,
    pub address1: String,
    #[serde(default)]
    pub address2: String,
    /// The house number; mandatory for delivery ways with `isMandoorplateNumbers=Y`.
    #[serde(rename = "doorplateNumbers", default)]
    pub doorplate_numbers: String,
    #[serde(rename = "productList")]
    pub product_list: Vec<OutboundProduct>,
}

/// Checks a recipient country code: two upper-case letters.
pub(crate) fn check_country(field: &str, code: &str) -> Result<(), WinitError> {
    ensure(
        code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()),
        field,
        || {
            format!(
                "expected the recipient's country as two upper-case letters (ISO 3166, e.g. US), got {code:?}; the state or province goes in region"
            )
        },
    )
}

impl CreateOutboundOrder {
    fn check(&self) -> Result<(), WinitError> {
        ensure(self.warehouse_id > 0, "warehouseID", || {
            "required (see queryWarehouse)".into()
        })?;
        for (field, value) in [
            ("deliveryWayID", &self.delivery_way_id),
            ("sellerOrderNo", &self.seller_order_no),
            ("recipientName", &self.recipient_name),
            ("phoneNum", &self.phone_num),
            ("region", &self.region),
            ("city", &self.city),
            ("zipCode", &self.zip_code),
            ("address1", &self.address1),
        ] {
            required(field, value)?;
        }
        ensure(
            matches!(self.repeatable.as_str(), "Y" | "N"),
            "repeatable",
            || format!("expected Y or N, got {:?}", self.repeatable),
        )?;
        check_country("state", &self.state)?;
        ensure(self.phone_num.chars().count() <= 128, "phoneNum", || {
            "at most 128 characters".into()
        })?;
        ensure(!self.product_list.is_empty(), "productList", || {
            "expected at least one product".into()
        })?;
        for (i, product) in self.product_list.iter().enumerate() {
            let field = format!("productList[{i}]");
            required(&format!("{field}.productCode"), &product.product_code)?;
            ensure(
                product.product_num.parse::<i64>().is_ok_and(|n| n > 0),
                &format!("{field}.productNum"),
                || format!("expected a positive count, got {:?}", product.product_num),
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutboundOrderCreated {
    #[serde(rename = "outboundOrderNum")]
    pub outbound_order_num: String,
}

winit_action!(
    CreateOutboundOrder,
    "createOutboundOrder",
    OutboundOrderCreated
);

/// A merchandise line of the 2.0 API.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Merchandise {
    #[serde(rename = "merchandiseCode")]
    pub merchandise_code: String,
    pub quantity: i64,
}

/// The 2.0 outbound order (`wh.outbound.createSubmittedOrder` / `wh.outbound.createOrder`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOutboundOrder {
    pub shipper_order_no: String,
    /// `Y`/`N`.
    pub is_repeat: String,
    pub warehouse_code: String,
    pub winit_product_code: String,
    pub receiver_country: String,
    pub receiver_state: String,
    pub receiver_city: String,
    pub receiver_postcode: String,
    #[serde(default)]
    pub receiver_house_no: String,
    pub receiver_address_line1: String,
    #[serde(default)]
    pub receiver_address_line2: String,
    pub receiver_name: String,
    pub receiver_phone: String,
    #[serde(default)]
    pub receiver_email: String,
    pub merchandise_list: Vec<Merchandise>,
}

impl NewOutboundOrder {
    fn check_fields(&self) -> Result<(), WinitError> {
        for (field, value) in [
            ("shipperOrderNo", &self.shipper_order_no),
            ("warehouseCode", &self.warehouse_code),
            ("winitProductCode", &self.winit_product_code),
            ("receiverCity", &self.receiver_city),
            ("receiverPostcode", &self.receiver_postcode),
            ("receiverAddressLine1", &self.receiver_address_line1),
            ("receiverName", &self.receiver_name),
        ] {
            required(field, value)?;
        }
        check_country("receiverCountry", &self.receiver_country)?;
        ensure(
            matches!(self.is_repeat.as_str(), "Y" | "N"),
            "isRepeat",
            || "expected Y or N".into(),
        )?;
        ensure(!self.merchandise_list.is_empty(), "merchandiseList", || {
            "expected at least one line".into()
        })?;
        ensure(
            self.merchandise_list
                .iter()
                .all(|m| m.quantity > 0 && !m.merchandise_code.is_empty()),
            "merchandiseList",
            || "every line needs a merchandiseCode and a positive quantity".into(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewOutboundOrderCreated {
    pub order_no: String,
    /// `BW`, `WW` or `NONE`.
    pub split_type: Option<String>,
    pub order_no_list: Vec<String>,
}

/// `wh.outbound.createSubmittedOrder` (version 2.0): created and submitted (确认中).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateSubmittedOrder(pub NewOutboundOrder);

impl CreateSubmittedOrder {
    fn check(&self) -> Result<(), WinitError> {
        self.0.check_fields()
    }
}

winit_action!(
    CreateSubmittedOrder,
    "wh.outbound.createSubmittedOrder",
    "2.0",
    NewOutboundOrderCreated
);

/// `wh.outbound.createOrder` (version 2.0): created as a draft (草稿).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateDraftOrder(pub NewOutboundOrder);

impl CreateDraftOrder {
    fn check(&self) -> Result<(), WinitError> {
        self.0.check_fields()
    }
}

winit_action!(
    CreateDraftOrder,
    "wh.outbound.createOrder",
    "2.0",
    NewOutboundOrderCreated
);

/// `queryOutboundOrder` / `voidOutboundOrder`: one outbound order by number.
#[derive(Debug, Clone, Serialize)]
pub struct OutboundOrderRef {
    #[serde(rename = "outboundOrderNum")]
    pub outbound_order_num: String,
}

impl OutboundOrderRef {
    fn check(&self) -> Result<(), WinitError> {
        required("outboundOrderNum", &self.outbound_order_num)
    }
}

/// `queryOutboundOrder`.
#[derive(Debug, Clone, Serialize)]
pub struct QueryOutboundOrder(pub OutboundOrderRef);

impl QueryOutboundOrder {
    pub fn new(num: impl Into<String>) -> Self {
        Self(OutboundOrderRef {
            outbound_order_num: num.into(),
        })
    }

    fn check(&self) -> Result<(), WinitError> {
        self.0.check()
    }
}

/// Outbound order statuses (the doc's table): DR 草稿, CFI 出库确认中, CF 出库确认, PKI 拣选中,
/// PKC 拣选完成, PAI 打包中, PAC 打包完成, FC 费用确认中, DLI 派送中, DLC 派送完成, VOI 作废处理中, VO 已作废...
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutboundOrderInfo {
    #[serde(rename = "outboundOrderNum")]
    pub outbound_order_num: String,
    #[serde(rename = "sellerOrderNo", default)]
    pub seller_order_no: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(rename = "statusName", default)]
    pub status_name: Option<String>,
    #[serde(rename = "warehouseID", deserialize_with = "de_lenient_i64", default)]
    pub warehouse_id: Option<i64>,
    #[serde(rename = "warehouseCode", default)]
    pub warehouse_code: Option<String>,
    #[serde(rename = "trackingNum", default)]
    pub tracking_num: Option<String>,
    #[serde(rename = "winitTrackingNo", default)]
    pub winit_tracking_no: Option<String>,
    #[serde(default)]
    pub carrier: Option<String>,
    /// `OT` / `DL`.
    #[serde(rename = "deliveryCompletionStatus", default)]
    pub delivery_completion_status: Option<String>,
    #[serde(rename = "reasonForVoid", default)]
    pub reason_for_void: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OutboundOrderInfo {
    /// What to report as shipped: `winitTrackingNo` if present, else `trackingNum`.
    pub fn tracking_number(&self) -> Option<&str> {
        self.winit_tracking_no
            .as_deref()
            .filter(|t| !t.is_empty())
            .or(self.tracking_num.as_deref().filter(|t| !t.is_empty()))
    }
}

winit_action!(QueryOutboundOrder, "queryOutboundOrder", OutboundOrderInfo);

/// `voidOutboundOrder`: only before picking starts.
#[derive(Debug, Clone, Serialize)]
pub struct VoidOutboundOrder(pub OutboundOrderRef);

impl VoidOutboundOrder {
    pub fn new(num: impl Into<String>) -> Self {
        Self(OutboundOrderRef {
            outbound_order_num: num.into(),
        })
    }

    fn check(&self) -> Result<(), WinitError> {
        self.0.check()
    }
}

winit_action!(VoidOutboundOrder, "voidOutboundOrder", Value);

/// `queryOutboundOrderList`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueryOutboundOrderList {
    #[serde(rename = "warehouseId", skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<i64>,
    #[serde(rename = "sellerOrderNo", skip_serializing_if = "Option::is_none")]
    pub seller_order_no: Option<String>,
    /// `yyyy-MM-dd`.
    #[serde(
        rename = "dateOrderedStartDate",
        skip_serializing_if = "Option::is_none"
    )]
    pub date_ordered_start: Option<String>,
    #[serde(rename = "dateOrderedEndDate", skip_serializing_if = "Option::is_none")]
    pub date_ordered_end: Option<String>,
    /// `valid`, `outbound`, `stockup` or `exception`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(rename = "pageSize")]
    pub page_size: i64,
    #[serde(rename = "pageNum")]
    pub page_num: i64,
}

impl QueryOutboundOrderList {
    fn check(&self) -> Result<(), WinitError> {
        ensure(self.page_num >= 1, "pageNum", || {
            "expected 1 or more".into()
        })?;
        ensure((1..=200).contains(&self.page_size), "pageSize", || {
            "expected 1 to 200".into()
        })?;
        if let Some(status) = self.status.as_deref() {
            ensure(
                matches!(status, "valid" | "outbound" | "stockup" | "exception"),
                "status",
                || format!("expected valid, outbound, stockup or exception, got {status:?}"),
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutboundListItem {
    #[serde(rename = "documentNo")]
    pub document_no: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(rename = "trackingNo", default)]
    pub tracking_no: Option<String>,
    #[serde(rename = "winitTrackingNo", default)]
    pub winit_tracking_no: Option<String>,
    #[serde(rename = "sellerOrderNo", default)]
    pub seller_order_no: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutboundList {
    #[serde(
        rename = "currentPageSize",
        deserialize_with = "de_lenient_i64",
        default
    )]
    pub current_page_size: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64", default)]
    pub total: Option<i64>,
    #[serde(
        rename = "currentPageNum",
        deserialize_with = "de_lenient_i64",
        default
    )]
    pub current_page_num: Option<i64>,
    #[serde(default)]
    pub list: Vec<OutboundListItem>,
}

winit_action!(
    QueryOutboundOrderList,
    "queryOutboundOrderList",
    OutboundList
);

/// `queryWarehouseStorage`: stock per product in one warehouse.
#[derive(Debug, Clone, Serialize)]
pub struct QueryWarehouseStorage {
    #[serde(rename = "warehouseID")]
    pub warehouse_id: i64,
    #[serde(rename = "isActive", skip_serializing_if = "Option::is_none")]
    pub is_active: Option<String>,
    #[serde(rename = "pageSize")]
    pub page_size: i64,
    #[serde(rename = "pageNum")]
    pub page_num: i64,
}

impl QueryWarehouseStorage {
    pub fn new(warehouse_id: i64) -> Self {
        Self {
            warehouse_id,
            is_active: None,
            page_size: 100,
            page_num: 1,
        }
    }

    fn check(&self) -> Result<(), WinitError> {
        ensure(self.warehouse_id > 0, "warehouseID", || "required".into())?;
        ensure(
            self.page_num >= 1 && (1..=200).contains(&self.page_size),
            "pageNum/pageSize",
            || "pageNum from 1, pageSize 1 to 200".into(),
        )
    }
}

/// Stock of a product: `inStockQty = qtyAvailable + qtyWaitOut + qtyLostConfirming + qtyFrozen
/// + qtyDestruction + prohibitFrozenQty + prohibitUsableQty`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WarehouseStorage {
    pub product_code: String,
    pub product_name: Option<String>,
    pub specification: Option<String>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub qty_available: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub in_stock_qty: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub qty_wait_out: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub qty_frozen: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub pipeline_inventory: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub qty_lost_confirming: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub qty_destruction: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub prohibit_frozen_qty: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub prohibit_usable_qty: Option<i64>,
    #[serde(rename = "warehouseID", deserialize_with = "de_lenient_i64")]
    pub warehouse_id: Option<i64>,
    pub warehouse_code: Option<String>,
}

impl WarehouseStorage {
    /// Whether the documented identity holds for this row.
    pub fn is_consistent(&self) -> bool {
        let parts = [
            self.qty_available,
            self.qty_wait_out,
            self.qty_lost_confirming,
            self.qty_frozen,
            self.qty_destruction,
            self.prohibit_frozen_qty,
            self.prohibit_usable_qty,
        ];
        self.in_stock_qty == Some(parts.iter().map(|p| p.unwrap_or(0)).sum())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StorageList {
    #[serde(deserialize_with = "de_lenient_i64", default)]
    pub total: Option<i64>,
    #[serde(default)]
    pub list: Vec<WarehouseStorage>,
}

winit_action!(QueryWarehouseStorage, "queryWarehouseStorage", StorageList);

/// `queryProductInventoryList4Page`: stock with days of inventory, by country or warehouse.
#[derive(Debug, Clone, Serialize)]
pub struct QueryProductInventoryList4Page {
    /// `Country` or `Warehouse`.
    #[serde(rename = "inventoryType")]
    pub inventory_type: String,
    #[serde(rename = "warehouseCode", skip_serializing_if = "Option::is_none")]
    pub warehouse_code: Option<String>,
    #[serde(rename = "productCode", skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(rename = "pageNum")]
    pub page_num: i64,
    #[serde(rename = "pageSize")]
    pub page_size: i64,
}

impl QueryProductInventoryList4Page {
    pub fn for_warehouse(code: impl Into<String>) -> Self {
        Self {
            inventory_type: "Warehouse".into(),
            warehouse_code: Some(code.into()),
            product_code: None,
            page_num: 1,
            page_size: 100,
        }
    }

    fn check(&self) -> Result<(), WinitError> {
        ensure(
            matches!(self.inventory_type.as_str(), "Country" | "Warehouse"),
            "inventoryType",
            || "expected Country or Warehouse".into(),
        )?;
        if self.inventory_type == "Warehouse" {
            ensure(
                self.warehouse_code
                    .as_deref()
                    .is_some_and(|c| !c.is_empty()),
                "warehouseCode",
                || "required for inventoryType Warehouse".into(),
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProductInventory {
    pub product_code: String,
    pub warehouse_code: Option<String>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub qty_available: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub qty_reserved: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub qty_ordered: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub in_stock_qty: Option<i64>,
    #[serde(rename = "DOI", deserialize_with = "de_lenient_i64")]
    pub doi: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InventoryPage {
    #[serde(default)]
    pub page: Map<String, Value>,
    #[serde(default)]
    pub list: Vec<ProductInventory>,
}

winit_action!(
    QueryProductInventoryList4Page,
    "queryProductInventoryList4Page",
    InventoryPage
);

/// A product to register (`registerProduct`); weights in g, sizes in cm.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRegistration {
    pub product_code: String,
    pub chinese_name: String,
    pub english_name: String,
    pub registered_weight: f64,
    pub registered_length: f64,
    pub registered_width: f64,
    pub registered_height: f64,
    /// `Y`/`N`.
    pub branded: String,
    /// `Y`/`N`.
    pub battery: String,
    #[serde(default)]
    pub specification: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RegisterProduct {
    #[serde(rename = "productList")]
    pub product_list: Vec<ProductRegistration>,
}

impl RegisterProduct {
    fn check(&self) -> Result<(), WinitError> {
        ensure(!self.product_list.is_empty(), "productList", || {
            "expected at least one product".into()
        })?;
        for (i, p) in self.product_list.iter().enumerate() {
            let field = format!("productList[{i}]");
            required(&format!("{field}.productCode"), &p.product_code)?;
            required(&format!("{field}.englishName"), &p.english_name)?;
            ensure(
                p.registered_weight > 0.0,
                &format!("{field}.registeredWeight"),
                || "grams, above 0".into(),
            )?;
            ensure(
                p.registered_length > 0.0 && p.registered_width > 0.0 && p.registered_height > 0.0,
                &format!("{field}.registeredLength/Width/Height"),
                || "centimetres, above 0".into(),
            )?;
            for (name, flag) in [("branded", &p.branded), ("battery", &p.battery)] {
                ensure(
                    matches!(flag.as_str(), "Y" | "N"),
                    &format!("{field}.{name}"),
                    || "expected Y or N".into(),
                )?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegisteredProduct {
    #[serde(rename = "productCode")]
    pub product_code: String,
}

winit_action!(RegisterProduct, "registerProduct", Vec<RegisteredProduct>);

/// `winit.mms.item.list`: the seller's registered products. The request shape
/// (`productCode`, `pageParams {pageNo, pageSize}`) is inferred from the response's `PageParams`.
#[derive(Debug, Clone, Serialize)]
pub struct ItemList {
    #[serde(rename = "productCode", skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(rename = "pageParams")]
    pub page_params: PageParams,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PageParams {
    #[serde(
        deserialize_with = "de_lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_count: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub page_no: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub page_size: Option<i64>,
}

impl ItemList {
    pub fn page(page_no: i64, page_size: i64) -> Self {
        Self {
            product_code: None,
            page_params: PageParams {
                total_count: None,
                page_no: Some(page_no),
                page_size: Some(page_size),
            },
        }
    }

    fn check(&self) -> Result<(), WinitError> {
        ensure(
            self.page_params.page_no.is_some_and(|p| p >= 1),
            "pageParams.pageNo",
            || "expected 1 or more".into(),
        )?;
        ensure(
            self.page_params
                .page_size
                .is_some_and(|p| (1..=200).contains(&p)),
            "pageParams.pageSize",
            || "expected 1 to 200".into(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Item {
    pub product_code: String,
    pub chinese_name: Option<String>,
    pub english_name: Option<String>,
    pub registered_weight: Option<f64>,
    pub specification: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ItemListAnswer {
    #[serde(default)]
    pub list: Vec<Item>,
    #[serde(rename = "PageParams", default)]
    pub page_params: PageParams,
}

winit_action!(ItemList, "winit.mms.item.list", ItemListAnswer);

/// `tracking.getOrderVerdorTracking` (the official name keeps its typo).
#[derive(Debug, Clone, Serialize)]
pub struct OrderVendorTracking {
    /// Outbound order numbers or tracking numbers, comma-separated.
    pub trackingnos: String,
}

impl OrderVendorTracking {
    fn check(&self) -> Result<(), WinitError> {
        required("trackingnos", &self.trackingnos)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TraceEvent {
    pub date: Option<String>,
    pub location: Option<String>,
    pub event_code: Option<String>,
    pub event_status: Option<String>,
    pub event_description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Tracking {
    pub order_no: Option<String>,
    pub tracking_no: Option<String>,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub status: Option<String>,
    pub vendor_name: Option<String>,
    pub carrier: Option<String>,
    pub tracking_url: Option<String>,
    pub trace: Vec<TraceEvent>,
}

winit_action!(
    OrderVendorTracking,
    "tracking.getOrderVerdorTracking",
    Vec<Tracking>
);

/// `queryTrack`: in-warehouse scans of an outbound order.
#[derive(Debug, Clone, Serialize)]
pub struct QueryTrack {
    #[serde(rename = "outboundNum")]
    pub outbound_num: String,
}

impl QueryTrack {
    fn check(&self) -> Result<(), WinitError> {
        required("outboundNum", &self.outbound_num)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Scan {
    pub scanlocation: Option<String>,
    #[serde(rename = "scandateTime")]
    pub scandate_time: Option<String>,
    pub trackingmess: Option<String>,
    pub status: Option<String>,
}

winit_action!(QueryTrack, "queryTrack", Vec<Scan>);

/// A case of an inbound order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundPackage {
    pub seller_case_no: String,
    pub seller_length: f64,
    pub seller_width: f64,
    pub seller_height: f64,
    pub seller_weight: f64,
    pub merchandise_list: Vec<Merchandise>,
}

/// `winit.wh.inbound.order.create`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInboundOrder {
    /// `SD`, `DW` or `DI`.
    pub order_type: String,
    pub winit_product_code: String,
    pub destination_warehouse_code: String,
    pub seller_order_no: String,
    pub package_list: Vec<InboundPackage>,
}

impl CreateInboundOrder {
    fn check(&self) -> Result<(), WinitError> {
        ensure(
            matches!(self.order_type.as_str(), "SD" | "DW" | "DI"),
            "orderType",
            || "expected SD, DW or DI".into(),
        )?;
        required("winitProductCode", &self.winit_product_code)?;
        required("destinationWarehouseCode", &self.destination_warehouse_code)?;
        required("sellerOrderNo", &self.seller_order_no)?;
        ensure(!self.package_list.is_empty(), "packageList", || {
            "expected at least one case".into()
        })?;
        ensure(
            self.package_list.iter().all(|p| {
                !p.merchandise_list.is_empty() && p.merchandise_list.iter().all(|m| m.quantity > 0)
            }),
            "packageList[].merchandiseList",
            || "every case needs lines with positive quantities".into(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InboundCreated {
    pub order_no: String,
}

winit_action!(
    CreateInboundOrder,
    "winit.wh.inbound.order.create",
    InboundCreated
);

/// `winit.wh.inbound.getOrderList`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundOrderList {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seller_order_no: Option<String>,
    pub page_no: i64,
    pub page_size: i64,
}

impl InboundOrderList {
    fn check(&self) -> Result<(), WinitError> {
        ensure(
            self.page_no >= 1 && (1..=200).contains(&self.page_size),
            "pageNo/pageSize",
            || "pageNo from 1, pageSize 1 to 200".into(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InboundOrder {
    pub order_no: String,
    pub seller_order_no: Option<String>,
    pub status: Option<String>,
    pub destination_warehouse_code: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InboundOrders {
    pub list: Vec<InboundOrder>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub total: Option<i64>,
}

winit_action!(
    InboundOrderList,
    "winit.wh.inbound.getOrderList",
    InboundOrders
);

/// `winit.wh.inbound.getOrderDetail` / `winit.wh.inbound.voidOrder`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundOrderRef {
    pub order_no: String,
}

impl InboundOrderRef {
    fn check(&self) -> Result<(), WinitError> {
        required("orderNo", &self.order_no)
    }
}

/// `winit.wh.inbound.getOrderDetail`.
#[derive(Debug, Clone, Serialize)]
pub struct InboundOrderDetail(pub InboundOrderRef);

impl InboundOrderDetail {
    fn check(&self) -> Result<(), WinitError> {
        self.0.check()
    }
}

winit_action!(
    InboundOrderDetail,
    "winit.wh.inbound.getOrderDetail",
    InboundOrder
);

/// `winit.wh.inbound.voidOrder`.
#[derive(Debug, Clone, Serialize)]
pub struct VoidInboundOrder(pub InboundOrderRef);

impl VoidInboundOrder {
    fn check(&self) -> Result<(), WinitError> {
        self.0.check()
    }
}

winit_action!(VoidInboundOrder, "winit.wh.inbound.voidOrder", Value);

/// `rma.returnGoodsOrder.createReturnGoodsOrder`: a buyer's return of an outbound order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReturnOrder {
    pub outbound_order_num: String,
    pub product_list: Vec<Merchandise>,
}

impl CreateReturnOrder {
    fn check(&self) -> Result<(), WinitError> {
        required("outboundOrderNum", &self.outbound_order_num)?;
        ensure(
            !self.product_list.is_empty() && self.product_list.iter().all(|m| m.quantity > 0),
            "productList",
            || "expected lines with positive quantities".into(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReturnOrder {
    pub return_order_no: String,
    pub outbound_order_num: Option<String>,
    pub status: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

winit_action!(
    CreateReturnOrder,
    "rma.returnGoodsOrder.createReturnGoodsOrder",
    ReturnOrder
);

/// `rma.returnGoodsOrder.queryReturnOderList` (the official name keeps its typo).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnOrderList {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound_order_num: Option<String>,
    pub page_num: i64,
    pub page_size: i64,
}

impl ReturnOrderList {
    fn check(&self) -> Result<(), WinitError> {
        ensure(
            self.page_num >= 1 && (1..=200).contains(&self.page_size),
            "pageNum/pageSize",
            || "pageNum from 1, pageSize 1 to 200".into(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReturnOrders {
    pub list: Vec<ReturnOrder>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub total: Option<i64>,
}

winit_action!(
    ReturnOrderList,
    "rma.returnGoodsOrder.queryReturnOderList",
    ReturnOrders
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::WinitRequest;

    fn order() -> CreateOutboundOrder {
        CreateOutboundOrder {
            warehouse_id: 1000008,
            delivery_way_id: "1000020".into(),
            insurance_type_id: 1000000,
            repeatable: "N".into(),
            seller_order_no: "SO-1".into(),
            recipient_name: "Ann".into(),
            phone_num: "555".into(),
            state: "US".into(),
            region: "CA".into(),
            city: "LA".into(),
            zip_code: "90001".into(),
            address1: "1 Main St".into(),
            product_list: vec![OutboundProduct {
                product_code: "SKU-1".into(),
                product_num: "2".into(),
                ..OutboundProduct::default()
            }],
            ..CreateOutboundOrder::default()
        }
    }

    #[test]
    fn the_state_is_a_country() {
        order().validate().expect("valid");
        let err = CreateOutboundOrder {
            state: "California".into(),
            ..order()
        }
        .validate()
        .expect_err("a US state in state");
        assert!(err.to_string().contains("region"), "{err}");
        let err = CreateOutboundOrder {
            product_list: vec![],
            ..order()
        }
        .validate()
        .expect_err("no products");
        assert!(err.to_string().contains("productList"));
        let data = order().data().expect("data").expect("some");
        assert_eq!(data["warehouseID"], 1000008);
        assert_eq!(data["productList"][0]["productNum"], "2");
    }

    #[test]
    fn storage_identity() {
        let row: WarehouseStorage = serde_json::from_value(serde_json::json!({
            "productCode": "A", "qtyAvailable": 5, "qtyWaitOut": "2", "qtyFrozen": 1, "inStockQty": 8
        }))
        .expect("row");
        assert!(row.is_consistent());
    }
}
