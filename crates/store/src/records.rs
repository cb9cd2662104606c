//! Synced records of the other streams (Union refunds, JIT direct-ship orders, Winit outbound
//! orders...): one table keyed by (connection, stream, platform id), the newest version kept, a
//! final record never replaced, an unchanged record left alone, and the checkpoint written with
//! each page.

use std::collections::HashMap;

use sqlx::Row;

use crate::{
    Checkpoint, Placeholders, RecordEvents, Store, StoreError, WRITE_CHUNK, newest_per_key,
};

/// One record as a stream writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedRecord {
    /// The platform's id of the record.
    pub id: String,
    /// When the platform last changed it (epoch ms); where a platform gives no update time,
    /// when it was seen.
    pub updated_ms: i64,
    /// A record that can no longer change (settled, cancelled, delivered...).
    pub is_final: bool,
    /// The platform's JSON.
    pub payload: String,
}

/// A record as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub record: SyncedRecord,
    /// How many distinct versions were stored.
    pub versions: i64,
}

impl StoredRecord {
    /// Where a listing continues after this record.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            updated_ms: self.record.updated_ms,
            id: self.record.id.clone(),
        }
    }
}

impl Store {
    /// Writes one page of records and the stream's checkpoint atomically; returns how many were
    /// inserted or replaced.
    pub async fn save_records_page(
        &self,
        connection_id: &str,
        stream: &str,
        records: &[SyncedRecord],
        checkpoint: Checkpoint,
        events: Option<RecordEvents>,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool().begin().await?;
        let subscribers = match events {
            Some(_) => {
                self.subscribers_of_connection(&mut tx, connection_id)
                    .await?
            }
            None => Default::default(),
        };
        // What the store holds of this page's records, in one query rather than one per record.
        let mut existing: HashMap<String, (i64, bool, String)> = HashMap::new();
        if !records.is_empty() {
            let mut p = Placeholders::new(self.backend());
            let (connection, stream_p, ids) = (p.one(), p.one(), p.list(records.len()));
            let sql = format!(
                "SELECT record_id, updated_ms, final, payload FROM synced_records
                 WHERE connection_id = {connection} AND stream = {stream_p} AND record_id IN ({ids})"
            );
            let mut query = sqlx::query(&sql).bind(connection_id).bind(stream);
            for record in records {
                query = query.bind(&record.id);
            }
            for row in query.fetch_all(&mut *tx).await? {
                existing.insert(
                    row.try_get("record_id")?,
                    (
                        row.try_get("updated_ms")?,
                        row.try_get::<i64, _>("final")? != 0,
                        row.try_get("payload")?,
                    ),
                );
            }
        }
        // Every new version goes to the history; the newest of each record (with how many new
        // versions it brings) replaces the stored row.
        let mut versions: Vec<&SyncedRecord> = Vec::new();
        for record in records {
            let stored = existing.get(&record.id);
            // Older data never replaces newer, nothing replaces a final record, and the same
            // content seen again is not a new version.
            let replace = stored.is_none_or(|(updated_ms, is_final, payload)| {
                !is_final && record.updated_ms >= *updated_ms && record.payload != *payload
            });
            if !replace {
                continue;
            }
            let existing = existing.insert(
                record.id.clone(),
                (record.updated_ms, record.is_final, record.payload.clone()),
            );
            if let Some(events) = events {
                // Announced in the same transaction: a stored change is never left unannounced.
                let event = if existing.is_some() {
                    events.updated
                } else {
                    events.created
                };
                if subscribers.want(event) {
                    let body: serde_json::Value =
                        serde_json::from_str(&record.payload).unwrap_or(serde_json::Value::Null);
                    let data = serde_json::json!({"connection_id": connection_id, "stream": stream, "id": record.id, "record": body});
                    subscribers.enqueue(&mut tx, event, data, now_ms).await?;
                }
            }
            versions.push(record);
        }
        for chunk in versions.chunks(WRITE_CHUNK) {
            let sql = format!(
                "INSERT INTO synced_record_history (connection_id, stream, record_id, updated_ms, synced_ms, payload)
                 VALUES {}",
                Placeholders::new(self.backend()).rows(6, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for record in chunk {
                query = query
                    .bind(connection_id)
                    .bind(stream)
                    .bind(&record.id)
                    .bind(record.updated_ms)
                    .bind(now_ms)
                    .bind(&record.payload);
            }
            query.execute(&mut *tx).await?;
        }
        let rows = newest_per_key(&versions, |record| &record.id);
        for chunk in rows.chunks(WRITE_CHUNK) {
            let sql = format!(
                "INSERT INTO synced_records (connection_id, stream, record_id, updated_ms, final, payload, versions, synced_ms)
                 VALUES {}
                 ON CONFLICT (connection_id, stream, record_id) DO UPDATE SET
                 updated_ms = excluded.updated_ms, final = excluded.final, payload = excluded.payload,
                 versions = synced_records.versions + excluded.versions, synced_ms = excluded.synced_ms",
                Placeholders::new(self.backend()).rows(8, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for (record, new_versions) in chunk {
                query = query
                    .bind(connection_id)
                    .bind(stream)
                    .bind(&record.id)
                    .bind(record.updated_ms)
                    .bind(i64::from(record.is_final))
                    .bind(&record.payload)
                    .bind(*new_versions)
                    .bind(now_ms);
            }
            query.execute(&mut *tx).await?;
        }
        self.write_checkpoint(&mut tx, connection_id, stream, checkpoint, now_ms)
            .await?;
        tx.commit().await?;
        Ok(versions.len())
    }

    /// One record of a stream.
    pub async fn synced_record(
        &self,
        connection_id: &str,
        stream: &str,
        id: &str,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let row = sqlx::query("SELECT record_id, updated_ms, final, payload, versions FROM synced_records WHERE connection_id = $1 AND stream = $2 AND record_id = $3")
            .bind(connection_id)
            .bind(stream)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(stored).transpose()
    }

    /// Every stored version of a record, oldest first: `(updated_ms, synced_ms, payload)`.
    pub async fn synced_record_versions(
        &self,
        connection_id: &str,
        stream: &str,
        id: &str,
    ) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let rows = sqlx::query("SELECT updated_ms, synced_ms, payload FROM synced_record_history WHERE connection_id = $1 AND stream = $2 AND record_id = $3 ORDER BY updated_ms, synced_ms")
            .bind(connection_id)
            .bind(stream)
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("updated_ms")?,
                    row.try_get("synced_ms")?,
                    row.try_get("payload")?,
                ))
            })
            .collect()
    }

    /// The records of a stream updated at or after `from_ms`, oldest update first.
    pub async fn synced_records_since(
        &self,
        connection_id: &str,
        stream: &str,
        from_ms: i64,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let rows = sqlx::query("SELECT record_id, updated_ms, final, payload, versions FROM synced_records WHERE connection_id = $1 AND stream = $2 AND updated_ms >= $3 ORDER BY updated_ms, record_id")
            .bind(connection_id)
            .bind(stream)
            .bind(from_ms)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(stored).collect()
    }

    /// Every record of a stream, by id.
    pub async fn synced_records(
        &self,
        connection_id: &str,
        stream: &str,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let rows = sqlx::query("SELECT record_id, updated_ms, final, payload, versions FROM synced_records WHERE connection_id = $1 AND stream = $2 ORDER BY record_id")
            .bind(connection_id)
            .bind(stream)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(stored).collect()
    }
}

