//! Incremental sync of one (connection, stream): windows by update time with a lookback overlap,
//! page after page, pages stored with their checkpoint in one transaction (a few pages at a time,
//! [`PageBatching`]), so that a run interrupted anywhere resumes where it stopped and never loses
//! or duplicates a record.
//!
//! # Completeness while the platform moves
//!
//! The guarantee: once a window is finished, every record whose update time lay in the window
//! when it finished is stored, at that version or a newer one. It holds through crashes, kills,
//! retries that run out, and records that change between two page reads.
//!
//! The platforms page by offset over a list whose members change while it is read. A record that
//! changes gets a new update time and leaves the window it was in. Every record after it then
//! moves one place towards the front of the list. Read front to back, the record that moved onto
//! a page already read is skipped, and if it is final (a lapsed order) no later run finds it. The
//! engine makes two choices that together make a single pass complete:
//!
//! 1. **Windows end before their reading starts.** A window never reaches past the source's
//!    last settled instant: one millisecond before `now` for sources with millisecond times, the
//!    end of the previous second for sources whose times have whole seconds. A record that
//!    changes while the window is read is stamped with a time after the window, so during the
//!    reading records only *leave* the window. None enters it and none moves inside it, and
//!    those that stay keep their order.
//! 2. **Pages are read from the last to the first.** The first call reads page 1 to learn the
//!    platform's total; then pages `n, n-1, ..., 1` are read. Invariant: every record now in
//!    the window at a position at or after the start of the page just read is stored. Reading
//!    the next page down extends this to that page's start. A record leaving the window moves
//!    only records behind it one place forward, and those were stored already (an already-read
//!    record may be read twice, which stores nothing new). Once page 1 has been read, every
//!    record in the window is stored.
//!
//! The invariant is a fact about the store, not about the process. The checkpoint keeps the
//! window and the next page down, written in the same transaction as the pages before it; pages
//! read and not yet written are not in the store, and neither is the checkpoint after them. A run that is
//! killed, or whose retries run out, resumes at that page however long after and however much
//! changed meanwhile. A checkpoint written by an earlier version (reading front to back)
//! restarts its window from page 1, which is always safe.
//!
//! The cost is one call per window that spans more than one page: page 1 is read twice. A window
//! that fits one page (the usual incremental run) costs one call, as before. The second read of
//! page 1 is handed what the first returned ([`StreamSource::fetch_again`]): a source may leave
//! out the records whose text is still what it was then, which were stored from the first read
//! and would store nothing new. (Its total cannot stand in for the second read: a platform that
//! counts and lists in two steps can report an unchanged total for a list that has moved.)
//!
//! A run leaves the current second to the next run; a run someone asks for starts once that second is over
//! ([`settle_current_second`]), so that it reads every change made before it was asked for. A source that
//! reports no total is read front to back, and only the lookback of its next run covers it.
//! Two assumptions are made. A platform stamps a change at the time it makes it; a record made
//! visible later than its stamp is covered by the lookback, as before. And its list has one
//! fixed order: by update time, or by creation time as JIT's direct-ship list is.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use shopbridge_core::Clock;
use shopbridge_core::capability::ConnectorError;
use shopbridge_core::error::ErrorClass;
use shopbridge_core::quota::Priority;
pub use shopbridge_store::PageRecords;
use shopbridge_store::{Checkpoint, ConnectionState, Store, StoreError};

