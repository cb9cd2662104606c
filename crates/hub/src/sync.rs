//! Incremental sync of a connection's Union orders: windows by update time with a lookback
//! overlap, page after page, each page stored with its checkpoint in one transaction, so that a
//! run interrupted anywhere resumes where it stopped and never loses or duplicates an order.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use shopbridge_core::error::{Classify, ErrorClass};
use shopbridge_store::{Checkpoint, ConnectionState, Store, StoreError, UnionOrderRecord};
use shopbridge_vop::union::order::{MAX_WINDOW_MS, OrderInfo, OrderList};
use shopbridge_vop::{Mode, VopClient, VopError};

/// The stream name of Union orders in checkpoints and runs.
pub const UNION_ORDERS: &str = "union_orders";

const DAY_MS: i64 = 24 * 3_600_000;
const PAGE_SIZE: i32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("platform: {0}")]
    Platform(#[from] VopError),
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
    /// Orders fetched (an order seen in two overlapping windows counts twice).
    pub fetched: u32,
    /// Orders inserted or replaced by a newer version.
    pub changed: u32,
}

/// Syncs one connection's Union orders.
#[derive(Clone)]
pub struct UnionOrderSync {
    pub store: Store,
    pub client: VopClient,
    pub mode: Mode,
    pub connection_id: String,
    /// Window length (the FAQ advises at most 3 days, 1 by default).
    pub window_ms: i64,
    /// How far each window reaches back before the cursor, for updates that landed late.
    pub lookback_ms: i64,
    /// Where the very first run starts, before now.
    pub initial_ms: i64,
    pub retry: RetryPolicy,
    /// Waits for a quota slot before every call (background priority) when set.
    pub gate: Option<crate::QuotaGate>,
    /// Called after every stored page with the run so far and the end of the current window.
    pub on_page: Option<ProgressHook>,
}

/// A progress callback: `(report so far, window end in epoch ms)`.
pub type ProgressHook = std::sync::Arc<dyn Fn(&RunReport, i64) + Send + Sync>;

fn record(order: &OrderInfo) -> UnionOrderRecord {
    UnionOrderRecord {
        order_sn: order.order_sn.clone(),
        status: i64::from(order.status),
        sub_status: order.order_sub_status_name.clone(),
        chan_tag: order.chan_tag().map(str::to_owned),
        stat_param: order.stat_param.clone(),
        commission: order.commission.map(|c| c.to_string()),
        order_time_ms: order.order_time,
        last_update_ms: order.last_update_time,
        settled: order.is_settled(),
        payload: serde_json::to_string(order).unwrap_or_default(),
    }
}

impl std::fmt::Debug for UnionOrderSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnionOrderSync")
            .field("connection_id", &self.connection_id)
            .field("mode", &self.mode)
            .field("window_ms", &self.window_ms)
            .field("lookback_ms", &self.lookback_ms)
            .finish_non_exhaustive()
    }
}

impl UnionOrderSync {
    pub fn new(
        store: Store,
        client: VopClient,
        mode: Mode,
        connection_id: impl Into<String>,
    ) -> Self {
        Self {
            store,
            client,
            mode,
            connection_id: connection_id.into(),
            window_ms: DAY_MS,
            lookback_ms: 10 * 60_000,
            initial_ms: 30 * DAY_MS,
            retry: RetryPolicy::default(),
            on_page: None,
            gate: None,
        }
    }

    async fn fetch(
        &self,
        start: i64,
        end: i64,
        page: i32,
    ) -> Result<(Vec<OrderInfo>, i64), VopError> {
        let request = OrderList::by_update_time(self.mode, start, end)
            .page_size(PAGE_SIZE)
            .page(page);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.attempts)
            .with_jitter();
        let caller = self.client.config().access_token.as_ref().map_or_else(
            || self.client.config().app_key.clone(),
            |_| self.connection_id.clone(),
        );
        let method = self.mode.method("orderList");
        let answer = (|| async {
            if let Some(gate) = &self.gate {
                // Background work never fails on the gate: it waits for a slot.
                let _ = gate.acquire(shopbridge_vop::union::ORDER_SERVICE, &method, &caller, shopbridge_core::quota::Priority::Background).await;
            }
            let result = self.client.execute(&request.clone().page(page)).await;
            let at = self.client.clock().now_ms();
            if let Err(err) = self
                .store
                .record_call(at, "vop", shopbridge_vop::union::ORDER_SERVICE, &method, &caller, result.is_ok())
                .await
            {
                tracing::warn!(error = %err, "could not record the API call");
            }
            result
        })
            .retry(backoff)
            .when(|err: &VopError| err.class().is_retryable())
            .notify(|err: &VopError, wait: Duration| tracing::warn!(error = %err, ?wait, "Union order page failed; retrying"))
            .await?;
        Ok((answer.order_info_list, answer.total))
    }

    /// Runs until the store holds every order updated up to now; resumes an interrupted window.
    pub async fn run(&self) -> Result<RunReport, SyncError> {
        if !(60_000..=MAX_WINDOW_MS).contains(&self.window_ms)
            || self.lookback_ms < 0
            || self.lookback_ms >= self.window_ms
        {
            return Err(SyncError::Settings(format!(
                "window_ms must be 1 minute to 3 days and lookback_ms shorter than it (got {} and {})",
                self.window_ms, self.lookback_ms
            )));
        }
        let now = self.client.clock().now_ms();
        let run_id = self
            .store
            .start_run(&self.connection_id, UNION_ORDERS, now)
            .await?;
        let result = self.run_windows(now).await;
        let finished = self.client.clock().now_ms();
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
                        if platform.class() == ErrorClass::NeedsReauthorization =>
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
            }
        }
        result
    }

    async fn run_windows(&self, now: i64) -> Result<RunReport, SyncError> {
        let mut report = RunReport::default();
        let mut checkpoint = self
            .store
            .checkpoint(&self.connection_id, UNION_ORDERS)
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
                    (start, (start + self.window_ms).min(now), 1)
                }
            };
            report.windows += 1;
            loop {
                let (orders, total) = self.fetch(start, end, page as i32).await?;
                let done =
                    orders.len() < PAGE_SIZE as usize || page * i64::from(PAGE_SIZE) >= total;
                checkpoint = if done {
                    Checkpoint {
                        cursor_ms: end,
                        window: None,
                    }
                } else {
                    Checkpoint {
                        cursor_ms: checkpoint.cursor_ms,
                        window: Some((start, end, page + 1)),
                    }
                };
                let records: Vec<UnionOrderRecord> = orders.iter().map(record).collect();
                let changed = self
                    .store
                    .save_union_page(
                        &self.connection_id,
                        UNION_ORDERS,
                        &records,
                        checkpoint,
                        self.client.clock().now_ms(),
                    )
                    .await?;
                report.pages += 1;
                report.fetched += records.len() as u32;
                report.changed += changed as u32;
                if let Some(hook) = &self.on_page {
                    hook(&report, end);
                }
                if done {
                    break;
                }
                page += 1;
            }
            if end >= now {
                return Ok(report);
            }
        }
    }
}
