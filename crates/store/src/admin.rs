//! What an operator does to the store as a whole: list, delete and re-key tenants, delete a shop
//! with its data, and take a consistent backup of a running SQLite store.

use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;

use crate::{Backend, Store, StoreError};

/// A tenant as listed for operators: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSummary {
    pub id: String,
    pub name: String,
    pub app_key: String,
    pub created_ms: i64,
    /// How many shops it has.
    pub shops: i64,
}

/// What deleting a shop removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deleted {
    /// Stored records (orders, refunds, products...) with their versions.
    pub records: u64,
}

/// The tables holding a shop's data, children first; each has a `connection_id` column. (The
/// audit log keeps its rows: it is history.)
pub(crate) const SHOP_TABLES: [&str; 16] = [
    "union_refund_daily",
    "synced_record_hours",
    "union_settled_daily",
    "union_settled_hourly",
    "synced_record_history",
    "synced_records",
    "union_order_history",
    "union_orders",
    "sync_checkpoints",
    "sync_runs",
    "sync_schedule",
    "expiry_warnings",
    "shop_tokens",
    "connect_handoffs",
    "connect_states",
    "connection_events",
];

impl Store {
    /// Every tenant with its number of shops, by name.
    pub async fn tenants(&self) -> Result<Vec<TenantSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, t.app_key, t.created_ms,
                    (SELECT COUNT(*) FROM connections c WHERE c.tenant_id = t.id) AS shops
             FROM tenants t ORDER BY t.name, t.app_key",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TenantSummary {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    app_key: row.try_get("app_key")?,
                    created_ms: row.try_get("created_ms")?,
                    shops: row.try_get("shops")?,
                })
            })
            .collect()
    }

    /// Gives a tenant a new secret, sealed under the current key, and ends its console
    /// sessions: the old secret stops working at once. `false` when no tenant has `app_key`.
    pub async fn rotate_tenant_secret(
        &self,
        app_key: &str,
        secret: &SecretString,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let Some(row) = sqlx::query("SELECT id FROM tenants WHERE app_key = $1")
            .bind(app_key)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(false);
        };
        let id: String = row.try_get("id")?;
        let sealed = self.vault().seal(&id, secret.expose_secret().as_bytes())?;
        sqlx::query("UPDATE tenants SET key_id = $1, secret_ct = $2 WHERE id = $3")
            .bind(&sealed.key_id)
            .bind(sealed.bytes)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM console_sessions WHERE tenant_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO audit_log (at_ms, tenant_id, connection_id, action, detail) VALUES ($1, $2, NULL, 'tenant_rotate_secret', $3)")
            .bind(now_ms)
            .bind(&id)
            .bind(app_key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes a shop and everything stored for it, in one transaction, with an audit entry
    /// (the audit log and the quota's call log keep their rows: they are history).
    pub async fn delete_connection(
        &self,
        connection_id: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<Deleted, StoreError> {
        let mut tx = self.pool().begin().await?;
        // Not while one of its pages is being written (the same order of locks as a page's).
        crate::kept::lock_shop_pages(self, &mut tx, connection_id).await?;
        // The row is locked on PostgreSQL until the shop is gone: a re-authorization cannot bring
        // it back to life between this check and the deletion. (SQLite has one writer.)
        let lock = match self.backend() {
            crate::Backend::Postgres => " FOR UPDATE",
            crate::Backend::Sqlite => "",
        };
        let Some(row) = sqlx::query(&format!(
            "SELECT tenant_id, platform, mode, name, state FROM connections WHERE id = $1{lock}"
        ))
        .bind(connection_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Err(StoreError::NotFound(format!("no shop {connection_id}")));
        };
        let tenant_id: String = row.try_get("tenant_id")?;
        let state: String = row.try_get("state")?;
        // A shop still authorized is revoked first, at the platform too: deleting only the
        // hub's copy would leave a live grant nobody sees.
        if matches!(state.as_str(), "active" | "refreshing") {
            return Err(StoreError::Conflict(format!(
                "shop {connection_id} is {state}: revoke it first"
            )));
        }
        let what = format!(
            "{} {}/{} {:?} by {actor}",
            connection_id,
            row.try_get::<String, _>("platform")?,
            row.try_get::<String, _>("mode")?,
            row.try_get::<String, _>("name")?
        );
        let mut deleted = Deleted::default();
        for table in SHOP_TABLES {
            let done = sqlx::query(&format!("DELETE FROM {table} WHERE connection_id = $1"))
                .bind(connection_id)
                .execute(&mut *tx)
                .await?;
            if matches!(table, "synced_records" | "union_orders") {
                deleted.records += done.rows_affected();
            }
        }
        sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(connection_id)
            .execute(&mut *tx)
            .await?;
        // What was queued about the shop is no longer sent: it would announce data the tenant
        // has just deleted. The deliveries stay in the log, cancelled.
        crate::webhooks::cancel_pending_of_shop(&mut tx, self.backend(), connection_id, now_ms)
            .await?;
        sqlx::query("INSERT INTO audit_log (at_ms, tenant_id, connection_id, action, detail) VALUES ($1, $2, $3, 'shop_delete', $4)")
            .bind(now_ms)
            .bind(&tenant_id)
            .bind(connection_id)
            .bind(format!("{what}: {} records", deleted.records))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Deletes a tenant that has no shops left, with its webhooks, sessions and pending
    /// authorizations. `false` when no tenant has `app_key`.
    pub async fn delete_tenant(&self, app_key: &str, now_ms: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let Some(row) = sqlx::query("SELECT id, name FROM tenants WHERE app_key = $1")
            .bind(app_key)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(false);
        };
        let id: String = row.try_get("id")?;
        let name: String = row.try_get("name")?;
        let shops: i64 = sqlx::query("SELECT COUNT(*) AS n FROM connections WHERE tenant_id = $1")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if shops > 0 {
            return Err(StoreError::Invalid(format!(
                "tenant {app_key:?} still has {shops} shop(s): delete them first"
            )));
        }
        for sql in [
            "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.tenant_id = $1)",
            "DELETE FROM webhook_deliveries WHERE webhook_id IN (SELECT id FROM webhooks WHERE tenant_id = $1)",
            "DELETE FROM webhooks WHERE tenant_id = $1",
            "DELETE FROM console_sessions WHERE tenant_id = $1",
            "DELETE FROM signed_requests WHERE tenant_id = $1",
            "DELETE FROM connect_states WHERE tenant_id = $1",
            "DELETE FROM connect_handoffs WHERE tenant_id = $1",
            "DELETE FROM shop_tokens WHERE tenant_id = $1",
            "DELETE FROM tenants WHERE id = $1",
        ] {
            sqlx::query(sql).bind(&id).execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO audit_log (at_ms, tenant_id, connection_id, action, detail) VALUES ($1, $2, NULL, 'tenant_delete', $3)")
            .bind(now_ms)
            .bind(&id)
            .bind(format!("{app_key} {name:?}"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every stream's stored-until time: `(shop, stream, until_ms)`.
    pub async fn sync_watermarks(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT connection_id, stream, cursor_ms FROM sync_checkpoints")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("connection_id")?,
                    row.try_get("stream")?,
                    row.try_get("cursor_ms")?,
                ))
            })
            .collect()
    }

    /// Webhook deliveries waiting to be sent or retried.
    pub async fn webhook_backlog(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'")
                .fetch_one(self.reader())
                .await?
                .try_get("n")?,
        )
    }

    /// Writes a consistent copy of a SQLite store to `path` (which must not exist), while the
    /// hub keeps running: `VACUUM INTO` reads one snapshot on a reading connection, so syncs and
    /// requests go on writing. The copy holds the vault's sealed secrets; the master key that
    /// opens them is not in it. A PostgreSQL store is backed up with `pg_dump` (README).
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Invalid(
                "backup: a PostgreSQL store is backed up with pg_dump (see README, \"Backup and restore\")".into(),
            ));
        }
        let target = path.to_str().ok_or_else(|| {
            StoreError::Invalid(format!("backup: {} is not UTF-8", path.display()))
        })?;
        // An empty file readable by its owner only: VACUUM INTO fills an empty file as it is.
        crate::create_private_file(path)?;
        // Reading connections are query-only; this one is allowed to write the copy, and is
        // then closed rather than returned to the pool, whatever happens.
        let copied = async {
            let mut conn = self.reader().acquire().await?.detach();
            let result = async {
                sqlx::query("PRAGMA query_only = OFF")
                    .execute(&mut conn)
                    .await?;
                sqlx::query("VACUUM INTO $1")
                    .bind(target)
                    .execute(&mut conn)
                    .await
            }
            .await;
            let _ = sqlx::Connection::close(conn).await;
            result
        }
        .await;
        if let Err(err) = copied {
            let _ = std::fs::remove_file(path);
            return Err(err.into());
        }
        Ok(())
    }
}
