//! Orders: a shop's list with status and date filters, keyset paging and CSV export, and one
//! order's page (receiver, lines, amounts, status in words, the stored versions as a timeline,
//! and the actions its platform allows).

use std::sync::Arc;

use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use shopbridge_core::codes::{OrderStatus, RefundStatus};
use shopbridge_core::model::{Order, Shipment};
use shopbridge_store::{BrowseFilter, Capped, Connection, ConnectionSummary, Cursor, Seek};
use shopbridge_vop::union::order::{OrderInfo, OrderStage};

use super::{Shared, ShopChoice, SignedIn, Viewer, checked, chosen_shop, failed, shop_choice};
use crate::service::{self, HubError};
use crate::state::HubApp;
use crate::ui::{self, Lang};

const ORDERS_PER_PAGE: i64 = 50;
/// Counting stops here: the count of a huge shop's orders is not worth a scan.
const ORDER_COUNT_CAP: i64 = 10_000;
/// Rows read per batch while a CSV export streams.
const EXPORT_BATCH: i64 = 500;
const DAY_MS: i64 = 86_400_000;
const BEIJING_MS: i64 = 8 * 3_600_000;

/// The statuses a unified order list can be narrowed to.
const LISTED_STATUSES: &[OrderStatus] = &[
    OrderStatus::WaitBuyerPay,
    OrderStatus::WaitSellerSend,
    OrderStatus::PartSent,
    OrderStatus::WaitBuyerConfirm,
    OrderStatus::TradeSuccess,
    OrderStatus::TradeClosed,
    OrderStatus::CancelledBeforeShipping,
    OrderStatus::CancelledAfterShipping,
    OrderStatus::ReturnOrExchange,
];

fn status_label(lang: Lang, status: OrderStatus) -> String {
    lang.t(&format!("order-status-{}", status.code()))
}

/// How a status is coloured: what waits for the seller, what is done, what went wrong.
fn status_tone(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::WaitSellerSend | OrderStatus::PartSent | OrderStatus::OutOfStock => "warn",
        OrderStatus::TradeSuccess => "ok",
        OrderStatus::ReturnOrExchange | OrderStatus::Complaint | OrderStatus::Frozen => "bad",
        _ => "plain",
    }
}

fn stage_tone(name: Option<&str>) -> &'static str {
    match name.and_then(OrderStage::from_name) {
        Some(OrderStage::Settled) => "ok",
        Some(OrderStage::PendingSettlement) => "warn",
        Some(OrderStage::Invalid) => "bad",
        _ => "plain",
    }
}

fn refund_label(lang: Lang, status: RefundStatus) -> String {
    lang.t(&format!("refund-status-{}", status.code()))
}

fn stage_key(stage: OrderStage) -> &'static str {
    match stage {
        OrderStage::Ordered => "ordered",
        OrderStage::Paid => "paid",
        OrderStage::Signed => "signed",
        OrderStage::PendingSettlement => "pending",
        OrderStage::Settled => "settled",
        OrderStage::Invalid => "invalid",
    }
}

/// A Union order's sub-status in words (the platform's own name where it is a new one).
fn stage_label(lang: Lang, name: Option<&str>) -> String {
    match name {
        Some(name) => match OrderStage::from_name(name) {
            Some(stage) => lang.t(&format!("union-stage-{}", stage_key(stage))),
            None => lang.t_with("union-stage-other", &[("name", name.to_owned())]),
        },
        None => "—".into(),
    }
}

/// Every status message the pages may name, for the catalog test.
#[cfg(test)]
pub(super) fn status_keys() -> Vec<String> {
    let mut keys: Vec<String> = OrderStatus::ALL
        .iter()
        .map(|s| format!("order-status-{}", s.code()))
        .collect();
    keys.extend(
        RefundStatus::ALL
            .iter()
            .map(|s| format!("refund-status-{}", s.code())),
    );
    keys.extend(
        OrderStage::ALL
            .iter()
            .map(|s| format!("union-stage-{}", stage_key(*s))),
    );
    keys
}

#[derive(Debug, Deserialize, Default, Clone)]
pub(super) struct OrdersQuery {
    shop: Option<String>,
    q: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// A page older than this cursor (`<updated_ms>:<number>`).
    older: Option<String>,
    /// A page newer than this cursor.
    newer: Option<String>,
    /// `1`: the oldest page.
    oldest: Option<u8>,
}

