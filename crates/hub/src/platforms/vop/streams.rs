//! VOP's streams: Union orders, after-settlement refunds and PIDs, and JIT returns; each turns
//! a platform page into store records.

use async_trait::async_trait;
use shopbridge_core::Clock;
use shopbridge_core::capability::ConnectorError;
use shopbridge_store::{RecordColumns, SyncedRecord, UnionOrderRecord};
use shopbridge_vop::union::ORDER_SERVICE;
use shopbridge_vop::union::order::{
    MAX_WINDOW_MS, OrderHead, OrderInfo, OrderList, RefundOrderInfo, RefundOrderList, RefundSearch,
};
use shopbridge_vop::{Mode, VopClient, VopRequest};

use crate::sources::ALL_TIME_MS;
use crate::sync::{CallKey, DAY_MS, FetchedPage, PageRecords, StreamSource};

/// A Union account's orders (their own table, with daily sums of the settled ones).
pub const UNION_ORDERS: &str = "union_orders";
/// After-settlement refunds: generic records whose deductions the store also sums per day.
pub const UNION_REFUNDS: &str = shopbridge_store::UNION_REFUNDS_STREAM;
pub const UNION_PIDS: &str = "union_pids";
/// Vipshop JIT returns to the vendor (退供).
pub const JIT_RETURNS: &str = "jit_returns";

const UNION_PAGE_SIZE: i32 = 100;

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Who a Union call counts against: the authorized connection in tool mode, the app otherwise.
fn union_caller(client: &VopClient, connection_id: &str) -> String {
    match client.config().access_token {
        Some(_) => connection_id.to_owned(),
        None => client.config().app_key.clone(),
    }
}

/// Union orders by update time (`orderList`), into the Union order table with its history.
#[derive(Debug, Clone)]
pub struct UnionOrderSource {
    pub client: VopClient,
    pub mode: Mode,
    pub caller: String,
}

impl UnionOrderSource {
    pub fn new(client: VopClient, mode: Mode, connection_id: &str) -> Self {
        let caller = union_caller(&client, connection_id);
        Self {
            client,
            mode,
            caller,
        }
    }
}

/// A sync of a Union account's orders by update time.
pub fn union_order_sync(
    store: shopbridge_store::Store,
    client: VopClient,
    mode: Mode,
    connection_id: impl Into<String>,
) -> crate::sync::StreamSync {
    let connection_id = connection_id.into();
    let source = UnionOrderSource::new(client, mode, &connection_id);
    crate::sync::StreamSync::new(store, std::sync::Arc::new(source), connection_id)
}

/// A Union order as the store keeps it.
pub fn union_order_record(order: &OrderInfo) -> UnionOrderRecord {
    union_order_record_with(OrderHead::from(order), json(order))
}

/// A Union order as the store keeps it: the columns from `head`, and `payload` as its JSON
/// (the platform's own text); the head's texts move into the record.
pub fn union_order_record_with(head: OrderHead, payload: String) -> UnionOrderRecord {
    let chan_tag = head.chan_tag().map(str::to_owned);
    let settled = head.is_settled();
    UnionOrderRecord {
        status: i64::from(head.status),
        commission: head.commission.map(|c| c.to_string()),
        order_time_ms: head.order_time,
        last_update_ms: head.last_update_time,
        settled,
        settled_ms: head.settled_time.filter(|_| settled),
        order_sn: head.order_sn,
        sub_status: head.order_sub_status_name,
        chan_tag,
        stat_param: head.stat_param,
        payload,
    }
}

/// The list of an `orderList` page. Each order's JSON is kept as the platform sent it: the
/// order's head (what the store indexes) is read from that text, and the text is what the store
/// keeps, so no order is written back out. The lines are read, against the whole model, when an
/// order is shown.
const ORDER_LIST: &str = "orderInfoList";

