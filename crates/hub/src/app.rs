//! The hub's HTTP application: the connect flows, the polyapi-compatible endpoint, the REST API
//! under `/v1` (tenant bearer authentication), health, and in demo mode the demo credentials.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_store::Store;

use crate::connect::{self, ConnectApp};
use crate::polyapi;
use crate::scheduler::{Platforms, Scheduler};

/// Everything the HTTP application serves from.
#[derive(Clone)]
pub struct HubApp {
    pub store: Store,
    pub platforms: Platforms,
    pub connect: ConnectApp,
    pub clock: Arc<dyn Clock>,
    pub scheduler: Scheduler,
    /// In demo mode, what `GET /demo/credentials` answers (set once the demo shops are connected).
    pub demo_credentials: Option<Arc<std::sync::OnceLock<Value>>>,
    /// Where tenants' webhooks may point.
    pub webhook_targets: crate::security::TargetPolicy,
}

impl std::fmt::Debug for HubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubApp").finish_non_exhaustive()
    }
}

pub fn router(app: HubApp) -> Router {
    // Counters recorded from the first request on.
    crate::telemetry::prometheus();
    let connect_routes = connect::router(app.connect.clone());
    let shared = Arc::new(app);
    let rest_routes = crate::rest::router(shared.clone());
    let console_routes = crate::console::router(shared.clone());
    let poly_routes = polyapi::router(shared.clone());
    let routes = Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/console") }),
        )
        .route("/healthz", get(healthz))
        .route("/demo/credentials", get(demo_credentials))
        .route("/v1/sync/run", post(sync_run))
        .with_state(shared)
        .merge(connect_routes)
        .merge(rest_routes)
        .merge(console_routes)
        .merge(poly_routes)
        // Unknown paths and methods answer problem details too.
        .fallback(|uri: axum::http::Uri| async move {
            error(StatusCode::NOT_FOUND, format!("path: no {uri} here"))
        })
        .method_not_allowed_fallback(
            |method: axum::http::Method, uri: axum::http::Uri| async move {
                error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("method: {uri} does not take {method}"),
                )
            },
        );
    crate::security::security_headers(routes)
        .layer(axum::middleware::from_fn(crate::access_log::log_request))
}

type Shared = State<Arc<HubApp>>;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    crate::problem::problem(status, message)
}

/// An answer of 429 with `Retry-After`, for a client or key out of guesses.
pub(crate) fn too_many_guesses(wait: Duration) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "too many failed sign-ins from this address or for this app key: retry in {} s",
            wait.as_secs().max(1)
        ),
    );
    if let Ok(value) = header::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The tenant of `Authorization: Bearer APPKEY:APPSECRET`; failed guesses are throttled per
/// client address and per app key.
pub(crate) async fn tenant(
    connect: &ConnectApp,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
) -> Result<String, Response> {
    let unauthorized = |message: &str| {
        let mut response = error(StatusCode::UNAUTHORIZED, message);
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        response
    };
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(unauthorized(
            "Authorization: expected Bearer APPKEY:APPSECRET",
        ));
    };
    let Some((app_key, secret)) = value
        .strip_prefix("Bearer ")
        .and_then(|credentials| credentials.trim().split_once(':'))
    else {
        return Err(unauthorized(
            "Authorization: expected Bearer APPKEY:APPSECRET",
        ));
    };
    let keys = crate::security::guess_keys(client, app_key);
    connect.guesses.check(&keys).map_err(too_many_guesses)?;
    match connect.store.tenant_by_app_key(app_key).await {
        Ok(Some((id, stored)))
            if constant_time_eq(stored.expose_secret().as_bytes(), secret.as_bytes()) =>
        {
            Ok(id)
        }
        Ok(_) => {
            connect.guesses.failed(&keys);
            Err(unauthorized(
                "Authorization: unknown app key or wrong secret",
            ))
        }
        Err(err) => Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store: {err}"),
        )),
    }
}

/// The tenant a request is authenticated as (`Authorization: Bearer APPKEY:APPSECRET`).
#[derive(Debug, Clone)]
pub struct Tenant(pub String);

