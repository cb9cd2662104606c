//! `POST /vop/`: the signed gateway, with the real gateway's checks in the real order.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_core::quota::{QuotaScope, vop_method_base};

use super::quota::Caller;
use super::{Permission, User, VopState, jit, oauth, signature, union};
use crate::config::TIMESTAMP_SKEW_SECS;
use crate::state::SandboxState;

/// A rejected call: the envelope's `returnCode` and `returnMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    pub code: String,
    pub message: String,
    /// A business error (bad argument, throttled) counts toward the FAQ's degradation.
    pub business: bool,
}

impl GatewayError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            business: false,
        }
    }

    /// A bad method argument, naming the field and what was expected.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self {
            code: "vipapis.parameter-notmatch".into(),
            message: message.into(),
            business: true,
        }
    }
}

/// The envelope of a successful call, `returnCode` first as the real gateway writes it, with
/// unset members left out as the platform's writers do (a whole empty result stays `null`).
pub fn success(result: Value) -> Response {
    let result = crate::answer::without_null_members(result);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json;charset=UTF-8",
        )],
        format!(r#"{{"returnCode":"0","result":{result}}}"#),
    )
        .into_response()
}

fn failure(error: &GatewayError) -> Response {
    Json(json!({ "returnCode": error.code, "returnMessage": error.message })).into_response()
}

/// What a method handler sees of an accepted call.
pub struct Call<'a> {
    pub service: &'a str,
    pub method: &'a str,
    pub app_key: &'a str,
    pub user: Option<&'a User>,
    pub body: &'a Value,
    pub now_ms: i64,
}

/// Which permission package a service/method needs, and whether it needs an access token.
fn requirements(service: &str, method: &str) -> Option<(Permission, bool)> {
    let (_, with_oauth) = vop_method_base(method);
    if service.starts_with("com.vip.adp.api.open.service.Union") {
        return Some(if with_oauth {
            (Permission::UnionTool, true)
        } else {
            (Permission::UnionChannel, false)
        });
    }
    if service == "vipapis.oauth.OauthService" {
        return Some((Permission::RefreshToken, false));
    }
    let jit = [
        "vipapis.delivery.",
        "vipapis.inventory.",
        "vipapis.product.",
        "vipapis.vreturn.",
    ];
    if jit.iter().any(|prefix| service.starts_with(prefix)) {
        return Some((Permission::Jit, true));
    }
    None
}

/// Whether the sandbox implements this method (unknown ones get `vipapis.path.Error`).
fn implemented(service: &str, method: &str) -> bool {
    union::implements(service, method)
        || jit::implements(service, method)
        || (service == "vipapis.oauth.OauthService" && method == "refreshToken")
}

/// A bare GET: the real gateway answers "missing parameter" (clients use it as a liveness probe).
pub async fn handle_get() -> Response {
    failure(&GatewayError::new(
        "vipapis.miss-parameter",
        "缺少参数: service, method (POST the call)",
    ))
}

pub async fn handle(
    State(state): State<Arc<SandboxState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let now_ms = state.clock.now_ms();
    let request_id = headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let mut vop = state.vop();
    let outcome = process(&mut vop, &state, peer, &query, &body, now_ms);
    drop(vop);
    match outcome {
        Ok(result) => {
            tracing::debug!(request_id, "vop gateway: ok");
            success(result)
        }
        Err(error) => {
            tracing::debug!(request_id, code = error.code, "vop gateway: rejected");
            failure(&error)
        }
    }
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
}

