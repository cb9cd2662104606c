//! The Union part of the REST API: goods and links live (interactive quota first, a 429 with
//! `Retry-After` when none is left), and earnings from the synced orders and refunds.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use serde::{Deserialize, Serialize};
use shopbridge_core::quota::Priority;
use shopbridge_store::Connection;
use shopbridge_vop::union::earnings::{self, EarningsTally, GroupBy};
use shopbridge_vop::union::{GenByGoodsId, GoodsList};
use shopbridge_vop::{Mode, VopClient, VopRequest};
use utoipa::{IntoParams, ToSchema};

use super::{
    ApiJson, ApiQuery, Shared, bad_request, error, own_shop, platform_failure, store_failure,
};
use crate::app::{HubApp, Tenant};
use crate::sources::UNION_REFUNDS;

/// The shop's Union client, after an interactive quota slot for `request`.
async fn client_for<R: VopRequest>(
    app: &HubApp,
    shop: &Connection,
    request: &R,
) -> Result<VopClient, Response> {
    let (client, mode) = app
        .platforms
        .vop()
        .union_client(shop)
        .await
        .map_err(|err| match err {
            crate::SyncError::Platform(err) => platform_failure(err),
            crate::SyncError::Settings(message) => error(StatusCode::UNPROCESSABLE_ENTITY, message),
            crate::SyncError::Store(err) => store_failure(err),
        })?;
    if let Some(gate) = &app.scheduler.gate {
        let caller = match mode {
            Mode::Channel => client.config().app_key.clone(),
            Mode::ToolProvider => shop.id.clone(),
        };
        if let Err(wait) = gate
            .acquire(
                R::SERVICE,
                &request.method(),
                &caller,
                Priority::Interactive,
            )
            .await
        {
            let seconds = (wait.0 + 999) / 1000;
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                format!("{wait}: the platform's quota for this call is used up"),
            );
            if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Err(response);
        }
    }
    Ok(client)
}

/// Makes a live Union call and records it for the quota report, as the sync records its own.
async fn execute_recorded<R: VopRequest>(
    app: &HubApp,
    shop: &Connection,
    client: &VopClient,
    request: &R,
) -> Result<R::Output, shopbridge_vop::VopError> {
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
    result
}

