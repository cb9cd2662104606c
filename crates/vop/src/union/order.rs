//! UnionOrderService: promotion orders, after-settlement refunds, and the order status flow.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shopbridge_core::money::{Decimal, de_opt_amount, ser_opt_amount};

use crate::VopError;
use crate::request::{Mode, VopRequest, ensure, to_json};

use super::{ORDER_SERVICE, new_request_id};

/// The guide's advice: query windows of at most three days (§4.3.1, FAQ).
pub const MAX_WINDOW_MS: i64 = 3 * 24 * 3600 * 1000;
/// Page size limit applied locally (the guide gives the default, 20, but no maximum; 100 is
/// the limit of every other Union list).
pub const MAX_PAGE_SIZE: i32 = 100;

/// `status` of an order: 0 不合格, 1 待定, 2 已完结.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    /// 0 不合格 (invalid: unpaid, or refunded before settlement).
    Invalid,
    /// 1 待定 (ordered, paid or signed).
    Pending,
    /// 2 已完结 (awaiting settlement or settled).
    Completed,
}

impl OrderStatus {
    pub fn code(self) -> i16 {
        match self {
            OrderStatus::Invalid => 0,
            OrderStatus::Pending => 1,
            OrderStatus::Completed => 2,
        }
    }

    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            0 => Some(OrderStatus::Invalid),
            1 => Some(OrderStatus::Pending),
            2 => Some(OrderStatus::Completed),
            _ => None,
        }
    }
}

/// The sub-status flow of §4.3.3-4.3.4 (`orderSubStatusName`), as a state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OrderStage {
    /// 已下单: ordered, not paid yet.
    Ordered,
    /// 已付款
    Paid,
    /// 已签收
    Signed,
    /// 待结算: day 13 after signing.
    PendingSettlement,
    /// 已结算: day 14 after signing; the order never changes again.
    Settled,
    /// 已失效: unpaid for 30 minutes, or returned/exchanged before settlement.
    Invalid,
}

impl OrderStage {
    pub const ALL: [OrderStage; 6] = [
        OrderStage::Ordered,
        OrderStage::Paid,
        OrderStage::Signed,
        OrderStage::PendingSettlement,
        OrderStage::Settled,
        OrderStage::Invalid,
    ];

    /// The platform's `orderSubStatusName`.
    pub fn name(self) -> &'static str {
        match self {
            OrderStage::Ordered => "已下单",
            OrderStage::Paid => "已付款",
            OrderStage::Signed => "已签收",
            OrderStage::PendingSettlement => "待结算",
            OrderStage::Settled => "已结算",
            OrderStage::Invalid => "已失效",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|stage| stage.name() == name)
    }

    /// The `status` code this stage reports (§4.3.4's table).
    pub fn status(self) -> OrderStatus {
        match self {
            OrderStage::Ordered | OrderStage::Paid | OrderStage::Signed => OrderStatus::Pending,
            OrderStage::PendingSettlement | OrderStage::Settled => OrderStatus::Completed,
            OrderStage::Invalid => OrderStatus::Invalid,
        }
    }

    /// Settled and invalid orders never change again.
    pub fn is_final(self) -> bool {
        matches!(self, OrderStage::Settled | OrderStage::Invalid)
    }

    /// Whether the flow allows moving from `self` to `next` (stages may be skipped when a pull
    /// happens rarely, but never walked back, and nothing leaves a final stage).
    pub fn can_become(self, next: OrderStage) -> bool {
        if self == next {
            return true;
        }
        if self.is_final() {
            return false;
        }
        match next {
            // Unpaid orders lapse; paid ones become invalid through an after-sale before settlement.
            OrderStage::Invalid => true,
            _ => next > self,
        }
    }
}

