//! Tenants' webhooks: endpoints with sealed signing secrets, deliveries written in the same
//! transaction as the change they announce (an outbox: an event is never lost to a crash), every
//! attempt logged, and endpoints disabled with a visible reason after repeated failure.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;

use crate::page_sql::{PageSql, Row as PageRow, SqlxTx};
use crate::vault::Sealed;
use crate::{Store, StoreError};

/// The events a webhook may subscribe to.
pub const EVENTS: &[&str] = &[
    "order.created",
    "order.updated",
    "refund.changed",
    "union_order.created",
    "union_order.updated",
    "connection.needs_reauth",
    "sync.failed",
];

/// Stored for a webhook that wants every event, so that it also gets the events added later.
const ALL_EVENTS: &str = "*";

/// The events a stored subscription stands for.
fn subscribed_events(stored: &str) -> Vec<String> {
    if stored == ALL_EVENTS {
        return EVENTS.iter().map(|e| (*e).to_owned()).collect();
    }
    stored
        .split(',')
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A tenant's enabled webhooks and the events each wants, read once per transaction.
#[derive(Debug, Default)]
pub(crate) struct Subscribers {
    hooks: Vec<(String, Vec<String>)>,
}

impl Subscribers {
    async fn of(tx: &mut impl PageSql, tenant_id: &str) -> Result<Self, StoreError> {
        let rows = tx
            .rows(
                "SELECT id, events FROM webhooks WHERE tenant_id = $1 AND enabled = 1",
                &[tenant_id.into()],
            )
            .await?;
        Self::from_rows(&rows)
    }

    /// The webhooks of a connection's tenant, in one query.
    pub(crate) async fn of_connection(
        tx: &mut impl PageSql,
        connection_id: &str,
    ) -> Result<Self, StoreError> {
        let rows = tx
            .rows(
                "SELECT w.id, w.events FROM webhooks w JOIN connections c ON c.tenant_id = w.tenant_id
                 WHERE c.id = $1 AND w.enabled = 1",
                &[connection_id.into()],
            )
            .await?;
        Self::from_rows(&rows)
    }

    fn from_rows(rows: &[PageRow]) -> Result<Self, StoreError> {
        let mut hooks = Vec::with_capacity(rows.len());
        for row in rows {
            hooks.push((row.text(0)?, subscribed_events(&row.text(1)?)));
        }
        Ok(Self { hooks })
    }

    /// Whether any webhook wants `event` (so that its data need not be built otherwise).
    pub(crate) fn want(&self, event: &str) -> bool {
        self.hooks
            .iter()
            .any(|(_, events)| events.iter().any(|e| e == event))
    }

    /// Queues `event` for each webhook that wants it; answers how many deliveries were queued.
    pub(crate) async fn enqueue(
        &self,
        tx: &mut impl PageSql,
        event: &str,
        data: Value,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let mut queued = 0;
        let body = json!({"event": event, "created_ms": now_ms, "data": data}).to_string();
        for (id, events) in &self.hooks {
            if !events.iter().any(|e| e == event) {
                continue;
            }
            tx.run(
                "INSERT INTO webhook_deliveries (webhook_id, event, payload, status, attempts, next_attempt_ms, created_ms, finished_ms)
                 VALUES ($1, $2, $3, 'pending', 0, $4, $4, NULL)",
                &[id.into(), event.into(), (&body).into(), now_ms.into()],
            )
            .await?;
            queued += 1;
        }
        Ok(queued)
    }
}

/// Cancels the deliveries still pending whose event is about `connection_id` (every event about
/// a shop carries `"connection_id"` in its data), inside the caller's transaction.
pub(crate) async fn cancel_pending_of_shop(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: crate::Backend,
    connection_id: &str,
    now_ms: i64,
) -> Result<u64, StoreError> {
    // The payload is serde_json's compact text: the shop's id appears exactly so.
    let needle = format!("\"connection_id\":{}", Value::from(connection_id));
    let find = match backend {
        crate::Backend::Sqlite => "instr",
        crate::Backend::Postgres => "strpos",
    };
    let done = sqlx::query(&format!(
        "UPDATE webhook_deliveries SET status = 'cancelled', finished_ms = $1
         WHERE status = 'pending' AND {find}(payload, $2) > 0"
    ))
    .bind(now_ms)
    .bind(needle)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// After this many deliveries in a row have failed for good (every retry spent, or refused) an
/// endpoint is disabled. Attempts are not counted: a burst of events queued for an endpoint that
/// is briefly down must not disable it before a single retry.
pub const DISABLE_AFTER_FAILED_DELIVERIES: i64 = 10;

/// The events a stream's records raise: one when a record first arrives, one when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordEvents {
    pub created: &'static str,
    pub updated: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failed_in_a_row: i64,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: String,
    pub event: String,
    /// The JSON body sent.
    pub payload: String,
    /// `pending`, `delivered`, `failed` (refused for good, or out of attempts), `cancelled` (its
    /// shop was deleted before it went out).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attempt {
    pub at_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A delivery claimed for sending, with where and how to sign it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery: Delivery,
    pub url: String,
    pub secret: SecretString,
}

/// What a request to deliver again came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redelivery {
    Queued(Delivery),
    /// The delivery has not finished yet.
    StillPending,
    /// The tenant has no such delivery.
    NotFound,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Try again at this time.
    Retry(i64),
    /// Given up: refused for good, or out of attempts.
    Failed,
}

