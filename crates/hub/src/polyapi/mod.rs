//! The polyapi-compatible unified endpoint `POST /openapi/do`: form-encoded common parameters,
//! polyapi's sign, a timestamp window, `Differ.JH.*` methods, and polyapi's response envelope
//! (`code` 10000, or 40000 with a `GSE.*` subcode), so that an ERP integrated with 菠萝派 can
//! point at this hub instead.

mod methods;
pub mod sign;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};
use shopbridge_store::{Connection, SignedRequest};

use crate::state::HubApp;

/// How far a request's `timestamp` may be from the hub's clock.
pub const TIMESTAMP_WINDOW_MS: i64 = 10 * 60_000;

/// The unified API's routes over the hub's one application state.
pub fn router(app: Arc<HubApp>) -> Router {
    Router::new()
        .route("/openapi/do", post(handle))
        .route("/OpenAPI/do", post(handle))
        .with_state(app)
}

/// A failed call: a `GSE.*` subcode and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolyError {
    pub subcode: &'static str,
    pub message: String,
}

impl PolyError {
    pub fn missing(name: &str) -> Self {
        Self {
            subcode: "GSE.MISS_PARAMETER",
            message: format!("缺少参数 {name}"),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            subcode: "GSE.INVALID_PARAMETER",
            message: message.into(),
        }
    }

    pub fn logic(message: impl Into<String>) -> Self {
        Self {
            subcode: "GSE.LOGIC_ERROR",
            message: message.into(),
        }
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self {
            subcode: "GSE.PLAT_NOT_SUPPORT",
            message: message.into(),
        }
    }

    pub fn system(message: impl Into<String>) -> Self {
        Self {
            subcode: "GSE.SYSTEM_ERROR",
            message: message.into(),
        }
    }
}

impl From<shopbridge_store::StoreError> for PolyError {
    fn from(err: shopbridge_store::StoreError) -> Self {
        if err.is_busy() {
            tracing::warn!(error = %err, "store busy; a unified API call was asked to retry");
            return Self::system("系统繁忙: the hub's store is busy; retry in a second");
        }
        tracing::error!(error = %err, "store failure in the unified API");
        Self::system("系统错误: the hub's store failed; retry later")
    }
}

/// An operation of the hub that did not happen, as the unified API says it: what the caller
/// sent wrong is `GSE.INVALID_PARAMETER` / `GSE.MISS_PARAMETER`, what the platform or the
/// shop's state refuses is `GSE.LOGIC_ERROR`, what the platform cannot do
/// `GSE.PLAT_NOT_SUPPORT`, and the hub's own failure `GSE.SYSTEM_ERROR`.
impl From<crate::service::HubError> for PolyError {
    fn from(err: crate::service::HubError) -> Self {
        use crate::service::HubError;
        match err {
            HubError::Invalid(message)
            | HubError::Unprocessable(message)
            | HubError::NotFound(message) => Self::invalid(message),
            HubError::Missing(message) => Self {
                subcode: "GSE.MISS_PARAMETER",
                message,
            },
            HubError::Unsupported(message) => Self::unsupported(message),
            HubError::Platform(err) => methods::connector_failure(err),
            HubError::Store(err) => err.into(),
            err @ (HubError::Conflict(_) | HubError::Refused(_) | HubError::Throttled { .. }) => {
                Self::logic(err.to_string())
            }
        }
    }
}

/// One call, after the common parameters were checked.
pub(crate) struct Call<'a> {
    pub app: &'a HubApp,
    pub tenant_id: String,
    pub platid: Option<String>,
    /// The bizcontent with every object key lower-cased.
    pub biz: Value,
    /// The shop the `token` names: for business methods, and for BuildeAuthorizeUrl when it
    /// re-authorizes a shop.
    pub shop: Option<Connection>,
}

/// Lower-cases every object key, so that `PlatOrderNo`, `platorderno` and `PLATORDERNO` read alike.
fn lower_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key.to_lowercase(), lower_keys(value)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(lower_keys).collect()),
        other => other,
    }
}

fn request_id(now_ms: i64) -> String {
    let time = shopbridge_vop::time::format_datetime_ms(now_ms)
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>();
    format!("{time}{:06}", rand::random::<u32>() % 1_000_000)
}

