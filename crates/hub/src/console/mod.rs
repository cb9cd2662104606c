//! The web console: server-rendered pages over the hub's service layer, one module per page.
//! Sign-in per tenant with a session cookie; every form carries the session's CSRF token, so
//! the cookie alone changes nothing. Pages speak Chinese or English (`?lang=`, remembered).

mod activity;
mod auth;
mod earnings;
mod links;
mod orders;
mod shops;
mod sync;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use serde::Serialize;
use shopbridge_store::{ConnectionSummary, ConsoleSession};

use crate::service::HubError;
use crate::state::HubApp;
use crate::ui::{self, Frame, Lang, Message};

/// Sessions last twelve hours.
const SESSION_TTL_MS: i64 = 12 * 3_600_000;
const SESSION_COOKIE: &str = "sb_session";

type Shared = State<Arc<HubApp>>;

pub fn router(app: Arc<HubApp>) -> Router {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/shops") }))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/assets/console.js", get(script))
        .route("/console/login", get(auth::login_page).post(auth::login))
        .route("/console/logout", post(auth::logout))
        .route("/console/shops", get(shops::page))
        .route("/console/shops/connect", post(shops::connect))
        .route("/console/shops/{id}/revoke", post(shops::revoke))
        .route("/console/shops/{id}/delete", post(shops::delete))
        .route("/console/shops/{id}/reauthorize", post(shops::reauthorize))
        .route("/console/sync", get(sync::page))
        .route("/console/sync/now", post(sync::sync_now))
        .route("/console/sync/{shop}/{stream}", get(sync::stream_page))
        .route("/console/orders", get(orders::list))
        .route("/console/orders.csv", get(orders::csv))
        .route("/console/orders/{shop}/{number}", get(orders::detail))
        .route("/console/orders/{shop}/{number}/ship", post(orders::ship))
        .route(
            "/console/orders/{shop}/{number}/check-refund",
            post(orders::check_refund),
        )
        .route("/console/earnings", get(earnings::page))
        .route("/console/earnings.csv", get(earnings::csv))
        .route("/console/links", get(links::page).post(links::submit))
        .route("/console/activity", get(activity::page))
        .route(
            "/console/webhooks/{hook}/deliveries/{delivery}/redeliver",
            post(activity::redeliver),
        )
        .layer(axum::middleware::from_fn(remember_language))
        .with_state(app)
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", ui::STYLESHEET)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", ui::SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// `?lang=zh|en` on any console page is remembered in a cookie for the next ones.
async fn remember_language(request: Request, next: Next) -> Response {
    let chosen = chosen_lang(request.uri().query());
    let mut response = next.run(request).await;
    if let Some(lang) = chosen {
        let cookie = format!(
            "{}={}; Path=/; SameSite=Lax; Max-Age=31536000",
            ui::LANG_COOKIE,
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

fn chosen_lang(query: Option<&str>) -> Option<Lang> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "lang")
        .and_then(|(_, value)| Lang::parse(&value))
}

/// Who is looking, in which language, at what time.
pub(crate) struct Viewer {
    pub lang: Lang,
    pub now_ms: i64,
    /// The page's address, for the link to it in the other language (a form's answer links
    /// to the page the form was on).
    path: String,
    query: Option<String>,
}

impl FromRequestParts<Arc<HubApp>> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<HubApp>,
    ) -> Result<Self, Self::Rejection> {
        Ok(viewer(parts, app.clock.now_ms()))
    }
}

/// The viewer of a request (the connect flow's pages use it too).
pub(crate) fn viewer(parts: &Parts, now_ms: i64) -> Viewer {
    let jar = CookieJar::from_headers(&parts.headers);
    let chosen = chosen_lang(parts.uri.query());
    let path = parts.uri.path();
    // A posted form's answer switches language on the page the form belongs to.
    let path = if parts.method == axum::http::Method::GET {
        path.to_owned()
    } else {
        path.rsplit_once('/')
            .filter(|(_, last)| matches!(*last, "ship" | "check-refund"))
            .map(|(page, _)| page.to_owned())
            .unwrap_or_else(|| path.to_owned())
    };
    Viewer {
        lang: ui::lang_of(&jar, &parts.headers, chosen),
        now_ms,
        query: (parts.method == axum::http::Method::GET)
            .then(|| parts.uri.query().map(str::to_owned))
            .flatten(),
        path,
    }
}