/// After-sales of one line (`AfterSaleDetailInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AfterSaleDetailInfo {
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub after_sale_changed_commission: Option<Decimal>,
    #[serde(default)]
    pub after_sale_changed_goods_count: Option<i32>,
    #[serde(default)]
    pub after_sale_sn: Option<String>,
    /// 1 售后中, 2 完成, 3 取消.
    #[serde(default)]
    pub after_sale_status: Option<i32>,
    /// 1 退货, 2 换货.
    #[serde(default)]
    pub after_sale_type: Option<i32>,
    #[serde(default)]
    pub after_sale_finish_time: Option<i64>,
}

/// One line of an order (`OrderDetailInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderDetailInfo {
    pub goods_id: String,
    #[serde(default)]
    pub goods_name: Option<String>,
    #[serde(default)]
    pub goods_thumb: Option<String>,
    #[serde(default)]
    pub goods_count: Option<i32>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub commission_total_cost: Option<Decimal>,
    /// Percent.
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub commission_rate: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub commission: Option<Decimal>,
    #[serde(default)]
    pub comm_code: Option<String>,
    #[serde(default)]
    pub comm_name: Option<String>,
    #[serde(default)]
    pub order_source: Option<String>,
    #[serde(default)]
    pub after_sale_info: Vec<AfterSaleDetailInfo>,
    #[serde(default)]
    pub size_id: Option<String>,
    #[serde(default)]
    pub status: Option<i16>,
}

/// A promotion order (`OrderInfo`). Times are epoch milliseconds; money is exact (元).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderInfo {
    pub order_sn: String,
    pub status: i16,
    /// 0 待定, 1 新客, 2 老客.
    #[serde(default)]
    pub new_customer: Option<i16>,
    /// Channel mode: the custom channel tag; tool mode: the PID (= `pid`).
    #[serde(default)]
    pub channel_tag: Option<String>,
    pub order_time: i64,
    #[serde(default)]
    pub sign_time: Option<i64>,
    #[serde(default)]
    pub settled_time: Option<i64>,
    #[serde(default)]
    pub detail_list: Vec<OrderDetailInfo>,
    pub last_update_time: i64,
    /// 0 未结算, 1 已结算.
    #[serde(default)]
    pub settled: Option<i16>,
    #[serde(default)]
    pub self_buy: Option<i32>,
    #[serde(default)]
    pub order_sub_status_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub commission: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub after_sale_change_commission: Option<Decimal>,
    #[serde(default)]
    pub after_sale_change_goods_count: Option<i32>,
    #[serde(default)]
    pub commission_enter_time: Option<i64>,
    #[serde(default)]
    pub order_source: Option<String>,
    #[serde(default)]
    pub pid: Option<String>,
    /// 1 for presale (预付) orders.
    #[serde(default)]
    pub is_prepay: Option<i32>,
    #[serde(default)]
    pub stat_param: Option<String>,
}

impl OrderInfo {
    /// The sub-status as a stage of the flow, when the name is a known one.
    pub fn stage(&self) -> Option<OrderStage> {
        self.order_sub_status_name
            .as_deref()
            .and_then(OrderStage::from_name)
    }

    pub fn is_settled(&self) -> bool {
        is_settled(self.settled)
    }

    /// The PID (chanTag) the order is attributed to: `pid`, else `channelTag`.
    pub fn chan_tag(&self) -> Option<&str> {
        chan_tag(self.pid.as_deref(), self.channel_tag.as_deref())
    }
}

fn is_settled(settled: Option<i16>) -> bool {
    settled == Some(1)
}

fn chan_tag<'a>(pid: Option<&'a str>, channel_tag: Option<&'a str>) -> Option<&'a str> {
    pid.or(channel_tag).filter(|tag| !tag.is_empty())
}

