//! What the hub's integration tests share: a sandbox with clients for its platforms, OAuth
//! grants obtained through its login page, and fresh SQLite and PostgreSQL stores.
#![allow(dead_code)]

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use shopbridge_core::Clock;
use shopbridge_hub::VopTokens;
use shopbridge_sandbox::{RunningSandbox, SandboxConfig};
use shopbridge_store::{MasterKey, NewConnection, Store, Vault};
use shopbridge_vop::{VopClient, VopConfig};
use shopbridge_winit::{WinitClient, WinitConfig};
use std::sync::OnceLock;

pub async fn sandbox(union_goods: usize) -> RunningSandbox {
    RunningSandbox::spawn(SandboxConfig {
        union_goods,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox")
}

/// The demo VOP app on the sandbox's gateway and OAuth server, on its clock.
pub fn vop_client(sandbox: &RunningSandbox) -> VopClient {
    let creds = sandbox.credentials();
    let config = VopConfig::new(
        creds.vop.app_key.clone(),
        SecretString::from(creds.vop.app_secret.clone()),
    )
    .with_gateway_url(&sandbox.vop_gateway_url())
    .expect("gateway")
    .with_oauth_url(&sandbox.vop_oauth_url())
    .expect("oauth");
    VopClient::with_clock(config, Arc::new(sandbox.clock())).expect("vop client")
}

/// The demo Winit app (its legacy token signs for the demo seller), on the sandbox's clock.
pub fn winit_client(sandbox: &RunningSandbox) -> WinitClient {
    let w = sandbox.credentials().winit;
    let config = WinitConfig::new(w.app_key, w.token, w.client_id, w.client_secret, w.platform)
        .with_endpoint(&sandbox.winit_endpoint())
        .expect("endpoint")
        .with_authorize_url(&sandbox.winit_authorize_url())
        .expect("authorize");
    WinitClient::with_clock(config, Arc::new(sandbox.clock())).expect("winit client")
}

/// A client that does not follow redirects, as a test driving OAuth pages needs.
pub fn http() -> reqwest::Client {
    shopbridge_core::http::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http")
}

/// Tokens for the sandbox user of `role`, through its login page and the code exchange.
pub async fn authorize_vop(sandbox: &RunningSandbox, client: &VopClient, role: &str) -> VopTokens {
    let creds = sandbox.credentials();
    let user = creds.vop.user(role).expect("user");
    let redirect = creds.vop.redirect_uris[0].clone();
    let url = client.authorize_url(&redirect, None).expect("url");
    let decision = shopbridge_sandbox::browser::authorize(
        &http(),
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
    let now = sandbox.clock().now_ms();
    VopTokens {
        access_token: token.access_token.expose_secret().to_owned(),
        refresh_token: token
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        expires_at_ms: now + token.expires_in * 1000,
        refresh_expires_at_ms: token.refresh_expires_time,
        vendor_id: (role == "vendor").then_some(creds.vop.vendor_id),
        open_id: token.open_id.clone(),
    }
}

/// A person approving on the sandbox's login page as the demo user `role`, and their browser
/// following the platform's redirect back to the hub: the hub's answer.
pub async fn approve_on_sandbox(
    http: &reqwest::Client,
    sandbox: &RunningSandbox,
    authorize_url: &str,
    role: &str,
) -> reqwest::Response {
    let creds = sandbox.credentials();
    let user = creds.vop.user(role).expect("demo user");
    let decision = shopbridge_sandbox::browser::authorize(
        http,
        authorize_url,
        &user.username,
        &user.password,
        true,
    )
    .await
    .expect("consent");
    http.get(decision.location.expect("back to the hub"))
        .send()
        .await
        .expect("hub callback")
}

/// What a browser gets from the console's sign-in page: the form's cookie (`name=value`) and the
/// token the form sends back with it.
pub async fn login_form(http: &reqwest::Client, hub: &str) -> (String, String) {
    let page = http
        .get(format!("{hub}/console/login"))
        .send()
        .await
        .expect("login page");
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sb_login="))
        .expect("the form's cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let html = page.text().await.expect("html");
    let token = html
        .split(r#"name="login_csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form's token")
        .to_owned();
    (cookie, token)
}

/// A sign-in through the console's form as a browser sends it: `(status, set-cookie pairs)`.
pub async fn console_login(
    http: &reqwest::Client,
    hub: &str,
    app_key: &str,
    app_secret: &str,
) -> reqwest::Response {
    let (cookie, token) = login_form(http, hub).await;
    http.post(format!("{hub}/console/login"))
        .header("cookie", cookie)
        .header("origin", hub)
        .form(&[
            ("app_key", app_key),
            ("app_secret", app_secret),
            ("login_csrf", token.as_str()),
        ])
        .send()
        .await
        .expect("login")
}

/// A signed-in console session's cookie (`name=value`) for `tenant`.
pub async fn console_session(http: &reqwest::Client, hub: &str, tenant: (&str, &str)) -> String {
    let signed_in = console_login(http, hub, tenant.0, tenant.1).await;
    assert_eq!(signed_in.status(), 303);
    signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .find(|pair| pair.starts_with("sb_session="))
        .expect("the session cookie")
        .to_owned()
}

pub async fn sqlite_store() -> Store {
    let path = std::env::temp_dir().join(format!("sb-hub-{}.db", uuid::Uuid::new_v4()));
    Store::open(
        &format!("sqlite://{}", path.display()),
        Vault::new(MasterKey::generate()),
    )
    .await
    .expect("store")
}

/// A fresh PostgreSQL database, dropped by [`PgDatabase::drop_now`].
pub struct PgDatabase {
    pub url: String,
    admin: sqlx::AnyPool,
    name: String,
}

impl PgDatabase {
    pub async fn create() -> Self {
        let admin_url = std::env::var("SHOPBRIDGE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&admin_url)
            .await
            .expect("PostgreSQL is running (see .ci/run)");
        let name = format!("sb_hub_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create database");
        let url = format!("{}/{name}", admin_url.rsplit_once('/').expect("url").0);
        Self { url, admin, name }
    }

    pub async fn open(&self, key: MasterKey) -> Store {
        Store::open(&self.url, Vault::new(key))
            .await
            .expect("store")
    }

    pub async fn drop_now(self) {
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&self.admin)
            .await
            .expect("drop");
    }
}

/// The sandbox gateway's log of one VOP method's calls (`GET /_sandbox/vop/calls`): how many,
/// how many throttled, the most admitted in any window, their arrival times.
pub async fn gateway_log<T: serde::de::DeserializeOwned>(
    sandbox: &RunningSandbox,
    method: &str,
) -> T {
    http()
        .get(format!(
            "{}/_sandbox/vop/calls?method={method}",
            sandbox.base_url()
        ))
        .send()
        .await
        .expect("gateway log")
        .json()
        .await
        .expect("gateway log")
}

/// Real (not simulated) latency on every platform answer of the sandbox, in milliseconds.
pub async fn platform_latency(sandbox: &RunningSandbox, latency_ms: u64) {
    let answer = http()
        .post(format!("{}/_sandbox/faults", sandbox.base_url()))
        .json(&json!({ "latency_ms": latency_ms }))
        .send()
        .await
        .expect("faults");
    assert!(answer.status().is_success());
}

/// A Union channel-mode shop (the demo app's own orders), active, in the store.
pub async fn union_channel_shop(store: &Store) -> String {
    connection(
        store,
        "vop",
        "union_channel",
        "affiliate",
        "{}",
        (None, None),
    )
    .await
}

/// A tenant and a connection holding `credentials`, active, in the store.
pub async fn connection(
    store: &Store,
    platform: &str,
    mode: &str,
    name: &str,
    credentials: &str,
    expires: (Option<i64>, Option<i64>),
) -> String {
    let tenant = match store
        .tenant_by_app_key("erp-key")
        .await
        .expect("tenant lookup")
    {
        Some((id, _)) => id,
        None => store
            .create_tenant("erp", "erp-key", &SecretString::from("s"), 0)
            .await
            .expect("tenant"),
    };
    store
        .create_connection(
            &NewConnection {
                tenant_id: &tenant,
                kind: shopbridge_core::ShopKind::from_stored(platform, mode).expect("kind"),
                name,
                credentials: &SecretString::from(credentials.to_owned()),
                access_expires_ms: expires.0,
                refresh_expires_ms: expires.1,
            },
            0,
        )
        .await
        .expect("connection")
}

/// Promotion links of the demo app for the first `count` goods, spread over three PIDs.
pub async fn demo_links(client: &VopClient, count: i32) -> Vec<String> {
    use shopbridge_vop::Mode;
    use shopbridge_vop::union::GenByGoodsId;
    use shopbridge_vop::union::goods::GoodsList;
    let goods = client
        .execute(&GoodsList::channel(Mode::Channel, 0, 1).page_size(count))
        .await
        .expect("goods")
        .goods_info_list;
    let mut links = Vec::new();
    for (i, g) in goods.iter().enumerate() {
        let made = client
            .execute(
                &GenByGoodsId::new(Mode::Channel, [g.goods_id.clone()])
                    .chan_tag(format!("pid_{}", i % 3)),
            )
            .await
            .expect("link");
        links.push(made.url_info_list[0].url.clone().expect("url"));
    }
    links
}

/// The hub's configuration on `sandbox`, as `serve` assembles it, without a quota gate; a test
/// changes what it needs with struct update syntax.
pub fn app_config(
    sandbox: &RunningSandbox,
    store: &Store,
    public_url: &str,
) -> shopbridge_hub::AppConfig {
    shopbridge_hub::AppConfig {
        store: store.clone(),
        vop: vop_client(sandbox),
        winit: Some(winit_client(sandbox)),
        clock: Arc::new(sandbox.clock()),
        gate: None,
        public_url: public_url.to_owned(),
        owner: "test".into(),
        webhook_targets: Default::default(),
        trust_forwarded_for: false,
        demo_credentials: None,
        metrics_token: None,
    }
}

/// Serves an application's HTTP routes on `listener` in the background.
pub fn serve(application: &shopbridge_hub::Application, listener: tokio::net::TcpListener) {
    let router = application.router();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
}

/// The hub in-process on a sandbox: tenant A with a JIT and a Union shop, tenant B with a JIT
/// shop (the same vendor), synced once.
pub struct HubEnv {
    pub sandbox: RunningSandbox,
    pub store: Store,
    pub hub: String,
    pub http: reqwest::Client,
    /// Tenant A's shops: JIT and Union.
    pub jit_a: String,
    pub union_a: String,
    /// Tenant B's JIT shop.
    pub jit_b: String,
    /// The connection ids of the same shops.
    pub ids: [String; 3],
}

pub const A: (&str, &str) = ("erp-a", "secret-a");
pub const B: (&str, &str) = ("erp-b", "secret-b");

impl HubEnv {
    /// A hub whose webhooks may target loopback, where the tests' receivers listen.
    pub async fn start() -> Self {
        Self::start_with(shopbridge_hub::security::TargetPolicy::allow_private()).await
    }

    /// A hub whose webhooks may go where `targets` allows.
    pub async fn start_with(targets: shopbridge_hub::security::TargetPolicy) -> Self {
        let sandbox = sandbox(50).await;
        let store = sqlite_store().await;
        let vop = vop_client(&sandbox);
        let clock: Arc<dyn Clock> = Arc::new(sandbox.clock());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let hub = format!("http://{}", listener.local_addr().expect("addr"));
        // The production wiring, as `serve` assembles it.
        let application = shopbridge_hub::Application::build(shopbridge_hub::AppConfig {
            // Tiny goodsList and genByGoodsId quotas, so that interactive calls can be seen
            // running out of them.
            gate: Some(
                shopbridge_hub::QuotaGate::new(clock.clone()).with_table(
                    shopbridge_core::quota::QuotaTable::documented()
                        .with_override("goodsList=3/60s")
                        .and_then(|table| table.with_override("genByGoodsId=3/60s"))
                        .expect("override"),
                ),
            ),
            webhook_targets: targets,
            demo_credentials: Some(Arc::new(OnceLock::new())),
            ..app_config(&sandbox, &store, &hub)
        })
        .expect("hub");
        let scheduler = application.scheduler.clone();
        serve(&application, listener);
        // The hub's callback, registered with the sandbox's demo app.
        let creds = sandbox.credentials();
        let mut uris = creds.vop.redirect_uris.clone();
        uris.push(format!("{hub}/connect/vop/callback"));
        let http = http();
        http.post(format!(
            "{}/_sandbox/vop/apps/{}",
            sandbox.base_url(),
            creds.vop.app_key
        ))
        .json(&json!({"redirect_uris": uris}))
        .send()
        .await
        .expect("admin");

        let vendor =
            serde_json::to_string(&authorize_vop(&sandbox, &vop, "vendor").await).expect("json");
        let mut tokens = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        for (app_key, secret) in [A, B] {
            let tenant = store
                .create_tenant(app_key, app_key, &secret.to_owned().into(), 0)
                .await
                .expect("tenant");
            let jit = store
                .create_connection(
                    &shopbridge_store::NewConnection {
                        tenant_id: &tenant,
                        kind: shopbridge_core::ShopKind::VopJit,
                        name: "jit",
                        credentials: &vendor.clone().into(),
                        access_expires_ms: None,
                        refresh_expires_ms: None,
                    },
                    0,
                )
                .await
                .expect("jit");
            ids.push(jit.clone());
            tokens.push(
                store
                    .issue_shop_token(&tenant, &jit, 0)
                    .await
                    .expect("token"),
            );
            if app_key == A.0 {
                let union = store
                    .create_connection(
                        &shopbridge_store::NewConnection {
                            tenant_id: &tenant,
                            kind: shopbridge_core::ShopKind::VopUnionChannel,
                            name: "union",
                            credentials: &"{}".to_owned().into(),
                            access_expires_ms: None,
                            refresh_expires_ms: None,
                        },
                        0,
                    )
                    .await
                    .expect("union");
                ids.push(union.clone());
                tokens.push(
                    store
                        .issue_shop_token(&tenant, &union, 0)
                        .await
                        .expect("token"),
                );
            }
        }
        for outcome in scheduler.run_until_idle().await.expect("sync") {
            assert!(outcome.result.is_ok(), "{outcome:?}");
        }
        Self {
            sandbox,
            store,
            hub,
            http,
            jit_a: tokens[0].clone(),
            union_a: tokens[1].clone(),
            jit_b: tokens[2].clone(),
            ids: [ids[0].clone(), ids[1].clone(), ids[2].clone()],
        }
    }
}

/// The calls of one method the store recorded, as the quota report counts them.
pub async fn recorded_calls(store: &Store, method: &str) -> Option<i64> {
    store
        .quota_report(0, i64::MAX / 2)
        .await
        .expect("report")
        .into_iter()
        .find(|usage| usage.method == method)
        .map(|usage| usage.calls)
}
