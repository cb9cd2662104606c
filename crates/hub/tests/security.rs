//! The attacks a security review of the hub tried, each kept as a test: huge numbers, another
//! tenant's sync work, webhooks aimed inside the hub's network, sign-in from another site,
//! framing, replayed writes, a master key that does not fit the store, a world-readable
//! database, and unlimited guessing of credentials.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_hub::polyapi::sign;
use shopbridge_hub::security::TargetPolicy;
use shopbridge_hub::webhooks::WebhookDispatcher;
use shopbridge_store::{MasterKey, Store, Vault};

use common::{A, B, HubEnv};

fn bearer(tenant: (&str, &str)) -> String {
    format!("Bearer {}:{}", tenant.0, tenant.1)
}

impl HubEnv {
    async fn send(
        &self,
        tenant: (&str, &str),
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.hub))
            .header("authorization", bearer(tenant));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A signed unified-API form, ready to post (and to post again).
    fn signed_form(
        &self,
        tenant: (&str, &str),
        method: &str,
        token: &str,
        biz: Value,
    ) -> Vec<(String, String)> {
        let timestamp = shopbridge_vop::time::format_datetime_ms(self.sandbox.clock().now_ms());
        let mut params: Vec<(String, String)> = [
            ("method", method.to_owned()),
            ("appkey", tenant.0.to_owned()),
            ("token", token.to_owned()),
            ("platid", "9002".to_owned()),
            ("version", "1.1".to_owned()),
            ("contenttype", "json".to_owned()),
            ("timestamp", timestamp),
            ("bizcontent", biz.to_string()),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
        let sign = sign::sign(
            tenant.1,
            params.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        );
        params.push(("sign".into(), sign));
        params
    }

    async fn post_form(&self, form: &[(String, String)]) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/openapi/do", self.hub))
            .form(form)
            .send()
            .await
            .expect("post");
        let status = response.status().as_u16();
        (status, response.json().await.expect("envelope"))
    }
}

