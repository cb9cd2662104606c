//! Two hub processes (`shopbridge sync scheduled`) side by side on one sandbox, one PostgreSQL
//! and one Redis: no stream runs twice, a token about to expire is refreshed once, and the
//! app's quota holds at the gateway for both processes together.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_sandbox::{RunningSandbox, SandboxConfig};
use shopbridge_store::{MasterKey, NewConnection, Store, Vault};
use shopbridge_vop::{VopClient, VopConfig};

const BIN: &str = env!("CARGO_BIN_EXE_shopbridge");
const KEY_HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";

/// A vendor's grant through the sandbox's login page, stored as a JIT connection whose access
/// token the hub believes expires within the hour.
async fn jit_connection(sandbox: &RunningSandbox, store: &Store, tenant: &str) -> String {
    let creds = sandbox.credentials();
    let config = VopConfig::new(
        creds.vop.app_key.clone(),
        SecretString::from(creds.vop.app_secret.clone()),
    )
    .with_gateway_url(&sandbox.vop_gateway_url())
    .expect("gateway")
    .with_oauth_url(&sandbox.vop_oauth_url())
    .expect("oauth");
    let client = VopClient::with_clock(config, Arc::new(sandbox.clock())).expect("client");
    let user = creds.vop.user("vendor").expect("vendor");
    let redirect = creds.vop.redirect_uris[0].clone();
    let url = client.authorize_url(&redirect, None).expect("url");
    let http = shopbridge_core::http::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let decision = shopbridge_sandbox::browser::authorize(
        &http,
        url.as_str(),
        &user.username,
        &user.password,
        true,
    )
    .await
    .expect("login");
    let code = shopbridge_vop::oauth::parse_callback(&decision.location.expect("redirect"))
        .expect("code")
        .code;
    let token = client
        .exchange_code(&code, &redirect, "127.0.0.1")
        .await
        .expect("exchange");
    let soon = sandbox.clock().now_ms() + 3_600_000;
    let tokens = json!({
        "access_token": token.access_token.expose_secret(),
        "refresh_token": token.refresh_token.as_ref().map(|t| t.expose_secret().to_owned()),
        "expires_at_ms": soon,
        "refresh_expires_at_ms": token.refresh_expires_time,
        "vendor_id": creds.vop.vendor_id,
    });
    store
        .create_connection(
            &NewConnection {
                tenant_id: tenant,
                kind: shopbridge_core::ShopKind::VopJit,
                name: "vendor",
                credentials: &SecretString::from(tokens.to_string()),
                access_expires_ms: Some(soon),
                refresh_expires_ms: token.refresh_expires_time,
            },
            0,
        )
        .await
        .expect("connection")
}

