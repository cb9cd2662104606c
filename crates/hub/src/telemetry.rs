//! Prometheus metrics through the `metrics` facade: counters and latency histograms recorded as
//! the hub works (requests, platform calls, sync runs, webhook attempts), and gauges read from
//! the store at each scrape (shops, sync lag, webhook backlog, quota use, database pools).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use shopbridge_store::Store;

/// Latency buckets, in seconds: from a cached read to a slow platform call.
const SECONDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use: one per process, however many
/// hubs run in it (tests run several), so every hub's counters go to the one `/metrics`.
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => Some(handle),
                Err(err) => {
                    tracing::warn!(error = %err, "another metrics recorder is installed; /metrics shows only the store's gauges");
                    None
                }
            }
        })
        .as_ref()
}

/// One HTTP request: by route template (never the path with its ids), method and status. A
/// method outside the standard ones is `OTHER`: a caller inventing methods must not add series.
pub fn http_request(method: &str, route: &str, status: u16, seconds: f64) {
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
        _ => "OTHER",
    };
    metrics::counter!("shopbridge_http_requests_total", "method" => method.to_owned(), "route" => route.to_owned(), "status" => status.to_string()).increment(1);
    metrics::histogram!("shopbridge_http_request_duration_seconds", "method" => method.to_owned(), "route" => route.to_owned()).record(seconds);
}

/// Records a platform call where the quota report reads it (the store) and counts it for
/// Prometheus; a failure to record is logged, never the caller's failure.
pub async fn record_platform_call(
    store: &Store,
    at_ms: i64,
    call: &crate::sync::CallKey,
    ok: bool,
) {
    count_platform_call(call, ok);
    record_call_in_store(store, at_ms, call, ok).await;
}

/// Counts a platform call for Prometheus.
pub fn count_platform_call(call: &crate::sync::CallKey, ok: bool) {
    platform_call(call.platform, &call.method, ok);
}

/// Records a platform call where the quota report reads it; a failure to record is logged,
/// never the caller's failure.
pub async fn record_call_in_store(
    store: &Store,
    at_ms: i64,
    call: &crate::sync::CallKey,
    ok: bool,
) {
    if let Err(err) = store
        .record_call(
            at_ms,
            call.platform,
            &call.service,
            &call.method,
            &call.caller,
            ok,
        )
        .await
    {
        tracing::warn!(error = %err, "could not record the API call");
    }
}

/// One platform call, by method and outcome.
fn platform_call(platform: &str, method: &str, ok: bool) {
    metrics::counter!(
        "shopbridge_platform_calls_total",
        "platform" => platform.to_owned(),
        "method" => method.to_owned(),
        "outcome" => if ok { "ok" } else { "error" }
    )
    .increment(1);
}

/// One sync run of a stream, by outcome, with its duration.
/// One sync run, by stream and how it ended: `complete`, `interrupted` (its process stopped
/// between two pages) or `failed`.
pub fn sync_run(stream: &str, outcome: &'static str, seconds: f64) {
    metrics::counter!("shopbridge_sync_runs_total", "stream" => stream.to_owned(), "outcome" => outcome).increment(1);
    metrics::histogram!("shopbridge_sync_run_duration_seconds", "stream" => stream.to_owned())
        .record(seconds);
}

/// One webhook attempt: `delivered`, `retry` or `failed`.
pub fn webhook_attempt(outcome: &'static str) {
    metrics::counter!("shopbridge_webhook_attempts_total", "outcome" => outcome).increment(1);
}

/// Reads the gauges from the store, then renders every metric in Prometheus text. The gauges
/// go through a recorder of this scrape's own: several hubs in one process (tests) each show
/// their own store, while the counters are the process's.
pub async fn render(store: &Store, now_ms: i64) -> Result<String, shopbridge_store::StoreError> {
    let connections = store.connection_summaries().await?;
    let schedules = store.schedules().await?;
    let watermarks = store.sync_watermarks().await?;
    let backlog = store.webhook_backlog().await?;
    // Calls in the last minute per method and caller: the quota windows are minutes or less.
    let recent_calls = store.calls_since(now_ms - 60_000).await?;
    let pools = store.pool_use();
    let gauges = PrometheusBuilder::new().build_recorder();
    let handle = gauges.handle();
    metrics::with_local_recorder(&gauges, || {
        let mut shops = std::collections::BTreeMap::new();
        for c in &connections {
            *shops
                .entry((c.kind.platform().as_str().to_owned(), c.state.as_str()))
                .or_insert(0_u32) += 1;
        }
        for ((platform, state), n) in shops {
            metrics::gauge!("shopbridge_shops", "platform" => platform, "state" => state).set(n);
        }
        let mut streams = std::collections::BTreeMap::new();
        for s in &schedules {
            let outcome = match s.last_status.as_deref() {
                None => "never",
                Some("complete") => "complete",
                // Stopped between two pages by a restart: not a failure to alert on.
                Some("interrupted") => "interrupted",
                Some(_) => "failed",
            };
            *streams.entry((s.stream.clone(), outcome)).or_insert(0_u32) += 1;
        }
        for ((stream, outcome), n) in streams {
            metrics::gauge!("shopbridge_streams", "stream" => stream, "outcome" => outcome).set(n);
        }
        // How far behind each stream's stored history is: alert when it grows past a few runs.
        for (shop, stream, until_ms) in &watermarks {
            let lag = (now_ms - until_ms).max(0) as f64 / 1000.0;
            metrics::gauge!("shopbridge_sync_lag_seconds", "shop" => shop.clone(), "stream" => stream.clone()).set(lag);
        }
        metrics::gauge!("shopbridge_webhook_backlog").set(backlog as f64);
        for (method, caller, calls) in &recent_calls {
            metrics::gauge!("shopbridge_platform_calls_last_minute", "method" => method.clone(), "caller" => caller.clone()).set(*calls as f64);
        }
        for (pool, in_use, max) in [
            ("writer", pools.writer_in_use, pools.writer_max),
            ("reader", pools.reader_in_use, pools.reader_max),
        ] {
            metrics::gauge!("shopbridge_db_connections_in_use", "pool" => pool).set(in_use);
            metrics::gauge!("shopbridge_db_connections_max", "pool" => pool).set(max);
        }
    });
    let mut text = handle.render();
    if let Some(process) = prometheus() {
        text.push_str(&process.render());
    }
    Ok(text)
}
