//! A Union account's live calls (goods, links) through the interactive quota, and its earnings
//! from the synced orders and refunds.

use serde::{Deserialize, Serialize};
use shopbridge_core::quota::Priority;
use shopbridge_store::Connection;
use shopbridge_vop::union::earnings::{self, EarningsTally, GroupBy};
use shopbridge_vop::union::goods::GoodsInfoResponse;
use shopbridge_vop::union::order::{OrderHead, OrderInfo};
use shopbridge_vop::union::{GenByGoodsId, GoodsList};
use shopbridge_vop::{Mode, VopClient, VopRequest};
use utoipa::ToSchema;

use super::{HubError, own_shop};
use crate::platforms::VopAdapter;
use crate::sources::UNION_REFUNDS;
use crate::state::HubApp;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// Beijing time is UTC+8: days start at 16:00 UTC.
const BEIJING_MS: i64 = 8 * 3_600_000;
/// The longest earnings period.
pub const MAX_PERIOD_MS: i64 = 366 * DAY_MS;
/// Goods ids per link request (the platform's limit).
pub const MAX_LINK_GOODS: usize = 50;

/// The tenant's Union account `id`; any other kind of shop is refused, with no token needed.
pub async fn union_shop(app: &HubApp, tenant: &str, id: &str) -> Result<Connection, HubError> {
    let shop = own_shop(app, tenant, id).await?;
    VopAdapter::union_mode(shop.kind).map_err(|err| HubError::Unprocessable(err.to_string()))?;
    Ok(shop)
}

/// The shop's Union client, after an interactive quota slot for `request`: the one way every
/// front end makes a live Union call.
async fn client_for<R: VopRequest>(
    app: &HubApp,
    shop: &Connection,
    request: &R,
) -> Result<VopClient, HubError> {
    let (client, mode) = app.platforms.vop().union_client(shop).await?;
    if let Some(gate) = &app.scheduler.gate {
        let caller = match mode {
            Mode::Channel => client.config().app_key.clone(),
            Mode::ToolProvider => shop.id.clone(),
        };
        gate.acquire(
            R::SERVICE,
            &request.method(),
            &caller,
            Priority::Interactive,
        )
        .await
        .map_err(|wait| HubError::Throttled {
            message: format!("{wait}: the platform's quota for this call is used up"),
            retry_after_ms: wait.0,
        })?;
    }
    Ok(client)
}

/// Makes a live Union call and records it for the quota report, as the sync records its own.
async fn execute_recorded<R: VopRequest>(
    app: &HubApp,
    shop: &Connection,
    request: &R,
) -> Result<R::Output, HubError> {
    let client = client_for(app, shop, request).await?;
    let result = client.execute(request).await;
    let caller = match client.config().access_token {
        Some(_) => shop.id.clone(),
        None => client.config().app_key.clone(),
    };
    let key = crate::sync::CallKey {
        platform: shopbridge_core::Platform::Vop.as_str(),
        service: R::SERVICE.to_owned(),
        method: request.method(),
        caller,
    };
    crate::telemetry::record_platform_call(&app.store, app.clock.now_ms(), &key, result.is_ok())
        .await;
    result.map_err(|err| HubError::Platform(err.into()))
}

fn mode_of(shop: &Connection) -> Mode {
    VopAdapter::union_mode(shop.kind).unwrap_or(Mode::Channel)
}

/// A page of the Union goods catalog, live: `channel` 0 超高佣 or 1 出单爆款, `page` from 1,
/// `page_size` 1 to 100.
pub async fn goods(
    app: &HubApp,
    tenant: &str,
    shop: &str,
    channel: i32,
    page: i32,
    page_size: i32,
) -> Result<GoodsInfoResponse, HubError> {
    if !(0..=1).contains(&channel) {
        return Err(HubError::Invalid(format!(
            "channel: expected 0 or 1, got {channel}"
        )));
    }
    if !(1..=100).contains(&page_size) {
        return Err(HubError::Invalid(format!(
            "page_size: expected 1 to 100, got {page_size}"
        )));
    }
    crate::limits::in_range("page", i64::from(page), crate::limits::PAGE_NUMBERS)
        .map_err(|err| HubError::Invalid(err.to_string()))?;
    let shop = union_shop(app, tenant, shop).await?;
    let request = GoodsList::channel(mode_of(&shop), channel, page).page_size(page_size);
    execute_recorded(app, &shop, &request).await
}