#[async_trait]
impl StreamSource for UnionOrderSource {
    fn stream(&self) -> &'static str {
        UNION_ORDERS
    }

    fn max_window_ms(&self) -> i64 {
        MAX_WINDOW_MS
    }

    fn clock(&self) -> &dyn Clock {
        self.client.clock()
    }

    fn call(&self) -> CallKey {
        CallKey {
            platform: shopbridge_core::Platform::Vop.as_str(),
            service: ORDER_SERVICE.into(),
            method: self.mode.method("orderList"),
            caller: self.caller.clone(),
        }
    }

    fn events(&self) -> Option<shopbridge_store::RecordEvents> {
        Some(shopbridge_store::RecordEvents {
            created: "union_order.created",
            updated: "union_order.updated",
        })
    }

    fn page_size(&self) -> u32 {
        UNION_PAGE_SIZE as u32
    }

    /// Union times are epoch milliseconds.
    fn time_resolution_ms(&self) -> i64 {
        1
    }

    async fn fetch(
        &self,
        start_ms: i64,
        end_ms: i64,
        _pass: u32,
        page: u32,
    ) -> Result<FetchedPage, ConnectorError> {
        self.read_page(start_ms, end_ms, page, None).await
    }

    /// Orders whose text is what the first read of the page returned are left out before their
    /// heads are read: neither their head nor their write would change anything.
    async fn fetch_again(
        &self,
        start_ms: i64,
        end_ms: i64,
        _pass: u32,
        page: u32,
        earlier: &PageRecords,
    ) -> Result<FetchedPage, ConnectorError> {
        self.read_page(start_ms, end_ms, page, Some(earlier)).await
    }
}

impl UnionOrderSource {
    /// Page `page` of the orders updated in `[start_ms, end_ms]`, leaving out those whose text
    /// is one of `earlier`'s.
    async fn read_page(
        &self,
        start_ms: i64,
        end_ms: i64,
        page: u32,
        earlier: Option<&PageRecords>,
    ) -> Result<FetchedPage, ConnectorError> {
        let request = OrderList::by_update_time(self.mode, start_ms, end_ms)
            .page_size(UNION_PAGE_SIZE)
            .page(page_number(page));
        // A first read takes each order's head and text in one pass. A second read of the page
        // scans the texts alone, and reads the heads of those that changed.
        let Some(earlier) = earlier else {
            let page = self
                .client
                .execute_list::<_, OrderHead>(&request, ORDER_LIST)
                .await?;
            return Ok(FetchedPage {
                unchanged: 0,
                total: u64::try_from(page.total).ok(),
                records: PageRecords::UnionOrders(
                    page.items
                        .into_iter()
                        .map(|(head, text)| union_order_record_with(head, text))
                        .collect(),
                ),
            });
        };
        let page = self
            .client
            .execute_list::<_, serde::de::IgnoredAny>(&request, ORDER_LIST)
            .await?;
        let read_before: std::collections::HashSet<&str> = match earlier {
            PageRecords::UnionOrders(orders) => {
                orders.iter().map(|order| order.payload.as_str()).collect()
            }
            _ => Default::default(),
        };
        let mut orders = Vec::with_capacity(page.items.len());
        let mut unchanged = 0;
        for (place, (_, text)) in page.items.into_iter().enumerate() {
            if read_before.contains(text.as_str()) {
                unchanged += 1;
                continue;
            }
            let head: OrderHead = shopbridge_vop::list_page::read_item(
                &text,
                ORDER_LIST,
                place,
                &format!("{}.{}", OrderList::SERVICE, request.method()),
            )?;
            orders.push(union_order_record_with(head, text));
        }
        Ok(FetchedPage {
            unchanged,
            total: u64::try_from(page.total).ok(),
            records: PageRecords::UnionOrders(orders),
        })
    }
}

/// A page number as the VOP requests take it.
fn page_number(page: u32) -> i32 {
    i32::try_from(page).unwrap_or(i32::MAX)
}

/// The times refunds are searched by, one pass each.
const REFUND_PASSES: [RefundSearch; 3] = [
    RefundSearch::AppliedAt,
    RefundSearch::DeductionBookedAt,
    RefundSearch::DeductionSettledAt,
];

/// Union after-settlement refunds (`refundOrderList`): a refund changes when it is applied for,
/// when its deduction is booked and when that is settled (then it is final), and the platform
/// searches by each of those times, so every window is read in three passes, one per time. A
/// deduction booked weeks after the application (a slow return) is found in the window of its
/// booking, with no lookback to cover the gap.
#[derive(Debug, Clone)]
pub struct UnionRefundSource {
    pub client: VopClient,
    pub mode: Mode,
    pub caller: String,
}

impl UnionRefundSource {
    pub fn new(client: VopClient, mode: Mode, connection_id: &str) -> Self {
        let caller = union_caller(&client, connection_id);
        Self {
            client,
            mode,
            caller,
        }
    }
}

