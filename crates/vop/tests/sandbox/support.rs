//! Typed helpers: a sandbox on port 0, clients for its demo apps, and a browser-like OAuth driver.

use std::sync::Arc;

use secrecy::SecretString;
use serde_json::{Value, json};
use shopbridge_sandbox::browser::{self, BrowserError, Decision};
use shopbridge_sandbox::{Credentials, RunningSandbox, SandboxConfig};
use shopbridge_vop::oauth::AccessToken;
use shopbridge_vop::{VopClient, VopConfig};

pub struct TestEnv {
    pub sandbox: RunningSandbox,
    pub creds: Credentials,
    /// A plain HTTP client that does not follow redirects (to read them), like a browser's view.
    pub http: reqwest::Client,
}

impl TestEnv {
    pub async fn start() -> Self {
        Self::with_config(SandboxConfig::default()).await
    }

    pub async fn with_config(config: SandboxConfig) -> Self {
        let sandbox = RunningSandbox::spawn(config).await.expect("sandbox starts");
        let creds = sandbox.credentials();
        let http = shopbridge_vop::http_client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Self {
            sandbox,
            creds,
            http,
        }
    }

    /// A config for an app of the sandbox, pointed at it.
    pub fn config_for(&self, app_key: &str, app_secret: &str) -> VopConfig {
        VopConfig::new(app_key, SecretString::from(app_secret))
            .with_gateway_url(&self.sandbox.vop_gateway_url())
            .expect("gateway url")
            .with_oauth_url(&self.sandbox.vop_oauth_url())
            .expect("oauth url")
    }

    /// A client for the demo app (every permission package) on the sandbox's clock.
    pub fn client(&self) -> VopClient {
        self.client_with(self.config_for(&self.creds.vop.app_key, &self.creds.vop.app_secret))
    }

    pub fn client_with(&self, config: VopConfig) -> VopClient {
        VopClient::with_clock(config, Arc::new(self.sandbox.clock())).expect("client")
    }

    /// A client for the app that only holds the union channel package.
    pub fn channel_only_client(&self) -> VopClient {
        let app = self
            .creds
            .vop
            .app("channel_only")
            .expect("channel_only app");
        self.client_with(self.config_for(&app.app_key, &app.app_secret))
    }

    pub fn redirect_uri(&self) -> String {
        self.creds.vop.redirect_uris[0].clone()
    }

    pub fn union_user(&self) -> (String, String) {
        let user = self.creds.vop.user("union").expect("union user");
        (user.username.clone(), user.password.clone())
    }

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.sandbox.base_url()))
            .json(&body)
            .send()
            .await
            .expect("admin call");
        assert!(
            response.status().is_success(),
            "admin {path}: {}",
            response.status()
        );
        response.json().await.expect("admin json")
    }

    pub async fn advance_clock_secs(&self, secs: i64) {
        self.admin("/_sandbox/clock", json!({ "advance_seconds": secs }))
            .await;
    }

    pub async fn set_faults(&self, faults: Value) {
        self.admin("/_sandbox/faults", faults).await;
    }

    /// Opens the login page of `authorize_url`, signs in and answers the consent page.
    pub async fn log_in_and_decide(
        &self,
        authorize_url: &str,
        username: &str,
        password: &str,
        approve: bool,
    ) -> Decision {
        browser::authorize(&self.http, authorize_url, username, password, approve)
            .await
            .expect("login and consent pages")
    }

    /// Signs in expecting a refusal; returns the status and the page's error message.
    pub async fn refused_login(
        &self,
        authorize_url: &str,
        username: &str,
        password: &str,
    ) -> (u16, String) {
        match browser::authorize(&self.http, authorize_url, username, password, true).await {
            Err(BrowserError::Page {
                step: "login form",
                status,
                excerpt,
            }) => (status, excerpt),
            other => panic!("expected the login to be refused, got {other:?}"),
        }
    }

    /// The whole server-side flow for the union demo user: returns the code.
    pub async fn authorize_code(&self, client: &VopClient, state: &str) -> String {
        let (username, password) = self.union_user();
        let url = client
            .authorize_url(&self.redirect_uri(), Some(state))
            .expect("authorize url");
        let response = self
            .log_in_and_decide(url.as_str(), &username, &password, true)
            .await;
        assert_eq!(response.status, 302);
        let location = response.location.expect("redirect back to the app");
        let callback =
            shopbridge_vop::oauth::parse_callback(&location).expect("callback with code");
        assert_eq!(callback.state.as_deref(), Some(state));
        callback.code
    }

    /// Authorizes the union demo user and exchanges the code.
    pub async fn access_token(&self, client: &VopClient) -> AccessToken {
        let code = self.authorize_code(client, "st").await;
        client
            .exchange_code(&code, &self.redirect_uri(), "127.0.0.1")
            .await
            .expect("exchange")
    }
}

/// Both cooperation modes: a channel client and a tool-provider client for the union demo user.
pub struct Modes {
    pub channel: VopClient,
    pub tool: VopClient,
}

impl Modes {
    pub fn client(&self, mode: shopbridge_vop::Mode) -> &VopClient {
        match mode {
            shopbridge_vop::Mode::Channel => &self.channel,
            shopbridge_vop::Mode::ToolProvider => &self.tool,
        }
    }
}

impl TestEnv {
    pub async fn modes(&self) -> Modes {
        let channel = self.client();
        let token = self.access_token(&channel).await;
        Modes {
            tool: channel.with_access_token(token.access_token),
            channel,
        }
    }

    /// Clicks a generated link through the admin API; returns the orders it placed.
    pub async fn click(&self, link: &str, scenario: &str, orders: u32) -> Vec<Value> {
        let answer = self
            .admin(
                "/_sandbox/vop/union/clicks",
                json!({"link": link, "scenario": scenario, "orders": orders}),
            )
            .await;
        answer["orders"].as_array().cloned().expect("orders")
    }
}

impl TestEnv {
    /// A client acting for a vendor user (its access token is the JIT session key).
    pub async fn vendor_client(&self, username: &str) -> VopClient {
        let user = self
            .creds
            .vop
            .users
            .iter()
            .find(|u| u.username == username)
            .expect("vendor user");
        let client = self.client();
        let url = client
            .authorize_url(&self.redirect_uri(), Some("v"))
            .expect("url");
        let decision = self
            .log_in_and_decide(url.as_str(), &user.username, &user.password, true)
            .await;
        let code = shopbridge_vop::oauth::parse_callback(&decision.location.expect("redirect"))
            .expect("code")
            .code;
        let token = client
            .exchange_code(&code, &self.redirect_uri(), "127.0.0.1")
            .await
            .expect("exchange");
        client.with_access_token(token.access_token)
    }
}