/// Links to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    #[schema(min_length = 1)]
    pub shop: String,
    /// 1 to 50 goods ids; an unknown one is answered in `errors`, not dropped.
    #[schema(min_items = 1, max_items = 50)]
    pub goods_ids: Vec<String>,
    /// The PID (chanTag) orders are attributed to.
    #[schema(pattern = "^[^:]*$", max_length = 100)]
    pub chan_tag: Option<String>,
    #[schema(pattern = "^[^:]*$", max_length = 100)]
    pub stat_param: Option<String>,
}

/// A goods id the platform made no link for, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkError {
    pub goods_id: String,
    pub error: String,
}

/// `POST /v1/union/links`'s answer: the platform's links, and every goods id without one.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinksAnswer {
    pub url_info_list: Vec<shopbridge_vop::union::url::UrlInfo>,
    pub errors: Vec<LinkError>,
}

/// One Beijing day of an earnings report.
#[derive(Debug, Serialize, ToSchema)]
pub struct EarningsDay {
    /// `yyyy-MM-dd`, Beijing time.
    pub day: String,
    pub start_ms: i64,
    pub rows: Vec<shopbridge_vop::union::earnings::EarningsRow>,
    pub total: shopbridge_vop::union::earnings::EarningsRow,
}

/// `GET /v1/union/earnings`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct EarningsAnswer {
    pub period: shopbridge_vop::union::earnings::EarningsReport,
    pub days: Vec<EarningsDay>,
}

/// Promotion links for goods, live: every id asked for is answered, with a link or with why
/// there is none.
pub async fn links(
    app: &HubApp,
    tenant: &str,
    request: LinkRequest,
) -> Result<LinksAnswer, HubError> {
    for (field, tag) in [
        ("chan_tag", &request.chan_tag),
        ("stat_param", &request.stat_param),
    ] {
        if let Some(tag) = tag
            && (tag.contains(':') || tag.len() > 100)
        {
            return Err(HubError::Invalid(format!(
                "{field}: at most 100 bytes and no \":\" (it separates the link's fields), got {tag:?}"
            )));
        }
    }
    if request.goods_ids.is_empty() || request.goods_ids.len() > MAX_LINK_GOODS {
        return Err(HubError::Invalid(format!(
            "goods_ids: expected 1 to {MAX_LINK_GOODS} goods ids, got {}",
            request.goods_ids.len()
        )));
    }
    let shop = union_shop(app, tenant, &request.shop).await?;
    let (asked, blank): (Vec<String>, Vec<String>) = request
        .goods_ids
        .iter()
        .cloned()
        .partition(|id| !id.trim().is_empty());
    let mut errors: Vec<LinkError> = blank
        .iter()
        .map(|id| LinkError {
            goods_id: id.clone(),
            error: "an empty goods id".into(),
        })
        .collect();
    if asked.is_empty() {
        return Ok(LinksAnswer {
            url_info_list: Vec::new(),
            errors,
        });
    }
    let mut call = GenByGoodsId::new(mode_of(&shop), asked.clone());
    if let Some(tag) = request.chan_tag {
        call = call.chan_tag(tag);
    }
    if let Some(stat) = request.stat_param {
        call = call.stat_param(stat);
    }
    let answer = execute_recorded(app, &shop, &call).await?;
    let made: std::collections::HashSet<&str> = answer
        .url_info_list
        .iter()
        .filter_map(|info| info.source.as_deref())
        .collect();
    errors.extend(
        asked
            .iter()
            .filter(|id| !made.contains(id.as_str()))
            .map(|id| LinkError {
                goods_id: id.clone(),
                error: "the platform made no link: no such goods on sale".into(),
            }),
    );
    Ok(LinksAnswer {
        url_info_list: answer.url_info_list,
        errors,
    })
}

