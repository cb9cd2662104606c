//! The streams any platform's connector can feed: orders and products in the unified model,
//! through the connector capabilities; each turns a platform page into store records.

use std::sync::Arc;

use async_trait::async_trait;
use shopbridge_core::Clock;
use shopbridge_core::capability::{Connector, ConnectorError};
use shopbridge_core::codes::{OrderStatus, RefundStatus, ShopType};
use shopbridge_core::model::{OrderQuery, OrderTimeType, ProductQuery};
use shopbridge_store::{RecordColumns, SyncedRecord};

pub use crate::platforms::vop::streams::{
    JIT_RETURNS, JitReturnSource, UNION_ORDERS, UNION_PIDS, UNION_REFUNDS, UnionOrderSource,
    UnionPidSource, UnionRefundSource, refund_record, union_order_record, union_order_sync,
};
use crate::sync::{CallKey, FetchedPage, PageRecords, StreamSource};

/// Orders in the unified model (Vipshop JITX direct-ship orders).
pub const JIT_ORDERS: &str = "jit_orders";
pub const PRODUCTS: &str = "products";

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Direct-ship orders per page.
const ORDER_PAGE_SIZE: u32 = 100;

/// One window that covers all time, for listings without a time filter.
pub const ALL_TIME_MS: i64 = i64::MAX / 4;

/// An order in the unified model as the store keeps it.
pub fn order_record(order: &shopbridge_core::model::Order) -> SyncedRecord {
    SyncedRecord {
        id: order.plat_order_no.clone(),
        updated_ms: order.modified_at_ms,
        is_final: is_final_order(order.status),
        payload: json(order),
        columns: RecordColumns {
            created_ms: Some(order.created_at_ms),
            status: Some(order.status.code().to_owned()),
            amount: Some(order.total_amount.to_string()),
            has_refund: order
                .lines
                .iter()
                .any(|line| line.refund_status != RefundStatus::NoRefund),
            ..RecordColumns::default()
        },
    }
}

fn is_final_order(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::TradeSuccess
            | OrderStatus::TradeClosed
            | OrderStatus::CancelledBeforeShipping
            | OrderStatus::CancelledAfterShipping
            | OrderStatus::CancelledAfterCollection
            | OrderStatus::Rejected
    )
}

/// A platform's orders by modification time, through its connector's order capability (Vipshop
/// JITX direct-ship orders), stored in the unified order shape.
#[derive(Clone)]
pub struct OrderStream {
    pub connector: Arc<dyn Connector>,
    pub clock: Arc<dyn Clock>,
    pub shop_type: Option<ShopType>,
    pub max_window_ms: i64,
    pub call: CallKey,
}

impl std::fmt::Debug for OrderStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderStream")
            .field("shop_type", &self.shop_type)
            .field("call", &self.call)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl StreamSource for OrderStream {
    fn stream(&self) -> &'static str {
        JIT_ORDERS
    }

    fn max_window_ms(&self) -> i64 {
        self.max_window_ms
    }

    fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    fn call(&self) -> CallKey {
        self.call.clone()
    }

    fn events(&self) -> Option<shopbridge_store::RecordEvents> {
        Some(shopbridge_store::RecordEvents {
            created: "order.created",
            updated: "order.updated",
        })
    }

    fn page_size(&self) -> u32 {
        ORDER_PAGE_SIZE
    }

    async fn fetch(
        &self,
        start_ms: i64,
        end_ms: i64,
        _pass: u32,
        page: u32,
    ) -> Result<FetchedPage, ConnectorError> {
        let query = OrderQuery {
            status: OrderStatus::All,
            plat_order_no: None,
            time_type: OrderTimeType::Modified,
            start_ms,
            end_ms,
            page,
            page_size: ORDER_PAGE_SIZE,
            shop_type: self.shop_type,
        };
        let answer = self.connector.orders()?.get_orders(&query).await?;
        Ok(FetchedPage {
            unchanged: 0,
            total: Some(answer.total),
            records: PageRecords::Records(answer.items.iter().map(order_record).collect()),
        })
    }
}

/// A platform's whole product list, page by page, in the unified product shape. Products carry
/// no update time: every run lists them all and stores the ones that changed.
#[derive(Clone)]
pub struct ProductStream {
    pub connector: Arc<dyn Connector>,
    pub clock: Arc<dyn Clock>,
    pub page_size: u32,
    pub call: CallKey,
}

impl std::fmt::Debug for ProductStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProductStream")
            .field("call", &self.call)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl StreamSource for ProductStream {
    fn stream(&self) -> &'static str {
        PRODUCTS
    }

    /// One window may span all time: the listing has no time filter.
    fn max_window_ms(&self) -> i64 {
        ALL_TIME_MS
    }

    fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    fn call(&self) -> CallKey {
        self.call.clone()
    }

    fn page_size(&self) -> u32 {
        self.page_size
    }

    async fn fetch(
        &self,
        _start_ms: i64,
        _end_ms: i64,
        _pass: u32,
        page: u32,
    ) -> Result<FetchedPage, ConnectorError> {
        let query = ProductQuery {
            product_id: None,
            name: None,
            page,
            page_size: self.page_size,
        };
        let answer = self.connector.products()?.download_products(&query).await?;
        let seen = self.clock.now_ms();
        Ok(FetchedPage {
            unchanged: 0,
            total: Some(answer.total),
            records: PageRecords::Records(
                answer
                    .items
                    .iter()
                    .map(|product| SyncedRecord {
                        id: product.plat_product_id.clone(),
                        updated_ms: seen,
                        is_final: false,
                        payload: json(product),
                        columns: RecordColumns {
                            status: Some(
                                if product.on_sale { "JH_01" } else { "JH_02" }.to_owned(),
                            ),
                            alt_id: Some(product.outer_id.clone()),
                            title: Some(product.name.clone()),
                            ..RecordColumns::default()
                        },
                    })
                    .collect(),
            ),
        })
    }
}
