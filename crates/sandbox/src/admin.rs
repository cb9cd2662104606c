//! `/_sandbox/...`: the admin API that tests and people use to steer the simulators.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use shopbridge_core::Clock;

use crate::FaultConfig;
use crate::state::SandboxState;
use crate::vop::union::orders::Click;
use crate::vop::{DegradationConfig, Permission, Revocation};

type Shared = State<Arc<SandboxState>>;

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

fn not_found(message: impl Into<String>) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

pub fn router() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/_sandbox", get(index))
        .route("/_sandbox/credentials", get(credentials))
        .route("/_sandbox/clock", get(clock).post(advance_clock))
        .route("/_sandbox/faults", get(faults).post(set_faults))
        .route("/_sandbox/vop/apps/{app_key}", post(patch_app))
        .route("/_sandbox/vop/users/{username}", post(patch_user))
        .route("/_sandbox/vop/tokens", post(token_lifetimes))
        .route(
            "/_sandbox/vop/degradation",
            get(degradation).post(set_degradation),
        )
        .route("/_sandbox/vop/quotas/reset", post(reset_quotas))
        .route("/_sandbox/vop/quotas", get(quotas).post(set_quotas))
        .route("/_sandbox/vop/calls", get(calls))
        .route("/_sandbox/vop/union/clicks", post(union_click))
        .route(
            "/_sandbox/vop/union/churn",
            get(union_churn).post(set_union_churn),
        )
        .route(
            "/_sandbox/winit/settings",
            get(winit_settings).post(set_winit_settings),
        )
}

async fn index() -> Json<serde_json::Value> {
    Json(json!({
        "endpoints": {
            "GET /_sandbox/credentials": "demo apps, secrets, users and paths of every simulated platform",
            "GET /_sandbox/clock": "the simulated clock: {now_ms, offset_ms}",
            "POST /_sandbox/clock": "{\"advance_seconds\": N} moves the clock forward",
            "GET|POST /_sandbox/faults": "{latency_ms, error_rate, drop_rate, malformed_rate, path_prefix}",
            "POST /_sandbox/vop/apps/{app_key}": "{ip_allowlist, union_disabled, blacklisted, permissions, redirect_uris}",
            "POST /_sandbox/vop/users/{username}": "{password, frozen, union_disabled}; a new password or a freeze ends the user's tokens",
            "POST /_sandbox/vop/tokens": "{access_token_ttl_secs, refresh_token_ttl_secs} for tokens issued from now on",
            "GET|POST /_sandbox/vop/degradation": "{error_threshold, window_secs, duration_secs}",
            "POST /_sandbox/vop/quotas/reset": "forget every quota window, error count, degradation and logged call",
            "GET|POST /_sandbox/vop/quotas": "{\"overrides\": [\"orderList=40/2s\"...]}: the quotas enforced instead of the documented ones",
            "GET /_sandbox/vop/calls?method=orderList": "calls that met that method's quota: count, throttled, the most admitted in any window, arrival times",
            "GET|POST /_sandbox/winit/settings": "{\"token_in_fragment\": bool}: where the Winit authorize page puts the token",
            "POST /_sandbox/vop/union/churn": "{\"orders_per_page\": 1-100, \"pages\": N}: after each of the next N orderList answers, that many unsettled orders of the page answered change now (only their lastUpdateTime), so that the list moves between two page reads",
            "POST /_sandbox/vop/union/clicks": "{\"link\": any generated link (spliced or not), \"orders\": 1-100, \"clicks\": 1-10000 (bulk: answers {placed}), \"scenario\": settles|unpaid|refund_before_settlement|refund_after_settlement|slow_refund_after_settlement|presale} places orders now",
        }
    }))
}

async fn credentials(State(state): Shared) -> Response {
    Json(state.credentials()).into_response()
}