/// Settled commission minus after-settlement deductions of one of the tenant's Union accounts,
/// for `from..to` (at most 366 days) and per Beijing day, from the synced orders and refunds.
pub async fn earnings(
    app: &HubApp,
    tenant: &str,
    shop: &str,
    from: i64,
    to: i64,
    group_by: GroupBy,
) -> Result<EarningsAnswer, HubError> {
    for (field, time) in [("from", from), ("to", to)] {
        crate::limits::epoch_ms(field, time).map_err(|err| HubError::Invalid(err.to_string()))?;
    }
    // Each time is fine; how they relate is what is refused.
    crate::limits::period("from", from, "to", to, MAX_PERIOD_MS)
        .map_err(|err| HubError::Unprocessable(err.to_string()))?;
    let shop = union_shop(app, tenant, shop).await?;
    Ok(earnings_of(app, &shop.id, from, to, group_by).await?)
}

/// Earnings of a Union account from the synced orders and refunds: `{"period": report, "days":
/// [{"day", "start_ms", "rows", "total"}...]}` with one entry per Beijing day.
async fn earnings_of(
    app: &HubApp,
    connection_id: &str,
    from: i64,
    to: i64,
    group_by: GroupBy,
) -> Result<EarningsAnswer, shopbridge_store::StoreError> {
    // Streamed from the settlement-time indexes into one tally for the period and one per
    // Beijing day: the memory held is the report's, not the account's.
    let first_day = (from + BEIJING_MS).div_euclid(DAY_MS) * DAY_MS - BEIJING_MS;
    let day_of = |at: i64| usize::try_from((at - first_day).div_euclid(DAY_MS)).unwrap_or(0);
    let day_count = day_of(to - 1) + 1;
    let mut period = EarningsTally::default();
    let mut by_day = vec![EarningsTally::default(); day_count];
    let amount = |text: Option<&str>| {
        text.and_then(|t| shopbridge_core::money::parse_amount("commission", t).ok())
            .unwrap_or_default()
    };
    // Whole Beijing days from the daily sums the order writer keeps; the whole hours of the
    // partial days at either end (a period need not start or end at midnight) from its hourly
    // sums; only the orders of the partial hours from the orders themselves.
    let mut add_sums = |sums: Vec<shopbridge_store::SettledDay>| {
        for sums in sums {
            let key = earnings::group_key(
                Some((sums.chan_tag.as_deref(), sums.stat_param.as_deref())),
                group_by,
            );
            let orders = u32::try_from(sums.orders).unwrap_or(u32::MAX);
            if let Some(day) = by_day.get_mut(day_of(sums.day_ms)) {
                day.settled_many(key.clone(), orders, sums.commission);
            }
            period.settled_many(key, orders, sums.commission);
        }
    };
    let first_whole = shopbridge_store::beijing_day(from + DAY_MS - 1);
    let end_whole = shopbridge_store::beijing_day(to);
    let mut edges = vec![(from, to)];
    if first_whole < end_whole {
        edges = vec![(from, first_whole), (end_whole, to)];
        add_sums(
            app.store
                .settled_days(connection_id, first_whole, end_whole)
                .await?,
        );
    }
    let mut partial_hours = Vec::new();
    for &(start, end) in edges.iter().filter(|(start, end)| start < end) {
        let first_hour = shopbridge_store::hour_of(start + HOUR_MS - 1);
        let end_hour = shopbridge_store::hour_of(end);
        if first_hour < end_hour {
            add_sums(
                app.store
                    .settled_hours(connection_id, first_hour, end_hour)
                    .await?,
            );
            partial_hours.extend([(start, first_hour), (end_hour, end)]);
        } else {
            partial_hours.push((start, end));
        }
    }
    for (start, end) in partial_hours.into_iter().filter(|(start, end)| start < end) {
        app.store
            .each_settled_union_order(connection_id, start, end, |order| {
                let key = earnings::group_key(
                    Some((order.chan_tag.as_deref(), order.stat_param.as_deref())),
                    group_by,
                );
                let commission = amount(order.commission.as_deref());
                if let Some(day) = by_day.get_mut(day_of(order.settled_ms)) {
                    day.settled(key.clone(), commission);
                }
                period.settled(key, commission);
            })
            .await?;
    }
    // Refunds: whole Beijing days from the daily sums the record writer keeps per day and order
    // tags; the partial days at either end summed in the database from the refunds booked in
    // them. Each refund lands on its own Beijing day.
    let mut refund_sums = Vec::new();
    if first_whole < end_whole {
        refund_sums.extend(
            app.store
                .refund_days(connection_id, first_whole, end_whole)
                .await?,
        );
    }
    for &(start, end) in edges.iter().filter(|(start, end)| start < end) {
        refund_sums.extend(
            app.store
                .booked_refund_sums(connection_id, UNION_REFUNDS, start, end)
                .await?,
        );
    }
    for sums in refund_sums {
        let key = earnings::group_key(
            sums.order
                .as_ref()
                .map(|(chan_tag, stat_param)| (chan_tag.as_deref(), stat_param.as_deref())),
            group_by,
        );
        let refunds = u32::try_from(sums.refunds).unwrap_or(u32::MAX);
        if let Some(day) = by_day.get_mut(day_of(sums.day_ms)) {
            day.refunded_many(key.clone(), refunds, sums.deduction);
        }
        period.refunded_many(key, refunds, sums.deduction);
    }
    let period = period.report(from, to, group_by);
    let days = by_day
        .into_iter()
        .enumerate()
        .map(|(n, tally)| {
            let day = first_day + n as i64 * DAY_MS;
            let (start, end) = (day.max(from), (day + DAY_MS).min(to));
            let report = tally.report(start, end, group_by);
            EarningsDay {
                day: shopbridge_vop::time::format_datetime_ms(day)
                    .chars()
                    .take(10)
                    .collect(),
                start_ms: start,
                rows: report.rows,
                total: report.total,
            }
        })
        .collect();
    Ok(EarningsAnswer { period, days })
}

