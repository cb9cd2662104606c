//! The scheduler against the sandbox over loopback: every stream of a Union, a JIT and a Winit
//! connection on its own schedule, data that evolves on the simulated clock ending up in the
//! store, expiry warnings raised once, and leases shared by schedulers on one PostgreSQL.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_core::capability::Connector;
use shopbridge_core::codes::{OrderStatus, RefundStatus, ShopType};
use shopbridge_core::model::{Address, Order, OrderLine, OrderQuery, OrderTimeType};
use shopbridge_core::money::Decimal;
use shopbridge_hub::platforms::winit::WINIT_OUTBOUND;
use shopbridge_hub::sources::UNION_ORDERS;
use shopbridge_hub::sources::{JIT_ORDERS, JIT_RETURNS, PRODUCTS, UNION_PIDS, UNION_REFUNDS};
use shopbridge_hub::{RetryPolicy, Scheduler};
use shopbridge_sandbox::RunningSandbox;
use shopbridge_store::{MasterKey, Store};
use shopbridge_vop::jit::connector::JitConnector;
use shopbridge_vop::union::order::{RefundOrderList, RefundSearch};
use shopbridge_vop::union::pid::QueryPid;
use shopbridge_vop::{Mode, VopClient};
use shopbridge_winit::connector::WinitConnector;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

struct Shops {
    union: String,
    jit: String,
    winit: String,
}

fn scheduler(sandbox: &RunningSandbox, store: &Store, owner: &str) -> Scheduler {
    let mut scheduler = shopbridge_hub::Application::build(shopbridge_hub::AppConfig {
        owner: owner.into(),
        ..common::app_config(sandbox, store, "")
    })
    .expect("hub")
    .scheduler;
    scheduler.retry = RetryPolicy {
        attempts: 6,
        min_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
    };
    scheduler
}

async fn connect_shops(sandbox: &RunningSandbox, store: &Store) -> Shops {
    let vop = common::vop_client(sandbox);
    let vendor = common::authorize_vop(sandbox, &vop, "vendor").await;
    let w = sandbox.credentials().winit;
    Shops {
        union: common::union_channel_shop(store).await,
        jit: common::connection(
            store,
            "vop",
            "jit",
            "jit-shop",
            &serde_json::to_string(&vendor).expect("json"),
            (Some(vendor.expires_at_ms), vendor.refresh_expires_at_ms),
        )
        .await,
        winit: common::connection(
            store,
            "winit",
            "oswh",
            "warehouse",
            &json!({"app_key": w.app_key, "token": w.token}).to_string(),
            (None, None),
        )
        .await,
    }
}

/// Buyers on the sandbox: orders through links of the demo app.
async fn buyers(sandbox: &RunningSandbox, vop: &VopClient, orders: u32) {
    let http = common::http();
    for link in common::demo_links(vop, 3).await {
        let response = http
            .post(format!("{}/_sandbox/vop/union/clicks", sandbox.base_url()))
            .json(&json!({"link": link, "orders": orders}))
            .send()
            .await
            .expect("clicks");
        assert!(response.status().is_success());
    }
}

fn streams(outcomes: &[shopbridge_hub::RunOutcome]) -> BTreeSet<(String, String)> {
    for outcome in outcomes {
        assert!(
            outcome.result.is_ok(),
            "{} {}: {:?}",
            outcome.connection_id,
            outcome.stream,
            outcome.result
        );
    }
    outcomes
        .iter()
        .map(|o| (o.connection_id.clone(), o.stream.clone()))
        .collect()
}

fn pair(connection: &str, stream: &str) -> (String, String) {
    (connection.to_owned(), stream.to_owned())
}

/// The platform's view of the demo app's refunds, applied at any time up to now.
async fn sandbox_refunds(vop: &VopClient, from: i64, to: i64) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut start = from;
    while start < to {
        let end = (start + 3 * DAY_MS).min(to);
        let mut page = 1;
        loop {
            let answer = vop
                .execute(
                    &RefundOrderList::new(Mode::Channel, RefundSearch::AppliedAt, start, end)
                        .page_size(100)
                        .page(page),
                )
                .await
                .expect("refunds");
            let got = answer.refund_order_info_list.len();
            ids.extend(
                answer
                    .refund_order_info_list
                    .into_iter()
                    .map(|r| r.after_sale_sn.unwrap_or(r.order_sn)),
            );
            if got < 100 {
                break;
            }
            page += 1;
        }
        start = end;
    }
    ids
}

