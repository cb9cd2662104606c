//! Connecting shops through the hub over loopback: the VOP browser and native flows, Winit's
//! implicit flow (token in the query or the fragment), existing credentials, and every way a
//! `state` can be wrong.

mod common;

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use shopbridge_sandbox::RunningSandbox;
use shopbridge_sandbox::browser;
use shopbridge_store::Store;
use shopbridge_vop::{VopClient, VopConfig};

struct Env {
    sandbox: RunningSandbox,
    app: shopbridge_hub::state::HubApp,
    store: Store,
    hub: String,
    tenant: String,
    http: reqwest::Client,
}

impl Env {
    async fn start() -> Self {
        let sandbox = common::sandbox(20).await;
        let creds = sandbox.credentials();
        let store = common::sqlite_store().await;
        let tenant = store
            .create_tenant("erp", "erp-key", &SecretString::from("s"), 0)
            .await
            .expect("tenant");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let hub = format!("http://{}", listener.local_addr().expect("addr"));
        let application =
            shopbridge_hub::Application::build(common::app_config(&sandbox, &store, &hub))
                .expect("hub");
        let app = application.hub.clone();
        common::serve(&application, listener);
        let http = common::http();
        // Register the hub's callbacks with both platforms.
        let mut uris = creds.vop.redirect_uris.clone();
        uris.push(format!("{hub}/connect/vop/callback"));
        http.post(format!(
            "{}/_sandbox/vop/apps/{}",
            sandbox.base_url(),
            creds.vop.app_key
        ))
        .json(&json!({"redirect_uris": uris}))
        .send()
        .await
        .expect("admin");
        sandbox
            .state()
            .winit()
            .redirect_uris
            .push(format!("{hub}/connect/winit/callback"));
        Self {
            sandbox,
            app,
            store,
            hub,
            tenant,
            http,
        }
    }

    /// `GET /connect/...` on the hub, as the tenant: the platform URL it redirects to.
    async fn start_connect(&self, query: &str) -> String {
        let response = self
            .http
            .get(format!("{}/connect/{query}", self.hub))
            .bearer_auth("erp-key:s")
            .send()
            .await
            .expect("connect");
        assert_eq!(response.status(), 302, "{query}");
        response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    }

    async fn get(&self, url: &str) -> (u16, String) {
        let response = self.http.get(url).send().await.expect("get");
        (
            response.status().as_u16(),
            response.text().await.expect("body"),
        )
    }

    async fn connection_named(&self, name: &str) -> Option<shopbridge_store::Connection> {
        let id = self
            .store
            .connection_id_by_name(&self.tenant, name)
            .await
            .expect("lookup")?;
        Some(self.store.connection(&id).await.expect("connection"))
    }

    fn user(&self, role: &str) -> (String, String) {
        let creds = self.sandbox.credentials();
        let user = creds.vop.user(role).expect("user");
        (user.username.clone(), user.password.clone())
    }
}

#[tokio::test]
async fn vop_browser_flow_stores_a_working_token_and_states_work_once() {
    let env = Env::start().await;
    let authorize = env.start_connect("vop?name=shop1").await;
    assert!(
        authorize.contains("/vop/oauth2/authorize") && authorize.contains("state="),
        "{authorize}"
    );
    let (username, password) = env.user("union");
    let decision = browser::authorize(&env.http, &authorize, &username, &password, true)
        .await
        .expect("approve");
    let callback = decision.location.expect("back to the hub");
    assert!(callback.starts_with(&format!("{}/connect/vop/callback", env.hub)));
    let (status, body) = env.get(&callback).await;
    assert_eq!(status, 200, "{body}");
    // The result page speaks the visitor's language (Chinese by default), names the shop and
    // leads to it in the console.
    assert!(
        body.contains("店铺已连接") && body.contains("shop1"),
        "{body}"
    );
    let connection = env.connection_named("shop1").await.expect("stored");
    assert!(
        body.replace("&#x2f;", "/")
            .contains(&format!("/console/shops?shop={}", connection.id)),
        "{body}"
    );
    let tokens: shopbridge_hub::VopTokens =
        serde_json::from_str(connection.credentials.expose_secret()).expect("tokens");
    assert!(tokens.refresh_token.is_some());
    let creds = env.sandbox.credentials();
    let client = VopClient::with_clock(
        VopConfig::new(
            creds.vop.app_key.clone(),
            SecretString::from(creds.vop.app_secret.clone()),
        )
        .with_oauth_url(&env.sandbox.vop_oauth_url())
        .expect("oauth"),
        Arc::new(env.sandbox.clock()),
    )
    .expect("client");
    client
        .token_info(&SecretString::from(tokens.access_token))
        .await
        .expect("the stored token is live");

    let (status, body) = env.get(&callback).await;
    assert_eq!(status, 400);
    assert!(body.contains("already used"), "{body}");
    let forged = callback.replace("state=", "state=00");
    assert!(env.get(&forged).await.1.contains("unknown"));
}

