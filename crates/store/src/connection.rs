//! Tenants and connections (shops): credentials sealed in the vault, and the connection state
//! machine `pending -> active -> refreshing -> needs_reauth -> revoked` with an event per change.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use shopbridge_core::ShopKind;
use sqlx::Row;

use crate::{Sealed, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Pending,
    Active,
    Refreshing,
    NeedsReauth,
    Revoked,
}

impl ConnectionState {
    /// Every state, for pages that name each.
    pub const ALL: [ConnectionState; 5] = [
        ConnectionState::Pending,
        ConnectionState::Active,
        ConnectionState::Refreshing,
        ConnectionState::NeedsReauth,
        ConnectionState::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Pending => "pending",
            ConnectionState::Active => "active",
            ConnectionState::Refreshing => "refreshing",
            ConnectionState::NeedsReauth => "needs_reauth",
            ConnectionState::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Active,
            Self::Refreshing,
            Self::NeedsReauth,
            Self::Revoked,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// The transitions the lifecycle allows; revoked is final here (only [`Store::reinstate`],
    /// for a re-authorization begun after the revocation, brings a connection back).
    pub fn can_become(self, next: ConnectionState) -> bool {
        use ConnectionState::*;
        match (self, next) {
            (Revoked, _) => false,
            (_, Revoked) => true,
            (Pending, Active) | (Pending, NeedsReauth) => true,
            (Active, Refreshing) | (Active, NeedsReauth) => true,
            (Refreshing, Active) | (Refreshing, NeedsReauth) => true,
            (NeedsReauth, Active) => true,
            _ => false,
        }
    }
}

/// A connection to create.
#[derive(Debug)]
pub struct NewConnection<'a> {
    pub tenant_id: &'a str,
    pub kind: ShopKind,
    pub name: &'a str,
    /// JSON with the platform's credentials (tokens, app key...), sealed before storing.
    pub credentials: &'a SecretString,
    pub access_expires_ms: Option<i64>,
    pub refresh_expires_ms: Option<i64>,
}

/// A connection as stored, with its credentials opened.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: String,
    pub tenant_id: String,
    pub kind: ShopKind,
    pub name: String,
    pub state: ConnectionState,
    pub last_error: Option<String>,
    pub credentials: SecretString,
    pub access_expires_ms: Option<i64>,
    pub refresh_expires_ms: Option<i64>,
}

impl Connection {
    /// The connection as listed, without its credentials.
    pub fn summary(&self) -> ConnectionSummary {
        ConnectionSummary {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            kind: self.kind,
            name: self.name.clone(),
            state: self.state,
            last_error: self.last_error.clone(),
            access_expires_ms: self.access_expires_ms,
            refresh_expires_ms: self.refresh_expires_ms,
        }
    }
}

/// A connection as listed: everything but its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSummary {
    pub id: String,
    pub tenant_id: String,
    pub kind: ShopKind,
    pub name: String,
    pub state: ConnectionState,
    pub last_error: Option<String>,
    pub access_expires_ms: Option<i64>,
    pub refresh_expires_ms: Option<i64>,
}

/// How many times a revocation reads the state again when another change landed first.
const REVOKE_ATTEMPTS: usize = 5;

