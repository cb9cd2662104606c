//! The `Differ.JH.*` methods: orders, products and refunds served from the store, shipping,
//! stock and refund checks live through the shop's connector, and shop authorization.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use shopbridge_core::capability::{Connector, ConnectorError};
use shopbridge_core::codes::{OrderStatus, RefundStatus, ShopType};
use shopbridge_core::error::ErrorClass;
use shopbridge_core::model::{
    Order, OrderQuery, OrderTimeType, Product, RefundCheck, Shipment, StockMode, StockUpdate,
};
use shopbridge_store::{Connection, RecordFilter, TimeField};
use shopbridge_vop::time::{format_datetime_ms, parse_datetime_ms};

use super::{Call, PolyError};
use crate::connect::BeginConnect;
use crate::sources::PRODUCTS;

type Fields = Map<String, Value>;

const MAX_PAGE_SIZE: u64 = 100;
const DEFAULT_PAGE_SIZE: u64 = 30;

pub(super) async fn run(call: &Call<'_>, method: &str, now: i64) -> Result<Fields, PolyError> {
    match method {
        "Differ.JH.Business.GetOrder" => get_order(call).await,
        "Differ.JH.Business.DownloadProduct" => download_product(call).await,
        "Differ.JH.Business.GetRefund" => get_refund(call).await,
        // A batch resolves the shop's connector (and its token) once, and a shop-level failure
        // answers the call, not each item.
        "Differ.JH.Business.Send" => send(connector(call).await?.as_ref(), &call.biz).await,
        "Differ.JH.Business.BatchSend" => {
            let connector = connector(call).await?;
            batch(&call.biz, "orders", |item| {
                let connector = connector.clone();
                async move { send(connector.as_ref(), &item).await }
            })
            .await
        }
        "Differ.JH.Business.SyncStock" => {
            sync_stock(connector(call).await?.as_ref(), &call.biz).await
        }
        "Differ.JH.Business.BatchSyncStock" => {
            let connector = connector(call).await?;
            batch(&call.biz, "goods", |item| {
                let connector = connector.clone();
                async move { sync_stock(connector.as_ref(), &item).await }
            })
            .await
        }
        "Differ.JH.Business.CheckRefundStatus" => {
            let connector = connector(call).await?;
            let number = text(&call.biz, "orderid")
                .or_else(|| text(&call.biz, "platorderno"))
                .ok_or_else(|| PolyError::missing("OrderID"))?;
            check_refund(connector.as_ref(), &number).await
        }
        "Differ.JH.Business.BatchCheckRefundStatus" => {
            let connector = connector(call).await?;
            batch(&call.biz, "orders", |item| {
                let connector = connector.clone();
                async move {
                    let number = text(&item, "platorderno")
                        .ok_or_else(|| PolyError::missing("orders[].platorderno"))?;
                    check_refund(connector.as_ref(), &number).await
                }
            })
            .await
        }
        "Differ.JH.BuildeAuthorizeUrl" => build_authorize_url(call).await,
        "Differ.JH.GetAuthorizeSessionKey" => get_session_key(call, now).await,
        "Differ.JH.SyncAccount" => sync_account(call, now).await,
        other => Err(PolyError {
            subcode: "GSE.ILLEGAL_ACCESS",
            message: format!("未知的请求方法 {other:?}"),
        }),
    }
}

// ---- reading bizcontent ----

