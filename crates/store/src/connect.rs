//! OAuth `state` values of connections being made: bound to a tenant and a shop, single use,
//! expiring — the CSRF guard of the connect flow.

use shopbridge_core::{Platform, ShopKind};
use sqlx::Row;

use crate::{Store, StoreError};

/// What a `state` was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectState {
    pub tenant_id: String,
    pub kind: ShopKind,
    pub name: String,
    /// The account the grant is for: Winit's seller, or a VOP JIT shop's vendor id.
    pub seller: Option<String>,
    pub redirect_uri: String,
    /// Where to send the person once connected (an ERP's callback URL), if not the hub's page.
    pub return_to: Option<String>,
    /// The connection this flow re-authorizes, when it is not a new one.
    pub reauthorize: Option<String>,
}

impl Store {
    pub async fn create_connect_state(
        &self,
        state: &str,
        issued: &ConnectState,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        // A re-authorization's flow is recorded under its connection's row lock: a revocation
        // (which removes the connection's flows in its own transaction) lands wholly before it,
        // and removes it, or wholly after.
        if let Some(id) = &issued.reauthorize {
            sqlx::query("UPDATE connections SET updated_ms = updated_ms WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO connect_states (state, tenant_id, platform, mode, name, seller, redirect_uri, expires_ms, used, return_to, connection_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
        )
        .bind(state)
        .bind(&issued.tenant_id)
        .bind(issued.kind.platform().as_str())
        .bind(issued.kind.mode())
        .bind(&issued.name)
        .bind(&issued.seller)
        .bind(&issued.redirect_uri)
        .bind(expires_ms)
        .bind(&issued.return_to)
        .bind(&issued.reauthorize)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Consumes a `state` for `platform`: it must exist for that platform, be unused and
    /// unexpired. It is marked used even when the expiry check fails afterwards, so a state
    /// never works twice; a state sent to another platform's callback is left alone.
    pub async fn take_connect_state(
        &self,
        state: &str,
        platform: Platform,
        now_ms: i64,
    ) -> Result<ConnectState, StoreError> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query("SELECT tenant_id, platform, mode, name, seller, redirect_uri, expires_ms, used, return_to, connection_id FROM connect_states WHERE state = $1 AND platform = $2")
            .bind(state)
            .bind(platform.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "state: unknown (not issued by this hub for {platform})"
                ))
            })?;
        let used: i64 = row.try_get("used")?;
        let claimed = sqlx::query(
            "UPDATE connect_states SET used = 1 WHERE state = $1 AND platform = $2 AND used = 0",
        )
        .bind(state)
        .bind(platform.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if used != 0 || claimed == 0 {
            return Err(StoreError::Invalid("state: already used".into()));
        }
        let expires: i64 = row.try_get("expires_ms")?;
        if expires <= now_ms {
            return Err(StoreError::Invalid("state: expired (connect again)".into()));
        }
        let issued_for: String = row.try_get("platform")?;
        if issued_for != platform.as_str() {
            return Err(StoreError::Invalid(format!(
                "state: issued for {issued_for}, not {platform}"
            )));
        }
        Ok(ConnectState {
            tenant_id: row.try_get("tenant_id")?,
            kind: ShopKind::from_stored(&issued_for, &row.try_get::<String, _>("mode")?)
                .map_err(|err| StoreError::Invalid(format!("state: {err}")))?,
            name: row.try_get("name")?,
            seller: row.try_get("seller")?,
            redirect_uri: row.try_get("redirect_uri")?,
            return_to: row.try_get("return_to")?,
            reauthorize: row.try_get("connection_id")?,
        })
    }
}
