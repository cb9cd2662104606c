//! Vipshop Union (唯品会联盟) affiliate services, in channel and tool-provider modes, plus the
//! offline link tools and the earnings report.

pub mod earnings;
pub mod goods;
pub mod links;
pub mod order;
pub mod pid;
pub mod url;

pub use goods::{
    CommonParams, GetByGoodsIds, GoodsInfo, GoodsInfoResponse, GoodsList, GoodsQueryFlags,
    JX_CODES, Query, SimilarRecommend, SortField, UserRecommend,
};
pub use order::{
    OrderHead, OrderInfo, OrderList, OrderStage, OrderStatus, RefundOrderInfo, RefundOrderList,
    RefundSearch,
};
pub use pid::{GenPid, PID_CAP, QueryPid};
pub use url::{
    GenByGoodsId, GenByVipUrl, UrlGenResponse, UrlInfo, VIPSHOP_MINI_PROGRAM_APPID, VipLinkCheck,
};

/// `com.vip.adp.api.open.service.UnionGoodsService`
pub const GOODS_SERVICE: &str = "com.vip.adp.api.open.service.UnionGoodsService";
/// `com.vip.adp.api.open.service.UnionUrlService`
pub const URL_SERVICE: &str = "com.vip.adp.api.open.service.UnionUrlService";
/// `com.vip.adp.api.open.service.UnionOrderService`
pub const ORDER_SERVICE: &str = "com.vip.adp.api.open.service.UnionOrderService";
/// `com.vip.adp.api.open.service.UnionPidService`
pub const PID_SERVICE: &str = "com.vip.adp.api.open.service.UnionPidService";

/// A fresh `requestId`: the guide asks for a unique value per call and suggests a UUID.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
