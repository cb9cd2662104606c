//! An ERP as 菠萝派's customers write them, from the protocol alone (form post, MD5 sign,
//! envelope): against `shopbridge serve` in demo mode it downloads orders, ships one and checks
//! refund status through `/openapi/do`.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use chrono::{FixedOffset, Utc};
use md5::{Digest, Md5};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_shopbridge");

use common::{serve, serve_with};

/// The ERP side: common parameters of spec §2, the sign of §3, the envelope of §4.
struct Erp {
    http: reqwest::Client,
    endpoint: String,
    appkey: String,
    secret: String,
}

impl Erp {
    fn sign(&self, params: &BTreeMap<&str, String>) -> String {
        let mut text = self.secret.clone();
        for (name, value) in params {
            text.push_str(name);
            text.push_str(value);
        }
        text.push_str(&self.secret);
        hex::encode(Md5::digest(text.to_lowercase().as_bytes()))
    }

    async fn call(&self, method: &str, token: &str, platid: &str, biz: Value) -> Value {
        self.call_at(method, token, platid, biz, Utc::now()).await
    }

    /// A call stamped with `now` (a sandbox's simulated time, say).
    async fn call_at(
        &self,
        method: &str,
        token: &str,
        platid: &str,
        biz: Value,
        now: chrono::DateTime<Utc>,
    ) -> Value {
        let beijing = FixedOffset::east_opt(8 * 3600).expect("offset");
        let mut params = BTreeMap::new();
        params.insert("method", method.to_owned());
        params.insert("appkey", self.appkey.clone());
        params.insert("token", token.to_owned());
        params.insert("platid", platid.to_owned());
        params.insert("version", "1.1".to_owned());
        params.insert("contenttype", "json".to_owned());
        params.insert(
            "timestamp",
            now.with_timezone(&beijing)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
        );
        params.insert("bizcontent", biz.to_string());
        let sign = self.sign(&params);
        params.insert("sign", sign);
        self.http
            .post(&self.endpoint)
            .form(&params)
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json envelope")
    }
}

fn ok(answer: &Value) -> &Value {
    assert_eq!(answer["code"], "10000", "{answer}");
    assert!(answer["polyapirequestid"].is_string() && answer["polyapitotalms"].is_u64());
    answer
}

