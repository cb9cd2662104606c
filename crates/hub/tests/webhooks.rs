//! Webhooks over loopback: order changes found by sync and a connection needing authorization
//! reach a receiver signed, survive its failures (5xx, 429 with Retry-After) with each event
//! delivered exactly once, a receiver that keeps failing gets its webhook disabled with the
//! reason shown, and a 404 is logged as given up rather than dropped.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_hub::security::TargetPolicy;
use shopbridge_hub::webhooks::{self, WebhookDispatcher};
use shopbridge_store::ConnectionState;

use common::{A, HubEnv};

/// What a receiver saw, and the answers it gives: the first ones from the script, then `then`.
#[derive(Default)]
struct Receiver {
    script: Vec<(u16, Option<&'static str>)>,
    then: u16,
    seen: Vec<(HeaderMap, String, u16)>,
}

async fn receive(
    State(receiver): State<Arc<Mutex<Receiver>>>,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let mut receiver = receiver.lock().unwrap_or_else(|p| p.into_inner());
    let (status, retry_after) = if receiver.script.is_empty() {
        (receiver.then, None)
    } else {
        receiver.script.remove(0)
    };
    receiver.seen.push((headers, body, status));
    let mut response = StatusCode::from_u16(status)
        .unwrap_or(StatusCode::OK)
        .into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", seconds.parse().expect("header"));
    }
    response
}

/// How many requests a receiver has seen.
fn seen_count(receiver: &Mutex<Receiver>) -> usize {
    receiver
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .seen
        .len()
}