/// A Beijing calendar day as the epoch millisecond it starts at.
fn day_start(field: &'static str, text: &str, lang: Lang) -> Result<i64, String> {
    let refused = || {
        lang.t_with(
            "invalid-date",
            &[("field", field.to_owned()), ("value", super::echoed(text))],
        )
    };
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| refused())?;
    let midnight = date.and_hms_opt(0, 0, 0).ok_or_else(refused)?;
    let ms = midnight.and_utc().timestamp_millis() - BEIJING_MS;
    match crate::limits::epoch_ms(field, ms) {
        Ok(_) => Ok(ms),
        Err(_) => Err(refused()),
    }
}

impl OrdersQuery {
    /// The filter the query asks for, or which field is wrong.
    fn filter(&self, lang: Lang) -> Result<BrowseFilter, String> {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let from = text(&self.from)
            .map(|t| day_start("from", &t, lang))
            .transpose()?;
        // The end date is inclusive: the list runs to the end of that day.
        let to = text(&self.to)
            .map(|t| day_start("to", &t, lang).map(|start| start + DAY_MS))
            .transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            return Err(lang.t("invalid-range"));
        }
        Ok(BrowseFilter {
            id_prefix: text(&self.q),
            status: text(&self.status),
            updated_from_ms: from,
            updated_to_ms: to,
        })
    }

    fn seek(&self, lang: Lang) -> Result<Seek, String> {
        let cursor = |field: &str, text: &Option<String>| match text {
            None => Ok(None),
            Some(text) => Cursor::decode(text).map(Some).ok_or_else(|| {
                lang.t_with(
                    "invalid-cursor",
                    &[("field", field.to_owned()), ("value", super::echoed(text))],
                )
            }),
        };
        Ok(
            match (cursor("older", &self.older)?, cursor("newer", &self.newer)?) {
                (Some(older), _) => Seek::Older(older),
                (_, Some(newer)) => Seek::Newer(newer),
                _ if self.oldest == Some(1) => Seek::Oldest,
                _ => Seek::Newest,
            },
        )
    }

    /// The list's address with these filters and `extra`, every value URL-encoded.
    fn href(&self, path: &str, shop: &str, extra: &[(&str, &str)]) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("shop", shop);
        for (name, value) in [
            ("q", &self.q),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                query.append_pair(name, value);
            }
        }
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        format!("{path}?{}", query.finish())
    }
}

/// One row of the list, in words.
#[derive(Serialize)]
struct Row {
    number: String,
    href: String,
    status: String,
    tone: &'static str,
    updated_ms: i64,
    amount: String,
}

#[derive(Serialize)]
struct StatusOption {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct PagerLink {
    href: String,
    label: String,
    rel: &'static str,
}

#[derive(Serialize)]
struct ListPage {
    shops: Vec<ShopChoice>,
    chosen: String,
    q: String,
    status: String,
    from: String,
    to: String,
    filtered: bool,
    statuses: Vec<StatusOption>,
    amount_label: String,
    rows: Vec<Row>,
    count_text: String,
    pager: Vec<PagerLink>,
    csv_href: String,
    /// The list without filters.
    clear_href: String,
}

fn has_orders(app: &HubApp, shop: &ConnectionSummary) -> bool {
    shop.kind.is_union() || app.platforms.order_stream(shop.kind).is_some()
}

/// A page of rows of either kind of order list.
async fn rows(
    app: &HubApp,
    lang: Lang,
    shop: &Connection,
    filter: &BrowseFilter,
    seek: &Seek,
    limit: i64,
    count_cap: i64,
) -> Result<(Vec<Row>, Capped), HubError> {
    let detail = |number: &str| {
        format!(
            "/console/orders/{}/{}",
            super::segment(&shop.id),
            super::segment(number)
        )
    };
    if shop.kind.is_union() {
        let page = service::union::browse_orders(app, shop, filter, seek, limit, count_cap).await?;
        let rows = page
            .rows
            .into_iter()
            .map(|(cursor, order)| Row {
                href: detail(&cursor.id),
                status: order
                    .as_ref()
                    .map(|o| stage_label(lang, o.order_sub_status_name.as_deref()))
                    .unwrap_or_default(),
                tone: stage_tone(
                    order
                        .as_ref()
                        .and_then(|o| o.order_sub_status_name.as_deref()),
                ),
                updated_ms: cursor.updated_ms,
                amount: order
                    .and_then(|o| o.commission)
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "0".into()),
                number: cursor.id,
            })
            .collect();
        return Ok((rows, page.matching));
    }
    let page = service::orders::browse(app, shop, filter, seek, limit, count_cap).await?;
    let rows = page
        .rows
        .into_iter()
        .map(|order| Row {
            href: detail(&order.number),
            status: order
                .status
                .map(|s| status_label(lang, s))
                .unwrap_or_default(),
            tone: order.status.map(status_tone).unwrap_or("plain"),
            updated_ms: order.updated_ms,
            amount: order.amount.unwrap_or_else(|| "0".into()),
            number: order.number,
        })
        .collect();
    Ok((rows, page.matching))
}

