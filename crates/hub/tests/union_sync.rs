//! Union order sync against the sandbox over loopback, into SQLite and PostgreSQL: 20 simulated
//! days end with the store equal to the sandbox's order set, also under injected faults and
//! after runs cut off at random points.

mod common;

use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use secrecy::SecretString;
use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_core::capability::ConnectorError;
use shopbridge_hub::{RetryPolicy, RunReport, StreamSource, StreamSync, SyncError};
use shopbridge_sandbox::RunningSandbox;
use shopbridge_store::{MasterKey, NewConnection, Store};
use shopbridge_vop::{Mode, VopClient};

const DAY: i64 = 86_400;

struct Env {
    sandbox: RunningSandbox,
    client: VopClient,
    http: reqwest::Client,
    links: Vec<String>,
}

impl Env {
    async fn start() -> Self {
        let sandbox = common::sandbox(300).await;
        let client = common::vop_client(&sandbox);
        let links = common::demo_links(&client, 5).await;
        let http = common::http();
        Self {
            sandbox,
            client,
            http,
            links,
        }
    }

    async fn admin(&self, path: &str, body: Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.sandbox.base_url()))
            .json(&body)
            .send()
            .await
            .expect("admin");
        assert!(response.status().is_success(), "{path}");
    }

    /// The sandbox's truth: every order of the demo app as orderList shows it now.
    fn truth(&self) -> Vec<(String, Option<String>, Option<String>, i64)> {
        let now = self.sandbox.clock().now_ms();
        // Read the app key before locking the sandbox's state (its lock is not reentrant).
        let app_key = self.sandbox.credentials().vop.app_key.clone();
        self.sandbox
            .state()
            .vop()
            .union
            .orders
            .order_set(&app_key, now)
    }
}

async fn sync_for(env: &Env, store: &Store) -> StreamSync {
    let tenant = store
        .create_tenant("erp", "erp", &SecretString::from("s"), 0)
        .await
        .expect("tenant");
    let connection = store
        .create_connection(
            &NewConnection {
                tenant_id: &tenant,
                kind: shopbridge_core::ShopKind::VopUnionChannel,
                name: "channel",
                credentials: &SecretString::from("{}"),
                access_expires_ms: None,
                refresh_expires_ms: None,
            },
            0,
        )
        .await
        .expect("connection");
    let mut sync = shopbridge_hub::sources::union_order_sync(
        store.clone(),
        env.client.clone(),
        Mode::Channel,
        connection,
    );
    sync.retry = RetryPolicy {
        attempts: 12,
        min_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
    };
    sync
}

/// 20 days of buyers and daily syncs, then 16 more days so that everything settles.
async fn twenty_days(env: &Env, sync: &StreamSync, interrupt: bool) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for day in 0..20 {
        for _ in 0..rng.random_range(2..6) {
            let link = &env.links[rng.random_range(0..env.links.len())];
            env.admin(
                "/_sandbox/vop/union/clicks",
                json!({"link": link, "orders": rng.random_range(1..3)}),
            )
            .await;
        }
        env.admin("/_sandbox/clock", json!({"advance_seconds": DAY}))
            .await;
        if interrupt && day % 2 == 0 {
            // Cut a run off at a random point; the next one resumes from the last page stored.
            let cut = Duration::from_millis(rng.random_range(1..15));
            let _ = tokio::time::timeout(cut, sync.run()).await;
        }
        sync.run()
            .await
            .unwrap_or_else(|err| panic!("day {day}: {err}"));
    }
    env.admin("/_sandbox/clock", json!({"advance_seconds": 16 * DAY}))
        .await;
    sync.run().await.expect("final run");
}

async fn assert_equal(env: &Env, sync: &StreamSync) {
    let stored = sync
        .store
        .union_orders(&sync.connection_id)
        .await
        .expect("stored");
    let truth = env.truth();
    assert!(truth.len() > 40, "{} orders", truth.len());
    assert_eq!(stored.len(), truth.len(), "no order lost or duplicated");
    assert_eq!(
        stored, truth,
        "statuses, commissions and update times match"
    );
    assert!(stored.iter().all(|(_, stage, _, _)| matches!(
        stage.as_deref(),
        Some("已结算" | "已失效" | "待结算" | "已签收")
    )));
}

