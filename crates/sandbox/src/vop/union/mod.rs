//! Union (联盟) services of the simulator: the goods catalog, tracking links, simulated orders
//! and refunds, and PIDs, each acting for the app's developer (channel mode) or for the user
//! who authorized the token (tool-provider mode).

pub mod catalog;
pub mod links;
pub mod orders;
pub mod pids;

use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use shopbridge_core::quota::vop_method_base;

use super::VopState;
use super::gateway::{Call, GatewayError};

pub use catalog::JX_CODES;

pub const GOODS_SERVICE: &str = "com.vip.adp.api.open.service.UnionGoodsService";
pub const URL_SERVICE: &str = "com.vip.adp.api.open.service.UnionUrlService";
pub const ORDER_SERVICE: &str = "com.vip.adp.api.open.service.UnionOrderService";
pub const PID_SERVICE: &str = "com.vip.adp.api.open.service.UnionPidService";

/// Everything the Union simulator holds.
#[derive(Debug)]
pub struct UnionData {
    pub catalog: catalog::Catalog,
    pub links: links::LinkRegistry,
    pub orders: orders::OrderBook,
    pub pids: pids::PidBook,
}

impl UnionData {
    pub fn generate(rng: &mut ChaCha8Rng, goods: usize) -> Self {
        Self {
            catalog: catalog::Catalog::generate(rng, goods),
            links: links::LinkRegistry::default(),
            orders: orders::OrderBook::default(),
            pids: pids::PidBook::default(),
        }
    }
}

/// Whether this module serves the method.
pub fn implements(service: &str, method: &str) -> bool {
    let (base, _) = vop_method_base(method);
    match service {
        GOODS_SERVICE => catalog::serves(method),
        URL_SERVICE => matches!(base, "genByGoodsId" | "genByVIPUrl" | "vipLinkCheck"),
        ORDER_SERVICE => matches!(base, "orderList" | "refundOrderList"),
        PID_SERVICE => matches!(base, "genPid" | "queryPid"),
        _ => false,
    }
}

/// What a degraded caller gets: a well-formed, empty answer.
pub fn empty_result(service: &str, method: &str) -> Value {
    let (base, _) = vop_method_base(method);
    match (service, base) {
        (GOODS_SERVICE, "getByGoodsIds") => json!([]),
        (GOODS_SERVICE, _) => json!({"goodsInfoList": [], "total": 0, "page": 1, "pageSize": 0}),
        (URL_SERVICE, "vipLinkCheck") => json!({"successMap": {}, "failMap": {}}),
        (URL_SERVICE, _) => json!({"urlInfoList": []}),
        (ORDER_SERVICE, "refundOrderList") => {
            json!({"refundOrderInfoList": [], "total": 0, "page": 1, "pageSize": 0})
        }
        (ORDER_SERVICE, _) => json!({"orderInfoList": [], "total": 0, "page": 1, "pageSize": 0}),
        (PID_SERVICE, "genPid") => json!({"pidInfoList": [], "total": 0, "remainPidCount": 0}),
        (PID_SERVICE, _) => json!({"pidInfoList": [], "total": 0}),
        _ => Value::Null,
    }
}

pub fn handle(
    vop: &mut VopState,
    rng: &mut ChaCha8Rng,
    call: &Call<'_>,
) -> Result<Value, GatewayError> {
    let (base, _) = vop_method_base(call.method);
    match (call.service, base) {
        (GOODS_SERVICE, "goodsList") => catalog::goods_list(vop, call),
        (GOODS_SERVICE, "query") => catalog::query(vop, call),
        (GOODS_SERVICE, "getByGoodsIds") => catalog::get_by_goods_ids(vop, call),
        (GOODS_SERVICE, "similarRecommend") => catalog::similar_recommend(vop, call),
        (GOODS_SERVICE, "userRecommend") => catalog::user_recommend(vop, call),
        (URL_SERVICE, "genByGoodsId") => links::gen_by_goods_id(vop, call),
        (URL_SERVICE, "genByVIPUrl") => links::gen_by_vip_url(vop, call),
        (URL_SERVICE, "vipLinkCheck") => links::vip_link_check(vop, call),
        (ORDER_SERVICE, "orderList") => orders::order_list(vop, call),
        (ORDER_SERVICE, "refundOrderList") => orders::refund_order_list(vop, call),
        (PID_SERVICE, "genPid") => pids::gen_pid(vop, rng, call),
        (PID_SERVICE, "queryPid") => pids::query_pid(vop, call),
        _ => Err(GatewayError::new(
            "vipapis.path.Error",
            format!("no method {}.{}", call.service, call.method),
        )),
    }
}
