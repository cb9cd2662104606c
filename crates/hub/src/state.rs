//! What every front end serves from: the hub's state, and who a request is (tenant bearer
//! authentication with guess throttling, the client's address).

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use secrecy::ExposeSecret;
use serde_json::Value;
use shopbridge_core::Clock;
use shopbridge_store::Store;

use crate::scheduler::{Platforms, Scheduler};

/// Everything the HTTP application serves from.
#[derive(Clone)]
pub struct HubApp {
    pub store: Store,
    pub platforms: Platforms,
    pub clock: Arc<dyn Clock>,
    /// The hub's public base URL (callbacks are built from it).
    pub public_url: String,
    /// Failed credential guesses, throttled per client address and per app key; shared by
    /// every front end.
    pub guesses: Arc<crate::security::GuessThrottle>,
    /// Wakes the scheduler: a shop just connected starts its first sync at once.
    pub sync_wake: Arc<tokio::sync::Notify>,
    pub scheduler: Scheduler,
    /// In demo mode, what `GET /demo/credentials` answers (set once the demo shops are connected).
    pub demo_credentials: Option<Arc<std::sync::OnceLock<Value>>>,
    /// Where tenants' webhooks may point.
    pub webhook_targets: crate::security::TargetPolicy,
    /// The tenants with a sync pass started from the console still running here: one at a
    /// time each, however often "sync now" is pressed.
    pub background_passes: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    /// The bearer token `GET /metrics` asks for; `None` leaves the metrics open.
    pub metrics_token: Option<secrecy::SecretString>,
}

impl std::fmt::Debug for HubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubApp").finish_non_exhaustive()
    }
}

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
    app: &HubApp,
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
    app.guesses.check(&keys).map_err(too_many_guesses)?;
    match app.store.tenant_by_app_key(app_key).await {
        Ok(Some((id, stored)))
            if constant_time_eq(stored.expose_secret().as_bytes(), secret.as_bytes()) =>
        {
            Ok(id)
        }
        Ok(_) => {
            app.guesses.failed(&keys);
            Err(unauthorized(
                "Authorization: unknown app key or wrong secret",
            ))
        }
        Err(err) => Err(crate::problem::store_failure(err)),
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
        let ClientAddr(client) = ClientAddr::of(app, parts);
        tenant(app, &parts.headers, client).await.map(Tenant)
    }
}

/// The address a request came from, as the guess throttle counts it (the connection's, or the
/// last `X-Forwarded-For` entry when the hub trusts its proxy).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub Option<std::net::IpAddr>);

impl ClientAddr {
    fn of(app: &HubApp, parts: &axum::http::request::Parts) -> Self {
        Self(app.guesses.client_of(&parts.headers, &parts.extensions))
    }
}

impl axum::extract::FromRequestParts<Arc<HubApp>> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &Arc<HubApp>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(app, parts))
    }
}

/// Compares a secret with what was sent without stopping at the first difference, so that the
/// time taken tells nothing about how much matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