#[tokio::test]
async fn twenty_days_into_sqlite_equal_the_sandbox() {
    let env = Env::start().await;
    let store = common::sqlite_store().await;
    let sync = sync_for(&env, &store).await;
    twenty_days(&env, &sync, false).await;
    assert_equal(&env, &sync).await;
    // A run with nothing new changes nothing.
    let quiet = sync.run().await.expect("quiet run");
    assert_eq!(quiet.changed, 0);
    let report = store.quota_report(0, i64::MAX / 2).await.expect("report");
    assert_eq!(report.len(), 1);
    assert_eq!(
        (report[0].method.as_str(), report[0].success_rate),
        ("orderList", 1.0)
    );
    assert!(report[0].calls > 50 && report[0].peak_use.is_some_and(|p| p <= 1.0));
    // Every call the gateway saw is recorded once: a page's call goes with its page.
    let gateway: Value = common::gateway_log(&env.sandbox, "orderList").await;
    assert_eq!(Some(report[0].calls as u64), gateway["calls"].as_u64());
}

#[tokio::test]
async fn twenty_days_into_postgres_equal_the_sandbox() {
    let env = Env::start().await;
    let database = common::PgDatabase::create().await;
    let store = database.open(MasterKey::generate()).await;
    let sync = sync_for(&env, &store).await;
    twenty_days(&env, &sync, false).await;
    assert_equal(&env, &sync).await;
    store.pool().close().await;
    database.drop_now().await;
}

#[tokio::test]
async fn faults_and_interrupted_runs_lose_and_duplicate_nothing() {
    let env = Env::start().await;
    let store = common::sqlite_store().await;
    let sync = sync_for(&env, &store).await;
    let (tenant, _) = store
        .tenant_by_app_key("erp")
        .await
        .expect("lookup")
        .expect("tenant");
    let hook = store
        .create_webhook(
            &tenant,
            "http://127.0.0.1:9/hook",
            &["union_order.created".into(), "union_order.updated".into()],
            &SecretString::from("hook-secret"),
            0,
        )
        .await
        .expect("webhook");
    env.admin("/_sandbox/faults", json!({"error_rate": 0.15, "malformed_rate": 0.1, "drop_rate": 0.05, "path_prefix": "/vop"})).await;
    twenty_days(&env, &sync, true).await;
    env.admin("/_sandbox/faults", json!({})).await;
    assert_equal(&env, &sync).await;

    // The outbox announced every stored version once: one `created` per order, one `updated`
    // per later version, none twice despite the faults and the runs cut off mid-page.
    let deliveries = store
        .webhook_deliveries(&tenant, &hook, 100_000)
        .await
        .expect("deliveries");
    let mut announced: Vec<(String, String, i64)> = deliveries
        .iter()
        .map(|(delivery, _)| {
            let body: Value = serde_json::from_str(&delivery.payload).expect("json");
            (
                body["data"]["order_sn"]
                    .as_str()
                    .expect("order_sn")
                    .to_owned(),
                delivery.event.clone(),
                body["data"]["order"]["lastUpdateTime"]
                    .as_i64()
                    .expect("time"),
            )
        })
        .collect();
    announced.sort();
    let mut versions = Vec::new();
    for (order_sn, _, _, _) in env.truth() {
        let history = store
            .union_order_versions(&sync.connection_id, &order_sn)
            .await
            .expect("versions");
        for (i, (updated, _, _)) in history.into_iter().enumerate() {
            let event = if i == 0 {
                "union_order.created"
            } else {
                "union_order.updated"
            };
            versions.push((order_sn.clone(), event.to_owned(), updated));
        }
    }
    versions.sort();
    assert_eq!(announced, versions);
    let report = store.quota_report(0, i64::MAX / 2).await.expect("report");
    assert!(
        report[0].success_rate < 0.98,
        "faults show in the success rate: {}",
        report[0].success_rate
    );
    assert!(!report[0].upgrade_eligible);
}

#[tokio::test]
async fn an_expired_token_marks_the_connection_for_reauthorization() {
    let env = Env::start().await;
    let store = common::sqlite_store().await;
    let mut sync = sync_for(&env, &store).await;
    sync.source = Arc::new(shopbridge_hub::sources::UnionOrderSource::new(
        env.client.with_access_token("0000"),
        Mode::ToolProvider,
        &sync.connection_id,
    ));
    let err = sync.run().await.expect_err("no valid token");
    assert!(err.to_string().contains("oauth"), "{err}");
    let connection = store
        .connection(&sync.connection_id)
        .await
        .expect("connection");
    assert_eq!(
        connection.state,
        shopbridge_store::ConnectionState::NeedsReauth
    );
    assert!(
        connection
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("30111"))
    );
    let _ = env.sandbox.clock().now_ms();
}

