//! The OAuth 2.0 server of auth.vip.com: login and consent pages, codes, tokens, token_info,
//! revoke_token, and `vipapis.oauth.OauthService.refreshToken` on the gateway.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use shopbridge_core::Clock;
use url::Url;

use super::gateway::{Call, GatewayError};
use super::pages;
use super::{
    AUTH_CODE_TTL_MS, AuthCode, ConsentTicket, Revocation, Token, User, VopState, random_hex,
};
use crate::state::SandboxState;

/// The native flow's redirect URI: the code is shown on a page instead of redirected.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Error codes of the sandbox's OAuth server. Only 30111 is documented (seed 000); the others
/// are the sandbox's own choice, with OAuth 2.0's error names in the message.
pub mod codes {
    pub const INVALID_REQUEST: i64 = 30001;
    pub const INVALID_CLIENT: i64 = 30002;
    pub const INVALID_GRANT: i64 = 30003;
    pub const ACCESS_TOKEN_INVALID: i64 = 30111;
}

fn oauth_error(status: StatusCode, code: i64, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({ "code": code, "msg": message.into() })),
    )
        .into_response()
}

/// The checks shared by the login page and the login form.
fn check_authorize_request(
    vop: &VopState,
    client_id: &str,
    response_type: &str,
    redirect_uri: &str,
) -> Result<(), (String, String)> {
    let app = vop.app(client_id).ok_or_else(|| {
        (
            "invalid_client".to_owned(),
            format!("unknown client_id {client_id:?}"),
        )
    })?;
    if response_type != "code" {
        return Err((
            "unsupported_response_type".into(),
            format!("response_type: expected \"code\", got {response_type:?}"),
        ));
    }
    if redirect_uri != OOB && !app.redirect_uris.iter().any(|uri| uri == redirect_uri) {
        return Err((
            "redirect_uri_mismatch".into(),
            format!(
                "redirect_uri {redirect_uri:?} is not registered for this app (exact match required)"
            ),
        ));
    }
    Ok(())
}

