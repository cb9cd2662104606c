//! Fault injection for the platform routes: latency, HTTP 5xx, dropped connections, bad bodies.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::state::SandboxState;

/// Which faults to inject, each as a probability from 0 to 1 (1 = every request).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Real (not simulated) delay before every platform response, in milliseconds.
    pub latency_ms: u64,
    /// Probability of an HTTP 503 with an HTML body, as a load balancer sends.
    pub error_rate: f64,
    /// Probability that the connection is closed before a complete response is sent.
    pub drop_rate: f64,
    /// Probability that a 200 response's body is cut in half (undecodable JSON).
    pub malformed_rate: f64,
    /// Only requests whose path starts with this prefix are affected (all platforms if unset).
    pub path_prefix: Option<String>,
}

impl FaultConfig {
    /// Checks that every rate is a probability.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("drop_rate", self.drop_rate),
            ("malformed_rate", self.malformed_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!(
                    "{name}: expected a probability from 0 to 1, got {rate}"
                ));
            }
        }
        Ok(())
    }
}

enum Fault {
    None,
    ServerError,
    Drop,
    Malformed,
}

/// Middleware applied to every platform route (never to `/_sandbox`).
pub async fn inject(
    State(state): State<Arc<SandboxState>>,
    request: Request,
    next: Next,
) -> Response {
    let (latency, fault) = {
        let faults = state.faults();
        let applies = faults
            .path_prefix
            .as_deref()
            .is_none_or(|prefix| request.uri().path().starts_with(prefix));
        if !applies {
            (0, Fault::None)
        } else {
            let mut rng = state.rng();
            let fault = if roll(&mut *rng, faults.error_rate) {
                Fault::ServerError
            } else if roll(&mut *rng, faults.drop_rate) {
                Fault::Drop
            } else if roll(&mut *rng, faults.malformed_rate) {
                Fault::Malformed
            } else {
                Fault::None
            };
            (faults.latency_ms, fault)
        }
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match fault {
        Fault::None => next.run(request).await,
        Fault::ServerError => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>503 Service Temporarily Unavailable</title></head><body>503 Service Temporarily Unavailable</body></html>",
        )
            .into_response(),
        Fault::Drop => {
            // A body stream that fails makes the server abort the connection mid-response.
            let failing = futures_util::stream::once(async {
                Err::<axum::body::Bytes, _>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "sandbox fault: connection dropped",
                ))
            });
            Response::new(Body::from_stream(failing))
        }
        Fault::Malformed => {
            let response = next.run(request).await;
            let (parts, body) = response.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            let mut response = Response::from_parts(parts, Body::from(cut));
            response.headers_mut().remove(header::CONTENT_LENGTH);
            response
        }
    }
}

fn roll(rng: &mut impl Rng, probability: f64) -> bool {
    probability > 0.0 && (probability >= 1.0 || rng.random_bool(probability))
}