/// A page of a Union account's synced orders, newest change first, narrowed by `filter` (its
/// status is the order's sub-status name): keyset paged, counted up to `count_cap`. Every stored
/// row is answered, with its order's head (what a list shows, and what the sync checked when it
/// stored the order) where the stored JSON reads (`None` where it does not), so that paging goes
/// on past a row it cannot read.
pub async fn browse_orders(
    app: &HubApp,
    shop: &Connection,
    filter: &shopbridge_store::BrowseFilter,
    seek: &shopbridge_store::Seek,
    limit: i64,
    count_cap: i64,
) -> Result<shopbridge_store::Browsed<(shopbridge_store::Cursor, Option<OrderHead>)>, HubError> {
    let page = app
        .store
        .browse_union_orders(&shop.id, filter, seek, limit, count_cap)
        .await?;
    Ok(shopbridge_store::Browsed {
        rows: page
            .rows
            .into_iter()
            .map(|(cursor, payload)| {
                let order = shopbridge_core::json::read::<OrderHead>(&payload);
                if let Err(err) = &order {
                    tracing::warn!(order = %cursor.id, error = %err, "a stored Union order does not read");
                }
                (cursor, order.ok())
            })
            .collect(),
        matching: page.matching,
    })
}

/// A Union order and how it changed: `(update time, sub-status, commission)` per stored
/// version, oldest first.
#[derive(Debug, Clone)]
pub struct UnionOrderWithHistory {
    pub updated_ms: i64,
    pub order: OrderInfo,
    pub versions: Vec<(i64, Option<String>, Option<String>)>,
}

/// One of a Union account's synced orders with its versions; `None` when the sync has not seen
/// it.
pub async fn order_with_history(
    app: &HubApp,
    shop: &Connection,
    number: &str,
) -> Result<Option<UnionOrderWithHistory>, HubError> {
    let Some((cursor, payload)) = app.store.union_order(&shop.id, number).await? else {
        return Ok(None);
    };
    let order = shopbridge_core::json::read::<OrderInfo>(&payload).map_err(|err| {
        HubError::Unprocessable(format!(
            "order {number}: the stored Union order does not read: {err}"
        ))
    })?;
    let versions = app.store.union_order_versions(&shop.id, number).await?;
    Ok(Some(UnionOrderWithHistory {
        updated_ms: cursor.updated_ms,
        order,
        versions,
    }))
}