/// An order without its lines (`detailList`): its number, state, times, commission and tags,
/// the fields that lists, sums and a sync's rules read. Read from the same text as
/// [`OrderInfo`], with the same types for these fields; the rest of the text is skipped, not
/// read into a model, so it costs a scan and no allocation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderHead {
    pub order_sn: String,
    pub status: i16,
    #[serde(default)]
    pub channel_tag: Option<String>,
    pub order_time: i64,
    #[serde(default)]
    pub settled_time: Option<i64>,
    pub last_update_time: i64,
    #[serde(default)]
    pub settled: Option<i16>,
    #[serde(default)]
    pub order_sub_status_name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_amount")]
    pub commission: Option<Decimal>,
    #[serde(default)]
    pub pid: Option<String>,
    #[serde(default)]
    pub stat_param: Option<String>,
}

impl OrderHead {
    pub fn is_settled(&self) -> bool {
        is_settled(self.settled)
    }

    /// The PID (chanTag) the order is attributed to: `pid`, else `channelTag`.
    pub fn chan_tag(&self) -> Option<&str> {
        chan_tag(self.pid.as_deref(), self.channel_tag.as_deref())
    }
}

impl From<&OrderInfo> for OrderHead {
    fn from(order: &OrderInfo) -> Self {
        Self {
            order_sn: order.order_sn.clone(),
            status: order.status,
            channel_tag: order.channel_tag.clone(),
            order_time: order.order_time,
            settled_time: order.settled_time,
            last_update_time: order.last_update_time,
            settled: order.settled,
            order_sub_status_name: order.order_sub_status_name.clone(),
            commission: order.commission,
            pid: order.pid.clone(),
            stat_param: order.stat_param.clone(),
        }
    }
}

/// `OrderResponse`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderResponse {
    pub order_info_list: Vec<OrderInfo>,
    pub total: i64,
    pub page: i32,
    pub page_size: i32,
}

/// `OrderQueryModel`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderQueryModel {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_time_start: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_time_end: Option<i64>,
    pub page: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i32>,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_time_start: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_time_end: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_sn_list: Option<Vec<String>>,
}

/// `orderList` / `orderListWithOauth`.
#[derive(Debug, Clone)]
pub struct OrderList {
    pub mode: Mode,
    pub query: OrderQueryModel,
}

impl OrderList {
    fn new(mode: Mode) -> Self {
        Self {
            mode,
            query: OrderQueryModel {
                page: 1,
                request_id: new_request_id(),
                ..OrderQueryModel::default()
            },
        }
    }

    /// Orders placed in `[start_ms, end_ms]` (at most three days).
    pub fn by_order_time(mode: Mode, start_ms: i64, end_ms: i64) -> Self {
        let mut list = Self::new(mode);
        list.query.order_time_start = Some(start_ms);
        list.query.order_time_end = Some(end_ms);
        list
    }

    /// Orders whose `lastUpdateTime` is in `[start_ms, end_ms]` (at most three days): the
    /// guide's advice for every stage after 已下单.
    pub fn by_update_time(mode: Mode, start_ms: i64, end_ms: i64) -> Self {
        let mut list = Self::new(mode);
        list.query.update_time_start = Some(start_ms);
        list.query.update_time_end = Some(end_ms);
        list
    }

    /// Specific orders; time ranges may then be omitted.
    pub fn by_order_sns(
        mode: Mode,
        order_sns: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let mut list = Self::new(mode);
        list.query.order_sn_list = Some(order_sns.into_iter().map(Into::into).collect());
        list
    }

    pub fn status(mut self, status: OrderStatus) -> Self {
        self.query.status = Some(status.code());
        self
    }

    pub fn page(mut self, page: i32) -> Self {
        self.query.page = page;
        self.query.request_id = new_request_id();
        self
    }

    pub fn page_size(mut self, page_size: i32) -> Self {
        self.query.page_size = Some(page_size);
        self
    }
}

fn check_window(field: &str, start: Option<i64>, end: Option<i64>) -> Result<bool, VopError> {
    match (start, end) {
        (None, None) => Ok(false),
        (Some(start), Some(end)) => {
            ensure(start <= end, field, || {
                format!("start {start} is after end {end}")
            })?;
            ensure(end - start <= MAX_WINDOW_MS, field, || {
                format!(
                    "the window spans {} hours; the guide allows at most 72 (split it with union::order::windows)",
                    (end - start) / 3_600_000
                )
            })?;
            Ok(true)
        }
        _ => Err(VopError::InvalidArgument {
            field: field.to_owned(),
            message: "give both the start and the end".into(),
        }),
    }
}

