//! The one VOP transport: system parameters, sign, POST, envelope decoding, last-invocation record.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shopbridge_core::{Clock, SystemClock};
use url::Url;

use crate::error::snippet;
use crate::list_page::ListPage;
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

    /// The same clock, to share with what works beside the client.
    pub fn shared_clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
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
        self.execute_as(request).await
    }

    /// Calls a typed request and reads its `result` as `T` instead of the request's own output:
    /// a caller that also wants each item's JSON as the platform sent it asks for
    /// `serde_json::value::RawValue`s there, and nothing is parsed twice.
    pub async fn execute_as<R: VopRequest, T: DeserializeOwned>(
        &self,
        request: &R,
    ) -> Result<T, VopError> {
        let body = request_body(request)?;
        let method = request.method();
        let (text, mut invocation) = self
            .call_text(R::SERVICE, &method, R::VERSION, &body)
            .await?;
        // A successful answer is read in one pass, envelope and result together; anything
        // else goes the way that tells what is wrong with it.
        if let Some(result) = decode_success::<T>(&text) {
            invocation.return_code = Some("0".to_owned());
            self.record(invocation);
            return Ok(result);
        }
        self.decode_answer(text, invocation, R::SERVICE, &method)?
            .result_as(R::SERVICE, &method)
    }

    /// Executes a request whose result is a page of the list `list`, each item read as `T`
    /// together with its own text as the platform sent it, in one pass over the answer
    /// ([`crate::list_page`]). An answer that pass declines is read the general way: a failure
    /// is its error, and a success is read item by item, naming the first that does not read
    /// as `T` by its place and the path of the value refused.
    pub async fn execute_list<R: VopRequest, T: DeserializeOwned>(
        &self,
        request: &R,
        list: &str,
    ) -> Result<ListPage<T>, VopError> {
        let body = request_body(request)?;
        let method = request.method();
        let (text, mut invocation) = self
            .call_text(R::SERVICE, &method, R::VERSION, &body)
            .await?;
        if let Some(page) = crate::list_page::read::<T>(&text, list) {
            invocation.return_code = Some("0".to_owned());
            self.record(invocation);
            return Ok(page);
        }
        let answer = self.decode_answer(text, invocation, R::SERVICE, &method)?;
        let service = R::SERVICE;
        // The envelope is read (and its code was "0" once unescaped): the result alone is walked.
        let result = answer.result_text();
        let page = crate::list_page::read_result::<serde::de::IgnoredAny>(result, list)
            .ok_or_else(|| VopError::Undecodable {
                reason: format!(
                    "result of {service}.{method} is not a page of `{list}` with an integer `total`"
                ),
                snippet: snippet(result, 300),
            })?;
        let mut items = Vec::with_capacity(page.items.len());
        for (place, (_, text)) in page.items.into_iter().enumerate() {
            let item =
                crate::list_page::read_item(&text, list, place, &format!("{service}.{method}"))?;
            items.push((item, text));
        }
        Ok(ListPage {
            items,
            total: page.total,
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
        self.call_answer(service, method, version, &body)
            .await?
            .result_as(service, method)
    }

    /// Calls any method with the exact body bytes to sign and send; returns `result` as JSON.
    pub async fn call_raw(
        &self,
        service: &str,
        method: &str,
        version: &str,
        body: &str,
    ) -> Result<Value, VopError> {
        self.call_answer(service, method, version, body)
            .await?
            .result_as(service, method)
    }

    /// Signs, sends and checks one call; the answer's text with where its `result` is.
    async fn call_answer(
        &self,
        service: &str,
        method: &str,
        version: &str,
        body: &str,
    ) -> Result<Answer, VopError> {
        let (text, invocation) = self.call_text(service, method, version, body).await?;
        self.decode_answer(text, invocation, service, method)
    }

    /// Signs and sends one call; returns the answer's text (HTTP 2xx) with the call's record,
    /// which the caller completes and keeps once it has read the envelope. A call that gets no
    /// such text is recorded here.
    async fn call_text(
        &self,
        service: &str,
        method: &str,
        version: &str,
        body: &str,
    ) -> Result<(String, LastInvocation), VopError> {
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
        Ok((text, invocation))
    }

    /// Reads the envelope of an answer's text, records the call with its return code, and
    /// gives the answer or the platform's error.
    fn decode_answer(
        &self,
        text: String,
        mut invocation: LastInvocation,
        service: &str,
        method: &str,
    ) -> Result<Answer, VopError> {
        let decoded = decode_envelope(&text);
        invocation.return_code = match &decoded {
            Ok(_) => Some("0".to_owned()),
            Err(EnvelopeError::Api { code, .. }) => Some(code.clone()),
            Err(EnvelopeError::Undecodable(_)) => None,
        };
        self.record(invocation);
        let result = decoded.map_err(|err| match err {
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
        })?;
        Ok(Answer { text, result })
    }
}

/// A successful answer's text and the bytes of its `result` (`None`: absent or null).
struct Answer {
    text: String,
    result: Option<std::ops::Range<usize>>,
}

impl Answer {
    /// The `result`'s text (`null` when there is none).
    fn result_text(&self) -> &str {
        match &self.result {
            Some(range) => self.text.get(range.clone()).unwrap_or("null"),
            None => "null",
        }
    }

    /// The `result` read as `T`, straight from the answer's text.
    fn result_as<T: DeserializeOwned>(&self, service: &str, method: &str) -> Result<T, VopError> {
        let json = self.result_text();
        serde_json::from_str(json).map_err(|err| VopError::Undecodable {
            reason: format!("result of {service}.{method} does not match its type: {err}"),
            snippet: snippet(json, 300),
        })
    }
}

/// A request's body as it is signed and sent.
fn request_body<R: VopRequest>(request: &R) -> Result<String, VopError> {
    request.validate()?;
    serde_json::to_string(&request.arguments()?).map_err(|err| VopError::InvalidArgument {
        field: "body".into(),
        message: format!("cannot serialize the request: {err}"),
    })
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

#[derive(Debug)]
enum EnvelopeError {
    Api { code: String, message: String },
    Undecodable(String),
}

/// The envelope, read without building its `result`: that is read once, as what the caller
/// wants, straight from the text.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "returnCode", borrow, default)]
    return_code: Option<&'a serde_json::value::RawValue>,
    #[serde(rename = "returnMessage", borrow, default)]
    return_message: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a serde_json::value::RawValue>,
}

/// A JSON string's value, or any other JSON value's text.
fn text_of(raw: &serde_json::value::RawValue) -> String {
    serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_owned())
}

