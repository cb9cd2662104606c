//! `vipapis.delivery.DvdDeliveryService`: JIT direct shipping (JITX / DVD): the vendor ships
//! buyers' orders itself. The order-level flow polyapi's GetOrder and Send map onto.
//!
//! The official SDK copies give this service's signatures but not its structs; the fields and
//! status codes below are the ones the sandbox implements, documented in the README:
//! `order_status` 10 待发货, 22 已发货, 25 已揽收, 30 已签收, 60 禁发, 97 未发货取消,
//! 98 已发货取消, 99 已揽收取消; return `status` 1 申请中, 2 已同意待退货, 3 已退货待确认,
//! 4 退款完成, 5 已拒绝.

use serde::{Deserialize, Serialize};

use super::delivery::{Carrier, GetCarrierListResponse};
use super::{DVD_SERVICE, check_paging, check_vendor, de_lenient_i64, paged, required, vop_method};
use crate::VopError;
use crate::request::ensure;

/// `order_status` of a direct-ship order.
pub mod status {
    pub const AWAITING_SHIPMENT: i64 = 10;
    pub const SHIPPED: i64 = 22;
    pub const COLLECTED: i64 = 25;
    pub const SIGNED: i64 = 30;
    pub const FORBIDDEN: i64 = 60;
    pub const CANCELLED_BEFORE_SHIPPING: i64 = 97;
    pub const CANCELLED_AFTER_SHIPPING: i64 = 98;
    pub const CANCELLED_AFTER_COLLECTION: i64 = 99;
}

/// A line of a direct-ship order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DvdOrderGoods {
    pub barcode: String,
    pub product_name: Option<String>,
    pub size: Option<String>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub amount: Option<i64>,
    /// Unit price (元).
    pub price: Option<String>,
}

/// A direct-ship order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DvdOrder {
    pub order_id: String,
    pub po_no: Option<String>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub order_status: Option<i64>,
    pub status_name: Option<String>,
    /// `yyyy-MM-dd HH:mm:ss` (Beijing).
    pub add_time: Option<String>,
    pub pay_time: Option<String>,
    pub update_time: Option<String>,
    pub buyer: Option<String>,
    pub mobile: Option<String>,
    pub tel: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub town: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub amount: Option<String>,
    pub carriage: Option<String>,
    pub favourable_money: Option<String>,
    pub warehouse: Option<String>,
    pub remark: Option<String>,
    pub carrier_code: Option<String>,
    pub carrier_name: Option<String>,
    pub transport_no: Option<String>,
    pub goods: Vec<DvdOrderGoods>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DvdOrderList {
    pub dvd_order_list: Vec<DvdOrder>,
    pub total: i64,
}

/// `getOrderList`: by creation (`st/et_add_time`) or last update (`st/et_update_time`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetOrderList {
    pub vendor_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub st_add_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub et_add_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub st_update_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub et_update_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

impl GetOrderList {
    pub fn new(vendor_id: i64) -> Self {
        Self {
            vendor_id,
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        check_paging(self.page, self.limit)?;
        for (field, value) in [
            ("st_add_time", &self.st_add_time),
            ("et_add_time", &self.et_add_time),
            ("st_update_time", &self.st_update_time),
            ("et_update_time", &self.et_update_time),
        ] {
            if let Some(value) = value {
                ensure(
                    crate::time::parse_datetime_ms(value).is_some(),
                    field,
                    || format!("expected yyyy-MM-dd HH:mm:ss, got {value:?}"),
                )?;
            }
        }
        Ok(())
    }
}

vop_method!(GetOrderList, DVD_SERVICE, "getOrderList", DvdOrderList);

paged!(GetOrderList, DvdOrderList, DvdOrder, dvd_order_list);

/// `getOrderDetail`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetOrderDetail {
    pub vendor_id: i64,
    pub order_id: String,
}

