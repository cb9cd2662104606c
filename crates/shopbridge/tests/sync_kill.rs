//! `shopbridge sync union` as an operator runs it on a busy account, against a sandbox whose
//! gateway fails, drops and cuts answers and whose orders change between page reads: killed
//! with SIGKILL at twenty random moments and restarted until it finishes, it ends with the
//! store equal to the platform's order set, on SQLite and on PostgreSQL.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_sandbox::{RunningSandbox, SandboxConfig};
use shopbridge_store::{MasterKey, Store, Vault};

const BIN: &str = env!("CARGO_BIN_EXE_shopbridge");
const DAY_SECS: i64 = 86_400;
/// Orders the account holds.
const ORDERS: usize = 24_000;

/// Every order of the demo app as orderList shows it now.
fn truth(sandbox: &RunningSandbox) -> Vec<(String, Option<String>, Option<String>, i64)> {
    let now = sandbox.clock().now_ms();
    let app_key = sandbox.credentials().vop.app_key.clone();
    sandbox.state().vop().union.orders.order_set(&app_key, now)
}

async fn admin(http: &reqwest::Client, sandbox: &RunningSandbox, path: &str, body: Value) {
    let answer = http
        .post(format!("{}{path}", sandbox.base_url()))
        .json(&body)
        .send()
        .await
        .expect("admin");
    assert!(answer.status().is_success(), "{path}: {}", answer.status());
}

/// A sandbox whose demo app has `ORDERS` Union orders placed over twelve days.
async fn busy_account(http: &reqwest::Client) -> RunningSandbox {
    let sandbox = RunningSandbox::spawn(SandboxConfig {
        union_goods: 100,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let creds = sandbox.credentials();
    let config = shopbridge_vop::VopConfig::new(
        creds.vop.app_key.clone(),
        secrecy::SecretString::from(creds.vop.app_secret.clone()),
    )
    .with_gateway_url(&sandbox.vop_gateway_url())
    .expect("gateway");
    let client =
        shopbridge_vop::VopClient::with_clock(config, Arc::new(sandbox.clock())).expect("client");
    let goods = client
        .execute(
            &shopbridge_vop::union::GoodsList::channel(shopbridge_vop::Mode::Channel, 0, 1)
                .page_size(3),
        )
        .await
        .expect("goods")
        .goods_info_list;
    let links = client
        .execute(
            &shopbridge_vop::union::GenByGoodsId::new(
                shopbridge_vop::Mode::Channel,
                goods.iter().map(|g| g.goods_id.clone()).collect::<Vec<_>>(),
            )
            .chan_tag("kill_pid"),
        )
        .await
        .expect("links")
        .url_info_list;
    // The account's quota lifted, as for an app granted a large one.
    admin(
        http,
        &sandbox,
        "/_sandbox/vop/quotas",
        json!({"overrides": ["orderList=1000000/1s"]}),
    )
    .await;
    // A day's buyers in one bulk call: clicks of 100 orders each.
    for day in 0..12 {
        let link = links[day % links.len()].url.clone().expect("url");
        admin(
            http,
            &sandbox,
            "/_sandbox/vop/union/clicks",
            json!({"link": link, "orders": 100, "clicks": ORDERS / 12 / 100}),
        )
        .await;
        sandbox.clock().advance_secs(DAY_SECS);
    }
    sandbox
}

async fn killed_twenty_times_ends_equal(database: &str) {
    let http = shopbridge_vop::http_client_builder().build().expect("http");
    let sandbox = busy_account(&http).await;
    let dir = std::env::temp_dir().join(format!("sb-kill-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let key_file = dir.join("master.key");
    let sync = || {
        let mut command = Command::new(BIN);
        command
            .args([
                "sync",
                "--create",
                "--database",
                database,
                "--master-key-file",
            ])
            .arg(&key_file)
            .args([
                "union",
                "--sandbox",
                &sandbox.base_url(),
                "--initial-days",
                "30",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    // Faults of every kind at the gateway, and orders that change between page reads.
    admin(
        &http,
        &sandbox,
        "/_sandbox/faults",
        json!({"error_rate": 0.05, "drop_rate": 0.03, "malformed_rate": 0.03, "latency_ms": 1, "path_prefix": "/vop"}),
    )
    .await;
    admin(
        &http,
        &sandbox,
        "/_sandbox/vop/union/churn",
        json!({"orders_per_page": 5, "pages": 1_000_000}),
    )
    .await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for _ in 0..20 {
        let mut child = sync().spawn().expect("spawn sync");
        // SIGKILL at a random point: during start-up, mid-window, or after it finished.
        tokio::time::sleep(std::time::Duration::from_millis(
            rng.random_range(10..1_500),
        ))
        .await;
        let _ = child.kill();
        let _ = child.wait();
    }
    // Restarted until a run finishes (a run whose retries ran out exits with an error).
    let finished = (0..30).any(|_| sync().status().expect("sync").success());
    assert!(finished, "a run finished");
    admin(&http, &sandbox, "/_sandbox/faults", json!({})).await;
    admin(
        &http,
        &sandbox,
        "/_sandbox/vop/union/churn",
        json!({"orders_per_page": 1, "pages": 0}),
    )
    .await;
    // Everything has settled or lapsed twenty days on; one more run reads the last changes.
    sandbox.clock().advance_secs(20 * DAY_SECS);
    assert!(sync().status().expect("final sync").success());

    let store = Store::open(
        database,
        Vault::new(MasterKey::load_or_create(&key_file).expect("key")),
    )
    .await
    .expect("store");
    let (tenant, _) = store
        .tenant_by_app_key("local")
        .await
        .expect("lookup")
        .expect("tenant");
    let connection = store
        .connection_id_by_name(&tenant, "union")
        .await
        .expect("lookup")
        .expect("connection");
    let stored = store.union_orders(&connection).await.expect("orders");
    let truth = truth(&sandbox);
    assert_eq!(truth.len(), ORDERS);
    assert_eq!(stored.len(), truth.len(), "nothing lost or duplicated");
    assert!(
        stored == truth,
        "statuses, commissions and update times match"
    );
    store.pool().close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_killed_twenty_times_into_sqlite_ends_equal_to_the_platform() {
    let dir = std::env::temp_dir().join(format!("sb-kill-db-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    killed_twenty_times_ends_equal(&format!("sqlite://{}", dir.join("shop.db").display())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_killed_twenty_times_into_postgres_ends_equal_to_the_platform() {
    let database = common::PgDatabase::create("sb_kill").await;
    killed_twenty_times_ends_equal(&database.url).await;
    database.drop_now().await;
}
