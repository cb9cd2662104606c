//! What the hub's integration tests share: a sandbox with clients for its platforms, OAuth
//! grants obtained through its login page, and fresh SQLite and PostgreSQL stores.
#![allow(dead_code)]

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use shopbridge_core::Clock;
use shopbridge_hub::VopTokens;
use shopbridge_sandbox::{RunningSandbox, SandboxConfig};
use shopbridge_store::{MasterKey, NewConnection, Store, Vault};
use shopbridge_vop::{VopClient, VopConfig};
use shopbridge_winit::{WinitClient, WinitConfig};

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
    }
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
                platform,
                mode,
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