fn export_order(number: &str, now: i64) -> Order {
    Order {
        plat_order_no: number.into(),
        status: OrderStatus::WaitSellerSend,
        shop_type: ShopType::Normal,
        created_at_ms: now,
        modified_at_ms: now,
        paid_at_ms: None,
        receiver: Address {
            receiver_name: "Max Mustermann".into(),
            mobile: Some("+49 151 0000000".into()),
            country: Some("DE".into()),
            province: "Hessen".into(),
            city: "Frankfurt am Main".into(),
            address: "Zeil".into(),
            house_number: Some("12".into()),
            zip: Some("60311".into()),
            ..Address::default()
        },
        goods_fee: Decimal::ZERO,
        post_fee: Decimal::ZERO,
        total_amount: Decimal::ZERO,
        real_paid: Decimal::ZERO,
        discount: Decimal::ZERO,
        warehouse: None,
        buyer_remark: None,
        seller_remark: None,
        logistic_no: None,
        logistic_name: None,
        lines: vec![OrderLine {
            sub_order_no: "1".into(),
            product_id: "SKU-3".into(),
            sku_id: None,
            outer_id: Some("SKU-3".into()),
            name: "Test product 3".into(),
            spec: None,
            count: 1,
            price: Decimal::ONE,
            refund_status: RefundStatus::NoRefund,
            status: None,
        }],
    }
}