fn bad_request(viewer: &Viewer, message: String) -> Response {
    super::error_page(
        StatusCode::BAD_REQUEST,
        viewer.lang,
        viewer.now_ms,
        message,
        "/console/orders",
    )
}

pub(super) async fn list(
    State(app): Shared,
    SignedIn(session): SignedIn,
    viewer: Viewer,
    Query(query): Query<OrdersQuery>,
) -> Response {
    let lang = viewer.lang;
    let (shops, chosen) = match chosen_shop(&app, &session, query.shop.as_deref(), |shop| {
        has_orders(&app, shop)
    })
    .await
    {
        Ok(found) => found,
        Err(err) => return failed(err, &viewer, "/console/shops"),
    };
    let frame = viewer.frame("title-orders", "orders", &session);
    let choices = shops.iter().map(|s| shop_choice(&app, lang, s)).collect();
    let Some(shop) = chosen else {
        return ui::render(
            "orders.html",
            &frame,
            &ListPage {
                shops: Vec::new(),
                chosen: String::new(),
                q: String::new(),
                status: String::new(),
                from: String::new(),
                to: String::new(),
                filtered: false,
                statuses: Vec::new(),
                amount_label: String::new(),
                rows: Vec::new(),
                count_text: String::new(),
                pager: Vec::new(),
                csv_href: String::new(),
                clear_href: String::new(),
            },
        );
    };
    let (filter, seek) = match (query.filter(lang), query.seek(lang)) {
        (Ok(filter), Ok(seek)) => (filter, seek),
        (Err(message), _) | (_, Err(message)) => return bad_request(&viewer, message),
    };
    let connection = match service::own_shop(&app, &session.tenant_id, &shop.id).await {
        Ok(connection) => connection,
        Err(err) => return failed(err, &viewer, "/console/orders"),
    };
    let (rows, matching) = match rows(
        &app,
        lang,
        &connection,
        &filter,
        &seek,
        ORDERS_PER_PAGE,
        ORDER_COUNT_CAP,
    )
    .await
    {
        Ok(found) => found,
        Err(err) => return failed(err, &viewer, "/console/orders"),
    };
    let statuses = if shop.kind.is_union() {
        OrderStage::ALL
            .iter()
            .map(|stage| StatusOption {
                value: stage.name().to_owned(),
                label: lang.t(&format!("union-stage-{}", stage_key(*stage))),
            })
            .collect()
    } else {
        LISTED_STATUSES
            .iter()
            .map(|status| StatusOption {
                value: status.code().to_owned(),
                label: status_label(lang, *status),
            })
            .collect()
    };
    // Keyset paging: each link names the row it continues from.
    let cursor_of = |row: &Row| {
        Cursor {
            updated_ms: row.updated_ms,
            id: row.number.clone(),
        }
        .encode()
    };
    let full = rows.len() as i64 == ORDERS_PER_PAGE;
    let at_newest = matches!(seek, Seek::Newest) || (matches!(seek, Seek::Newer(_)) && !full);
    let at_oldest =
        matches!(seek, Seek::Oldest) || (matches!(seek, Seek::Older(_) | Seek::Newest) && !full);
    let link = |extra: &[(&str, &str)], key: &str, rel: &'static str| PagerLink {
        href: query.href("/console/orders", &shop.id, extra),
        label: lang.t(key),
        rel,
    };
    let mut pager = Vec::new();
    match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => {
            if !at_newest {
                pager.push(link(&[], "page-newest", "first"));
                pager.push(link(&[("newer", &cursor_of(first))], "page-newer", "prev"));
            }
            if !at_oldest {
                pager.push(link(&[("older", &cursor_of(last))], "page-older", "next"));
                pager.push(link(&[("oldest", "1")], "page-oldest", "last"));
            }
        }
        // An empty page past either end still leads back.
        _ if !matches!(seek, Seek::Newest) => pager.push(link(&[], "page-newest", "first")),
        _ => {}
    }
    let count_text = match matching {
        Capped::Exactly(n) => lang.t_with("orders-count", &[("count", n.to_string())]),
        Capped::MoreThan(n) => lang.t_with("orders-count-more", &[("count", n.to_string())]),
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default().trim().to_owned();
    let page = ListPage {
        shops: choices,
        chosen: shop.id.clone(),
        q: text(&query.q),
        status: text(&query.status),
        from: text(&query.from),
        to: text(&query.to),
        filtered: filter != BrowseFilter::default(),
        statuses,
        amount_label: lang.t(if shop.kind.is_union() {
            "col-commission"
        } else {
            "col-amount"
        }),
        rows,
        count_text,
        pager,
        csv_href: query.href("/console/orders.csv", &shop.id, &[]),
        clear_href: format!("/console/orders?shop={}", super::query_value(&shop.id)),
    };
    ui::render("orders.html", &frame, &page)
}

