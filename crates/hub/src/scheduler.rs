//! The sync scheduler: every active connection's streams on the schedules the guides advise,
//! claimed through leases so that several hub processes share the work, plus token-expiry
//! warnings ahead of time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use shopbridge_core::Clock;
use shopbridge_store::{ClaimScope, Claimed, Connection, ConnectionState, Store};

use crate::QuotaGate;
use crate::platforms::MINUTE_MS;
pub use crate::platforms::{Platforms, StreamPlan};
use crate::sync::{DAY_MS, RetryPolicy, RunReport, StreamSync, SyncError};

/// One scheduled run and how it ended.
#[derive(Debug)]
pub struct RunOutcome {
    pub connection_id: String,
    pub stream: String,
    pub result: Result<RunReport, SyncError>,
}

/// A token that will soon stop working, raised once per token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryWarning {
    pub connection_id: String,
    /// `access` (no refresh token to renew it) or `refresh` (the shop must authorize again).
    pub kind: &'static str,
    pub expires_ms: i64,
}

/// Runs due streams; any number of schedulers may share one database.
#[derive(Clone)]
pub struct Scheduler {
    pub store: Store,
    pub platforms: Platforms,
    pub clock: Arc<dyn Clock>,
    /// This process's name on the leases it holds.
    pub owner: String,
    /// How long a claimed stream stays leased without renewal (a dead process's streams are
    /// picked up after this).
    pub lease_ms: i64,
    pub retry: RetryPolicy,
    pub gate: Option<QuotaGate>,
    /// Warn this long before a token that cannot be renewed expires.
    pub warn_ahead_ms: i64,
    /// Called after every stored page of any run: `(connection id, stream, run so far, window end)`.
    pub on_page: Option<RunProgress>,
    /// Wakes [`Scheduler::run_forever`] before its poll interval ends (a shop just connected).
    pub wake: Arc<tokio::sync::Notify>,
    /// One lock per (shop, stream) that reads are catching up: concurrent reads share a run.
    catch_ups: Arc<std::sync::Mutex<CatchUpLocks>>,
    /// Set when the process stops: no new run starts, and runs end after their current page.
    /// Every clone shares it: stopping one stops them all.
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    /// How many runs this process has in progress, wherever they were started (the scheduler's
    /// loop, a read catching a stream up, "sync now"), so that a stop can wait for them all.
    active: Arc<tokio::sync::watch::Sender<usize>>,
}

/// Counts a run as in progress while it lives.
struct ActiveRun(Arc<tokio::sync::watch::Sender<usize>>);

impl ActiveRun {
    fn start(active: &Arc<tokio::sync::watch::Sender<usize>>) -> Self {
        active.send_modify(|n| *n += 1);
        Self(active.clone())
    }
}