fn error_text(body: &Value) -> String {
    body["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn every_number_a_caller_sends_is_range_checked() {
    let env = HubEnv::start().await;
    let [jit_a, union_a, _] = env.ids.clone();
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    // The earnings loop that once ran per day over a wrapped period.
    // Each time out of range is a 400; two good times that make no period a 422.
    for (query, field, expected) in [
        (
            "from=9223372036854775806&to=9223372036854775807",
            "from",
            400,
        ),
        ("from=-9223372036854775808&to=0", "from", 400),
        ("from=1700000000000&to=9999-01-01T00:00:00Z", "to", 400),
        ("from=1700000000000&to=1800000000000", "to", 422),
        ("from=1700000000000&to=1600000000000", "to", 422),
    ] {
        let (status, body) = env
            .send(
                A,
                get.clone(),
                &format!("/v1/union/earnings?shop={union_a}&{query}"),
                None,
            )
            .await;
        assert_eq!(status, expected, "{query}: {body}");
        assert!(
            error_text(&body).starts_with(&format!("{field}:")),
            "{body}"
        );
    }
    let (status, body) = env
        .send(
            A,
            get.clone(),
            &format!("/v1/orders?shop={jit_a}&updated_after=-9223372036854775808"),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(error_text(&body).starts_with("updated_after:"), "{body}");
    let (status, body) = env
        .send(
            A,
            get.clone(),
            &format!("/v1/union/goods?shop={union_a}&page=2147483647"),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(error_text(&body).starts_with("page:"), "{body}");
    for (body, field) in [
        (
            json!({"shop": jit_a, "outer_id": "X", "quantity": i64::MIN, "mode": "incremental"}),
            "quantity",
        ),
        (
            json!({"shop": jit_a, "outer_id": "X", "quantity": 10_000_000_000_i64}),
            "quantity",
        ),
    ] {
        let (status, answer) = env.send(A, post.clone(), "/v1/stock", Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        assert!(error_text(&answer).starts_with(field), "{answer}");
    }
    let (status, answer) = env
        .send(
            A,
            post.clone(),
            "/v1/shipments",
            Some(json!({"shop": jit_a, "plat_order_no": "1", "logistic_type": "JH_014", "logistic_no": "SF1",
                "lines": [{"sub_order_no": "a", "count": 1_000_000_000_000_i64}]})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(error_text(&answer).starts_with("lines.count"), "{answer}");
    let (status, answer) = env
        .send(
            A,
            post.clone(),
            "/v1/shops",
            Some(json!({"platform": "vop", "mode": "jit", "name": "x", "vendor_id": -5})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(error_text(&answer).starts_with("vendor_id"), "{answer}");

    // The unified API: pages, times and counts.
    let now = env.sandbox.clock().now_ms();
    let (from, to) = (
        shopbridge_vop::time::format_datetime_ms(now - 86_400_000),
        shopbridge_vop::time::format_datetime_ms(now),
    );
    for (biz, named) in [
        (
            json!({"StartTime": from, "EndTime": to, "PageIndex": "1e300"}),
            "PageIndex",
        ),
        (
            json!({"StartTime": from, "EndTime": to, "PageIndex": i64::MAX}),
            "PageIndex",
        ),
        (
            json!({"StartTime": from, "EndTime": to, "PageIndex": "9007199254740993.0"}),
            "PageIndex",
        ),
        (
            json!({"StartTime": "9999-12-31 23:59:59", "EndTime": to}),
            "starttime",
        ),
    ] {
        let form = env.signed_form(A, "Differ.JH.Business.GetOrder", &env.jit_a, biz);
        let (status, answer) = env.post_form(&form).await;
        assert_eq!(status, 200);
        assert_eq!(answer["subcode"], "GSE.INVALID_PARAMETER", "{answer}");
        assert!(
            answer["submessage"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase()
                .contains(&named.to_lowercase()),
            "{answer}"
        );
    }
    let refunds = env.signed_form(
        A,
        "Differ.JH.Business.GetRefund",
        &env.jit_a,
        json!({"BeginTime": to, "EndTime": from}),
    );
    assert_eq!(
        env.post_form(&refunds).await.1["subcode"],
        "GSE.INVALID_PARAMETER"
    );
    let stock = env.signed_form(
        A,
        "Differ.JH.Business.SyncStock",
        &env.jit_a,
        json!({"OuterID": "X", "Quantity": "1e30"}),
    );
    assert_eq!(
        env.post_form(&stock).await.1["subcode"],
        "GSE.INVALID_PARAMETER"
    );

    // The console's order pages.
    let cookie = common::console_session(&env.http, &env.hub, A).await;
    let page = env
        .http
        .get(format!(
            "{}/console/orders?shop={jit_a}&older=18446744073709551615:X",
            env.hub
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 400);
    let said = page.text().await.expect("text");
    assert!(
        said.contains("older：") || said.contains("older:"),
        "{said}"
    );
    // Dates past what the hub keeps, or not dates at all, name the field.
    for query in [
        "from=99999-01-01",
        "to=2026-13-01",
        "from=2026-11-30&to=2026-11-01",
    ] {
        let page = env
            .http
            .get(format!(
                "{}/console/orders?shop={jit_a}&{query}&lang=en",
                env.hub
            ))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), 400, "{query}");
        let said = page.text().await.expect("text");
        assert!(
            said.contains("from:") || said.contains("to:") || said.contains("end date"),
            "{query}: {said}"
        );
    }
}

#[tokio::test]
async fn a_tenants_sync_run_runs_and_reports_only_its_own_shops() {
    let env = HubEnv::start().await;
    let [jit_a, union_a, jit_b] = env.ids.clone();
    let tenant_a = env.store.connection(&jit_a).await.expect("shop").tenant_id;
    let before = env
        .store
        .tenant_schedules(&tenant_a)
        .await
        .expect("schedules");
    env.sandbox.clock().advance_ms(3_600_000);
    let (status, answer) = env
        .send(B, reqwest::Method::POST, "/v1/sync/run", None)
        .await;
    assert_eq!(status, 200, "{answer}");
    let runs = answer["runs"].as_array().expect("runs");
    assert!(!runs.is_empty());
    assert!(
        runs.iter().all(|r| r["connection_id"] == jit_b.as_str()),
        "only B's shop: {answer}"
    );
    let text = answer.to_string();
    assert!(!text.contains(&jit_a) && !text.contains(&union_a), "{text}");
    let after = env
        .store
        .tenant_schedules(&tenant_a)
        .await
        .expect("schedules");
    assert_eq!(
        before
            .iter()
            .map(|s| s.last_finished_ms)
            .collect::<Vec<_>>(),
        after.iter().map(|s| s.last_finished_ms).collect::<Vec<_>>(),
        "A's streams did not run on B's request"
    );
}

#[tokio::test]
async fn a_sync_run_answers_promptly_when_a_shop_loses_its_grant_mid_run() {
    let env = HubEnv::start().await;
    let jit_b = env.ids[2].clone();
    // The vendor's account is frozen at the platform: its tokens stop working, so the first
    // of the shop's streams moves the shop to needs_reauth and the others can no longer run.
    let vendor = env
        .sandbox
        .credentials()
        .vop
        .user("vendor")
        .expect("vendor")
        .username
        .clone();
    let frozen = env
        .http
        .post(format!(
            "{}/_sandbox/vop/users/{vendor}",
            env.sandbox.base_url()
        ))
        .json(&json!({"frozen": true}))
        .send()
        .await
        .expect("freeze");
    assert!(frozen.status().is_success());
    env.sandbox.clock().advance_ms(3_600_000);
    let (status, answer) = tokio::time::timeout(
        Duration::from_secs(30),
        env.send(B, reqwest::Method::POST, "/v1/sync/run", None),
    )
    .await
    .expect("answered without waiting on a shop that cannot run");
    assert_eq!(status, 200);
    assert_eq!(answer["complete"], true, "{answer}");
    assert!(
        answer["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .any(|r| r["ok"] == false)
    );
    let shop = env.store.connection(&jit_b).await.expect("shop");
    assert_eq!(shop.state, shopbridge_store::ConnectionState::NeedsReauth);
}

/// This machine's name, which resolves to one of its own (loopback or private) addresses.
async fn own_hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_owned();
    let inside = tokio::net::lookup_host((name.as_str(), 80))
        .await
        .map(|mut found| found.all(|a| !shopbridge_hub::security::is_public(a.ip())))
        .unwrap_or(false);
    assert!(
        inside,
        "the machine's name {name:?} resolves to its own address"
    );
    name
}

#[tokio::test]
async fn webhooks_cannot_target_internal_addresses() {
    let env = HubEnv::start_with(TargetPolicy::default()).await;
    let hub_port = url::Url::parse(&env.hub)
        .expect("url")
        .port()
        .expect("port");
    for target in [
        "http://127.0.0.1/hook".to_owned(),
        "http://localhost/hook".to_owned(),
        "http://[::1]/hook".to_owned(),
        "http://0.0.0.0/hook".to_owned(),
        "http://2130706433/hook".to_owned(),
        "http://10.1.2.3/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00::1]/hook".to_owned(),
        "http://224.0.0.1/hook".to_owned(),
        // A name that resolves to this machine.
        format!("http://{}:{hub_port}/v1/shops", own_hostname().await),
        // The hub itself.
        format!("{}/v1/shops", env.hub),
    ] {
        let (status, answer) = env
            .send(
                A,
                reqwest::Method::POST,
                "/v1/webhooks",
                Some(json!({"url": target})),
            )
            .await;
        assert_eq!(status, 422, "{target}: {answer}");
        assert!(error_text(&answer).starts_with("url:"), "{answer}");
    }
    // A hook stored before its name moved inside (DNS rebinding) is refused when delivering,
    // on the address actually resolved, and its receiver never hears of it.
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = receiver.local_addr().expect("addr").port();
    let heard = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = heard.clone();
    tokio::spawn(async move {
        while let Ok((_, _)) = receiver.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let tenant = env
        .store
        .connection(&env.ids[0])
        .await
        .expect("shop")
        .tenant_id;
    let now = env.sandbox.clock().now_ms();
    let mut hooks = Vec::new();
    for url in [
        format!("http://{}:{port}/hook", own_hostname().await),
        format!("http://127.0.0.1:{port}/hook"),
    ] {
        hooks.push(
            env.store
                .create_webhook(&tenant, &url, &[], &"s".to_owned().into(), now)
                .await
                .expect("stored"),
        );
    }
    env.store
        .enqueue_event(&tenant, "sync.failed", json!({"n": 1}), now)
        .await
        .expect("event");
    let dispatcher = WebhookDispatcher::new(env.store.clone(), Arc::new(env.sandbox.clock()))
        .expect("dispatcher");
    dispatcher.deliver_until_idle().await.expect("deliver");
    assert_eq!(
        heard.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no connection made"
    );
    for hook in hooks {
        let deliveries = env
            .store
            .webhook_deliveries(&tenant, &hook, 10)
            .await
            .expect("deliveries");
        let (delivery, attempts) = &deliveries[0];
        assert_eq!(delivery.status, "failed", "refused for good, not retried");
        let error = attempts[0].error.clone().unwrap_or_default();
        assert!(error.contains("not a public internet address"), "{error}");
    }
}

#[tokio::test]
async fn sign_in_from_another_site_is_refused() {
    let env = HubEnv::start().await;
    // A page elsewhere posting the attacker's credentials into the victim's browser.
    let forged = env
        .http
        .post(format!("{}/console/login", env.hub))
        .header("origin", "https://attacker.example")
        .form(&[("app_key", B.0), ("app_secret", B.1)])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), 403);
    assert!(forged.headers().get("set-cookie").is_none());
    // The form's token is needed even without an Origin header, and must match its cookie.
    let (cookie, token) = common::login_form(&env.http, &env.hub).await;
    for (cookie, token) in [
        ("", token.as_str()),
        (cookie.as_str(), "0000"),
        (cookie.as_str(), ""),
    ] {
        let attempt = env
            .http
            .post(format!("{}/console/login", env.hub))
            .header("cookie", cookie)
            .form(&[("app_key", B.0), ("app_secret", B.1), ("login_csrf", token)])
            .send()
            .await
            .expect("post");
        assert_eq!(attempt.status(), 403, "cookie {cookie:?} token {token:?}");
    }
    let (cookie, token) = common::login_form(&env.http, &env.hub).await;
    let cross = env
        .http
        .post(format!("{}/console/login", env.hub))
        .header("cookie", cookie)
        .header("origin", "https://attacker.example")
        .form(&[
            ("app_key", B.0),
            ("app_secret", B.1),
            ("login_csrf", token.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(cross.status(), 403, "a stolen token from another origin");
    let own = common::console_login(&env.http, &env.hub, B.0, B.1).await;
    assert_eq!(own.status(), 303);
}

#[tokio::test]
async fn pages_cannot_be_framed_or_sniffed() {
    let env = HubEnv::start().await;
    for path in [
        "/console/login",
        "/connect/vop/callback?code=x&state=y",
        "/healthz",
        "/v1/shops",
    ] {
        let response = env
            .http
            .get(format!("{}{path}", env.hub))
            .send()
            .await
            .expect("get");
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .expect("csp")
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_replayed_signed_write_acts_once() {
    let env = HubEnv::start().await;
    let products = env.signed_form(
        A,
        "Differ.JH.Business.DownloadProduct",
        &env.jit_a,
        json!({"PageIndex": 1, "PageSize": 10}),
    );
    let (_, products) = env.post_form(&products).await;
    let barcode = products["goodslist"][0]["skus"][0]["skuouterid"]
        .as_str()
        .expect("barcode")
        .to_owned();
    let stock = |quantity: i64, kind: &str| json!({"OuterID": barcode, "Quantity": quantity, "SyncStockType": kind, "WhseCode": "VIP_NH"});
    let set = env.signed_form(
        A,
        "Differ.JH.Business.SyncStock",
        &env.jit_a,
        stock(20, "JH_01"),
    );
    assert_eq!(env.post_form(&set).await.1["quantity"], 20);
    // One captured incremental write, posted three times inside the timestamp window.
    let add = env.signed_form(
        A,
        "Differ.JH.Business.SyncStock",
        &env.jit_a,
        stock(5, "JH_02"),
    );
    let mut answers = Vec::new();
    for _ in 0..3 {
        let (status, answer) = env.post_form(&add).await;
        assert_eq!(status, 200);
        answers.push(answer["quantity"].clone());
    }
    // Variants the sign check accepts are the same request: another contextid (not signed),
    // the sign in upper case.
    let mut with_context = add.clone();
    with_context.push(("contextid".into(), "replay-1".into()));
    let mut upper = add.clone();
    if let Some((_, sign)) = upper.iter_mut().find(|(name, _)| name == "sign") {
        *sign = sign.to_uppercase();
    }
    for variant in [with_context, upper] {
        let (status, answer) = env.post_form(&variant).await;
        assert_eq!(status, 200);
        answers.push(answer["quantity"].clone());
    }
    assert_eq!(answers, vec![json!(25); 5], "the first answer, again");
    // A new request (its own sign) acts: the level was raised once.
    env.sandbox.clock().advance_ms(1_000);
    let again = env.signed_form(
        A,
        "Differ.JH.Business.SyncStock",
        &env.jit_a,
        stock(0, "JH_02"),
    );
    assert_eq!(env.post_form(&again).await.1["quantity"], 25);
}

#[tokio::test]
async fn a_store_refuses_a_master_key_that_does_not_open_its_secrets() {
    let path = std::env::temp_dir().join(format!("sb-key-{}.db", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}", path.display());
    let right = MasterKey::from_bytes([3; 32]);
    let wrong = MasterKey::from_bytes([4; 32]);
    let (right_id, wrong_id) = (right.id().to_owned(), wrong.id().to_owned());
    let store = Store::open(&url, Vault::new(right)).await.expect("store");
    store
        .create_tenant("t", "key", &"secret".to_owned().into(), 0)
        .await
        .expect("tenant");
    store.pool().close().await;
    let refused = Store::open(&url, Vault::new(wrong))
        .await
        .expect_err("refused");
    let message = refused.to_string();
    assert!(
        message.contains(&right_id) && message.contains(&wrong_id),
        "{message}"
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test]
async fn health_reports_secrets_the_hub_cannot_open() {
    let env = HubEnv::start().await;
    let healthy = env
        .http
        .get(format!("{}/healthz", env.hub))
        .send()
        .await
        .expect("health");
    assert_eq!(healthy.status(), 200);
    // Another process with another key writes into the same database.
    let other = env
        .store
        .with_vault(Vault::new(MasterKey::from_bytes([9; 32])));
    other
        .create_tenant("x", "other-key", &"s".to_owned().into(), 0)
        .await
        .expect("tenant");
    let sick = env
        .http
        .get(format!("{}/healthz", env.hub))
        .send()
        .await
        .expect("health");
    assert_eq!(sick.status(), 503);
    let body: Value = sick.json().await.expect("json");
    assert!(error_text(&body).contains("master key"), "{body}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::temp_dir().join(format!("sb-mode-{}.db", uuid::Uuid::new_v4()));
    let store = Store::open(
        &format!("sqlite://{}", path.display()),
        Vault::new(MasterKey::generate()),
    )
    .await
    .expect("store");
    store
        .create_tenant("t", "key", &"secret".to_owned().into(), 0)
        .await
        .expect("write");
    for suffix in ["", "-wal"] {
        let file = format!("{}{suffix}", path.display());
        let mode = std::fs::metadata(&file).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    store.pool().close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test]
async fn guessing_credentials_is_throttled() {
    let env = HubEnv::start().await;
    // Bearer keys: ten wrong secrets are allowed a minute; past them, even the right one waits.
    for _ in 0..11 {
        assert_eq!(
            env.send(("erp-a", "wrong"), reqwest::Method::GET, "/v1/shops", None)
                .await
                .0,
            401
        );
    }
    let response = env
        .http
        .get(format!("{}/v1/shops", env.hub))
        .header("authorization", bearer(("erp-a", "wrong")))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("retry-after").is_some());
    assert_eq!(
        env.send(A, reqwest::Method::GET, "/v1/shops", None).await.0,
        429
    );
    // Another key is still served from this address (its budget is larger).
    assert_eq!(
        env.send(B, reqwest::Method::GET, "/v1/shops", None).await.0,
        200
    );

    // Unified-API signs.
    for _ in 0..11 {
        let form = env.signed_form(
            ("erp-b", "wrong"),
            "Differ.JH.Business.GetOrder",
            &env.jit_b,
            json!({}),
        );
        assert_eq!(
            env.post_form(&form).await.1["subcode"],
            "GSE.VERIFYSIGN_FAILURE"
        );
    }
    let form = env.signed_form(
        B,
        "Differ.JH.Business.DownloadProduct",
        &env.jit_b,
        json!({}),
    );
    let (status, answer) = env.post_form(&form).await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["code"], "40000");

    // Console sign-in, counted per address too: the address is now out of guesses.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (cookie, token) = common::login_form(&env.http, &env.hub).await;
        let attempt = env
            .http
            .post(format!("{}/console/login", env.hub))
            .header("cookie", cookie)
            .form(&[
                ("app_key", "nobody"),
                ("app_secret", "x"),
                ("login_csrf", token.as_str()),
            ])
            .send()
            .await
            .expect("login");
        statuses.push(attempt.status().as_u16());
    }
    assert!(
        statuses.contains(&401) && statuses.ends_with(&[429]),
        "{statuses:?}"
    );
}

/// A request never hangs on a saturated store: while every writing connection is taken, a
/// write is answered 503 with `Retry-After` once the bounded pool wait runs out, and `/healthz`
/// (which only reads) still answers at once and shows the pools' use.
#[tokio::test]
async fn a_saturated_store_answers_retry_instead_of_hanging() {
    let env = HubEnv::start().await;
    // The test hub runs on SQLite, which has one writing connection: hold it.
    assert_eq!(env.store.backend(), shopbridge_store::Backend::Sqlite);
    let held = env.store.pool().acquire().await.expect("writer");
    let health: Value = env
        .http
        .get(format!("{}/healthz", env.hub))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(health["pools"]["writer_in_use"], 1, "{health}");
    assert_eq!(health["pools"]["writer_max"], 1, "{health}");
    let started = std::time::Instant::now();
    let write = env
        .http
        .post(format!("{}/v1/webhooks", env.hub))
        .header("authorization", format!("Bearer {}:{}", A.0, A.1))
        .json(&json!({"url": "http://127.0.0.1:9/hook", "events": ["order.created"]}))
        .send()
        .await
        .expect("write");
    assert_eq!(write.status(), 503);
    assert_eq!(write.headers()["retry-after"], "1");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let body: Value = write.json().await.expect("problem");
    assert!(error_text(&body).contains("busy"), "{body}");
    drop(held);
    let write = env
        .http
        .post(format!("{}/v1/webhooks", env.hub))
        .header("authorization", format!("Bearer {}:{}", A.0, A.1))
        .json(&json!({"url": "http://127.0.0.1:9/hook", "events": ["order.created"]}))
        .send()
        .await
        .expect("write");
    assert_eq!(
        write.status(),
        201,
        "the store serves again once it is free"
    );
}

/// With a metrics token configured, `/metrics` answers only requests that carry it, and says
/// what it asks for; without one it stays open (loopback deployments, tests).
#[tokio::test]
async fn metrics_ask_for_the_operators_token_when_one_is_set() {
    let sandbox = common::sandbox(10).await;
    let store = common::sqlite_store().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hub = format!("http://{}", listener.local_addr().expect("addr"));
    let application = shopbridge_hub::Application::build(shopbridge_hub::AppConfig {
        metrics_token: Some(secrecy::SecretString::from("a-token-for-prometheus-only")),
        ..common::app_config(&sandbox, &store, &hub)
    })
    .expect("hub");
    common::serve(&application, listener);
    let http = reqwest::Client::new();
    let get = |authorization: Option<&'static str>| {
        let mut request = http.get(format!("{hub}/metrics"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send()
    };
    for refused in [
        None,
        Some("Bearer wrong-token-of-some-length"),
        Some("Bearer a-token-for-prometheus-onl"),
        Some("a-token-for-prometheus-only"),
    ] {
        let answer = get(refused).await.expect("answer");
        assert_eq!(answer.status(), 401, "{refused:?}");
        assert_eq!(
            answer
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        let body = answer.text().await.expect("body");
        assert!(body.contains("Authorization: Bearer TOKEN"), "{body}");
        assert!(!body.contains("a-token-for-prometheus-only"), "{body}");
    }
    let answer = get(Some("Bearer a-token-for-prometheus-only"))
        .await
        .expect("answer");
    assert_eq!(answer.status(), 200);
    assert!(
        answer
            .text()
            .await
            .expect("metrics")
            .contains("shopbridge_")
    );
}