fn process(
    vop: &mut VopState,
    state: &SandboxState,
    peer: SocketAddr,
    query: &[(String, String)],
    body: &[u8],
    now_ms: i64,
) -> Result<Value, GatewayError> {
    const REQUIRED: [&str; 7] = [
        "service",
        "method",
        "version",
        "timestamp",
        "format",
        "appKey",
        "sign",
    ];
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|name| param(query, name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(GatewayError::new(
            "vipapis.miss-parameter",
            format!(
                "缺少参数: {} (system parameters go in the URL query string)",
                missing.join(", ")
            ),
        ));
    }
    let get = |name| param(query, name).unwrap_or_default();
    let (service, method, app_key) = (get("service"), get("method"), get("appKey"));

    let app = vop.app(app_key).cloned().ok_or_else(|| {
        GatewayError::new(
            "vipapis.appkey-not-exist",
            format!("APPKEY 不存在: {app_key}"),
        )
    })?;
    if app.blacklisted {
        return Err(GatewayError::new(
            "vipapis.appKey-in-blackList",
            "APPKEY在黑名单",
        ));
    }
    if !app.ip_allowlist.is_empty() && !app.ip_allowlist.contains(&peer.ip()) {
        return Err(GatewayError::new(
            "vipapis.ip-in-blackList",
            format!("IP {} is not in the app's IP allow-list", peer.ip()),
        ));
    }
    let format = get("format");
    if !format.eq_ignore_ascii_case("json") {
        return Err(GatewayError::new(
            "vipapis.parameter-notmatch",
            format!(
                "format: expected json (any case), got {format:?}; the sandbox speaks JSON only"
            ),
        ));
    }
    let expected = signature::expected_sign(&app.app_secret, query, body);
    if !signature::signs_match(&expected, get("sign")) {
        return Err(GatewayError::new(
            "vipapis.sign-not-match",
            format!(
                "签名不匹配: expected upper-hex HMAC-MD5 with the app secret over {} (name+value, sorted) followed by the {}-byte body",
                signature::signed_names(query).join(", "),
                body.len()
            ),
        ));
    }
    let timestamp: i64 = get("timestamp").parse().map_err(|_| {
        GatewayError::new(
            "vipapis.parameter-notmatch",
            format!(
                "timestamp: expected Unix epoch seconds, got {:?}",
                get("timestamp")
            ),
        )
    })?;
    let skew = timestamp - now_ms.div_euclid(1000);
    if skew.abs() > TIMESTAMP_SKEW_SECS {
        return Err(GatewayError::new(
            "vipapis.parameter-notmatch",
            format!(
                "timestamp: {skew} s away from the gateway clock, at most {TIMESTAMP_SKEW_SECS} s allowed"
            ),
        ));
    }
    let (permission, needs_token) = requirements(service, method)
        .filter(|_| implemented(service, method))
        .ok_or_else(|| {
            GatewayError::new(
                "vipapis.path.Error",
                format!("请求路径异常: no method {service}.{method}"),
            )
        })?;
    if !app.permissions.contains(&permission) {
        return Err(GatewayError::new(
            "vipapis.api-invalidate-permission",
            format!(
                "APPKEY无此方法访问权限: {method} needs the {} permission package",
                permission.as_str()
            ),
        ));
    }
    let user = if needs_token {
        let token = param(query, "accessToken").ok_or_else(|| {
            GatewayError::new(
                "vipapis.oauth-invalidate-failure",
                format!("oauth验证失败: {method} needs accessToken"),
            )
        })?;
        let user = oauth::user_for_token(vop, token, app_key, now_ms).map_err(|reason| {
            GatewayError::new(
                "vipapis.oauth-invalidate-failure",
                format!("oauth验证失败: {reason}"),
            )
        })?;
        Some(user)
    } else {
        None
    };

    let union_call = service.starts_with("com.vip.adp.api.open.service.Union");
    let quota = vop.quotas.table.vop(service, method);
    let caller = Caller::for_scope(
        quota.map_or(QuotaScope::App, |(_, scope)| scope),
        app_key,
        user.as_ref().map(|user| user.open_id.as_str()),
    );
    if union_call {
        let disabled = match &user {
            Some(user) => user.union_disabled,
            None => app.union_disabled,
        };
        if disabled {
            return Err(GatewayError::new(
                "1007",
                "开发者账号或者授权用户账号未开通联盟账号或者联盟账号被禁用",
            ));
        }
    }
    let degradation = vop.degradation;
    if let Err(throttled) = vop.quotas.try_acquire(service, method, &caller, now_ms) {
        vop.quotas
            .record_business_error(&caller, now_ms, &degradation);
        return Err(GatewayError {
            code: "1008".into(),
            message: format!(
                "触发联盟API接口限频: {method} allows {} calls per {} s; retry in {} ms",
                throttled.limit, throttled.window_secs, throttled.retry_after_ms
            ),
            business: true,
        });
    }
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|err| {
            GatewayError::invalid_argument(format!(
                "body: expected a JSON object of the method's arguments: {err}"
            ))
        })?
    };
    if !body.is_object() {
        return Err(GatewayError::invalid_argument(
            "body: expected a JSON object whose keys are the method's argument names",
        ));
    }
    if union_call && vop.quotas.is_degraded(&caller, now_ms) {
        return Ok(union::empty_result(service, method));
    }
    let call = Call {
        service,
        method,
        app_key,
        user: user.as_ref(),
        body: &body,
        now_ms,
    };
    let result = if service == "vipapis.oauth.OauthService" {
        oauth::refresh_through_gateway(vop, state, &call)
    } else if union_call {
        union::handle(vop, &mut state.rng(), &call)
    } else {
        jit::handle(vop, &mut state.rng(), &call)
    };
    if let Err(error) = &result
        && error.business
        && union_call
    {
        vop.quotas
            .record_business_error(&caller, now_ms, &degradation);
    }
    result
}
