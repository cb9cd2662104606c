//! Per-client configuration: the seller's account and token, the application's credentials.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::WinitError;

/// Production OpenAPI endpoint (one URL, the action is in the body).
pub const PRODUCTION_ENDPOINT: &str = "https://openapi.winit.com.cn/openapi/service";
/// Winit's own sandbox.
pub const SANDBOX_ENDPOINT: &str = "https://sandboxopenapi.winit.com.cn/openapi/service";
/// Production authorize page (OAuth2 implicit flow, `response_type=token`).
pub const PRODUCTION_AUTHORIZE: &str = "http://openapi.winit.com.cn/openapi/oauth2/authorize";
/// The documented default: 1000 requests a minute.
pub const DEFAULT_RATE_PER_MINUTE: u32 = 1000;

#[derive(Debug, Clone)]
pub struct WinitConfig {
    /// The seller's 万邑联 account (`app_key`).
    pub app_key: String,
    /// The seller's access token: signs `sign`.
    pub token: SecretString,
    /// The application's id (sent, not signed).
    pub client_id: String,
    /// The application's secret: signs `client_sign`.
    pub client_secret: SecretString,
    /// The application's Code (`platform`).
    pub platform: String,
    pub endpoint: Url,
    pub authorize_url: Url,
    /// `zh_CN` by default (not signed).
    pub language: String,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Requests a minute the client lets through (`None`: no client-side limit).
    pub rate_per_minute: Option<u32>,
}

fn parse(field: &'static str, url: &str) -> Result<Url, WinitError> {
    let parsed = Url::parse(url).map_err(|err| WinitError::Config {
        field,
        message: format!("expected an absolute http(s) URL, got {url:?}: {err}"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(WinitError::Config {
            field,
            message: format!("expected http or https, got {:?}", parsed.scheme()),
        });
    }
    Ok(parsed)
}

fn builtin(url: &str) -> Url {
    match Url::parse(url) {
        Ok(url) => url,
        Err(_) => unreachable!("built-in URL constants are valid"),
    }
}

impl WinitConfig {
    pub fn new(
        app_key: impl Into<String>,
        token: impl Into<SecretString>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        platform: impl Into<String>,
    ) -> Self {
        Self {
            app_key: app_key.into(),
            token: token.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            platform: platform.into(),
            endpoint: builtin(PRODUCTION_ENDPOINT),
            authorize_url: builtin(PRODUCTION_AUTHORIZE),
            language: "zh_CN".into(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
            rate_per_minute: Some(DEFAULT_RATE_PER_MINUTE),
        }
    }

    /// A seller migrated from the legacy account + token scheme (the notice's Q&A 2): Winit
    /// carries the existing binding over, so the seller's old `app_key` and token keep working
    /// once the application's `client_id`/`client_secret`/`platform` are added.
    pub fn from_legacy(
        app_key: impl Into<String>,
        legacy_token: impl Into<SecretString>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        platform: impl Into<String>,
    ) -> Self {
        Self::new(app_key, legacy_token, client_id, client_secret, platform)
    }

    pub fn with_endpoint(mut self, url: &str) -> Result<Self, WinitError> {
        self.endpoint = parse("endpoint", url)?;
        Ok(self)
    }

    pub fn with_authorize_url(mut self, url: &str) -> Result<Self, WinitError> {
        self.authorize_url = parse("authorize_url", url)?;
        Ok(self)
    }

    pub fn with_token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = token.into();
        self
    }

    pub fn with_rate_per_minute(mut self, rate: Option<u32>) -> Self {
        self.rate_per_minute = rate;
        self
    }

    pub fn with_timeouts(mut self, connect: Duration, read: Duration) -> Self {
        self.connect_timeout = connect;
        self.read_timeout = read;
        self
    }
}