#[tokio::test]
async fn every_stream_runs_on_its_schedule_and_the_store_follows_the_platforms() {
    let sandbox = common::sandbox(30).await;
    let store = common::sqlite_store().await;
    let shops = connect_shops(&sandbox, &store).await;
    let vop = common::vop_client(&sandbox);
    let clock = sandbox.clock();
    let start = clock.now_ms();
    buyers(&sandbox, &vop, 6).await;
    let made = vop
        .execute(&shopbridge_vop::union::GenPid::new(
            Mode::Channel,
            ["promo_a", "promo_b"],
        ))
        .await
        .expect("pids");
    assert_eq!(made.pid_info_list.len(), 2);
    let winit = WinitConnector::new(common::winit_client(&sandbox));
    let outbound = winit
        .create_shipment(&export_order("SCHED-1", start), 1_000_089, 1_000_120)
        .await
        .expect("outbound");
    let scheduler = scheduler(&sandbox, &store, "hub-a");

    // First pass: every stream of every connection is due.
    let first = streams(&scheduler.run_until_idle().await.expect("pass"));
    let expected: BTreeSet<_> = [
        pair(&shops.union, UNION_ORDERS),
        pair(&shops.union, UNION_REFUNDS),
        pair(&shops.union, UNION_PIDS),
        pair(&shops.jit, JIT_ORDERS),
        pair(&shops.jit, JIT_RETURNS),
        pair(&shops.jit, PRODUCTS),
        pair(&shops.winit, WINIT_OUTBOUND),
        pair(&shops.winit, PRODUCTS),
    ]
    .into();
    assert_eq!(first, expected);
    assert!(
        scheduler.run_until_idle().await.expect("pass").is_empty(),
        "nothing is due right after"
    );

    // Four minutes later only the 3-minute order streams are due.
    clock.advance_ms(4 * 60_000);
    let second = streams(&scheduler.run_until_idle().await.expect("pass"));
    assert_eq!(
        second,
        [
            pair(&shops.union, UNION_ORDERS),
            pair(&shops.jit, JIT_ORDERS)
        ]
        .into()
    );
    for schedule in store.schedules().await.expect("schedules") {
        assert_eq!(
            schedule.last_status.as_deref(),
            Some("complete"),
            "{schedule:?}"
        );
        assert!(
            schedule.lease_owner.is_none(),
            "leases are released: {schedule:?}"
        );
        assert_eq!(
            schedule.next_run_ms,
            schedule.last_finished_ms.expect("finished") + schedule.interval_ms
        );
    }

    // Forty simulated days in 6-hour steps: orders settle and some are refunded, direct-ship
    // orders ship, get cancelled or returned, the outbound order moves through the warehouse.
    for _ in 0..160 {
        clock.advance_ms(6 * HOUR_MS);
        streams(&scheduler.run_until_idle().await.expect("pass"));
    }

    // JIT: the store holds every direct-ship order with the status the platform shows now.
    let stored: BTreeMap<String, Value> = store
        .synced_records(&shops.jit, JIT_ORDERS)
        .await
        .expect("records")
        .into_iter()
        .map(|r| {
            (
                r.record.id,
                serde_json::from_str(&r.record.payload).expect("json"),
            )
        })
        .collect();
    let vendor_id = sandbox.credentials().vop.vendor_id;
    let platform_ids: BTreeSet<String> = {
        let state = sandbox.state();
        let vop_state = state.vop();
        let now = clock.now_ms();
        vop_state.jit.vendors[&vendor_id]
            .dvd_orders
            .iter()
            .filter(|o| o.created_ms <= now)
            .map(|o| o.order_id.clone())
            .collect()
    };
    assert_eq!(
        stored.keys().cloned().collect::<BTreeSet<_>>(),
        platform_ids
    );
    let tokens: shopbridge_hub::VopTokens =
        serde_json::from_str(secrecy::ExposeSecret::expose_secret(
            &store.connection(&shops.jit).await.expect("jit").credentials,
        ))
        .expect("tokens");
    let jit = JitConnector::new(vop.with_access_token(tokens.access_token), vendor_id);
    let mut statuses = BTreeSet::new();
    for (id, payload) in &stored {
        let live = jit
            .orders()
            .expect("orders")
            .get_orders(&OrderQuery {
                status: OrderStatus::All,
                plat_order_no: Some(id.clone()),
                time_type: OrderTimeType::Modified,
                start_ms: 0,
                end_ms: 0,
                page: 1,
                page_size: 1,
                shop_type: None,
            })
            .await
            .expect("live order");
        assert_eq!(
            payload["status"],
            serde_json::to_value(live.items[0].status).expect("status"),
            "order {id}"
        );
        statuses.insert(live.items[0].status.code());
    }
    assert!(
        statuses.len() >= 3,
        "the orders went different ways: {statuses:?}"
    );
    let mut changed = 0;
    for id in stored.keys() {
        let versions = store
            .synced_record_versions(&shops.jit, JIT_ORDERS, id)
            .await
            .expect("versions");
        assert!(!versions.is_empty());
        if versions.len() >= 2 {
            changed += 1;
        }
    }
    assert!(
        changed >= 1,
        "an order that changed keeps every version ({changed})"
    );

    // JIT returns: every return to the vendor, from every warehouse.
    let returns: BTreeSet<String> = store
        .synced_records(&shops.jit, JIT_RETURNS)
        .await
        .expect("returns")
        .into_iter()
        .map(|r| r.record.id)
        .collect();
    let platform_returns: BTreeSet<String> = {
        let state = sandbox.state();
        let vop_state = state.vop();
        vop_state.jit.vendors[&vendor_id]
            .returns
            .iter()
            .map(|r| r.return_sn.clone())
            .collect()
    };
    assert!(!returns.is_empty());
    assert_eq!(returns, platform_returns);

    // Union refunds: the same set as the platform's.
    let refunds: BTreeSet<String> = store
        .synced_records(&shops.union, UNION_REFUNDS)
        .await
        .expect("refunds")
        .into_iter()
        .map(|r| r.record.id)
        .collect();
    assert!(
        !refunds.is_empty(),
        "some orders were refunded after settlement"
    );
    assert_eq!(
        refunds,
        sandbox_refunds(&vop, start - 31 * DAY_MS, clock.now_ms()).await
    );

    // Winit: the outbound order, with more than one version as it moved on.
    let outbound_records = store
        .synced_records(&shops.winit, WINIT_OUTBOUND)
        .await
        .expect("outbound");
    let ours = outbound_records
        .iter()
        .find(|r| r.record.id == outbound)
        .expect("the outbound order was synced");
    assert!(
        ours.versions >= 2,
        "its status changes were stored: {ours:?}"
    );
    assert!(
        !store
            .synced_records(&shops.winit, PRODUCTS)
            .await
            .expect("products")
            .is_empty()
    );
    assert!(
        !store
            .synced_records(&shops.jit, PRODUCTS)
            .await
            .expect("products")
            .is_empty()
    );
    // PIDs: the ones the links were made with, as the platform lists them.
    let pids: BTreeSet<String> = store
        .synced_records(&shops.union, UNION_PIDS)
        .await
        .expect("pids")
        .into_iter()
        .map(|r| r.record.id)
        .collect();
    let listed = vop
        .execute(&QueryPid::all(Mode::Channel, 1).page_size(100))
        .await
        .expect("pids");
    for made in &made.pid_info_list {
        assert!(
            pids.contains(&made.pid),
            "{} was synced: {pids:?}",
            made.pid
        );
    }
    assert_eq!(
        pids,
        listed.pid_info_list.into_iter().map(|p| p.pid).collect()
    );
}

