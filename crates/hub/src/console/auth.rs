//! Signing in and out of the console: a tenant's app key and secret, a session cookie, and a
//! sign-in form token of its own against login CSRF.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{SESSION_COOKIE, SESSION_TTL_MS, Shared, Viewer};
use crate::state::HubApp;
use crate::ui::{self, Frame};

/// The sign-in form's own cookie: a random token the form must send back, so that a page on
/// another site cannot sign a visitor's browser into the attacker's tenant (login CSRF).
const LOGIN_COOKIE: &str = "sb_login";

#[derive(Serialize)]
struct LoginPage {
    login_token: String,
    error: Option<String>,
}

fn login_form(viewer: &Viewer, status: StatusCode, token: &str, error: Option<String>) -> Response {
    let frame = Frame::new(viewer.lang, "title-login", "", viewer.now_ms);
    ui::render_with_status(
        status,
        "login.html",
        &frame,
        &LoginPage {
            login_token: token.to_owned(),
            error,
        },
    )
}

/// Whether the hub is served over HTTPS, so that its cookies are `Secure`.
fn secure(app: &HubApp) -> bool {
    app.public_url.starts_with("https://")
}

pub(super) async fn login_page(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
) -> (CookieJar, Response) {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let cookie = Cookie::build((LOGIN_COOKIE, token.clone()))
        .path("/console/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(ui::cookie_days(1))
        .secure(secure(&app))
        .build();
    (
        jar.add(cookie),
        login_form(&viewer, StatusCode::OK, &token, None),
    )
}

/// Whether a form post comes from the hub's own pages: its `Origin` (else its `Referer`) is the
/// hub's public origin or the origin of the host it was sent to. Clients that send neither (not
/// browsers) still need the form's token.
fn same_origin(app: &HubApp, headers: &HeaderMap) -> bool {
    let sent = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(sent) = sent else {
        return true;
    };
    let Ok(sent) = url::Url::parse(sent) else {
        return false;
    };
    let sent = sent.origin().ascii_serialization();
    let public = url::Url::parse(&app.public_url)
        .map(|url| url.origin().ascii_serialization())
        .ok();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|host| {
            let scheme = if sent.starts_with("https://") {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{host}")
        });
    public.as_deref() == Some(sent.as_str()) || host.as_deref() == Some(sent.as_str())
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    app_key: String,
    app_secret: String,
    #[serde(default)]
    login_csrf: String,
}

pub(super) async fn login(
    State(app): Shared,
    viewer: Viewer,
    headers: HeaderMap,
    jar: CookieJar,
    crate::state::ClientAddr(client): crate::state::ClientAddr,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let login_token = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let refused = |status| {
        login_form(
            &viewer,
            status,
            &login_token,
            Some(viewer.lang.t("login-failed")),
        )
    };
    let Ok(Form(form)) = form else {
        return refused(StatusCode::BAD_REQUEST);
    };
    if !same_origin(&app, &headers)
        || login_token.is_empty()
        || !crate::state::constant_time_eq(login_token.as_bytes(), form.login_csrf.as_bytes())
    {
        return (
            StatusCode::FORBIDDEN,
            "the sign-in form is stale or was posted from another site: open /console/login and sign in there",
        )
            .into_response();
    }
    let keys = crate::security::guess_keys(client, form.app_key.trim());
    if let Err(wait) = app.guesses.check(&keys) {
        return crate::state::too_many_guesses(wait);
    }
    let tenant = match app.store.tenant_by_app_key(form.app_key.trim()).await {
        Ok(Some((id, secret)))
            if crate::state::constant_time_eq(
                secret.expose_secret().as_bytes(),
                form.app_secret.as_bytes(),
            ) =>
        {
            id
        }
        Ok(_) => {
            app.guesses.failed(&keys);
            return refused(StatusCode::UNAUTHORIZED);
        }
        Err(err) => return crate::problem::store_failure(err),
    };
    let token = match app
        .store
        .create_console_session(&tenant, viewer.now_ms, SESSION_TTL_MS)
        .await
    {
        Ok(token) => token,
        Err(err) => return crate::problem::store_failure(err),
    };
    let session = Cookie::build((SESSION_COOKIE, token))
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::milliseconds(SESSION_TTL_MS))
        .secure(secure(&app))
        .build();
    // The sign-in form's token is spent.
    let spent = Cookie::build((LOGIN_COOKIE, ""))
        .path("/console/login")
        .build();
    let jar = jar.add(session).remove(spent);
    let _ = app
        .store
        .audit(viewer.now_ms, Some(&tenant), None, "console_login", "")
        .await;
    (jar, Redirect::to("/console/shops")).into_response()
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    pub csrf: String,
}

pub(super) async fn logout(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(response) = super::checked(&app, &jar, viewer.lang, &form.csrf).await {
        return response;
    }
    if let Some(token) = jar.get(SESSION_COOKIE) {
        let _ = app.store.end_console_session(token.value()).await;
    }
    let ended = Cookie::build((SESSION_COOKIE, "")).path("/console").build();
    (jar.remove(ended), Redirect::to("/console/login")).into_response()
}
