//! Typed helpers: a sandbox on port 0, clients for its demo apps, and a browser-like OAuth driver.

use std::sync::Arc;

use secrecy::SecretString;
use serde_json::{Value, json};
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
    /// Returns the final response (a redirect, or the page that shows the oob code).
    pub async fn log_in_and_decide(
        &self,
        authorize_url: &str,
        username: &str,
        password: &str,
        approve: bool,
    ) -> reqwest::Response {
        let page = self
            .http
            .get(authorize_url)
            .send()
            .await
            .expect("login page");
        assert_eq!(page.status(), 200, "login page status");
        let html = page.text().await.expect("login html");
        let mut form: Vec<(String, String)> = hidden_inputs(&html);
        form.push(("username".into(), username.into()));
        form.push(("password".into(), password.into()));
        let login = self
            .http
            .post(format!("{}oauth2/authorize", self.sandbox.vop_oauth_url()))
            .form(&form)
            .send()
            .await
            .expect("login post");
        assert_eq!(login.status(), 200, "consent page status");
        let consent = login.text().await.expect("consent html");
        let mut answer = hidden_inputs(&consent);
        answer.push((
            "decision".into(),
            if approve { "approve" } else { "deny" }.into(),
        ));
        self.http
            .post(format!("{}oauth2/consent", self.sandbox.vop_oauth_url()))
            .form(&answer)
            .send()
            .await
            .expect("consent post")
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
        assert_eq!(response.status(), 302);
        let location = location(&response);
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

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .expect("Location header")
        .to_owned()
}

/// The `<input type="hidden" name=".." value="..">` pairs of a page, unescaped.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" ").skip(1) {
        let attribute = |name: &str| {
            let start = chunk.find(&format!("{name}=\""))? + name.len() + 2;
            let end = chunk[start..].find('"')? + start;
            Some(unescape(&chunk[start..end]))
        };
        if let (Some(name), Some(value)) = (attribute("name"), attribute("value")) {
            out.push((name, value));
        }
    }
    out
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Text between `<code id="authorization-code">` and `</code>`.
pub fn oob_code(html: &str) -> String {
    let start = html
        .find("<code id=\"authorization-code\">")
        .expect("code element")
        + "<code id=\"authorization-code\">".len();
    let end = html[start..].find("</code>").expect("end of code") + start;
    html[start..end].to_owned()
}