/// A refund whose goods take three weeks to come back: its deduction is booked 21 days after the
/// application. The refund stream, run every 12 hours with the scheduler's own plan, sees the
/// application, the booking and the settlement, each close to when it happens.
#[tokio::test]
async fn a_refund_booked_weeks_after_its_application_is_still_seen() {
    let env = Env::start().await;
    let store = common::sqlite_store().await;
    let orders_sync = sync_for(&env, &store).await;
    let connection = orders_sync.connection_id.clone();
    let plan = shopbridge_hub::platforms::vop::plans(shopbridge_core::ShopKind::VopUnionChannel)
        .into_iter()
        .find(|plan| plan.stream == shopbridge_hub::sources::UNION_REFUNDS)
        .expect("refund plan");
    let source = shopbridge_hub::sources::UnionRefundSource::new(
        env.client.clone(),
        Mode::Channel,
        &connection,
    );
    let mut refunds = StreamSync::new(store.clone(), Arc::new(source), connection.clone());
    refunds.window_ms = plan.window_ms;
    refunds.lookback_ms = plan.lookback_ms;

    env.admin(
        "/_sandbox/vop/union/clicks",
        json!({"link": env.links[0], "orders": 1, "scenario": "slow_refund_after_settlement"}),
    )
    .await;
    let stored = |store: Store, connection: String| async move {
        let records = store
            .synced_records(&connection, shopbridge_hub::sources::UNION_REFUNDS)
            .await
            .expect("records");
        records
            .into_iter()
            .map(|r| {
                let body: Value = serde_json::from_str(&r.record.payload).expect("json");
                (
                    body["commissionEnterTime"].is_number(),
                    r.record.is_final,
                    r.versions,
                )
            })
            .collect::<Vec<_>>()
    };
    let mut seen = Vec::new();
    // Settled about 15 days after the order, applied an hour later, booked 21 days after that,
    // settled a day later: 40 days in 12-hour steps cover it all.
    for _ in 0..80 {
        env.admin("/_sandbox/clock", json!({"advance_seconds": DAY / 2}))
            .await;
        refunds.run().await.expect("refund sync");
        let now = stored(store.clone(), connection.clone()).await;
        if seen.last() != Some(&now) {
            seen.push(now);
        }
    }
    assert_eq!(
        seen,
        vec![
            vec![],
            vec![(false, false, 1)],
            vec![(true, false, 2)],
            vec![(true, true, 3)],
        ],
        "nothing, applied, booked, settled: each step stored as a new version"
    );
}

/// The account: 100 orders that settle and 300 that lapse unpaid, placed now; an hour
/// later the first 100 are paid and the 300 lapsed (final, last updated 30 minutes in).
async fn paid_and_lapsed(env: &Env) {
    env.admin(
        "/_sandbox/vop/union/clicks",
        json!({"link": env.links[0], "orders": 100, "scenario": "settles"}),
    )
    .await;
    for _ in 0..3 {
        env.admin(
            "/_sandbox/vop/union/clicks",
            json!({"link": env.links[1], "orders": 100, "scenario": "unpaid"}),
        )
        .await;
    }
    env.admin("/_sandbox/clock", json!({"advance_seconds": 3_600}))
        .await;
}

/// Every order the sandbox shows whose last update is at or before `until` is stored, at that
/// version or a newer one: the completeness a finished window promises.
async fn assert_complete_until(env: &Env, sync: &StreamSync, until: i64) {
    let stored = sync
        .store
        .union_orders(&sync.connection_id)
        .await
        .expect("stored");
    let newest: std::collections::HashMap<&str, i64> = stored
        .iter()
        .map(|(sn, _, _, updated)| (sn.as_str(), *updated))
        .collect();
    let missing: Vec<_> = env
        .truth()
        .into_iter()
        .filter(|(_, _, _, updated)| *updated <= until)
        .filter(|(sn, _, _, updated)| newest.get(sn.as_str()).is_none_or(|got| got < updated))
        .collect();
    assert!(
        missing.is_empty(),
        "{} orders of the finished windows not stored, e.g. {:?}",
        missing.len(),
        missing.first()
    );
}

/// The paid and lapsed orders, and a sync whose first window starts before they were placed: its
/// first calls are that window's probe and its four pages, last first.
async fn one_window_sync(env: &Env, store: &Store) -> StreamSync {
    paid_and_lapsed(env).await;
    let mut sync = sync_for(env, store).await;
    sync.initial_ms = 2 * 3_600_000;
    sync
}

