//! The one VOP transport: system parameters, sign, POST, envelope decoding, last-invocation record.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shopbridge_core::{Clock, SystemClock};
use url::Url;

use crate::error::snippet;
use crate::request::VopRequest;
use crate::{ApiErrorKind, VopConfig, VopError, sign};

/// What the last call did, for debugging a 签名不匹配 or a slow call, as the official SDK's
/// `getLastInvocation()` offers. Holds no secret: the access token is redacted from the URL.
#[derive(Debug, Clone)]
pub struct LastInvocation {
    pub service: String,
    pub method: String,
    /// The sign that was sent.
    pub sign: String,
    /// The request URL with the access token replaced by `***`.
    pub url: String,
    /// The `X-Request-Id` header sent with the call (a UUID).
    pub request_id: String,
    pub latency: Duration,
    /// HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    /// The envelope's `returnCode`, when one could be read.
    pub return_code: Option<String>,
}

/// A VOP client: one configuration, one connection pool, no global state.
///
/// Cloning is cheap and shares the pool; [`VopClient::with_access_token`] derives a client for
/// another authorized user.
#[derive(Debug, Clone)]
pub struct VopClient {
    pub(crate) http: reqwest::Client,
    pub(crate) config: Arc<VopConfig>,
    pub(crate) clock: Arc<dyn Clock>,
    last: Arc<Mutex<Option<LastInvocation>>>,
}

/// A `reqwest` client builder with shopbridge's TLS setup (see [`shopbridge_core::http`]).
pub fn http_client_builder() -> reqwest::ClientBuilder {
    shopbridge_core::http::client_builder()
}

/// Builds the HTTP client shared by gateway and OAuth calls.
fn build_http(config: &VopConfig) -> Result<reqwest::Client, VopError> {
    http_client_builder()
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("shopbridge-vop/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(VopError::from_reqwest)
}

impl VopClient {
    /// A client on the system clock.
    pub fn new(config: VopConfig) -> Result<Self, VopError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A client whose `timestamp` comes from `clock` (a simulated clock shared with a sandbox).
    pub fn with_clock(config: VopConfig, clock: Arc<dyn Clock>) -> Result<Self, VopError> {
        Ok(Self {
            http: build_http(&config)?,
            config: Arc::new(config),
            clock,
            last: Arc::new(Mutex::new(None)),
        })
    }

    pub fn config(&self) -> &VopConfig {
        &self.config
    }

    /// The clock the client's timestamps come from.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The same client acting for another authorized user (tool-provider mode).
    pub fn with_access_token(&self, token: impl Into<secrecy::SecretString>) -> Self {
        let config = (*self.config).clone().with_access_token(token);
        Self {
            http: self.http.clone(),
            config: Arc::new(config),
            clock: self.clock.clone(),
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// What the last call through this client did.
    pub fn last_invocation(&self) -> Option<LastInvocation> {
        self.last
            .lock()
            .map(|last| last.clone())
            .unwrap_or_default()
    }

    fn record(&self, invocation: LastInvocation) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(invocation);
        }
    }

    /// Calls a typed request, checking its documented limits first.
    pub async fn execute<R: VopRequest>(&self, request: &R) -> Result<R::Output, VopError> {
        request.validate()?;
        let body = serde_json::to_string(&request.arguments()?).map_err(|err| {
            VopError::InvalidArgument {
                field: "body".into(),
                message: format!("cannot serialize the request: {err}"),
            }
        })?;
        let result = self
            .call_raw(R::SERVICE, &request.method(), R::VERSION, &body)
            .await?;
        serde_json::from_value(result.clone()).map_err(|err| VopError::Undecodable {
            reason: format!(
                "result of {}.{} does not match its type: {err}",
                R::SERVICE,
                request.method()
            ),
            snippet: snippet(&result.to_string(), 300),
        })
    }

    /// Calls any method with a JSON body and returns its decoded `result`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        service: &str,
        method: &str,
        version: &str,
        body: &Value,
    ) -> Result<T, VopError> {
        let body = body.to_string();
        let result = self.call_raw(service, method, version, &body).await?;
        serde_json::from_value(result.clone()).map_err(|err| VopError::Undecodable {
            reason: format!("result of {service}.{method} does not match its type: {err}"),
            snippet: snippet(&result.to_string(), 300),
        })
    }

    /// Calls any method with the exact body bytes to sign and send; returns `result` as JSON.
    pub async fn call_raw(
        &self,
        service: &str,
        method: &str,
        version: &str,
        body: &str,
    ) -> Result<Value, VopError> {
        let config = &*self.config;
        let timestamp = self.clock.now_secs().to_string();
        let access_token = config
            .access_token
            .as_ref()
            .map(|token| token.expose_secret().to_owned())
            .filter(|token| !token.is_empty());
        let mut params: Vec<(&str, &str)> = vec![
            ("appKey", config.app_key.as_str()),
            ("format", config.format.as_str()),
            ("method", method),
            ("service", service),
            ("timestamp", timestamp.as_str()),
            ("version", version),
        ];
        if let Some(token) = access_token.as_deref() {
            params.push(("accessToken", token));
        }
        if let Some(language) = config.language.as_deref().filter(|l| !l.is_empty()) {
            params.push(("language", language));
        }
        let signature = sign::sign(&config.app_secret, params.iter().copied(), body);
        let url = request_url(&config.gateway_url, &params, &signature);
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut invocation = LastInvocation {
            service: service.to_owned(),
            method: method.to_owned(),
            sign: signature,
            url: redacted_url(&url),
            request_id: request_id.clone(),
            latency: Duration::ZERO,
            http_status: None,
            return_code: None,
        };
        tracing::debug!(service, method, request_id, url = %invocation.url, "VOP call");

        let started = Instant::now();
        let response = self
            .http
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json;charset=utf-8",
            )
            .header("X-Request-Id", &request_id)
            .body(body.to_owned())
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(err) => {
                invocation.latency = started.elapsed();
                self.record(invocation);
                return Err(VopError::from_reqwest(err));
            }
        };
        let status = response.status();
        invocation.http_status = Some(status.as_u16());
        let text = response.text().await;
        invocation.latency = started.elapsed();
        let text = match text {
            Ok(text) => text,
            Err(err) => {
                self.record(invocation);
                return Err(VopError::from_reqwest(err));
            }
        };
        if !status.is_success() {
            self.record(invocation);
            return Err(VopError::Http {
                status: status.as_u16(),
                snippet: snippet(&text, 200),
            });
        }
        let decoded = decode_envelope(&text);
        invocation.return_code = match &decoded {
            Ok(_) => Some("0".to_owned()),
            Err(EnvelopeError::Api { code, .. }) => Some(code.clone()),
            Err(EnvelopeError::Undecodable(_)) => None,
        };
        self.record(invocation);
        decoded.map_err(|err| match err {
            EnvelopeError::Api { code, message } => VopError::Api {
                kind: ApiErrorKind::from_return_code(&code),
                code,
                message,
                service: service.to_owned(),
                method: method.to_owned(),
            },
            EnvelopeError::Undecodable(reason) => VopError::Undecodable {
                reason,
                snippet: snippet(&text, 200),
            },
        })
    }
}

