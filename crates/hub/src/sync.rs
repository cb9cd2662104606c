//! Incremental sync of one (connection, stream): windows by update time with a lookback overlap,
//! page after page, each page stored with its checkpoint in one transaction, so that a run
//! interrupted anywhere resumes where it stopped and never loses or duplicates a record.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use shopbridge_core::Clock;
use shopbridge_core::capability::ConnectorError;
use shopbridge_core::error::ErrorClass;
use shopbridge_core::quota::Priority;
use shopbridge_store::{
    Checkpoint, ConnectionState, Store, StoreError, SyncedRecord, UnionOrderRecord,
};

/// The stream name of Union orders in checkpoints and runs.
pub const UNION_ORDERS: &str = "union_orders";

pub(crate) const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("platform: {0}")]
    Platform(#[from] ConnectorError),
    #[error("invalid sync settings: {0}")]
    Settings(String),
}

/// How transient failures are retried: capped exponential backoff with jitter.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 8,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunReport {
    pub windows: u32,
    pub pages: u32,
    /// Records fetched (one seen in two overlapping windows counts twice).
    pub fetched: u32,
    /// Records inserted or replaced by a newer version.
    pub changed: u32,
}

/// The records of one page, in the table their stream keeps them in.
#[derive(Debug, Clone)]
pub enum PageRecords {
    UnionOrders(Vec<UnionOrderRecord>),
    Records(Vec<SyncedRecord>),
}

impl PageRecords {
    fn len(&self) -> usize {
        match self {
            Self::UnionOrders(records) => records.len(),
            Self::Records(records) => records.len(),
        }
    }
}

/// One page fetched from a platform.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    pub records: PageRecords,
    pub has_next: bool,
    /// Where the window goes on when it is not the next page number: a source that reads one
    /// window in several passes jumps to its next pass.
    pub next_page: Option<u32>,
}

/// The platform call a fetch makes: what the quota gate and the call log count it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallKey {
    pub platform: &'static str,
    pub service: String,
    pub method: String,
    /// Who the quota counts the call for (the app, or the authorized connection).
    pub caller: String,
}

/// Where a stream's pages come from.
#[async_trait]
pub trait StreamSource: Send + Sync {
    /// The stream's name in checkpoints and runs.
    fn stream(&self) -> &'static str;
    /// The longest window one query may span.
    fn max_window_ms(&self) -> i64;
    /// The clock the platform's times are read against.
    fn clock(&self) -> &dyn Clock;
    fn call(&self) -> CallKey;
    /// The webhook events its records raise, if any.
    fn events(&self) -> Option<shopbridge_store::RecordEvents> {
        None
    }
    /// Page `page` (from 1) of the records updated in `[start_ms, end_ms]`.
    async fn fetch(
        &self,
        start_ms: i64,
        end_ms: i64,
        page: u32,
    ) -> Result<FetchedPage, ConnectorError>;
}

/// A progress callback: `(report so far, window end in epoch ms)`.
pub type ProgressHook = Arc<dyn Fn(&RunReport, i64) + Send + Sync>;

/// Syncs one stream of one connection.
#[derive(Clone)]
pub struct StreamSync {
    pub store: Store,
    pub source: Arc<dyn StreamSource>,
    pub connection_id: String,
    /// Window length (the Union FAQ advises at most 3 days for orders, 1 by default).
    pub window_ms: i64,
    /// How far each run reaches back before its cursor, for updates that landed late.
    pub lookback_ms: i64,
    /// Where the very first run starts, before now.
    pub initial_ms: i64,
    pub retry: RetryPolicy,
    /// Waits for a quota slot before every call (background priority) when set.
    pub gate: Option<crate::QuotaGate>,
    /// Called after every stored page with the run so far and the end of the current window.
    pub on_page: Option<ProgressHook>,
}

impl std::fmt::Debug for StreamSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSync")
            .field("stream", &self.source.stream())
            .field("connection_id", &self.connection_id)
            .field("window_ms", &self.window_ms)
            .field("lookback_ms", &self.lookback_ms)
            .finish_non_exhaustive()
    }
}

impl StreamSync {
    /// A sync of `source` with one-day windows (or the platform's longest, if shorter), a
    /// ten-minute lookback and thirty days of history on the first run.
    pub fn new(
        store: Store,
        source: Arc<dyn StreamSource>,
        connection_id: impl Into<String>,
    ) -> Self {
        Self {
            window_ms: DAY_MS.min(source.max_window_ms()),
            store,
            source,
            connection_id: connection_id.into(),
            lookback_ms: 10 * 60_000,
            initial_ms: 30 * DAY_MS,
            retry: RetryPolicy::default(),
            gate: None,
            on_page: None,
        }
    }

    /// Union orders by update time, into the Union order table.
    pub fn union_orders(
        store: Store,
        client: shopbridge_vop::VopClient,
        mode: shopbridge_vop::Mode,
        connection_id: impl Into<String>,
    ) -> Self {
        let connection_id = connection_id.into();
        let source = crate::sources::UnionOrderSource::new(client, mode, &connection_id);
        Self::new(store, Arc::new(source), connection_id)
    }