async fn clock(State(state): Shared) -> Response {
    Json(json!({ "now_ms": state.clock.now_ms(), "offset_ms": state.clock.offset_ms() }))
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default)]
    advance_seconds: Option<i64>,
    #[serde(default)]
    advance_ms: Option<i64>,
}

async fn advance_clock(
    State(state): Shared,
    body: Result<Json<Advance>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(advance)) = body else {
        return bad_request("expected {\"advance_seconds\": N} or {\"advance_ms\": N}");
    };
    let ms = advance
        .advance_seconds
        .map(|secs| secs.saturating_mul(1000))
        .unwrap_or(0)
        .saturating_add(advance.advance_ms.unwrap_or(0));
    if ms < 0 {
        return bad_request("advance_seconds: the simulated clock only moves forward");
    }
    state.clock.advance_ms(ms);
    clock(State(state)).await
}

async fn faults(State(state): Shared) -> Response {
    Json(state.faults()).into_response()
}

async fn set_faults(
    State(state): Shared,
    body: Result<Json<FaultConfig>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let faults = match body {
        Ok(Json(faults)) => faults,
        Err(rejection) => return bad_request(format!("faults: {}", rejection.body_text())),
    };
    if let Err(problem) = faults.validate() {
        return bad_request(problem);
    }
    state.set_faults(faults.clone());
    Json(faults).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppPatch {
    ip_allowlist: Option<Vec<String>>,
    union_disabled: Option<bool>,
    blacklisted: Option<bool>,
    permissions: Option<Vec<Permission>>,
    redirect_uris: Option<Vec<String>>,
}

async fn patch_app(
    State(state): Shared,
    Path(app_key): Path<String>,
    body: Result<Json<AppPatch>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let patch = match body {
        Ok(Json(patch)) => patch,
        Err(rejection) => return bad_request(format!("app patch: {}", rejection.body_text())),
    };
    let allowlist = match patch.ip_allowlist.map(|ips| {
        ips.iter()
            .map(|ip| {
                ip.parse::<IpAddr>()
                    .map_err(|_| format!("ip_allowlist: {ip:?} is not an IP address"))
            })
            .collect::<Result<Vec<_>, _>>()
    }) {
        Some(Err(problem)) => return bad_request(problem),
        Some(Ok(ips)) => Some(ips),
        None => None,
    };
    let mut vop = state.vop();
    let Some(app) = vop.app_mut(&app_key) else {
        return not_found(format!("no VOP app {app_key:?}"));
    };
    if let Some(ips) = allowlist {
        app.ip_allowlist = ips;
    }
    if let Some(disabled) = patch.union_disabled {
        app.union_disabled = disabled;
    }
    if let Some(blacklisted) = patch.blacklisted {
        app.blacklisted = blacklisted;
    }
    if let Some(permissions) = patch.permissions {
        app.permissions = permissions.into_iter().collect();
    }
    if let Some(uris) = patch.redirect_uris {
        app.redirect_uris = uris;
    }
    Json(json!({
        "app_key": app.app_key,
        "ip_allowlist": app.ip_allowlist,
        "union_disabled": app.union_disabled,
        "blacklisted": app.blacklisted,
        "permissions": app.permissions,
        "redirect_uris": app.redirect_uris,
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    password: Option<String>,
    frozen: Option<bool>,
    union_disabled: Option<bool>,
}

async fn patch_user(
    State(state): Shared,
    Path(username): Path<String>,
    body: Result<Json<UserPatch>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let patch = match body {
        Ok(Json(patch)) => patch,
        Err(rejection) => return bad_request(format!("user patch: {}", rejection.body_text())),
    };
    if patch.password.as_deref().is_some_and(str::is_empty) {
        return bad_request("password: expected a non-empty string");
    }
    let mut vop = state.vop();
    let Some(user) = vop.user_mut(&username) else {
        return not_found(format!("no VOP user {username:?}"));
    };
    let mut ended = None;
    if let Some(password) = patch.password
        && password != user.password
    {
        user.password = password;
        ended = Some(Revocation::PasswordChanged);
    }
    if let Some(frozen) = patch.frozen {
        user.frozen = frozen;
        if frozen {
            ended = Some(Revocation::Frozen);
        }
    }
    if let Some(disabled) = patch.union_disabled {
        user.union_disabled = disabled;
    }
    let (frozen, union_disabled) = (user.frozen, user.union_disabled);
    let revoked = ended.map_or(0, |why| vop.revoke_user_tokens(&username, why));
    Json(json!({
        "username": username,
        "frozen": frozen,
        "union_disabled": union_disabled,
        "tokens_revoked": revoked,
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenLifetimes {
    access_token_ttl_secs: Option<i64>,
    refresh_token_ttl_secs: Option<i64>,
}

async fn token_lifetimes(
    State(state): Shared,
    body: Result<Json<TokenLifetimes>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(lifetimes)) = body else {
        return bad_request(
            "expected {\"access_token_ttl_secs\": N, \"refresh_token_ttl_secs\": N}",
        );
    };
    for (name, value) in [
        ("access_token_ttl_secs", lifetimes.access_token_ttl_secs),
        ("refresh_token_ttl_secs", lifetimes.refresh_token_ttl_secs),
    ] {
        if value.is_some_and(|secs| secs <= 0) {
            return bad_request(format!("{name}: expected a positive number of seconds"));
        }
    }
    let mut vop = state.vop();
    if let Some(secs) = lifetimes.access_token_ttl_secs {
        vop.access_token_ttl_secs = secs;
    }
    if let Some(secs) = lifetimes.refresh_token_ttl_secs {
        vop.refresh_token_ttl_secs = secs;
    }
    Json(json!({
        "access_token_ttl_secs": vop.access_token_ttl_secs,
        "refresh_token_ttl_secs": vop.refresh_token_ttl_secs,
    }))
    .into_response()
}

async fn degradation(State(state): Shared) -> Response {
    Json(state.vop().degradation).into_response()
}

async fn set_degradation(
    State(state): Shared,
    body: Result<Json<DegradationConfig>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let config = match body {
        Ok(Json(config)) => config,
        Err(rejection) => return bad_request(format!("degradation: {}", rejection.body_text())),
    };
    if config.window_secs <= 0 || config.duration_secs <= 0 {
        return bad_request("window_secs and duration_secs: expected positive numbers of seconds");
    }
    state.vop().degradation = config;
    Json(config).into_response()
}

async fn reset_quotas(State(state): Shared) -> Response {
    state.vop().quotas.reset();
    Json(json!({ "reset": true })).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaOverrides {
    overrides: Vec<String>,
}

async fn quotas(State(state): Shared) -> Response {
    let table = state.vop().quotas.table.clone();
    let rules: Vec<_> = shopbridge_core::quota::VOP_QUOTAS
        .iter()
        .filter_map(|rule| table.vop(rule.service, rule.method).map(|(rule, _)| rule))
        .collect();
    Json(json!({ "rules": rules })).into_response()
}

async fn set_quotas(
    State(state): Shared,
    body: Result<Json<QuotaOverrides>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let overrides = match body {
        Ok(Json(body)) => body.overrides,
        Err(rejection) => return bad_request(format!("quotas: {}", rejection.body_text())),
    };
    let mut table = shopbridge_core::quota::QuotaTable::documented();
    for text in &overrides {
        table = match table.with_override(text) {
            Ok(table) => table,
            Err(message) => return bad_request(message),
        };
    }
    state.vop().quotas.table = table;
    Json(json!({ "overrides": overrides })).into_response()
}

#[derive(Debug, Deserialize)]
struct CallsQuery {
    method: String,
}

/// The calls that met a method's quota, and the most admitted in any window of its rule.
async fn calls(
    State(state): Shared,
    query: Result<axum::extract::Query<CallsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let method = match query {
        Ok(axum::extract::Query(query)) => query.method,
        Err(rejection) => return bad_request(format!("method: {}", rejection.body_text())),
    };
    let vop = state.vop();
    let Some(rule) = shopbridge_core::quota::VOP_QUOTAS
        .iter()
        .find(|rule| rule.method == method)
        .and_then(|rule| vop.quotas.table.vop(rule.service, rule.method))
        .map(|(rule, _)| rule)
    else {
        return bad_request(format!("method: {method:?} has no quota"));
    };
    let name = format!("{}.{}", rule.service, rule.method);
    let logged: Vec<_> = vop
        .quotas
        .log
        .iter()
        .filter(|call| call.method == name)
        .collect();
    let admitted: Vec<i64> = logged
        .iter()
        .filter(|call| !call.throttled)
        .map(|call| call.at_ms)
        .collect();
    let window_ms = i64::from(rule.window_secs) * 1000;
    let (mut most, mut first) = (0, 0);
    for (last, at) in admitted.iter().enumerate() {
        while admitted[first] <= at - window_ms {
            first += 1;
        }
        most = most.max(last + 1 - first);
    }
    Json(json!({
        "method": method,
        "limit": rule.limit,
        "window_secs": rule.window_secs,
        "calls": logged.len(),
        "throttled": logged.len() - admitted.len(),
        "max_in_any_window": most,
        "admitted_at_ms": admitted,
    }))
    .into_response()
}

async fn union_click(
    State(state): Shared,
    body: Result<Json<Click>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let click = match body {
        Ok(Json(click)) => click,
        Err(rejection) => return bad_request(format!("click: {}", rejection.body_text())),
    };
    let clicks = click.clicks.unwrap_or(1);
    if !(1..=crate::vop::union::orders::MAX_CLICKS).contains(&clicks) {
        return bad_request(format!(
            "clicks: expected 1 to {}, got {clicks}",
            crate::vop::union::orders::MAX_CLICKS
        ));
    }
    let now = state.clock.now_ms();
    let mut vop = state.vop();
    let mut rng = state.rng();
    if clicks == 1 {
        return match crate::vop::union::orders::click(&mut vop, &mut rng, now, &click) {
            Ok(orders) => Json(json!({ "orders": orders })).into_response(),
            Err(problem) => bad_request(problem),
        };
    }
    // In bulk, the count only: a million orders' JSON is no answer to send back.
    let mut placed = 0;
    for _ in 0..clicks {
        match crate::vop::union::orders::click(&mut vop, &mut rng, now, &click) {
            Ok(orders) => placed += orders.len(),
            Err(problem) => return bad_request(problem),
        }
    }
    Json(json!({ "placed": placed })).into_response()
}

async fn union_churn(State(state): Shared) -> Response {
    Json(state.vop().union.orders.churn).into_response()
}

async fn set_union_churn(
    State(state): Shared,
    body: Result<Json<crate::vop::union::orders::Churn>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let churn = match body {
        Ok(Json(churn)) => churn,
        Err(rejection) => return bad_request(format!("churn: {}", rejection.body_text())),
    };
    if !(1..=100).contains(&churn.orders_per_page) || churn.pages > 1_000_000 {
        return bad_request(format!(
            "churn: orders_per_page 1 to 100 and pages 0 to 1000000, got {} and {}",
            churn.orders_per_page, churn.pages
        ));
    }
    state.vop().union.orders.churn = churn;
    Json(churn).into_response()
}

async fn winit_settings(State(state): Shared) -> Response {
    Json(state.winit().settings).into_response()
}

async fn set_winit_settings(
    State(state): Shared,
    body: Result<Json<crate::winit::WinitSettings>, axum::extract::rejection::JsonRejection>,
) -> Response {
    match body {
        Ok(Json(settings)) => {
            state.winit().settings = settings;
            Json(settings).into_response()
        }
        Err(rejection) => bad_request(format!("winit settings: {}", rejection.body_text())),
    }
}
