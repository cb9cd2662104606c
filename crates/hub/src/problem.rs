//! The one error body of the hub's HTTP API: RFC 9457 problem details
//! (`application/problem+json`), with the message also under `error` for clients written
//! against earlier versions.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer (RFC 9457 problem details).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "about:blank",
    "title": "Bad Request",
    "status": 400,
    "detail": "limit: expected 1 to 500, got 0",
    "error": "limit: expected 1 to 500, got 0"
}))]
pub struct Problem {
    /// Always `about:blank`: the status code says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The status code's reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What was wrong, naming the field where a request was refused.
    pub detail: String,
    /// The same as `detail`.
    pub error: String,
}

/// An answer of `status` with problem details saying `detail`.
pub fn problem(status: StatusCode, detail: impl Into<String>) -> Response {
    let detail = detail.into();
    let body = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        error: detail.clone(),
        detail,
    };
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// The answer to a request the store could not serve: 503 either way, with `Retry-After` when
/// the store is only busy (every pooled connection taken), and the cause in the log only.
pub fn store_failure(err: shopbridge_store::StoreError) -> Response {
    if err.is_busy() {
        tracing::warn!(error = %err, "store busy; a request was asked to retry");
        let mut response = problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "the hub's store is busy (every database connection is taken); retry in a second",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    tracing::error!(error = %err, "store failure");
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "the hub's store failed; retry later",
    )
}