fn envelope(
    result: Result<Map<String, Value>, PolyError>,
    started: Instant,
    now_ms: i64,
) -> Response {
    let mut body = match result {
        Ok(fields) => {
            let mut body = Map::new();
            body.insert("code".into(), json!("10000"));
            body.insert("msg".into(), json!("Success"));
            body.insert("subcode".into(), json!(""));
            body.insert("submessage".into(), json!(""));
            body.extend(fields);
            body
        }
        Err(err) => {
            let mut body = Map::new();
            body.insert("code".into(), json!("40000"));
            body.insert("msg".into(), json!("Logical Error"));
            body.insert("subcode".into(), json!(err.subcode));
            body.insert("submessage".into(), json!(err.message));
            body
        }
    };
    body.insert(
        "polyapitotalms".into(),
        json!(started.elapsed().as_millis() as u64),
    );
    body.insert("polyapirequestid".into(), json!(request_id(now_ms)));
    Json(Value::Object(body)).into_response()
}

/// The `appkey` a form names, for throttling before anything else is read.
fn appkey_of(body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name.eq_ignore_ascii_case("appkey"))
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// The form of a unified-API call (polyapi's common parameters; spec §2).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PolyForm {
    /// The method, e.g. `Differ.JH.Business.GetOrder`.
    #[schema(example = "Differ.JH.Business.GetOrder")]
    method: String,
    /// The tenant's app key.
    appkey: String,
    /// The shop's token (business methods).
    token: Option<String>,
    /// The shop's platform: 9001 Union, 9002 JIT, 9003 Winit.
    #[schema(example = "9002")]
    platid: Option<String>,
    #[schema(example = "1.1")]
    version: Option<String>,
    /// `json`.
    contenttype: Option<String>,
    /// `yyyy-MM-dd HH:mm:ss`, Beijing time, within 10 minutes of the hub's clock.
    #[schema(example = "2026-11-29 20:00:00")]
    timestamp: String,
    /// The method's parameters as a JSON object (keys in any case).
    #[schema(
        example = r#"{"OrderStatus":"JH_99","StartTime":"2026-11-01 00:00:00","EndTime":"2026-11-29 20:00:00","PageIndex":1,"PageSize":20}"#
    )]
    bizcontent: String,
    /// MD5 of secret + sorted name/value pairs (not `sign`, not `contextid`) + secret, lower hex.
    sign: String,
    /// Echoed by some clients; not signed.
    contextid: Option<String>,
}

/// The unified API's answer (spec §4): `code` 10000 with the method's fields, or 40000 with a
/// `GSE.*` subcode.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PolyEnvelope {
    /// `10000` success, `40000` failure.
    #[schema(example = "10000")]
    code: String,
    msg: String,
    /// `GSE.*` on failure, empty on success.
    subcode: String,
    submessage: String,
    /// Time the hub took, in milliseconds.
    polyapitotalms: u64,
    polyapirequestid: String,
}

/// The polyapi-compatible unified endpoint: a form-encoded, signed call answered in polyapi's
/// envelope (HTTP 200 whatever the outcome, except 429 when too many signs failed).
#[utoipa::path(post, path = "/openapi/do", request_body(content = PolyForm, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "polyapi's envelope: `code` 10000 with the method's fields, or 40000 with a GSE.* subcode", body = PolyEnvelope), (status = 429, description = "Too many failed signs for this appkey or from this address; see `Retry-After`", body = PolyEnvelope)))]
pub(crate) async fn handle(
    State(app): State<Arc<HubApp>>,
    crate::state::ClientAddr(client): crate::state::ClientAddr,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let now = app.clock.now_ms();
    let keys = crate::security::guess_keys(client, &appkey_of(&body));
    if let Err(wait) = app.guesses.check(&keys) {
        let mut response = envelope(
            Err(PolyError::system(format!(
                "请求过于频繁: too many failed signs from this address or for this appkey; retry in {} s",
                wait.as_secs().max(1)
            ))),
            started,
            now,
        );
        *response.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        if let Ok(value) = axum::http::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        return response;
    }
    let result = dispatch(&app, &body, now).await;
    if let Err(err) = &result
        && matches!(err.subcode, "GSE.APPKEY_FAILURE" | "GSE.VERIFYSIGN_FAILURE")
    {
        app.guesses.failed(&keys);
    }
    if let Err(err) = &result {
        tracing::info!(subcode = err.subcode, message = %err.message, "unified API call refused");
    }
    envelope(result, started, now)
}

