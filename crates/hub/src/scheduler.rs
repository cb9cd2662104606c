//! The sync scheduler: every active connection's streams on the schedules the guides advise,
//! claimed through leases so that several hub processes share the work, plus token-expiry
//! warnings ahead of time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;
use shopbridge_core::Clock;
use shopbridge_core::capability::{Connector, ConnectorError};
use shopbridge_core::codes::ShopType;
use shopbridge_store::{ClaimScope, Claimed, Connection, ConnectionState, Store};
use shopbridge_vop::jit::connector::JitConnector;
use shopbridge_vop::jit::{DVD_SERVICE, PRODUCT_SERVICE};
use shopbridge_vop::union::order::MAX_WINDOW_MS;
use shopbridge_vop::{Mode, VopClient};
use shopbridge_winit::WinitClient;
use shopbridge_winit::connector::WinitConnector;

use crate::sources::{
    ALL_TIME_MS as ALL_TIME, JIT_ORDERS, JIT_RETURNS, JitReturnSource, OrderStream, PRODUCTS,
    ProductStream, UNION_PIDS, UNION_REFUNDS, UnionOrderSource, UnionPidSource, UnionRefundSource,
    WINIT_OUTBOUND, WinitOutboundSource,
};
use crate::sync::{
    CallKey, DAY_MS, RetryPolicy, RunReport, StreamSource, StreamSync, SyncError, UNION_ORDERS,
};
use crate::{QuotaGate, TokenManager, VopTokens};

const MINUTE_MS: i64 = 60_000;

/// How often a stream runs, how far each run looks back, and how long its query windows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPlan {
    pub stream: &'static str,
    pub interval_ms: i64,
    pub lookback_ms: i64,
    pub window_ms: i64,
    /// How far back the first run reads.
    pub history_ms: i64,
}

/// The streams of a connection by platform and mode. Orders every 3 minutes by update time (the
/// Union guide's advice, followed for every order stream); JIT returns every 30 minutes by
/// creation time; Union refunds every 30 minutes, each window read by application, booking and
/// settlement time, with a day of lookback for the platform's lag; Winit outbound orders, listed by order date,
/// every 10 minutes over 7 days; product and PID lists every 6 hours.
pub fn plans_for(platform: &str, mode: &str) -> Vec<StreamPlan> {
    let plan = |stream, interval_ms, lookback_ms, window_ms| StreamPlan {
        stream,
        interval_ms,
        lookback_ms,
        window_ms,
        history_ms: 30 * DAY_MS,
    };
    match (platform, mode) {
        ("vop", "union_channel" | "union_tool") => vec![
            plan(UNION_ORDERS, 3 * MINUTE_MS, 10 * MINUTE_MS, DAY_MS),
            plan(UNION_REFUNDS, 30 * MINUTE_MS, DAY_MS, MAX_WINDOW_MS),
            plan(UNION_PIDS, 360 * MINUTE_MS, 0, ALL_TIME),
        ],
        ("vop", "jit") => vec![
            // Ninety days of history: ERPs ask GetOrder for the last 30 days and more, and the
            // store answers only what its history covers.
            StreamPlan {
                history_ms: 90 * DAY_MS,
                ..plan(JIT_ORDERS, 3 * MINUTE_MS, 10 * MINUTE_MS, DAY_MS)
            },
            plan(JIT_RETURNS, 30 * MINUTE_MS, 10 * MINUTE_MS, 7 * DAY_MS),
            plan(PRODUCTS, 360 * MINUTE_MS, 0, ALL_TIME),
        ],
        ("winit", _) => vec![
            plan(WINIT_OUTBOUND, 10 * MINUTE_MS, 7 * DAY_MS, 8 * DAY_MS),
            plan(PRODUCTS, 360 * MINUTE_MS, 0, ALL_TIME),
        ],
        _ => Vec::new(),
    }
}

/// The platform applications the hub syncs through.
#[derive(Debug, Clone)]
pub struct Platforms {
    /// The VOP application (no access token): channel-mode calls and refreshes.
    pub vop: VopClient,
    pub tokens: TokenManager,
    pub winit: Option<WinitClient>,
}

#[derive(Deserialize)]
struct WinitCredentials {
    app_key: String,
    token: String,
}

fn unreadable(connection: &Connection, what: &str) -> SyncError {
    SyncError::Settings(format!("connection {}: {what}", connection.id))
}

/// The Union mode a connection works in, or why it is not a Union account: a check that needs
/// no token (unlike [`Platforms::union_client`], which may refresh one).
pub fn union_mode(connection: &Connection) -> Result<Mode, SyncError> {
    match (connection.platform.as_str(), connection.mode.as_str()) {
        ("vop", "union_channel") => Ok(Mode::Channel),
        ("vop", "union_tool") => Ok(Mode::ToolProvider),
        (platform, mode) => Err(SyncError::Settings(format!(
            "a {platform} connection in mode {mode:?} is not a Union account"
        ))),
    }
}

