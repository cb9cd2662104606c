//! `vipapis.inventory.InventoryService`: stock sync (full or incremental, idempotent by
//! `batch_no`, with circuit-break acknowledgement) and stock lookup.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{INVENTORY_SERVICE, Warehouse, check_vendor, de_lenient_i64, required, vop_method};
use crate::VopError;
use crate::request::ensure;

/// `batch_no` is unique per vendor and at most 40 characters.
pub const MAX_BATCH_NO_CHARS: usize = 40;

/// `sync_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// 0 全量: the quantity replaces the sellable stock.
    #[default]
    Full,
    /// 1 增量: the quantity is added (negative: removed).
    Incremental,
}

/// `UpdateSkuInventoryRequest`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdateSkuInventoryRequest {
    pub vendor_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooperation_no: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<Warehouse>,
    pub barcode: String,
    pub quantity: i64,
    pub batch_no: String,
    /// 1: the vendor acknowledges a circuit break (熔断确认).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuit_break_ack_flag: Option<i32>,
    /// 0 全量, 1 增量.
    pub sync_mode: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_warehouse_id: Option<String>,
}

/// `updateInventory` (`{"request": {...}}`); answers `null`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdateInventory {
    pub request: UpdateSkuInventoryRequest,
}

/// A `batch_no` from a UUID: unique and within 40 characters.
pub fn new_batch_no() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl UpdateInventory {
    pub fn new(vendor_id: i64, barcode: impl Into<String>, quantity: i64, mode: SyncMode) -> Self {
        Self {
            request: UpdateSkuInventoryRequest {
                vendor_id,
                barcode: barcode.into(),
                quantity,
                batch_no: new_batch_no(),
                sync_mode: match mode {
                    SyncMode::Full => 0,
                    SyncMode::Incremental => 1,
                },
                ..UpdateSkuInventoryRequest::default()
            },
        }
    }

    pub fn warehouse(mut self, warehouse: Warehouse) -> Self {
        self.request.warehouse = Some(warehouse);
        self
    }

    pub fn batch_no(mut self, batch_no: impl Into<String>) -> Self {
        self.request.batch_no = batch_no.into();
        self
    }

    /// Acknowledges a circuit break the platform reported for this barcode.
    pub fn acknowledge_circuit_break(mut self) -> Self {
        self.request.circuit_break_ack_flag = Some(1);
        self
    }

    fn check(&self) -> Result<(), VopError> {
        let r = &self.request;
        check_vendor(r.vendor_id)?;
        required("request.barcode", &r.barcode)?;
        required("request.batch_no", &r.batch_no)?;
        let chars = r.batch_no.chars().count();
        ensure(chars <= MAX_BATCH_NO_CHARS, "request.batch_no", || {
            format!("at most {MAX_BATCH_NO_CHARS} characters, got {chars}")
        })?;
        ensure(matches!(r.sync_mode, 0 | 1), "request.sync_mode", || {
            format!("expected 0 or 1, got {}", r.sync_mode)
        })?;
        if r.sync_mode == 0 {
            ensure(r.quantity >= 0, "request.quantity", || {
                format!(
                    "a full sync needs a quantity of 0 or more, got {}",
                    r.quantity
                )
            })?;
        }
        Ok(())
    }
}

vop_method!(UpdateInventory, INVENTORY_SERVICE, "updateInventory", Value);

/// One row of `getSkuStock`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SkuStock {
    pub cooperation_no: Option<String>,
    pub warehouse: Option<String>,
    pub barcode: String,
    /// Sellable stock left.
    #[serde(deserialize_with = "de_lenient_i64")]
    pub leaving_stock: Option<i64>,
    /// Held by unpaid orders.
    #[serde(deserialize_with = "de_lenient_i64")]
    pub current_hold: Option<i64>,
    /// A drop larger than this needs an acknowledgement.
    #[serde(deserialize_with = "de_lenient_i64")]
    pub circuit_break_value: Option<i64>,
    pub area_warehouse_id: Option<String>,
}

/// `getSkuStock`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetSkuStock {
    pub vendor_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooperation_no: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<Warehouse>,
    pub barcode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_warehouse_id: Option<String>,
}

impl GetSkuStock {
    pub fn new(vendor_id: i64, barcode: impl Into<String>) -> Self {
        Self {
            vendor_id,
            barcode: barcode.into(),
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        required("barcode", &self.barcode)
    }
}

vop_method!(GetSkuStock, INVENTORY_SERVICE, "getSkuStock", Vec<SkuStock>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VopRequest;

    #[test]
    fn batch_numbers_and_quantities() {
        let update = UpdateInventory::new(550, "6901234567890", 5, SyncMode::Incremental);
        assert!(update.request.batch_no.len() <= MAX_BATCH_NO_CHARS);
        assert_eq!(update.arguments().expect("json")["request"]["sync_mode"], 1);
        UpdateInventory::new(550, "b", -3, SyncMode::Incremental)
            .validate()
            .expect("a decrement");
        let err = UpdateInventory::new(550, "b", -3, SyncMode::Full)
            .validate()
            .expect_err("negative full");
        assert!(err.to_string().contains("request.quantity"));
        let err = UpdateInventory::new(550, "b", 1, SyncMode::Full)
            .batch_no("x".repeat(41))
            .validate()
            .expect_err("41");
        assert!(err.to_string().contains("request.batch_no"));
    }
}