/// An after-settlement refund as the store keeps it (`seen_ms` stands in for a missing time).
pub fn refund_record(refund: &RefundOrderInfo, seen_ms: i64) -> SyncedRecord {
    let id = refund
        .after_sale_sn
        .clone()
        .filter(|sn| !sn.is_empty())
        .unwrap_or_else(|| {
            format!(
                "{}@{}",
                refund.order_sn,
                refund.apply_time.unwrap_or_default()
            )
        });
    SyncedRecord {
        id,
        updated_ms: [
            refund.apply_time,
            refund.commission_enter_time,
            refund.commission_settled_time,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(seen_ms),
        is_final: refund.settled == Some(1),
        payload: json(refund),
        columns: RecordColumns {
            created_ms: refund.apply_time,
            booked_ms: refund
                .commission_settled_time
                .or(refund.commission_enter_time),
            parent_id: Some(refund.order_sn.clone()),
            amount: refund.commission.map(|c| c.to_string()),
            ..RecordColumns::default()
        },
    }
}

#[async_trait]
impl StreamSource for UnionRefundSource {
    fn stream(&self) -> &'static str {
        UNION_REFUNDS
    }

    fn max_window_ms(&self) -> i64 {
        MAX_WINDOW_MS
    }

    fn clock(&self) -> &dyn Clock {
        self.client.clock()
    }

    fn call(&self) -> CallKey {
        CallKey {
            platform: shopbridge_core::Platform::Vop.as_str(),
            service: ORDER_SERVICE.into(),
            method: self.mode.method("refundOrderList"),
            caller: self.caller.clone(),
        }
    }

    fn events(&self) -> Option<shopbridge_store::RecordEvents> {
        Some(shopbridge_store::RecordEvents {
            created: "refund.changed",
            updated: "refund.changed",
        })
    }

    fn page_size(&self) -> u32 {
        UNION_PAGE_SIZE as u32
    }

    fn passes(&self) -> u32 {
        REFUND_PASSES.len() as u32
    }

    /// Union times are epoch milliseconds.
    fn time_resolution_ms(&self) -> i64 {
        1
    }

    async fn fetch(
        &self,
        start_ms: i64,
        end_ms: i64,
        pass: u32,
        page: u32,
    ) -> Result<FetchedPage, ConnectorError> {
        let Some(&search) = REFUND_PASSES.get(pass as usize) else {
            return Ok(FetchedPage {
                unchanged: 0,
                total: Some(0),
                records: PageRecords::Records(Vec::new()),
            });
        };
        let request = RefundOrderList::new(self.mode, search, start_ms, end_ms)
            .page_size(UNION_PAGE_SIZE)
            .page(page_number(page));
        let answer = self.client.execute(&request).await?;
        let seen = self.client.clock().now_ms();
        Ok(FetchedPage {
            unchanged: 0,
            total: u64::try_from(answer.total).ok(),
            records: PageRecords::Records(
                answer
                    .refund_order_info_list
                    .iter()
                    .map(|refund| refund_record(refund, seen))
                    .collect(),
            ),
        })
    }
}

/// The Union account's PIDs (`queryPid`): a listing without time filter, every run reads it all.
#[derive(Debug, Clone)]
pub struct UnionPidSource {
    pub client: VopClient,
    pub mode: Mode,
    pub caller: String,
}

impl UnionPidSource {
    pub fn new(client: VopClient, mode: Mode, connection_id: &str) -> Self {
        let caller = union_caller(&client, connection_id);
        Self {
            client,
            mode,
            caller,
        }
    }
}