fn text(biz: &Value, key: &str) -> Option<String> {
    match biz.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The largest whole number every float up to it holds exactly (2^53).
const EXACT_IN_F64: f64 = 9_007_199_254_740_992.0;

/// A number field within `range`, named as polyapi names it.
fn number_in(
    biz: &Value,
    key: &str,
    name: &'static str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, PolyError> {
    number(biz, key)?
        .map(|value| crate::limits::in_range(name, value, range))
        .transpose()
        .map_err(|err| PolyError::invalid(err.to_string()))
}

fn number(biz: &Value, key: &str) -> Result<Option<i64>, PolyError> {
    match biz.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| PolyError::invalid(format!("{key}: expected a whole number, got {n}"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            // Whole numbers as written; "12.0" and "1e3" (some clients format numbers as
            // floats) only where a float holds them exactly, never rounded or saturated.
            s.parse::<i64>()
                .ok()
                .or_else(|| {
                    s.parse::<f64>()
                        .ok()
                        .filter(|v| v.fract() == 0.0 && v.abs() <= EXACT_IN_F64)
                        .map(|v| v as i64)
                })
                .map(Some)
                .ok_or_else(|| {
                    PolyError::invalid(format!("{key}: expected a whole number, got {s:?}"))
                })
        }
        Some(other) => Err(PolyError::invalid(format!(
            "{key}: expected a whole number, got {other}"
        ))),
    }
}

fn time(biz: &Value, key: &str) -> Result<Option<i64>, PolyError> {
    match text(biz, key) {
        None => Ok(None),
        Some(value) => parse_datetime_ms(&value)
            .filter(|ms| crate::limits::EPOCH_MS.contains(ms))
            .map(Some)
            .ok_or_else(|| {
                PolyError::invalid(format!(
                    "{key}: expected yyyy-MM-dd HH:mm:ss from 2000 to 2100, got {value:?}"
                ))
            }),
    }
}

/// `(page index from 1, page size)` with polyapi's defaults and limits.
fn paging(biz: &Value) -> Result<(u64, u64), PolyError> {
    let index = number_in(biz, "pageindex", "PageIndex", crate::limits::PAGE_NUMBERS)?.unwrap_or(1);
    let size = number(biz, "pagesize")?.unwrap_or(DEFAULT_PAGE_SIZE as i64);
    if !(1..=MAX_PAGE_SIZE as i64).contains(&size) {
        return Err(PolyError::invalid(format!(
            "PageSize: 1 to {MAX_PAGE_SIZE}, got {size}"
        )));
    }
    Ok((index as u64, size as u64))
}

/// The most orders with refunds one GetRefund window may hold.
const MAX_REFUNDING_ORDERS: i64 = 2_000;

fn page_of<T>(items: Vec<T>, index: u64, size: u64) -> (usize, bool, Vec<T>) {
    let total = items.len();
    // paging() bounds both, so the product is far inside usize.
    let skip = usize::try_from((index - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let page: Vec<T> = items.into_iter().skip(skip).take(size as usize).collect();
    let has_next = skip + page.len() < total;
    (total, has_next, page)
}

fn shop<'a>(call: &'a Call<'_>) -> Result<&'a Connection, PolyError> {
    call.shop
        .as_ref()
        .ok_or_else(|| PolyError::missing("token"))
}

/// The stream holding the shop's orders in the unified model, or why `method` has nothing to
/// read for this shop.
fn order_stream(
    call: &Call<'_>,
    connection: &Connection,
    method: &str,
) -> Result<&'static str, PolyError> {
    crate::service::orders::order_stream(call.app, connection)
        .map_err(|err| PolyError::unsupported(format!("{method}: {err}")))
}

/// One rule for every method: what the hub refuses before calling (a missing or malformed
/// parameter) is `GSE.MISS_PARAMETER` / `GSE.INVALID_PARAMETER`; whatever the platform refuses,
/// a circuit break, another vendor's order or a bad value alike, is `GSE.LOGIC_ERROR` (平台业务错误)
/// with the platform's code and message; what the platform cannot do is `GSE.PLAT_NOT_SUPPORT`.
pub(super) fn connector_failure(err: ConnectorError) -> PolyError {
    let message = match &err.code {
        Some(code) => format!("{} {code}: {}", err.platform, err.message),
        None => format!("{}: {}", err.platform, err.message),
    };
    match err.class {
        ErrorClass::Unsupported => PolyError::unsupported(message),
        _ => PolyError::logic(message),
    }
}

async fn connector(call: &Call<'_>) -> Result<Arc<dyn Connector>, PolyError> {
    Ok(crate::service::connector(call.app, shop(call)?).await?)
}

// ---- the unified model in polyapi's shape ----

fn order_json(order: &Order) -> Value {
    let goods: Vec<Value> = order
        .lines
        .iter()
        .map(|line| {
            json!({
                "productid": line.sku_id.clone().unwrap_or_else(|| line.product_id.clone()),
                "suborderno": line.sub_order_no,
                "tradegoodsno": line.outer_id.clone().unwrap_or_default(),
                "platgoodsid": line.product_id,
                "platskuid": line.sku_id,
                "tradegoodsname": line.name,
                "tradegoodsspec": line.spec.clone().unwrap_or_default(),
                "goodscount": line.count,
                "price": line.price,
                "refundstatus": line.refund_status,
                "status": line.status,
            })
        })
        .collect();
    let a = &order.receiver;
    json!({
        "platorderno": order.plat_order_no,
        "tradestatus": order.status,
        "tradestatusdescription": order.status.description(),
        "shoptype": order.shop_type,
        "tradetime": format_datetime_ms(order.created_at_ms),
        "modifytime": format_datetime_ms(order.modified_at_ms),
        "paytime": order.paid_at_ms.map(format_datetime_ms),
        "receivername": a.receiver_name,
        "nick": a.receiver_name,
        "country": a.country,
        "province": a.province,
        "city": a.city,
        "area": a.area,
        "town": a.town,
        "address": a.address,
        "zip": a.zip,
        "phone": a.phone,
        "mobile": a.mobile,
        "postfee": order.post_fee,
        "goodsfee": order.goods_fee,
        "totalmoney": order.total_amount,
        "totalamount": order.total_amount,
        "realpaymoney": order.real_paid,
        "favourablemoney": order.discount,
        "customerremark": order.buyer_remark,
        "sellerremark": order.seller_remark,
        "logisticno": order.logistic_no,
        "logisticname": order.logistic_name,
        "whsecode": order.warehouse,
        "goodinfos": goods,
    })
}

fn product_json(product: &Product) -> Value {
    let skus: Vec<Value> = product
        .skus
        .iter()
        .map(|sku| {
            json!({
                "skuid": sku.sku_id,
                "skuouterid": sku.outer_id,
                "skuprice": sku.price,
                "skuquantity": sku.quantity,
                "skuname": sku.name,
                "skuproperty": sku.property,
            })
        })
        .collect();
    json!({
        "platproductid": product.plat_product_id,
        "name": product.name,
        "outerid": product.outer_id,
        "price": product.price,
        "num": product.quantity,
        "pictureurl": product.picture_url,
        "status": if product.on_sale { "JH_01" } else { "JH_02" },
        "statusdesc": if product.on_sale { "已上架" } else { "已下架" },
        "skus": skus,
    })
}

fn fields(value: Value) -> Fields {
    match value {
        Value::Object(map) => map,
        other => Map::from_iter([("result".to_owned(), other)]),
    }
}

// ---- served from the store ----

/// Where a numbered page starts, checked: `paging()` bounds both numbers.
fn offset_of(index: u64, size: u64) -> Result<i64, PolyError> {
    (index - 1)
        .checked_mul(size)
        .and_then(|offset| i64::try_from(offset).ok())
        .ok_or_else(|| PolyError::invalid("PageIndex: too far for this PageSize"))
}

/// How long a read waits for its shop's stream to catch up before answering otherwise.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(10);

/// A window the sync has not covered yet, read from the platform through the interactive quota
/// (as ERPs poll "the last five minutes", this is the common case right after a sync), or,
/// when the window is longer than one platform query, refused saying so: never an empty page
/// that an ERP would take for "no orders".
async fn orders_from_platform(
    call: &Call<'_>,
    stream: &str,
    query: OrderQuery,
    coverage: Option<(i64, i64)>,
) -> Result<Fields, PolyError> {
    let connection = shop(call)?;
    let source = call
        .app
        .platforms
        .source(connection, stream, call.app.clock.clone())
        .await
        .map_err(platform_setup_failure)?;
    let span = query.end_ms.saturating_sub(query.start_ms);
    if span >= source.max_window_ms() {
        let covered = match coverage {
            Some((from, until)) => format!(
                "the orders changed from {} until {}",
                format_datetime_ms(from),
                format_datetime_ms(until)
            ),
            None => "no orders yet: its first sync has not finished".to_owned(),
        };
        return Err(PolyError::logic(format!(
            "StartTime..EndTime: the hub has stored {covered}; a window outside that is read \
             from the platform, which answers at most {} hours at once: ask for a shorter \
             window, or one the sync has covered",
            source.max_window_ms() / 3_600_000
        )));
    }
    let key = source.call();
    if let Some(gate) = &call.app.scheduler.gate {
        gate.acquire(
            &key.service,
            &key.method,
            &key.caller,
            shopbridge_core::quota::Priority::Interactive,
        )
        .await
        .map_err(|wait| {
            PolyError::logic(format!(
                "{wait}: the platform's quota for order lists is used up; retry later"
            ))
        })?;
    }
    let connector = connector(call).await?;
    let result = connector
        .orders()
        .map_err(connector_failure)?
        .get_orders(&query)
        .await;
    crate::telemetry::record_platform_call(
        &call.app.store,
        call.app.clock.now_ms(),
        &key,
        result.is_ok(),
    )
    .await;
    let page = result.map_err(connector_failure)?;
    let orders: Vec<Value> = page.items.iter().map(order_json).collect();
    Ok(fields(json!({
        "numtotalorder": page.total,
        "ishasnextpage": u8::from(page.has_next),
        "orders": orders,
    })))
}

fn platform_setup_failure(err: crate::SyncError) -> PolyError {
    crate::service::HubError::from(err).into()
}

async fn get_order(call: &Call<'_>) -> Result<Fields, PolyError> {
    let connection = shop(call)?;
    let stream = order_stream(call, connection, "GetOrder")?;
    let biz = &call.biz;
    if let Some(number) = text(biz, "platorderno") {
        let order = crate::service::orders::by_number(call.app, connection, &number).await?;
        let orders: Vec<Value> = order.iter().map(order_json).collect();
        return Ok(fields(
            json!({"numtotalorder": orders.len(), "ishasnextpage": 0, "orders": orders}),
        ));
    }
    let status = match text(biz, "orderstatus") {
        None => OrderStatus::All,
        Some(code) => OrderStatus::from_code(&code).ok_or_else(|| {
            PolyError::invalid(format!(
                "OrderStatus: unknown code {code:?} (JH_01..JH_24, JH_98, JH_99)"
            ))
        })?,
    };
    let by_created = match text(biz, "timetype").as_deref() {
        None | Some("JH_02") => true,
        Some("JH_01") => false,
        Some(other) => {
            return Err(PolyError::invalid(format!(
                "TimeType: JH_01 (modified) or JH_02 (created), got {other:?}"
            )));
        }
    };
    let start = time(biz, "starttime")?.ok_or_else(|| PolyError::missing("StartTime"))?;
    let end = time(biz, "endtime")?.ok_or_else(|| PolyError::missing("EndTime"))?;
    if start > end {
        return Err(PolyError::invalid("StartTime: after EndTime"));
    }
    let (index, size) = paging(biz)?;
    // The store answers a window only when the stream's stored history covers it: it starts
    // no later than the window, and it reaches past the moment the answer must be true for.
    // For a modified-time window that is its end (or now, if earlier): every order whose
    // latest change falls in it is stored. For a created-time window it is now: an order
    // created in the window may have changed since, and it is stored once that change is.
    let now = call.app.clock.now_ms();
    let needed = if by_created { now } else { end.min(now) };
    let covers = |coverage: Option<(i64, i64)>| {
        coverage.is_some_and(|(from, until)| from <= start && until > needed)
    };
    let mut coverage = call.app.store.coverage(&connection.id, stream).await?;
    if !covers(coverage) && coverage.is_none_or(|(from, _)| from <= start) {
        // Behind only at the recent end (or not synced yet): one run, normally one page,
        // catches it up.
        coverage = call
            .app
            .scheduler
            .catch_up(connection, stream, needed, CATCH_UP)
            .await
            .map_err(platform_setup_failure)?;
    }
    if !covers(coverage) {
        let query = OrderQuery {
            status,
            plat_order_no: None,
            time_type: if by_created {
                OrderTimeType::Created
            } else {
                OrderTimeType::Modified
            },
            start_ms: start,
            end_ms: end,
            page: u32::try_from(index).map_err(|_| PolyError::invalid("PageIndex: too large"))?,
            page_size: size as u32,
            shop_type: None,
        };
        return orders_from_platform(call, stream, query, coverage).await;
    }
    let filter = RecordFilter {
        time: Some((
            if by_created {
                TimeField::Created
            } else {
                TimeField::Updated
            },
            start,
            end,
        )),
        status: (status != OrderStatus::All).then(|| status.code().to_owned()),
        ..RecordFilter::default()
    };
    let offset = offset_of(index, size)?;
    let (total, records) = call
        .app
        .store
        .find_records(&connection.id, stream, &filter, offset, size as i64)
        .await?;
    let has_next = offset.saturating_add(records.len() as i64) < total;
    let orders: Vec<Value> = records
        .iter()
        .filter_map(|r| serde_json::from_str::<Order>(&r.record.payload).ok())
        .map(|order| order_json(&order))
        .collect();
    Ok(fields(
        json!({"numtotalorder": total, "ishasnextpage": u8::from(has_next), "orders": orders}),
    ))
}

async fn download_product(call: &Call<'_>) -> Result<Fields, PolyError> {
    let biz = &call.biz;
    let (index, size) = paging(biz)?;
    let wanted_status = text(biz, "status");
    if let Some(status) = wanted_status
        .as_deref()
        .filter(|s| !matches!(*s, "JH_01" | "JH_02" | "JH_99"))
    {
        return Err(PolyError::invalid(format!(
            "Status: JH_01 (on sale), JH_02 (off sale) or JH_99, got {status:?}"
        )));
    }
    let filter = RecordFilter {
        status: wanted_status.filter(|s| s != "JH_99"),
        id_or_alt_id: text(biz, "productid"),
        title_contains: text(biz, "productname"),
        ..RecordFilter::default()
    };
    let offset = offset_of(index, size)?;
    let (total, records) = call
        .app
        .store
        .find_records(&shop(call)?.id, PRODUCTS, &filter, offset, size as i64)
        .await?;
    let has_next = offset.saturating_add(records.len() as i64) < total;
    let goods: Vec<Value> = records
        .iter()
        .filter_map(|r| serde_json::from_str::<Product>(&r.record.payload).ok())
        .map(|product| product_json(&product))
        .collect();
    Ok(fields(
        json!({"totalcount": total, "ishasnextpage": u8::from(has_next), "goodslist": goods}),
    ))
}

/// Refunds of direct-ship orders: every stored order with a line refunded or being refunded.
async fn get_refund(call: &Call<'_>) -> Result<Fields, PolyError> {
    let stream = order_stream(call, shop(call)?, "GetRefund")?;
    let biz = &call.biz;
    let start = time(biz, "begintime")?
        .or(time(biz, "starttime")?)
        .ok_or_else(|| PolyError::missing("BeginTime"))?;
    let end = time(biz, "endtime")?.ok_or_else(|| PolyError::missing("EndTime"))?;
    if start > end {
        return Err(PolyError::invalid("BeginTime: after EndTime"));
    }
    let (index, size) = paging(biz)?;
    // Only orders with a refund line, changed in the window, by index; lines are paged here,
    // so at most the window's refunding orders are read.
    let filter = RecordFilter {
        time: Some((TimeField::Updated, start, end)),
        has_refund: true,
        ..RecordFilter::default()
    };
    let records = call
        .app
        .store
        .first_records(&shop(call)?.id, stream, &filter, MAX_REFUNDING_ORDERS + 1)
        .await?;
    if records.len() as i64 > MAX_REFUNDING_ORDERS {
        return Err(PolyError::logic(format!(
            "BeginTime..EndTime: more than {MAX_REFUNDING_ORDERS} orders with refunds in this \
             window; ask for a shorter one"
        )));
    }
    let mut refunds = Vec::new();
    for order in records
        .iter()
        .filter_map(|r| serde_json::from_str::<Order>(&r.record.payload).ok())
    {
        for line in order
            .lines
            .iter()
            .filter(|l| l.refund_status != RefundStatus::NoRefund)
        {
            let amount = line.price * shopbridge_core::money::Decimal::from(line.count);
            refunds.push(json!({
                "refundno": format!("{}-{}", order.plat_order_no, line.sub_order_no),
                "platorderno": order.plat_order_no,
                "subplatorderno": line.sub_order_no,
                "totalamount": order.total_amount,
                "refundamount": amount,
                "payamount": order.real_paid,
                "createtime": format_datetime_ms(order.modified_at_ms),
                "updatetime": format_datetime_ms(order.modified_at_ms),
                "orderstatus": order.status,
                "orderstatusdesc": order.status.description(),
                "refundstatus": line.refund_status,
                "refundstatusdesc": line.refund_status.description(),
                "productname": line.name,
                "productnum": line.count,
                "sku": line.sku_id,
                "outerid": line.outer_id,
            }));
        }
    }
    let (total, has_next, page) = page_of(refunds, index, size);
    Ok(fields(
        json!({"totalcount": total, "ishasnextpage": u8::from(has_next), "refunds": page}),
    ))
}

// ---- live through the connector ----

async fn send(connector: &dyn Connector, biz: &Value) -> Result<Fields, PolyError> {
    let number = text(biz, "platorderno").ok_or_else(|| PolyError::missing("PlatOrderNo"))?;
    let logistic_type =
        text(biz, "logistictype").ok_or_else(|| PolyError::missing("LogisticType"))?;
    let no_logistics = text(biz, "sendtype").as_deref() == Some("JH_03");
    let logistic_no = match text(biz, "logisticno") {
        Some(no) => no,
        None if no_logistics => String::new(),
        None => return Err(PolyError::missing("LogisticNo")),
    };
    let mut lines = Vec::new();
    if let Some(parts) = text(biz, "subplatorderno") {
        for part in parts.split('|').filter(|p| !p.trim().is_empty()) {
            let (sub, count) = part.split_once(':').ok_or_else(|| {
                PolyError::invalid(format!(
                    "SubPlatOrderNo: expected suborderno:count|..., got {part:?}"
                ))
            })?;
            let count: i64 = count
                .trim()
                .parse()
                .ok()
                .filter(|n| crate::limits::LINE_COUNT.contains(n))
                .ok_or_else(|| {
                    PolyError::invalid(format!(
                        "SubPlatOrderNo: {count:?} is not a count from 1 to {}",
                        crate::limits::LINE_COUNT.end()
                    ))
                })?;
            lines.push((sub.trim().to_owned(), count));
        }
    }
    let shop_type = match text(biz, "shoptype") {
        None => None,
        Some(code) => Some(
            ShopType::from_code(&code)
                .ok_or_else(|| PolyError::invalid(format!("ShopType: unknown code {code:?}")))?,
        ),
    };
    let shipment = Shipment {
        plat_order_no: number.clone(),
        logistic_type: logistic_type.clone(),
        logistic_no,
        logistic_name: text(biz, "logisticname"),
        lines,
        warehouse: text(biz, "whsecode"),
        shop_type,
    };
    let result = crate::service::orders::ship_through(connector, &shipment).await?;
    Ok(fields(json!({
        "platorderno": result.plat_order_no,
        "logisticno": result.logistic_no,
        "logistictype": logistic_type,
        "logisticname": shipment.logistic_name,
        "platformreference": result.platform_reference,
    })))
}

async fn sync_stock(connector: &dyn Connector, biz: &Value) -> Result<Fields, PolyError> {
    let quantity = number(biz, "quantity")?.ok_or_else(|| PolyError::missing("Quantity"))?;
    let outer_id = text(biz, "outerid")
        .or_else(|| text(biz, "skuid"))
        .or_else(|| text(biz, "outskuid"))
        .ok_or_else(|| PolyError::missing("OuterID (or SkuID)"))?;
    let mode = match text(biz, "syncstocktype").as_deref() {
        None | Some("JH_01") => StockMode::Full,
        Some("JH_02") => StockMode::Incremental,
        Some(other) => {
            return Err(PolyError::invalid(format!(
                "SyncStockType: JH_01 (full) or JH_02 (incremental), got {other:?}"
            )));
        }
    };
    let update = StockUpdate {
        product_id: text(biz, "platproductid"),
        sku_id: text(biz, "skuid"),
        outer_id: outer_id.clone(),
        quantity,
        mode,
        warehouse: text(biz, "whsecode"),
        circuit_break_ack: text(biz, "circuitbreakflag").as_deref() == Some("1"),
        batch_no: None,
    };
    let result = crate::service::orders::push_stock_through(connector, &update).await?;
    Ok(fields(json!({
        "platproductid": update.product_id,
        "skuid": update.sku_id,
        "outerid": result.outer_id,
        "quantity": result.quantity,
    })))
}

fn refund_json(check: &RefundCheck) -> Value {
    let children: Vec<Value> = check
        .lines
        .iter()
        .map(|line| {
            json!({
                "suborderno": line.sub_order_no,
                "refundno": line.refund_no,
                "productname": line.product_name,
                "refundstatus": line.status,
                "refundstatusdescription": line.status.description(),
            })
        })
        .collect();
    json!({
        "platorderno": check.plat_order_no,
        "refundstatus": check.status,
        "refundstatusdescription": check.status.description(),
        "tradestatus": check.order_status,
        "childrenrefundstatus": children,
    })
}

async fn check_refund(connector: &dyn Connector, number: &str) -> Result<Fields, PolyError> {
    let check = crate::service::orders::check_refund_through(connector, number).await?;
    Ok(fields(refund_json(&check)))
}

/// Runs `one` on each item of `biz[key]`, answering `results[]` with `issuccess` per item.
async fn batch<F, Fut>(biz: &Value, key: &str, one: F) -> Result<Fields, PolyError>
where
    F: Fn(Value) -> Fut,
    Fut: std::future::Future<Output = Result<Fields, PolyError>>,
{
    let items = biz
        .get(key)
        .and_then(Value::as_array)
        .filter(|items| !items.is_empty())
        .ok_or_else(|| PolyError::missing(key))?;
    if items.len() > 100 {
        return Err(PolyError::invalid(format!(
            "{key}: at most 100 items, got {}",
            items.len()
        )));
    }
    let mut results = Vec::new();
    for item in items {
        let mut result = match one(item.clone()).await {
            Ok(fields) => {
                let mut result = fields;
                result.insert("issuccess".into(), json!(1));
                result.insert("code".into(), json!("10000"));
                result.insert("message".into(), json!("Success"));
                result
            }
            Err(err) => Map::from_iter([
                ("issuccess".to_owned(), json!(0)),
                ("code".to_owned(), json!(err.subcode)),
                ("message".to_owned(), json!(err.message)),
            ]),
        };
        // Echo the item's keys so that each result can be matched to its request.
        for id in ["platorderno", "platproductid", "skuid", "outerid"] {
            if let Some(value) = item.get(id).filter(|_| !result.contains_key(id)) {
                result.insert(id.into(), value.clone());
            }
        }
        results.push(Value::Object(result));
    }
    Ok(fields(json!({ "results": results })))
}

// ---- shop authorization ----

/// `Differ.JH.BuildeAuthorizeUrl`: the platform page where the shop's owner authorizes; after
/// it, the person lands on `callbackurl` with `code` (for GetAuthorizeSessionKey) and `state`.
/// With a shop's `token` it authorizes that shop again: same shop, its data kept.
async fn build_authorize_url(call: &Call<'_>) -> Result<Fields, PolyError> {
    let platid = call
        .platid
        .as_deref()
        .ok_or_else(|| PolyError::missing("platid"))?;
    let kind = call.app.platforms.kind_of_platid(platid).ok_or_else(|| {
        PolyError::invalid(format!(
            "platid: {platid:?} is not served here ({})",
            call.app.platforms.platids()
        ))
    })?;
    let callback =
        text(&call.biz, "callbackurl").ok_or_else(|| PolyError::missing("callbackurl"))?;
    let mut return_to = url::Url::parse(&callback)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .ok_or_else(|| {
            PolyError::invalid(format!(
                "callbackurl: expected an http(s) URL, got {callback:?}"
            ))
        })?;
    if let Some(state) = text(&call.biz, "state") {
        return_to.query_pairs_mut().append_pair("state", &state);
    }
    if let Some(shop) = &call.shop {
        let url = crate::service::shops::reauthorize(
            call.app,
            &call.tenant_id,
            &shop.id,
            Some(return_to.to_string()),
        )
        .await?;
        return Ok(fields(json!({ "authorizeurl": url })));
    }
    let name = text(&call.biz, "shopname")
        .or_else(|| text(&call.biz, "nick"))
        .ok_or_else(|| PolyError::missing("shopname"))?;
    let request = BeginConnect {
        tenant_id: call.tenant_id.clone(),
        platform: kind.platform().as_str().to_owned(),
        mode: Some(kind.mode().to_owned()),
        name,
        seller: text(&call.biz, "seller"),
        vendor_id: text(&call.biz, "vendorid"),
        native: false,
        return_to: Some(return_to.to_string()),
        reauthorize: None,
    };
    let url = crate::service::shops::begin_connect(call.app, request).await?;
    Ok(fields(json!({ "authorizeurl": url })))
}

async fn account_fields(
    call: &Call<'_>,
    connection_id: &str,
    token: &str,
) -> Result<Fields, PolyError> {
    let connection = call.app.store.connection(connection_id).await?;
    // The account the shop acts for, where its platform has one (a JIT vendor).
    let vendor = call
        .app
        .platforms
        .of(connection.kind)
        .ok()
        .and_then(|adapter| adapter.reauthorize_request(&connection).1)
        .and_then(|id| id.parse::<i64>().ok());
    Ok(fields(json!({
        "token": token,
        "sessionkey": token,
        "nickname": connection.name,
        "venderid": vendor,
        "platid": crate::platforms::platid_of(connection.kind),
        "sessionkeyexpiretime": connection.access_expires_ms.map(format_datetime_ms),
        "refreshtokenexpiretime": connection.refresh_expires_ms.map(format_datetime_ms),
    })))
}

/// `Differ.JH.GetAuthorizeSessionKey`: redeems the callback's `code` for the shop's token.
async fn get_session_key(call: &Call<'_>, now: i64) -> Result<Fields, PolyError> {
    let code = text(&call.biz, "code").ok_or_else(|| PolyError::missing("code"))?;
    let connection_id = call
        .app
        .store
        .take_handoff(&call.tenant_id, &code, now)
        .await?
        .ok_or_else(|| PolyError::invalid("code: unknown, used or expired (authorize again)"))?;
    let token = call
        .app
        .store
        .issue_shop_token(&call.tenant_id, &connection_id, now)
        .await?;
    account_fields(call, &connection_id, &token).await
}

/// `Differ.JH.SyncAccount`: a shop token from a session key — one this hub issued, or a
/// platform SessionKey the shop already has (checked with the platform first).
async fn sync_account(call: &Call<'_>, now: i64) -> Result<Fields, PolyError> {
    let key = text(&call.biz, "sessionkey").ok_or_else(|| PolyError::missing("SessionKey"))?;
    if let Some(connection_id) = call.app.store.shop_for_token(&call.tenant_id, &key).await? {
        return account_fields(call, &connection_id, &key).await;
    }
    let platid = call
        .platid
        .as_deref()
        .ok_or_else(|| PolyError::missing("platid"))?;
    // Only a platform whose shops have session keys can be connected with one.
    let kind = call
        .app
        .platforms
        .kind_of_platid(platid)
        .filter(|&kind| {
            call.app
                .platforms
                .of(kind)
                .is_ok_and(|adapter| adapter.takes_session_key())
        })
        .ok_or_else(|| {
            PolyError::unsupported(format!(
                "SyncAccount with a platform SessionKey: platid {platid} has no session keys here (served: {}); connect such a shop with BuildeAuthorizeUrl",
                call.app.platforms.platids()
            ))
        })?;
    let vendor_id = number_in(&call.biz, "vendorid", "VendorId", crate::limits::ACCOUNT_ID)?.or(
        number_in(&call.biz, "venderid", "VendorId", crate::limits::ACCOUNT_ID)?,
    );
    let existing = crate::connect::Existing {
        name: text(&call.biz, "shopname")
            .or_else(|| text(&call.biz, "nick"))
            .unwrap_or_else(|| format!("{}-{now}", kind.platform())),
        mode: Some(kind.mode().to_owned()),
        session_key: Some(key),
        vendor_id,
        app_key: None,
        token: None,
        refresh_token: text(&call.biz, "refreshtokenkey")
            .or_else(|| text(&call.biz, "refreshtoken")),
    };
    let connection_id = crate::service::shops::connect_existing(
        call.app,
        &call.tenant_id,
        kind.platform().as_str(),
        existing,
        "SyncAccount",
    )
    .await?
    .id;
    let token = call
        .app
        .store
        .issue_shop_token(&call.tenant_id, &connection_id, now)
        .await?;
    account_fields(call, &connection_id, &token).await
}