/// `GET /vop/oauth2/authorize`: the login page.
pub async fn authorize_page(
    State(state): State<Arc<SandboxState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let get = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let vop = state.vop();
    if let Err((error, description)) = check_authorize_request(
        &vop,
        get("client_id"),
        get("response_type"),
        get("redirect_uri"),
    ) {
        return (
            StatusCode::BAD_REQUEST,
            Html(pages::error_page(&error, &description)),
        )
            .into_response();
    }
    let app_name = vop
        .app(get("client_id"))
        .map(|app| app.name.clone())
        .unwrap_or_default();
    drop(vop);
    Html(pages::login_page(&pages::LoginContext {
        app_name: &app_name,
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        state: params.get("state").map(String::as_str),
        display: params.get("display").map(String::as_str),
        error: None,
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    client_id: String,
    #[serde(default)]
    response_type: String,
    redirect_uri: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    display: Option<String>,
    username: String,
    password: String,
}

/// `POST /vop/oauth2/authorize`: the login form; on success, the consent page.
pub async fn login(
    State(state): State<Arc<SandboxState>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let now_ms = state.clock.now_ms();
    let mut vop = state.vop();
    if let Err((error, description)) = check_authorize_request(
        &vop,
        &form.client_id,
        &form.response_type,
        &form.redirect_uri,
    ) {
        return (
            StatusCode::BAD_REQUEST,
            Html(pages::error_page(&error, &description)),
        )
            .into_response();
    }
    let app_name = vop
        .app(&form.client_id)
        .map(|app| app.name.clone())
        .unwrap_or_default();
    let problem = match vop.user(&form.username) {
        None => Some("用户名或密码错误 (unknown user or wrong password)"),
        Some(user) if user.password != form.password => {
            Some("用户名或密码错误 (unknown user or wrong password)")
        }
        Some(user) if user.frozen => Some("账号已冻结 (this account is frozen)"),
        Some(_) => None,
    };
    if let Some(problem) = problem {
        drop(vop);
        return (
            StatusCode::UNAUTHORIZED,
            Html(pages::login_page(&pages::LoginContext {
                app_name: &app_name,
                client_id: &form.client_id,
                redirect_uri: &form.redirect_uri,
                state: form.state.as_deref(),
                display: form.display.as_deref(),
                error: Some(problem),
            })),
        )
            .into_response();
    }
    let ticket = random_hex(&mut *state.rng(), 32);
    vop.tickets.insert(
        ticket.clone(),
        ConsentTicket {
            client_id: form.client_id.clone(),
            redirect_uri: form.redirect_uri.clone(),
            state: form.state.clone(),
            username: form.username.clone(),
            expires_at_ms: now_ms + AUTH_CODE_TTL_MS,
        },
    );
    drop(vop);
    Html(pages::consent_page(&app_name, &form.username, &ticket)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    ticket: String,
    decision: String,
}

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let location = match Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.to_string()
        }
        Err(_) => {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish();
            let separator = if redirect_uri.contains('?') { '&' } else { '?' };
            format!("{redirect_uri}{separator}{query}")
        }
    };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// `POST /vop/oauth2/consent`: 授权 issues a code, 取消 returns `error`/`error_description`.
pub async fn consent(
    State(state): State<Arc<SandboxState>>,
    Form(form): Form<ConsentForm>,
) -> Response {
    let now_ms = state.clock.now_ms();
    let mut vop = state.vop();
    let Some(ticket) = vop
        .tickets
        .remove(&form.ticket)
        .filter(|ticket| ticket.expires_at_ms > now_ms)
    else {
        return (
            StatusCode::BAD_REQUEST,
            Html(pages::error_page(
                "invalid_request",
                "this consent page has expired or was already answered; start again",
            )),
        )
            .into_response();
    };
    let mut params: Vec<(&str, &str)> = Vec::new();
    let code;
    if form.decision == "approve" {
        code = random_hex(&mut *state.rng(), 32);
        vop.codes.insert(
            code.clone(),
            AuthCode {
                client_id: ticket.client_id.clone(),
                redirect_uri: ticket.redirect_uri.clone(),
                username: ticket.username.clone(),
                expires_at_ms: now_ms + AUTH_CODE_TTL_MS,
                used: false,
                issued_tokens: Vec::new(),
            },
        );
        drop(vop);
        if ticket.redirect_uri == OOB {
            return Html(pages::oob_code_page(&code)).into_response();
        }
        params.push(("code", &code));
    } else {
        drop(vop);
        if ticket.redirect_uri == OOB {
            return Html(pages::error_page(
                "access_denied",
                "用户取消了授权 (the user cancelled)",
            ))
            .into_response();
        }
        params.push(("error", "access_denied"));
        params.push((
            "error_description",
            "用户取消了授权 (the user cancelled the authorization)",
        ));
    }
    if let Some(state) = ticket.state.as_deref() {
        params.push(("state", state));
    }
    redirect_with(&ticket.redirect_uri, &params)
}

fn query_map(raw: Option<String>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// `POST /vop/oauth2/token`: parameters are read from the URL query string only.
pub async fn token(
    State(state): State<Arc<SandboxState>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let params = query_map(raw);
    let get = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    const REQUIRED: [&str; 6] = [
        "client_id",
        "client_secret",
        "grant_type",
        "redirect_uri",
        "code",
        "request_client_ip",
    ];
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|name| get(name).is_none())
        .collect();
    if !missing.is_empty() {
        let in_body = !body.is_empty()
            && url::form_urlencoded::parse(&body)
                .any(|(name, _)| REQUIRED.contains(&name.as_ref()));
        let hint = if in_body {
            "; they were sent in the request body, but auth.vip.com reads them from the URL query string only"
        } else {
            ""
        };
        return oauth_error(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            format!("invalid_request: missing {}{hint}", missing.join(", ")),
        );
    }
    let (client_id, redirect_uri, code) = (
        get("client_id").unwrap_or_default(),
        get("redirect_uri").unwrap_or_default(),
        get("code").unwrap_or_default(),
    );
    if get("grant_type") != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            "unsupported_grant_type: expected grant_type=authorization_code (refresh through vipapis.oauth.OauthService.refreshToken)",
        );
    }
    let now_ms = state.clock.now_ms();
    let mut vop = state.vop();
    match vop.app(client_id) {
        Some(app) if Some(app.app_secret.as_str()) == get("client_secret") => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                codes::INVALID_CLIENT,
                "invalid_client: unknown client_id or wrong client_secret",
            );
        }
    }
    let Some(grant) = vop.codes.get(code).cloned() else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            codes::INVALID_GRANT,
            "invalid_grant: unknown authorization code",
        );
    };
    if grant.used {
        // A replayed code may be stolen: revoke what it issued (RFC 6749 §4.1.2).
        for token in &grant.issued_tokens {
            if let Some(token) = vop.tokens.get_mut(token) {
                token.revoked.get_or_insert(Revocation::CodeReplayed);
            }
        }
        return oauth_error(
            StatusCode::BAD_REQUEST,
            codes::INVALID_GRANT,
            "invalid_grant: authorization code already used",
        );
    }
    if grant.expires_at_ms <= now_ms {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            codes::INVALID_GRANT,
            "invalid_grant: authorization code expired (codes last 10 minutes)",
        );
    }
    if grant.client_id != client_id {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            codes::INVALID_GRANT,
            "invalid_grant: authorization code was issued to another client",
        );
    }
    if grant.redirect_uri != redirect_uri {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            codes::INVALID_GRANT,
            "invalid_grant: redirect_uri differs from the one used to authorize (exact match required)",
        );
    }
    let Some(user) = vop.user(&grant.username).cloned() else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            codes::INVALID_GRANT,
            "invalid_grant: the user no longer exists",
        );
    };
    let (access, token) = issue_token(&mut vop, &state, client_id, &user, now_ms, None);
    if let Some(grant) = vop.codes.get_mut(code) {
        grant.used = true;
        grant.issued_tokens.push(access.clone());
    }
    drop(vop);
    axum::Json(json!({
        "access_token": access,
        "refresh_token": token.refresh_token,
        "expires_in": (token.expires_ms - now_ms) / 1000,
        "refresh_expires_time": token.refresh_expires_ms,
        "open_id": user.open_id,
        "token_type": "Bearer",
    }))
    .into_response()
}

