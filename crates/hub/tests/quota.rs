//! Background sync held at a quota, measured where it counts: at the sandbox's gateway, which
//! logs every call's arrival. One sync alone, and two syncs of one app sharing the quota through
//! Redis; two syncs each counting only their own calls trip the platform's limit.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use shopbridge_core::quota::QuotaTable;
use shopbridge_hub::{QuotaGate, StreamSync};
use shopbridge_sandbox::RunningSandbox;
use shopbridge_store::Store;
use shopbridge_vop::Mode;

const LIMIT: usize = 40;
const WINDOW_MS: i64 = 2_000;
const OVERRIDE: &str = "orderList=40/2s";

#[derive(Debug, Deserialize)]
struct CallLog {
    calls: usize,
    throttled: usize,
    max_in_any_window: usize,
    admitted_at_ms: Vec<i64>,
}

impl CallLog {
    /// Admitted calls over the whole windows of the run, as a fraction of the quota.
    fn use_of_quota(&self) -> f64 {
        let (Some(first), Some(last)) = (self.admitted_at_ms.first(), self.admitted_at_ms.last())
        else {
            return 0.0;
        };
        let windows = (last - first) / WINDOW_MS;
        let end = first + windows * WINDOW_MS;
        let counted = self.admitted_at_ms.iter().filter(|&&at| at < end).count();
        counted as f64 / (windows as usize * LIMIT) as f64
    }
}

async fn sandbox_with_small_quota() -> RunningSandbox {
    let sandbox = common::sandbox(10).await;
    let response = common::http()
        .post(format!("{}/_sandbox/vop/quotas", sandbox.base_url()))
        .json(&json!({ "overrides": [OVERRIDE] }))
        .send()
        .await
        .expect("quotas");
    assert!(response.status().is_success());
    sandbox
}

async fn call_log(sandbox: &RunningSandbox) -> CallLog {
    common::gateway_log(sandbox, "orderList").await
}

/// A sync that never runs out of work: one-minute windows over thirty days of history.
async fn endless_sync(
    sandbox: &RunningSandbox,
    store: &Store,
    name: &str,
    gate: QuotaGate,
) -> StreamSync {
    let connection =
        common::connection(store, "vop", "union_channel", name, "{}", (None, None)).await;
    let mut sync = shopbridge_hub::sources::union_order_sync(
        store.clone(),
        common::vop_client(sandbox),
        Mode::Channel,
        connection,
    );
    sync.window_ms = 60_000;
    sync.lookback_ms = 0;
    sync.gate = Some(gate);
    sync
}

fn table() -> QuotaTable {
    QuotaTable::documented()
        .with_override(OVERRIDE)
        .expect("override")
}

async fn run_for(syncs: &[StreamSync], seconds: u64) {
    let runs = syncs.iter().map(|sync| {
        let sync = sync.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(seconds), sync.run()).await;
        })
    });
    for run in runs.collect::<Vec<_>>() {
        run.await.expect("run");
    }
}

#[tokio::test]
async fn a_background_sync_uses_its_quota_fully_without_exceeding_it() {
    let sandbox = sandbox_with_small_quota().await;
    let store = common::sqlite_store().await;
    let gate = QuotaGate::new(Arc::new(sandbox.clock())).with_table(table());
    let sync = endless_sync(&sandbox, &store, "alone", gate).await;
    run_for(&[sync], 10).await;
    let log = call_log(&sandbox).await;
    assert_eq!(log.throttled, 0, "{log:?}");
    assert!(log.max_in_any_window <= LIMIT, "{}", log.max_in_any_window);
    assert!(log.calls > 3 * LIMIT, "a long run: {} calls", log.calls);
    let used = log.use_of_quota();
    eprintln!(
        "{} calls, at most {} in a window, {used:.3} of the quota used",
        log.calls, log.max_in_any_window
    );
    assert!(used >= 0.95, "used {used:.3} of the quota");
}

#[tokio::test]
async fn syncs_sharing_an_app_share_its_quota_through_redis() {
    let sandbox = sandbox_with_small_quota().await;
    let prefix = format!("sb-test-{}", uuid::Uuid::new_v4().simple());
    let url =
        std::env::var("SHOPBRIDGE_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut syncs = Vec::new();
    // Two stores and two gates, as two processes would have.
    for name in ["first", "second"] {
        let gate = QuotaGate::new(Arc::new(sandbox.clock()))
            .with_table(table())
            .with_redis(&url, &prefix)
            .await
            .expect("Redis is running (see .ci/run)");
        let store = common::sqlite_store().await;
        syncs.push(endless_sync(&sandbox, &store, name, gate).await);
    }
    run_for(&syncs, 8).await;
    let log = call_log(&sandbox).await;
    assert_eq!(log.throttled, 0, "{log:?}");
    assert!(log.max_in_any_window <= LIMIT);
    let used = log.use_of_quota();
    eprintln!(
        "{} calls, at most {} in a window, {used:.3} of the quota used",
        log.calls, log.max_in_any_window
    );
    assert!(used >= 0.95, "used {used:.3} of the quota");
}

#[tokio::test]
async fn syncs_counting_only_their_own_calls_trip_the_platform_limit() {
    let sandbox = sandbox_with_small_quota().await;
    let mut syncs = Vec::new();
    for name in ["first", "second"] {
        let gate = QuotaGate::new(Arc::new(sandbox.clock())).with_table(table());
        let store = common::sqlite_store().await;
        let mut sync = endless_sync(&sandbox, &store, name, gate).await;
        sync.retry.min_delay = Duration::from_millis(5);
        sync.retry.max_delay = Duration::from_millis(50);
        syncs.push(sync);
    }
    run_for(&syncs, 4).await;
    let log = call_log(&sandbox).await;
    assert!(
        log.throttled > 0,
        "without a shared count the platform refuses calls: {log:?}"
    );
}