impl Viewer {
    fn frame(&self, title_key: &str, section: &'static str, session: &ConsoleSession) -> Frame {
        Frame::new(self.lang, title_key, section, self.now_ms)
            .switching_at(&self.path, self.query.as_deref())
            .signed_in(&session.csrf)
    }
}

/// The session of a signed-in page; without one, the answer is a redirect to the sign-in page.
pub(crate) struct SignedIn(pub ConsoleSession);

impl FromRequestParts<Arc<HubApp>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<HubApp>) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        session(app, &jar).await.map(SignedIn)
    }
}

async fn session(app: &HubApp, jar: &CookieJar) -> Result<ConsoleSession, Response> {
    let Some(token) = jar.get(SESSION_COOKIE) else {
        return Err(Redirect::to("/console/login").into_response());
    };
    match app
        .store
        .console_session(token.value(), app.clock.now_ms())
        .await
    {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(Redirect::to("/console/login").into_response()),
        Err(err) => Err(crate::problem::store_failure(err)),
    }
}

/// The session, if the form's CSRF token is the session's.
async fn checked(
    app: &HubApp,
    jar: &CookieJar,
    lang: Lang,
    csrf: &str,
) -> Result<ConsoleSession, Response> {
    let session = session(app, jar).await?;
    if !crate::state::constant_time_eq(session.csrf.as_bytes(), csrf.as_bytes()) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            lang,
            app.clock.now_ms(),
            lang.t("error-stale-form"),
            "/console/shops",
        ));
    }
    Ok(session)
}

/// A form's change: the session's CSRF token checked, then `change` for the session's tenant.
/// Its answer is where the browser goes next; an error is a page saying why, leading to `back`.
async fn change(
    app: &HubApp,
    viewer: &Viewer,
    jar: &CookieJar,
    csrf: &str,
    back: &str,
    change: impl AsyncFnOnce(ConsoleSession) -> Result<String, HubError>,
) -> Response {
    let session = match checked(app, jar, viewer.lang, csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    match change(session).await {
        Ok(next) => Redirect::to(&next).into_response(),
        Err(err) => failed(err, viewer, back),
    }
}

/// A page saying why something did not happen, with a way back.
fn error_page(status: StatusCode, lang: Lang, now_ms: i64, detail: String, back: &str) -> Response {
    let frame = Frame::new(lang, "title-error", "", now_ms);
    ui::message(
        status,
        &frame,
        &Message {
            tone: "error",
            heading: lang.t("title-error"),
            subject: None,
            detail,
            back_href: back.to_owned(),
            back_label: lang.t("back-to-console"),
            clean_url: false,
        },
    )
}

/// What a page says of an operation that did not happen; the store's own error text is never
/// shown.
fn said(err: &HubError, lang: Lang) -> String {
    match err {
        HubError::Store(err) if err.is_busy() => lang.t("error-store-busy"),
        HubError::Store(store) => {
            tracing::error!(error = %store, "store failure behind a console page");
            lang.t("error-store-failed")
        }
        other => other.to_string(),
    }
}

/// An operation that did not happen: the store's own answer when it is busy (a 503 with
/// `Retry-After`), else a page saying why, leading back to `back`.
fn failed(err: HubError, viewer: &Viewer, back: &str) -> Response {
    match err {
        HubError::Store(err) if err.is_busy() => crate::problem::store_failure(err),
        err => error_page(
            crate::problem::hub_status(&err),
            viewer.lang,
            viewer.now_ms,
            said(&err, viewer.lang),
            back,
        ),
    }
}

/// A shop as the pickers and lists show it.
#[derive(Debug, Clone, Serialize)]
struct ShopChoice {
    id: String,
    name: String,
    kind_name: &'static str,
}

fn shop_choice(app: &HubApp, lang: Lang, shop: &ConnectionSummary) -> ShopChoice {
    ShopChoice {
        id: shop.id.clone(),
        name: shop.name.clone(),
        kind_name: app.platforms.kind_name(shop.kind).get(lang.english()),
    }
}

/// The tenant's shops a page shows (`shown`), and the one chosen (the first by default).
async fn chosen_shop(
    app: &HubApp,
    session: &ConsoleSession,
    wanted: Option<&str>,
    shown: impl Fn(&ConnectionSummary) -> bool,
) -> Result<(Vec<ConnectionSummary>, Option<ConnectionSummary>), HubError> {
    let shops: Vec<_> = crate::service::shops::list(app, &session.tenant_id)
        .await?
        .into_iter()
        .filter(|shop| shown(shop))
        .collect();
    let chosen = match wanted.filter(|id| !id.is_empty()) {
        Some(id) => Some(shops.iter().find(|c| c.id == id).cloned().ok_or_else(|| {
            HubError::NotFound(format!("shop: no shop {} of this tenant here", echoed(id)))
        })?),
        None => shops.first().cloned(),
    };
    Ok((shops, chosen))
}

/// A value from the address, as a page may repeat it: short, so that a crafted link cannot put
/// a paragraph of its own words on the hub's page.
pub(crate) fn echoed(text: &str) -> String {
    const SHOWN: usize = 40;
    if text.chars().count() > SHOWN {
        format!("{:?}…", text.chars().take(SHOWN).collect::<String>())
    } else {
        format!("{text:?}")
    }
}

/// What a path segment must encode: controls, space, the URL's own delimiters and `%`.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A path segment, percent-encoded (a space is `%20`, not `+`).
pub(crate) fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, PATH_SEGMENT).to_string()
}