impl VopRequest for OrderList {
    type Output = OrderResponse;
    const SERVICE: &'static str = ORDER_SERVICE;

    fn method(&self) -> String {
        self.mode.method("orderList")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        Ok(json!({ "queryModel": to_json("queryModel", &self.query)? }))
    }

    fn validate(&self) -> Result<(), VopError> {
        let q = &self.query;
        ensure(q.page >= 1, "queryModel.page", || {
            format!("expected 1 or more, got {}", q.page)
        })?;
        if let Some(size) = q.page_size {
            ensure(
                (1..=MAX_PAGE_SIZE).contains(&size),
                "queryModel.pageSize",
                || format!("expected 1 to {MAX_PAGE_SIZE}, got {size}"),
            )?;
        }
        if let Some(status) = q.status {
            ensure(
                OrderStatus::from_code(status).is_some(),
                "queryModel.status",
                || format!("expected 0, 1 or 2, got {status}"),
            )?;
        }
        let by_order = check_window(
            "queryModel.orderTimeStart/orderTimeEnd",
            q.order_time_start,
            q.order_time_end,
        )?;
        let by_update = check_window(
            "queryModel.updateTimeStart/updateTimeEnd",
            q.update_time_start,
            q.update_time_end,
        )?;
        let by_sn = q
            .order_sn_list
            .as_ref()
            .is_some_and(|list| !list.is_empty());
        ensure(by_order || by_update || by_sn, "queryModel", || {
            "give an order time range, an update time range or orderSnList".into()
        })
    }
}

/// Splits `[start_ms, end_ms)` into consecutive windows of at most `max_ms`.
pub fn windows(start_ms: i64, end_ms: i64, max_ms: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut from = start_ms;
    while from < end_ms && max_ms > 0 {
        let to = (from + max_ms).min(end_ms);
        out.push((from, to));
        from = to;
    }
    out
}

/// `RefundOrderDetail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundOrderDetail {
    pub goods_id: String,
    #[serde(default)]
    pub size_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    pub goods_price: Option<Decimal>,
    #[serde(default)]
    pub goods_count: Option<i32>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    pub commission: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    pub total_cost: Option<Decimal>,
}

/// An after-sale on a settled order (`RefundOrderInfo`): its commission is deducted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundOrderInfo {
    pub order_sn: String,
    #[serde(default)]
    pub apply_time: Option<i64>,
    /// 1 退货, 2 换货.
    #[serde(default)]
    pub refund_type: Option<i32>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    pub commission_total_cost: Option<Decimal>,
    /// The commission deducted.
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    pub commission: Option<Decimal>,
    #[serde(default)]
    pub goods_count: Option<i32>,
    #[serde(default)]
    pub commission_enter_txn: Option<String>,
    #[serde(default)]
    pub commission_enter_time: Option<i64>,
    #[serde(default)]
    pub commission_settled_time: Option<i64>,
    #[serde(default)]
    pub refund_order_details: Vec<RefundOrderDetail>,
    #[serde(default)]
    pub order_time: Option<i64>,
    #[serde(default)]
    pub settled: Option<i32>,
    #[serde(default)]
    pub after_sale_sn: Option<String>,
    #[serde(default)]
    pub after_sale_status: Option<i16>,
}

/// `RefundOrderResponse`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RefundOrderResponse {
    pub refund_order_info_list: Vec<RefundOrderInfo>,
    pub total: i64,
    pub page: i32,
    pub page_size: i32,
}

/// Which time `refundOrderList` searches by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundSearch {
    /// 0: when the after-sale was requested.
    AppliedAt,
    /// 1: when the deduction was booked (维权完成/佣金扣除入账).
    DeductionBookedAt,
    /// 2: when the deduction was settled.
    DeductionSettledAt,
}

