//! OAuth 2.0 against auth.vip.com: authorize URLs, callbacks, code exchange, token_info, revoke,
//! and refresh through `vipapis.oauth.OauthService.refreshToken`.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::error::snippet;
use crate::time::deserialize_opt_datetime_ms;
use crate::{VopClient, VopError};

/// The redirect URI of the native (mobile) flow: the code is shown on the platform's page.
pub const OOB_REDIRECT_URI: &str = "urn:ietf:wg:oauth:2.0:oob";

/// The token endpoint's answer to a code exchange.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessToken {
    pub access_token: SecretString,
    /// Absent in the seed's example; present in real answers seen in client code.
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
    /// When the refresh token expires, epoch milliseconds.
    #[serde(default, deserialize_with = "deserialize_opt_datetime_ms")]
    pub refresh_expires_time: Option<i64>,
    #[serde(default)]
    pub open_id: Option<String>,
}

/// `oauth2/token_info`: what the platform knows of a token.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenInfo {
    pub access_token: SecretString,
    #[serde(default, deserialize_with = "deserialize_opt_datetime_ms")]
    pub create_at: Option<i64>,
    /// Seconds left.
    pub expires_in: i64,
    #[serde(default, deserialize_with = "deserialize_opt_datetime_ms")]
    pub expires_time: Option<i64>,
    #[serde(default)]
    pub open_id: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
}

/// `RefreshTokenResponse` of `vipapis.oauth.OauthService.refreshToken`.
#[derive(Debug, Clone, Deserialize)]
pub struct RefreshedToken {
    pub access_token: SecretString,
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    pub expires_in: i64,
    #[serde(default, deserialize_with = "deserialize_opt_datetime_ms")]
    pub create_at: Option<i64>,
    #[serde(default, deserialize_with = "deserialize_opt_datetime_ms")]
    pub expires_time: Option<i64>,
    #[serde(default, deserialize_with = "deserialize_opt_datetime_ms")]
    pub refresh_expires_time: Option<i64>,
    #[serde(default)]
    pub is_expired: Option<bool>,
    #[serde(default)]
    pub status: Option<String>,
}

/// What the platform appended to the redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub code: String,
    pub state: Option<String>,
}

impl VopClient {
    fn oauth_endpoint(&self, path: &str) -> Result<Url, VopError> {
        self.config
            .oauth_url
            .join(path)
            .map_err(|err| VopError::Config {
                field: "oauth_url",
                message: format!("cannot append {path}: {err}"),
            })
    }

    /// The authorize URL of the server-side flow (`response_type=code`).
    pub fn authorize_url(&self, redirect_uri: &str, state: Option<&str>) -> Result<Url, VopError> {
        self.build_authorize_url(redirect_uri, state, None)
    }

    /// The authorize URL of the native flow: `redirect_uri=urn:ietf:wg:oauth:2.0:oob`,
    /// `display=mobile`; the user copies the code shown on the platform's page.
    pub fn native_authorize_url(&self, state: Option<&str>) -> Result<Url, VopError> {
        self.build_authorize_url(OOB_REDIRECT_URI, state, Some("mobile"))
    }

    fn build_authorize_url(
        &self,
        redirect_uri: &str,
        state: Option<&str>,
        display: Option<&str>,
    ) -> Result<Url, VopError> {
        if redirect_uri.trim().is_empty() {
            return Err(VopError::InvalidArgument {
                field: "redirect_uri".into(),
                message: "expected the redirect URI registered for the app".into(),
            });
        }
        let mut url = self.oauth_endpoint("oauth2/authorize")?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.config.app_key)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", redirect_uri);
            if let Some(state) = state {
                query.append_pair("state", state);
            }
            if let Some(display) = display {
                query.append_pair("display", display);
            }
        }
        Ok(url)
    }

    /// Exchanges an authorization code. The parameters go in the URL query string of a POST:
    /// the Union FAQ warns that body parameters are rejected.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        client_ip: &str,
    ) -> Result<AccessToken, VopError> {
        let mut url = self.oauth_endpoint("oauth2/token")?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.app_key)
            .append_pair("client_secret", self.config.app_secret.expose_secret())
            .append_pair("grant_type", "authorization_code")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("request_client_ip", client_ip)
            .append_pair("code", code);
        let value = self.oauth_post("token", url).await?;
        decode_oauth("token", value)
    }

    /// Looks a token up (`oauth2/token_info`).
    pub async fn token_info(&self, access_token: &SecretString) -> Result<TokenInfo, VopError> {
        let mut url = self.oauth_endpoint("oauth2/token_info")?;
        url.query_pairs_mut()
            .append_pair("access_token", access_token.expose_secret());
        let value = self.oauth_post("token_info", url).await?;
        decode_oauth("token_info", value)
    }

    /// Revokes a token (`oauth2/revoke_token`).
    pub async fn revoke_token(&self, access_token: &SecretString) -> Result<(), VopError> {
        let mut url = self.oauth_endpoint("oauth2/revoke_token")?;
        url.query_pairs_mut()
            .append_pair("access_token", access_token.expose_secret());
        let value = self.oauth_post("revoke_token", url).await?;
        match oauth_status(&value) {
            Some((0, message)) if message.eq_ignore_ascii_case("success") => Ok(()),
            Some((code, message)) => Err(VopError::OAuth {
                endpoint: "revoke_token",
                code,
                message,
            }),
            None => Err(VopError::Undecodable {
                reason: "revoke_token answered without code/msg".into(),
                snippet: snippet(&value.to_string(), 200),
            }),
        }
    }

    /// Refreshes an access token through the gateway method
    /// `vipapis.oauth.OauthService.refreshToken` (needs the refreshToken permission package).
    pub async fn refresh_token(
        &self,
        refresh_token: &SecretString,
        client_ip: &str,
    ) -> Result<RefreshedToken, VopError> {
        let body = json!({
            "request": {
                "refresh_token": refresh_token.expose_secret(),
                "client_id": self.config.app_key,
                "client_secret": self.config.app_secret.expose_secret(),
                "request_client_ip": client_ip,
            }
        });
        // The refresh call identifies the user by the refresh token, not an access token.
        let anonymous = if self.config.access_token.is_some() {
            let mut config = (*self.config).clone();
            config.access_token = None;
            VopClient::with_clock(config, self.clock.clone())?
        } else {
            self.clone()
        };
        anonymous
            .call("vipapis.oauth.OauthService", "refreshToken", "1.0.0", &body)
            .await
    }

    async fn oauth_post(&self, endpoint: &'static str, url: Url) -> Result<Value, VopError> {
        let response = self
            .http
            .post(url)
            .send()
            .await
            .map_err(VopError::from_reqwest)?;
        let status = response.status();
        let text = response.text().await.map_err(VopError::from_reqwest)?;
        match serde_json::from_str::<Value>(&text) {
            Ok(value) => Ok(value),
            Err(err) if status.is_success() => Err(VopError::Undecodable {
                reason: format!("{endpoint} answered with no JSON: {err}"),
                snippet: snippet(&text, 200),
            }),
            Err(_) => Err(VopError::Http {
                status: status.as_u16(),
                snippet: snippet(&text, 200),
            }),
        }
    }
}