impl Store {
    /// Creates a tenant (an ERP or affiliate app calling the hub); its secret is sealed.
    pub async fn create_tenant(
        &self,
        name: &str,
        app_key: &str,
        secret: &SecretString,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = self.vault().seal(&id, secret.expose_secret().as_bytes())?;
        sqlx::query("INSERT INTO tenants (id, name, app_key, key_id, secret_ct, created_ms) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(name)
            .bind(app_key)
            .bind(&sealed.key_id)
            .bind(sealed.bytes)
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(id)
    }

    /// A tenant's id and secret by its app key.
    pub async fn tenant_by_app_key(
        &self,
        app_key: &str,
    ) -> Result<Option<(String, SecretString)>, StoreError> {
        let row = sqlx::query("SELECT id, key_id, secret_ct FROM tenants WHERE app_key = $1")
            .bind(app_key)
            .fetch_optional(self.reader())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get("id")?;
        let sealed = Sealed {
            key_id: row.try_get("key_id")?,
            bytes: row.try_get("secret_ct")?,
        };
        let secret = String::from_utf8(self.vault().open(&id, &sealed)?)
            .map_err(|_| StoreError::Vault("secret is not UTF-8".into()))?;
        Ok(Some((id, SecretString::from(secret))))
    }

    pub async fn create_connection(
        &self,
        new: &NewConnection<'_>,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = self
            .vault()
            .seal(&id, new.credentials.expose_secret().as_bytes())?;
        sqlx::query(
            "INSERT INTO connections (id, tenant_id, platform, mode, name, state, key_id, credentials_ct, access_expires_ms, refresh_expires_ms, created_ms, updated_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&id)
        .bind(new.tenant_id)
        .bind(new.kind.platform().as_str())
        .bind(new.kind.mode())
        .bind(new.name)
        .bind(ConnectionState::Active.as_str())
        .bind(&sealed.key_id)
        .bind(sealed.bytes)
        .bind(new.access_expires_ms)
        .bind(new.refresh_expires_ms)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        self.record_event(
            &id,
            ConnectionState::Pending,
            ConnectionState::Active,
            Some("connected"),
            now_ms,
        )
        .await?;
        Ok(id)
    }

    /// Re-encrypts every tenant secret, connection credential and webhook secret with the vault's current key
    /// (the old key must still be in the vault). Returns how many secrets were re-sealed.
    pub async fn rotate_keys(&self) -> Result<usize, StoreError> {
        let current = self.vault().current_key_id().to_owned();
        let mut count = 0;
        let mut tx = self.pool().begin().await?;
        for (table, column) in [
            ("tenants", "secret_ct"),
            ("connections", "credentials_ct"),
            ("webhooks", "secret_ct"),
        ] {
            let rows = sqlx::query(&format!(
                "SELECT id, key_id, {column} AS ct FROM {table} WHERE key_id <> $1"
            ))
            .bind(&current)
            .fetch_all(&mut *tx)
            .await?;
            for row in rows {
                let id: String = row.try_get("id")?;
                let sealed = Sealed {
                    key_id: row.try_get("key_id")?,
                    bytes: row.try_get("ct")?,
                };
                let plain = self.vault().open(&id, &sealed)?;
                let resealed = self.vault().seal(&id, &plain)?;
                sqlx::query(&format!(
                    "UPDATE {table} SET key_id = $1, {column} = $2 WHERE id = $3"
                ))
                .bind(&resealed.key_id)
                .bind(resealed.bytes)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                count += 1;
            }
        }
        tx.commit().await?;
        Ok(count)
    }

    /// The id of a tenant's connection by name, if there is one.
    pub async fn connection_id_by_name(
        &self,
        tenant_id: &str,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT id FROM connections WHERE tenant_id = $1 AND name = $2")
            .bind(tenant_id)
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|row| row.try_get("id")).transpose()?)
    }