#[tokio::test]
async fn cancelled_expired_and_foreign_tenants_connect_nothing() {
    let env = Env::start().await;
    let (username, password) = env.user("union");
    let authorize = env.start_connect("vop?name=cancelled").await;
    let decision = browser::authorize(&env.http, &authorize, &username, &password, false)
        .await
        .expect("cancel");
    let (status, body) = env.get(&decision.location.expect("redirect")).await;
    assert_eq!(status, 400);
    assert!(body.contains("not granted"), "{body}");
    assert!(env.connection_named("cancelled").await.is_none());

    let authorize = env.start_connect("vop?name=late").await;
    let decision = browser::authorize(&env.http, &authorize, &username, &password, true)
        .await
        .expect("approve");
    env.sandbox.clock().advance_secs(11 * 60);
    let (status, body) = env.get(&decision.location.expect("redirect")).await;
    assert_eq!(status, 400);
    assert!(body.contains("expired"), "{body}");
    assert!(env.connection_named("late").await.is_none());

    // Only the tenant starts a flow into its own account: no link anyone can make does it.
    for auth in [None, Some("erp-key:wrong"), Some("nobody:s")] {
        let mut request = env.http.get(format!("{}/connect/vop?name=x", env.hub));
        if let Some(auth) = auth {
            request = request.bearer_auth(auth);
        }
        let response = request.send().await.expect("start");
        assert_eq!(response.status(), 401, "{auth:?}");
        assert!(response.headers().get("location").is_none());
    }
    let unknown = env
        .http
        .get(format!("{}/connect/shopify?name=x", env.hub))
        .bearer_auth("erp-key:s")
        .send()
        .await
        .expect("start");
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn native_flow_takes_a_pasted_code() {
    let env = Env::start().await;
    let authorize = env
        .start_connect("vop?name=mobile&native=1&mode=jit&vendor_id=550")
        .await;
    assert!(authorize.contains("display=mobile"));
    let state = url::Url::parse(&authorize)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("state")
        .1
        .into_owned();
    let (username, password) = env.user("vendor");
    let decision = browser::authorize(&env.http, &authorize, &username, &password, true)
        .await
        .expect("approve");
    let code = decision.oob_code().expect("code on the page");
    // The pasted code is only taken as a posted form at `oob`: not in a URL, not at the
    // browser flow's callback, and a state sent to another platform's callback stays usable.
    let in_url = env
        .http
        .get(format!("{}/connect/vop/oob", env.hub))
        .query(&[("state", state.as_str()), ("code", code.as_str())])
        .send()
        .await
        .expect("get");
    assert_eq!(in_url.status(), 404);
    let at_callback = env
        .http
        .post(format!("{}/connect/vop/callback", env.hub))
        .form(&[("state", state.as_str()), ("code", code.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(at_callback.status(), 404);
    let elsewhere = env
        .http
        .get(format!("{}/connect/winit/callback", env.hub))
        .query(&[("state", state.as_str()), ("access_token", "x")])
        .send()
        .await
        .expect("get");
    assert_eq!(elsewhere.status(), 400);
    assert!(!elsewhere.text().await.expect("page").contains(&code));
    let response = env
        .http
        .post(format!("{}/connect/vop/oob", env.hub))
        .form(&[("state", state.as_str()), ("code", code.as_str())])
        .send()
        .await
        .expect("paste");
    assert_eq!(response.status(), 200);
    assert_eq!(
        env.connection_named("mobile").await.expect("stored").kind,
        shopbridge_core::ShopKind::VopJit
    );
}

#[tokio::test]
async fn winit_implicit_flow_by_query_and_by_fragment() {
    let env = Env::start().await;
    let seller = env.sandbox.credentials().winit.sellers[1].clone();
    let authorize = env
        .start_connect(&format!("winit?name=w1&seller={}", seller.app_key))
        .await;
    let decision = browser::authorize(
        &env.http,
        &authorize,
        &seller.app_key,
        &seller.password,
        true,
    )
    .await
    .expect("sign in");
    let (status, body) = env.get(&decision.location.expect("redirect")).await;
    assert_eq!(status, 200, "{body}");
    let stored: Value = serde_json::from_str(
        env.connection_named("w1")
            .await
            .expect("stored")
            .credentials
            .expose_secret(),
    )
    .expect("json");
    assert_eq!(stored["app_key"], seller.app_key.as_str());

    env.sandbox.state().winit().settings.token_in_fragment = true;
    let authorize = env
        .start_connect(&format!("winit?name=w2&seller={}", seller.app_key))
        .await;
    let decision = browser::authorize(
        &env.http,
        &authorize,
        &seller.app_key,
        &seller.password,
        true,
    )
    .await
    .expect("sign in");
    let location = decision.location.expect("redirect");
    let (path, fragment) = location.split_once('#').expect("token in the fragment");
    let (status, relay) = env.get(path).await;
    assert_eq!(status, 200);
    assert!(
        relay.contains("location.hash"),
        "the browser gets the relay page"
    );
    // The relay page posts the fragment's fields as a form: the token is never in a URL.
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect();
    let posted = env
        .http
        .post(path)
        .form(&fields)
        .send()
        .await
        .expect("relay");
    let status = posted.status();
    let body = posted.text().await.expect("page");
    assert_eq!(status, 200, "{body}");
    assert!(env.connection_named("w2").await.is_some());
    // Another seller signing in on Winit's page is refused: its token does not sign for the
    // seller the flow was started for.
    let other = &env.sandbox.credentials().winit.sellers[0];
    let authorize = env
        .start_connect(&format!("winit?name=w4&seller={}", seller.app_key))
        .await;
    env.sandbox.state().winit().settings.token_in_fragment = false;
    let decision = browser::authorize(&env.http, &authorize, &other.app_key, &other.password, true)
        .await
        .expect("sign in");
    let (status, body) = env.get(&decision.location.expect("redirect")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("is not"), "{body}");
    assert!(env.connection_named("w4").await.is_none());
    let no_seller = env
        .http
        .get(format!("{}/connect/winit?name=w3", env.hub))
        .bearer_auth("erp-key:s")
        .send()
        .await
        .expect("start");
    assert_eq!(no_seller.status(), 422, "the seller account is required");
}

#[tokio::test]
async fn shops_connect_with_credentials_they_already_have() {
    let env = Env::start().await;
    let creds = env.sandbox.credentials();
    // A vendor's session key obtained elsewhere.
    let authorize = env
        .start_connect("vop?name=elsewhere&mode=jit&vendor_id=550")
        .await;
    let (username, password) = env.user("vendor");
    let decision = browser::authorize(&env.http, &authorize, &username, &password, true)
        .await
        .expect("approve");
    env.get(&decision.location.expect("redirect")).await;
    let existing: shopbridge_hub::VopTokens = serde_json::from_str(
        env.connection_named("elsewhere")
            .await
            .expect("stored")
            .credentials
            .expose_secret(),
    )
    .expect("tokens");
    assert_eq!(
        existing.vendor_id,
        Some(550),
        "the JIT vendor is kept with the token"
    );
    let post = |platform: &str, body: Value| {
        env.http
            .post(format!("{}/connect/{platform}/credentials", env.hub))
            .bearer_auth("erp-key:s")
            .json(&body)
            .send()
    };
    let ok = post(
        "vop",
        json!({"name": "polyapi-style", "session_key": existing.access_token, "vendor_id": 550}),
    )
    .await
    .expect("post");
    assert_eq!(ok.status(), 200);
    let no_vendor = post(
        "vop",
        json!({"name": "no-vendor", "session_key": existing.access_token}),
    )
    .await
    .expect("post");
    assert_eq!(no_vendor.status(), 422, "what a JIT shop needs is missing");
    assert!(no_vendor.text().await.expect("body").contains("vendor_id"));
    let bad = post(
        "vop",
        json!({"name": "bad", "session_key": "FFFF", "vendor_id": 550}),
    )
    .await
    .expect("post");
    assert_eq!(bad.status(), 422, "the platform refused the key");
    assert!(bad.text().await.expect("body").contains("refused"));
    let legacy = post(
        "winit",
        json!({"name": "legacy", "app_key": creds.winit.app_key, "token": creds.winit.token}),
    )
    .await
    .expect("post");
    assert_eq!(legacy.status(), 200);
    let anonymous = env
        .http
        .post(format!("{}/connect/vop/credentials", env.hub))
        .json(&json!({"name": "x", "session_key": existing.access_token}))
        .send()
        .await
        .expect("post");
    assert_eq!(anonymous.status(), 401, "the tenant must authenticate");
    let wrong = post(
        "winit",
        json!({"name": "wrong", "app_key": "rebecca", "token": "nope"}),
    )
    .await
    .expect("post");
    assert_eq!(wrong.status(), 422, "the platform refused the token");
    assert!(
        env.connection_named("legacy").await.is_some()
            && env.connection_named("wrong").await.is_none()
    );
}

/// A JIT shop whose grant lapsed is authorized again in place: the same connection (so its
/// synced data and shop tokens stay valid), new credentials for the same vendor, active again.
#[tokio::test]
async fn a_shop_that_needs_reauthorization_is_authorized_again_in_place() {
    let env = Env::start().await;
    let (username, password) = env.user("vendor");
    let authorize = env
        .start_connect("vop?name=jit-shop&mode=jit&vendor_id=550")
        .await;
    let decision = browser::authorize(&env.http, &authorize, &username, &password, true)
        .await
        .expect("approve");
    env.get(&decision.location.expect("redirect")).await;
    let before = env.connection_named("jit-shop").await.expect("connected");
    let old: shopbridge_hub::VopTokens =
        serde_json::from_str(before.credentials.expose_secret()).expect("tokens");
    let now = shopbridge_core::Clock::now_ms(&env.sandbox.clock());
    env.store
        .set_state(
            &before.id,
            shopbridge_store::ConnectionState::NeedsReauth,
            Some("refresh token expired"),
            now,
        )
        .await
        .expect("needs reauth");

    // Someone else logging in does not take the shop over.
    let authorize =
        shopbridge_hub::service::shops::reauthorize(&env.app, &env.tenant, &before.id, None)
            .await
            .expect("begin");
    let (other_user, other_password) = env.user("union");
    let decision = browser::authorize(&env.http, &authorize, &other_user, &other_password, true)
        .await
        .expect("approve as someone else");
    let (status, body) = env.get(&decision.location.expect("redirect")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("another platform account"), "{body}");
    let unchanged = env.store.connection(&before.id).await.expect("shop");
    assert_eq!(
        unchanged.credentials.expose_secret(),
        before.credentials.expose_secret()
    );
    assert_eq!(
        unchanged.state,
        shopbridge_store::ConnectionState::NeedsReauth
    );

    let authorize =
        shopbridge_hub::service::shops::reauthorize(&env.app, &env.tenant, &before.id, None)
            .await
            .expect("begin");
    let decision = browser::authorize(&env.http, &authorize, &username, &password, true)
        .await
        .expect("approve again");
    let (status, body) = env.get(&decision.location.expect("redirect")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("店铺已重新授权"), "{body}");

    let after = env.store.connection(&before.id).await.expect("same id");
    assert_eq!(after.state, shopbridge_store::ConnectionState::Active);
    let new: shopbridge_hub::VopTokens =
        serde_json::from_str(after.credentials.expose_secret()).expect("tokens");
    assert_ne!(new.access_token, old.access_token, "new credentials");
    assert_eq!(new.vendor_id, Some(550), "still the same vendor");
    let same_name = env
        .store
        .connection_summaries()
        .await
        .expect("summaries")
        .into_iter()
        .filter(|c| c.name == "jit-shop")
        .count();
    assert_eq!(same_name, 1, "no second connection");

    // Another tenant's shop, an unknown one and the app's own account are refused.
    let other = env
        .store
        .create_tenant("other", "other-key", &SecretString::from("o"), 0)
        .await
        .expect("tenant");
    let refused = |result: Result<String, shopbridge_hub::service::HubError>| {
        shopbridge_hub::problem::hub_status(&result.expect_err("refused")).as_u16()
    };
    assert_eq!(
        refused(
            shopbridge_hub::service::shops::reauthorize(&env.app, &other, &before.id, None).await
        ),
        404
    );
    assert_eq!(
        refused(
            shopbridge_hub::service::shops::reauthorize(&env.app, &env.tenant, "nope", None).await
        ),
        404
    );
    let channel = env
        .store
        .create_connection(
            &shopbridge_store::NewConnection {
                tenant_id: &env.tenant,
                kind: shopbridge_core::ShopKind::VopUnionChannel,
                name: "channel",
                credentials: &SecretString::from("{}"),
                access_expires_ms: None,
                refresh_expires_ms: None,
            },
            now,
        )
        .await
        .expect("channel");
    assert_eq!(
        refused(
            shopbridge_hub::service::shops::reauthorize(&env.app, &env.tenant, &channel, None)
                .await
        ),
        409,
        "a shop connected without a flow has none to repeat"
    );
    let pending =
        shopbridge_hub::service::shops::reauthorize(&env.app, &env.tenant, &before.id, None)
            .await
            .expect("begin");
    shopbridge_hub::service::shops::revoke(&env.app, &env.tenant, &before.id, "api", "revoked")
        .await
        .expect("revoke");
    // A flow begun before the revocation does not bring the shop back: revoking cancelled it.
    let decision = browser::authorize(&env.http, &pending, &username, &password, true)
        .await
        .expect("approve");
    let (status, body) = env.get(&decision.location.expect("redirect")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        env.store.connection(&before.id).await.expect("shop").state,
        shopbridge_store::ConnectionState::Revoked
    );
    // One begun after it does: the same shop, active, with new credentials.
    let again =
        shopbridge_hub::service::shops::reauthorize(&env.app, &env.tenant, &before.id, None)
            .await
            .expect("a revoked shop can be authorized again");
    let decision = browser::authorize(&env.http, &again, &username, &password, true)
        .await
        .expect("approve");
    let (status, body) = env.get(&decision.location.expect("redirect")).await;
    assert_eq!(status, 200, "{body}");
    let back = env.store.connection(&before.id).await.expect("same id");
    assert_eq!(back.state, shopbridge_store::ConnectionState::Active);
    assert!(back.last_error.is_none());
    let events = env
        .store
        .connection_events(&before.id)
        .await
        .expect("events");
    assert!(
        events
            .iter()
            .any(|(from, to, _)| from == "revoked" && to == "active"),
        "{events:?}"
    );
}
