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
            "the hub's store is busy (its database connections or its file are taken); retry in a second",
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

/// The answer to an operation of the hub that did not happen: the status its kind calls for,
/// with `Retry-After` where waiting helps.
pub fn hub_error(err: crate::service::HubError) -> Response {
    use crate::service::HubError;
    let status = hub_status(&err);
    match err {
        HubError::Throttled { retry_after_ms, .. } => {
            let mut response = problem(status, err.to_string());
            let seconds = retry_after_ms.saturating_add(999) / 1000;
            if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        // Busy or failed: the store's own answer, which never shows its error text.
        HubError::Store(err) => store_failure(err),
        err => problem(status, err.to_string()),
    }
}

/// The HTTP status of an operation that did not happen.
pub fn hub_status(err: &crate::service::HubError) -> StatusCode {
    use crate::service::HubError;
    match err {
        HubError::Invalid(_) => StatusCode::BAD_REQUEST,
        HubError::Missing(_)
        | HubError::Unprocessable(_)
        | HubError::Unsupported(_)
        | HubError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        HubError::NotFound(_) => StatusCode::NOT_FOUND,
        HubError::Conflict(_) => StatusCode::CONFLICT,
        HubError::Platform(err) => platform_status(err),
        HubError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        HubError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The status a platform's error answers with: what the caller can fix is a 422, a shop that
/// must be authorized again a 409, a rate limit a 429, anything else the platform's failure.
pub fn platform_status(err: &shopbridge_core::capability::ConnectorError) -> StatusCode {
    use shopbridge_core::ErrorClass;
    match err.class {
        ErrorClass::InvalidRequest
        | ErrorClass::Unsupported
        | ErrorClass::Platform
        | ErrorClass::Permission => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorClass::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorClass::NeedsReauthorization
        | ErrorClass::Credentials
        | ErrorClass::AccountDisabled => StatusCode::CONFLICT,
        _ => StatusCode::BAD_GATEWAY,
    }
}