    /// Every connection without its credentials, by id.
    pub async fn connection_summaries(&self) -> Result<Vec<ConnectionSummary>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM connections ORDER BY id"
        ))
        .fetch_all(self.reader())
        .await?;
        known(&rows)
    }

    /// One tenant's connections without their credentials, by id.
    pub async fn tenant_connections(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<ConnectionSummary>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM connections WHERE tenant_id = $1 ORDER BY id"
        ))
        .bind(tenant_id)
        .fetch_all(self.reader())
        .await?;
        known(&rows)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").fetch_one(self.reader()).await?;
        Ok(())
    }

    pub async fn connection(&self, id: &str) -> Result<Connection, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant_id, platform, mode, name, state, last_error, key_id, credentials_ct, access_expires_ms, refresh_expires_ms
             FROM connections WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no connection {id}")))?;
        let state: String = row.try_get("state")?;
        let sealed = Sealed {
            key_id: row.try_get("key_id")?,
            bytes: row.try_get("credentials_ct")?,
        };
        let credentials = String::from_utf8(self.vault().open(id, &sealed)?)
            .map_err(|_| StoreError::Vault("credentials are not UTF-8".into()))?;
        Ok(Connection {
            id: row.try_get("id")?,
            tenant_id: row.try_get("tenant_id")?,
            kind: stored_kind(&row)?,
            name: row.try_get("name")?,
            state: ConnectionState::parse(&state)
                .ok_or_else(|| StoreError::Invalid(format!("unknown state {state:?}")))?,
            last_error: row.try_get("last_error")?,
            credentials: SecretString::from(credentials),
            access_expires_ms: row.try_get("access_expires_ms")?,
            refresh_expires_ms: row.try_get("refresh_expires_ms")?,
        })
    }

    async fn record_event(
        &self,
        id: &str,
        from: ConnectionState,
        to: ConnectionState,
        detail: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO connection_events (connection_id, at_ms, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(now_ms)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(detail)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Replaces a connection's credentials (after a refresh), sealed again with the current key.
    pub async fn update_credentials(
        &self,
        id: &str,
        credentials: &SecretString,
        access_expires_ms: Option<i64>,
        refresh_expires_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let sealed = self
            .vault()
            .seal(id, credentials.expose_secret().as_bytes())?;
        // Never onto a revoked shop: a revocation that lands while new credentials are on their
        // way stands.
        let updated = sqlx::query(
            "UPDATE connections SET key_id = $1, credentials_ct = $2, access_expires_ms = $3, refresh_expires_ms = $4, updated_ms = $5
             WHERE id = $6 AND state <> 'revoked'",
        )
        .bind(&sealed.key_id)
        .bind(sealed.bytes)
        .bind(access_expires_ms)
        .bind(refresh_expires_ms)
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?;
        if updated.rows_affected() == 0 {
            return match self.connection(id).await {
                Ok(_) => Err(StoreError::Conflict(format!(
                    "connection {id} was revoked meanwhile; re-authorize it to bring it back"
                ))),
                Err(err) => Err(err),
            };
        }
        Ok(())
    }

    /// Makes a revoked connection active again with the credentials of a new grant (a person
    /// authorized the same platform account again), for the flow whose `state` began after the
    /// revocation: credentials, state, an event and the flow's state row, in one transaction.
    /// A revocation removes its shop's flow rows in its own transaction, so a flow begun before
    /// it, or one whose code exchange was still running when it landed, finds its row gone and
    /// is refused (a conflict); so is a connection that is not revoked.
    pub async fn reinstate(
        &self,
        id: &str,
        state: &str,
        credentials: &SecretString,
        access_expires_ms: Option<i64>,
        refresh_expires_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let sealed = self
            .vault()
            .seal(id, credentials.expose_secret().as_bytes())?;
        let mut tx = self.pool().begin().await?;
        // The connection first, as a revocation does: the same lock order on PostgreSQL.
        let updated = sqlx::query(
            "UPDATE connections SET key_id = $1, credentials_ct = $2, access_expires_ms = $3, refresh_expires_ms = $4,
             state = 'active', last_error = NULL, updated_ms = $5 WHERE id = $6 AND state = 'revoked'",
        )
        .bind(&sealed.key_id)
        .bind(sealed.bytes)
        .bind(access_expires_ms)
        .bind(refresh_expires_ms)
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let flow =
            sqlx::query("DELETE FROM connect_states WHERE state = $1 AND connection_id = $2")
                .bind(state)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if updated.rows_affected() == 0 || flow.rows_affected() == 0 {
            tx.rollback().await?;
            let message = if updated.rows_affected() == 0 {
                format!("connection {id} is not revoked (another authorization brought it back)")
            } else {
                format!(
                    "connection {id} was revoked after this authorization began; re-authorize it again"
                )
            };
            return Err(StoreError::Conflict(message));
        }
        sqlx::query("INSERT INTO connection_events (connection_id, at_ms, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(now_ms)
            .bind(ConnectionState::Revoked.as_str())
            .bind(ConnectionState::Active.as_str())
            .bind("authorized again")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes a connection with `reason` as its last error: the state, its event and the
    /// removal of every re-authorization flow begun for it, in one transaction, so that no
    /// flow begun before can bring it back. A connection already revoked is a conflict.
    pub async fn revoke(&self, id: &str, reason: &str, now_ms: i64) -> Result<(), StoreError> {
        // A compare-and-set on the state read, so that the event says the state it really left:
        // a change landing between the read and the update sends the revocation round again.
        for _ in 0..REVOKE_ATTEMPTS {
            let current = self.connection(id).await?.state;
            if current == ConnectionState::Revoked {
                return Err(StoreError::Conflict(format!(
                    "connection {id} is already revoked"
                )));
            }
            let mut tx = self.pool().begin().await?;
            let updated = sqlx::query(
                "UPDATE connections SET state = 'revoked', last_error = $1, updated_ms = $2 WHERE id = $3 AND state = $4",
            )
            .bind(reason)
            .bind(now_ms)
            .bind(id)
            .bind(current.as_str())
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                tx.rollback().await?;
                continue;
            }
            sqlx::query("INSERT INTO connection_events (connection_id, at_ms, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(now_ms)
                .bind(current.as_str())
                .bind(ConnectionState::Revoked.as_str())
                .bind(reason)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM connect_states WHERE connection_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(());
        }
        Err(StoreError::Conflict(format!(
            "connection {id} kept changing state while it was being revoked; try again"
        )))
    }

    /// Moves a connection to `next`, keeping `error` as its last error, with an event. The change,
    /// its history row and the `connection.needs_reauth` webhook it raises are one transaction,
    /// so a crash cannot keep the change and lose the announcement.
    pub async fn set_state(
        &self,
        id: &str,
        next: ConnectionState,
        error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let connection = self.connection(id).await?;
        let current = connection.state;
        if current == next {
            return Ok(());
        }
        if !current.can_become(next) {
            return Err(StoreError::Invalid(format!(
                "connection {id}: {} cannot become {}",
                current.as_str(),
                next.as_str()
            )));
        }
        let mut tx = self.pool().begin().await?;
        // Only from the state just read: a change that landed in between (a revocation above
        // all) is not overwritten.
        let moved = sqlx::query(
            "UPDATE connections SET state = $1, last_error = $2, updated_ms = $3 WHERE id = $4 AND state = $5",
        )
        .bind(next.as_str())
        .bind(error)
        .bind(now_ms)
        .bind(id)
        .bind(current.as_str())
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!(
                "connection {id} changed from {} while it was being moved to {}",
                current.as_str(),
                next.as_str()
            )));
        }
        sqlx::query("INSERT INTO connection_events (connection_id, at_ms, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(now_ms)
            .bind(current.as_str())
            .bind(next.as_str())
            .bind(error)
            .execute(&mut *tx)
            .await?;
        if next == ConnectionState::NeedsReauth {
            let data = serde_json::json!({
                "connection_id": id,
                "name": connection.name,
                "platform": connection.kind.platform().as_str(),
                "reason": error,
            });
            self.enqueue_in(
                &mut tx,
                &connection.tenant_id,
                "connection.needs_reauth",
                data,
                now_ms,
            )
            .await?;
        }
        tx.commit().await?;
        // The platform's error text never holds a credential (the connectors strip tokens).
        tracing::info!(
            connection = %id,
            from = current.as_str(),
            to = next.as_str(),
            reason = error.unwrap_or(""),
            "connection state changed"
        );
        Ok(())
    }

    /// The state changes of a connection, oldest first: `(from, to, detail)`.
    pub async fn connection_events(
        &self,
        id: &str,
    ) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        let rows = sqlx::query("SELECT from_state, to_state, detail FROM connection_events WHERE connection_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("from_state")?,
                    row.try_get("to_state")?,
                    row.try_get("detail")?,
                ))
            })
            .collect()
    }
}

