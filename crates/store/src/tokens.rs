//! Shop tokens of the unified API and the one-time codes that hand a new shop to an ERP: random
//! values shown once, stored only as their SHA-256, always looked up together with the tenant
//! so that one tenant's token can never name another tenant's shop.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Store, StoreError};

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

impl Store {
    /// A new token for a tenant's shop; the only time the value is seen.
    pub async fn issue_shop_token(
        &self,
        tenant_id: &str,
        connection_id: &str,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let owner = self.connection(connection_id).await?.tenant_id;
        if owner != tenant_id {
            return Err(StoreError::NotFound(format!(
                "no connection {connection_id} for this tenant"
            )));
        }
        let token = random_hex();
        sqlx::query("INSERT INTO shop_tokens (token_hash, tenant_id, connection_id, created_ms) VALUES ($1, $2, $3, $4)")
            .bind(digest(&token))
            .bind(tenant_id)
            .bind(connection_id)
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(token)
    }

    /// The connection a tenant's token names, if the token is the tenant's.
    pub async fn shop_for_token(
        &self,
        tenant_id: &str,
        token: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT connection_id FROM shop_tokens WHERE token_hash = $1 AND tenant_id = $2",
        )
        .bind(digest(token))
        .bind(tenant_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|row| row.try_get("connection_id")).transpose()?)
    }

    /// A one-time code for a just-connected shop, good until `expires_ms`.
    pub async fn create_handoff(
        &self,
        tenant_id: &str,
        connection_id: &str,
        expires_ms: i64,
    ) -> Result<String, StoreError> {
        let code = random_hex();
        sqlx::query("INSERT INTO connect_handoffs (code_hash, tenant_id, connection_id, expires_ms) VALUES ($1, $2, $3, $4)")
            .bind(digest(&code))
            .bind(tenant_id)
            .bind(connection_id)
            .bind(expires_ms)
            .execute(self.pool())
            .await?;
        Ok(code)
    }

    /// Redeems a handoff code once: the connection it names, if it is the tenant's and unexpired.
    pub async fn take_handoff(
        &self,
        tenant_id: &str,
        code: &str,
        now_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM connect_handoffs WHERE code_hash = $1 AND tenant_id = $2 RETURNING connection_id, expires_ms",
        )
        .bind(digest(code))
        .bind(tenant_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires: i64 = row.try_get("expires_ms")?;
        if expires <= now_ms {
            return Ok(None);
        }
        Ok(Some(row.try_get("connection_id")?))
    }
}

/// A signed-in console session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub tenant_id: String,
    /// The token forms must echo (the cookie alone does not authorize a change).
    pub csrf: String,
    pub expires_ms: i64,
}

impl Store {
    /// Opens a console session for a tenant; answers the cookie value, shown once.
    pub async fn create_console_session(
        &self,
        tenant_id: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<String, StoreError> {
        let token = format!("{}{}", random_hex(), random_hex());
        sqlx::query("INSERT INTO console_sessions (token_hash, tenant_id, csrf, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)")
            .bind(digest(&token))
            .bind(tenant_id)
            .bind(random_hex())
            .bind(now_ms)
            .bind(now_ms + ttl_ms)
            .execute(self.pool())
            .await?;
        Ok(token)
    }

    /// The live session a cookie value names.
    pub async fn console_session(
        &self,
        token: &str,
        now_ms: i64,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let row = sqlx::query("SELECT tenant_id, csrf, expires_ms FROM console_sessions WHERE token_hash = $1 AND expires_ms > $2")
            .bind(digest(token))
            .bind(now_ms)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| {
            Ok(ConsoleSession {
                tenant_id: row.try_get("tenant_id")?,
                csrf: row.try_get("csrf")?,
                expires_ms: row.try_get("expires_ms")?,
            })
        })
        .transpose()
    }

    /// Ends a session.
    pub async fn end_console_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(digest(token))
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