/// The next run completes the windows it goes through, and once everything has settled a later
/// one leaves the store equal to the sandbox.
async fn resumes_to_the_sandbox(env: &Env, sync: &StreamSync) {
    sync.run().await.expect("the next run");
    assert_complete_until(env, sync, cursor(sync).await).await;
    env.admin("/_sandbox/clock", json!({"advance_seconds": 20 * DAY}))
        .await;
    sync.run().await.expect("later run");
    assert_equal(env, sync).await;
}

/// Where the sync's finished windows end.
async fn cursor(sync: &StreamSync) -> i64 {
    sync.store
        .checkpoint(&sync.connection_id, sync.stream())
        .await
        .expect("checkpoint")
        .expect("a checkpoint")
        .cursor_ms
}

async fn on_each_store(check: impl AsyncFn(&Env, &Store)) {
    let env = Env::start().await;
    check(&env, &common::sqlite_store().await).await;
    let env = Env::start().await;
    let database = common::PgDatabase::create().await;
    let store = database.open(MasterKey::generate()).await;
    check(&env, &store).await;
    store.pool().close().await;
    database.drop_now().await;
}

/// The sync is cut off (as by `kill -9`: right after a page and its checkpoint are committed)
/// once it has stored two pages of the window; a day passes, in which the 100 paid orders are
/// signed and leave the window, shifting every order behind them; the resumed run still stores
/// all 400.
#[tokio::test]
async fn a_run_killed_at_page_two_resumes_without_losing_orders_that_shifted() {
    on_each_store(async |env: &Env, store: &Store| {
        paid_and_lapsed(env).await;
        let mut sync = sync_for(env, store).await;
        // A commit a page, so that the cut falls between two pages of the window.
        sync.batching.pages = 1;
        sync.on_page = Some(Arc::new(|report: &shopbridge_hub::RunReport, _| {
            assert!(report.fetched < 200, "killed after two pages of the window");
        }));
        let killed = tokio::spawn({
            let sync = sync.clone();
            async move { sync.run().await }
        })
        .await;
        assert!(killed.is_err(), "the run died mid-window");
        let stored = store
            .union_orders(&sync.connection_id)
            .await
            .expect("stored");
        assert!(
            stored.len() < 400,
            "{} stored before the kill",
            stored.len()
        );
        env.admin("/_sandbox/clock", json!({"advance_seconds": DAY}))
            .await;
        sync.on_page = None;
        resumes_to_the_sandbox(env, &sync).await;
    })
    .await;
}

/// Page 1 of a window is read twice: first for the total, last to catch orders that moved onto
/// it. Orders the second read finds as the first read them are left out of the write; the
/// others are written. A quiet window's second read leaves out all 100; the same window with an
/// order leaving after each answer (the sandbox's churn) writes those that moved, and both end
/// complete.
#[tokio::test]
async fn page_one_read_again_writes_only_what_changed_since_its_first_read() {
    on_each_store(async |env: &Env, store: &Store| {
        let sync = one_window_sync(env, store).await;
        let report = sync.run().await.expect("run");
        assert_eq!(
            (report.pages, report.fetched, report.unchanged),
            (5, 500, 100),
            "{report:?}"
        );
        assert_complete_until(env, &sync, cursor(&sync).await).await;
    })
    .await;
    on_each_store(async |env: &Env, store: &Store| {
        let sync = one_window_sync(env, store).await;
        env.admin(
            "/_sandbox/vop/union/churn",
            json!({"orders_per_page": 1, "pages": 1000}),
        )
        .await;
        let report = sync.run().await.expect("run");
        // An order of page 1 left after each read: the orders behind moved onto it.
        assert_complete_until(env, &sync, cursor(&sync).await).await;
        assert!(report.unchanged < 100, "{report:?}");
    })
    .await;
}

/// With no crash at all, orders change between every two page reads (the sandbox's churn
/// switch): each finished window still holds every order whose update time lies in it.
#[tokio::test]
async fn orders_changing_between_page_reads_are_not_skipped() {
    on_each_store(async |env: &Env, store: &Store| {
        paid_and_lapsed(env).await;
        env.admin(
            "/_sandbox/vop/union/churn",
            json!({"orders_per_page": 10, "pages": 1000}),
        )
        .await;
        let sync = sync_for(env, store).await;
        let report = sync.run().await.expect("run");
        assert!(report.fetched >= 400, "a window of four pages: {report:?}");
        assert_complete_until(env, &sync, cursor(&sync).await).await;
        env.admin(
            "/_sandbox/vop/union/churn",
            json!({"orders_per_page": 1, "pages": 0}),
        )
        .await;
        env.admin("/_sandbox/clock", json!({"advance_seconds": 20 * DAY}))
            .await;
        sync.run().await.expect("next run");
        assert_equal(env, &sync).await;
    })
    .await;
}

