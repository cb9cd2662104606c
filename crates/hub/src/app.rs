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
use crate::polyapi::{self, PolyApp};
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
}

impl std::fmt::Debug for HubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubApp").finish_non_exhaustive()
    }
}

impl HubApp {
    /// Ends a shop's grant: at the platform where it has one (a refusal there is logged, the
    /// shop is revoked here all the same), then in the store, with an audit entry.
    pub(crate) async fn revoke_shop(
        &self,
        shop: &shopbridge_store::Connection,
        reason: &str,
        audit_detail: &str,
    ) -> Result<(), shopbridge_store::StoreError> {
        if shop.platform == "vop"
            && let Ok(tokens) =
                serde_json::from_str::<crate::VopTokens>(shop.credentials.expose_secret())
            && let Err(err) = self
                .platforms
                .vop
                .revoke_token(&secrecy::SecretString::from(tokens.access_token))
                .await
        {
            tracing::warn!(shop = %shop.id, error = %err, "the platform did not confirm the revocation");
        }
        let now = self.clock.now_ms();
        self.store
            .set_state(
                &shop.id,
                shopbridge_store::ConnectionState::Revoked,
                Some(reason),
                now,
            )
            .await?;
        let _ = self
            .store
            .audit(
                now,
                Some(&shop.tenant_id),
                Some(&shop.id),
                "revoke",
                audit_detail,
            )
            .await;
        Ok(())
    }
}

pub fn router(app: HubApp) -> Router {
    let poly = PolyApp {
        store: app.store.clone(),
        platforms: app.platforms.clone(),
        connect: app.connect.clone(),
        clock: app.clock.clone(),
    };
    let connect_routes = connect::router(app.connect.clone());
    let shared = Arc::new(app);
    let rest_routes = crate::rest::router(shared.clone());
    let console_routes = crate::console::router(shared.clone());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/demo/credentials", get(demo_credentials))
        .route("/v1/sync/run", post(sync_run))
        .with_state(shared)
        .merge(connect_routes)
        .merge(rest_routes)
        .merge(console_routes)
        .merge(polyapi::router(poly))
}

type Shared = State<Arc<HubApp>>;

/// An error answered as `{"error": "..."}`.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// The tenant of `Authorization: Bearer APPKEY:APPSECRET`.
pub(crate) async fn tenant(store: &Store, headers: &HeaderMap) -> Result<String, Response> {
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
    match store.tenant_by_app_key(app_key).await {
        Ok(Some((id, stored)))
            if constant_time_eq(stored.expose_secret().as_bytes(), secret.as_bytes()) =>
        {
            Ok(id)
        }
        Ok(_) => Err(unauthorized(
            "Authorization: unknown app key or wrong secret",
        )),
        Err(err) => Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store: {err}"),
        )),
    }
}

/// The tenant a request is authenticated as (`Authorization: Bearer APPKEY:APPSECRET`).
#[derive(Debug, Clone)]
pub struct Tenant(pub String);

impl axum::extract::FromRequestParts<Arc<HubApp>> for Tenant {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &Arc<HubApp>,
    ) -> Result<Self, Self::Rejection> {
        tenant(&app.store, &parts.headers).await.map(Tenant)
    }
}

/// Compares a secret with what was sent without stopping at the first difference, so that the
/// time taken tells nothing about how much matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn healthz(State(app): Shared) -> Response {
    match app.store.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(err) => error(StatusCode::SERVICE_UNAVAILABLE, format!("store: {err}")),
    }
}

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

/// `POST /v1/sync/run`: makes every stream of the tenant's shops due and answers once none is
/// due or running (runs this process does, and waits for the ones other processes hold).
async fn sync_run(State(app): Shared, Tenant(tenant): Tenant) -> Response {
    match run_tenant_streams(&app, &tenant).await {
        Ok((runs, waiting)) => Json(json!({
            "runs": runs,
            "complete": waiting.is_empty(),
            "still_running_elsewhere": waiting,
        }))
        .into_response(),
        Err(message) => error(StatusCode::SERVICE_UNAVAILABLE, message),
    }
}

/// How long `POST /v1/sync/run` waits for streams another process is running.
const WAIT_FOR_OTHERS: Duration = Duration::from_secs(120);

/// Runs the tenant's streams; answers the runs made here and the streams still leased by other
/// processes when the wait for them ran out.
async fn run_tenant_streams(
    app: &HubApp,
    tenant: &str,
) -> Result<(Vec<Value>, Vec<String>), String> {
    let started = std::time::Instant::now();
    let store = &app.store;
    app.scheduler.plan().await.map_err(|err| err.to_string())?;
    let mine: Vec<String> = store
        .tenant_connections(tenant)
        .await
        .map_err(|err| err.to_string())?
        .into_iter()
        // Streams of shops that cannot run (needs re-authorization) are not waited for.
        .filter(|c| {
            matches!(
                c.state,
                shopbridge_store::ConnectionState::Active
                    | shopbridge_store::ConnectionState::Refreshing
            )
        })
        .map(|c| c.id)
        .collect();
    let now = app.clock.now_ms();
    for schedule in store
        .tenant_schedules(tenant)
        .await
        .map_err(|err| err.to_string())?
    {
        if mine.contains(&schedule.connection_id) {
            store
                .run_now(&schedule.connection_id, &schedule.stream, now)
                .await
                .map_err(|err| err.to_string())?;
        }
    }
    let mut runs = Vec::new();
    loop {
        for outcome in app
            .scheduler
            .run_until_idle()
            .await
            .map_err(|err| err.to_string())?
        {
            runs.push(json!({
                "connection_id": outcome.connection_id,
                "stream": outcome.stream,
                "ok": outcome.result.is_ok(),
                "pages": outcome.result.as_ref().map(|r| r.pages).unwrap_or_default(),
                "changed": outcome.result.as_ref().map(|r| r.changed).unwrap_or_default(),
                "error": outcome.result.as_ref().err().map(ToString::to_string),
            }));
        }
        let now = app.clock.now_ms();
        let busy: Vec<String> = store
            .tenant_schedules(tenant)
            .await
            .map_err(|err| err.to_string())?
            .into_iter()
            .filter(|s| {
                mine.contains(&s.connection_id)
                    && (s.next_run_ms <= now || s.lease_until_ms.is_some_and(|until| until > now))
            })
            .map(|s| format!("{} {}", s.connection_id, s.stream))
            .collect();
        if busy.is_empty() || started.elapsed() > WAIT_FOR_OTHERS {
            return Ok((runs, busy));
        }
        // Another process holds a lease on one of them: wait for it to finish.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