impl Platforms {
    async fn vop_for(&self, connection: &Connection) -> Result<VopClient, SyncError> {
        let token = self
            .tokens
            .access_token(&connection.id)
            .await
            .map_err(|err| {
                let class = match &err {
                    crate::TokenError::NeedsReauthorization(..) => {
                        shopbridge_core::ErrorClass::NeedsReauthorization
                    }
                    _ => shopbridge_core::ErrorClass::Transient,
                };
                SyncError::Platform(ConnectorError {
                    platform: shopbridge_core::Platform::Vop,
                    class,
                    code: None,
                    message: err.to_string(),
                })
            })?;
        Ok(self.vop.with_access_token(token))
    }

    /// A JIT shop's client (with a live token) and vendor id.
    async fn jit_parts(&self, connection: &Connection) -> Result<(VopClient, i64), SyncError> {
        let tokens: VopTokens = serde_json::from_str(connection.credentials.expose_secret())
            .map_err(|_| unreadable(connection, "credentials are not VOP tokens"))?;
        let vendor_id = tokens.vendor_id.ok_or_else(|| {
            unreadable(
                connection,
                "a JIT connection needs its vendor id: connect it again with vendor_id",
            )
        })?;
        Ok((self.vop_for(connection).await?, vendor_id))
    }

    /// A Winit shop's client for its seller, and the seller account.
    fn winit_parts(&self, connection: &Connection) -> Result<(WinitClient, String), SyncError> {
        let winit = self
            .winit
            .as_ref()
            .ok_or_else(|| unreadable(connection, "Winit is not configured in this hub"))?;
        let creds: WinitCredentials = serde_json::from_str(connection.credentials.expose_secret())
            .map_err(|_| unreadable(connection, "credentials are not a Winit app_key and token"))?;
        let seller = winit.for_seller(
            creds.app_key.clone(),
            secrecy::SecretString::from(creds.token),
        );
        Ok((seller, creds.app_key))
    }

    /// A Union account's client and mode: the app's own in channel mode, the user's token in
    /// tool-provider mode.
    pub async fn union_client(
        &self,
        connection: &Connection,
    ) -> Result<(VopClient, Mode), SyncError> {
        match union_mode(connection)? {
            Mode::Channel => Ok((self.vop.clone(), Mode::Channel)),
            Mode::ToolProvider => Ok((self.vop_for(connection).await?, Mode::ToolProvider)),
        }
    }

    /// The connector of a shop for live calls (ship, push stock, check refunds), with a live token.
    pub async fn connector(
        &self,
        connection: &Connection,
    ) -> Result<Arc<dyn Connector>, SyncError> {
        match (connection.platform.as_str(), connection.mode.as_str()) {
            ("vop", "jit") => {
                let (client, vendor_id) = self.jit_parts(connection).await?;
                Ok(Arc::new(JitConnector::new(client, vendor_id)))
            }
            ("winit", _) => Ok(Arc::new(WinitConnector::new(
                self.winit_parts(connection)?.0,
            ))),
            (platform, mode) => Err(SyncError::Settings(format!(
                "a {platform} connection in mode {mode:?} has no order, stock or refund operations"
            ))),
        }
    }