fn webhook(row: &sqlx::any::AnyRow) -> Result<Webhook, StoreError> {
    let events: String = row.try_get("events")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        events: subscribed_events(&events),
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        disabled_reason: row.try_get("disabled_reason")?,
        failed_in_a_row: row.try_get("failed_in_a_row")?,
        created_ms: row.try_get("created_ms")?,
    })
}

fn delivery(row: &sqlx::any::AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        event: row.try_get("event")?,
        payload: row.try_get("payload")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_attempt_ms: row.try_get("next_attempt_ms")?,
        created_ms: row.try_get("created_ms")?,
        finished_ms: row.try_get("finished_ms")?,
    })
}

const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.event, d.payload, d.status, d.attempts, d.next_attempt_ms, d.created_ms, d.finished_ms";

impl Store {
    /// A tenant's new webhook for `events` (all of them when empty).
    pub async fn create_webhook(
        &self,
        tenant_id: &str,
        url: &str,
        events: &[String],
        secret: &SecretString,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        if let Some(unknown) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(StoreError::Invalid(format!(
                "events: unknown event {unknown:?} (expected {})",
                EVENTS.join(", ")
            )));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = self.vault().seal(&id, secret.expose_secret().as_bytes())?;
        let events = if events.is_empty() {
            ALL_EVENTS.to_owned()
        } else {
            events.join(",")
        };
        sqlx::query(
            "INSERT INTO webhooks (id, tenant_id, url, events, key_id, secret_ct, enabled, disabled_reason, failed_in_a_row, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, 1, NULL, 0, $7)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(url)
        .bind(events)
        .bind(&sealed.key_id)
        .bind(sealed.bytes)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    pub async fn webhooks(&self, tenant_id: &str) -> Result<Vec<Webhook>, StoreError> {
        let rows = sqlx::query("SELECT id, url, events, enabled, disabled_reason, failed_in_a_row, created_ms FROM webhooks WHERE tenant_id = $1 ORDER BY created_ms, id")
            .bind(tenant_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(webhook).collect()
    }

    /// Turns a webhook back on after it was disabled; false if the tenant has no such webhook.
    pub async fn enable_webhook(&self, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE webhooks SET enabled = 1, disabled_reason = NULL, failed_in_a_row = 0 WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues a finished delivery of a tenant's webhook again, due now with a fresh retry budget
    /// (its attempts so far stay in its log). A delivery still pending is left alone: resetting
    /// it would race the attempt in flight.
    pub async fn redeliver(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        delivery_id: i64,
        now_ms: i64,
    ) -> Result<Redelivery, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_ms = $1, finished_ms = NULL
             WHERE id = $2 AND webhook_id = $3 AND status IN ('failed', 'delivered')
             AND webhook_id IN (SELECT id FROM webhooks WHERE tenant_id = $4)",
        )
        .bind(now_ms)
        .bind(delivery_id)
        .bind(webhook_id)
        .bind(tenant_id)
        .execute(self.pool())
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.id = $1 AND d.webhook_id = $2 AND w.tenant_id = $3"
        ))
        .bind(delivery_id)
        .bind(webhook_id)
        .bind(tenant_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(match (row, done.rows_affected()) {
            (None, _) => Redelivery::NotFound,
            (Some(row), 1) => Redelivery::Queued(delivery(&row)?),
            (Some(_), _) => Redelivery::StillPending,
        })
    }

    /// The latest deliveries of a tenant's webhook with their attempts, newest first.
    pub async fn webhook_deliveries(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        limit: i64,
    ) -> Result<Vec<(Delivery, Vec<Attempt>)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.webhook_id = $1 AND w.tenant_id = $2 ORDER BY d.id DESC LIMIT $3"
        ))
        .bind(webhook_id)
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let delivery = delivery(row)?;
            let attempts = sqlx::query("SELECT at_ms, status_code, error, duration_ms FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id")
                .bind(delivery.id)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|a| {
                    Ok(Attempt {
                        at_ms: a.try_get("at_ms")?,
                        status_code: a.try_get("status_code")?,
                        error: a.try_get("error")?,
                        duration_ms: a.try_get("duration_ms")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            out.push((delivery, attempts));
        }
        Ok(out)
    }

    /// Queues `event` for every enabled webhook of the tenant that wants it, inside `tx`.
    pub(crate) async fn enqueue_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        tenant_id: &str,
        event: &str,
        data: Value,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let mut tx = SqlxTx {
            tx,
            backend: self.backend(),
        };
        let hooks = Subscribers::of(&mut tx, tenant_id).await?;
        hooks.enqueue(&mut tx, event, data, now_ms).await
    }

    /// Queues an event on its own.
    pub async fn enqueue_event(
        &self,
        tenant_id: &str,
        event: &str,
        data: Value,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool().begin().await?;
        let queued = self
            .enqueue_in(&mut tx, tenant_id, event, data, now_ms)
            .await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Claims up to `limit` deliveries that are due, for `hold_ms` (another dispatcher skips
    /// them meanwhile; a crashed one's claims come due again).
    pub async fn claim_due_deliveries(
        &self,
        now_ms: i64,
        hold_ms: i64,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS}, w.url, w.key_id, w.secret_ct FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.status = 'pending' AND d.next_attempt_ms <= $1 AND w.enabled = 1 ORDER BY d.next_attempt_ms, d.id LIMIT $2"
        ))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut due = Vec::new();
        for row in &rows {
            let mut delivery = delivery(row)?;
            let claimed = sqlx::query("UPDATE webhook_deliveries SET next_attempt_ms = $1 WHERE id = $2 AND status = 'pending' AND next_attempt_ms = $3")
                .bind(now_ms + hold_ms)
                .bind(delivery.id)
                .bind(delivery.next_attempt_ms)
                .execute(self.pool())
                .await?
                .rows_affected();
            if claimed != 1 {
                continue;
            }
            delivery.next_attempt_ms = now_ms + hold_ms;
            let sealed = Sealed {
                key_id: row.try_get("key_id")?,
                bytes: row.try_get("secret_ct")?,
            };
            let secret = String::from_utf8(self.vault().open(&delivery.webhook_id, &sealed)?)
                .map_err(|_| StoreError::Vault("webhook secret is not UTF-8".into()))?;
            due.push(DueDelivery {
                delivery,
                url: row.try_get("url")?,
                secret: SecretString::from(secret),
            });
        }
        Ok(due)
    }

    /// Logs an attempt and moves the delivery (and its webhook's count of failed deliveries) on; a
    /// webhook whose last [`DISABLE_AFTER_FAILED_DELIVERIES`] deliveries all failed for good is
    /// disabled, the last failure kept as the reason.
    pub async fn record_attempt(
        &self,
        delivery: &Delivery,
        at_ms: i64,
        attempt: &Attempt,
        outcome: &AttemptOutcome,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("INSERT INTO webhook_attempts (delivery_id, at_ms, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5)")
            .bind(delivery.id)
            .bind(at_ms)
            .bind(attempt.status_code)
            .bind(&attempt.error)
            .bind(attempt.duration_ms)
            .execute(&mut *tx)
            .await?;
        let (status, next, finished) = match outcome {
            AttemptOutcome::Delivered => ("delivered", delivery.next_attempt_ms, Some(at_ms)),
            AttemptOutcome::Retry(next) => ("pending", *next, None),
            AttemptOutcome::Failed => ("failed", delivery.next_attempt_ms, Some(at_ms)),
        };
        sqlx::query("UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, next_attempt_ms = $2, finished_ms = $3 WHERE id = $4")
            .bind(status)
            .bind(next)
            .bind(finished)
            .bind(delivery.id)
            .execute(&mut *tx)
            .await?;
        if *outcome == AttemptOutcome::Delivered {
            sqlx::query("UPDATE webhooks SET failed_in_a_row = 0 WHERE id = $1")
                .bind(&delivery.webhook_id)
                .execute(&mut *tx)
                .await?;
        } else if *outcome == AttemptOutcome::Failed {
            let what = match (attempt.status_code, &attempt.error) {
                (Some(code), _) => format!("HTTP {code}"),
                (None, Some(error)) => error.clone(),
                (None, None) => "no answer".into(),
            };
            let reason = format!(
                "disabled after {DISABLE_AFTER_FAILED_DELIVERIES} failed deliveries in a row; the last: {what}"
            );
            sqlx::query(
                "UPDATE webhooks SET failed_in_a_row = failed_in_a_row + 1,
                 enabled = CASE WHEN failed_in_a_row + 1 >= $1 THEN 0 ELSE enabled END,
                 disabled_reason = CASE WHEN failed_in_a_row + 1 >= $1 THEN $2 ELSE disabled_reason END
                 WHERE id = $3",
            )
            .bind(DISABLE_AFTER_FAILED_DELIVERIES)
            .bind(reason)
            .bind(&delivery.webhook_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
