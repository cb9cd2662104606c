//! `vipapis.vreturn.VendorReturnService`: goods the warehouses return to the vendor (退供).

use serde::{Deserialize, Serialize};

use super::{
    RETURN_SERVICE, Warehouse, check_paging, check_vendor, de_lenient_i64, paged, vop_method,
};
use crate::VopError;
use crate::request::ensure;

/// A return (`returnInfos[]`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReturnInfo {
    pub return_sn: String,
    pub warehouse: Option<String>,
    /// 1/2/3 一二三退, 20 VMI二退, 30 无PO退供, 40 残次按PO...
    #[serde(deserialize_with = "de_lenient_i64")]
    pub return_type: Option<i64>,
    pub pay_type: Option<String>,
    pub consignee: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub address: Option<String>,
    pub telephone: Option<String>,
    pub create_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReturnInfoList {
    pub return_infos: Vec<ReturnInfo>,
    pub total: i64,
}

/// One returned line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReturnLine {
    pub barcode: String,
    pub product_name: Option<String>,
    pub grade: Option<String>,
    pub po_no: Option<String>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub qty: Option<i64>,
    pub box_no: Option<String>,
}

/// A return's shipment to the vendor (`returnDeliveryInfos[]`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReturnDelivery {
    pub return_sn: String,
    pub out_time: Option<String>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub total_cases: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub total_skus: Option<i64>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub total_qtys: Option<i64>,
    pub delivery_list: Vec<ReturnLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReturnDetailList {
    pub return_delivery_infos: Vec<ReturnDelivery>,
    pub total: i64,
}

/// The guide's limit: `st_create_time` at most 180 days back.
pub const MAX_RETURN_LOOKBACK_DAYS: i64 = 180;

/// `getReturnInfo`.
#[derive(Debug, Clone, Serialize)]
pub struct GetReturnInfo {
    pub vendor_id: i64,
    pub warehouse: Warehouse,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_sn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub st_create_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ed_create_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

impl GetReturnInfo {
    pub fn new(vendor_id: i64, warehouse: Warehouse) -> Self {
        Self {
            vendor_id,
            warehouse,
            return_sn: None,
            st_create_time: None,
            ed_create_time: None,
            page: None,
            limit: None,
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        check_paging(self.page, self.limit)?;
        if let (Some(start), Some(end)) = (
            self.st_create_time.as_deref(),
            self.ed_create_time.as_deref(),
        ) {
            let (start, end) = (
                crate::time::parse_datetime_ms(start),
                crate::time::parse_datetime_ms(end),
            );
            ensure(
                start.is_some() && end.is_some(),
                "st_create_time/ed_create_time",
                || "expected yyyy-MM-dd HH:mm:ss".into(),
            )?;
            let span_days = (end.unwrap_or_default() - start.unwrap_or_default()) / 86_400_000;
            ensure(
                span_days <= MAX_RETURN_LOOKBACK_DAYS,
                "st_create_time",
                || {
                    format!(
                        "at most {MAX_RETURN_LOOKBACK_DAYS} days before ed_create_time, got {span_days}"
                    )
                },
            )?;
        }
        Ok(())
    }
}

vop_method!(
    GetReturnInfo,
    RETURN_SERVICE,
    "getReturnInfo",
    ReturnInfoList
);

paged!(GetReturnInfo, ReturnInfoList, ReturnInfo, return_infos);

/// `getReturnDetail`.
#[derive(Debug, Clone, Serialize)]
pub struct GetReturnDetail {
    pub vendor_id: i64,
    pub warehouse: Warehouse,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_sn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_time_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_time_end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

impl GetReturnDetail {
    pub fn new(vendor_id: i64, warehouse: Warehouse) -> Self {
        Self {
            vendor_id,
            warehouse,
            return_sn: None,
            out_time_start: None,
            out_time_end: None,
            page: None,
            limit: None,
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        check_paging(self.page, self.limit)
    }
}

vop_method!(
    GetReturnDetail,
    RETURN_SERVICE,
    "getReturnDetail",
    ReturnDetailList
);

paged!(
    GetReturnDetail,
    ReturnDetailList,
    ReturnDelivery,
    return_delivery_infos
);