#[tokio::test]
async fn tokens_that_cannot_be_renewed_are_warned_about_once() {
    let sandbox = common::sandbox(10).await;
    let store = common::sqlite_store().await;
    let now = sandbox.clock().now_ms();
    let soon = common::connection(
        &store,
        "vop",
        "union_tool",
        "expiring",
        "{}",
        (Some(now + 3 * DAY_MS), None),
    )
    .await;
    let later = common::connection(
        &store,
        "vop",
        "union_tool",
        "fine",
        "{}",
        (Some(now + 60 * DAY_MS), None),
    )
    .await;
    let renewable = common::connection(
        &store,
        "vop",
        "jit",
        "renewable",
        "{}",
        (Some(now + DAY_MS), Some(now + 200 * DAY_MS)),
    )
    .await;
    let scheduler = scheduler(&sandbox, &store, "hub-a");
    let warnings = scheduler.warn_expiring().await.expect("warn");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(
        (warnings[0].connection_id.as_str(), warnings[0].kind),
        (soon.as_str(), "access")
    );
    assert!(
        scheduler.warn_expiring().await.expect("warn").is_empty(),
        "raised once"
    );
    // 55 days on, the second access token and not the refreshable one.
    sandbox.clock().advance_ms(55 * DAY_MS);
    let next = scheduler.warn_expiring().await.expect("warn");
    assert_eq!(
        next.iter()
            .map(|w| w.connection_id.as_str())
            .collect::<Vec<_>>(),
        [later.as_str()]
    );
    // A refresh token close to its end is a warning too: the shop must authorize again.
    sandbox.clock().advance_ms(140 * DAY_MS);
    let last = scheduler.warn_expiring().await.expect("warn");
    assert_eq!(
        last.iter()
            .map(|w| (w.connection_id.as_str(), w.kind))
            .collect::<Vec<_>>(),
        [(renewable.as_str(), "refresh")]
    );
}

#[tokio::test]
async fn schedulers_on_one_postgres_share_the_work_and_take_over_dead_leases() {
    let sandbox = common::sandbox(30).await;
    let database = common::PgDatabase::create().await;
    // Two processes share the database and its master key.
    let (store_a, store_b) = (
        database.open(MasterKey::from_bytes([7; 32])).await,
        database.open(MasterKey::from_bytes([7; 32])).await,
    );
    let shops = connect_shops(&sandbox, &store_a).await;
    buyers(&sandbox, &common::vop_client(&sandbox), 3).await;
    let (a, b) = (
        scheduler(&sandbox, &store_a, "hub-a"),
        scheduler(&sandbox, &store_b, "hub-b"),
    );
    a.plan().await.expect("plan");
    let (ran_a, ran_b) = tokio::join!(a.run_until_idle(), b.run_until_idle());
    let (ran_a, ran_b) = (streams(&ran_a.expect("a")), streams(&ran_b.expect("b")));
    assert!(
        ran_a.is_disjoint(&ran_b),
        "no stream ran twice: {ran_a:?} {ran_b:?}"
    );
    assert_eq!(ran_a.len() + ran_b.len(), 8);
    // A process that dies holding a lease: its stream waits for the lease to run out.
    sandbox.clock().advance_ms(4 * 60_000);
    let now = sandbox.clock().now_ms();
    let held = store_a
        .claim_due("dead-hub", now, 5 * 60_000)
        .await
        .expect("claim")
        .expect("due");
    let taken = streams(&b.run_until_idle().await.expect("b"));
    assert!(
        !taken.contains(&pair(&held.connection_id, &held.stream)),
        "a live lease is respected"
    );
    sandbox.clock().advance_ms(6 * 60_000);
    let taken = streams(&b.run_until_idle().await.expect("b"));
    assert!(
        taken.contains(&pair(&held.connection_id, &held.stream)),
        "an expired lease is taken over: {taken:?}"
    );
    let _ = shops;
    store_a.pool().close().await;
    store_b.pool().close().await;
    database.drop_now().await;
}

