//! Sync schedules and leases: when each (connection, stream) runs next, and which hub process
//! holds it while it runs. Claims take a due, unleased row in one statement (with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL), so several processes never run the same stream at once.

use sqlx::Row;

use crate::page_sql::PageSql;
use crate::{Backend, Store, StoreError};

/// The streams held under a lease, with their holders: read through the partial index of
/// leased streams (migration 0024), so the cost is the leases held, not the schedule's size.
const LEASES: &str =
    "SELECT connection_id, stream, lease_owner, lease_until_ms, lease_token FROM sync_schedule
     WHERE lease_owner IS NOT NULL AND lease_until_ms IS NOT NULL AND lease_token IS NOT NULL";

/// A stream's schedule as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub connection_id: String,
    pub stream: String,
    pub interval_ms: i64,
    pub next_run_ms: i64,
    pub lease_owner: Option<String>,
    pub lease_until_ms: Option<i64>,
    pub last_status: Option<String>,
    pub last_finished_ms: Option<i64>,
}

/// A stream a process now holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub connection_id: String,
    pub stream: String,
    /// This claim's own token: renewals, releases and page writes check it, so that an earlier
    /// claim of the stream by the same process (whose lease lapsed) can no longer act on it.
    pub lease_token: String,
}

impl Store {
    /// Schedules a stream every `interval_ms`, first due at `now_ms`; an existing schedule keeps
    /// its next run and takes the new interval.
    pub async fn ensure_schedule(
        &self,
        connection_id: &str,
        stream: &str,
        interval_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if interval_ms < 1_000 {
            return Err(StoreError::Invalid(format!(
                "interval_ms: expected at least 1000, got {interval_ms}"
            )));
        }
        sqlx::query(
            "INSERT INTO sync_schedule (connection_id, stream, interval_ms, next_run_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (connection_id, stream) DO UPDATE SET interval_ms = excluded.interval_ms",
        )
        .bind(connection_id)
        .bind(stream)
        .bind(interval_ms)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Takes the lease of the most overdue stream that is due and not leased (or whose lease
    /// ran out: its process died), for `lease_ms`.
    pub async fn claim_due(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        self.claim_due_of(owner, now_ms, lease_ms, ClaimScope::Any)
            .await
    }

    /// Claims the most overdue stream, of one tenant's shops only when `tenant_id` is given.
    pub async fn claim_due_of(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        scope: ClaimScope<'_>,
    ) -> Result<Option<Claimed>, StoreError> {
        let (tenant_id, connection_id, stream) = match scope {
            ClaimScope::Any => (None, None, None),
            ClaimScope::Tenant(tenant) => (Some(tenant), None, None),
            ClaimScope::Stream(connection, stream) => (None, Some(connection), Some(stream)),
        };
        let lock = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            // SQLite runs one writer at a time: the single statement is the lock.
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE sync_schedule SET lease_owner = $1, lease_until_ms = $2, lease_token = $7
             WHERE (connection_id, stream) = (
                 SELECT s.connection_id, s.stream FROM sync_schedule s JOIN connections c ON c.id = s.connection_id
                 WHERE s.next_run_ms <= $3 AND (s.lease_until_ms IS NULL OR s.lease_until_ms < $3) AND c.state IN ('active', 'refreshing')
                 AND ($4 IS NULL OR c.tenant_id = $4) AND ($5 IS NULL OR s.connection_id = $5)
                 AND ($6 IS NULL OR s.stream = $6)
                 ORDER BY s.next_run_ms LIMIT 1 {lock})
             RETURNING connection_id, stream, lease_token"
        );
        let row = sqlx::query(&sql)
            .bind(owner)
            .bind(now_ms.saturating_add(lease_ms))
            .bind(now_ms)
            .bind(tenant_id)
            .bind(connection_id)
            .bind(stream)
            .bind(uuid::Uuid::new_v4().to_string())
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| {
            Ok(Claimed {
                connection_id: row.try_get("connection_id")?,
                stream: row.try_get("stream")?,
                lease_token: row.try_get("lease_token")?,
            })
        })
        .transpose()
    }