/// A state that can authenticate tenants.
pub(crate) trait TenantAuth {
    fn connect_app(&self) -> &ConnectApp;
}

impl TenantAuth for Arc<HubApp> {
    fn connect_app(&self) -> &ConnectApp {
        &self.connect
    }
}

impl TenantAuth for Arc<ConnectApp> {
    fn connect_app(&self) -> &ConnectApp {
        self
    }
}

impl<S: TenantAuth + Send + Sync> axum::extract::FromRequestParts<S> for Tenant {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &S,
    ) -> Result<Self, Self::Rejection> {
        let ClientAddr(client) = ClientAddr::of(app, parts);
        tenant(app.connect_app(), &parts.headers, client)
            .await
            .map(Tenant)
    }
}

/// The address a request came from, as the guess throttle counts it (the connection's, or the
/// last `X-Forwarded-For` entry when the hub trusts its proxy).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub Option<std::net::IpAddr>);

impl ClientAddr {
    fn of<S: TenantAuth>(app: &S, parts: &axum::http::request::Parts) -> Self {
        Self(
            app.connect_app()
                .guesses
                .client_of(&parts.headers, &parts.extensions),
        )
    }
}

impl<S: TenantAuth + Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(app, parts))
    }
}

/// Compares a secret with what was sent without stopping at the first difference, so that the
/// time taken tells nothing about how much matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The store answers, and every secret it holds opens with the vault's keys.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The hub and its store work", body = Object, example = json!({"status": "ok", "now_ms": 1764403200000_i64, "pools": {"writer_in_use": 0, "writer_max": 1, "reader_in_use": 1, "reader_max": 4}, "saturated": false})), (status = 503, description = "The store cannot be reached, does not answer within 2 s (`Retry-After`), or holds secrets the hub's key does not open", body = crate::problem::Problem)))]
pub(crate) async fn healthz(State(app): Shared) -> Response {
    // A probe answers within its own budget: a saturated pool is reported, not waited out.
    let checked = tokio::time::timeout(HEALTH_BUDGET, async {
        app.store.ping().await?;
        app.store.check_vault().await
    })
    .await;
    let pools = app.store.pool_use();
    let saturated = pools.reader_in_use >= pools.reader_max;
    match checked {
        // The hub's clock: the platforms' (a sandbox's simulated one) that timestamps are
        // signed and checked against.
        Ok(Ok(())) => Json(json!({
            "status": "ok",
            "now_ms": app.clock.now_ms(),
            "pools": pools,
            "saturated": saturated,
        }))
        .into_response(),
        Ok(Err(err)) if err.is_busy() => crate::problem::store_failure(err),
        Ok(Err(err)) => error(StatusCode::SERVICE_UNAVAILABLE, format!("store: {err}")),
        Err(_) => {
            let mut response = error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "store: no answer within {} ms ({} of {} reading connections in use)",
                    HEALTH_BUDGET.as_millis(),
                    pools.reader_in_use,
                    pools.reader_max
                ),
            );
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
            response
        }
    }
}

/// How long `/healthz` waits for the store.
const HEALTH_BUDGET: Duration = Duration::from_secs(2);

async fn demo_credentials(State(app): Shared) -> Response {
    match app.demo_credentials.as_ref().map(|cell| cell.get()) {
        Some(Some(credentials)) => Json(credentials.clone()).into_response(),
        Some(None) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the demo shops are still being connected",
        ),
        None => error(
            StatusCode::NOT_FOUND,
            "demo credentials exist only in demo mode",
        ),
    }
}

/// `POST /v1/sync/run`: every stream of the tenant's runnable shops run now.
#[utoipa::path(post, path = "/v1/sync/run", responses((status = 200, description = "The runs made, and the streams still running in other processes", body = crate::service::sync::SyncRunAnswer)))]
pub(crate) async fn sync_run(State(app): Shared, Tenant(tenant): Tenant) -> Response {
    match crate::service::sync::run_now(&app, &tenant).await {
        Ok(answer) => Json(answer).into_response(),
        Err(err) => crate::problem::hub_error(err),
    }
}
