//! `vipapis.delivery.JitDeliveryService`: purchase orders (PO), picks, deliveries, carriers.
//! The flow: getPoList -> createPick -> getPickDetail -> createDelivery (returns storage_no) ->
//! importDeliveryDetail -> confirmDelivery.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    DELIVERY_SERVICE, Paged, Warehouse, check_paging, check_vendor, de_lenient_i64, paged,
    required, vop_method,
};
use crate::VopError;
use crate::request::ensure;

/// `co_mode`: 普通JIT or JIT分销.
pub const CO_MODES: [&str; 2] = ["jit", "jit_4a"];

fn check_co_mode(co_mode: &Option<String>) -> Result<(), VopError> {
    match co_mode.as_deref() {
        None => Ok(()),
        Some(mode) => ensure(CO_MODES.contains(&mode), "co_mode", || {
            format!("expected jit or jit_4a, got {mode:?}")
        }),
    }
}

/// `PurchaseOrder`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PurchaseOrder {
    pub po_no: String,
    pub co_mode: Option<String>,
    pub sell_st_time: Option<String>,
    pub sell_et_time: Option<String>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub stock: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub sales_volume: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub not_pick: Option<i64>,
    pub trade_mode: Option<String>,
    pub schedule_id: Option<String>,
    pub vendor_name: Option<String>,
    pub brand_name: Option<String>,
    pub warehouse: Option<String>,
    pub schedule_name: Option<String>,
    pub po_start_time: Option<String>,
    pub cooperation_no: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GetPoListResponse {
    pub purchase_order_list: Vec<PurchaseOrder>,
    pub total: i64,
}

/// `getPoList`. `vendor_id` is a string in this method's signature.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetPoList {
    pub vendor_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub po_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub co_mode: Option<String>,
    /// Both sell times empty: the POs that still need picking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub st_sell_st_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub et_sell_st_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub st_po_start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub et_po_start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

impl GetPoList {
    pub fn new(vendor_id: i64) -> Self {
        Self {
            vendor_id: vendor_id.to_string(),
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        required("vendor_id", &self.vendor_id)?;
        check_co_mode(&self.co_mode)?;
        check_paging(self.page, self.limit)
    }
}

vop_method!(GetPoList, DELIVERY_SERVICE, "getPoList", GetPoListResponse);

paged!(
    GetPoList,
    GetPoListResponse,
    PurchaseOrder,
    purchase_order_list
);

/// `PurchaseOrderSku`: one ordered barcode of a PO.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PurchaseOrderSku {
    pub po_no: Option<String>,
    pub sell_site: Option<String>,
    pub warehouse: Option<String>,
    pub barcode: String,
    pub product_name: Option<String>,
    pub amount: i64,
    /// `single` / `multiple`.
    pub order_cate: Option<String>,
    /// 10 未拣货, 13 缺货, 20 拣货中, 97 已取消.
    pub order_status: Option<String>,
    pub create_time: Option<String>,
    pub audit_time: Option<String>,
    pub actual_unit_price: Option<String>,
    pub actual_market_price: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GetPoSkuListResponse {
    pub purchase_order_sku_list: Vec<PurchaseOrderSku>,
    pub total: i64,
}

/// `getPoSkuList`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetPoSkuList {
    pub vendor_id: i64,
    pub po_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<Warehouse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

impl GetPoSkuList {
    pub fn new(vendor_id: i64, po_no: impl Into<String>) -> Self {
        Self {
            vendor_id,
            po_no: po_no.into(),
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        required("po_no", &self.po_no)?;
        check_paging(self.page, self.limit)
    }
}

vop_method!(
    GetPoSkuList,
    DELIVERY_SERVICE,
    "getPoSkuList",
    GetPoSkuListResponse
);

paged!(
    GetPoSkuList,
    GetPoSkuListResponse,
    PurchaseOrderSku,
    purchase_order_sku_list
);

/// `SimplePick`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SimplePick {
    /// `PICK-...`, `BHPICK-...` or `MULPICK-...`.
    pub pick_no: String,
    pub pick_type: Option<String>,
    pub warehouse: Option<String>,
    pub store_sn: Option<String>,
    pub jit_type: Option<i32>,
}

/// `createPick`: pick lists for the unpicked SKUs of one or more POs (comma-separated).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreatePick {
    pub po_no: String,
    pub vendor_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub co_mode: Option<String>,
    /// Comma-separated warehouses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_sn: Option<String>,
}

