//! Winit's authorize page (OAuth2 implicit flow): the seller signs in with the 万邑联 account and
//! the browser is sent back to the application's callback with `access_token`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::{CLIENT_ID, WinitState};
use crate::state::SandboxState;
use crate::vop::pages::escape;

fn page(body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>万邑通授权</title><style>body{{font-family:system-ui,"PingFang SC",sans-serif;background:#f3f6f9}}main{{max-width:420px;margin:48px auto;background:#fff;padding:24px;border-radius:8px}}
h1{{color:#0a6ebd;font-size:1.2rem}}label{{display:block;margin-top:12px}}input[type=text],input[type=password]{{width:100%;padding:8px;box-sizing:border-box}}
button{{margin-top:16px;padding:8px 20px;background:#0a6ebd;color:#fff;border:0;border-radius:4px}}.error{{color:#b00020}}</style></head>
<body><main><p>万邑通开放平台 · shopbridge sandbox</p>{body}</main></body></html>"#
    )
}

fn check(winit: &WinitState, params: &HashMap<String, String>) -> Result<(), String> {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or_default();
    if get("response_type") != "token" {
        return Err(format!(
            "response_type: expected token, got {:?}",
            get("response_type")
        ));
    }
    if get("client_id") != CLIENT_ID {
        return Err("client_id: not a registered application".into());
    }
    if !winit
        .redirect_uris
        .iter()
        .any(|uri| uri == get("redirect_uri"))
    {
        return Err(format!(
            "redirect_uri {:?} is not registered for this application (exact match)",
            get("redirect_uri")
        ));
    }
    Ok(())
}

fn login_form(params: &HashMap<String, String>, error: Option<&str>) -> String {
    let hidden: String = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
    ]
    .iter()
    .filter_map(|k| {
        params
            .get(*k)
            .map(|v| format!(r#"<input type="hidden" name="{k}" value="{}">"#, escape(v)))
    })
    .collect();
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    page(&format!(
        r#"<h1>授权 · Authorize ({scope})</h1>{error}<form method="post" action="authorize">{hidden}
<label for="username">万邑联账户 (account)</label><input type="text" id="username" name="username" required>
<label for="password">密码 (password)</label><input type="password" id="password" name="password" required>
<button type="submit" id="authorize">授权 (authorize)</button></form>"#,
        scope = escape(
            params
                .get("scope")
                .map(String::as_str)
                .unwrap_or("OSWH ISP")
        )
    ))
}

pub async fn authorize_page(
    State(state): State<Arc<SandboxState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Err(problem) = check(&state.winit(), &params) {
        return (
            StatusCode::BAD_REQUEST,
            Html(page(&format!(
                r#"<p class="error" role="alert">{}</p>"#,
                escape(&problem)
            ))),
        )
            .into_response();
    }
    Html(login_form(&params, None)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(flatten)]
    params: HashMap<String, String>,
}

pub async fn login(
    State(state): State<Arc<SandboxState>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let token = crate::vop::random_hex(&mut *state.rng(), 30);
    let mut winit = state.winit();
    if let Err(problem) = check(&winit, &form.params) {
        return (
            StatusCode::BAD_REQUEST,
            Html(page(&format!(
                r#"<p class="error" role="alert">{}</p>"#,
                escape(&problem)
            ))),
        )
            .into_response();
    }
    let in_fragment = winit.settings.token_in_fragment;
    let Some(seller) = winit
        .sellers
        .iter_mut()
        .find(|s| s.app_key == form.username && s.password == form.password)
    else {
        return (
            StatusCode::UNAUTHORIZED,
            Html(login_form(
                &form.params,
                Some("账户或密码错误 (wrong account or password)"),
            )),
        )
            .into_response();
    };
    seller.tokens.push(token.clone());
    let mut pairs = vec![("access_token", token.as_str()), ("token_type", "bearer")];
    if let Some(state_value) = form.params.get("state") {
        pairs.push(("state", state_value));
    }
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let redirect = form.params.get("redirect_uri").cloned().unwrap_or_default();
    let location = if in_fragment {
        format!("{redirect}#{encoded}")
    } else {
        let separator = if redirect.contains('?') { '&' } else { '?' };
        format!("{redirect}{separator}{encoded}")
    };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}
