//! The Union part of the REST API: goods and links live (interactive quota first, a 429 with
//! `Retry-After` when none is left), and earnings from the synced orders and refunds.

use axum::extract::State;
use axum::response::{IntoResponse, Json, Response};
use serde::Deserialize;
use shopbridge_vop::union::earnings::GroupBy;
use utoipa::IntoParams;

use super::{ApiJson, ApiQuery, Shared, bad_request};
pub use crate::service::union::{EarningsAnswer, LinkRequest, LinksAnswer};
use crate::service::{self, HubError};
use crate::state::Tenant;

fn answer<T: serde::Serialize>(result: Result<T, HubError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(err) => crate::problem::hub_error(err),
    }
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
    answer(
        service::union::goods(
            &app,
            &tenant,
            &query.shop,
            query.channel.unwrap_or(0),
            query.page.unwrap_or(1),
            query.page_size.unwrap_or(20),
        )
        .await,
    )
}

/// Promotion links for goods, live.
#[utoipa::path(post, path = "/v1/union/links", request_body = LinkRequest, responses((status = 200, description = "The platform's links, and `errors` for every goods id it made none for", body = LinksAnswer), (status = 400, body = super::Problem), (status = 404, body = super::Problem), (status = 422, body = super::Problem), (status = 429, body = super::Problem)))]
pub async fn links(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiJson(request): ApiJson<LinkRequest>,
) -> Response {
    answer(service::union::links(&app, &tenant, request).await)
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

/// Settled commission minus after-settlement deductions, for the period and per Beijing day,
/// from the synced orders and refunds.
#[utoipa::path(get, path = "/v1/union/earnings", params(EarningsQuery), responses((status = 200, description = "Settled commission minus after-settlement deductions per group, for the period and per Beijing day", body = EarningsAnswer), (status = 400, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn earnings_report(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<EarningsQuery>,
) -> Response {
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
    answer(
        service::union::earnings(
            &app,
            &tenant,
            &query.shop,
            query.from.0,
            query.to.0,
            group_by,
        )
        .await,
    )
}