async fn dispatch(app: &HubApp, body: &[u8], now: i64) -> Result<Map<String, Value>, PolyError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|err| {
        PolyError::invalid(format!("body: expected a form-encoded request: {err}"))
    })?;
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in pairs {
        let name = name.to_ascii_lowercase();
        if params.contains_key(&name) {
            return Err(PolyError::invalid(format!("{name}: given twice")));
        }
        params.insert(name, value);
    }
    let get = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let method = get("method").ok_or_else(|| PolyError::missing("method"))?;
    let appkey = get("appkey").ok_or_else(|| PolyError::missing("appkey"))?;
    let sent_sign = get("sign").ok_or_else(|| PolyError::missing("sign"))?;
    let timestamp = get("timestamp").ok_or_else(|| PolyError::missing("timestamp"))?;
    if !params.contains_key("bizcontent") {
        return Err(PolyError::missing("bizcontent"));
    }
    let Some((tenant_id, secret)) = app.store.tenant_by_app_key(appkey).await? else {
        return Err(PolyError {
            subcode: "GSE.APPKEY_FAILURE",
            message: format!("获取ERP密钥失败: no app with appkey {appkey:?}"),
        });
    };
    let expected = sign::sign(
        secret.expose_secret(),
        params
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    if !crate::state::constant_time_eq(
        expected.to_ascii_lowercase().as_bytes(),
        sent_sign.to_ascii_lowercase().as_bytes(),
    ) {
        return Err(PolyError {
            subcode: "GSE.VERIFYSIGN_FAILURE",
            message: "签名验证失败: sign is MD5(secret + sorted name/value pairs of every parameter but sign and contextid + secret), lower-cased, lower hex".into(),
        });
    }
    let sent_at = shopbridge_vop::time::parse_datetime_ms(timestamp).ok_or_else(|| {
        PolyError::invalid(format!(
            "timestamp: expected yyyy-MM-dd HH:mm:ss (Beijing time), got {timestamp:?}"
        ))
    })?;
    if (sent_at - now).abs() > TIMESTAMP_WINDOW_MS {
        return Err(PolyError::invalid(format!(
            "timestamp: {timestamp} is more than 10 minutes from the hub's clock ({})",
            shopbridge_vop::time::format_datetime_ms(now)
        )));
    }
    if let Some(kind) = get("contenttype").filter(|kind| !kind.eq_ignore_ascii_case("json")) {
        return Err(PolyError::invalid(format!(
            "contenttype: only json is served, got {kind:?}"
        )));
    }
    let raw = params
        .get("bizcontent")
        .map(String::as_str)
        .unwrap_or_default();
    let biz = if method == "Differ.JH.SyncAccount"
        && !raw.trim_start().starts_with('{')
        && !raw.trim().is_empty()
    {
        // Older clients seal SyncAccount's body with AES under the app secret.
        let plain = sign::decrypt_account(secret.expose_secret(), raw).ok_or_else(|| {
            PolyError::invalid("bizcontent: neither JSON nor an AES-sealed account")
        })?;
        serde_json::from_str(&plain)
    } else if raw.trim().is_empty() {
        Ok(json!({}))
    } else {
        serde_json::from_str(raw)
    }
    .map_err(|err| PolyError::invalid(format!("bizcontent: not a JSON object: {err}")))?;
    let biz = lower_keys(biz);
    if !biz.is_object() {
        return Err(PolyError::invalid("bizcontent: expected a JSON object"));
    }
    let platid = get("platid").map(str::to_owned);
    let mut call = Call {
        app,
        tenant_id,
        platid,
        biz,
        shop: None,
    };
    if method.starts_with("Differ.JH.Business.") {
        call.shop = Some(shop(&call, get("token")).await?);
    } else if method == "Differ.JH.BuildeAuthorizeUrl"
        && call.biz.get("shopname").is_none()
        && call.biz.get("nick").is_none()
        && let Some(token) = get("token").filter(|token| !token.trim().is_empty())
    {
        // A shop's own token, and no name for a new shop, asks for that shop to be authorized
        // again rather than for a new one.
        call.shop = Some(shop(&call, Some(token)).await?);
    }
    if !REPLAY_GUARDED.contains(&method) {
        return methods::run(&call, method, now).await;
    }
    // A write acts once per signed request: the same request posted again within the
    // timestamp window answers what the first one got. The request is identified by the sign
    // the hub computed itself: it covers every parameter that matters (not `contextid`, not
    // the sign as sent) in the case-folded form the check reads, so no variant the check would
    // accept (another `contextid`, the sign or bizcontent keys in other case) is a new request.
    let key = expected.to_ascii_lowercase();
    let store = &app.store;
    match store
        .claim_signed_request(&call.tenant_id, &key, now, 2 * TIMESTAMP_WINDOW_MS)
        .await?
    {
        SignedRequest::New => {}
        SignedRequest::Answered(answer) => return replayed(&answer),
        SignedRequest::InProgress => {
            return Err(PolyError::logic(
                "this signed request is being processed: its answer is given to it alone; sign a new request to act again",
            ));
        }
    }
    let result = methods::run(&call, method, now).await;
    match &result {
        // Nothing was done: the same request may be sent again.
        Err(err) if err.subcode == "GSE.SYSTEM_ERROR" => {
            store.forget_signed_request(&call.tenant_id, &key).await?;
        }
        _ => {
            let kept = match &result {
                // A new shop's token is never kept in clear: a replay is told it was given.
                Ok(_) if method == "Differ.JH.SyncAccount" => json!({ "err": {
                    "subcode": "GSE.LOGIC_ERROR",
                    "message": "this signed SyncAccount was already processed: its token was given to the first call",
                } }),
                Ok(fields) => json!({ "ok": fields }),
                Err(err) => json!({ "err": { "subcode": err.subcode, "message": err.message } }),
            };
            store
                .answer_signed_request(&call.tenant_id, &key, &kept.to_string())
                .await?;
        }
    }
    result
}