pub(crate) const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("platform: {0}")]
    Platform(#[from] ConnectorError),
    #[error("invalid sync settings: {0}")]
    Settings(String),
    /// Another run holds the stream's lease.
    #[error("{0}")]
    Held(String),
    /// The shop is not active (it must be authorized again, or was revoked).
    #[error("{0}")]
    Inactive(String),
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

/// How a run groups the pages it reads into commits. One commit for several pages writes each
/// index page they share to the database's log once, where a commit a page wrote it again for
/// every page (`BENCHMARKS.md`). A crash loses nothing by it: the checkpoint is written with the
/// pages, so pages read and not yet written are read again by the next run.
#[derive(Debug, Clone, Copy)]
pub struct PageBatching {
    /// At most this many pages go into one commit.
    pub pages: usize,
    /// A page is written at most this long after it was read, even while the next call waits
    /// for its answer or for a quota slot.
    pub within: Duration,
}

impl Default for PageBatching {
    fn default() -> Self {
        Self {
            pages: 8,
            within: Duration::from_secs(1),
        }
    }
}

/// Pages read and not yet written, with the checkpoint after the last of them.
#[derive(Default)]
struct Unsaved {
    pages: Vec<UnsavedPage>,
    checkpoint: Option<Checkpoint>,
    /// When the first of them was read.
    since: Option<tokio::time::Instant>,
}

struct UnsavedPage {
    fetched: FetchedPage,
    /// When its call was made.
    called_ms: i64,
    /// The end of the window it belongs to, for the progress hook.
    window_end: i64,
}

impl Unsaved {
    fn push(&mut self, page: UnsavedPage, checkpoint: Checkpoint) {
        self.since.get_or_insert_with(tokio::time::Instant::now);
        self.pages.push(page);
        self.checkpoint = Some(checkpoint);
    }
}

/// What one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunReport {
    pub windows: u32,
    pub pages: u32,
    /// Records fetched (one seen in two overlapping windows counts twice).
    pub fetched: u32,
    /// Of those, records of a page read again whose text was what the first read of that page
    /// returned this run: left out of the write, which would have stored nothing new.
    pub unchanged: u32,
    /// Records inserted or replaced by a newer version.
    pub changed: u32,
    /// The run stopped between two pages because its process is stopping, or another process
    /// took its stream over; the next run resumes at its checkpoint.
    pub interrupted: bool,
}

impl RunReport {
    /// How the run ended, as its record says: `complete`, or `interrupted` by a stopping process.
    pub fn outcome(&self) -> &'static str {
        if self.interrupted {
            "interrupted"
        } else {
            "complete"
        }
    }
}

/// One page fetched from a platform.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    pub records: PageRecords,
    /// How many records the window (in this pass) holds now, as the platform counts them;
    /// `None` when it does not say.
    pub total: Option<u64>,
    /// Records the page held and left out of `records`, being what an earlier read of the same
    /// page returned (see [`StreamSource::fetch_again`]).
    pub unchanged: usize,
}

impl FetchedPage {
    /// The records the platform's page held: those kept and those left out as unchanged.
    pub fn held(&self) -> usize {
        self.records.len() + self.unchanged
    }
}

/// Where a window's reading stands: what the checkpoint's page field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStep {
    /// Read page 1 of the pass to learn its total.
    Probe { pass: u32 },
    /// Read `page` of the pass next, going down to page 1.
    Down { pass: u32, page: u32 },
    /// Read `page` next, going up: for a source that reports no total.
    Forward { pass: u32, page: u32 },
}

/// Set in every encoded step, so that a plain page number from an earlier version is told apart.
const STEP_MARK: i64 = 1 << 52;

impl ReadStep {
    pub const FIRST: Self = Self::Probe { pass: 0 };

    /// The pass and page number this step reads.
    pub fn page(self) -> (u32, u32) {
        match self {
            Self::Probe { pass } => (pass, 1),
            Self::Down { pass, page } | Self::Forward { pass, page } => (pass, page),
        }
    }

    pub fn encode(self) -> i64 {
        let (kind, pass, page) = match self {
            Self::Probe { pass } => (0, pass, 1),
            Self::Down { pass, page } => (1, pass, page),
            Self::Forward { pass, page } => (2, pass, page),
        };
        STEP_MARK | (kind << 48) | (i64::from(pass & 0xffff) << 32) | i64::from(page)
    }

    /// A stored step; anything else (a page number written by an earlier version) starts the
    /// window again from page 1.
    pub fn decode(code: i64) -> Self {
        if code & STEP_MARK == 0 || code < 0 {
            return Self::FIRST;
        }
        let pass = ((code >> 32) & 0xffff) as u32;
        let page = (code & 0xffff_ffff) as u32;
        match (code >> 48) & 0xf {
            1 if page >= 1 => Self::Down { pass, page },
            2 if page >= 1 => Self::Forward { pass, page },
            _ => Self::Probe { pass },
        }
    }