/// Decodes `{"returnCode": "0", "result": ...}` or `{"returnCode": "...", "returnMessage": "..."}`;
/// answers where `result` is in `text`.
fn decode_envelope(text: &str) -> Result<Option<std::ops::Range<usize>>, EnvelopeError> {
    match text.trim_start().as_bytes().first() {
        Some(b'{') => {}
        Some(_) => return Err(EnvelopeError::Undecodable("expected a JSON object".into())),
        None => return Err(EnvelopeError::Undecodable("not JSON: an empty body".into())),
    }
    let envelope: Envelope<'_> = serde_json::from_str(text)
        .map_err(|err| EnvelopeError::Undecodable(format!("not JSON: {err}")))?;
    let code = match envelope.return_code {
        Some(raw) if raw.get().starts_with('"') => text_of(raw),
        Some(raw)
            if raw
                .get()
                .starts_with(|c: char| c == '-' || c.is_ascii_digit()) =>
        {
            raw.get().to_owned()
        }
        Some(_) => {
            return Err(EnvelopeError::Undecodable(
                "returnCode is neither string nor number".into(),
            ));
        }
        None => return Err(EnvelopeError::Undecodable("no returnCode".into())),
    };
    if code == "0" {
        // Where the result's bytes are in the text (its raw value borrows from it).
        return Ok(envelope
            .result
            .filter(|raw| raw.get() != "null")
            .map(|raw| {
                let start = raw.get().as_ptr() as usize - text.as_ptr() as usize;
                start..start + raw.get().len()
            }));
    }
    let message = envelope.return_message.map(text_of).unwrap_or_default();
    Err(EnvelopeError::Api { code, message })
}

/// An answer whose `returnCode` is `"0"` (or `0`) and whose `result` is present, with that result
/// read as `T` in the same pass as the envelope; `None` for any other answer.
fn decode_success<T: DeserializeOwned>(text: &str) -> Option<T> {
    #[derive(serde::Deserialize)]
    struct Success<'a, T> {
        #[serde(rename = "returnCode", borrow)]
        return_code: &'a serde_json::value::RawValue,
        // Named, so that a second one is refused here as by the envelope's own reading.
        #[serde(rename = "returnMessage", default)]
        _return_message: Option<serde::de::IgnoredAny>,
        #[serde(default = "Option::default")]
        result: Option<T>,
    }
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let success: Success<'_, T> = serde_json::from_str(text).ok()?;
    let code = success.return_code.get();
    (code == "0" || code == "\"0\"").then_some(success.result)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_successful_answer_with_a_result_of_its_type_is_read_in_one_pass() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Page {
            total: i64,
        }
        let read = |text: &str| decode_success::<Page>(text);
        assert_eq!(
            read(r#"{"returnCode":"0","result":{"total":3}}"#),
            Some(Page { total: 3 })
        );
        assert_eq!(
            read(r#" {"result":{"total":3},"returnCode":0}"#),
            Some(Page { total: 3 })
        );
        // What the envelope's own reading decides: errors, no result, other types, escapes.
        for other in [
            r#"{"returnCode":"1001","returnMessage":"no","result":{"total":3}}"#,
            r#"{"returnCode":"0"}"#,
            r#"{"returnCode":"0","result":null}"#,
            r#"{"returnCode":"0","result":{"total":"three"}}"#,
            r#"{"returnCode":"\u0030","result":{"total":3}}"#,
            r#"{"result":{"total":3}}"#,
            r#"[{"returnCode":"0"}]"#,
            r#"{"returnCode":"0","result":{"total":3}} trailing"#,
            r#"{"returnCode":"0","returnMessage":"a","returnMessage":"b","result":{"total":3}}"#,
        ] {
            assert_eq!(read(other), None, "{other}");
        }
        // The same answers through the envelope: the escaped code is a success there.
        assert!(decode_envelope(r#"{"returnCode":"\u0030","result":{"total":3}}"#).is_ok());
    }

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
            Ok(None)
        ));
        let text = r#"{"returnCode":"0","result": {"total":2} }"#;
        let range = decode_envelope(text).expect("decoded").expect("a result");
        assert_eq!(&text[range], r#"{"total":2}"#);
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
