//! JIT supplier services of the simulator: vendors with products, per-warehouse inventory,
//! purchase orders, picks, deliveries, returns to vendor, and direct-ship (DVD) orders that get
//! cancelled or returned over the simulated clock. A token acts for its user's vendor only.

pub mod data;
pub mod delivery;
pub mod dvd;
pub mod stock;

use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use super::VopState;
use super::args::Args;
use super::gateway::{Call, GatewayError};

pub use data::{JitData, Vendor};

pub const DELIVERY_SERVICE: &str = "vipapis.delivery.JitDeliveryService";
pub const INVENTORY_SERVICE: &str = "vipapis.inventory.InventoryService";
pub const PRODUCT_SERVICE: &str = "vipapis.product.VendorProductService";
pub const RETURN_SERVICE: &str = "vipapis.vreturn.VendorReturnService";
pub const DVD_SERVICE: &str = "vipapis.delivery.DvdDeliveryService";

const DELIVERY_METHODS: [&str; 15] = [
    "getPoList",
    "getPoSkuList",
    "createPick",
    "getPickList",
    "getPickDetail",
    "createDelivery",
    "importDeliveryDetail",
    "confirmDelivery",
    "confirmDeliveryInfo",
    "editDelivery",
    "deleteDeliveryDetail",
    "getDeliveryList",
    "getCarrierList",
    "getPrintDelivery",
    "getSkuPriceInfo",
];

/// Whether this module serves the method.
pub fn implements(service: &str, method: &str) -> bool {
    match service {
        DELIVERY_SERVICE => DELIVERY_METHODS.contains(&method),
        INVENTORY_SERVICE => matches!(method, "updateInventory" | "getSkuStock"),
        PRODUCT_SERVICE => matches!(method, "multiGetProductSkuInfo" | "multiGetProductSpuInfo"),
        RETURN_SERVICE => matches!(method, "getReturnInfo" | "getReturnDetail"),
        DVD_SERVICE => matches!(
            method,
            "getOrderList" | "getOrderDetail" | "ship" | "getCarrierList" | "getOrderReturnList"
        ),
        _ => false,
    }
}

/// A service-level rejection, as the real services word them (`CALLEE_USER_<service>.invalid-parameter`).
pub fn rejected(service: &str, message: impl Into<String>) -> GatewayError {
    let short = service.rsplit_once('.').map_or(service, |(_, name)| name);
    GatewayError {
        code: format!("CALLEE_USER_vipapis.{short}.invalid-parameter"),
        message: message.into(),
        business: true,
    }
}

/// The vendor named by the arguments, if the token's user may act for it.
pub fn vendor_of<'a>(
    jit: &'a mut JitData,
    call: &Call<'_>,
    args: &Args<'_>,
) -> Result<&'a mut Vendor, GatewayError> {
    let vendor_id = args.opt_i64("vendor_id")?.ok_or_else(|| {
        GatewayError::new(
            "vipapis.miss-parameter",
            format!("缺少参数: {}", args.path("vendor_id")),
        )
    })?;
    let allowed = call.user.and_then(|user| user.vendor_id);
    if allowed != Some(vendor_id) {
        return Err(GatewayError::new(
            "vipapis.oauth-invalidate-failure",
            format!(
                "oauth验证失败: vendor_id {vendor_id} Field Value is not authorized for this token"
            ),
        ));
    }
    jit.vendors.get_mut(&vendor_id).ok_or_else(|| {
        rejected(
            call.service,
            format!("vendor_id {vendor_id} is not a JIT vendor"),
        )
    })
}

/// `page` (from 1) and `limit` (default 50, at most 100).
pub fn paging(args: &Args<'_>) -> Result<(usize, usize), GatewayError> {
    let page = args.opt_i64("page")?.unwrap_or(1);
    let limit = args.opt_i64("limit")?.unwrap_or(50);
    if page < 1 {
        return Err(GatewayError::invalid_argument(format!(
            "{}: expected 1 or more, got {page}",
            args.path("page")
        )));
    }
    if !(1..=100).contains(&limit) {
        return Err(GatewayError::invalid_argument(format!(
            "{}: expected 1 to 100, got {limit}",
            args.path("limit")
        )));
    }
    Ok((page as usize, limit as usize))
}

/// One page of `items` as `{list_name: [...], "total": N}`.
pub fn page_of(items: Vec<Value>, list_name: &str, page: usize, limit: usize) -> Value {
    let total = items.len();
    let items: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    serde_json::json!({ list_name: items, "total": total })
}

pub fn handle(
    vop: &mut VopState,
    rng: &mut ChaCha8Rng,
    call: &Call<'_>,
) -> Result<Value, GatewayError> {
    let jit = &mut vop.jit;
    match call.service {
        DELIVERY_SERVICE => delivery::handle(jit, rng, call),
        INVENTORY_SERVICE | PRODUCT_SERVICE | RETURN_SERVICE => stock::handle(jit, call),
        DVD_SERVICE => dvd::handle(jit, call),
        _ => Err(GatewayError::new(
            "vipapis.path.Error",
            format!("no method {}.{}", call.service, call.method),
        )),
    }
}