impl CreatePick {
    pub fn new(vendor_id: i64, po_no: impl Into<String>) -> Self {
        Self {
            vendor_id,
            po_no: po_no.into(),
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        required("po_no", &self.po_no)?;
        check_co_mode(&self.co_mode)
    }
}

vop_method!(CreatePick, DELIVERY_SERVICE, "createPick", Vec<SimplePick>);

/// `Pick`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Pick {
    pub po_no: String,
    pub pick_no: String,
    pub co_mode: Option<String>,
    pub sell_site: Option<String>,
    pub order_cate: Option<String>,
    pub pick_num: Option<i64>,
    pub create_time: Option<String>,
    pub first_export_time: Option<String>,
    pub export_num: Option<i64>,
    /// 0 未发货, 1 已发货.
    pub delivery_status: Option<i32>,
    pub store_sn: Option<String>,
    pub delivery_num: Option<i64>,
    pub warehouse: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GetPickListResponse {
    pub picks: Vec<Pick>,
    pub total: i64,
}

/// `getPickList`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetPickList {
    pub vendor_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub po_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<Warehouse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

impl GetPickList {
    pub fn new(vendor_id: i64) -> Self {
        Self {
            vendor_id,
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        check_paging(self.page, self.limit)
    }
}

vop_method!(
    GetPickList,
    DELIVERY_SERVICE,
    "getPickList",
    GetPickListResponse
);

paged!(GetPickList, GetPickListResponse, Pick, picks);

/// `PickProduct`: one barcode of a pick.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PickProduct {
    /// Picked quantity.
    pub stock: i64,
    pub barcode: String,
    pub art_no: Option<String>,
    pub product_name: Option<String>,
    pub size: Option<String>,
    /// Still to be delivered.
    pub not_delivery_num: i64,
}

/// `PickDetail`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PickDetail {
    pub po_no: String,
    pub sell_st_time: Option<String>,
    pub sell_et_time: Option<String>,
    pub warehouse: Option<String>,
    pub order_cate: Option<String>,
    pub pick_product_list: Vec<PickProduct>,
    pub total: i64,
    pub store_sn: Option<String>,
}

/// `getPickDetail`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetPickDetail {
    pub po_no: String,
    pub vendor_id: i64,
    pub pick_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

impl GetPickDetail {
    pub fn new(vendor_id: i64, po_no: impl Into<String>, pick_no: impl Into<String>) -> Self {
        Self {
            vendor_id,
            po_no: po_no.into(),
            pick_no: pick_no.into(),
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        required("po_no", &self.po_no)?;
        required("pick_no", &self.pick_no)?;
        check_paging(self.page, self.limit)
    }
}

vop_method!(GetPickDetail, DELIVERY_SERVICE, "getPickDetail", PickDetail);

/// `CreateDeliveryResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateDeliveryResponse {
    pub delivery_id: Option<String>,
    /// 入库单号: the key of the delivery in every later call.
    pub storage_no: String,
}

/// `createDelivery`: a delivery (送货单) of a PO to a warehouse.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateDelivery {
    pub vendor_id: i64,
    pub po_no: String,
    /// 运单号.
    pub delivery_no: String,
    pub warehouse: Option<Warehouse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_time: Option<String>,
    /// 要求到货时间, `yyyy-MM-dd HH:mm:ss`.
    pub arrival_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub race_time: Option<String>,
    pub carrier_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_tel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate_number: Option<String>,
    /// `1` 汽运, `2` 空运.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_sn: Option<String>,
    pub carrier_code: String,
}