fn stored(row: &sqlx::any::AnyRow) -> Result<StoredRecord, StoreError> {
    Ok(StoredRecord {
        record: SyncedRecord {
            id: row.try_get("record_id")?,
            updated_ms: row.try_get("updated_ms")?,
            is_final: row.try_get::<i64, _>("final")? != 0,
            payload: row.try_get("payload")?,
        },
        versions: row.try_get("versions")?,
    })
}

/// Where a page of a listing by update time starts: after this `(updated_ms, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub updated_ms: i64,
    pub id: String,
}

impl Cursor {
    /// `"<updated_ms>:<id>"`, opaque to API callers.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.updated_ms, self.id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (ms, id) = text.split_once(':')?;
        if id.is_empty() {
            return None;
        }
        Some(Self {
            updated_ms: ms.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

impl Store {
    /// Up to `limit` records of a stream updated at or after `from_ms`, after `cursor`, by
    /// (update time, id).
    pub async fn records_page(
        &self,
        connection_id: &str,
        stream: &str,
        from_ms: i64,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let (after_ms, after_id) = match cursor {
            Some(c) => (c.updated_ms, c.id.clone()),
            None => (i64::MIN, String::new()),
        };
        let rows = sqlx::query(
            "SELECT record_id, updated_ms, final, payload, versions FROM synced_records
             WHERE connection_id = $1 AND stream = $2 AND updated_ms >= $3
               AND (updated_ms > $4 OR (updated_ms = $4 AND record_id > $5))
             ORDER BY updated_ms, record_id LIMIT $6",
        )
        .bind(connection_id)
        .bind(stream)
        .bind(from_ms)
        .bind(after_ms)
        .bind(after_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(stored).collect()
    }

    /// Up to `limit` Union orders updated at or after `from_ms`, after `cursor`, by (update
    /// time, order number), as the platform's JSON.
    pub async fn union_orders_page(
        &self,
        connection_id: &str,
        from_ms: i64,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<(Cursor, String)>, StoreError> {
        let (after_ms, after_id) = match cursor {
            Some(c) => (c.updated_ms, c.id.clone()),
            None => (i64::MIN, String::new()),
        };
        let rows = sqlx::query(
            "SELECT order_sn, last_update_ms, payload FROM union_orders
             WHERE connection_id = $1 AND last_update_ms >= $2
               AND (last_update_ms > $3 OR (last_update_ms = $3 AND order_sn > $4))
             ORDER BY last_update_ms, order_sn LIMIT $5",
        )
        .bind(connection_id)
        .bind(from_ms)
        .bind(after_ms)
        .bind(after_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    Cursor {
                        updated_ms: row.try_get("last_update_ms")?,
                        id: row.try_get("order_sn")?,
                    },
                    row.try_get("payload")?,
                ))
            })
            .collect()
    }

    /// The latest sync runs of a connection, newest first.
    pub async fn sync_runs(
        &self,
        connection_id: &str,
        limit: i64,
    ) -> Result<Vec<SyncRun>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, stream, started_ms, finished_ms, status, pages, records, error FROM sync_runs
             WHERE connection_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(connection_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SyncRun {
                    id: row.try_get("id")?,
                    stream: row.try_get("stream")?,
                    started_ms: row.try_get("started_ms")?,
                    finished_ms: row.try_get("finished_ms")?,
                    status: row.try_get("status")?,
                    pages: row.try_get("pages")?,
                    records: row.try_get("records")?,
                    error: row.try_get("error")?,
                })
            })
            .collect()
    }
}

/// One recorded sync run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncRun {
    pub id: i64,
    pub stream: String,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub status: String,
    pub pages: i64,
    pub records: i64,
    pub error: Option<String>,
}