#[async_trait]
impl StreamSource for UnionPidSource {
    fn stream(&self) -> &'static str {
        UNION_PIDS
    }

    /// One window may span all time: the listing has no time filter.
    fn max_window_ms(&self) -> i64 {
        ALL_TIME_MS
    }

    fn clock(&self) -> &dyn Clock {
        self.client.clock()
    }

    fn call(&self) -> CallKey {
        CallKey {
            platform: shopbridge_core::Platform::Vop.as_str(),
            service: shopbridge_vop::union::PID_SERVICE.into(),
            method: self.mode.method("queryPid"),
            caller: self.caller.clone(),
        }
    }

    fn page_size(&self) -> u32 {
        UNION_PAGE_SIZE as u32
    }

    async fn fetch(
        &self,
        _start_ms: i64,
        _end_ms: i64,
        _pass: u32,
        page: u32,
    ) -> Result<FetchedPage, ConnectorError> {
        let answer = self
            .client
            .execute(
                &shopbridge_vop::union::pid::QueryPid::all(self.mode, page_number(page))
                    .page_size(UNION_PAGE_SIZE),
            )
            .await?;
        let seen = self.client.clock().now_ms();
        Ok(FetchedPage {
            unchanged: 0,
            total: u64::try_from(answer.total).ok(),
            records: PageRecords::Records(
                answer
                    .pid_info_list
                    .iter()
                    .map(|pid| SyncedRecord {
                        id: pid.pid.clone(),
                        updated_ms: pid.create_time.unwrap_or(seen),
                        is_final: false,
                        payload: json(pid),
                        columns: RecordColumns {
                            created_ms: pid.create_time,
                            title: pid.pid_name.clone(),
                            ..RecordColumns::default()
                        },
                    })
                    .collect(),
            ),
        })
    }
}

/// JIT returns to the vendor (`getReturnInfo`) by creation time. The service answers per
/// warehouse, so one fetch reads every warehouse's pages for the window (the window, not the
/// page, is the unit a checkpoint records), skipping warehouses the vendor does not use.
#[derive(Debug, Clone)]
pub struct JitReturnSource {
    pub client: VopClient,
    pub vendor_id: i64,
    pub caller: String,
}

#[async_trait]
impl StreamSource for JitReturnSource {
    fn stream(&self) -> &'static str {
        JIT_RETURNS
    }

    fn max_window_ms(&self) -> i64 {
        shopbridge_vop::jit::vreturn::MAX_RETURN_LOOKBACK_DAYS * DAY_MS
    }

    fn clock(&self) -> &dyn Clock {
        self.client.clock()
    }

    fn call(&self) -> CallKey {
        CallKey {
            platform: shopbridge_core::Platform::Vop.as_str(),
            service: shopbridge_vop::jit::RETURN_SERVICE.into(),
            method: "getReturnInfo".into(),
            caller: self.caller.clone(),
        }
    }

    /// One fetch reads every warehouse's pages of the window: one page as the engine sees it.
    fn page_size(&self) -> u32 {
        u32::MAX
    }

    async fn fetch(
        &self,
        start_ms: i64,
        end_ms: i64,
        _pass: u32,
        _page: u32,
    ) -> Result<FetchedPage, ConnectorError> {
        use shopbridge_vop::jit::Warehouse;
        use shopbridge_vop::jit::vreturn::GetReturnInfo;
        use shopbridge_vop::time::{format_datetime_ms, parse_datetime_ms};
        const LIMIT: i32 = 100;
        let mut records = Vec::new();
        for warehouse in Warehouse::ALL {
            let mut page = 1;
            loop {
                let request = GetReturnInfo {
                    st_create_time: Some(format_datetime_ms(start_ms)),
                    ed_create_time: Some(format_datetime_ms(end_ms)),
                    page: Some(page),
                    limit: Some(LIMIT),
                    ..GetReturnInfo::new(self.vendor_id, warehouse)
                };
                let answer = match self.client.execute(&request).await {
                    Ok(answer) => answer,
                    // A warehouse the vendor does not ship through is refused: nothing there.
                    Err(shopbridge_vop::VopError::Api {
                        kind: shopbridge_vop::ApiErrorKind::InvalidParameter,
                        message,
                        ..
                    }) if message.contains("warehouse") => break,
                    Err(err) => return Err(err.into()),
                };
                let got = answer.return_infos.len();
                records.extend(answer.return_infos.iter().map(|info| {
                    SyncedRecord {
                        id: info.return_sn.clone(),
                        updated_ms: info
                            .create_time
                            .as_deref()
                            .and_then(parse_datetime_ms)
                            .unwrap_or(start_ms),
                        is_final: false,
                        payload: json(info),
                        columns: RecordColumns::default(),
                    }
                }));
                if got < LIMIT as usize || i64::from(page) * i64::from(LIMIT) >= answer.total {
                    break;
                }
                page += 1;
            }
        }
        Ok(FetchedPage {
            unchanged: 0,
            total: Some(records.len() as u64),
            records: PageRecords::Records(records),
        })
    }
}