impl Drop for ActiveRun {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// The lock of each (shop, stream) being caught up for reads.
type CatchUpLocks = HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

/// A progress callback for scheduled runs.
pub type RunProgress = Arc<dyn Fn(&str, &str, &RunReport, i64) + Send + Sync>;

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("owner", &self.owner)
            .field("lease_ms", &self.lease_ms)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    pub fn new(
        store: Store,
        platforms: Platforms,
        clock: Arc<dyn Clock>,
        owner: impl Into<String>,
    ) -> Self {
        Self {
            store,
            platforms,
            clock,
            owner: owner.into(),
            lease_ms: LEASE_MS,
            retry: RetryPolicy::default(),
            gate: None,
            warn_ahead_ms: 7 * DAY_MS,
            on_page: None,
            wake: Arc::new(tokio::sync::Notify::new()),
            catch_ups: Arc::default(),
            stop: Arc::new(tokio::sync::watch::Sender::new(false)),
            active: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// Asks the scheduler to stop: no new run starts, and a run in progress ends after the page
    /// it is on, or at once while it waits for a quota slot or a retry (recorded `interrupted`,
    /// its stream due again at once, so the next process to look resumes it from its
    /// checkpoint). [`Scheduler::run_forever`] then returns.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves when no run of this process is in progress (after [`Scheduler::stop`], once
    /// each has finished its page).
    pub async fn runs_ended(&self) {
        let mut active = self.active.subscribe();
        let _ = active.wait_for(|n| *n == 0).await;
    }

    /// Schedules the streams of every active connection (new connections start due now).
    pub async fn plan(&self) -> Result<usize, SyncError> {
        let connections = self.store.connection_summaries().await?;
        self.plan_these(connections).await
    }

    /// [`Scheduler::plan`] for one tenant's shops only.
    pub async fn plan_tenant(&self, tenant: &str) -> Result<usize, SyncError> {
        let connections = self.store.tenant_connections(tenant).await?;
        self.plan_these(connections).await
    }

    async fn plan_these(
        &self,
        connections: Vec<shopbridge_store::ConnectionSummary>,
    ) -> Result<usize, SyncError> {
        let now = self.clock.now_ms();
        let mut planned = 0;
        for connection in connections {
            if !matches!(
                connection.state,
                ConnectionState::Active | ConnectionState::Refreshing
            ) {
                continue;
            }
            for plan in self.platforms.plans(connection.kind) {
                self.store
                    .ensure_schedule(&connection.id, plan.stream, plan.interval_ms, now)
                    .await?;
                planned += 1;
            }
        }
        Ok(planned)
    }

    /// Raises each warning once: tokens that expire within `warn_ahead_ms` and cannot be
    /// renewed (a refresh token about to expire, or an access token without one).
    pub async fn warn_expiring(&self) -> Result<Vec<ExpiryWarning>, SyncError> {
        let now = self.clock.now_ms();
        let mut raised = Vec::new();
        for connection in self.store.connection_summaries().await? {
            if !matches!(
                connection.state,
                ConnectionState::Active | ConnectionState::Refreshing
            ) {
                continue;
            }
            let expiring = match (connection.refresh_expires_ms, connection.access_expires_ms) {
                (Some(refresh), _) => Some(("refresh", refresh)),
                (None, Some(access)) => Some(("access", access)),
                (None, None) => None,
            };
            let Some((kind, expires_ms)) =
                expiring.filter(|(_, at)| *at <= now + self.warn_ahead_ms)
            else {
                continue;
            };
            if self
                .store
                .note_expiry_warning(&connection.id, kind, expires_ms, now)
                .await?
            {
                let detail = format!(
                    "{kind} token expires at {expires_ms} (in {} h): authorize the shop again before then",
                    (expires_ms - now) / 3_600_000
                );
                tracing::warn!(connection = %connection.id, %detail, "token expiring");
                self.store
                    .audit(
                        now,
                        Some(&connection.tenant_id),
                        Some(&connection.id),
                        "token_expiring",
                        &detail,
                    )
                    .await?;
                raised.push(ExpiryWarning {
                    connection_id: connection.id,
                    kind,
                    expires_ms,
                });
            }
        }
        Ok(raised)
    }

    /// Refreshes, ahead of time, every token its platform's adapter finds due (single-flight
    /// across processes); returns how many connections were due.
    pub async fn refresh_expiring(&self) -> Result<usize, SyncError> {
        let now = self.clock.now_ms();
        let mut checked = 0;
        for connection in self.store.connection_summaries().await? {
            let Some(refreshed) = self.platforms.refresh_if_expiring(&connection, now).await else {
                continue;
            };
            checked += 1;
            if let Err(err) = refreshed {
                tracing::warn!(connection = %connection.id, error = %err, "proactive refresh failed");
            }
        }
        Ok(checked)
    }

    async fn run_claimed(&self, claimed: &Claimed) -> Result<RunReport, SyncError> {
        let connection = self.store.connection(&claimed.connection_id).await?;
        let source = self
            .platforms
            .source(&connection, &claimed.stream, self.clock.clone())
            .await?;
        let mut sync = StreamSync::new(self.store.clone(), source, &claimed.connection_id);
        if let Some(plan) = self.platforms.plan(connection.kind, &claimed.stream) {
            sync.lookback_ms = plan.lookback_ms;
            sync.window_ms = plan.window_ms;
            sync.initial_ms = plan.history_ms;
        }
        sync.retry = self.retry;
        sync.gate = self.gate.clone();
        sync.stop = vec![self.stop.subscribe()];
        if let Some(progress) = self.on_page.clone() {
            let (connection_id, stream) = (claimed.connection_id.clone(), claimed.stream.clone());
            sync.on_page = Some(Arc::new(move |report, window_end| {
                progress(&connection_id, &stream, report, window_end)
            }));
        }
        self.lease().run(claimed, sync).await
    }

    /// This scheduler's hold on the streams it claims.
    fn lease(&self) -> Lease<'_> {
        Lease {
            store: &self.store,
            owner: &self.owner,
            lease_ms: self.lease_ms,
            clock: &self.clock,
        }
    }

    /// Claims and runs one due stream; `None` when nothing is due.
    pub async fn run_one(&self) -> Result<Option<RunOutcome>, SyncError> {
        self.run_one_of(ClaimScope::Any).await
    }

    /// Brings one stream of a shop up to `needed` (its stored history then reaches past that
    /// moment) for a read that must not answer from stale data: one run, shared by the reads
    /// waiting for the same stream, skipped when a run that finished meanwhile already covers
    /// it. Answers the stream's coverage afterwards. Runs in a task of its own, so that a read
    /// giving up waiting does not cut a run short.
    pub async fn catch_up(
        &self,
        connection: &Connection,
        stream: &str,
        needed: i64,
        wait: Duration,
    ) -> Result<Option<(i64, i64)>, SyncError> {
        let shop_id = connection.id.clone();
        let key = (shop_id.clone(), stream.to_owned());
        let lock = {
            let mut locks = self
                .catch_ups
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            locks.entry(key).or_default().clone()
        };
        let this = self.clone();
        let (connection, stream_name) = (connection.clone(), stream.to_owned());
        let run = tokio::spawn(async move {
            let _turn = lock.lock().await;
            let covered = this.store.coverage(&connection.id, &stream_name).await?;
            if covered.is_some_and(|(_, until)| until > needed) {
                return Ok(());
            }
            // Runs end their windows before their own clock step (a second at most): a moment
            // in the current second is covered only by a run that starts in the next one.
            if needed >= this.clock.now_ms().div_euclid(1_000) * 1_000 {
                crate::sync::settle_current_second(this.clock.as_ref()).await;
            }
            this.run_stream_now(&connection, &stream_name)
                .await
                .map(drop)
        });
        match tokio::time::timeout(wait, run).await {
            Ok(Ok(Err(err))) => {
                tracing::warn!(shop = %shop_id, stream, error = %err, "catching a stream up for a read failed");
            }
            Ok(Err(err)) => {
                tracing::warn!(shop = %shop_id, stream, error = %err, "catching a stream up for a read failed");
            }
            Ok(Ok(Ok(()))) | Err(_) => {}
        }
        Ok(self.store.coverage(&shop_id, stream).await?)
    }

    /// Makes one stream of a shop due and runs it here; `None` when another process holds it or
    /// the shop is not active.
    pub async fn run_stream_now(
        &self,
        connection: &Connection,
        stream: &str,
    ) -> Result<Option<RunOutcome>, SyncError> {
        let now = self.clock.now_ms();
        // The schedule is made only for a shop the planner has not seen yet: a catch-up for
        // every read must not write twice where one update does.
        if !self.store.run_now(&connection.id, stream, now).await? {
            let Some(plan) = self.platforms.plan(connection.kind, stream) else {
                return Ok(None);
            };
            self.store
                .ensure_schedule(&connection.id, stream, plan.interval_ms, now)
                .await?;
        }
        self.run_one_of(ClaimScope::Stream(&connection.id, stream))
            .await
    }

    /// Claims and runs one due stream within `scope`.
    pub async fn run_one_of(&self, scope: ClaimScope<'_>) -> Result<Option<RunOutcome>, SyncError> {
        if self.stopping() {
            return Ok(None);
        }
        let Some(claimed) = self
            .store
            .claim_due_of(&self.owner, self.clock.now_ms(), self.lease_ms, scope)
            .await?
        else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        let _active = ActiveRun::start(&self.active);
        let result = self.run_claimed(&claimed).await;
        crate::telemetry::sync_run(
            &claimed.stream,
            match &result {
                Ok(report) => report.outcome(),
                Err(_) => "failed",
            },
            started.elapsed().as_secs_f64(),
        );
        self.lease().release(&claimed, &result).await;
        Ok(Some(RunOutcome {
            connection_id: claimed.connection_id,
            stream: claimed.stream,
            result,
        }))
    }

    /// Plans, refreshes tokens about to expire, warns, and runs due streams until none is due.
    pub async fn run_until_idle(&self) -> Result<Vec<RunOutcome>, SyncError> {
        self.plan().await?;
        self.refresh_expiring().await?;
        self.warn_expiring().await?;
        let mut outcomes = Vec::new();
        while let Some(outcome) = self.run_one().await? {
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Runs until [`Scheduler::stop`], looking for due work every `poll`; store errors are
    /// logged and retried.
    pub async fn run_forever(&self, poll: Duration) {
        let mut stop = self.stop.subscribe();
        while !self.stopping() {
            if let Err(err) = self.run_until_idle().await {
                tracing::warn!(error = %err, "scheduler pass failed");
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = self.wake.notified() => {}
                _ = stop.wait_for(|stopping| *stopping) => {}
            }
        }
    }
}

/// How long a claimed stream stays leased without renewal, unless a scheduler sets otherwise.
pub const LEASE_MS: i64 = 10 * MINUTE_MS;

/// Holding one stream's lease for a run: what a scheduled run and a run by hand share.
struct Lease<'a> {
    store: &'a Store,
    owner: &'a str,
    lease_ms: i64,
    clock: &'a Arc<dyn Clock>,
}

/// The lease's renewal while a run lasts. Dropped with the run (its future dropped half-way,
/// say by a request that gave up), it stops renewing and hands the stream back as interrupted,
/// instead of holding it for as long as the process lives.
struct Renewal {
    task: tokio::task::JoinHandle<()>,
    /// What the hand-back needs, until the run has ended and its caller releases the lease.
    pending: Option<(Store, String, Claimed, Arc<dyn Clock>)>,
}

impl Renewal {
    /// The run ended: its caller hands the stream back with the outcome.
    fn finish(mut self) {
        self.pending = None;
    }
}

impl Drop for Renewal {
    fn drop(&mut self) {
        self.task.abort();
        if let (Some((store, owner, claimed, clock)), Ok(runtime)) =
            (self.pending.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(async move {
                if let Err(err) = store
                    .release_interrupted(&claimed, &owner, clock.now_ms())
                    .await
                {
                    tracing::warn!(connection = %claimed.connection_id, stream = %claimed.stream, error = %err,
                        "could not hand back the stream of a run that was cut off; its lease lapses instead");
                }
            });
        }
    }
}

impl Lease<'_> {
    /// Runs `sync` under `claimed`: its pages are written only while the claim holds, runs a
    /// stopped process left "fetching" are ended first, and the lease is renewed while the run
    /// lasts. Besides the sync's own stops, the run stops after its page (or at once while it
    /// waits for a quota slot or a retry) when the lease is lost.
    async fn run(&self, claimed: &Claimed, mut sync: StreamSync) -> Result<RunReport, SyncError> {
        sync.lease = Some(claimed.clone());
        let lease_lost = Arc::new(tokio::sync::watch::Sender::new(false));
        sync.stop.push(lease_lost.subscribe());
        // The stream is this process's now: a run of it still "fetching" was left by a process
        // that stopped without ending it (killed, or cut off while it shut down). Every run
        // holds the lease, so none of them is live.
        self.store
            .interrupt_abandoned_runs(&claimed.connection_id, &claimed.stream, self.clock.now_ms())
            .await?;
        // Keep the lease while the run lasts. If another process took it over (this one's
        // lapsed), the run stops after its page rather than run the stream beside it; the page
        // writes check the claim themselves, so nothing it had not written is written after.
        let task = {
            let store = self.store.clone();
            let claimed = claimed.clone();
            let owner = self.owner.to_owned();
            let clock = self.clock.clone();
            let lease_ms = self.lease_ms;
            let lease_lost = lease_lost.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis((lease_ms / 3).max(1) as u64)).await;
                    match store
                        .renew_lease(&claimed, &owner, clock.now_ms() + lease_ms)
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(connection = %claimed.connection_id, stream = %claimed.stream,
                                "this run's lease on the stream ended (it lapsed and was claimed again); the run stops after its page");
                            lease_lost.send_replace(true);
                            return;
                        }
                        Err(err) => tracing::warn!(error = %err, "could not renew a sync lease"),
                    }
                }
            })
        };
        let renewal = Renewal {
            task,
            pending: Some((
                self.store.clone(),
                self.owner.to_owned(),
                claimed.clone(),
                self.clock.clone(),
            )),
        };
        let result = sync.run().await;
        renewal.finish();
        result
    }

    /// Hands the stream back with its run's outcome: due again at once after an interrupted
    /// run (whichever process looks next resumes it from its checkpoint), after its interval
    /// otherwise. A hand-back that fails is logged, not returned: the run's own outcome is what
    /// its caller needs, and the lease then lapses on its own.
    async fn release(&self, claimed: &Claimed, result: &Result<RunReport, SyncError>) {
        let now = self.clock.now_ms();
        let released = match result {
            Ok(report) if report.interrupted => {
                self.store
                    .release_interrupted(claimed, self.owner, now)
                    .await
            }
            Ok(_) => {
                self.store
                    .release_lease(claimed, self.owner, "complete", now)
                    .await
            }
            Err(err) => {
                tracing::warn!(connection = %claimed.connection_id, stream = %claimed.stream, error = %err, "sync run failed");
                self.store
                    .release_lease(claimed, self.owner, &format!("failed: {err}"), now)
                    .await
            }
        };
        if let Err(err) = released {
            tracing::warn!(connection = %claimed.connection_id, stream = %claimed.stream, error = %err,
                "could not hand the stream back; its lease lapses instead");
        }
    }
}