impl CreateDelivery {
    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        for (field, value) in [
            ("po_no", &self.po_no),
            ("delivery_no", &self.delivery_no),
            ("arrival_time", &self.arrival_time),
            ("carrier_name", &self.carrier_name),
            ("carrier_code", &self.carrier_code),
        ] {
            required(field, value)?;
        }
        ensure(self.warehouse.is_some(), "warehouse", || "required".into())?;
        ensure(
            crate::time::parse_datetime_ms(&self.arrival_time).is_some(),
            "arrival_time",
            || format!("expected yyyy-MM-dd HH:mm:ss, got {:?}", self.arrival_time),
        )?;
        if let Some(method) = self.delivery_method.as_deref() {
            ensure(matches!(method, "1" | "2"), "delivery_method", || {
                format!("expected 1 (汽运) or 2 (空运), got {method:?}")
            })?;
        }
        Ok(())
    }
}

vop_method!(
    CreateDelivery,
    DELIVERY_SERVICE,
    "createDelivery",
    CreateDeliveryResponse
);

/// `Delivery`: one box line of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryItem {
    /// `COMMON` or `3PL`.
    pub vendor_type: String,
    pub barcode: String,
    pub box_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick_no: Option<String>,
    pub amount: i64,
    /// Required for multi-PO picks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub po_no: Option<String>,
}

/// `importDeliveryDetail`: what is in the delivery's boxes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportDeliveryDetail {
    pub vendor_id: i64,
    pub po_no: String,
    pub storage_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_sn: Option<String>,
    pub delivery_list: Vec<DeliveryItem>,
}

impl ImportDeliveryDetail {
    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        required("po_no", &self.po_no)?;
        required("storage_no", &self.storage_no)?;
        ensure(!self.delivery_list.is_empty(), "delivery_list", || {
            "expected at least one box line".into()
        })?;
        for (i, item) in self.delivery_list.iter().enumerate() {
            let field = format!("delivery_list[{i}]");
            ensure(
                matches!(item.vendor_type.as_str(), "COMMON" | "3PL"),
                &field,
                || {
                    format!(
                        "vendor_type: expected COMMON or 3PL, got {:?}",
                        item.vendor_type
                    )
                },
            )?;
            ensure(
                !item.barcode.is_empty() && !item.box_no.is_empty(),
                &field,
                || "barcode and box_no are required".into(),
            )?;
            ensure(item.amount > 0, &field, || {
                format!("amount: expected a positive quantity, got {}", item.amount)
            })?;
        }
        Ok(())
    }
}

vop_method!(
    ImportDeliveryDetail,
    DELIVERY_SERVICE,
    "importDeliveryDetail",
    Value
);

/// `confirmDelivery`: the delivery leaves; its lines can no longer change.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConfirmDelivery {
    pub vendor_id: i64,
    pub storage_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub po_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_sn: Option<String>,
}

impl ConfirmDelivery {
    pub fn new(vendor_id: i64, storage_no: impl Into<String>) -> Self {
        Self {
            vendor_id,
            storage_no: storage_no.into(),
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        required("storage_no", &self.storage_no)
    }
}

vop_method!(ConfirmDelivery, DELIVERY_SERVICE, "confirmDelivery", Value);

/// `ConfirmDeliveryInfoRequest`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConfirmDeliveryInfoRequest {
    pub vendor_id: i64,
    pub storage_no: String,
    pub carrier_code: String,
    pub delivery_no: String,
    pub delivery_method: String,
}

/// `confirmDeliveryInfo`: confirm with the carrier details in one call.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConfirmDeliveryInfo {
    #[serde(rename = "confirmRequest")]
    pub confirm_request: ConfirmDeliveryInfoRequest,
}

impl ConfirmDeliveryInfo {
    fn check(&self) -> Result<(), VopError> {
        let r = &self.confirm_request;
        check_vendor(r.vendor_id)?;
        for (field, value) in [
            ("confirmRequest.storage_no", &r.storage_no),
            ("confirmRequest.carrier_code", &r.carrier_code),
            ("confirmRequest.delivery_no", &r.delivery_no),
            ("confirmRequest.delivery_method", &r.delivery_method),
        ] {
            required(field, value)?;
        }
        Ok(())
    }
}

