//! The hub's HTTP application: the connect flows, the polyapi-compatible endpoint, the REST API
//! under `/v1` (tenant bearer authentication), health, and in demo mode the demo credentials.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};

use crate::connect;
use crate::polyapi;
use crate::state::HubApp;

pub fn router(app: HubApp) -> Router {
    // Counters recorded from the first request on.
    crate::telemetry::prometheus();
    let shared = Arc::new(app);
    let connect_routes = connect::router(shared.clone());
    let rest_routes = crate::rest::router(shared.clone());
    let console_routes = crate::console::router(shared.clone());
    let poly_routes = polyapi::router(shared.clone());
    let routes = Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/console") }),
        )
        .route("/healthz", get(crate::rest::ops::healthz))
        .route("/demo/credentials", get(demo_credentials))
        .route("/v1/sync/run", post(crate::rest::ops::sync_run))
        .with_state(shared)
        .merge(connect_routes)
        .merge(rest_routes)
        .merge(console_routes)
        .merge(poly_routes)
        // Unknown paths and methods answer problem details too.
        .fallback(|uri: axum::http::Uri| async move {
            // The path only: a query string may hold a code or a token.
            error(
                StatusCode::NOT_FOUND,
                format!("path: no {} here", uri.path()),
            )
        })
        .method_not_allowed_fallback(
            |method: axum::http::Method, uri: axum::http::Uri| async move {
                error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("method: {} does not take {method}", uri.path()),
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