impl GetOrderDetail {
    pub fn new(vendor_id: i64, order_id: impl Into<String>) -> Self {
        Self {
            vendor_id,
            order_id: order_id.into(),
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        required("order_id", &self.order_id)
    }
}

vop_method!(GetOrderDetail, DVD_SERVICE, "getOrderDetail", DvdOrder);

/// A barcode and quantity in a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageProduct {
    pub barcode: String,
    pub amount: i64,
}

/// One parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The waybill number.
    pub transport_no: String,
    /// Empty: every remaining line of the order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub package_product_list: Vec<PackageProduct>,
}

/// One order to ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipItem {
    pub order_id: String,
    pub carrier_code: String,
    pub carrier_name: String,
    pub packages: Vec<Package>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ShipFailure {
    pub order_id: String,
    pub error_msg: String,
}

/// What `ship` answers: per order success or failure.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ShipResult {
    pub success_num: i64,
    pub fail_num: i64,
    pub fail_data: Vec<ShipFailure>,
}

/// `ship`: at most 50 orders a call.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ship {
    pub vendor_id: i64,
    pub ship_list: Vec<ShipItem>,
}

impl Ship {
    pub const MAX_ORDERS: usize = 50;

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        let count = self.ship_list.len();
        ensure((1..=Self::MAX_ORDERS).contains(&count), "ship_list", || {
            format!("expected 1 to {} orders, got {count}", Self::MAX_ORDERS)
        })?;
        for (i, item) in self.ship_list.iter().enumerate() {
            let field = format!("ship_list[{i}]");
            ensure(
                !item.order_id.is_empty() && !item.carrier_code.is_empty(),
                &field,
                || "order_id and carrier_code are required".into(),
            )?;
            ensure(!item.packages.is_empty(), &field, || {
                "expected at least one package".into()
            })?;
            for package in &item.packages {
                ensure(!package.transport_no.trim().is_empty(), &field, || {
                    "packages[].transport_no is required".into()
                })?;
                ensure(
                    package.package_product_list.iter().all(|p| p.amount > 0),
                    &field,
                    || "package_product_list[].amount must be positive".into(),
                )?;
            }
        }
        Ok(())
    }
}

vop_method!(Ship, DVD_SERVICE, "ship", ShipResult);

/// `getCarrierList` of the direct-ship service.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetDvdCarrierList {
    pub vendor_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

impl GetDvdCarrierList {
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
    GetDvdCarrierList,
    DVD_SERVICE,
    "getCarrierList",
    GetCarrierListResponse
);

paged!(GetDvdCarrierList, GetCarrierListResponse, Carrier, carriers);

/// A buyer's return of a direct-ship order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DvdReturn {
    pub order_id: String,
    pub return_sn: String,
    /// 1 申请中, 2 已同意待退货, 3 已退货待确认, 4 退款完成, 5 已拒绝.
    #[serde(deserialize_with = "de_lenient_i64")]
    pub status: Option<i64>,
    pub status_name: Option<String>,
    pub create_time: Option<String>,
    pub update_time: Option<String>,
    pub refund_amount: Option<String>,
    pub goods: Vec<PackageProduct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DvdReturnList {
    pub return_list: Vec<DvdReturn>,
    pub total: i64,
}

/// `getOrderReturnList`: buyers' returns, by creation time or for one order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetOrderReturnList {
    pub vendor_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub st_create_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub et_create_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

impl GetOrderReturnList {
    /// Every return of the vendor.
    pub fn default_for(vendor_id: i64) -> Self {
        Self {
            vendor_id,
            ..Self::default()
        }
    }

    pub fn for_order(vendor_id: i64, order_id: impl Into<String>) -> Self {
        Self {
            vendor_id,
            order_id: Some(order_id.into()),
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        check_paging(self.page, self.limit)
    }
}

vop_method!(
    GetOrderReturnList,
    DVD_SERVICE,
    "getOrderReturnList",
    DvdReturnList
);

paged!(GetOrderReturnList, DvdReturnList, DvdReturn, return_list);