#[tokio::test]
async fn an_erp_downloads_orders_ships_one_and_checks_refunds() {
    let hub = serve();
    let http = shopbridge_core::http::client_builder()
        .build()
        .expect("http");
    let demo: Value = http
        .get(format!("{}/demo/credentials", hub.url))
        .send()
        .await
        .expect("credentials")
        .json()
        .await
        .expect("json");
    let appkey = demo["appkey"].as_str().expect("appkey").to_owned();
    let secret = demo["appsecret"].as_str().expect("appsecret").to_owned();
    let jit = demo["shops"]
        .as_array()
        .expect("shops")
        .iter()
        .find(|s| s["platid"] == "9002")
        .expect("a JIT shop")
        .clone();
    let token = jit["token"].as_str().expect("token");
    // Drive the hub's sync until it is idle, as an operator's "sync now" does.
    let sync_now = || async {
        let runs: Value = http
            .post(format!("{}/v1/sync/run", hub.url))
            .bearer_auth(format!("{appkey}:{secret}"))
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
    };
    sync_now().await;
    let erp = Erp {
        http: http.clone(),
        endpoint: format!("{}/openapi/do", hub.url),
        appkey: appkey.clone(),
        secret: secret.clone(),
    };

    // 订单下载: every order of the last 30 days, as an ERP pages through them.
    let now = Utc::now().with_timezone(&FixedOffset::east_opt(8 * 3600).expect("offset"));
    let window = |days: i64| {
        (now - chrono::Duration::days(days))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let mut orders = Vec::new();
    for page in 1.. {
        let answer = erp
            .call(
                "Differ.JH.Business.GetOrder",
                token,
                "9002",
                json!({"OrderStatus": "JH_99", "TimeType": "JH_02", "StartTime": window(30), "EndTime": window(-1), "PageIndex": page, "PageSize": 5}),
            )
            .await;
        let answer = ok(&answer);
        orders.extend(answer["orders"].as_array().expect("orders").iter().cloned());
        if answer["ishasnextpage"] == 0 {
            assert_eq!(answer["numtotalorder"].as_u64(), Some(orders.len() as u64));
            break;
        }
    }
    assert!(orders.len() >= 5, "{} orders", orders.len());
    let waiting = orders
        .iter()
        .find(|o| o["tradestatus"] == "JH_02")
        .expect("an order waiting to ship");
    let number = waiting["platorderno"].as_str().expect("number");
    assert!(!waiting["goodinfos"].as_array().expect("lines").is_empty());

    // 发货同步
    let sent = erp
        .call(
            "Differ.JH.Business.Send",
            token,
            "9002",
            json!({"PlatOrderNo": number, "LogisticType": "JH_014", "LogisticNo": "SF1234567890", "LogisticName": "顺丰", "IsSplit": 0}),
        )
        .await;
    assert_eq!(ok(&sent)["logisticno"], "SF1234567890");
    sync_now().await;
    let after = erp
        .call(
            "Differ.JH.Business.GetOrder",
            token,
            "9002",
            json!({"PlatOrderNo": number}),
        )
        .await;
    let shipped = &ok(&after)["orders"][0];
    assert_eq!(shipped["tradestatus"], "JH_03", "{shipped}");
    assert_eq!(shipped["logisticno"], "SF1234567890");

    // 退款检查: the shipped order has none; a cancelled one is refunded.
    let check = erp
        .call(
            "Differ.JH.Business.CheckRefundStatus",
            token,
            "9002",
            json!({"OrderID": number}),
        )
        .await;
    assert_eq!(ok(&check)["refundstatus"], "JH_07");
    if let Some(cancelled) = orders.iter().find(|o| o["tradestatus"] == "JH_18") {
        let check = erp
            .call(
                "Differ.JH.Business.CheckRefundStatus",
                token,
                "9002",
                json!({"OrderID": cancelled["platorderno"]}),
            )
            .await;
        assert_ne!(ok(&check)["refundstatus"], "JH_07", "{check}");
    }

    // A wrong secret is refused with polyapi's subcode.
    let forged = Erp {
        secret: "0".repeat(32),
        ..erp
    };
    let refused = forged
        .call(
            "Differ.JH.Business.GetOrder",
            token,
            "9002",
            json!({"PlatOrderNo": number}),
        )
        .await;
    assert_eq!(refused["code"], "40000");
    assert_eq!(refused["subcode"], "GSE.VERIFYSIGN_FAILURE");
}

#[tokio::test]
async fn with_a_config_file_serve_talks_to_the_platforms_it_names() {
    let sandbox = shopbridge_sandbox::RunningSandbox::spawn(shopbridge_sandbox::SandboxConfig {
        union_goods: 20,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let creds = sandbox.credentials();
    let dir = std::env::temp_dir().join(format!("sb-config-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("vop.secret"),
        format!("{}\n", creds.vop.app_secret),
    )
    .expect("secret");
    let database = format!("sqlite://{}", dir.join("hub.db").display());
    let w = &creds.winit;
    let config = format!(
        r#"[vop]
app_key = "{}"
app_secret_file = "{}"
gateway_url = "{}"
oauth_url = "{}"

[winit]
app_key = "{}"
token = "{}"
client_id = "{}"
client_secret = "{}"
platform = "{}"
endpoint = "{}"

[hub]
database = "{database}"
master_key_file = "{}"
"#,
        creds.vop.app_key,
        dir.join("vop.secret").display(),
        sandbox.vop_gateway_url(),
        sandbox.vop_oauth_url(),
        w.app_key,
        w.token,
        w.client_id,
        w.client_secret,
        w.platform,
        sandbox.winit_endpoint(),
        dir.join("hub.key").display(),
    );
    let config_path = dir.join("shopbridge.toml");
    std::fs::write(&config_path, config).expect("config");
    let tenant = Command::new(BIN)
        .args(["tenant", "--database", &database, "--master-key-file"])
        .arg(dir.join("hub.key"))
        .args(["create", "erp", "--app-key", "erp-key", "--create"])
        .env_remove("SHOPBRIDGE_DATABASE_URL")
        .env_remove("SHOPBRIDGE_MASTER_KEY_FILE")
        .output()
        .expect("tenant");
    assert!(
        tenant.status.success(),
        "{}",
        String::from_utf8_lossy(&tenant.stderr)
    );
    let printed = String::from_utf8_lossy(&tenant.stdout).to_string();
    let secret = printed
        .lines()
        .find_map(|l| l.strip_prefix("appsecret"))
        .expect("secret printed")
        .trim()
        .to_owned();
    let hub = serve_with(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--config",
        &config_path.display().to_string(),
    ]);
    let http = shopbridge_core::http::client_builder()
        .build()
        .expect("http");
    let health = http
        .get(format!("{}/healthz", hub.url))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    let demo = http
        .get(format!("{}/demo/credentials", hub.url))
        .send()
        .await
        .expect("demo");
    assert_eq!(demo.status(), 404, "no demo credentials outside demo mode");
    // A JIT shop through the platform the file names.
    let started: Value = http
        .post(format!("{}/v1/shops", hub.url))
        .bearer_auth(format!("erp-key:{secret}"))
        .json(&json!({"platform": "vop", "mode": "jit", "name": "shop", "vendor_id": creds.vop.vendor_id}))
        .send()
        .await
        .expect("shop")
        .json()
        .await
        .expect("json");
    let url = started["authorize_url"].as_str().expect("authorize url");
    assert!(url.starts_with(&sandbox.vop_oauth_url()), "{url}");
    // And a Winit warehouse with the legacy credentials, checked against the named endpoint.
    let winit: Value = http
        .post(format!("{}/v1/shops", hub.url))
        .bearer_auth(format!("erp-key:{secret}"))
        .json(&json!({"platform": "winit", "name": "warehouse", "app_key": w.app_key, "token": w.token}))
        .send()
        .await
        .expect("winit")
        .json()
        .await
        .expect("json");
    assert_eq!(winit["state"], "active", "{winit}");
    drop(hub);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `serve --sandbox` follows the sandbox's clock as it moves: three simulated days on, the
/// hub's clock agrees with the sandbox's and a call stamped with the sandbox's time is accepted.
/// (Two workers: reading the child's output blocks one while the sandbox answers on the other.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_on_a_sandbox_follows_its_clock_as_it_moves() {
    use shopbridge_core::Clock;
    let sandbox = shopbridge_sandbox::RunningSandbox::spawn(shopbridge_sandbox::SandboxConfig {
        union_goods: 50,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let dir = std::env::temp_dir().join(format!("sb-follow-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let database = format!("sqlite://{}", dir.join("hub.db").display());
    let key = dir.join("hub.key").display().to_string();
    let tenant = Command::new(BIN)
        .args(["tenant", "--database", &database, "--master-key-file", &key])
        .args(["create", "erp", "--app-key", "erp-key", "--create"])
        .env_remove("SHOPBRIDGE_DATABASE_URL")
        .env_remove("SHOPBRIDGE_MASTER_KEY_FILE")
        .output()
        .expect("tenant");
    assert!(tenant.status.success());
    let secret = String::from_utf8_lossy(&tenant.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("appsecret").map(|s| s.trim().to_owned()))
        .expect("secret printed");
    let hub = common::serve_store(&sandbox.base_url(), &database, &key);
    let http = shopbridge_core::http::client_builder()
        .build()
        .expect("http");
    sandbox.clock().advance_secs(3 * 86_400);
    let sandbox_now = sandbox.clock().now_ms();
    // The hub re-reads the sandbox's clock every second: poll its health until it agrees.
    let mut agreed = false;
    for _ in 0..100 {
        let health: Value = http
            .get(format!("{}/healthz", hub.url))
            .send()
            .await
            .expect("health")
            .json()
            .await
            .expect("json");
        if health["now_ms"]
            .as_i64()
            .is_some_and(|hub_now| (hub_now - sandbox_now).abs() < 5_000)
        {
            agreed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        agreed,
        "the hub's clock followed the sandbox's three days ahead"
    );
    let erp = Erp {
        http,
        endpoint: format!("{}/openapi/do", hub.url),
        appkey: "erp-key".into(),
        secret,
    };
    let stamped = chrono::DateTime::from_timestamp_millis(sandbox.clock().now_ms()).expect("time");
    let answer = erp
        .call_at(
            "Differ.JH.Business.GetOrder",
            "no-such-shop",
            "9002",
            json!({}),
            stamped,
        )
        .await;
    let message = answer["submessage"].as_str().unwrap_or_default();
    assert!(
        !message.contains("timestamp"),
        "a call stamped with the sandbox's time is accepted: {answer}"
    );
    assert!(message.contains("token"), "{answer}");
    drop(hub);
    let _ = std::fs::remove_dir_all(&dir);
}