/// The gateway fails every call from the third page of a window on, so the run's retries run
/// out in the middle; meanwhile the paid orders leave the window. A later run completes it.
#[tokio::test]
async fn a_window_whose_retries_run_out_midway_is_completed_by_a_later_run() {
    on_each_store(async |env: &Env, store: &Store| {
        paid_and_lapsed(env).await;
        let mut sync = sync_for(env, store).await;
        sync.retry.attempts = 2;
        sync.batching.pages = 1;
        let state = env.sandbox.state();
        sync.on_page = Some(Arc::new(move |report: &shopbridge_hub::RunReport, _| {
            if report.fetched >= 200 {
                let mut faults = state.faults();
                faults.error_rate = 1.0;
                state.set_faults(faults);
            }
        }));
        let failed = sync.run().await.expect_err("retries ran out");
        assert!(failed.to_string().contains("platform"), "{failed}");
        env.admin("/_sandbox/faults", json!({})).await;
        env.admin("/_sandbox/clock", json!({"advance_seconds": DAY}))
            .await;
        sync.on_page = None;
        resumes_to_the_sandbox(env, &sync).await;
    })
    .await;
}

/// A source that passes `passing` calls through to the platform, then fails every call for
/// good (`Fail::Refuse`), dies with its process (`Fail::Die`), as a crash between two calls, or
/// holds the next call until it is let go (`Fail::Hold`), as a slow platform or a quota wait.
struct FailingAfter {
    inner: Arc<dyn StreamSource>,
    passing: u32,
    made: std::sync::atomic::AtomicU32,
    fail: Fail,
}

enum Fail {
    Refuse,
    Die,
    /// Answers every call with a failure worth retrying (the platform busy), telling
    /// `reached` at the first.
    Busy {
        reached: Arc<tokio::sync::Notify>,
    },
    /// Holds the call until `go`, telling `reached` when it is held.
    Hold {
        go: Arc<tokio::sync::Notify>,
        reached: Arc<tokio::sync::Notify>,
    },
}

#[async_trait::async_trait]
impl StreamSource for FailingAfter {
    fn stream(&self) -> &'static str {
        self.inner.stream()
    }
    fn max_window_ms(&self) -> i64 {
        self.inner.max_window_ms()
    }
    fn clock(&self) -> &dyn Clock {
        self.inner.clock()
    }
    fn call(&self) -> shopbridge_hub::sync::CallKey {
        self.inner.call()
    }
    fn events(&self) -> Option<shopbridge_store::RecordEvents> {
        self.inner.events()
    }
    fn page_size(&self) -> u32 {
        self.inner.page_size()
    }
    fn passes(&self) -> u32 {
        self.inner.passes()
    }
    fn time_resolution_ms(&self) -> i64 {
        self.inner.time_resolution_ms()
    }
    async fn fetch(
        &self,
        start_ms: i64,
        end_ms: i64,
        pass: u32,
        page: u32,
    ) -> Result<shopbridge_hub::sync::FetchedPage, ConnectorError> {
        let made = self.made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if made < self.passing {
            return self.inner.fetch(start_ms, end_ms, pass, page).await;
        }
        match &self.fail {
            // An invalid request is not retried: the fourth call is the last.
            Fail::Refuse => Err(ConnectorError::invalid(
                shopbridge_core::Platform::Vop,
                "refused for the test",
            )),
            Fail::Die => panic!("the process dies between two calls"),
            Fail::Busy { reached } => {
                if made == self.passing {
                    reached.notify_one();
                }
                Err(ConnectorError {
                    platform: shopbridge_core::Platform::Vop,
                    class: shopbridge_core::ErrorClass::Transient,
                    code: None,
                    message: "busy for the test".into(),
                    cause: None,
                })
            }
            Fail::Hold { go, reached } => {
                if made == self.passing {
                    reached.notify_one();
                    go.notified().await;
                }
                self.inner.fetch(start_ms, end_ms, pass, page).await
            }
        }
    }
}