/// A CSV cell: a value a spreadsheet would run as a formula is quoted as text.
pub(super) fn cell(value: &str) -> String {
    let numeric = value.parse::<f64>().is_ok();
    match value.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => format!("'{value}"),
        Some('-') if !numeric => format!("'{value}"),
        _ => value.to_owned(),
    }
}

fn csv_line(fields: &[String]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let cells: Vec<String> = fields.iter().map(|f| cell(f)).collect();
    // Writing to memory fails only on a bug in the writer; the line is then left out.
    if writer.write_record(&cells).is_err() {
        return Vec::new();
    }
    writer.into_inner().unwrap_or_default()
}

/// Every order the list's filters match, as CSV, read in keyset batches while it streams: the
/// memory held is a batch, whatever the shop's size.
pub(super) async fn csv(
    State(app): Shared,
    SignedIn(session): SignedIn,
    viewer: Viewer,
    Query(query): Query<OrdersQuery>,
) -> Response {
    let lang = viewer.lang;
    let shop = match chosen_shop(&app, &session, query.shop.as_deref(), |shop| {
        has_orders(&app, shop)
    })
    .await
    {
        Ok((_, Some(shop))) => shop,
        Ok((_, None)) => {
            return failed(
                HubError::NotFound("shop: no shop with orders".into()),
                &viewer,
                "/console/orders",
            );
        }
        Err(err) => return failed(err, &viewer, "/console/orders"),
    };
    let filter = match query.filter(lang) {
        Ok(filter) => filter,
        Err(message) => return bad_request(&viewer, message),
    };
    // Read once: every batch of the export reads the same shop.
    let shop = match service::own_shop(&app, &session.tenant_id, &shop.id).await {
        Ok(connection) => Arc::new(connection),
        Err(err) => return failed(err, &viewer, "/console/orders"),
    };
    let amount = if shop.kind.is_union() {
        "col-commission"
    } else {
        "col-amount"
    };
    // A byte-order mark, so that spreadsheets read the Chinese as UTF-8.
    let mut head = "\u{feff}".as_bytes().to_vec();
    head.extend(csv_line(&[
        lang.t("col-order"),
        lang.t("col-status"),
        lang.t("col-updated"),
        lang.t(amount),
    ]));
    let state = (app.clone(), shop.clone(), filter, Some(Seek::Newest));
    let batches =
        futures_util::stream::unfold(state, move |(app, shop, filter, seek)| async move {
            let seek = seek?;
            match rows(&app, lang, &shop, &filter, &seek, EXPORT_BATCH, 0).await {
                Ok((rows, _)) => {
                    let next = (rows.len() as i64 == EXPORT_BATCH)
                        .then(|| rows.last())
                        .flatten()
                        .map(|last| {
                            Seek::Older(Cursor {
                                updated_ms: last.updated_ms,
                                id: last.number.clone(),
                            })
                        });
                    let mut bytes = Vec::new();
                    for row in &rows {
                        bytes.extend(csv_line(&[
                            row.number.clone(),
                            row.status.clone(),
                            shopbridge_vop::time::format_datetime_ms(row.updated_ms),
                            row.amount.clone(),
                        ]));
                    }
                    Some((Ok::<_, std::io::Error>(bytes), (app, shop, filter, next)))
                }
                Err(err) => {
                    // The response has begun: the export ends short, and the log says why.
                    tracing::error!(error = %err, "orders export stopped");
                    Some((
                        Err(std::io::Error::other("the orders export stopped")),
                        (app, shop, filter, None),
                    ))
                }
            }
        });
    let body = futures_util::stream::once(async move { Ok(head) }).chain(batches);
    let name = format!("orders-{}.csv", shop.id);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

#[derive(Serialize)]
struct Receiver {
    name: String,
    phone: Option<String>,
    address: String,
}

#[derive(Serialize)]
struct LineView {
    sub_order_no: String,
    product_id: String,
    sku: Option<String>,
    outer_id: Option<String>,
    name: String,
    spec: Option<String>,
    count: i64,
    price: String,
    refund_label: String,
    refunding: bool,
}

#[derive(Serialize)]
struct TimelineEntry {
    at_ms: i64,
    changes: Vec<Change>,
}

/// One change in words, with the recorded value it is about (an item's name, a tracking
/// number) kept apart from the words.
#[derive(Serialize)]
struct Change {
    /// The recorded value shown before the words.
    about: Option<String>,
    text: String,
    /// The recorded value shown after the words.
    value: Option<String>,
}

impl From<String> for Change {
    fn from(text: String) -> Self {
        Self {
            about: None,
            text,
            value: None,
        }
    }
}

#[derive(Serialize)]
struct Outcome {
    tone: &'static str,
    text: String,
    /// A shipment the platform took: the page offers no second one.
    shipped: bool,
}

#[derive(Serialize)]
struct OrderPage {
    number: String,
    shop_name: String,
    back_href: String,
    action_href: String,
    status_code: &'static str,
    status_label: String,
    status_tone: &'static str,
    receiver: Receiver,
    created_ms: Option<i64>,
    paid_ms: Option<i64>,
    modified_ms: Option<i64>,
    warehouse: Option<String>,
    logistic_name: Option<String>,
    logistic_no: Option<String>,
    buyer_remark: Option<String>,
    seller_remark: Option<String>,
    lines: Vec<LineView>,
    goods_fee: String,
    post_fee: String,
    discount: String,
    show_discount: bool,
    total_amount: String,
    real_paid: String,
    /// What the buyer paid differs from the total.
    show_real_paid: bool,
    can_ship: bool,
    can_check_refund: bool,
    carriers: &'static [shopbridge_core::codes::Carrier],
    timeline: Vec<TimelineEntry>,
    result: Option<Outcome>,
}

/// What changed from one stored version of an order to the next, in words.
fn changes(lang: Lang, before: Option<&Order>, after: &Order) -> Vec<Change> {
    let Some(before) = before else {
        return vec![
            lang.t_with(
                "change-first-seen",
                &[("status", status_label(lang, after.status))],
            )
            .into(),
        ];
    };
    let mut said: Vec<Change> = Vec::new();
    if before.status != after.status {
        said.push(Change::from(lang.t_with(
            "change-status",
            &[
                ("from", status_label(lang, before.status)),
                ("to", status_label(lang, after.status)),
            ],
        )));
    }
    if before.logistic_no != after.logistic_no
        && let Some(tracking) = &after.logistic_no
    {
        said.push(Change {
            about: None,
            text: lang.t("change-logistics"),
            value: Some(tracking.clone()),
        });
    }
    if before.total_amount != after.total_amount {
        said.push(Change::from(lang.t_with(
            "change-amount",
            &[
                ("from", before.total_amount.to_string()),
                ("to", after.total_amount.to_string()),
            ],
        )));
    }
    for line in &after.lines {
        let was = before
            .lines
            .iter()
            .find(|l| l.sub_order_no == line.sub_order_no)
            .map(|l| l.refund_status);
        if let Some(was) = was
            && was != line.refund_status
        {
            said.push(Change {
                about: Some(line.name.clone()),
                text: lang.t_with(
                    "change-line-refund",
                    &[
                        ("from", refund_label(lang, was)),
                        ("to", refund_label(lang, line.refund_status)),
                    ],
                ),
                value: None,
            });
        }
    }
    if said.is_empty() {
        said.push(lang.t("change-nothing").into());
    }
    said
}

async fn order_view(
    app: &HubApp,
    lang: Lang,
    shop: &shopbridge_store::Connection,
    number: &str,
    result: Option<Outcome>,
) -> Result<Option<OrderPage>, HubError> {
    let Some(found) = service::orders::with_history(app, shop, number).await? else {
        return Ok(None);
    };
    let order = &found.order;
    let mut timeline = Vec::new();
    let mut previous: Option<&Order> = None;
    for (at_ms, version) in &found.versions {
        timeline.push(TimelineEntry {
            at_ms: *at_ms,
            changes: changes(lang, previous, version),
        });
        previous = Some(version);
    }
    // Newest first, as people read a history.
    timeline.reverse();
    let address = &order.receiver;
    let address_line = [
        address.country.clone(),
        Some(address.province.clone()),
        Some(address.city.clone()),
        Some(address.area.clone()),
        address.town.clone(),
        Some(address.address.clone()),
        address.house_number.clone(),
        address.zip.clone(),
    ]
    .into_iter()
    .flatten()
    .filter(|part| !part.trim().is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    let shop_path = format!(
        "/console/orders/{}/{}",
        super::segment(&shop.id),
        super::segment(number)
    );
    let refunding = order
        .lines
        .iter()
        .any(|line| line.refund_status != RefundStatus::NoRefund);
    Ok(Some(OrderPage {
        number: order.plat_order_no.clone(),
        shop_name: shop.name.clone(),
        back_href: format!("/console/orders?shop={}", super::query_value(&shop.id)),
        action_href: shop_path,
        status_code: order.status.code(),
        status_label: status_label(lang, order.status),
        status_tone: status_tone(order.status),
        receiver: Receiver {
            name: address.receiver_name.clone(),
            phone: address.mobile.clone().or_else(|| address.phone.clone()),
            address: address_line,
        },
        created_ms: Some(order.created_at_ms),
        paid_ms: order.paid_at_ms,
        modified_ms: Some(order.modified_at_ms),
        warehouse: order.warehouse.clone(),
        logistic_name: order.logistic_name.clone(),
        logistic_no: order.logistic_no.clone(),
        buyer_remark: order.buyer_remark.clone(),
        seller_remark: order.seller_remark.clone(),
        lines: order
            .lines
            .iter()
            .map(|line| LineView {
                sub_order_no: line.sub_order_no.clone(),
                product_id: line.product_id.clone(),
                sku: line.sku_id.clone(),
                outer_id: line.outer_id.clone(),
                name: line.name.clone(),
                spec: line.spec.clone(),
                count: line.count,
                price: line.price.to_string(),
                refund_label: refund_label(lang, line.refund_status),
                refunding: line.refund_status != RefundStatus::NoRefund,
            })
            .collect(),
        goods_fee: order.goods_fee.to_string(),
        post_fee: order.post_fee.to_string(),
        discount: order.discount.to_string(),
        show_discount: !order.discount.is_zero(),
        total_amount: order.total_amount.to_string(),
        real_paid: order.real_paid.to_string(),
        show_real_paid: order.real_paid != order.total_amount,
        // What the platform allows: shipping an order that waits for it; asking about a
        // refund of one that has been paid.
        can_ship: matches!(
            order.status,
            OrderStatus::WaitSellerSend | OrderStatus::PartSent
        ) && !result.as_ref().is_some_and(|r| r.shipped),
        can_check_refund: refunding || order.paid_at_ms.is_some(),
        carriers: shopbridge_core::codes::carriers(),
        timeline,
        result,
    }))
}

#[derive(Serialize)]
struct UnionLine {
    goods_id: String,
    name: Option<String>,
    count: i32,
    base: String,
    rate: String,
    commission: String,
}

#[derive(Serialize)]
struct UnionOrderPage {
    number: String,
    shop_name: String,
    back_href: String,
    stage: String,
    stage_label: String,
    stage_tone: &'static str,
    commission: String,
    /// What the commission was counted on, over the lines.
    base: String,
    pid: Option<String>,
    customer: String,
    stat_param: Option<String>,
    order_ms: Option<i64>,
    sign_ms: Option<i64>,
    settled_ms: Option<i64>,
    updated_ms: Option<i64>,
    lines: Vec<UnionLine>,
    timeline: Vec<TimelineEntry>,
}

fn union_view(
    lang: Lang,
    shop: &shopbridge_store::Connection,
    found: service::union::UnionOrderWithHistory,
) -> UnionOrderPage {
    let order: &OrderInfo = &found.order;
    let amount = |value: Option<shopbridge_core::money::Decimal>| {
        value.map(|v| v.to_string()).unwrap_or_else(|| "0".into())
    };
    let mut timeline = Vec::new();
    let mut previous: Option<&(i64, Option<String>, Option<String>)> = None;
    for version in &found.versions {
        let (at_ms, stage, commission) = version;
        let mut said: Vec<Change> = Vec::new();
        match previous {
            None => said.push(
                lang.t_with(
                    "change-first-seen",
                    &[("status", stage_label(lang, stage.as_deref()))],
                )
                .into(),
            ),
            Some((_, was_stage, was_commission)) => {
                if was_stage != stage {
                    said.push(Change::from(lang.t_with(
                        "change-status",
                        &[
                            ("from", stage_label(lang, was_stage.as_deref())),
                            ("to", stage_label(lang, stage.as_deref())),
                        ],
                    )));
                }
                if was_commission != commission {
                    said.push(Change::from(lang.t_with(
                        "change-commission",
                        &[
                            ("from", was_commission.clone().unwrap_or_else(|| "0".into())),
                            ("to", commission.clone().unwrap_or_else(|| "0".into())),
                        ],
                    )));
                }
                if said.is_empty() {
                    said.push(lang.t("change-nothing").into());
                }
            }
        }
        timeline.push(TimelineEntry {
            at_ms: *at_ms,
            changes: said,
        });
        previous = Some(version);
    }
    timeline.reverse();
    UnionOrderPage {
        number: order.order_sn.clone(),
        shop_name: shop.name.clone(),
        back_href: format!("/console/orders?shop={}", super::query_value(&shop.id)),
        stage: order.order_sub_status_name.clone().unwrap_or_default(),
        stage_label: stage_label(lang, order.order_sub_status_name.as_deref()),
        stage_tone: stage_tone(order.order_sub_status_name.as_deref()),
        commission: amount(order.commission),
        base: amount(Some(
            order
                .detail_list
                .iter()
                .filter_map(|line| line.commission_total_cost)
                .sum(),
        )),
        pid: order.chan_tag().map(str::to_owned),
        customer: lang.t(match order.new_customer {
            Some(1) => "union-customer-new",
            Some(2) => "union-customer-old",
            _ => "union-customer-unknown",
        }),
        stat_param: order.stat_param.clone(),
        order_ms: Some(order.order_time),
        sign_ms: order.sign_time,
        settled_ms: order.settled_time,
        updated_ms: Some(found.updated_ms),
        lines: order
            .detail_list
            .iter()
            .map(|line| UnionLine {
                goods_id: line.goods_id.clone(),
                name: line.goods_name.clone(),
                count: line.goods_count.unwrap_or(0),
                base: amount(line.commission_total_cost),
                rate: amount(line.commission_rate),
                commission: amount(line.commission),
            })
            .collect(),
        timeline,
    }
}

fn no_order(viewer: &Viewer, number: &str) -> Response {
    super::error_page(
        StatusCode::NOT_FOUND,
        viewer.lang,
        viewer.now_ms,
        viewer
            .lang
            .t_with("error-no-order", &[("number", super::echoed(number))]),
        "/console/orders",
    )
}

async fn render_order(
    app: &HubApp,
    viewer: &Viewer,
    session: &shopbridge_store::ConsoleSession,
    shop: &Connection,
    number: &str,
    result: Option<Outcome>,
) -> Response {
    let mut frame = viewer.frame("title-order", "orders", session);
    frame.title = format!("{} {number}", frame.title);
    if shop.kind.is_union() {
        return match service::union::order_with_history(app, shop, number).await {
            Ok(Some(found)) => ui::render(
                "union_order.html",
                &frame,
                &union_view(viewer.lang, shop, found),
            ),
            Ok(None) => no_order(viewer, number),
            Err(err) => failed(err, viewer, "/console/orders"),
        };
    }
    match order_view(app, viewer.lang, shop, number, result).await {
        Ok(Some(page)) => ui::render("order.html", &frame, &page),
        Ok(None) => no_order(viewer, number),
        Err(err) => failed(err, viewer, "/console/orders"),
    }
}

pub(super) async fn detail(
    State(app): Shared,
    SignedIn(session): SignedIn,
    viewer: Viewer,
    Path((shop_id, number)): Path<(String, String)>,
) -> Response {
    match service::own_shop(&app, &session.tenant_id, &shop_id).await {
        Ok(shop) => render_order(&app, &viewer, &session, &shop, &number, None).await,
        Err(err) => failed(err, &viewer, "/console/orders"),
    }
}

/// An action on one order from its page: the form's token checked and the shop the tenant's,
/// then the order shown again with what the platform answered (`act`).
async fn order_action(
    app: &HubApp,
    viewer: &Viewer,
    jar: &CookieJar,
    csrf: &str,
    (shop_id, number): (&str, &str),
    act: impl AsyncFnOnce(&Connection) -> Result<(String, bool), HubError>,
) -> Response {
    let session = match checked(app, jar, viewer.lang, csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let shop = match service::own_shop(app, &session.tenant_id, shop_id).await {
        Ok(shop) => shop,
        Err(err) => return failed(err, viewer, "/console/orders"),
    };
    let result = match act(&shop).await {
        Ok((text, shipped)) => Outcome {
            tone: "ok",
            text,
            shipped,
        },
        Err(err) => Outcome {
            tone: "error",
            text: super::said(&err, viewer.lang),
            shipped: false,
        },
    };
    render_order(app, viewer, &session, &shop, number, Some(result)).await
}

#[derive(Debug, Deserialize)]
pub(super) struct ShipForm {
    csrf: String,
    carrier: String,
    tracking: String,
}

/// Ships the whole order through the shop's platform, then shows the order with the answer.
pub(super) async fn ship(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
    Path((shop_id, number)): Path<(String, String)>,
    Form(form): Form<ShipForm>,
) -> Response {
    let lang = viewer.lang;
    order_action(
        &app,
        &viewer,
        &jar,
        &form.csrf,
        (&shop_id, &number),
        async |shop| {
            let carrier = shopbridge_core::codes::carrier_by_code(&form.carrier);
            let shipment = Shipment {
                plat_order_no: number.clone(),
                logistic_type: form.carrier.trim().to_owned(),
                logistic_no: form.tracking.trim().to_owned(),
                logistic_name: carrier.map(|c| c.name.to_owned()),
                lines: Vec::new(),
                warehouse: None,
                shop_type: None,
            };
            let done = service::orders::ship(&app, shop, &shipment).await?;
            let text = lang.t_with("order-shipped", &[("tracking", done.logistic_no)]);
            Ok((text, true))
        },
    )
    .await
}

/// Asks the platform about the order's refund, then shows the order with the answer.
pub(super) async fn check_refund(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
    Path((shop_id, number)): Path<(String, String)>,
    Form(form): Form<super::auth::CsrfForm>,
) -> Response {
    let lang = viewer.lang;
    order_action(
        &app,
        &viewer,
        &jar,
        &form.csrf,
        (&shop_id, &number),
        async |shop| {
            let check = service::orders::check_refund(&app, shop, &number).await?;
            let status = refund_label(lang, check.status);
            Ok((
                lang.t_with("order-refund-checked", &[("status", status)]),
                false,
            ))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_text() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("-12.50"), "-12.50");
        assert_eq!(cell("-x"), "'-x");
        assert_eq!(cell("N001"), "N001");
        let line =
            String::from_utf8(csv_line(&["a,b".into(), "say \"hi\"".into()])).unwrap_or_default();
        assert_eq!(line, "\"a,b\",\"say \"\"hi\"\"\"\n");
    }

    #[test]
    fn dates_are_beijing_days() {
        let start = day_start("from", "2026-11-30", Lang::En);
        assert_eq!(start, Ok(1_795_968_000_000));
        let wrong = day_start("from", "30/11/2026", Lang::En);
        assert!(matches!(wrong, Err(m) if m.contains("from") && m.contains("YYYY-MM-DD")));
        let query = OrdersQuery {
            from: Some("2026-11-30".into()),
            to: Some("2026-11-01".into()),
            ..OrdersQuery::default()
        };
        assert!(
            query.filter(Lang::En).is_err(),
            "an end before the start is refused"
        );
    }
}