/// Runs one stream of a shop by hand (the `sync` command) under the same lease scheduled runs
/// take: the stream is claimed now whatever its schedule (made with `interval_ms` if it has
/// none), its lease renewed while the run lasts and handed back with the outcome, so a serving
/// hub never runs the stream beside it, and never takes the run for one a stopped process left.
/// Refused with [`SyncError::Held`] while another run holds the stream, unless `holder_is_gone`
/// says its holder has exited (a killed `sync` of this machine): that very claim is then taken
/// over, and any claim made since is left alone.
pub async fn run_by_hand(
    store: &Store,
    owner: &str,
    clock: Arc<dyn Clock>,
    interval_ms: i64,
    sync: StreamSync,
    holder_is_gone: impl Fn(&str) -> bool,
) -> Result<RunReport, SyncError> {
    let connection_id = sync.connection_id.clone();
    let stream = sync.stream().to_owned();
    let connection = store.connection(&connection_id).await?;
    if !matches!(
        connection.state,
        ConnectionState::Active | ConnectionState::Refreshing
    ) {
        return Err(SyncError::Inactive(format!(
            "shop {connection_id} is {}: only an active shop is synced; authorize it again to resume its sync",
            connection.state.as_str()
        )));
    }
    let now = clock.now_ms();
    if !store.run_now(&connection_id, &stream, now).await? {
        store
            .ensure_schedule(&connection_id, &stream, interval_ms, now)
            .await?;
    }
    let mut claimed = store
        .claim_due_of(
            owner,
            now,
            LEASE_MS,
            ClaimScope::Stream(&connection_id, &stream),
        )
        .await?;
    let mut holder = match claimed {
        Some(_) => None,
        None => store.lease_of(&connection_id, &stream).await?,
    };
    if let Some((gone, _, held)) = holder
        .as_ref()
        .filter(|(holder, _, _)| holder_is_gone(holder))
    {
        claimed = store
            .take_over_lease(held, gone, owner, now, LEASE_MS)
            .await?;
        match claimed {
            Some(_) => tracing::warn!(stream, shop = %connection_id, holder = %gone,
                "the process holding this stream's lease has exited; took the stream over"),
            // Claimed by someone else meanwhile: say who holds it now.
            None => holder = store.lease_of(&connection_id, &stream).await?,
        }
    }
    let Some(claimed) = claimed else {
        let holder = match holder {
            Some((holder, until_ms, _)) => {
                let until = chrono::DateTime::from_timestamp_millis(until_ms).map_or_else(
                    || format!("{until_ms} ms since the epoch"),
                    |at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                );
                format!("by {holder} (its lease runs until {until}, renewed while it runs)")
            }
            None => "by another run, or the shop's state changed meanwhile".to_owned(),
        };
        return Err(SyncError::Held(format!(
            "{stream} of shop {connection_id} is being synced {holder}: try again when that run has ended"
        )));
    };
    let lease = Lease {
        store,
        owner,
        lease_ms: LEASE_MS,
        clock: &clock,
    };
    let result = lease.run(&claimed, sync).await;
    lease.release(&claimed, &result).await;
    result
}