/// `RefundOrderRequest`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundOrderRequest {
    pub search_type: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_time_start: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_time_end: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_sns: Option<Vec<String>>,
    pub page: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i32>,
    pub request_id: String,
}

/// `refundOrderList` / `refundOrderListWithOauth`: orders refunded after settlement.
#[derive(Debug, Clone)]
pub struct RefundOrderList {
    pub mode: Mode,
    pub request: RefundOrderRequest,
}

impl RefundOrderList {
    pub fn new(mode: Mode, search: RefundSearch, start_ms: i64, end_ms: i64) -> Self {
        let search_type = match search {
            RefundSearch::AppliedAt => 0,
            RefundSearch::DeductionBookedAt => 1,
            RefundSearch::DeductionSettledAt => 2,
        };
        Self {
            mode,
            request: RefundOrderRequest {
                search_type,
                search_time_start: Some(start_ms),
                search_time_end: Some(end_ms),
                order_sns: None,
                page: 1,
                page_size: None,
                request_id: new_request_id(),
            },
        }
    }

    pub fn page(mut self, page: i32) -> Self {
        self.request.page = page;
        self.request.request_id = new_request_id();
        self
    }

    pub fn page_size(mut self, page_size: i32) -> Self {
        self.request.page_size = Some(page_size);
        self
    }
}

impl VopRequest for RefundOrderList {
    type Output = RefundOrderResponse;
    const SERVICE: &'static str = ORDER_SERVICE;

    fn method(&self) -> String {
        self.mode.method("refundOrderList")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        Ok(json!({ "request": to_json("request", &self.request)? }))
    }