    /// The step after this one's page came back with `got` records and `total`; `None` when
    /// the window is read.
    fn after(self, got: usize, total: Option<u64>, page_size: u32, passes: u32) -> Option<Self> {
        let next_pass = |pass: u32| (pass + 1 < passes).then_some(Self::Probe { pass: pass + 1 });
        let full = got >= page_size as usize;
        match self {
            Self::Probe { pass } => match total {
                Some(total) => {
                    let pages = total.div_ceil(u64::from(page_size.max(1)));
                    if pages > 1 {
                        Some(Self::Down {
                            pass,
                            page: u32::try_from(pages).unwrap_or(u32::MAX),
                        })
                    } else {
                        next_pass(pass)
                    }
                }
                None if full => Some(Self::Forward { pass, page: 2 }),
                None => next_pass(pass),
            },
            Self::Down { pass, page } if page > 1 => Some(Self::Down {
                pass,
                page: page - 1,
            }),
            Self::Down { pass, .. } => next_pass(pass),
            Self::Forward { pass, page } if full && page < u32::MAX => Some(Self::Forward {
                pass,
                page: page + 1,
            }),
            Self::Forward { pass, .. } => next_pass(pass),
        }
    }
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
    /// Records per page it asks for.
    fn page_size(&self) -> u32;
    /// How many lists one window is read in (a source searching by several times reads each).
    fn passes(&self) -> u32 {
        1
    }
    /// The smallest step of the platform's times: a window ends before the current step, so
    /// that a record changing while it is read is stamped after it.
    fn time_resolution_ms(&self) -> i64 {
        1000
    }
    /// Page `page` (from 1) of pass `pass` (from 0) of the records updated in
    /// `[start_ms, end_ms]`.
    async fn fetch(
        &self,
        start_ms: i64,
        end_ms: i64,
        pass: u32,
        page: u32,
    ) -> Result<FetchedPage, ConnectorError>;
    /// Page 1 of a window read again at the window's end (see the module's doc); `earlier` is
    /// what its first read returned in this run, which the run stores before the window is
    /// done. A source may leave out the records whose text is the same as then (storing them
    /// again would store nothing new), counting them in [`FetchedPage::unchanged`]; by default
    /// the page is read as any other.
    async fn fetch_again(
        &self,
        start_ms: i64,
        end_ms: i64,
        pass: u32,
        page: u32,
        earlier: &PageRecords,
    ) -> Result<FetchedPage, ConnectorError> {
        let _ = earlier;
        self.fetch(start_ms, end_ms, pass, page).await
    }
}

/// Resolves once any of `stops` is `true`; never when there are none (or their senders are
/// gone without asking).
async fn stop_signalled(stops: Vec<tokio::sync::watch::Receiver<bool>>) {
    let waits: Vec<_> = stops
        .into_iter()
        .map(|mut stop| {
            Box::pin(async move {
                if stop.wait_for(|stopping| *stopping).await.is_err() {
                    std::future::pending::<()>().await;
                }
            })
        })
        .collect();
    if waits.is_empty() {
        std::future::pending::<()>().await;
    }
    futures_util::future::select_all(waits).await;
}

