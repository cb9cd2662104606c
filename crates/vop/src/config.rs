//! Per-client configuration, the Rust twin of the official SDK's `ClientInvocationContext`.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::VopError;

/// Production gateway.
pub const PRODUCTION_GATEWAY: &str = "https://vop.vipapis.com/";
/// Vipshop's own sandbox gateway.
pub const SANDBOX_GATEWAY: &str = "http://sandbox.vipapis.com/";
/// Production OAuth server (`/oauth2/authorize`, `/oauth2/token`, ...).
pub const PRODUCTION_OAUTH: &str = "https://auth.vip.com/";

/// The `format` system parameter as sent (and signed).
///
/// Most clients send `json`; the official PHP SDK and C# DLL send `JSON`. Both are accepted by
/// the gateway, and the value is signed exactly as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `format=json`
    #[default]
    Json,
    /// `format=JSON`, as the official SDKs send it.
    JsonUpper,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::JsonUpper => "JSON",
        }
    }
}

/// Everything one client needs; clients never read global state.
#[derive(Debug, Clone)]
pub struct VopConfig {
    pub app_key: String,
    pub app_secret: SecretString,
    /// The authorizing user's OAuth access token, sent on every call when set.
    pub access_token: Option<SecretString>,
    /// The `language` system parameter (`zh`, `en`, `ja`...), sent only when set.
    pub language: Option<String>,
    pub format: Format,
    /// Gateway base URL; requests are POSTed to it with the system parameters as query string.
    pub gateway_url: Url,
    /// OAuth server base URL; `oauth2/authorize` etc. are resolved against it.
    pub oauth_url: Url,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

impl VopConfig {
    /// A configuration for the production gateway and OAuth server with default timeouts.
    pub fn new(app_key: impl Into<String>, app_secret: impl Into<SecretString>) -> Self {
        Self {
            app_key: app_key.into(),
            app_secret: app_secret.into(),
            access_token: None,
            language: None,
            format: Format::default(),
            gateway_url: parse_static(PRODUCTION_GATEWAY),
            oauth_url: parse_static(PRODUCTION_OAUTH),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
        }
    }

    /// Points the client at another gateway (the sandbox, a proxy...).
    pub fn with_gateway_url(mut self, url: &str) -> Result<Self, VopError> {
        self.gateway_url = parse_base_url("gateway_url", url)?;
        Ok(self)
    }

    /// Points the client at another OAuth server.
    pub fn with_oauth_url(mut self, url: &str) -> Result<Self, VopError> {
        self.oauth_url = parse_base_url("oauth_url", url)?;
        Ok(self)
    }

    pub fn with_access_token(mut self, token: impl Into<SecretString>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    pub fn with_timeouts(mut self, connect: Duration, read: Duration) -> Self {
        self.connect_timeout = connect;
        self.read_timeout = read;
        self
    }
}

fn parse_static(url: &str) -> Url {
    match Url::parse(url) {
        Ok(url) => url,
        Err(_) => unreachable!("built-in URL constants are valid"),
    }
}

/// Parses a base URL and makes sure it ends with `/` so that relative paths append to it.
pub(crate) fn parse_base_url(field: &'static str, url: &str) -> Result<Url, VopError> {
    let mut parsed = Url::parse(url).map_err(|err| VopError::Config {
        field,
        message: format!("expected an absolute http(s) URL, got {url:?}: {err}"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(VopError::Config {
            field,
            message: format!(
                "expected an http or https URL, got scheme {:?}",
                parsed.scheme()
            ),
        });
    }
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_gain_a_trailing_slash_and_reject_other_schemes() {
        let config = VopConfig::new("k", "s")
            .with_gateway_url("http://127.0.0.1:9/vop")
            .expect("valid");
        assert_eq!(config.gateway_url.as_str(), "http://127.0.0.1:9/vop/");
        let err = VopConfig::new("k", "s")
            .with_oauth_url("ftp://example.com")
            .expect_err("ftp is refused");
        assert!(err.to_string().contains("oauth_url"), "{err}");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let config = VopConfig::new("k", "very-secret-value").with_access_token("token-value-1");
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret-value"));
        assert!(!shown.contains("token-value-1"));
    }
}