/// A stopping process ends its runs after the page they are on: the pages read and their calls
/// are stored, the run is recorded as interrupted and its stream due again, and the next scheduler
/// resumes it from its checkpoint to the platform's whole order set. A run that a killed process
/// left "fetching" is ended by the process that takes its stream over.
#[tokio::test]
async fn a_stopping_scheduler_ends_runs_after_their_page_and_the_next_resumes() {
    let sandbox = common::sandbox(50).await;
    let store = common::sqlite_store().await;
    let vop = common::vop_client(&sandbox);
    let shop = common::union_channel_shop(&store).await;
    buyers(&sandbox, &vop, 40).await;
    let mut first = scheduler(&sandbox, &store, "first");
    let stopper = first.clone();
    first.on_page = Some(std::sync::Arc::new(move |_, stream, _, _| {
        if stream == UNION_ORDERS {
            stopper.stop();
        }
    }));
    let outcomes = first.run_until_idle().await.expect("first pass");
    let stopped = outcomes
        .iter()
        .find(|outcome| outcome.stream == UNION_ORDERS)
        .expect("the order stream ran");
    let report = stopped.result.as_ref().expect("a stop is not a failure");
    assert!(report.interrupted);
    // The stop was asked for once the first pages were stored (a batch: see `PageBatching`).
    let batch = shopbridge_hub::PageBatching::default().pages as u32;
    assert!(
        (1..=batch).contains(&report.pages),
        "the run ended after the pages it was on: {report:?}"
    );
    assert_eq!(
        outcomes.last().map(|outcome| outcome.stream.as_str()),
        Some(UNION_ORDERS),
        "no run starts once the scheduler is stopping"
    );
    let runs = store
        .stream_runs(&shop, UNION_ORDERS, 10)
        .await
        .expect("runs");
    assert_eq!(
        (
            runs[0].status.as_str(),
            runs[0].pages,
            runs[0].finished_ms.is_some()
        ),
        ("interrupted", i64::from(report.pages), true)
    );
    // The pages' calls were recorded with them.
    let gateway: Value = common::gateway_log(&sandbox, "orderList").await;
    assert_eq!(
        common::recorded_calls(&store, "orderList").await,
        gateway["calls"].as_i64()
    );

    // A run a killed process left fetching.
    let abandoned = store
        .start_run(&shop, UNION_ORDERS, sandbox.clock().now_ms())
        .await
        .expect("abandoned run");
    // The next process finds the stream due at once and finishes it.
    let second = scheduler(&sandbox, &store, "second");
    let outcomes = second.run_until_idle().await.expect("second pass");
    let resumed = outcomes
        .iter()
        .find(|outcome| outcome.stream == UNION_ORDERS)
        .expect("the order stream is due again at once");
    let report = resumed.result.as_ref().expect("resumed run");
    assert!(!report.interrupted);
    let runs = store
        .stream_runs(&shop, UNION_ORDERS, 10)
        .await
        .expect("runs");
    let left = runs
        .iter()
        .find(|run| run.id == abandoned)
        .expect("the abandoned run");
    assert_eq!(left.status, "interrupted");
    assert!(left.finished_ms.is_some() && left.error.is_some());
    assert_eq!(runs[0].status, "complete");
    let now = sandbox.clock().now_ms();
    let app_key = sandbox.credentials().vop.app_key.clone();
    let truth = sandbox
        .state()
        .vop()
        .union
        .orders
        .order_set(&app_key, now)
        .len() as i64;
    assert!(truth >= 120);
    assert_eq!(
        store.union_order_count(&shop).await.expect("count"),
        truth,
        "the resumed run stored every order"
    );
}