const SUMMARY_COLUMNS: &str =
    "id, tenant_id, platform, mode, name, state, last_error, access_expires_ms, refresh_expires_ms";

/// The listed connections of a kind this version knows: a row another version wrote (a newer
/// platform) is left out with a warning, not allowed to stop every tenant's listing.
fn known(rows: &[sqlx::any::AnyRow]) -> Result<Vec<ConnectionSummary>, StoreError> {
    let mut listed = Vec::with_capacity(rows.len());
    for row in rows {
        match summary(row) {
            Ok(connection) => listed.push(connection),
            Err(StoreError::Invalid(reason)) => {
                let id: String = row.try_get("id").unwrap_or_default();
                tracing::warn!(connection = %id, %reason, "a connection of an unknown kind is left out");
            }
            Err(err) => return Err(err),
        }
    }
    Ok(listed)
}

/// The kind of shop a row's `platform` and `mode` name.
fn stored_kind(row: &sqlx::any::AnyRow) -> Result<ShopKind, StoreError> {
    let platform: String = row.try_get("platform")?;
    let mode: String = row.try_get("mode")?;
    ShopKind::from_stored(&platform, &mode).map_err(|err| StoreError::Invalid(err.to_string()))
}

fn summary(row: &sqlx::any::AnyRow) -> Result<ConnectionSummary, StoreError> {
    let state: String = row.try_get("state")?;
    Ok(ConnectionSummary {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        kind: stored_kind(row)?,
        name: row.try_get("name")?,
        state: ConnectionState::parse(&state)
            .ok_or_else(|| StoreError::Invalid(format!("unknown state {state:?}")))?,
        last_error: row.try_get("last_error")?,
        access_expires_ms: row.try_get("access_expires_ms")?,
        refresh_expires_ms: row.try_get("refresh_expires_ms")?,
    })
}

