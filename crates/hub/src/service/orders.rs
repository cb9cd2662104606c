//! A shop's orders and what is done with them: one order by number (the store first, else the
//! platform), shipping, stock pushes and refund checks through the shop's connector.

use shopbridge_core::capability::Connector;
use shopbridge_core::codes::OrderStatus;
use shopbridge_core::model::{
    Order, OrderQuery, OrderTimeType, RefundCheck, Shipment, ShipmentResult, StockMode,
    StockResult, StockUpdate,
};
use shopbridge_store::Connection;

use super::{HubError, connector};
use crate::state::HubApp;

/// The records stream holding a shop's orders, or why the shop has none.
pub fn order_stream(app: &HubApp, shop: &Connection) -> Result<&'static str, HubError> {
    app.platforms.order_stream(shop.kind).ok_or_else(|| {
        HubError::Unsupported(format!(
            "a {} shop has no orders to download (Union orders are under /v1/union; a warehouse has outbound orders)",
            shop.kind
        ))
    })
}

/// One of the shop's orders by its platform number: as stored when the sync has it, else
/// from the platform (an order not synced yet); `None` when neither knows it.
pub async fn by_number(
    app: &HubApp,
    shop: &Connection,
    number: &str,
) -> Result<Option<Order>, HubError> {
    let stream = order_stream(app, shop)?;
    if let Some(record) = app.store.synced_record(&shop.id, stream, number).await?
        && let Ok(order) = serde_json::from_str::<Order>(&record.record.payload)
    {
        return Ok(Some(order));
    }
    let connector = connector(app, shop).await?;
    let query = OrderQuery {
        status: OrderStatus::All,
        plat_order_no: Some(number.to_owned()),
        time_type: OrderTimeType::Modified,
        start_ms: 0,
        end_ms: 0,
        page: 1,
        page_size: 1,
        shop_type: None,
    };
    Ok(connector
        .orders()?
        .get_orders(&query)
        .await?
        .items
        .into_iter()
        .next())
}

/// Ships an order (all of it, or the lines and counts given) through the shop's platform.
pub async fn ship(
    app: &HubApp,
    shop: &Connection,
    shipment: &Shipment,
) -> Result<ShipmentResult, HubError> {
    ship_through(connector(app, shop).await?.as_ref(), shipment).await
}

/// [`ship`] through a connector already in hand (a batch resolves it once).
pub async fn ship_through(
    connector: &dyn Connector,
    shipment: &Shipment,
) -> Result<ShipmentResult, HubError> {
    check_shipment(shipment)?;
    Ok(connector.shipping()?.send(shipment).await?)
}

/// What a shipment must hold before any platform is asked; front ends may check it before
/// they look the shop up, so that a malformed request is told so whatever the shop.
pub fn check_shipment(shipment: &Shipment) -> Result<(), HubError> {
    if shipment.plat_order_no.trim().is_empty() {
        return Err(HubError::Invalid(
            "plat_order_no: the order to ship is required, got an empty value".into(),
        ));
    }
    if shipment.logistic_type.trim().is_empty() {
        return Err(HubError::Invalid(
            "logistic_type: the carrier's code (JH_...) is required, got an empty value".into(),
        ));
    }
    for (line, count) in &shipment.lines {
        crate::limits::in_range("lines.count", *count, crate::limits::LINE_COUNT)
            .map_err(|err| HubError::Invalid(format!("{err} (line {line:?})")))?;
    }
    Ok(())
}

/// Pushes a stock level (full) or change (incremental) of one item to the shop's platform.
pub async fn push_stock(
    app: &HubApp,
    shop: &Connection,
    update: &StockUpdate,
) -> Result<StockResult, HubError> {
    push_stock_through(connector(app, shop).await?.as_ref(), update).await
}

/// [`push_stock`] through a connector already in hand (a batch resolves it once).
pub async fn push_stock_through(
    connector: &dyn Connector,
    update: &StockUpdate,
) -> Result<StockResult, HubError> {
    check_stock(update)?;
    Ok(connector.stock()?.sync_stock(update).await?)
}