/// `serve` stopping while a run is in progress: the signal stops the scheduler, the run ends
/// after its page (recorded interrupted, with every call it made recorded), serve returns, and
/// the stream is due again at once.
#[tokio::test]
async fn serve_stopping_mid_run_ends_the_run_after_its_page() {
    let sandbox = common::sandbox(50).await;
    let store = common::sqlite_store().await;
    let vop = common::vop_client(&sandbox);
    let shop = common::union_channel_shop(&store).await;
    buyers(&sandbox, &vop, 20).await;
    // Real latency on every platform answer, so that a run of its 31 windows is still going
    // when the stop comes.
    common::platform_latency(&sandbox, 20).await;
    let mut application =
        shopbridge_hub::Application::build(common::app_config(&sandbox, &store, "")).expect("hub");
    let (first_page, on_first_page) = tokio::sync::oneshot::channel::<()>();
    let first_page = std::sync::Mutex::new(Some(first_page));
    application.scheduler.on_page = Some(std::sync::Arc::new(move |_, stream, _, _| {
        if stream == UNION_ORDERS
            && let Some(tell) = first_page.lock().expect("lock").take()
        {
            let _ = tell.send(());
        }
    }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let serving = tokio::spawn(
        application.serve(listener, Duration::from_millis(20), async {
            let _ = stopped.await;
        }),
    );
    on_first_page.await.expect("a page of the order stream");
    stop.send(()).expect("stop");
    serving.await.expect("serve task").expect("serve");
    let runs = store
        .stream_runs(&shop, UNION_ORDERS, 10)
        .await
        .expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "interrupted");
    assert!(
        runs[0].pages >= 1 && runs[0].pages < 31,
        "{}",
        runs[0].pages
    );
    assert!(runs[0].finished_ms.is_some());
    let gateway: Value = common::gateway_log(&sandbox, "orderList").await;
    assert_eq!(
        common::recorded_calls(&store, "orderList").await,
        gateway["calls"].as_i64(),
        "every call made is recorded"
    );
    // Due again at once: another process claims it now.
    let next = scheduler(&sandbox, &store, "next");
    let claimed = store
        .claim_due_of(
            &next.owner,
            sandbox.clock().now_ms(),
            60_000,
            shopbridge_store::ClaimScope::Stream(&shop, UNION_ORDERS),
        )
        .await
        .expect("claim");
    assert!(claimed.is_some(), "the stream is due again at once");
}

/// A run whose lease another process took over (this one's lapsed) stops after its page
/// instead of running the stream beside the new holder, and leaves the lease to it.
#[tokio::test]
async fn a_run_that_loses_its_lease_stops_after_its_page() {
    let sandbox = common::sandbox(50).await;
    let store = common::sqlite_store().await;
    let shop = common::union_channel_shop(&store).await;
    // Real latency on every platform answer: the run's 31 windows take far longer than the
    // renewal interval.
    common::platform_latency(&sandbox, 30).await;
    let mut holder = scheduler(&sandbox, &store, "holder");
    holder.lease_ms = 150;
    let (store_in_hook, shop_in_hook) = (store.clone(), shop.clone());
    let taken = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The checkpoint as the new holder finds it when it takes the stream over.
    let takeover = std::sync::Arc::new(std::sync::Mutex::new(None));
    let takeover_in_hook = takeover.clone();
    holder.on_page = Some(std::sync::Arc::new(move |_, stream, _, _| {
        if stream != UNION_ORDERS || taken.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        // Another process takes the stream over after the first page.
        let (store, shop) = (store_in_hook.clone(), shop_in_hook.clone());
        let took = tokio::spawn(async move {
            sqlx::query("UPDATE sync_schedule SET lease_owner = 'usurper', lease_token = 'the usurper''s claim' WHERE connection_id = $1 AND stream = $2")
                .bind(&shop)
                .bind(UNION_ORDERS)
                .execute(store.pool())
                .await
                .expect("take the lease over");
            store
                .checkpoint(&shop, UNION_ORDERS)
                .await
                .expect("checkpoint")
        });
        *takeover_in_hook.lock().expect("lock") = Some(took);
    }));
    let outcome = holder
        .run_stream_now(&store.connection(&shop).await.expect("shop"), UNION_ORDERS)
        .await
        .expect("run")
        .expect("claimed");
    let report = outcome.result.expect("a lost lease is not a failure");
    assert!(report.interrupted);
    assert!(report.pages < 31, "{} pages", report.pages);
    let runs = store
        .stream_runs(&shop, UNION_ORDERS, 1)
        .await
        .expect("runs");
    assert_eq!(runs[0].status, "interrupted");
    let holder_now: Option<String> = sqlx::query_scalar(
        "SELECT lease_owner FROM sync_schedule WHERE connection_id = $1 AND stream = $2",
    )
    .bind(&shop)
    .bind(UNION_ORDERS)
    .fetch_one(store.pool())
    .await
    .expect("schedule");
    assert_eq!(
        holder_now.as_deref(),
        Some("usurper"),
        "the lease stays with its new holder"
    );
    // Nothing the old run had read and not yet written is written after the takeover: the new
    // holder's checkpoint is not moved under it.
    let took = takeover.lock().expect("lock").take().expect("taken over");
    let at_takeover = took.await.expect("takeover");
    assert!(at_takeover.is_some(), "the first batch was written");
    assert_eq!(
        store
            .checkpoint(&shop, UNION_ORDERS)
            .await
            .expect("checkpoint"),
        at_takeover
    );
}

/// A run by hand (the `sync` command) holds the stream's lease as a scheduled run does: it is
/// refused while another run holds the stream, and takes it over from a holder that has exited;
/// while it runs, a serving hub neither claims the stream nor takes the run for one a stopped
/// process left; and it hands the stream back with its outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_by_hand_holds_the_stream_as_a_scheduled_run_does() {
    let sandbox = common::sandbox(50).await;
    let store = common::sqlite_store().await;
    let shop = common::union_channel_shop(&store).await;
    let hub = scheduler(&sandbox, &store, "hub");
    let vop = common::vop_client(&sandbox);
    let clock = vop.shared_clock();
    let hand_sync = || {
        let mut sync = shopbridge_hub::sources::union_order_sync(
            store.clone(),
            vop.clone(),
            Mode::Channel,
            shop.clone(),
        );
        sync.initial_ms = 3 * DAY_MS;
        sync
    };
    let by_hand = |sync| {
        shopbridge_hub::scheduler::run_by_hand(
            &store,
            "by-hand",
            clock.clone(),
            180_000,
            sync,
            |holder: &str| holder == "gone",
        )
    };
    let lease_owner = async || -> Option<String> {
        sqlx::query_scalar(
            "SELECT lease_owner FROM sync_schedule WHERE connection_id = $1 AND stream = $2",
        )
        .bind(&shop)
        .bind(UNION_ORDERS)
        .fetch_one(store.pool())
        .await
        .expect("schedule")
    };

    // Held by a scheduler's run: refused, naming the holder, and nothing is run.
    let now = clock.now_ms();
    store
        .ensure_schedule(&shop, UNION_ORDERS, 180_000, now)
        .await
        .expect("schedule");
    let claim_as = async |owner: &str| {
        store
            .claim_due_of(
                owner,
                now,
                600_000,
                shopbridge_store::ClaimScope::Stream(&shop, UNION_ORDERS),
            )
            .await
            .expect("claim")
            .expect("due")
    };
    let held = claim_as("hub").await;
    match by_hand(hand_sync()).await {
        Err(shopbridge_hub::SyncError::Held(message)) => {
            assert!(message.contains("is being synced by hub ("), "{message}");
        }
        other => panic!("expected the stream to be held, got {other:?}"),
    }
    assert!(
        store
            .stream_runs(&shop, UNION_ORDERS, 1)
            .await
            .expect("runs")
            .is_empty()
    );
    store
        .release_lease(&held, "hub", "complete", now)
        .await
        .expect("release");
    // Then held by a `sync` that was killed on this host: its lease has not lapsed, but its
    // holder is gone, so the run by hand takes the stream over.
    assert!(store.run_now(&shop, UNION_ORDERS, now).await.expect("due"));
    claim_as("gone").await;
    assert_eq!(lease_owner().await.as_deref(), Some("gone"));

    // It runs under its own lease. A hub looking meanwhile (at its first page) can claim
    // nothing, and leaves the run fetching.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let mut sync = hand_sync();
    {
        let (hub, store, shop, seen) = (hub.clone(), store.clone(), shop.clone(), seen.clone());
        sync.on_page = Some(std::sync::Arc::new(move |_, _| {
            let mut seen = seen.lock().expect("lock");
            if seen.is_some() {
                return;
            }
            // The run waits here while the hub looks, so that it is certainly in progress.
            *seen = Some(tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    let connection = store.connection(&shop).await.expect("shop");
                    let claimed = hub
                        .run_stream_now(&connection, UNION_ORDERS)
                        .await
                        .expect("look");
                    let runs = store
                        .stream_runs(&shop, UNION_ORDERS, 1)
                        .await
                        .expect("runs");
                    (claimed.is_some(), runs[0].status.clone())
                })
            }));
        }));
    }
    let report = by_hand(sync).await.expect("run");
    assert!(!report.interrupted);
    assert_eq!(
        seen.lock().expect("lock").clone(),
        Some((false, "fetching".to_owned())),
        "the hub claimed nothing and left the run in progress alone"
    );
    let runs = store
        .stream_runs(&shop, UNION_ORDERS, 1)
        .await
        .expect("runs");
    assert_eq!(runs[0].status, "complete");
    assert_eq!(lease_owner().await, None, "handed back");
    let schedule = store
        .schedules()
        .await
        .expect("schedules")
        .into_iter()
        .find(|s| s.connection_id == shop && s.stream == UNION_ORDERS)
        .expect("schedule");
    assert_eq!(schedule.last_status.as_deref(), Some("complete"));
    assert!(
        schedule.next_run_ms > clock.now_ms(),
        "due again after its interval"
    );
}