/// Creates an access token (and a refresh token unless one is carried over from a refresh).
fn issue_token(
    vop: &mut VopState,
    state: &SandboxState,
    client_id: &str,
    user: &User,
    now_ms: i64,
    refresh: Option<(String, i64)>,
) -> (String, Token) {
    let mut rng = state.rng();
    let access = random_hex(&mut *rng, 40);
    let (refresh_token, refresh_expires_ms) = refresh.unwrap_or_else(|| {
        (
            random_hex(&mut *rng, 40),
            now_ms + vop.refresh_token_ttl_secs * 1000,
        )
    });
    drop(rng);
    let token = Token {
        client_id: client_id.to_owned(),
        username: user.username.clone(),
        refresh_token,
        created_ms: now_ms,
        expires_ms: now_ms + vop.access_token_ttl_secs * 1000,
        refresh_expires_ms,
        revoked: None,
    };
    vop.tokens.insert(access.clone(), token.clone());
    (access, token)
}

/// The user an access token acts for, if the token is live and was issued to `client_id`.
pub fn user_for_token(
    vop: &VopState,
    access_token: &str,
    client_id: &str,
    now_ms: i64,
) -> Result<User, String> {
    let token = vop
        .tokens
        .get(access_token)
        .ok_or_else(|| "30111 access token invalid".to_owned())?;
    if let Some(why) = token.revoked {
        return Err(format!("30111 access token invalid: {}", why.describe()));
    }
    if token.expires_ms <= now_ms {
        return Err("30111 access token expired".into());
    }
    if token.client_id != client_id {
        return Err("30111 access token was issued to another app".into());
    }
    let user = vop
        .user(&token.username)
        .ok_or_else(|| "30111 access token invalid: user gone".to_owned())?;
    if user.frozen {
        return Err("30111 access token invalid: user authorization frozen".into());
    }
    Ok(user.clone())
}

fn token_param(raw: Option<String>, body: &Bytes) -> Option<String> {
    query_map(raw)
        .remove("access_token")
        .or_else(|| {
            url::form_urlencoded::parse(body)
                .find(|(name, _)| name == "access_token")
                .map(|(_, value)| value.into_owned())
        })
        .filter(|token| !token.is_empty())
}

/// `POST /vop/oauth2/token_info`
pub async fn token_info(
    State(state): State<Arc<SandboxState>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let Some(access) = token_param(raw, &body) else {
        return missing_token();
    };
    let now_ms = state.clock.now_ms();
    let vop = state.vop();
    let Some(token) = vop.tokens.get(&access) else {
        return oauth_error(
            StatusCode::OK,
            codes::ACCESS_TOKEN_INVALID,
            "access token invalid",
        );
    };
    if token.revoked.is_some() {
        // The seed's shape for a revoked token.
        return oauth_error(StatusCode::OK, 0, "token revoked");
    }
    if token.expires_ms <= now_ms || vop.user(&token.username).is_none_or(|user| user.frozen) {
        return oauth_error(
            StatusCode::OK,
            codes::ACCESS_TOKEN_INVALID,
            "access token invalid",
        );
    }
    let mut answer = lifetime_fields(&access, token, now_ms);
    answer.insert(
        "open_id".into(),
        json!(vop.user(&token.username).map(|user| user.open_id.clone())),
    );
    answer.insert("token_type".into(), json!("Bearer"));
    axum::Json(answer).into_response()
}

