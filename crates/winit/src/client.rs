//! The one Winit transport: envelope, both signatures, a client-side rate limit, response decoding.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shopbridge_core::{Clock, SystemClock};

use crate::error::snippet;
use crate::request::WinitRequest;
use crate::sign::{Signed, canonical_data, sign};
use crate::{WinitConfig, WinitError};

/// A GCRA quota that never lets more than `per_minute` requests into any 60-second window:
/// a burst of a tenth, and the rest spread evenly (burst + 60 s / period = per_minute).
pub fn quota(per_minute: u32) -> Option<Quota> {
    let per_minute = per_minute.max(2);
    let burst = (per_minute / 10).max(1);
    let period = Duration::from_secs(60) / (per_minute - burst);
    Some(Quota::with_period(period)?.allow_burst(NonZeroU32::new(burst)?))
}

/// Formats epoch milliseconds as Winit's `yyyy-MM-dd HH:mm:ss`, in China time (UTC+8).
pub fn format_timestamp(ms: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600);
    match (chrono::DateTime::from_timestamp_millis(ms), offset) {
        (Some(at), Some(offset)) => at
            .with_timezone(&offset)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        _ => String::new(),
    }
}

#[derive(Debug, Clone)]
pub struct WinitClient {
    http: reqwest::Client,
    config: Arc<WinitConfig>,
    clock: Arc<dyn Clock>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
}

impl WinitClient {
    pub fn new(config: WinitConfig) -> Result<Self, WinitError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A client whose timestamps come from `clock` (a sandbox's simulated clock in tests).
    pub fn with_clock(config: WinitConfig, clock: Arc<dyn Clock>) -> Result<Self, WinitError> {
        let http = shopbridge_core::http::client_builder()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("shopbridge-winit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(WinitError::from_reqwest)?;
        let limiter = config
            .rate_per_minute
            .and_then(quota)
            .map(|quota| Arc::new(RateLimiter::direct(quota)));
        Ok(Self {
            http,
            config: Arc::new(config),
            clock,
            limiter,
        })
    }

    pub fn config(&self) -> &WinitConfig {
        &self.config
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The same application acting for another seller.
    pub fn for_seller(
        &self,
        app_key: impl Into<String>,
        token: impl Into<secrecy::SecretString>,
    ) -> Self {
        let mut config = (*self.config).clone().with_token(token);
        config.app_key = app_key.into();
        Self {
            config: Arc::new(config),
            ..self.clone()
        }
    }

    /// Calls a typed action, checking its required fields first.
    pub async fn execute<R: WinitRequest>(&self, request: &R) -> Result<R::Output, WinitError> {
        request.validate()?;
        let data = request.data()?;
        self.call(R::ACTION, R::VERSION, data.as_ref()).await
    }

    /// Calls any action and decodes its `data`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        action: &str,
        version: &str,
        data: Option<&Value>,
    ) -> Result<T, WinitError> {
        let raw = self.call_raw(action, version, data).await?;
        serde_json::from_value(raw.clone()).map_err(|err| WinitError::Undecodable {
            reason: format!("data of {action} does not match its type: {err}"),
            snippet: snippet(&raw.to_string(), 300),
        })
    }

    /// Calls any action; returns `data` as JSON (`""` becomes `null`).
    pub async fn call_raw(
        &self,
        action: &str,
        version: &str,
        data: Option<&Value>,
    ) -> Result<Value, WinitError> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        let config = &*self.config;
        let timestamp = format_timestamp(self.clock.now_ms());
        let canonical = canonical_data(data);
        let fields = Signed {
            action,
            app_key: &config.app_key,
            data: &canonical,
            format: "json",
            platform: &config.platform,
            sign_method: "md5",
            timestamp: &timestamp,
            version,
        };
        let envelope = json!({
            "action": action,
            "app_key": config.app_key,
            "client_id": config.client_id,
            "client_sign": sign(&config.client_secret, &fields),
            "data": data.cloned().unwrap_or(Value::Null),
            "format": "json",
            "language": config.language,
            "platform": config.platform,
            "sign": sign(&config.token, &fields),
            "sign_method": "md5",
            "timestamp": timestamp,
            "version": version,
        });
        tracing::debug!(action, app_key = %config.app_key, "Winit call");
        let response = self
            .http
            .post(config.endpoint.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json;charset=utf-8",
            )
            .body(envelope.to_string())
            .send()
            .await
            .map_err(WinitError::from_reqwest)?;
        let status = response.status();
        let text = response.text().await.map_err(WinitError::from_reqwest)?;
        if !status.is_success() {
            return Err(WinitError::Http {
                status: status.as_u16(),
                snippet: snippet(&text, 200),
            });
        }
        decode(action, &text)
    }
}

/// Decodes `{"code": "0" | 0, "msg": ..., "data": ...}`.
pub fn decode(action: &str, text: &str) -> Result<Value, WinitError> {
    let undecodable = |reason: String| WinitError::Undecodable {
        reason,
        snippet: snippet(text, 200),
    };
    let value: Value =
        serde_json::from_str(text).map_err(|err| undecodable(format!("not JSON: {err}")))?;
    let Value::Object(mut envelope) = value else {
        return Err(undecodable("expected a JSON object".into()));
    };
    let code = match envelope.get("code") {
        Some(Value::String(code)) => code.clone(),
        Some(Value::Number(code)) => code.to_string(),
        _ => return Err(undecodable("no code".into())),
    };
    if code == "0" {
        return Ok(match envelope.remove("data") {
            Some(Value::String(text)) if text.is_empty() => Value::Null,
            Some(data) => data,
            None => Value::Null,
        });
    }
    let message = envelope
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Err(WinitError::Api {
        action: action.to_owned(),
        code,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn no_sixty_second_window_ever_exceeds_the_quota() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::direct_with_clock(quota(1000).expect("quota"), clock.clone());
        // Ask as fast as possible (every millisecond) for five minutes; record what passes.
        let mut passed = Vec::new();
        for ms in 0..300_000u64 {
            if limiter.check().is_ok() {
                passed.push(ms);
            }
            clock.advance(Duration::from_millis(1));
        }
        let worst = passed
            .iter()
            .enumerate()
            .map(|(i, start)| {
                passed[i..]
                    .iter()
                    .take_while(|at| **at < start + 60_000)
                    .count()
            })
            .max()
            .unwrap_or(0);
        assert!(worst <= 1000, "{worst} requests in one minute");
        assert!(worst >= 990, "the quota is used fully: {worst}");
    }

    #[test]
    fn envelopes_decode() {
        assert_eq!(
            decode("a", r#"{"code":"0","msg":"操作成功","data":{"x":1}}"#).expect("ok")["x"],
            1
        );
        assert_eq!(
            decode("a", r#"{"code":0,"data":""}"#).expect("ok"),
            Value::Null
        );
        match decode(
            "queryOutboundOrder",
            r#"{"code":400006,"msg":"not found","data":""}"#,
        ) {
            Err(WinitError::Api { code, message, .. }) => {
                assert_eq!((code.as_str(), message.as_str()), ("400006", "not found"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode("a", "<html>"),
            Err(WinitError::Undecodable { .. })
        ));
        assert_eq!(format_timestamp(1_426_238_660_000), "2015-03-13 17:24:20");
    }
}