/// What a stock push must hold before any platform is asked (see [`check_shipment`]).
pub fn check_stock(update: &StockUpdate) -> Result<(), HubError> {
    if update.outer_id.trim().is_empty() {
        return Err(HubError::Invalid(
            "outer_id: the item's merchant code is required, got an empty value".into(),
        ));
    }
    crate::limits::in_range("quantity", update.quantity, crate::limits::STOCK_CHANGE)
        .map_err(|err| HubError::Invalid(err.to_string()))?;
    // In the documented range, but a full level cannot be negative: refused on its meaning.
    if update.mode == StockMode::Full {
        crate::limits::in_range("quantity", update.quantity, crate::limits::STOCK_QUANTITY)
            .map_err(|err| HubError::Unprocessable(format!("{err} (a full stock level)")))?;
    }
    Ok(())
}

/// Asks the shop's platform whether an order is being refunded.
pub async fn check_refund(
    app: &HubApp,
    shop: &Connection,
    number: &str,
) -> Result<RefundCheck, HubError> {
    check_refund_through(connector(app, shop).await?.as_ref(), number).await
}

/// [`check_refund`] through a connector already in hand (a batch resolves it once).
pub async fn check_refund_through(
    connector: &dyn Connector,
    number: &str,
) -> Result<RefundCheck, HubError> {
    if number.trim().is_empty() {
        return Err(HubError::Invalid(
            "order: the order number is required, got an empty value".into(),
        ));
    }
    Ok(connector.refunds()?.check_refund(number).await?)
}

/// One row of a list of orders as people browse it.
#[derive(Debug, Clone)]
pub struct OrderSummary {
    pub number: String,
    pub updated_ms: i64,
    /// The unified status code (`JH_02`) where the order has one.
    pub status: Option<OrderStatus>,
    /// The order's total.
    pub amount: Option<String>,
}

/// A page of the shop's synced orders, newest change first, narrowed by `filter`: keyset paged
/// and counted up to `count_cap`, so that the last page costs what the first does.
pub async fn browse(
    app: &HubApp,
    shop: &Connection,
    filter: &shopbridge_store::BrowseFilter,
    seek: &shopbridge_store::Seek,
    limit: i64,
    count_cap: i64,
) -> Result<shopbridge_store::Browsed<OrderSummary>, HubError> {
    let stream = order_stream(app, shop)?;
    let page = app
        .store
        .browse_records(&shop.id, stream, filter, seek, limit, count_cap)
        .await?;
    Ok(shopbridge_store::Browsed {
        rows: page
            .rows
            .into_iter()
            .map(|row| OrderSummary {
                number: row.record.id,
                updated_ms: row.record.updated_ms,
                status: row
                    .record
                    .columns
                    .status
                    .as_deref()
                    .and_then(OrderStatus::from_code),
                amount: row.record.columns.amount,
            })
            .collect(),
        matching: page.matching,
    })
}

/// A synced order with every version the store kept of it, oldest first.
#[derive(Debug, Clone)]
pub struct OrderWithHistory {
    pub order: Order,
    pub versions: Vec<(i64, Order)>,
}

/// One of the shop's synced orders and its stored versions; `None` when the sync has not seen
/// it.
pub async fn with_history(
    app: &HubApp,
    shop: &Connection,
    number: &str,
) -> Result<Option<OrderWithHistory>, HubError> {
    let stream = order_stream(app, shop)?;
    let Some(record) = app.store.synced_record(&shop.id, stream, number).await? else {
        return Ok(None);
    };
    let order = serde_json::from_str::<Order>(&record.record.payload).map_err(|err| {
        HubError::Unprocessable(format!(
            "order {number}: the stored order is not in the unified model: {err}"
        ))
    })?;
    let versions = app
        .store
        .synced_record_versions(&shop.id, stream, number)
        .await?
        .into_iter()
        .filter_map(|(updated, _, payload)| {
            serde_json::from_str::<Order>(&payload)
                .ok()
                .map(|order| (updated, order))
        })
        .collect();
    Ok(Some(OrderWithHistory { order, versions }))
}