/// `(code, msg)` of an OAuth error or status body.
fn oauth_status(value: &Value) -> Option<(i64, String)> {
    let code = match value.get("code")? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    let message = value
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Some((code, message))
}

fn decode_oauth<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    value: Value,
) -> Result<T, VopError> {
    if value.get("access_token").is_none()
        && let Some((code, message)) = oauth_status(&value)
    {
        return Err(VopError::OAuth {
            endpoint,
            code,
            message,
        });
    }
    let shown = || snippet(&redact_tokens(&value).to_string(), 200);
    serde_json::from_value(value.clone()).map_err(|err| VopError::Undecodable {
        reason: format!("{endpoint} answer: {err}"),
        snippet: shown(),
    })
}

fn redact_tokens(value: &Value) -> Value {
    let mut value = value.clone();
    if let Value::Object(map) = &mut value {
        for key in ["access_token", "refresh_token"] {
            if let Some(token) = map.get_mut(key) {
                *token = Value::String("***".into());
            }
        }
    }
    value
}

/// Reads the platform's redirect back to the app: a code (with `state`) or the cancel case
/// (`error`, `error_description`). Accepts a full URL or just its query string.
pub fn parse_callback(callback: &str) -> Result<AuthorizationCode, VopError> {
    let query = match Url::parse(callback) {
        Ok(url) => url.query().unwrap_or_default().to_owned(),
        Err(_) => callback.trim_start_matches('?').to_owned(),
    };
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = None;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "code" => code = Some(value.into_owned()),
            "state" => state = Some(value.into_owned()),
            "error" => error = Some(value.into_owned()),
            "error_description" => description = Some(value.into_owned()),
            _ => {}
        }
    }
    if let Some(error) = error {
        return Err(VopError::AuthorizationDenied {
            error,
            description: description.unwrap_or_default(),
        });
    }
    match code.filter(|code| !code.is_empty()) {
        Some(code) => Ok(AuthorizationCode { code, state }),
        None => Err(VopError::InvalidArgument {
            field: "callback".into(),
            message: "expected a `code` or an `error` query parameter".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_with_code_or_cancel() {
        let ok = parse_callback("https://erp.example.com/cb?code=23456&state=s1").expect("code");
        assert_eq!(ok.code, "23456");
        assert_eq!(ok.state.as_deref(), Some("s1"));
        let denied = parse_callback("?error=access_denied&error_description=user%20cancelled")
            .expect_err("cancel");
        assert!(
            matches!(denied, VopError::AuthorizationDenied { ref error, .. } if error == "access_denied")
        );
        let neither = parse_callback("https://erp.example.com/cb?x=1").expect_err("nothing");
        assert!(neither.to_string().contains("callback"), "{neither}");
    }

    #[test]
    fn seed_examples_decode() {
        let token: AccessToken = decode_oauth(
            "token",
            serde_json::json!({"access_token": "63945DC", "expires_in": 12340, "open_id": "69BA0D4"}),
        )
        .expect("decodes");
        assert_eq!(token.expires_in, 12340);
        let info: TokenInfo = decode_oauth(
            "token_info",
            serde_json::json!({
                "access_token": "63945DC4F3A5AA8DF537833900713E8341EF430C",
                "create_at": "2015-03-13 17:24:20",
                "expires_in": 12340,
                "expires_time": "2015-03-13 20:50:00",
                "open_id": "69BA0D43AF9E3821EE93F72D3BB14724",
                "token_type": "Bearer"
            }),
        )
        .expect("decodes");
        assert_eq!(info.token_type.as_deref(), Some("Bearer"));
        let revoked = decode_oauth::<TokenInfo>(
            "token_info",
            serde_json::json!({"code": 0, "msg": "token revoked"}),
        )
        .expect_err("revoked");
        assert!(revoked.needs_reauthorization(), "{revoked}");
        let invalid = decode_oauth::<TokenInfo>(
            "token_info",
            serde_json::json!({"code": 30111, "msg": "access token invalid"}),
        )
        .expect_err("invalid");
        assert!(invalid.needs_reauthorization());
    }
}
