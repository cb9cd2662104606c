//! Delivering webhooks: each due delivery POSTed as JSON, signed with HMAC-SHA256 over
//! `"{timestamp}.{body}"`, retried with capped exponential backoff and jitter on 5xx, 429 (its
//! `Retry-After` honoured) and network failures, given up on other 4xx, every attempt logged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::Rng;
use secrecy::ExposeSecret;
use sha2::Sha256;
use shopbridge_core::Clock;
use shopbridge_store::{Attempt, AttemptOutcome, DueDelivery, Store, StoreError};

use crate::security::TargetPolicy;

/// How long one delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The signature header: `sha256=<lower hex HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub const SIGNATURE_HEADER: &str = "x-shopbridge-signature";
pub const TIMESTAMP_HEADER: &str = "x-shopbridge-timestamp";
pub const EVENT_HEADER: &str = "x-shopbridge-event";
pub const DELIVERY_HEADER: &str = "x-shopbridge-delivery";

/// What went wrong with a request, with its causes, and whether the target policy refused it
/// (which no retry changes).
fn describe_send_error(err: &reqwest::Error) -> (String, bool) {
    let mut text = err.to_string();
    let mut refused = false;
    let mut cause = std::error::Error::source(err);
    while let Some(inner) = cause {
        refused |= inner
            .downcast_ref::<crate::security::TargetError>()
            .is_some();
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    (text, refused)
}

/// The signature a receiver checks.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Clone)]
pub struct WebhookDispatcher {
    pub store: Store,
    pub http: reqwest::Client,
    pub clock: Arc<dyn Clock>,
    /// Attempts per delivery before it is given up.
    pub max_attempts: i64,
    pub min_backoff_ms: i64,
    pub max_backoff_ms: i64,
    /// Where deliveries may go; checked again at every attempt, on the address connected to.
    pub targets: TargetPolicy,
}

impl std::fmt::Debug for WebhookDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookDispatcher")
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl WebhookDispatcher {
    /// A dispatcher that delivers to public addresses only.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Result<Self, reqwest::Error> {
        Self::with_targets(store, clock, TargetPolicy::default())
    }

    /// A dispatcher that delivers where `targets` allows.
    pub fn with_targets(
        store: Store,
        clock: Arc<dyn Clock>,
        targets: TargetPolicy,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            store,
            http: targets.client(DELIVERY_TIMEOUT)?,
            clock,
            max_attempts: 8,
            min_backoff_ms: 1_000,
            max_backoff_ms: 3_600_000,
            targets,
        })
    }

    fn backoff_ms(&self, attempts_so_far: i64, retry_after_ms: Option<i64>) -> i64 {
        let exponential = self
            .min_backoff_ms
            .saturating_mul(1_i64 << attempts_so_far.clamp(0, 30))
            .min(self.max_backoff_ms);
        let jitter = rand::rng().random_range(0..=exponential / 5);
        (exponential + jitter).max(retry_after_ms.unwrap_or(0))
    }

    async fn attempt(&self, due: &DueDelivery) -> Result<(), StoreError> {
        let delivery = &due.delivery;
        let now = self.clock.now_ms();
        let started = Instant::now();
        if let Err(refused) = self.targets.check_url(&due.url) {
            // A literal internal address never reaches the resolver that guards names.
            let attempt = Attempt {
                at_ms: now,
                status_code: None,
                error: Some(format!("not sent: {refused}")),
                duration_ms: 0,
            };
            tracing::warn!(delivery = delivery.id, refused = ?refused, "webhook target refused");
            return self
                .store
                .record_attempt(delivery, now, &attempt, &AttemptOutcome::Failed)
                .await;
        }
        let answer = self
            .http
            .post(&due.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, &delivery.event)
            .header(DELIVERY_HEADER, delivery.id.to_string())
            .header(TIMESTAMP_HEADER, now.to_string())
            .header(
                SIGNATURE_HEADER,
                signature(due.secret.expose_secret(), now, &delivery.payload),
            )
            .body(delivery.payload.clone())
            .send()
            .await;
        let duration_ms = started.elapsed().as_millis() as i64;
        let last_try = delivery.attempts + 1 >= self.max_attempts;
        let (attempt, outcome) = match answer {
            Ok(response) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<i64>().ok())
                    // A receiver's Retry-After is honoured up to a day.
                    .map(|secs| secs.clamp(0, 86_400) * 1000);
                let attempt = Attempt {
                    at_ms: now,
                    status_code: Some(i64::from(status.as_u16())),
                    error: None,
                    duration_ms,
                };
                let outcome = if status.is_success() {
                    AttemptOutcome::Delivered
                } else if (status.is_server_error() || status.as_u16() == 429) && !last_try {
                    AttemptOutcome::Retry(now + self.backoff_ms(delivery.attempts, retry_after))
                } else {
                    AttemptOutcome::Failed
                };
                (attempt, outcome)
            }
            Err(err) => {
                let (error, refused) = describe_send_error(&err);
                let attempt = Attempt {
                    at_ms: now,
                    status_code: None,
                    // reqwest errors name the URL, never the secret (it is only in a header).
                    error: Some(error),
                    duration_ms,
                };
                let outcome = if last_try || refused {
                    AttemptOutcome::Failed
                } else {
                    AttemptOutcome::Retry(now + self.backoff_ms(delivery.attempts, None))
                };
                (attempt, outcome)
            }
        };
        crate::telemetry::webhook_attempt(match &outcome {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry(_) => "retry",
            AttemptOutcome::Failed => "failed",
        });
        match &outcome {
            AttemptOutcome::Failed => {
                tracing::warn!(delivery = delivery.id, event = %delivery.event, status = ?attempt.status_code, "webhook delivery given up")
            }
            AttemptOutcome::Retry(at_ms) => tracing::info!(
                delivery = delivery.id,
                event = %delivery.event,
                status = ?attempt.status_code,
                retry_in_ms = at_ms - now,
                "webhook attempt failed"
            ),
            AttemptOutcome::Delivered => {}
        }
        self.store
            .record_attempt(delivery, now, &attempt, &outcome)
            .await
    }

    /// Sends every delivery due now, once; returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let now = self.clock.now_ms();
        let due = self.store.claim_due_deliveries(now, 60_000, 100).await?;
        for delivery in &due {
            self.attempt(delivery).await?;
        }
        Ok(due.len())
    }

    /// Delivers until nothing is due now.
    pub async fn deliver_until_idle(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let sent = self.deliver_due().await?;
            if sent == 0 {
                return Ok(total);
            }
            total += sent;
        }
    }

    pub async fn run_forever(&self, poll: Duration) {
        loop {
            if let Err(err) = self.deliver_until_idle().await {
                tracing::warn!(error = %err, "webhook pass failed");
            }
            tokio::time::sleep(poll).await;
        }
    }
}
