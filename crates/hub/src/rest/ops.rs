//! Operations endpoints of the REST API: health with the store's pools, and sync on request.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use serde_json::json;

use crate::state::{HubApp, Tenant};

type Shared = State<Arc<HubApp>>;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    crate::problem::problem(status, message)
}

/// The store answers, and every secret it holds opens with the vault's keys.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The hub and its store work", body = Object, example = json!({"status": "ok", "now_ms": 1764403200000_i64, "pools": {"writer_in_use": 0, "writer_max": 1, "reader_in_use": 1, "reader_max": 4}, "saturated": false})), (status = 503, description = "The store cannot be reached, does not answer within 2 s (`Retry-After`), or holds secrets the hub's key does not open", body = crate::problem::Problem)))]
pub async fn healthz(State(app): Shared) -> Response {
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

/// `POST /v1/sync/run`: every stream of the tenant's runnable shops run now.
#[utoipa::path(post, path = "/v1/sync/run", responses((status = 200, description = "The runs made, and the streams still running in other processes", body = crate::service::sync::SyncRunAnswer)))]
pub async fn sync_run(State(app): Shared, Tenant(tenant): Tenant) -> Response {
    match crate::service::sync::run_now(&app, &tenant).await {
        Ok(answer) => Json(answer).into_response(),
        Err(err) => crate::problem::hub_error(err),
    }
}
