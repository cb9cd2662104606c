//! A tenant's shops: listing, connecting (through the platform's page or with credentials the
//! shop has), re-authorizing, revoking and deleting; each change is audited.

use shopbridge_store::{Connection, ConnectionState, ConnectionSummary, Deleted};

use super::{HubError, own_shop};
use crate::connect::{BeginConnect, Existing};
use crate::state::HubApp;

/// The tenant's shops without their credentials, by id: one query, nothing opened.
pub async fn list(app: &HubApp, tenant: &str) -> Result<Vec<ConnectionSummary>, HubError> {
    Ok(app.store.tenant_connections(tenant).await?)
}

/// Starts connecting a shop through its platform's authorization page; answers the page's URL.
pub async fn begin_connect(app: &HubApp, request: BeginConnect) -> Result<String, HubError> {
    Ok(crate::connect::begin(app, request).await?)
}

/// Connects a shop with credentials it already has, checked with the platform first; answers
/// the stored shop.
pub async fn connect_existing(
    app: &HubApp,
    tenant: &str,
    platform: &str,
    existing: Existing,
    via: &str,
) -> Result<Connection, HubError> {
    let id = crate::connect::connect_existing(app, tenant, platform, existing, via).await?;
    Ok(app.store.connection(&id).await?)
}

/// Starts a new authorization of one of the tenant's shops; answers the platform page's URL.
/// On return the same shop, its data and shop tokens kept, is active again.
pub async fn reauthorize(
    app: &HubApp,
    tenant: &str,
    id: &str,
    return_to: Option<String>,
) -> Result<String, HubError> {
    // A revoked shop too: its grant ended, and a new one for the same account brings it back
    // with its id, data and polyapi token.
    let shop = own_shop(app, tenant, id).await?;
    let adapter = app.platforms.of(shop.kind)?;
    if !adapter.has_authorization_flow(shop.kind) {
        return Err(HubError::Conflict(format!(
            "shop: a {} connection has no authorization flow to repeat (it was connected with the app's own credentials)",
            shop.kind
        )));
    }
    // The account the connection already acts for: a JIT shop's vendor, a Winit seller.
    let (seller, vendor_id) = adapter.reauthorize_request(&shop);
    let request = BeginConnect {
        tenant_id: tenant.to_owned(),
        platform: shop.kind.platform().as_str().to_owned(),
        mode: Some(shop.kind.mode().to_owned()),
        name: shop.name.clone(),
        seller,
        vendor_id,
        native: false,
        return_to,
        reauthorize: Some(shop.id.clone()),
    };
    begin_connect(app, request).await
}

/// Ends one of the tenant's shops' grant: at the platform where it has one (a refusal there is
/// logged, the shop is revoked here all the same), then in the store with `reason` as its last
/// error and an audit entry by `actor`. A shop already revoked is a conflict. Answers the shop
/// as it is now.
pub async fn revoke(
    app: &HubApp,
    tenant: &str,
    id: &str,
    actor: &str,
    reason: &str,
) -> Result<Connection, HubError> {
    let shop = own_shop(app, tenant, id).await?;
    if shop.state == ConnectionState::Revoked {
        return Err(HubError::Conflict(format!(
            "shop: {} is already revoked",
            shop.name
        )));
    }
    revoke_grant(app, &shop, reason, actor).await?;
    Ok(app.store.connection(id).await?)
}

/// Revokes a shop the caller has already checked, at the platform then in the store.
pub(crate) async fn revoke_grant(
    app: &HubApp,
    shop: &Connection,
    reason: &str,
    actor: &str,
) -> Result<(), HubError> {
    if let Err(err) = app.platforms.revoke_grant(shop).await {
        tracing::warn!(shop = %shop.id, error = %err, "the platform did not confirm the revocation");
    }
    let now = app.clock.now_ms();
    // The state and the cancelling of every re-authorization begun before, in one step.
    app.store.revoke(&shop.id, reason, now).await?;
    let _ = app
        .store
        .audit(now, Some(&shop.tenant_id), Some(&shop.id), "revoke", actor)
        .await;
    Ok(())
}

/// Deletes one of the tenant's shops that is no longer authorized, with all its data; the
/// store refuses a shop still active (it is revoked first), for every front end alike.
pub async fn delete(
    app: &HubApp,
    tenant: &str,
    id: &str,
    actor: &str,
) -> Result<Deleted, HubError> {
    own_shop(app, tenant, id).await?;
    let deleted = app
        .store
        .delete_connection(id, actor, app.clock.now_ms())
        .await?;
    tracing::info!(shop = %id, records = deleted.records, actor, "shop deleted");
    Ok(deleted)
}