fn failing_after(sync: &StreamSync, passing: u32, fail: Fail) -> StreamSync {
    let mut failing = sync.clone();
    failing.source = Arc::new(FailingAfter {
        inner: sync.source.clone(),
        passing,
        made: Default::default(),
        fail,
    });
    failing
}

/// Pages are committed several at a time. When a call fails for good with pages read and not
/// yet written, those pages, their calls and the checkpoint after them are written before the
/// run fails: the window's probe and its last two pages (300 orders), and the next run goes on
/// at page 2.
#[tokio::test]
async fn pages_read_before_a_call_that_fails_for_good_are_stored_with_their_calls() {
    on_each_store(async |env: &Env, store: &Store| {
        let sync = one_window_sync(env, store).await;
        assert!(sync.batching.pages > 3, "the three pages are one batch");
        let failed = failing_after(&sync, 3, Fail::Refuse)
            .run()
            .await
            .expect_err("the fourth call fails");
        assert!(
            failed.to_string().contains("refused for the test"),
            "{failed}"
        );
        let stored = store
            .union_orders(&sync.connection_id)
            .await
            .expect("stored");
        assert_eq!(stored.len(), 300, "pages 1, 4 and 3 of the window");
        let checkpoint = store
            .checkpoint(&sync.connection_id, sync.stream())
            .await
            .expect("checkpoint")
            .expect("written with the pages");
        let step = checkpoint
            .window
            .map(|(_, _, code)| shopbridge_hub::sync::ReadStep::decode(code));
        assert_eq!(
            step,
            Some(shopbridge_hub::sync::ReadStep::Down { pass: 0, page: 2 })
        );
        let gateway: Value = common::gateway_log(&env.sandbox, "orderList").await;
        assert_eq!(gateway["calls"].as_i64(), Some(3));
        let calls = store.quota_report(0, i64::MAX / 2).await.expect("report");
        let order_list = calls
            .iter()
            .find(|usage| usage.method == "orderList")
            .expect("orderList calls");
        assert_eq!(
            (order_list.calls, order_list.success_rate),
            (4, 0.75),
            "three pages and the failure"
        );

        resumes_to_the_sandbox(env, &sync).await;
    })
    .await;
}

/// A process that dies with pages read and not yet written has written nothing of them, not
/// even the checkpoint: the next run reads them again and loses nothing.
#[tokio::test]
async fn pages_read_and_not_written_when_the_process_dies_are_read_again() {
    on_each_store(async |env: &Env, store: &Store| {
        let sync = one_window_sync(env, store).await;
        let mut dying = failing_after(&sync, 3, Fail::Die);
        // However slow the machine, the three pages wait for the batch, not for the clock.
        dying.batching.within = Duration::from_secs(3_600);
        let died = tokio::spawn(async move { dying.run().await }).await;
        assert!(died.is_err(), "the run died at its fourth call");
        assert!(
            store
                .union_orders(&sync.connection_id)
                .await
                .expect("stored")
                .is_empty()
        );
        assert!(
            store
                .checkpoint(&sync.connection_id, sync.stream())
                .await
                .expect("checkpoint")
                .is_none(),
            "no checkpoint without its pages"
        );
        resumes_to_the_sandbox(env, &sync).await;
    })
    .await;
}