/// `POST /vop/oauth2/revoke_token`
pub async fn revoke_token(
    State(state): State<Arc<SandboxState>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let Some(access) = token_param(raw, &body) else {
        return missing_token();
    };
    let now_ms = state.clock.now_ms();
    let mut vop = state.vop();
    match vop.tokens.get_mut(&access) {
        Some(token) if token.revoked.is_none() && token.expires_ms > now_ms => {
            token.revoked = Some(Revocation::Revoked);
            oauth_error(StatusCode::OK, 0, "success")
        }
        _ => oauth_error(
            StatusCode::OK,
            codes::ACCESS_TOKEN_INVALID,
            "access token invalid",
        ),
    }
}

/// `access_token`, `create_at`, `expires_in` and `expires_time` of a token, as token_info and
/// refreshToken both answer them.
fn lifetime_fields(access: &str, token: &Token, now_ms: i64) -> serde_json::Map<String, Value> {
    let mut fields = serde_json::Map::new();
    fields.insert("access_token".into(), json!(access));
    fields.insert("create_at".into(), json!(beijing(token.created_ms)));
    fields.insert(
        "expires_in".into(),
        json!((token.expires_ms - now_ms) / 1000),
    );
    fields.insert("expires_time".into(), json!(beijing(token.expires_ms)));
    fields
}

/// The answer when token_info or revoke_token gets no `access_token`.
fn missing_token() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        codes::INVALID_REQUEST,
        "invalid_request: missing access_token",
    )
}

/// VOP datetimes are Beijing time `yyyy-MM-dd HH:mm:ss`.
pub fn beijing(ms: i64) -> String {
    super::datetime::format(ms)
}

/// `vipapis.oauth.OauthService.refreshToken`: a new access token for a live refresh token.
///
/// The refresh token itself is kept (with its original one-year expiry) and the previous
/// access token stops working.
pub fn refresh_through_gateway(
    vop: &mut VopState,
    state: &SandboxState,
    call: &Call<'_>,
) -> Result<Value, GatewayError> {
    let request = call
        .body
        .get("request")
        .and_then(Value::as_object)
        .ok_or_else(|| GatewayError::invalid_argument("request: expected an object {refresh_token, client_id, client_secret, request_client_ip}"))?;
    let field = |name: &str| -> Result<String, GatewayError> {
        request
            .get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                GatewayError::new(
                    "vipapis.miss-parameter",
                    format!("缺少参数: request.{name}"),
                )
            })
    };
    let (refresh, client_id, client_secret) = (
        field("refresh_token")?,
        field("client_id")?,
        field("client_secret")?,
    );
    field("request_client_ip")?;
    let secret_ok = vop
        .app(&client_id)
        .is_some_and(|app| app.app_secret == client_secret && app.app_key == call.app_key);
    if !secret_ok {
        return Err(GatewayError::invalid_argument(
            "request.client_id/client_secret: must be the calling app's key and secret",
        ));
    }
    let now_ms = call.now_ms;
    let current = vop
        .tokens
        .iter()
        .filter(|(_, token)| token.refresh_token == refresh && token.client_id == client_id)
        .max_by_key(|(_, token)| token.created_ms)
        .map(|(access, token)| (access.clone(), token.clone()));
    let Some((old_access, old)) = current else {
        return Err(GatewayError::new(
            "vipapis.oauth-invalidate-failure",
            "30111 refresh token invalid",
        ));
    };
    if old.refresh_expires_ms <= now_ms {
        return Err(GatewayError::new(
            "vipapis.oauth-invalidate-failure",
            "30111 refresh token expired",
        ));
    }
    if let Some(why) = old.revoked.filter(|why| *why != Revocation::Refreshed) {
        return Err(GatewayError::new(
            "vipapis.oauth-invalidate-failure",
            format!("30111 refresh token invalid: {}", why.describe()),
        ));
    }
    let user = vop
        .user(&old.username)
        .cloned()
        .filter(|user| !user.frozen)
        .ok_or_else(|| {
            GatewayError::new(
                "vipapis.oauth-invalidate-failure",
                "30111 user authorization frozen",
            )
        })?;
    if let Some(token) = vop.tokens.get_mut(&old_access) {
        token.revoked.get_or_insert(Revocation::Refreshed);
    }
    let (access, token) = issue_token(
        vop,
        state,
        &client_id,
        &user,
        now_ms,
        Some((old.refresh_token, old.refresh_expires_ms)),
    );
    let mut answer = lifetime_fields(&access, &token, now_ms);
    answer.insert("is_expired".into(), json!(false));
    answer.insert("refresh_token".into(), json!(token.refresh_token));
    answer.insert(
        "refresh_expires_time".into(),
        json!(beijing(token.refresh_expires_ms)),
    );
    answer.insert("status".into(), json!("1"));
    Ok(Value::Object(answer))
}