/// The gateway URL with the system parameters in the official SDK's order.
fn request_url(base: &Url, params: &[(&str, &str)], signature: &str) -> Url {
    let mut url = base.clone();
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for (name, value) in params {
            if *name == "timestamp" {
                query.append_pair("sign", signature);
            }
            query.append_pair(name, value);
        }
    }
    url
}

/// A URL safe to log: the access token (and anything secret-like) is replaced by `***`.
pub(crate) fn redacted_url(url: &Url) -> String {
    const SECRET_PARAMS: &[&str] = &[
        "accessToken",
        "access_token",
        "client_secret",
        "refresh_token",
        "code",
    ];
    let mut redacted = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if SECRET_PARAMS.contains(&name.as_ref()) {
                "***".to_owned()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    if pairs.is_empty() {
        return redacted.to_string();
    }
    redacted.query_pairs_mut().clear().extend_pairs(pairs);
    redacted.to_string()
}

enum EnvelopeError {
    Api { code: String, message: String },
    Undecodable(String),
}

/// Decodes `{"returnCode": "0", "result": ...}` or `{"returnCode": "...", "returnMessage": "..."}`.
fn decode_envelope(text: &str) -> Result<Value, EnvelopeError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|err| EnvelopeError::Undecodable(format!("not JSON: {err}")))?;
    let Value::Object(mut envelope) = value else {
        return Err(EnvelopeError::Undecodable("expected a JSON object".into()));
    };
    let code = match envelope.get("returnCode") {
        Some(Value::String(code)) => code.clone(),
        Some(Value::Number(code)) => code.to_string(),
        Some(_) => {
            return Err(EnvelopeError::Undecodable(
                "returnCode is neither string nor number".into(),
            ));
        }
        None => return Err(EnvelopeError::Undecodable("no returnCode".into())),
    };
    if code == "0" {
        return Ok(envelope.remove("result").unwrap_or(Value::Null));
    }
    let message = match envelope.get("returnMessage") {
        Some(Value::String(message)) => message.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    Err(EnvelopeError::Api { code, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_keeps_the_official_order_and_redacts_the_token() {
        let base = Url::parse("http://127.0.0.1:1/vop/").expect("url");
        let params = [
            ("appKey", "k"),
            ("format", "json"),
            ("method", "m"),
            ("service", "s"),
            ("timestamp", "1700000000"),
            ("version", "1.0.0"),
            ("accessToken", "tok en"),
        ];
        let url = request_url(&base, &params, "ABC");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/vop/?appKey=k&format=json&method=m&service=s&sign=ABC&timestamp=1700000000&version=1.0.0&accessToken=tok+en"
        );
        let redacted = redacted_url(&url);
        assert!(
            redacted.ends_with("accessToken=***") || redacted.ends_with("accessToken=%2A%2A%2A"),
            "{redacted}"
        );
        assert!(!redacted.contains("tok"));
    }

    #[test]
    fn envelopes_decode_with_string_or_numeric_codes() {
        assert!(matches!(
            decode_envelope(r#"{"returnCode":"0","result":null}"#),
            Ok(Value::Null)
        ));
        match decode_envelope(r#"{"returnCode":1008,"returnMessage":"限频"}"#) {
            Err(EnvelopeError::Api { code, message }) => {
                assert_eq!(code, "1008");
                assert_eq!(message, "限频");
            }
            _ => panic!("expected an API error"),
        }
        assert!(matches!(
            decode_envelope("<html>"),
            Err(EnvelopeError::Undecodable(_))
        ));
        assert!(matches!(
            decode_envelope("[1]"),
            Err(EnvelopeError::Undecodable(_))
        ));
    }
}