fn vendor_tokens_issued(sandbox: &RunningSandbox) -> usize {
    sandbox
        .state()
        .vop()
        .tokens
        .values()
        .filter(|t| t.username == "vendor_demo")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hub_processes_share_streams_refreshes_and_quotas() {
    let sandbox = RunningSandbox::spawn(SandboxConfig {
        union_goods: 10,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let http = shopbridge_core::http::client_builder()
        .build()
        .expect("http");
    let quota = http
        .post(format!("{}/_sandbox/vop/quotas", sandbox.base_url()))
        .json(&json!({"overrides": ["orderList=40/2s"]}))
        .send()
        .await
        .expect("quotas");
    assert!(quota.status().is_success());
    let database = common::PgDatabase::create("sb_scale").await;
    let url = database.url.clone();
    let store = Store::open(
        &url,
        Vault::new(MasterKey::from_hex(&SecretString::from(KEY_HEX)).expect("key")),
    )
    .await
    .expect("store");
    let tenant = store
        .create_tenant("erp", "erp-key", &SecretString::from("s"), 0)
        .await
        .expect("tenant");
    // Three affiliate accounts of one app: their orderList calls share the app's quota.
    for i in 0..3 {
        store
            .create_connection(
                &NewConnection {
                    tenant_id: &tenant,
                    kind: shopbridge_core::ShopKind::VopUnionChannel,
                    name: &format!("affiliate-{i}"),
                    credentials: &SecretString::from("{}"),
                    access_expires_ms: None,
                    refresh_expires_ms: None,
                },
                0,
            )
            .await
            .expect("connection");
    }
    let jit = jit_connection(&sandbox, &store, &tenant).await;
    let issued_before = vendor_tokens_issued(&sandbox);

    let prefix = format!("sb-scale-{}", uuid::Uuid::new_v4().simple());
    let hubs: Vec<_> = ["hub-a", "hub-b"]
        .into_iter()
        .map(|owner| {
            Command::new(BIN)
                .args([
                    "sync",
                    "--database",
                    &url,
                    "scheduled",
                    "--sandbox",
                    &sandbox.base_url(),
                ])
                .args([
                    "--redis",
                    "redis://127.0.0.1:6379",
                    "--redis-prefix",
                    &prefix,
                ])
                .args([
                    "--quota",
                    "orderList=40/2s",
                    "--owner",
                    owner,
                    "--until-idle",
                ])
                .env("SHOPBRIDGE_MASTER_KEY", KEY_HEX)
                .env_remove("SHOPBRIDGE_VOP_APP_KEY")
                .env_remove("SHOPBRIDGE_VOP_APP_SECRET")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn hub")
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        hubs.into_iter()
            .map(|hub| hub.wait_with_output().expect("hub output"))
            .collect::<Vec<_>>()
    })
    .await
    .expect("join");
    for output in &outputs {
        assert!(
            output.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    // Leases: every stream ran exactly once, between them.
    let runs = sqlx::query(
        "SELECT connection_id, stream, COUNT(*) AS n FROM sync_runs GROUP BY connection_id, stream",
    )
    .fetch_all(store.pool())
    .await
    .expect("runs");
    assert_eq!(
        runs.len(),
        3 * 3 + 3,
        "union orders, refunds and PIDs of three accounts, JIT orders, returns and products"
    );
    for run in &runs {
        use sqlx::Row;
        assert_eq!(
            run.try_get::<i64, _>("n").expect("n"),
            1,
            "a stream ran once"
        );
    }
    // Refresh: both processes found the token about to expire; the platform saw one refresh.
    assert_eq!(vendor_tokens_issued(&sandbox), issued_before + 1);
    let refreshed = store.connection(&jit).await.expect("jit");
    assert!(
        refreshed.access_expires_ms.expect("expiry") > sandbox.clock().now_ms() + 24 * 3_600_000
    );
    // Quotas: both processes together within the app's quota at the gateway.
    let log: Value = http
        .get(format!(
            "{}/_sandbox/vop/calls?method=orderList",
            sandbox.base_url()
        ))
        .send()
        .await
        .expect("calls")
        .json()
        .await
        .expect("log");
    assert_eq!(log["throttled"], 0, "{}", log["throttled"]);
    assert!(log["max_in_any_window"].as_u64().expect("max") <= 40);
    assert!(
        log["calls"].as_u64().expect("calls") >= 90,
        "{}",
        log["calls"]
    );

    store.pool().close().await;
    database.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_scheduled_run_leaves_no_secret_in_the_database_or_the_logs() {
    let sandbox = RunningSandbox::spawn(SandboxConfig {
        union_goods: 10,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let path = std::env::temp_dir().join(format!("sb-secrets-{}.db", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}", path.display());
    let store = Store::open(
        &url,
        Vault::new(MasterKey::from_hex(&SecretString::from(KEY_HEX)).expect("key")),
    )
    .await
    .expect("store");
    let tenant = store
        .create_tenant(
            "erp",
            "erp-key",
            &SecretString::from("tenant-secret-0xC0FFEE"),
            0,
        )
        .await
        .expect("tenant");
    jit_connection(&sandbox, &store, &tenant).await;
    let w = sandbox.credentials().winit;
    store
        .create_connection(
            &NewConnection {
                tenant_id: &tenant,
                kind: shopbridge_core::ShopKind::WinitWarehouse,
                name: "warehouse",
                credentials: &SecretString::from(
                    json!({"app_key": w.app_key, "token": w.token}).to_string(),
                ),
                access_expires_ms: None,
                refresh_expires_ms: None,
            },
            0,
        )
        .await
        .expect("winit connection");
    store.pool().close().await;
    let output = tokio::task::spawn_blocking({
        let url = url.clone();
        let base = sandbox.base_url();
        move || {
            Command::new(BIN)
                .args([
                    "sync",
                    "--database",
                    &url,
                    "scheduled",
                    "--sandbox",
                    &base,
                    "--until-idle",
                ])
                .env("SHOPBRIDGE_MASTER_KEY", KEY_HEX)
                .env("SHOPBRIDGE_LOG", "trace")
                .env_remove("SHOPBRIDGE_VOP_APP_KEY")
                .env_remove("SHOPBRIDGE_VOP_APP_SECRET")
                .output()
                .expect("run hub")
        }
    })
    .await
    .expect("join");
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{logs}");
    assert!(logs.lines().count() > 20, "trace logging is on");
    let mut database = std::fs::read(&path).expect("db file");
    for suffix in ["-wal", "-shm"] {
        if let Ok(more) = std::fs::read(format!("{}{suffix}", path.display())) {
            database.extend(more);
        }
    }
    // Every secret the run handled: the apps', the tenant's, and each token the sandbox issued,
    // including the ones the run's refresh obtained.
    let creds = sandbox.credentials();
    let mut secrets = vec![
        creds.vop.app_secret.clone(),
        w.token.clone(),
        w.client_secret.clone(),
        "tenant-secret-0xC0FFEE".into(),
    ];
    {
        let state = sandbox.state();
        let vop = state.vop();
        assert!(
            vop.tokens.len() >= 2,
            "the run refreshed the vendor's token"
        );
        for (access, token) in &vop.tokens {
            secrets.push(access.clone());
            secrets.push(token.refresh_token.clone());
        }
    }
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret is in the logs");
        assert!(
            !database
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "a secret is in the database file"
        );
    }
    let _ = std::fs::remove_file(&path);
}