/// Waits until `clock` has passed the second it reads now (at most a second): runs started after
/// it read every change made before the call, since their windows end before their own second.
pub async fn settle_current_second(clock: &dyn Clock) {
    let now = clock.now_ms();
    let wait = 1_000 - now.rem_euclid(1_000);
    tokio::time::sleep(Duration::from_millis(wait as u64 + 1)).await;
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
    /// How pages are grouped into commits.
    pub batching: PageBatching,
    /// Called after every stored page with the run so far and the end of the page's window.
    pub on_page: Option<ProgressHook>,
    /// Signals to end the run after the page it is on, or at once while it waits for a quota
    /// slot or a retry (the process stopping, the stream's lease lost): it ends when any of
    /// them is `true`.
    pub stop: Vec<tokio::sync::watch::Receiver<bool>>,
    /// The claim of the stream's lease this run holds (the scheduler's runs): its pages are
    /// written only while the lease is still this claim's. The stop signal comes from a
    /// renewal that may be a third of a lease late; this check is in the pages' own transaction.
    pub lease: Option<shopbridge_store::Claimed>,
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
            batching: PageBatching::default(),
            on_page: None,
            stop: Vec::new(),
            lease: None,
        }
    }

    /// Whether the process asked the run to stop.
    fn stopping(&self) -> bool {
        self.stop.iter().any(|stop| *stop.borrow())
    }

    pub fn stream(&self) -> &'static str {
        self.source.stream()
    }

    fn now_ms(&self) -> i64 {
        self.source.clock().now_ms()
    }

    /// One page, retried as the settings say; returns it with when its call was made. Failed
    /// calls are recorded at once; the successful one is recorded with its page. `None` when
    /// the run was asked to stop while it waited for a quota slot or a retry: the call it
    /// waited to make is not made.
    async fn fetch(
        &self,
        start: i64,
        end: i64,
        (pass, page): (u32, u32),
        earlier: Option<&PageRecords>,
    ) -> Result<Option<(FetchedPage, i64)>, ConnectorError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.attempts)
            .with_jitter();
        let call = self.source.call();
        let stop = self.stop.clone();
        (|| async {
            if self.stopping() {
                return Ok(None);
            }
            if let Some(gate) = &self.gate {
                // Background work never fails on the gate: it waits for a slot, unless the run
                // is to stop. A wait reserves no slot; on Redis, a try in flight when the stop
                // comes may take one that no call then uses, at most one a stopped run.
                tokio::select! {
                    _ = gate.acquire(&call.service, &call.method, &call.caller, Priority::Background) => {}
                    () = stop_signalled(self.stop.clone()) => return Ok(None),
                }
            }
            let result = match earlier {
                Some(earlier) => {
                    self.source
                        .fetch_again(start, end, pass, page, earlier)
                        .await
                }
                None => self.source.fetch(start, end, pass, page).await,
            };
            let at_ms = self.now_ms();
            crate::telemetry::count_platform_call(&call, result.is_ok());
            match result {
                Ok(fetched) => Ok(Some((fetched, at_ms))),
                Err(err) => {
                    crate::telemetry::record_call_in_store(&self.store, at_ms, &call, false).await;
                    Err(err)
                }
            }
        })
        .retry(backoff)
        // A stop cuts the wait before a retry short; the retry then makes no call.
        .sleep(move |wait| {
            let stop = stop.clone();
            async move {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stop_signalled(stop) => {}
                }
            }
        })
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
        let started = std::time::Instant::now();
        let result = self.run_windows(now).await;
        let finished = self.now_ms();
        // One line a run, for operators: what ran, how much, how long, how it ended.
        match &result {
            Ok(report) => tracing::info!(
                connection = %self.connection_id,
                stream = self.stream(),
                pages = report.pages,
                changed = report.changed,
                duration_ms = started.elapsed().as_millis() as u64,
                outcome = report.outcome(),
                "sync run"
            ),
            Err(err) => tracing::info!(
                connection = %self.connection_id,
                stream = self.stream(),
                duration_ms = started.elapsed().as_millis() as u64,
                outcome = "failed",
                error = %err,
                "sync run"
            ),
        }
        match &result {
            Ok(report) => {
                self.store
                    .finish_run(
                        run_id,
                        report.outcome(),
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
                let connection = self.store.connection(&self.connection_id).await?;
                // What the run's record, the console and the webhook say: the platform's answer,
                // but never the database's own error text (the log has it).
                let said = match err {
                    SyncError::Store(_) => {
                        "the hub's store failed during the run; it is retried on schedule"
                            .to_owned()
                    }
                    other => other.to_string(),
                };
                let data = serde_json::json!({
                    "connection_id": self.connection_id,
                    "stream": self.stream(),
                    "status": status,
                    "error": said,
                });
                self.store
                    .fail_run(run_id, status, &said, &connection.tenant_id, data, finished)
                    .await?;
            }
        }
        result
    }

    /// Writes the pages read so far, each with the record of the call that fetched it, and
    /// the checkpoint after them; counts them in the report. If they cannot be written, their
    /// calls are still recorded: they counted against the quota.
    async fn save(&self, unsaved: &mut Unsaved, report: &mut RunReport) -> Result<(), StoreError> {
        let Some(checkpoint) = unsaved.checkpoint.take() else {
            return Ok(());
        };
        let pages = std::mem::take(&mut unsaved.pages);
        unsaved.since = None;
        let call = self.source.call();
        let target = shopbridge_store::PageTarget {
            connection_id: &self.connection_id,
            stream: self.stream(),
            events: self.source.events(),
            now_ms: self.now_ms(),
            lease: self.lease.as_ref(),
        };
        let fetched: Vec<_> = pages
            .iter()
            .map(|page| shopbridge_store::FetchedRecords {
                records: &page.fetched.records,
                call: Some(shopbridge_store::ApiCall {
                    at_ms: page.called_ms,
                    platform: call.platform,
                    service: &call.service,
                    method: &call.method,
                    caller: &call.caller,
                    ok: true,
                }),
            })
            .collect();
        match self
            .store
            .save_fetched_pages(&target, &fetched, checkpoint)
            .await
        {
            Ok(changed) => {
                for (page, changed) in pages.iter().zip(changed) {
                    report.pages += 1;
                    report.fetched += page.fetched.held() as u32;
                    report.unchanged += page.fetched.unchanged as u32;
                    report.changed += changed as u32;
                    if let Some(hook) = &self.on_page {
                        hook(report, page.window_end);
                    }
                }
                Ok(())
            }
            Err(err) => {
                for page in &pages {
                    crate::telemetry::record_call_in_store(
                        &self.store,
                        page.called_ms,
                        &call,
                        true,
                    )
                    .await;
                }
                Err(err)
            }
        }
    }

    /// [`Self::fetch`]; pages read before it are written once they have waited as long as the
    /// batching allows, while the call goes on.
    async fn fetch_saving(
        &self,
        start: i64,
        end: i64,
        step: (u32, u32),
        earlier: Option<&PageRecords>,
        unsaved: &mut Unsaved,
        report: &mut RunReport,
    ) -> Result<Option<(FetchedPage, i64)>, SyncError> {
        let fetch = self.fetch(start, end, step, earlier);
        // No deadline when nothing waits, or when the batching sets none (a `within` too long
        // for the clock).
        let Some(deadline) = unsaved
            .since
            .and_then(|since| since.checked_add(self.batching.within))
        else {
            return Ok(fetch.await?);
        };
        tokio::pin!(fetch);
        tokio::select! {
            biased;
            fetched = &mut fetch => return Ok(fetched?),
            () = tokio::time::sleep_until(deadline) => {}
        }
        // The call goes on while the pages are written, and is waited for even if they cannot
        // be: it counted against the quota and must be recorded either way.
        let (saved, fetched) = tokio::join!(self.save(unsaved, report), &mut fetch);
        if let Err(err) = saved {
            if let Ok(Some((_, called_ms))) = &fetched {
                let call = self.source.call();
                crate::telemetry::record_call_in_store(&self.store, *called_ms, &call, true).await;
            }
            return Err(err.into());
        }
        Ok(fetched?)
    }

    /// The last instant whose records can no longer change while they are read: before the
    /// current step of the source's clock (see the module's doc).
    fn horizon(&self, now: i64) -> i64 {
        let step = self.source.time_resolution_ms().max(1);
        now.div_euclid(step) * step - 1
    }

    /// Windows from the cursor (less the lookback, once per run) up to the horizon, chained so
    /// that a lookback longer than a window still moves forward; the cursor never moves back.
    /// Each window is read as the module's doc says.
    async fn run_windows(&self, now: i64) -> Result<RunReport, SyncError> {
        let mut report = RunReport::default();
        let mut unsaved = Unsaved::default();
        let read = self.read_windows(now, &mut unsaved, &mut report).await;
        // However the reading ended (done, stopping, a call that failed for good), the pages
        // read before are written: the next run goes on after them.
        let saved = self.save(&mut unsaved, &mut report).await;
        let taken_over = matches!(
            (&read, &saved),
            (Err(SyncError::Store(StoreError::LeaseLost { .. })), _)
                | (Ok(()), Err(StoreError::LeaseLost { .. }))
        );
        if taken_over {
            // Another process runs the stream now, from the last checkpoint written: what this
            // run read and did not write, it reads again. An interruption, not a failure.
            tracing::warn!(connection = %self.connection_id, stream = self.stream(),
                "another process has taken this stream over; the pages this run had not written are left to it");
            report.interrupted = true;
            return Ok(report);
        }
        match (read, saved) {
            (Ok(()), Ok(())) => Ok(report),
            (Ok(()), Err(err)) => Err(err.into()),
            (Err(err), saved) => {
                if let Err(save) = saved {
                    tracing::warn!(stream = self.stream(), error = %save, "pages read before a failed call were not stored");
                }
                Err(err)
            }
        }
    }

    /// The reading of [`Self::run_windows`]: pages go to `unsaved`, and are written a batch at
    /// a time.
    async fn read_windows(
        &self,
        now: i64,
        unsaved: &mut Unsaved,
        report: &mut RunReport,
    ) -> Result<(), SyncError> {
        let horizon = self.horizon(now);
        let (page_size, passes) = (self.source.page_size(), self.source.passes());
        let mut checkpoint = self
            .store
            .checkpoint(&self.connection_id, self.stream())
            .await?
            .unwrap_or(Checkpoint {
                cursor_ms: horizon.saturating_sub(self.initial_ms),
                window: None,
            });
        loop {
            let (start, end, mut step) = match checkpoint.window {
                Some((start, end, code)) => (start, end, ReadStep::decode(code)),
                None => {
                    if checkpoint.cursor_ms >= horizon {
                        return Ok(());
                    }
                    let start = (checkpoint.cursor_ms - self.lookback_ms).max(0);
                    (
                        start,
                        start.saturating_add(self.window_ms).min(horizon),
                        ReadStep::FIRST,
                    )
                }
            };
            report.windows += 1;
            // What page 1 returned when the window's reading began in this run: its second
            // read is handed it. (A window resumed from its checkpoint has none.)
            let mut first_read: Option<PageRecords> = None;
            loop {
                // Stopping before a call: the checkpoint, with the pages read, says where to go on.
                if self.stopping() {
                    report.interrupted = true;
                    return Ok(());
                }
                let earlier = match step {
                    ReadStep::Down { page: 1, .. } => first_read.take(),
                    _ => None,
                };
                let Some((fetched, called_ms)) = self
                    .fetch_saving(start, end, step.page(), earlier.as_ref(), unsaved, report)
                    .await?
                else {
                    // Stopped while it waited for a quota slot or a retry: the page's call was
                    // not made (failed tries are recorded), and the checkpoint of the pages
                    // read says where to go on.
                    report.interrupted = true;
                    return Ok(());
                };
                let next = step.after(fetched.held(), fetched.total, page_size, passes);
                if let (ReadStep::Probe { .. }, Some(ReadStep::Down { .. })) = (step, next) {
                    first_read = Some(fetched.records.clone());
                }
                checkpoint = match next {
                    Some(next) => Checkpoint {
                        cursor_ms: checkpoint.cursor_ms,
                        window: Some((start, end, next.encode())),
                    },
                    None if end >= horizon => Checkpoint {
                        cursor_ms: checkpoint.cursor_ms.max(end),
                        window: None,
                    },
                    None => Checkpoint {
                        cursor_ms: checkpoint.cursor_ms.max(end),
                        window: Some((
                            end,
                            end.saturating_add(self.window_ms).min(horizon),
                            ReadStep::FIRST.encode(),
                        )),
                    },
                };
                unsaved.push(
                    UnsavedPage {
                        fetched,
                        called_ms,
                        window_end: end,
                    },
                    checkpoint,
                );
                if unsaved.pages.len() >= self.batching.pages {
                    self.save(unsaved, report).await?;
                }
                // A stop waits for the page in hand: it and its call are stored with the pages
                // read before it, and the checkpoint says where the next run goes on. (A run
                // whose last page this was is complete.)
                let done = next.is_none() && end >= horizon;
                if !done && self.stopping() {
                    report.interrupted = true;
                    return Ok(());
                }
                match next {
                    Some(next) => step = next,
                    None => break,
                }
            }
            if end >= horizon {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ReadStep;

    #[test]
    fn steps_survive_the_checkpoint_and_old_page_numbers_restart_the_window() {
        for step in [
            ReadStep::FIRST,
            ReadStep::Probe { pass: 2 },
            ReadStep::Down { pass: 0, page: 1 },
            ReadStep::Down {
                pass: 1,
                page: 4_000_000,
            },
            ReadStep::Forward { pass: 0, page: 7 },
        ] {
            assert_eq!(ReadStep::decode(step.encode()), step);
        }
        for legacy in [1, 2, 57, 100_001, -3] {
            assert_eq!(ReadStep::decode(legacy), ReadStep::FIRST);
        }
    }

    #[test]
    fn a_window_is_read_from_its_last_page_down_to_its_first() {
        // 250 records, 100 a page: page 1 for the total, then 3, 2, 1.
        let mut step = ReadStep::FIRST;
        let mut pages = vec![step.page().1];
        while let Some(next) = step.after(100, Some(250), 100, 1) {
            step = next;
            pages.push(step.page().1);
        }
        assert_eq!(pages, vec![1, 3, 2, 1]);
        // One page: one call. Several passes: each read alike.
        assert_eq!(ReadStep::FIRST.after(40, Some(40), 100, 1), None);
        assert_eq!(
            ReadStep::FIRST.after(40, Some(40), 100, 3),
            Some(ReadStep::Probe { pass: 1 })
        );
        // No total: front to back until a short page.
        assert_eq!(
            ReadStep::FIRST.after(100, None, 100, 1),
            Some(ReadStep::Forward { pass: 0, page: 2 })
        );
        assert_eq!(
            ReadStep::Forward { pass: 0, page: 2 }.after(3, None, 100, 1),
            None
        );
    }
}