/// A batch spans windows: an empty hour, an hour of 100 orders and the first pages of an hour
/// of 300 are one commit, with the checkpoint inside the last of them. When a call there fails
/// for good, every page read is stored, the windows before it are complete, and the next run
/// goes on in the third window at the page that failed.
#[tokio::test]
async fn a_batch_spanning_windows_is_stored_with_the_checkpoint_in_its_last_window() {
    on_each_store(async |env: &Env, store: &Store| {
        // 100 orders paid ten minutes after they are placed, an hour before 300 that lapse
        // half an hour after theirs, an hour before now.
        env.admin(
            "/_sandbox/vop/union/clicks",
            json!({"link": env.links[0], "orders": 100, "scenario": "settles"}),
        )
        .await;
        env.admin("/_sandbox/clock", json!({"advance_seconds": 3_600}))
            .await;
        for _ in 0..3 {
            env.admin(
                "/_sandbox/vop/union/clicks",
                json!({"link": env.links[1], "orders": 100, "scenario": "unpaid"}),
            )
            .await;
        }
        env.admin("/_sandbox/clock", json!({"advance_seconds": 3_600}))
            .await;
        let mut sync = sync_for(env, store).await;
        sync.initial_ms = 3 * 3_600_000;
        sync.window_ms = 3_600_000;
        assert!(sync.batching.pages > 4, "the four pages are one batch");
        // Read: the empty hour's probe, the 100 orders' one page, the 300 orders' probe and
        // their last page; their page 2 is refused.
        let mut failing = failing_after(&sync, 4, Fail::Refuse);
        failing.batching.within = Duration::from_secs(3_600);
        let failed = failing.run().await.expect_err("the fifth call fails");
        assert!(
            failed.to_string().contains("refused for the test"),
            "{failed}"
        );
        let stored = store
            .union_orders(&sync.connection_id)
            .await
            .expect("stored");
        assert_eq!(
            stored.len(),
            300,
            "the second hour's 100, pages 1 and 3 of the third's"
        );
        let checkpoint = store
            .checkpoint(&sync.connection_id, sync.stream())
            .await
            .expect("checkpoint")
            .expect("written with the pages");
        let (start, _, code) = checkpoint.window.expect("inside a window");
        let now = env.sandbox.clock().now_ms();
        let (paid, lapsed) = (now - 7_200_000 + 600_000, now - 3_600_000 + 1_800_000);
        assert!(
            paid < start && start <= lapsed,
            "the window of the 300 orders' changes: {start}, {paid}, {lapsed}"
        );
        assert_eq!(
            checkpoint.cursor_ms, start,
            "the two hours before are finished"
        );
        assert_eq!(
            shopbridge_hub::sync::ReadStep::decode(code),
            shopbridge_hub::sync::ReadStep::Down { pass: 0, page: 2 }
        );
        assert_complete_until(env, &sync, checkpoint.cursor_ms).await;
        // The next run ends the hour it is in; the twenty days after it go a day a window, so
        // that their calls stay within the quota.
        sync.window_ms = 24 * 3_600_000;
        resumes_to_the_sandbox(env, &sync).await;
    })
    .await;
}