async fn receiver(
    script: Vec<(u16, Option<&'static str>)>,
    then: u16,
) -> (String, Arc<Mutex<Receiver>>) {
    let state = Arc::new(Mutex::new(Receiver {
        script,
        then,
        seen: Vec::new(),
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}

impl HubEnv {
    async fn create_webhook(&self, url: &str, events: &[&str]) -> (String, String) {
        let created: Value = self
            .http
            .post(format!("{}/v1/webhooks", self.hub))
            .header("authorization", format!("Bearer {}:{}", A.0, A.1))
            .json(&json!({"url": url, "events": events}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        (
            created["id"].as_str().expect("id").to_owned(),
            created["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// A dispatcher that may deliver to the tests' receivers on loopback.
    fn dispatcher(&self) -> WebhookDispatcher {
        WebhookDispatcher::with_targets(
            self.store.clone(),
            Arc::new(self.sandbox.clock()),
            TargetPolicy::allow_private(),
        )
        .expect("dispatcher")
    }

    /// Queues `count` `sync.failed` events for tenant A, as of `now`.
    async fn enqueue_failures(&self, count: usize, now: i64) {
        let tenant = self.tenant_a().await;
        for n in 0..count {
            self.store
                .enqueue_event(&tenant, "sync.failed", json!({"n": n}), now)
                .await
                .expect("event");
        }
    }

    /// Tenant A's webhook `id` as `GET /v1/webhooks` shows it.
    async fn webhook_view(&self, id: &str) -> Value {
        self.webhooks()
            .await
            .as_array()
            .expect("hooks")
            .iter()
            .find(|h| h["id"] == id)
            .expect("hook")
            .clone()
    }

    /// Tenant A's id.
    async fn tenant_a(&self) -> String {
        self.store
            .connection(&self.ids[0])
            .await
            .expect("shop")
            .tenant_id
    }

    async fn webhooks(&self) -> Value {
        self.http
            .get(format!("{}/v1/webhooks", self.hub))
            .header("authorization", format!("Bearer {}:{}", A.0, A.1))
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json")
    }

    async fn sync_now(&self) {
        let runs: Value = self
            .http
            .post(format!("{}/v1/sync/run", self.hub))
            .header("authorization", format!("Bearer {}:{}", A.0, A.1))
            .send()
            .await
            .expect("sync")
            .json()
            .await
            .expect("runs");
        assert!(
            runs["runs"]
                .as_array()
                .expect("runs")
                .iter()
                .all(|r| r["ok"] == true),
            "{runs}"
        );
    }
}

/// Delivers until nothing is pending, moving the clock past each backoff.
async fn drain(env: &HubEnv, dispatcher: &WebhookDispatcher) {
    for _ in 0..40 {
        dispatcher.deliver_until_idle().await.expect("deliver");
        let pending = sqlx_pending(env).await;
        if pending == 0 {
            return;
        }
        env.sandbox.clock().advance_ms(2 * 3_600_000);
    }
    panic!("deliveries still pending");
}

async fn sqlx_pending(env: &HubEnv) -> usize {
    let tenant = env.tenant_a().await;
    let mut pending = 0;
    for hook in env.store.webhooks(&tenant).await.expect("hooks") {
        if !hook.enabled {
            continue;
        }
        pending += deliveries_of(env, &hook.id, 1000)
            .await
            .iter()
            .filter(|(d, _)| d.status == "pending")
            .count();
    }
    pending
}

#[tokio::test]
async fn events_arrive_signed_once_each_through_a_failing_receiver() {
    let env = HubEnv::start().await;
    let (url, seen) = receiver(vec![(500, None), (503, None), (429, Some("30"))], 200).await;
    let (hook, secret) = env
        .create_webhook(
            &url,
            &["order.created", "order.updated", "connection.needs_reauth"],
        )
        .await;
    let dispatcher = env.dispatcher();

    // Two days on, direct-ship orders have moved: sync finds the changes.
    env.sandbox.clock().advance_ms(2 * 86_400_000);
    env.sync_now().await;
    let now = env.sandbox.clock().now_ms();
    env.store
        .set_state(
            &env.ids[0],
            ConnectionState::NeedsReauth,
            Some("test: grant withdrawn"),
            now,
        )
        .await
        .expect("state");
    drain(&env, &dispatcher).await;

    let deliveries = deliveries_of(&env, &hook, 1000).await;
    assert!(deliveries.len() >= 2, "{} deliveries", deliveries.len());
    assert!(
        deliveries.iter().all(|(d, _)| d.status == "delivered"),
        "{deliveries:?}"
    );
    let events: BTreeSet<&str> = deliveries.iter().map(|(d, _)| d.event.as_str()).collect();
    assert!(
        events.contains("order.updated") && events.contains("connection.needs_reauth"),
        "{events:?}"
    );
    let retried = deliveries
        .iter()
        .filter(|(_, attempts)| attempts.len() > 1)
        .count();
    assert!(retried >= 1, "the receiver's failures were retried");
    let throttled = deliveries
        .iter()
        .flat_map(|(_, attempts)| attempts.windows(2))
        .find(|pair| pair[0].status_code == Some(429))
        .expect("a 429 attempt");
    assert!(
        throttled[1].at_ms - throttled[0].at_ms >= 30_000,
        "Retry-After was honoured"
    );

    let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    let mut accepted: BTreeMap<String, usize> = BTreeMap::new();
    for (headers, body, status) in &seen.seen {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .expect("header")
                .to_owned()
        };
        let timestamp: i64 = header(webhooks::TIMESTAMP_HEADER)
            .parse()
            .expect("timestamp");
        assert_eq!(
            header(webhooks::SIGNATURE_HEADER),
            webhooks::signature(&secret, timestamp, body),
            "signed"
        );
        let payload: Value = serde_json::from_str(body).expect("json body");
        assert_eq!(
            payload["event"].as_str(),
            Some(header(webhooks::EVENT_HEADER).as_str())
        );
        if *status == 200 {
            *accepted
                .entry(header(webhooks::DELIVERY_HEADER))
                .or_default() += 1;
        }
    }
    assert_eq!(accepted.len(), deliveries.len(), "every delivery accepted");
    assert!(accepted.values().all(|&n| n == 1), "none twice");
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_gets_its_webhook_disabled_with_the_reason() {
    let env = HubEnv::start().await;
    let (broken, _) = receiver(Vec::new(), 500).await;
    let (gone, gone_seen) = receiver(Vec::new(), 404).await;
    let (broken_hook, _) = env.create_webhook(&broken, &[]).await;
    let (gone_hook, _) = env
        .create_webhook(&gone, &["connection.needs_reauth"])
        .await;
    let dispatcher = env.dispatcher();
    let now = env.sandbox.clock().now_ms();
    for id in [&env.ids[0], &env.ids[1]] {
        env.store
            .set_state(id, ConnectionState::NeedsReauth, Some("test"), now)
            .await
            .expect("state");
    }
    // Ten more events, so that ten deliveries to the broken receiver spend all their retries.
    env.enqueue_failures(10, now).await;
    drain(&env, &dispatcher).await;
    let broken_view = env.webhook_view(&broken_hook).await;
    assert_eq!(broken_view["enabled"], false, "{broken_view}");
    let reason = broken_view["disabled_reason"].as_str().expect("reason");
    assert!(
        reason.contains("10 failed deliveries") && reason.contains("HTTP 500"),
        "{reason}"
    );
    // A 404 is not retried, and not dropped silently: the delivery shows it failed and why.
    let gone_deliveries = deliveries_of(&env, &gone_hook, 10).await;
    assert_eq!(gone_deliveries.len(), 2);
    for (delivery, attempts) in &gone_deliveries {
        assert_eq!(delivery.status, "failed");
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].status_code, Some(404));
    }
    assert_eq!(seen_count(&gone_seen), 2);
    let listed: Value = env
        .http
        .get(format!("{}/v1/webhooks/{gone_hook}/deliveries", env.hub))
        .header("authorization", format!("Bearer {}:{}", A.0, A.1))
        .send()
        .await
        .expect("deliveries")
        .json()
        .await
        .expect("json");
    assert_eq!(listed[0]["attempts"][0]["status_code"], 404);
    // Enabling it again clears the reason.
    let enabled = env
        .http
        .post(format!("{}/v1/webhooks/{broken_hook}/enable", env.hub))
        .header("authorization", format!("Bearer {}:{}", A.0, A.1))
        .send()
        .await
        .expect("enable");
    assert_eq!(enabled.status(), 200);
    let hooks = env.webhooks().await;
    let again = hooks
        .as_array()
        .expect("hooks")
        .iter()
        .find(|h| h["id"] == broken_hook.as_str())
        .expect("hook");
    assert_eq!(
        (again["enabled"].clone(), again["disabled_reason"].clone()),
        (json!(true), Value::Null)
    );
}

/// A burst of events queued for a receiver that is down for a while: each delivery is retried
/// through the outage, and the webhook stays enabled, because only deliveries that failed for
/// good count towards disabling it, not single attempts.
#[tokio::test]
async fn a_burst_to_a_briefly_failing_receiver_is_retried_not_disabled() {
    let env = HubEnv::start().await;
    let (url, seen) = receiver(vec![(503, None); 30], 200).await;
    let (hook, _) = env.create_webhook(&url, &["sync.failed"]).await;
    let dispatcher = env.dispatcher();
    env.enqueue_failures(24, env.sandbox.clock().now_ms()).await;
    drain(&env, &dispatcher).await;
    let view = env.webhook_view(&hook).await;
    assert_eq!(view["enabled"], true, "{view}");
    let deliveries = deliveries_of(&env, &hook, 100).await;
    assert_eq!(deliveries.len(), 24);
    assert!(deliveries.iter().all(|(d, _)| d.status == "delivered"));
    assert!(seen_count(&seen) >= 54);
}

/// A delivery that failed for good is sent again on request, by its own tenant only.
#[tokio::test]
async fn a_failed_delivery_is_redelivered_on_request() {
    let env = HubEnv::start().await;
    let (gone, gone_seen) = receiver(vec![(404, None)], 200).await;
    let (hook, _) = env.create_webhook(&gone, &["sync.failed"]).await;
    let dispatcher = env.dispatcher();
    let tenant = env.tenant_a().await;
    let now = env.sandbox.clock().now_ms();
    env.store
        .enqueue_event(&tenant, "sync.failed", json!({"n": 1}), now)
        .await
        .expect("event");
    drain(&env, &dispatcher).await;
    let (failed, _) = deliveries_of(&env, &hook, 1).await.remove(0);
    assert_eq!(failed.status, "failed");
    let redeliver = |who: (&str, &str), delivery: String| {
        env.http
            .post(format!(
                "{}/v1/webhooks/{hook}/deliveries/{delivery}/redeliver",
                env.hub
            ))
            .header("authorization", format!("Bearer {}:{}", who.0, who.1))
            .send()
    };
    let stranger = redeliver(common::B, failed.id.to_string())
        .await
        .expect("B");
    assert_eq!(
        stranger.status(),
        404,
        "another tenant's delivery is not found"
    );
    let unknown = redeliver(A, "99999999".into()).await.expect("unknown");
    assert_eq!(unknown.status(), 404);
    let junk = redeliver(A, "1e99".into()).await.expect("junk");
    assert_eq!(junk.status(), 404);
    let queued = redeliver(A, failed.id.to_string())
        .await
        .expect("redeliver");
    assert_eq!(queued.status(), 202);
    let again = redeliver(A, failed.id.to_string()).await.expect("again");
    assert_eq!(
        again.status(),
        409,
        "a pending delivery is not reset under its attempt"
    );
    drain(&env, &dispatcher).await;
    let (again, attempts) = deliveries_of(&env, &hook, 1).await.remove(0);
    assert_eq!(again.id, failed.id);
    assert_eq!(again.status, "delivered");
    assert_eq!(
        attempts.iter().map(|a| a.status_code).collect::<Vec<_>>(),
        vec![Some(404), Some(200)],
        "the earlier attempt stays in the log"
    );
    assert_eq!(seen_count(&gone_seen), 2);

    // The console's activity page offers the same, with the session's CSRF token.
    let cookie = common::console_session(&env.http, &env.hub, A).await;
    let page = env
        .http
        .get(format!("{}/console/activity", env.hub))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("activity")
        .text()
        .await
        .expect("html");
    let action = format!(
        "/console/webhooks/{hook}/deliveries/{}/redeliver",
        failed.id
    );
    assert!(page.contains(&action), "a redeliver button");
    let csrf = page
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf");
    let pressed = env
        .http
        .post(format!("{}{action}", env.hub))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf)])
        .send()
        .await
        .expect("press");
    assert_eq!(pressed.status(), 303);
    drain(&env, &dispatcher).await;
    let (_, attempts) = deliveries_of(&env, &hook, 1).await.remove(0);
    assert_eq!(attempts.len(), 3, "sent once more from the console");
    let forged = env
        .http
        .post(format!("{}{action}", env.hub))
        .header("cookie", &cookie)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), 403);
}

/// Tenant A's deliveries for one of its webhooks, newest first.
async fn deliveries_of(
    env: &common::HubEnv,
    hook: &str,
    limit: i64,
) -> Vec<(shopbridge_store::Delivery, Vec<shopbridge_store::Attempt>)> {
    let tenant = env.tenant_a().await;
    env.store
        .webhook_deliveries(&tenant, hook, limit)
        .await
        .expect("deliveries")
}