    /// Who holds a stream's lease now: `(owner, until_ms, claim)`; `None` when nobody does.
    pub async fn lease_of(
        &self,
        connection_id: &str,
        stream: &str,
    ) -> Result<Option<(String, i64, Claimed)>, StoreError> {
        let row = sqlx::query(
            "SELECT lease_owner, lease_until_ms, lease_token FROM sync_schedule
             WHERE connection_id = $1 AND stream = $2 AND lease_owner IS NOT NULL
             AND lease_until_ms IS NOT NULL AND lease_token IS NOT NULL",
        )
        .bind(connection_id)
        .bind(stream)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok((
                row.try_get("lease_owner")?,
                row.try_get("lease_until_ms")?,
                Claimed {
                    connection_id: connection_id.to_owned(),
                    stream: stream.to_owned(),
                    lease_token: row.try_get("lease_token")?,
                },
            ))
        })
        .transpose()
    }

    /// Every lease held now: `(owner, until_ms, claim)`.
    pub async fn leases(&self) -> Result<Vec<(String, i64, Claimed)>, StoreError> {
        let rows = sqlx::query(LEASES).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("lease_owner")?,
                    row.try_get("lease_until_ms")?,
                    Claimed {
                        connection_id: row.try_get("connection_id")?,
                        stream: row.try_get("stream")?,
                        lease_token: row.try_get("lease_token")?,
                    },
                ))
            })
            .collect()
    }

    /// Takes over the lease `held` by `holder`, known to have exited before handing it back,
    /// for `owner`: only while that very claim still holds it (a claim made since, by anyone,
    /// is left alone), and only for an active shop. `None` when it no longer does.
    pub async fn take_over_lease(
        &self,
        held: &Claimed,
        holder: &str,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        let row = sqlx::query(
            "UPDATE sync_schedule SET lease_owner = $1, lease_until_ms = $2, lease_token = $3
             WHERE connection_id = $4 AND stream = $5 AND lease_owner = $6 AND lease_token = $7
             AND connection_id IN (SELECT id FROM connections WHERE state IN ('active', 'refreshing'))
             RETURNING lease_token",
        )
        .bind(owner)
        .bind(now_ms.saturating_add(lease_ms))
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&held.connection_id)
        .bind(&held.stream)
        .bind(holder)
        .bind(&held.lease_token)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(Claimed {
                connection_id: held.connection_id.clone(),
                stream: held.stream.clone(),
                lease_token: row.try_get("lease_token")?,
            })
        })
        .transpose()
    }

    /// Extends a lease still held by `owner` under this claim; false if another claim (of
    /// another process, or a later one of this process) has taken it.
    pub async fn renew_lease(
        &self,
        claimed: &Claimed,
        owner: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE sync_schedule SET lease_until_ms = $1 WHERE connection_id = $2 AND stream = $3 AND lease_owner = $4 AND lease_token = $5")
            .bind(until_ms)
            .bind(&claimed.connection_id)
            .bind(&claimed.stream)
            .bind(owner)
            .bind(&claimed.lease_token)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Releases a lease after a run: the stream is next due one interval after `now_ms`. False
    /// when the claim no longer held it.
    pub async fn release_lease(
        &self,
        claimed: &Claimed,
        owner: &str,
        status: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.release(claimed, owner, status, now_ms, "$2 + interval_ms")
            .await
    }

    /// Releases a stream whose run this process stopped between two pages: it is due again at
    /// once, so whichever process looks next resumes it from its checkpoint.
    pub async fn release_interrupted(
        &self,
        claimed: &Claimed,
        owner: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.release(claimed, owner, "interrupted", now_ms, "$2")
            .await
    }

    /// Releases `owner`'s lease of a stream under this claim with its last outcome; `next_run`
    /// is the SQL of its next due time (`$2` is `now_ms`). False when the claim no longer held
    /// it.
    async fn release(
        &self,
        claimed: &Claimed,
        owner: &str,
        status: &str,
        now_ms: i64,
        next_run: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(&format!(
            "UPDATE sync_schedule SET lease_owner = NULL, lease_until_ms = NULL, lease_token = NULL, last_status = $1,
             last_finished_ms = $2, next_run_ms = {next_run}
             WHERE connection_id = $3 AND stream = $4 AND lease_owner = $5 AND lease_token = $6",
        ))
        .bind(status)
        .bind(now_ms)
        .bind(&claimed.connection_id)
        .bind(&claimed.stream)
        .bind(owner)
        .bind(&claimed.lease_token)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Hands back every stream `owner` holds, due at once: a stopping process whose runs were
    /// cut off short of a page's end. Returns how many.
    pub async fn release_leases_of(&self, owner: &str, now_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE sync_schedule SET lease_owner = NULL, lease_until_ms = NULL, lease_token = NULL,
             last_status = 'interrupted', last_finished_ms = $1, next_run_ms = $1 WHERE lease_owner = $2",
        )
        .bind(now_ms)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Ends the runs of a stream still recorded as fetching, which a process left when it was
    /// killed or cut off while stopping: called by the process that holds the stream's lease
    /// now, before its own run. Returns how many there were.
    pub async fn interrupt_abandoned_runs(
        &self,
        connection_id: &str,
        stream: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE sync_runs SET status = 'interrupted', finished_ms = $1,
             error = 'the process running it stopped before the run ended; a later run goes on from its checkpoint'
             WHERE connection_id = $2 AND stream = $3 AND status = 'fetching'",
        )
        .bind(now_ms)
        .bind(connection_id)
        .bind(stream)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Makes a stream due now ("sync now").
    pub async fn run_now(
        &self,
        connection_id: &str,
        stream: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sync_schedule SET next_run_ms = $1 WHERE connection_id = $2 AND stream = $3",
        )
        .bind(now_ms)
        .bind(connection_id)
        .bind(stream)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every schedule, by connection and stream.
    pub async fn schedules(&self) -> Result<Vec<Schedule>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.connection_id, s.stream, s.interval_ms, s.next_run_ms, s.lease_owner, s.lease_until_ms, s.last_status, s.last_finished_ms
             FROM sync_schedule s ORDER BY s.connection_id, s.stream",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(schedule).collect()
    }

    /// The schedules of one tenant's connections.
    pub async fn tenant_schedules(&self, tenant_id: &str) -> Result<Vec<Schedule>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.connection_id, s.stream, s.interval_ms, s.next_run_ms, s.lease_owner, s.lease_until_ms, s.last_status, s.last_finished_ms
             FROM sync_schedule s JOIN connections c ON c.id = s.connection_id
             WHERE c.tenant_id = $1 ORDER BY s.connection_id, s.stream",
        )
        .bind(tenant_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(schedule).collect()
    }

    /// Records an expiry warning once per (connection, kind, expiry); true if it is new.
    pub async fn note_expiry_warning(
        &self,
        connection_id: &str,
        kind: &str,
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO expiry_warnings (connection_id, kind, expires_ms, warned_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (connection_id, kind, expires_ms) DO NOTHING",
        )
        .bind(connection_id)
        .bind(kind)
        .bind(expires_ms)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn schedule(row: &sqlx::any::AnyRow) -> Result<Schedule, StoreError> {
    Ok(Schedule {
        connection_id: row.try_get("connection_id")?,
        stream: row.try_get("stream")?,
        interval_ms: row.try_get("interval_ms")?,
        next_run_ms: row.try_get("next_run_ms")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_until_ms: row.try_get("lease_until_ms")?,
        last_status: row.try_get("last_status")?,
        last_finished_ms: row.try_get("last_finished_ms")?,
    })
}

/// Which due streams a claim may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimScope<'a> {
    Any,
    /// The streams of one tenant's shops.
    Tenant(&'a str),
    /// One stream of one shop.
    Stream(&'a str, &'a str),
}

/// Fails with [`StoreError::LeaseLost`] unless `claim` still holds the stream's lease, and keeps
/// it held until `tx` ends. On PostgreSQL the row is locked: a claim (`SKIP LOCKED`) passes it
/// over and a renewal waits for the page's commit; on SQLite the page's transaction is the
/// file's one writer already.
pub(crate) async fn hold_lease(
    tx: &mut impl PageSql,
    connection_id: &str,
    stream: &str,
    claim: &Claimed,
) -> Result<(), StoreError> {
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let held = tx
        .rows(
            &format!(
                "SELECT 1 FROM sync_schedule WHERE connection_id = $1 AND stream = $2 AND lease_token = $3{lock}"
            ),
            &[connection_id.into(), stream.into(), (&claim.lease_token).into()],
        )
        .await?;
    if held.is_empty() {
        return Err(StoreError::LeaseLost {
            connection_id: connection_id.to_owned(),
            stream: stream.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::LEASES;
    use sqlx::Row;

    /// The leases are read from the index of leased streams, not from the whole schedule.
    #[tokio::test]
    async fn the_leases_held_are_read_by_their_index() {
        let (store, path) = crate::scratch_sqlite("leases").await;
        let plan = sqlx::query(&format!("EXPLAIN QUERY PLAN {LEASES}"))
            .fetch_all(store.pool())
            .await
            .expect("plan");
        let steps: Vec<String> = plan
            .iter()
            .map(|row| row.try_get::<String, _>("detail").expect("detail"))
            .collect();
        assert!(
            steps
                .iter()
                .all(|step| step.contains("USING INDEX sync_schedule_leased")),
            "{steps:#?}"
        );
        store.pool().close().await;
        let _ = std::fs::remove_file(&path);
    }
}