    /// The source of `stream` for a connection, with a live token.
    pub async fn source(
        &self,
        connection: &Connection,
        stream: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn StreamSource>, SyncError> {
        let id = connection.id.as_str();
        match (
            connection.platform.as_str(),
            connection.mode.as_str(),
            stream,
        ) {
            ("vop", "union_channel" | "union_tool", UNION_ORDERS | UNION_REFUNDS | UNION_PIDS) => {
                let (client, mode) = self.union_client(connection).await?;
                Ok(match stream {
                    UNION_ORDERS => Arc::new(UnionOrderSource::new(client, mode, id)),
                    UNION_REFUNDS => Arc::new(UnionRefundSource::new(client, mode, id)),
                    _ => Arc::new(UnionPidSource::new(client, mode, id)),
                })
            }
            ("vop", "jit", JIT_ORDERS | JIT_RETURNS | PRODUCTS) => {
                let (client, vendor_id) = self.jit_parts(connection).await?;
                let caller = id.to_owned();
                if stream == JIT_RETURNS {
                    return Ok(Arc::new(JitReturnSource {
                        client,
                        vendor_id,
                        caller,
                    }));
                }
                let connector: Arc<dyn Connector> = Arc::new(JitConnector::new(client, vendor_id));
                if stream == JIT_ORDERS {
                    Ok(Arc::new(OrderStream {
                        connector,
                        clock,
                        shop_type: Some(ShopType::Jitx),
                        max_window_ms: MAX_WINDOW_MS,
                        call: CallKey {
                            platform: "vop",
                            service: DVD_SERVICE.into(),
                            method: "getOrderList".into(),
                            caller,
                        },
                    }))
                } else {
                    Ok(Arc::new(ProductStream {
                        connector,
                        clock,
                        page_size: 100,
                        call: CallKey {
                            platform: "vop",
                            service: PRODUCT_SERVICE.into(),
                            method: "multiGetProductSkuInfo".into(),
                            caller,
                        },
                    }))
                }
            }
            ("winit", _, WINIT_OUTBOUND | PRODUCTS) => {
                let (seller, app_key) = self.winit_parts(connection)?;
                if stream == WINIT_OUTBOUND {
                    Ok(Arc::new(WinitOutboundSource { client: seller }))
                } else {
                    Ok(Arc::new(ProductStream {
                        connector: Arc::new(WinitConnector::new(seller)),
                        clock,
                        page_size: 200,
                        call: CallKey {
                            platform: "winit",
                            service: "openapi".into(),
                            method: "winit.mms.item.list".into(),
                            caller: app_key,
                        },
                    }))
                }
            }
            (platform, mode, stream) => Err(SyncError::Settings(format!(
                "no stream {stream:?} for a {platform} connection in mode {mode:?}"
            ))),
        }
    }
}

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
            lease_ms: 10 * MINUTE_MS,
            retry: RetryPolicy::default(),
            gate: None,
            warn_ahead_ms: 7 * DAY_MS,
            on_page: None,
            wake: Arc::new(tokio::sync::Notify::new()),
            catch_ups: Arc::default(),
        }
    }

    /// Schedules the streams of every active connection (new connections start due now).
    pub async fn plan(&self) -> Result<usize, SyncError> {
        let now = self.clock.now_ms();
        let mut planned = 0;
        for connection in self.store.connection_summaries().await? {
            if !matches!(
                connection.state,
                ConnectionState::Active | ConnectionState::Refreshing
            ) {
                continue;
            }
            for plan in plans_for(&connection.platform, &connection.mode) {
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

    /// Refreshes, ahead of time, every VOP token that expires within the token manager's margin
    /// (single-flight across processes); returns how many connections were checked.
    pub async fn refresh_expiring(&self) -> Result<usize, SyncError> {
        let now = self.clock.now_ms();
        let mut checked = 0;
        for connection in self.store.connection_summaries().await? {
            let due = connection.platform == "vop"
                && connection.mode != "union_channel"
                && matches!(
                    connection.state,
                    ConnectionState::Active | ConnectionState::Refreshing
                )
                && connection
                    .access_expires_ms
                    .is_some_and(|at| at <= now + self.platforms.tokens.margin_ms);
            if !due {
                continue;
            }
            checked += 1;
            if let Err(err) = self.platforms.tokens.access_token(&connection.id).await {
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
        if let Some(plan) = plans_for(&connection.platform, &connection.mode)
            .into_iter()
            .find(|p| p.stream == claimed.stream)
        {
            sync.lookback_ms = plan.lookback_ms;
            sync.window_ms = plan.window_ms;
            sync.initial_ms = plan.history_ms;
        }
        sync.retry = self.retry;
        sync.gate = self.gate.clone();
        if let Some(progress) = self.on_page.clone() {
            let (connection_id, stream) = (claimed.connection_id.clone(), claimed.stream.clone());
            sync.on_page = Some(Arc::new(move |report, window_end| {
                progress(&connection_id, &stream, report, window_end)
            }));
        }
        // Keep the lease while the run lasts; stop if another process took it over.
        let renewer = {
            let store = self.store.clone();
            let claimed = claimed.clone();
            let owner = self.owner.clone();
            let clock = self.clock.clone();
            let lease_ms = self.lease_ms;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis((lease_ms / 3).max(1) as u64)).await;
                    match store
                        .renew_lease(&claimed, &owner, clock.now_ms() + lease_ms)
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(err) => tracing::warn!(error = %err, "could not renew a sync lease"),
                    }
                }
            })
        };
        let result = sync.run().await;
        renewer.abort();
        result
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
            let Some(plan) = plans_for(&connection.platform, &connection.mode)
                .into_iter()
                .find(|plan| plan.stream == stream)
            else {
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
        let Some(claimed) = self
            .store
            .claim_due_of(&self.owner, self.clock.now_ms(), self.lease_ms, scope)
            .await?
        else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        let result = self.run_claimed(&claimed).await;
        crate::telemetry::sync_run(
            &claimed.stream,
            result.is_ok(),
            started.elapsed().as_secs_f64(),
        );
        let status = match &result {
            Ok(_) => "complete".to_owned(),
            Err(err) => {
                tracing::warn!(connection = %claimed.connection_id, stream = %claimed.stream, error = %err, "sync run failed");
                format!("failed: {err}")
            }
        };
        self.store
            .release_lease(&claimed, &self.owner, &status, self.clock.now_ms())
            .await?;
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

    /// Runs forever, looking for due work every `poll`; store errors are logged and retried.
    pub async fn run_forever(&self, poll: Duration) {
        loop {
            if let Err(err) = self.run_until_idle().await {
                tracing::warn!(error = %err, "scheduler pass failed");
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = self.wake.notified() => {}
            }
        }
    }
}