    fn validate(&self) -> Result<(), VopError> {
        let r = &self.request;
        ensure(
            (0..=2).contains(&r.search_type),
            "request.searchType",
            || format!("expected 0, 1 or 2, got {}", r.search_type),
        )?;
        ensure(r.page >= 1, "request.page", || {
            format!("expected 1 or more, got {}", r.page)
        })?;
        if let Some(size) = r.page_size {
            ensure((1..=100).contains(&size), "request.pageSize", || {
                format!("expected 1 to 100, got {size}")
            })?;
        }
        let by_sn = r.order_sns.as_ref().is_some_and(|list| !list.is_empty());
        if !by_sn {
            check_window(
                "request.searchTimeStart/searchTimeEnd",
                r.search_time_start,
                r.search_time_end,
            )?;
            ensure(
                r.search_time_start.is_some(),
                "request.searchTimeStart",
                || "give a time range or orderSns".into(),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An order as the platform sends it: lines, after-sales and fields the model does not
    /// know.
    const ORDER: &str = r#"{"orderSn":"2612010015124640","status":2,"newCustomer":1,
        "channelTag":"","pid":"PID_1","statParam":"s\"1","orderTime":1796000000000,
        "signTime":1796000100000,"settledTime":1796000200000,"settled":1,"selfBuy":0,
        "orderSubStatusName":"\u5df2\u7ed3\u7b97","commission":"12.50",
        "afterSaleChangeCommission":"0.00","afterSaleChangeGoodsCount":0,
        "commissionEnterTime":1796000200000,"orderSource":"app","isPrepay":0,
        "lastUpdateTime":1796000300000,"somethingNew":{"a":[1,2,{"b":null}]},
        "detailList":[{"goodsId":"6919","goodsName":"连衣裙","goodsCount":2,
        "commissionTotalCost":"125.00","commissionRate":"10","commission":"12.50",
        "afterSaleInfo":[{"afterSaleSn":"A1","afterSaleStatus":2,"afterSaleType":1}],
        "sizeId":"s1","status":2}]}"#;

    #[test]
    fn an_orders_head_is_what_the_whole_order_says() {
        let order: OrderInfo = serde_json::from_str(ORDER).expect("order");
        let head: OrderHead = serde_json::from_str(ORDER).expect("head");
        assert_eq!(head, OrderHead::from(&order));
        assert_eq!(head.order_sub_status_name.as_deref(), Some("已结算"));
        assert_eq!(head.stat_param.as_deref(), Some("s\"1"));
        assert_eq!(head.chan_tag(), Some("PID_1"));
        assert!(head.is_settled());
        assert_eq!(
            head.commission.map(|c| c.to_string()).as_deref(),
            Some("12.50")
        );
        // A field it reads, in a type the model does not take, is refused, naming the field.
        let bad = ORDER.replace(
            r#""lastUpdateTime":1796000300000"#,
            r#""lastUpdateTime":"x""#,
        );
        let err = serde_json::from_str::<OrderHead>(&bad).expect_err("not a time");
        assert!(err.to_string().contains("invalid type"), "{err}");
        // The order's own commission (the first), not a line's.
        let bad = ORDER.replacen(r#""commission":"12.50""#, r#""commission":"12,5""#, 1);
        let err = serde_json::from_str::<OrderHead>(&bad).expect_err("not an amount");
        assert!(err.to_string().contains("decimal amount"), "{err}");
        let err = serde_json::from_str::<OrderHead>(r#"{"status":1}"#).expect_err("no number");
        assert!(err.to_string().contains("orderSn"), "{err}");
        // Lines it does not read are skipped, not checked: the whole order reads them later.
        let odd_line = ORDER.replace(r#""goodsCount":2"#, r#""goodsCount":"two""#);
        serde_json::from_str::<OrderHead>(&odd_line).expect("the head reads");
        serde_json::from_str::<OrderInfo>(&odd_line).expect_err("the whole order does not");
        // Text that is not JSON is refused.
        serde_json::from_str::<OrderHead>(&ORDER[..ORDER.len() - 1]).expect_err("cut");
    }

    #[test]
    fn the_status_flow() {
        use OrderStage::*;
        assert!(
            Ordered.can_become(Paid)
                && Paid.can_become(Signed)
                && Signed.can_become(PendingSettlement)
        );
        assert!(PendingSettlement.can_become(Settled) && Ordered.can_become(Settled));
        assert!(Ordered.can_become(Invalid) && Signed.can_become(Invalid));
        assert!(!Settled.can_become(Invalid), "settled orders are immutable");
        assert!(!Invalid.can_become(Paid) && !Signed.can_become(Paid));
        assert_eq!(Signed.status(), OrderStatus::Pending);
        assert_eq!(PendingSettlement.status().code(), 2);
        assert_eq!(OrderStage::from_name("已失效"), Some(Invalid));
    }

    #[test]
    fn order_queries_need_a_bounded_window_or_order_sns() {
        let day = 24 * 3600 * 1000;
        OrderList::by_update_time(Mode::Channel, 0, 3 * day)
            .validate()
            .expect("three days");
        let err = OrderList::by_update_time(Mode::Channel, 0, 3 * day + 1)
            .validate()
            .expect_err("too long");
        assert!(
            err.to_string().contains("updateTimeStart/updateTimeEnd"),
            "{err}"
        );
        let err = OrderList::by_order_sns(Mode::Channel, Vec::<String>::new())
            .validate()
            .expect_err("nothing");
        assert!(err.to_string().contains("orderSnList"));
        OrderList::by_order_sns(Mode::Channel, ["1"])
            .validate()
            .expect("by sn");
        assert_eq!(
            windows(0, 7 * day, 3 * day),
            vec![(0, 3 * day), (3 * day, 6 * day), (6 * day, 7 * day)]
        );
        let body = OrderList::by_order_time(Mode::ToolProvider, 1, 2)
            .status(OrderStatus::Completed)
            .arguments()
            .expect("json");
        assert_eq!(body["queryModel"]["status"], 2);
        assert!(body["queryModel"].get("updateTimeStart").is_none());
    }
}