vop_method!(
    ConfirmDeliveryInfo,
    DELIVERY_SERVICE,
    "confirmDeliveryInfo",
    Value
);

/// `editDelivery`: change an unconfirmed delivery's carrier or times.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EditDelivery {
    pub vendor_id: i64,
    pub storage_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_no: Option<String>,
    pub warehouse: Option<Warehouse>,
    pub delivery_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival_time: Option<String>,
    pub race_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    pub carrier_code: String,
}

impl EditDelivery {
    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        for (field, value) in [
            ("storage_no", &self.storage_no),
            ("delivery_time", &self.delivery_time),
            ("race_time", &self.race_time),
            ("carrier_code", &self.carrier_code),
        ] {
            required(field, value)?;
        }
        ensure(self.warehouse.is_some(), "warehouse", || "required".into())
    }
}

vop_method!(EditDelivery, DELIVERY_SERVICE, "editDelivery", Value);

/// `deleteDeliveryDetail`: empty an unconfirmed delivery.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeleteDeliveryDetail {
    pub vendor_id: i64,
    pub storage_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub po_no: Option<String>,
}

impl DeleteDeliveryDetail {
    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        required("storage_no", &self.storage_no)
    }
}

vop_method!(
    DeleteDeliveryDetail,
    DELIVERY_SERVICE,
    "deleteDeliveryDetail",
    Vec<Value>
);

/// `DeliveryList`: a delivery and its state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryInfo {
    pub vendor_id: Option<String>,
    pub po_no: Option<String>,
    pub delivery_no: Option<String>,
    pub warehouse: Option<String>,
    pub storage_no: String,
    pub out_time: Option<String>,
    pub arrive_time: Option<String>,
    pub real_arrive_time: Option<String>,
    pub race_time: Option<String>,
    /// 0 未出仓, 1 已出仓 (confirmed).
    #[serde(deserialize_with = "de_lenient_i64")]
    pub out_flag: Option<i64>,
    pub create_time: Option<String>,
    pub delivery_time: Option<String>,
    pub carrier_code: Option<String>,
    pub carrier_name: Option<String>,
    pub delivery_method: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeliveryListResponse {
    pub delivery_list: Vec<DeliveryInfo>,
    pub total: i64,
}

/// `getDeliveryList`. `vendor_id` is a string in this method's signature.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetDeliveryList {
    pub vendor_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub po_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_flag: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

