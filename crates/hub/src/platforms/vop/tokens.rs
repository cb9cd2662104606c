//! Keeping VOP connections authorized: proactive refresh before expiry, single-flight per
//! connection (one refresh for any number of concurrent callers, re-checked after the lock),
//! the old refresh token kept when a refresh answer omits it, and permanent failures moving the
//! connection to `needs_reauth`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use shopbridge_store::{ConnectionState, Store, StoreError};
use shopbridge_vop::{VopClient, VopError};

/// What a VOP OAuth connection stores in the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VopTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at_ms: i64,
    pub refresh_expires_at_ms: Option<i64>,
    /// JIT connections: the vendor the token acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<i64>,
    /// The platform user who authorized (from the token answer), when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_id: Option<String>,
}

impl VopTokens {
    /// The tokens after a refresh: a refresh token the answer omits is kept, never dropped.
    pub fn refreshed(&self, answer: &shopbridge_vop::oauth::RefreshedToken, now_ms: i64) -> Self {
        Self {
            access_token: answer.access_token.expose_secret().to_owned(),
            refresh_token: answer
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned())
                .filter(|t| !t.is_empty())
                .or_else(|| self.refresh_token.clone()),
            expires_at_ms: answer
                .expires_time
                .unwrap_or(crate::limits::expiry_ms(now_ms, answer.expires_in)),
            refresh_expires_at_ms: answer.refresh_expires_time.or(self.refresh_expires_at_ms),
            vendor_id: self.vendor_id,
            open_id: self.open_id.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("connection {0} must be authorized again ({1})")]
    NeedsReauthorization(String, String),
    #[error("refresh failed: {0}")]
    Refresh(#[from] VopError),
    #[error("connection {0} has unreadable credentials: {1}")]
    Credentials(String, String),
}

/// Hands out live access tokens for connections, refreshing them when needed.
#[derive(Debug, Clone)]
pub struct TokenManager {
    store: Store,
    /// The application's client (no access token): refreshes go through it.
    client: VopClient,
    /// Refresh this long before expiry.
    pub margin_ms: i64,
    /// The IP the refresh reports as the user's.
    pub client_ip: String,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl TokenManager {
    pub fn new(store: Store, client: VopClient) -> Self {
        Self {
            store,
            client,
            margin_ms: 24 * 3_600_000,
            client_ip: "127.0.0.1".into(),
            locks: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn lock_for(&self, connection_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(connection_id.to_owned()).or_default().clone()
    }

    async fn tokens(
        &self,
        connection_id: &str,
    ) -> Result<(ConnectionState, VopTokens), TokenError> {
        let connection = self.store.connection(connection_id).await?;
        let tokens: VopTokens = serde_json::from_str(connection.credentials.expose_secret())
            .map_err(|err| TokenError::Credentials(connection_id.to_owned(), err.to_string()))?;
        if matches!(
            connection.state,
            ConnectionState::NeedsReauth | ConnectionState::Revoked
        ) {
            return Err(TokenError::NeedsReauthorization(
                connection_id.to_owned(),
                connection
                    .last_error
                    .unwrap_or_else(|| connection.state.as_str().to_owned()),
            ));
        }
        Ok((connection.state, tokens))
    }

    /// A live access token for the connection, refreshed first if it expires within the margin.
    pub async fn access_token(&self, connection_id: &str) -> Result<SecretString, TokenError> {
        let now = self.client.clock().now_ms();
        let (_, tokens) = self.tokens(connection_id).await?;
        if tokens.expires_at_ms > now + self.margin_ms {
            return Ok(SecretString::from(tokens.access_token));
        }
        let lock = self.lock_for(connection_id);
        let _single_flight = lock.lock().await;
        // One refresh across processes too: a process that waited here finds the new token.
        let across_processes = self.store.lock_connection(connection_id).await?;
        let result = self.refresh_locked(connection_id).await;
        if let Err(err) = across_processes.release().await {
            tracing::warn!(error = %err, "could not release the refresh lock; its session closes instead");
        }
        result
    }

    async fn refresh_locked(&self, connection_id: &str) -> Result<SecretString, TokenError> {
        // Another caller may have refreshed while this one waited.
        let (state, tokens) = self.tokens(connection_id).await?;
        let now = self.client.clock().now_ms();
        if tokens.expires_at_ms > now + self.margin_ms {
            return Ok(SecretString::from(tokens.access_token));
        }
        let Some(refresh) = tokens.refresh_token.clone() else {
            self.store
                .set_state(
                    connection_id,
                    ConnectionState::NeedsReauth,
                    Some("no refresh token"),
                    now,
                )
                .await?;
            return Err(TokenError::NeedsReauthorization(
                connection_id.to_owned(),
                "no refresh token".into(),
            ));
        };
        if state == ConnectionState::Active {
            self.store
                .set_state(connection_id, ConnectionState::Refreshing, None, now)
                .await?;
        }
        match self
            .client
            .refresh_token(&SecretString::from(refresh), &self.client_ip)
            .await
        {
            Ok(answer) => {
                let next = tokens.refreshed(&answer, now);
                let json = serde_json::to_string(&next).map_err(|err| {
                    TokenError::Credentials(connection_id.to_owned(), err.to_string())
                })?;
                self.store
                    .update_credentials(
                        connection_id,
                        &SecretString::from(json),
                        Some(next.expires_at_ms),
                        next.refresh_expires_at_ms,
                        now,
                    )
                    .await?;
                self.store
                    .set_state(connection_id, ConnectionState::Active, None, now)
                    .await?;
                Ok(SecretString::from(next.access_token))
            }
            Err(err) if err.needs_reauthorization() => {
                self.store
                    .set_state(
                        connection_id,
                        ConnectionState::NeedsReauth,
                        Some(&err.to_string()),
                        now,
                    )
                    .await?;
                Err(TokenError::NeedsReauthorization(
                    connection_id.to_owned(),
                    err.to_string(),
                ))
            }
            Err(err) => {
                // A transient failure: the token is still usable until it expires.
                self.store
                    .set_state(
                        connection_id,
                        ConnectionState::Active,
                        Some(&err.to_string()),
                        now,
                    )
                    .await?;
                Err(TokenError::Refresh(err))
            }
        }
    }
}