/// Pages read are written once they have waited `within`, even while the next call has no
/// answer yet: a slow platform or a quota wait does not keep them from the store.
#[tokio::test]
async fn pages_read_are_written_while_the_next_call_waits() {
    let env = Env::start().await;
    let store = common::sqlite_store().await;
    let mut sync = one_window_sync(&env, &store).await;
    sync.batching.within = Duration::from_millis(20);
    let go = Arc::new(tokio::sync::Notify::new());
    let reached = Arc::new(tokio::sync::Notify::new());
    let held = failing_after(
        &sync,
        3,
        Fail::Hold {
            go: go.clone(),
            reached,
        },
    );
    let run = tokio::spawn(async move { held.run().await });
    // The fourth call is held: the three pages before it reach the store meanwhile.
    tokio::time::timeout(Duration::from_secs(30), async {
        while store
            .union_order_count(&sync.connection_id)
            .await
            .expect("count")
            < 300
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the pages read are stored while the call waits");
    assert!(!run.is_finished());
    go.notify_one();
    let report = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the held call is answered")
        .expect("run")
        .expect("the run goes on");
    // Page 1 is read first for the total, then 4, 3, 2 and 1 again: each call made once and
    // recorded once.
    assert_eq!((report.pages, report.fetched), (5, 500));
    let gateway: Value = common::gateway_log(&env.sandbox, "orderList").await;
    assert_eq!(gateway["calls"].as_i64(), Some(5));
    assert_eq!(common::recorded_calls(&store, "orderList").await, Some(5));
    assert_complete_until(&env, &sync, cursor(&sync).await).await;
}

/// A one-window sync that ends when the returned sender says so.
async fn stoppable_sync(
    env: &Env,
    store: &Store,
) -> (StreamSync, tokio::sync::watch::Sender<bool>) {
    let mut sync = one_window_sync(env, store).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    sync.stop = vec![stopped];
    (sync, stop)
}

/// The report of a run that a stop ended: within 30 s (`waiting` says what it waited for),
/// interrupted, not failed.
async fn stopped_report(
    run: tokio::task::JoinHandle<Result<RunReport, SyncError>>,
    waiting: &str,
) -> RunReport {
    let report = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect(waiting)
        .expect("run")
        .expect("a stop is not a failure");
    assert!(report.interrupted);
    report
}

/// How many of the sync's orders the store holds.
async fn stored_count(sync: &StreamSync) -> i64 {
    sync.store
        .union_order_count(&sync.connection_id)
        .await
        .expect("count")
}

/// A stop that comes while a call is held ends the run after that call's page: the call is
/// waited for, its page is stored with the three before it and each call is recorded once, and
/// the next run goes on from there.
#[tokio::test]
async fn a_stop_while_a_call_is_held_ends_the_run_after_its_page() {
    let env = Env::start().await;
    let store = common::sqlite_store().await;
    let (sync, stop) = stoppable_sync(&env, &store).await;
    let (go, reached) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let mut held = failing_after(
        &sync,
        3,
        Fail::Hold {
            go: go.clone(),
            reached: reached.clone(),
        },
    );
    // The three pages before the held call wait for the batch, not for the clock.
    held.batching.within = Duration::from_secs(3_600);
    let run = tokio::spawn(async move { held.run().await });
    reached.notified().await;
    stop.send_replace(true);
    go.notify_one();
    let report = stopped_report(run, "the held call is answered").await;
    // Page 1 for the total, then 4, 3 and the held 2.
    assert_eq!((report.pages, report.fetched), (4, 400));
    assert_eq!(stored_count(&sync).await, 400);
    let gateway: Value = common::gateway_log(&env.sandbox, "orderList").await;
    assert_eq!(gateway["calls"].as_i64(), Some(4));
    assert_eq!(common::recorded_calls(&store, "orderList").await, Some(4));
    stop.send_replace(false);
    resumes_to_the_sandbox(&env, &sync).await;
}

/// A stop that comes while a failed call waits for its retry ends the run at once: the retry is
/// not made, the pages read before are stored, and the run is interrupted, not failed.
#[tokio::test]
async fn a_stop_during_a_retry_wait_ends_the_run_without_the_retry() {
    let env = Env::start().await;
    let store = common::sqlite_store().await;
    let (sync, stop) = stoppable_sync(&env, &store).await;
    let reached = Arc::new(tokio::sync::Notify::new());
    let mut busy = failing_after(
        &sync,
        3,
        Fail::Busy {
            reached: reached.clone(),
        },
    );
    // Retries an hour apart: a run that waited for one would outlast the test's timeout.
    busy.retry = RetryPolicy {
        attempts: 5,
        min_delay: Duration::from_secs(3_600),
        max_delay: Duration::from_secs(3_600),
    };
    busy.batching.within = Duration::from_secs(3_600);
    let run = tokio::spawn(async move { busy.run().await });
    reached.notified().await;
    stop.send_replace(true);
    let report = stopped_report(run, "the wait is cut short").await;
    assert_eq!((report.pages, report.fetched), (3, 300));
    assert_eq!(stored_count(&sync).await, 300);
    // The failed call is recorded; no retry was made.
    assert_eq!(common::recorded_calls(&store, "orderList").await, Some(4));
    stop.send_replace(false);
    resumes_to_the_sandbox(&env, &sync).await;
}

/// A stop that comes while the run waits for a quota slot ends it at once: the pages read
/// before are stored, no further call is made, and the run is interrupted, not failed.
#[tokio::test]
async fn a_stop_during_a_quota_wait_ends_the_run_without_the_call() {
    let env = Env::start().await;
    let store = common::sqlite_store().await;
    let (mut sync, stop) = stoppable_sync(&env, &store).await;
    // Three calls a minute (fewer for background work, which leaves room for requests): the
    // call after them waits for a slot far longer than the test's timeout.
    let table = shopbridge_core::quota::QuotaTable::documented()
        .with_override("orderList=3/60s")
        .expect("override");
    let gate = shopbridge_hub::QuotaGate::new(Arc::new(env.sandbox.clock())).with_table(table);
    // The calls the quota allows are made at once; the stop comes once the next one has
    // started to wait for its slot.
    let mut waits = gate.waits();
    tokio::spawn(async move {
        if waits.wait_for(|&waits| waits >= 1).await.is_ok() {
            stop.send_replace(true);
        }
    });
    sync.gate = Some(gate);
    sync.batching.pages = 1;
    let run = tokio::spawn({
        let sync = sync.clone();
        async move { sync.run().await }
    });
    let report = stopped_report(run, "the wait is cut short").await;
    assert!((1..=3).contains(&report.pages), "{} pages", report.pages);
    assert_eq!(stored_count(&sync).await, i64::from(report.fetched));
    // Every call made was for a page stored, and is recorded: none was made after the stop.
    let gateway: Value = common::gateway_log(&env.sandbox, "orderList").await;
    assert_eq!(gateway["calls"].as_i64(), Some(i64::from(report.pages)));
    assert_eq!(
        common::recorded_calls(&store, "orderList").await,
        Some(i64::from(report.pages))
    );
}