impl GetDeliveryList {
    pub fn new(vendor_id: i64) -> Self {
        Self {
            vendor_id: vendor_id.to_string(),
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        required("vendor_id", &self.vendor_id)?;
        check_paging(self.page, self.limit)
    }
}

vop_method!(
    GetDeliveryList,
    DELIVERY_SERVICE,
    "getDeliveryList",
    GetDeliveryListResponse
);

paged!(
    GetDeliveryList,
    GetDeliveryListResponse,
    DeliveryInfo,
    delivery_list
);

/// A carrier.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Carrier {
    pub tms_carrier_id: Option<String>,
    pub carrier_name: String,
    pub carrier_shortname: Option<String>,
    pub carrier_code: String,
    pub carrier_isvalid: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GetCarrierListResponse {
    pub carriers: Vec<Carrier>,
    pub total: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CarrierRequest {
    pub vendor_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

/// `getCarrierList` (`{"carrierRequest": {...}}`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetCarrierList {
    #[serde(rename = "carrierRequest")]
    pub carrier_request: CarrierRequest,
}

impl GetCarrierList {
    pub fn new(vendor_id: i64) -> Self {
        Self {
            carrier_request: CarrierRequest {
                vendor_id,
                ..CarrierRequest::default()
            },
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.carrier_request.vendor_id)?;
        check_paging(self.carrier_request.page, self.carrier_request.limit)
    }
}

vop_method!(
    GetCarrierList,
    DELIVERY_SERVICE,
    "getCarrierList",
    GetCarrierListResponse
);

impl Paged for GetCarrierList {
    type Item = Carrier;

    fn at_page(&self, page: i32, limit: i32) -> Self {
        let mut next = self.clone();
        next.carrier_request.page = Some(page);
        next.carrier_request.limit = Some(limit);
        next
    }

    fn split(output: GetCarrierListResponse) -> (Vec<Carrier>, i64) {
        (output.carriers, output.total)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PrintDelivery {
    /// The printable delivery note.
    pub template: Option<String>,
    pub total: i64,
}

/// `getPrintDelivery`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetPrintDelivery {
    pub vendor_id: i64,
    pub storage_no: String,
    pub po_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub box_no: Option<String>,
}

impl GetPrintDelivery {
    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        required("storage_no", &self.storage_no)?;
        required("po_no", &self.po_no)
    }
}

vop_method!(
    GetPrintDelivery,
    DELIVERY_SERVICE,
    "getPrintDelivery",
    PrintDelivery
);

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SkuPrice {
    pub barcode: String,
    /// 不含税.
    pub actual_unit_price: Option<String>,
    /// 含税.
    pub actual_market_price: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SkuPriceInfo {
    pub price_list: Vec<SkuPrice>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SkuPriceRequest {
    pub vendor_id: i64,
    pub po_no: String,
    pub barcodes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_id: Option<String>,
}

/// `getSkuPriceInfo` (`{"request": {...}}`), at most 200 barcodes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetSkuPriceInfo {
    pub request: SkuPriceRequest,
}

impl GetSkuPriceInfo {
    pub const MAX_BARCODES: usize = 200;

    pub fn new(vendor_id: i64, po_no: impl Into<String>, barcodes: Vec<String>) -> Self {
        Self {
            request: SkuPriceRequest {
                vendor_id,
                po_no: po_no.into(),
                barcodes,
                ..SkuPriceRequest::default()
            },
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.request.vendor_id)?;
        required("request.po_no", &self.request.po_no)?;
        let count = self.request.barcodes.len();
        ensure(
            (1..=Self::MAX_BARCODES).contains(&count),
            "request.barcodes",
            || format!("expected 1 to {} barcodes, got {count}", Self::MAX_BARCODES),
        )
    }
}

vop_method!(
    GetSkuPriceInfo,
    DELIVERY_SERVICE,
    "getSkuPriceInfo",
    SkuPriceInfo
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VopRequest;

    #[test]
    fn bodies_are_flat_or_wrapped_as_the_idl_says() {
        let pick = CreatePick::new(550, "2000011849")
            .arguments()
            .expect("json");
        assert_eq!(
            pick,
            serde_json::json!({"po_no": "2000011849", "vendor_id": 550})
        );
        let carriers = GetCarrierList::new(550).arguments().expect("json");
        assert_eq!(carriers["carrierRequest"]["vendor_id"], 550);
        let po = GetPoList::new(550)
            .at_page(2, 100)
            .arguments()
            .expect("json");
        assert_eq!(
            po,
            serde_json::json!({"vendor_id": "550", "page": 2, "limit": 100})
        );
    }

    #[test]
    fn required_arguments_and_limits_are_named() {
        let err = GetPoList {
            limit: Some(101),
            ..GetPoList::new(550)
        }
        .validate()
        .expect_err("limit");
        assert!(err.to_string().contains("limit"));
        let err = ImportDeliveryDetail {
            vendor_id: 550,
            po_no: "1".into(),
            storage_no: "S".into(),
            store_sn: None,
            delivery_list: vec![DeliveryItem {
                vendor_type: "OTHER".into(),
                barcode: "b".into(),
                box_no: "1".into(),
                pick_no: None,
                amount: 1,
                po_no: None,
            }],
        }
        .validate()
        .expect_err("vendor type");
        assert!(
            err.to_string().contains("delivery_list[0]") && err.to_string().contains("COMMON"),
            "{err}"
        );
        let err = CreatePick::new(0, "1").validate().expect_err("vendor");
        assert!(err.to_string().contains("vendor_id"));
        let many = GetSkuPriceInfo::new(550, "1", vec!["b".into(); 201])
            .validate()
            .expect_err("201");
        assert!(many.to_string().contains("200"));
    }
}