/// A query value, form-encoded.
pub(crate) fn query_value(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A notice a redirect asks a page to show: only the catalog's own notices, never text from
/// the URL.
fn notice(lang: Lang, key: Option<&str>) -> Option<String> {
    let key = key?;
    NOTICES
        .contains(&key)
        .then(|| lang.t(&format!("notice-{key}")))
}

const NOTICES: &[&str] = &["revoked", "deleted", "redelivered"];

/// What a page was sent back with: a notice to show (`done`), a shop to point out.
#[derive(Debug, serde::Deserialize, Default)]
pub(crate) struct NoticeQuery {
    pub done: Option<String>,
    pub shop: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message the console's code names exists: the fixed keys and each family's members.
    #[test]
    fn every_message_the_code_uses_exists() {
        let catalog = ui::i18n::catalog();
        let mut keys: Vec<String> = Vec::new();
        for source in [
            include_str!("mod.rs"),
            include_str!("activity.rs"),
            include_str!("auth.rs"),
            include_str!("earnings.rs"),
            include_str!("links.rs"),
            include_str!("orders.rs"),
            include_str!("shops.rs"),
            include_str!("sync.rs"),
            include_str!("../connect.rs"),
        ] {
            for marker in [
                ".t(\"",
                "t_with(\"",
                "Frame::new(viewer.lang, \"",
                "frame(\"",
            ] {
                for part in source.split(marker).skip(1) {
                    keys.push(part.split('"').next().unwrap_or_default().to_owned());
                }
            }
        }
        for family in [
            NOTICES
                .iter()
                .map(|k| format!("notice-{k}"))
                .collect::<Vec<_>>(),
            ["shops", "sync", "orders", "earnings", "links", "activity"]
                .iter()
                .map(|k| format!("nav-{k}"))
                .collect(),
            shopbridge_store::ConnectionState::ALL
                .iter()
                .map(|s| format!("state-{}", s.as_str()))
                .collect(),
            sync::OUTCOMES
                .iter()
                .map(|k| format!("outcome-{k}"))
                .collect(),
            activity::DELIVERY_STATES
                .iter()
                .map(|k| format!("delivery-{k}"))
                .collect(),
            activity::AUDIT_ACTIONS
                .iter()
                .map(|k| format!("audit-{k}"))
                .collect(),
            links::LINK_KINDS
                .iter()
                .map(|k| format!("link-kind-{k}"))
                .collect(),
            orders::status_keys(),
        ] {
            keys.extend(family);
        }
        let missing: Vec<_> = keys
            .iter()
            .filter(|key| !key.is_empty() && !key.ends_with('-'))
            .filter(|key| !catalog.has(Lang::Zh, key) || !catalog.has(Lang::En, key))
            .collect();
        assert!(
            missing.is_empty(),
            "messages missing from the catalogs: {missing:?}"
        );
        assert!(keys.len() > 80);
    }
}