/// A run cut off by its caller (its future dropped half-way, as when the request that started
/// it gives up) stops renewing its lease and hands the stream back, due at once, instead of
/// holding it for as long as the process lives.
#[tokio::test]
async fn a_run_dropped_half_way_hands_its_stream_back() {
    let sandbox = common::sandbox(50).await;
    let store = common::sqlite_store().await;
    let shop = common::union_channel_shop(&store).await;
    // Slow answers: the run's 31 windows take far longer than the caller waits.
    common::platform_latency(&sandbox, 30).await;
    let mut hub = scheduler(&sandbox, &store, "hub");
    hub.lease_ms = 300;
    let connection = store.connection(&shop).await.expect("shop");
    let cut_off = tokio::time::timeout(
        Duration::from_millis(200),
        hub.run_stream_now(&connection, UNION_ORDERS),
    )
    .await;
    assert!(cut_off.is_err(), "the run was still going");
    // The hand-back runs on its own: wait for it (bounded), then check it.
    let schedule = async || {
        store
            .schedules()
            .await
            .expect("schedules")
            .into_iter()
            .find(|s| s.connection_id == shop && s.stream == UNION_ORDERS)
            .expect("schedule")
    };
    let mut looked = 0;
    while schedule().await.lease_owner.is_some() {
        looked += 1;
        assert!(looked < 100, "the stream was not handed back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after = schedule().await;
    assert_eq!(after.last_status.as_deref(), Some("interrupted"));
    // Due at once: the next look resumes it.
    let outcome = hub
        .run_stream_now(&connection, UNION_ORDERS)
        .await
        .expect("run")
        .expect("claimed");
    assert!(!outcome.result.expect("run").interrupted);
}