    pub fn stream(&self) -> &'static str {
        self.source.stream()
    }

    fn now_ms(&self) -> i64 {
        self.source.clock().now_ms()
    }

    async fn fetch(&self, start: i64, end: i64, page: u32) -> Result<FetchedPage, ConnectorError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.attempts)
            .with_jitter();
        let call = self.source.call();
        (|| async {
            if let Some(gate) = &self.gate {
                // Background work never fails on the gate: it waits for a slot.
                let _ = gate
                    .acquire(&call.service, &call.method, &call.caller, Priority::Background)
                    .await;
            }
            let result = self.source.fetch(start, end, page).await;
            if let Err(err) = self
                .store
                .record_call(self.now_ms(), call.platform, &call.service, &call.method, &call.caller, result.is_ok())
                .await
            {
                tracing::warn!(error = %err, "could not record the API call");
            }
            result
        })
        .retry(backoff)
        .when(|err: &ConnectorError| err.class.is_retryable())
        .notify(|err: &ConnectorError, wait: Duration| {
            tracing::warn!(stream = self.stream(), error = %err, ?wait, "page failed; retrying")
        })
        .await
    }

    /// Runs until the store holds every record updated up to now; resumes an interrupted window.
    pub async fn run(&self) -> Result<RunReport, SyncError> {
        if !(60_000..=self.source.max_window_ms()).contains(&self.window_ms) || self.lookback_ms < 0
        {
            return Err(SyncError::Settings(format!(
                "window_ms must be from 1 minute to {} ms and lookback_ms 0 or more (got {} and {})",
                self.source.max_window_ms(),
                self.window_ms,
                self.lookback_ms
            )));
        }
        let now = self.now_ms();
        let run_id = self
            .store
            .start_run(&self.connection_id, self.stream(), now)
            .await?;
        let result = self.run_windows(now).await;
        let finished = self.now_ms();
        match &result {
            Ok(report) => {
                self.store
                    .finish_run(
                        run_id,
                        "complete",
                        i64::from(report.pages),
                        i64::from(report.changed),
                        None,
                        finished,
                    )
                    .await?;
            }
            Err(err) => {
                let status = match err {
                    SyncError::Platform(platform)
                        if platform.class == ErrorClass::NeedsReauthorization =>
                    {
                        self.store
                            .set_state(
                                &self.connection_id,
                                ConnectionState::NeedsReauth,
                                Some(&platform.to_string()),
                                finished,
                            )
                            .await?;
                        "auth_error"
                    }
                    _ => "fetch_error",
                };
                self.store
                    .finish_run(run_id, status, 0, 0, Some(&err.to_string()), finished)
                    .await?;
                let connection = self.store.connection(&self.connection_id).await?;
                let data = serde_json::json!({
                    "connection_id": self.connection_id,
                    "stream": self.stream(),
                    "status": status,
                    "error": err.to_string(),
                });
                self.store
                    .enqueue_event(&connection.tenant_id, "sync.failed", data, finished)
                    .await?;
            }
        }
        result
    }

    async fn save(
        &self,
        records: &PageRecords,
        checkpoint: Checkpoint,
    ) -> Result<usize, StoreError> {
        let now = self.now_ms();
        match records {
            PageRecords::UnionOrders(orders) => {
                self.store
                    .save_union_page(
                        &self.connection_id,
                        self.stream(),
                        orders,
                        checkpoint,
                        self.source.events(),
                        now,
                    )
                    .await
            }
            PageRecords::Records(records) => {
                self.store
                    .save_records_page(
                        &self.connection_id,
                        self.stream(),
                        records,
                        checkpoint,
                        self.source.events(),
                        now,
                    )
                    .await
            }
        }
    }

    /// Windows from the cursor (less the lookback, once per run) up to `now`, chained so that a
    /// lookback longer than a window still moves forward; the cursor never moves back.
    async fn run_windows(&self, now: i64) -> Result<RunReport, SyncError> {
        let mut report = RunReport::default();
        let mut checkpoint = self
            .store
            .checkpoint(&self.connection_id, self.stream())
            .await?
            .unwrap_or(Checkpoint {
                cursor_ms: now - self.initial_ms,
                window: None,
            });
        loop {
            let (start, end, mut page) = match checkpoint.window {
                Some(window) => window,
                None => {
                    if checkpoint.cursor_ms >= now {
                        return Ok(report);
                    }
                    let start = (checkpoint.cursor_ms - self.lookback_ms).max(0);
                    (start, start.saturating_add(self.window_ms).min(now), 1)
                }
            };
            report.windows += 1;
            loop {
                let fetched = self.fetch(start, end, page as u32).await?;
                let done = !fetched.has_next;
                let next_page = fetched.next_page.map_or(page + 1, i64::from);
                checkpoint = if !done {
                    Checkpoint {
                        cursor_ms: checkpoint.cursor_ms,
                        window: Some((start, end, next_page)),
                    }
                } else if end >= now {
                    Checkpoint {
                        cursor_ms: checkpoint.cursor_ms.max(end),
                        window: None,
                    }
                } else {
                    let next = (end, end.saturating_add(self.window_ms).min(now), 1);
                    Checkpoint {
                        cursor_ms: checkpoint.cursor_ms.max(end),
                        window: Some(next),
                    }
                };
                let changed = self.save(&fetched.records, checkpoint).await?;
                report.pages += 1;
                report.fetched += fetched.records.len() as u32;
                report.changed += changed as u32;
                if let Some(hook) = &self.on_page {
                    hook(&report, end);
                }
                if done {
                    break;
                }
                page = next_page;
            }
            if end >= now {
                return Ok(report);
            }
        }
    }
}
