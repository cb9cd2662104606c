//! A tenant's webhooks: sending a finished delivery again.

use shopbridge_store::Redelivery;

use super::HubError;
use crate::state::HubApp;

/// Sends a finished delivery of one of the tenant's webhooks again, with an audit entry.
pub async fn redeliver(
    app: &HubApp,
    tenant_id: &str,
    webhook_id: &str,
    delivery_id: i64,
) -> Result<Redelivery, HubError> {
    let now = app.clock.now_ms();
    let outcome = app
        .store
        .redeliver(tenant_id, webhook_id, delivery_id, now)
        .await?;
    if matches!(outcome, Redelivery::Queued(_)) {
        let _ = app
            .store
            .audit(
                now,
                Some(tenant_id),
                None,
                "webhook_redeliver",
                &format!("webhook {webhook_id} delivery {delivery_id}"),
            )
            .await;
    }
    Ok(outcome)
}