#[cfg(test)]
mod tests {
    use super::ConnectionState::*;

    #[test]
    fn lifecycle_transitions() {
        assert!(
            Pending.can_become(Active)
                && Active.can_become(Refreshing)
                && Refreshing.can_become(Active)
        );
        assert!(
            Refreshing.can_become(NeedsReauth)
                && NeedsReauth.can_become(Active)
                && Active.can_become(Revoked)
        );
        assert!(!Revoked.can_become(Active) && !Pending.can_become(Refreshing));
    }
}

/// Exclusive hold on a connection across hub processes while its token is refreshed.
///
/// On PostgreSQL a session advisory lock keyed by the connection id, on its own database
/// connection, closed when the guard goes: if the process dies mid-refresh the server releases
/// the lock with the session. (A `FOR UPDATE` row lock would block the credential update the
/// refresh itself makes through the pool.) SQLite serves one process: nothing to lock.
#[derive(Debug)]
pub struct ConnectionLock {
    held: Option<(sqlx::pool::PoolConnection<sqlx::Any>, String)>,
}

impl ConnectionLock {
    /// Lets the next process in; dropping the guard does the same by closing its session.
    pub async fn release(mut self) -> Result<(), StoreError> {
        if let Some((mut conn, id)) = self.held.take() {
            sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

impl Store {
    /// Waits until no other process holds the connection's refresh lock, then holds it.
    pub async fn lock_connection(&self, id: &str) -> Result<ConnectionLock, StoreError> {
        if self.backend() == crate::Backend::Sqlite {
            return Ok(ConnectionLock { held: None });
        }
        let mut conn = self.pool().acquire().await?;
        conn.close_on_drop();
        sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(ConnectionLock {
            held: Some((conn, id.to_owned())),
        })
    }
}