/// Methods that change something at the platform or in the hub, guarded against replays.
const REPLAY_GUARDED: [&str; 5] = [
    "Differ.JH.Business.Send",
    "Differ.JH.Business.BatchSend",
    "Differ.JH.Business.SyncStock",
    "Differ.JH.Business.BatchSyncStock",
    "Differ.JH.SyncAccount",
];

/// The answer a replayed request's first call got.
fn replayed(kept: &str) -> Result<Map<String, Value>, PolyError> {
    let kept: Value = serde_json::from_str(kept)
        .map_err(|_| PolyError::system("系统错误: a kept answer could not be read"))?;
    if let Some(Value::Object(fields)) = kept.get("ok") {
        return Ok(fields.clone());
    }
    let subcode = kept["err"]["subcode"].as_str().unwrap_or_default();
    let message = kept["err"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Err(PolyError {
        subcode: [
            "GSE.MISS_PARAMETER",
            "GSE.INVALID_PARAMETER",
            "GSE.LOGIC_ERROR",
            "GSE.PLAT_NOT_SUPPORT",
            "GSE.ILLEGAL_ACCESS",
        ]
        .into_iter()
        .find(|known| *known == subcode)
        .unwrap_or("GSE.LOGIC_ERROR"),
        message,
    })
}

/// The shop a business call's `token` names: one of the tenant's, of the `platid` given.
async fn shop(call: &Call<'_>, token: Option<&str>) -> Result<Connection, PolyError> {
    let token = token.ok_or_else(|| PolyError::missing("token"))?;
    let Some(connection_id) = call
        .app
        .store
        .shop_for_token(&call.tenant_id, token)
        .await?
    else {
        return Err(PolyError::invalid(
            "token: no shop of this app has this token (SyncAccount gives one)",
        ));
    };
    let connection = call.app.store.connection(&connection_id).await?;
    let platid = crate::platforms::platid_of(connection.kind);
    match call.platid.as_deref() {
        None => return Err(PolyError::missing("platid")),
        Some(given) if given != platid => {
            return Err(PolyError::invalid(format!(
                "platid: this shop is on platform {platid}, not {given}"
            )));
        }
        Some(_) => {}
    }
    Ok(connection)
}