fn mode_of(shop: &Connection) -> Mode {
    crate::platforms::VopAdapter::union_mode(shop.kind).unwrap_or(Mode::Channel)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GoodsQuery {
    #[param(min_length = 1)]
    pub shop: String,
    /// 0 超高佣 (default), 1 出单爆款.
    #[param(minimum = 0, maximum = 1)]
    pub channel: Option<i32>,
    /// From 1 (default 1).
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<i32>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i32>,
}

/// A page of the Union goods catalog, live.
#[utoipa::path(get, path = "/v1/union/goods", params(GoodsQuery), responses((status = 200, description = "A page of the Union catalog in the platform's own shape, passed through", body = shopbridge_vop::union::goods::GoodsInfoResponse), (status = 400, body = super::Problem), (status = 422, body = super::Problem), (status = 429, body = super::Problem)))]
pub async fn goods(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<GoodsQuery>,
) -> Response {
    let (channel, page, size) = (
        query.channel.unwrap_or(0),
        query.page.unwrap_or(1),
        query.page_size.unwrap_or(20),
    );
    if !(0..=1).contains(&channel) {
        return bad_request(format!("channel: expected 0 or 1, got {channel}"));
    }
    if !(1..=100).contains(&size) {
        return bad_request(format!("page_size: expected 1 to 100, got {size}"));
    }
    if let Err(err) = crate::limits::in_range("page", i64::from(page), crate::limits::PAGE_NUMBERS)
    {
        return bad_request(err.to_string());
    }
    let shop = match own_shop(&app, &tenant, &query.shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    let request = GoodsList::channel(mode_of(&shop), channel, page).page_size(size);
    let client = match client_for(&app, &shop, &request).await {
        Ok(client) => client,
        Err(response) => return response,
    };
    match execute_recorded(&app, &shop, &client, &request).await {
        Ok(answer) => Json(answer).into_response(),
        Err(err) => platform_failure(err.into()),
    }
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

/// Promotion links for goods, live.
#[utoipa::path(post, path = "/v1/union/links", request_body = LinkRequest, responses((status = 200, description = "The platform's links, and `errors` for every goods id it made none for", body = LinksAnswer), (status = 400, body = super::Problem), (status = 404, body = super::Problem), (status = 422, body = super::Problem), (status = 429, body = super::Problem)))]
pub async fn links(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiJson(request): ApiJson<LinkRequest>,
) -> Response {
    for (field, tag) in [
        ("chan_tag", &request.chan_tag),
        ("stat_param", &request.stat_param),
    ] {
        if let Some(tag) = tag
            && (tag.contains(':') || tag.len() > 100)
        {
            return bad_request(format!(
                "{field}: at most 100 bytes and no \":\" (it separates the link's fields), got {tag:?}"
            ));
        }
    }
    if request.goods_ids.is_empty() || request.goods_ids.len() > 50 {
        return bad_request(format!(
            "goods_ids: expected 1 to 50 goods ids, got {}",
            request.goods_ids.len()
        ));
    }
    let shop = match own_shop(&app, &tenant, &request.shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    // Every id asked for is answered: a link, or why there is none.
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
        return Json(LinksAnswer {
            url_info_list: Vec::new(),
            errors,
        })
        .into_response();
    }
    let mut call = GenByGoodsId::new(mode_of(&shop), asked.clone());
    if let Some(tag) = request.chan_tag {
        call = call.chan_tag(tag);
    }
    if let Some(stat) = request.stat_param {
        call = call.stat_param(stat);
    }
    let client = match client_for(&app, &shop, &call).await {
        Ok(client) => client,
        Err(response) => return response,
    };
    match execute_recorded(&app, &shop, &client, &call).await {
        Ok(answer) => {
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
            Json(LinksAnswer {
                url_info_list: answer.url_info_list,
                errors,
            })
            .into_response()
        }
        Err(err) => platform_failure(err.into()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EarningsQuery {
    #[param(min_length = 1)]
    pub shop: String,
    /// Start of the period (inclusive): an RFC 3339 date-time from 2000 to 2099 (epoch
    /// milliseconds are taken too).
    #[param(value_type = String, format = DateTime, pattern = "^20[0-9]{2}-", example = "2026-11-01T00:00:00+08:00")]
    pub from: crate::limits::CallerTime,
    /// End of the period (exclusive), after `from` and at most 366 days after it (a 422
    /// otherwise): an RFC 3339 date-time from 2000 to 2099 (epoch milliseconds are taken too).
    #[param(value_type = String, format = DateTime, pattern = "^20[0-9]{2}-", example = "2026-12-01T00:00:00+08:00")]
    pub to: crate::limits::CallerTime,
    /// `chan_tag` (default), `stat_param` or `total`.
    #[param(pattern = "^(chan_tag|stat_param|total)$")]
    pub group_by: Option<String>,
}

const DAY_MS: i64 = 86_400_000;
/// Beijing time is UTC+8: days start at 16:00 UTC.
const BEIJING_MS: i64 = 8 * 3_600_000;

/// Settled commission minus after-settlement deductions, for the period and per Beijing day,
/// from the synced orders and refunds.
#[utoipa::path(get, path = "/v1/union/earnings", params(EarningsQuery), responses((status = 200, description = "Settled commission minus after-settlement deductions per group, for the period and per Beijing day", body = EarningsAnswer), (status = 400, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn earnings_report(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<EarningsQuery>,
) -> Response {
    for (field, time) in [("from", query.from.0), ("to", query.to.0)] {
        if let Err(err) = crate::limits::epoch_ms(field, time) {
            return bad_request(err.to_string());
        }
    }
    // Each time is fine; how they relate is what is refused.
    if let Err(err) = crate::limits::period("from", query.from.0, "to", query.to.0, 366 * DAY_MS) {
        return super::error(StatusCode::UNPROCESSABLE_ENTITY, err.to_string());
    }
    let group_by = match query.group_by.as_deref() {
        None | Some("chan_tag") => GroupBy::ChanTag,
        Some("stat_param") => GroupBy::StatParam,
        Some("total") => GroupBy::Total,
        Some(other) => {
            return bad_request(format!(
                "group_by: chan_tag, stat_param or total, got {other:?}"
            ));
        }
    };
    let shop = match own_shop(&app, &tenant, &query.shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    // The kind of account only: earnings are computed from the store, no token is needed.
    if let Err(not_union) = crate::platforms::VopAdapter::union_mode(shop.kind) {
        return super::error(StatusCode::UNPROCESSABLE_ENTITY, not_union.to_string());
    }
    match earnings_of(&app, &shop.id, query.from.0, query.to.0, group_by).await {
        Ok(report) => Json(report).into_response(),
        Err(err) => store_failure(err),
    }
}

/// Earnings of a Union account from the synced orders and refunds: `{"period": report, "days":
/// [{"day", "start_ms", "rows", "total"}...]}` with one entry per Beijing day.
pub async fn earnings_of(
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
    // Whole Beijing days from the daily sums the order writer keeps; the partial days at
    // either end (a period need not start or end at midnight) from the orders themselves.
    let first_whole = shopbridge_store::beijing_day(from + DAY_MS - 1);
    let end_whole = shopbridge_store::beijing_day(to);
    let mut edges = vec![(from, to)];
    if first_whole < end_whole {
        edges = vec![(from, first_whole), (end_whole, to)];
        for sums in app
            .store
            .settled_days(connection_id, first_whole, end_whole)
            .await?
        {
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
    }
    for (start, end) in edges.into_iter().filter(|(start, end)| start < end) {
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
    app.store
        .each_booked_refund(connection_id, UNION_REFUNDS, from, to, |refund| {
            let key = earnings::group_key(
                refund
                    .order
                    .as_ref()
                    .map(|(chan_tag, stat_param)| (chan_tag.as_deref(), stat_param.as_deref())),
                group_by,
            );
            let deduction = amount(refund.deduction.as_deref());
            if let Some(day) = by_day.get_mut(day_of(refund.booked_ms)) {
                day.refunded(key.clone(), deduction);
            }
            period.refunded(key, deduction);
        })
        .await?;
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
