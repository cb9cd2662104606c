//! The web console, server-rendered with a little JavaScript: sign-in per tenant with a session
//! cookie, shops (state, token expiry as a countdown, last error, connect, revoke) and sync
//! streams (status, last run, "sync now"), in Chinese or English. Every form carries the
//! session's CSRF token; the cookie alone changes nothing.

use std::sync::Arc;

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use secrecy::ExposeSecret;
use serde::Deserialize;
use shopbridge_store::{ConnectionState, ConsoleSession};

use crate::app::HubApp;

/// Sessions last twelve hours.
const SESSION_TTL_MS: i64 = 12 * 3_600_000;
const SESSION_COOKIE: &str = "sb_session";
const LANG_COOKIE: &str = "sb_lang";

type Shared = State<Arc<HubApp>>;

pub fn router(app: Arc<HubApp>) -> Router {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/shops") }))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/shops", get(shops_page))
        .route("/console/shops/connect", post(connect))
        .route("/console/shops/{id}/revoke", post(revoke))
        .route("/console/sync", get(sync_page))
        .route("/console/sync/now", post(sync_now))
        .with_state(app)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

/// The words of the console in both languages.
fn t(lang: Lang, key: &str) -> &'static str {
    let (zh, en) = match key {
        "title" => ("shopbridge 控制台", "shopbridge console"),
        "shops" => ("店铺", "Shops"),
        "sync" => ("同步", "Sync"),
        "logout" => ("退出", "Sign out"),
        "login" => ("登录", "Sign in"),
        "app_key" => ("应用 AppKey", "App key"),
        "app_secret" => ("应用密钥 AppSecret", "App secret"),
        "login_failed" => ("AppKey 或密钥不正确", "Unknown app key or wrong secret"),
        "name" => ("名称", "Name"),
        "platform" => ("平台", "Platform"),
        "mode" => ("模式", "Mode"),
        "state" => ("状态", "State"),
        "expires" => ("令牌到期", "Token expires in"),
        "last_error" => ("最近错误", "Last error"),
        "actions" => ("操作", "Actions"),
        "revoke" => ("撤销授权", "Revoke"),
        "connect" => ("连接店铺", "Connect a shop"),
        "connect_vop_union" => ("连接唯品会联盟", "Connect Vipshop Union"),
        "connect_vop_jit" => ("连接唯品会JIT", "Connect Vipshop JIT"),
        "connect_winit" => ("连接万邑通", "Connect Winit"),
        "vendor_id" => ("供应商编号 vendor_id", "Vendor id"),
        "seller" => ("万邑联账号", "Winit seller account"),
        "no_shops" => ("还没有店铺。", "No shops yet."),
        "stream" => ("数据流", "Stream"),
        "last_status" => ("最近结果", "Last result"),
        "last_run" => ("最近运行", "Last run"),
        "records" => ("记录数", "Records"),
        "next_run" => ("下次运行", "Next run"),
        "running" => ("运行中", "running"),
        "sync_now" => ("立即同步", "Sync now"),
        "never" => ("从未", "never"),
        "expired" => ("已过期", "expired"),
        "active" => ("正常", "active"),
        "refreshing" => ("刷新中", "refreshing"),
        "needs_reauth" => ("需重新授权", "needs re-authorization"),
        "revoked" => ("已撤销", "revoked"),
        "pending" => ("待连接", "pending"),
        _ => ("?", "?"),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

#[derive(Debug, Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
}

/// The language: `?lang=` (remembered in a cookie), else the cookie, else the browser's.
fn lang_of(headers: &HeaderMap, query: &LangQuery) -> Lang {
    let chosen = query
        .lang
        .as_deref()
        .or_else(|| cookie(headers, LANG_COOKIE));
    match chosen {
        Some("en") => Lang::En,
        Some("zh") => Lang::Zh,
        _ => {
            let accept = headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("zh");
            if accept.trim_start().starts_with("en") {
                Lang::En
            } else {
                Lang::Zh
            }
        }
    }
}

const STYLE: &str = r#"
*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;color:#1d2330;background:#f5f6f8}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.75rem 1rem;background:#1d2330;color:#fff}
header a{color:#fff}header nav{display:flex;gap:1rem;flex-wrap:wrap}header .right{margin-left:auto;display:flex;gap:.75rem;align-items:center}
main{padding:1rem;max-width:72rem;margin:0 auto}h1{font-size:1.3rem}
.table{overflow-x:auto;background:#fff;border-radius:6px}table{border-collapse:collapse;width:100%}
th,td{padding:.5rem .6rem;border-bottom:1px solid #e4e6eb;text-align:left;vertical-align:top;overflow-wrap:anywhere}
.state-active{color:#137333}.state-needs_reauth,.state-revoked{color:#b3261e}.state-refreshing{color:#8a6d00}
form.inline{display:inline}button{padding:.35rem .8rem;border:1px solid #1d2330;background:#fff;border-radius:4px;cursor:pointer}
.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}.card{background:#fff;padding:1rem;border-radius:6px;flex:1 1 16rem}
label{display:block;margin:.4rem 0 .2rem}input{width:100%;padding:.4rem;border:1px solid #c4c7cf;border-radius:4px}
.error{color:#b3261e}
"#;

/// Counts down every `[data-expires]` element (epoch ms) once a second.
const COUNTDOWN: &str = r#"
function tick(){var now=Date.now()+(window.sbSkew||0);document.querySelectorAll('[data-expires]').forEach(function(el){
var left=Number(el.dataset.expires)-now;if(left<=0){el.textContent=el.dataset.expired;return}
var d=Math.floor(left/864e5),h=Math.floor(left%864e5/36e5),m=Math.floor(left%36e5/6e4),s=Math.floor(left%6e4/1e3);
el.textContent=(d?d+'d ':'')+h+'h '+m+'m '+s+'s'})}tick();setInterval(tick,1000);
"#;

fn page(
    lang: Lang,
    title: &str,
    session: Option<&ConsoleSession>,
    now_ms: i64,
    body: &str,
) -> Response {
    let html_lang = if lang == Lang::Zh { "zh-CN" } else { "en" };
    let nav = match session {
        Some(session) => format!(
            r#"<nav aria-label="main"><a href="/console/shops">{shops}</a><a href="/console/sync">{sync}</a></nav>
<div class="right"><a href="?lang={other}" hreflang="{other}">{other_name}</a>
<form class="inline" method="post" action="/console/logout"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">{logout}</button></form></div>"#,
            shops = t(lang, "shops"),
            sync = t(lang, "sync"),
            other = if lang == Lang::Zh { "en" } else { "zh" },
            other_name = if lang == Lang::Zh {
                "English"
            } else {
                "中文"
            },
            csrf = escape(&session.csrf),
            logout = t(lang, "logout"),
        ),
        None => format!(
            r#"<div class="right"><a href="?lang={other}">{other_name}</a></div>"#,
            other = if lang == Lang::Zh { "en" } else { "zh" },
            other_name = if lang == Lang::Zh {
                "English"
            } else {
                "中文"
            },
        ),
    };
    Html(format!(
        r#"<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} · {app}</title><style>{STYLE}</style></head><body>
<header><strong>{app}</strong>{nav}</header><main><h1>{title}</h1>{body}</main>
<script>window.sbSkew={now_ms}-Date.now();{COUNTDOWN}</script></body></html>"#,
        app = t(lang, "title"),
        title = escape(title),
    ))
    .into_response()
}

fn with_lang_cookie(mut response: Response, query: &LangQuery) -> Response {
    if let Some(lang) = query.lang.as_deref().filter(|l| matches!(*l, "zh" | "en"))
        && let Ok(value) = header::HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={lang}; Path=/console; SameSite=Lax; Max-Age=31536000"
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The signed-in session, or a redirect to the sign-in page.
async fn session(app: &HubApp, headers: &HeaderMap) -> Result<ConsoleSession, Response> {
    let now = app.clock.now_ms();
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Err(Redirect::to("/console/login").into_response());
    };
    match app.store.console_session(token, now).await {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(Redirect::to("/console/login").into_response()),
        Err(err) => Err((StatusCode::SERVICE_UNAVAILABLE, format!("store: {err}")).into_response()),
    }
}

/// The session, if the form's CSRF token is the session's.
async fn checked(
    app: &HubApp,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<ConsoleSession, Response> {
    let session = session(app, headers).await?;
    let same = session.csrf.len() == csrf.len()
        && session
            .csrf
            .bytes()
            .zip(csrf.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err((
            StatusCode::FORBIDDEN,
            "the form is stale or forged: reload the page",
        )
            .into_response());
    }
    Ok(session)
}

fn login_form(lang: Lang, error: Option<&str>, now_ms: i64) -> Response {
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"{error}<form method="post" action="/console/login" class="card" style="max-width:24rem">
<label for="app_key">{key}</label><input id="app_key" name="app_key" autocomplete="username" required>
<label for="app_secret">{secret}</label><input id="app_secret" name="app_secret" type="password" autocomplete="current-password" required>
<p><button type="submit">{login}</button></p></form>"#,
        key = t(lang, "app_key"),
        secret = t(lang, "app_secret"),
        login = t(lang, "login"),
    );
    page(lang, t(lang, "login"), None, now_ms, &body)
}

async fn login_page(
    State(app): Shared,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&headers, &query);
    with_lang_cookie(login_form(lang, None, app.clock.now_ms()), &query)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    app_key: String,
    app_secret: String,
}

async fn login(
    State(app): Shared,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = lang_of(&headers, &LangQuery::default());
    let now = app.clock.now_ms();
    let Ok(Form(form)) = form else {
        return (
            StatusCode::BAD_REQUEST,
            login_form(lang, Some(t(lang, "login_failed")), now),
        )
            .into_response();
    };
    let tenant = match app.store.tenant_by_app_key(form.app_key.trim()).await {
        Ok(Some((id, secret)))
            if secret.expose_secret().len() == form.app_secret.len()
                && secret
                    .expose_secret()
                    .bytes()
                    .zip(form.app_secret.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0 =>
        {
            id
        }
        Ok(_) => {
            return (
                StatusCode::UNAUTHORIZED,
                login_form(lang, Some(t(lang, "login_failed")), now),
            )
                .into_response();
        }
        Err(err) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("store: {err}")).into_response();
        }
    };
    let token = match app
        .store
        .create_console_session(&tenant, now, SESSION_TTL_MS)
        .await
    {
        Ok(token) => token,
        Err(err) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("store: {err}")).into_response();
        }
    };
    let secure = if app.connect.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/console; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_TTL_MS / 1000
    );
    let mut response = Redirect::to("/console/shops").into_response();
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    let _ = app
        .store
        .audit(now, Some(&tenant), None, "console_login", "")
        .await;
    response
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(app): Shared, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if let Err(response) = checked(&app, &headers, &form.csrf).await {
        return response;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let _ = app.store.end_console_session(token).await;
    }
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        header::HeaderValue::from_static(
            "sb_session=; Path=/console; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    response
}

async fn shops_page(
    State(app): Shared,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let session = match session(&app, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let lang = lang_of(&headers, &query);
    let now = app.clock.now_ms();
    let shops = match app.store.connection_summaries().await {
        Ok(all) => all
            .into_iter()
            .filter(|c| c.tenant_id == session.tenant_id)
            .collect::<Vec<_>>(),
        Err(err) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("store: {err}")).into_response();
        }
    };
    let csrf = escape(&session.csrf);
    let rows: String = shops
        .iter()
        .map(|c| {
            let expires = match c.access_expires_ms {
                Some(at) => format!(
                    r#"<span data-expires="{at}" data-expired="{}">{}</span>"#,
                    t(lang, "expired"),
                    if at <= now { t(lang, "expired").to_owned() } else { format!("{} h", (at - now) / 3_600_000) }
                ),
                None => "—".into(),
            };
            let revoke = if c.state == ConnectionState::Revoked {
                String::new()
            } else {
                format!(
                    r#"<form class="inline" method="post" action="/console/shops/{id}/revoke"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" aria-label="{label} {name}">{label}</button></form>"#,
                    id = escape(&c.id),
                    label = t(lang, "revoke"),
                    name = escape(&c.name),
                )
            };
            format!(
                r#"<tr data-shop="{id}"><td>{name}</td><td>{platform}</td><td>{mode}</td><td class="state-{state}">{state_text}</td><td>{expires}</td><td>{error}</td><td>{revoke}</td></tr>"#,
                id = escape(&c.id),
                name = escape(&c.name),
                platform = escape(&c.platform),
                mode = escape(&c.mode),
                state = c.state.as_str(),
                state_text = t(lang, c.state.as_str()),
                error = escape(c.last_error.as_deref().unwrap_or("")),
            )
        })
        .collect();
    let table = if shops.is_empty() {
        format!("<p>{}</p>", t(lang, "no_shops"))
    } else {
        format!(
            r#"<div class="table"><table><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{rows}</tbody></table></div>"#,
            t(lang, "name"),
            t(lang, "platform"),
            t(lang, "mode"),
            t(lang, "state"),
            t(lang, "expires"),
            t(lang, "last_error"),
            t(lang, "actions"),
        )
    };
    let connect = format!(
        r#"<h2>{connect}</h2><div class="cards">
<form class="card" method="post" action="/console/shops/connect"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="platform" value="vop"><input type="hidden" name="mode" value="union_tool">
<label for="n1">{name}</label><input id="n1" name="name" required><p><button type="submit">{union}</button></p></form>
<form class="card" method="post" action="/console/shops/connect"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="platform" value="vop"><input type="hidden" name="mode" value="jit">
<label for="n2">{name}</label><input id="n2" name="name" required><label for="v2">{vendor}</label><input id="v2" name="vendor_id" inputmode="numeric" required><p><button type="submit">{jit}</button></p></form>
<form class="card" method="post" action="/console/shops/connect"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="platform" value="winit">
<label for="n3">{name}</label><input id="n3" name="name" required><label for="s3">{seller}</label><input id="s3" name="seller" required><p><button type="submit">{winit}</button></p></form></div>"#,
        connect = t(lang, "connect"),
        name = t(lang, "name"),
        union = t(lang, "connect_vop_union"),
        vendor = t(lang, "vendor_id"),
        jit = t(lang, "connect_vop_jit"),
        seller = t(lang, "seller"),
        winit = t(lang, "connect_winit"),
    );
    with_lang_cookie(
        page(
            lang,
            t(lang, "shops"),
            Some(&session),
            now,
            &format!("{table}{connect}"),
        ),
        &query,
    )
}

#[derive(Debug, Deserialize)]
struct ConnectForm {
    csrf: String,
    platform: String,
    mode: Option<String>,
    name: String,
    vendor_id: Option<String>,
    seller: Option<String>,
}

async fn connect(
    State(app): Shared,
    headers: HeaderMap,
    Form(form): Form<ConnectForm>,
) -> Response {
    let session = match checked(&app, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let request = crate::connect::BeginConnect {
        tenant_id: session.tenant_id,
        platform: form.platform,
        mode: form.mode,
        name: form.name,
        seller: form.seller.filter(|s| !s.trim().is_empty()),
        vendor_id: form.vendor_id.filter(|v| !v.trim().is_empty()),
        native: false,
        return_to: None,
    };
    match crate::connect::begin(&app.connect, request).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(message) => (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<p class=\"error\">{}</p><p><a href=\"/console/shops\">←</a></p>",
                escape(&message)
            )),
        )
            .into_response(),
    }
}

async fn revoke(
    State(app): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match checked(&app, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    match app.store.connection(&id).await {
        Ok(shop) if shop.tenant_id == session.tenant_id => {
            if shop.platform == "vop"
                && let Ok(tokens) =
                    serde_json::from_str::<crate::VopTokens>(shop.credentials.expose_secret())
                && let Err(err) = app
                    .platforms
                    .vop
                    .revoke_token(&secrecy::SecretString::from(tokens.access_token))
                    .await
            {
                tracing::warn!(shop = %id, error = %err, "the platform did not confirm the revocation");
            }
            let now = app.clock.now_ms();
            let _ = app
                .store
                .set_state(
                    &id,
                    ConnectionState::Revoked,
                    Some("revoked in the console"),
                    now,
                )
                .await;
            let _ = app
                .store
                .audit(now, Some(&shop.tenant_id), Some(&id), "revoke", "console")
                .await;
            Redirect::to("/console/shops").into_response()
        }
        _ => (StatusCode::NOT_FOUND, "no such shop").into_response(),
    }
}

fn time_text(ms: Option<i64>, lang: Lang) -> String {
    ms.map(shopbridge_vop::time::format_datetime_ms)
        .unwrap_or_else(|| t(lang, "never").to_owned())
}

async fn sync_page(
    State(app): Shared,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let session = match session(&app, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let lang = lang_of(&headers, &query);
    let now = app.clock.now_ms();
    let (shops, schedules) = match (
        app.store.connection_summaries().await,
        app.store.schedules().await,
    ) {
        (Ok(shops), Ok(schedules)) => (shops, schedules),
        (Err(err), _) | (_, Err(err)) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("store: {err}")).into_response();
        }
    };
    let mut rows = String::new();
    for shop in shops.iter().filter(|c| c.tenant_id == session.tenant_id) {
        let runs = app.store.sync_runs(&shop.id, 50).await.unwrap_or_default();
        for schedule in schedules.iter().filter(|s| s.connection_id == shop.id) {
            let last = runs.iter().find(|r| r.stream == schedule.stream);
            let status = if schedule.lease_until_ms.is_some_and(|until| until > now) {
                format!(r#"<span role="status">{}</span>"#, t(lang, "running"))
            } else {
                escape(schedule.last_status.as_deref().unwrap_or(t(lang, "never")))
            };
            rows.push_str(&format!(
                r#"<tr data-stream="{stream}"><td>{shop}</td><td>{stream}</td><td>{status}</td><td>{last_run}</td><td>{records}</td><td>{next}</td></tr>"#,
                shop = escape(&shop.name),
                stream = escape(&schedule.stream),
                last_run = time_text(schedule.last_finished_ms, lang),
                records = last.map(|r| r.records.to_string()).unwrap_or_default(),
                next = shopbridge_vop::time::format_datetime_ms(schedule.next_run_ms),
            ));
        }
    }
    let body = format!(
        r#"<form method="post" action="/console/sync/now"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">{now_label}</button></form>
<div class="table"><table><thead><tr><th scope="col">{shop}</th><th scope="col">{stream}</th><th scope="col">{status}</th><th scope="col">{last}</th><th scope="col">{records}</th><th scope="col">{next}</th></tr></thead><tbody>{rows}</tbody></table></div>"#,
        csrf = escape(&session.csrf),
        now_label = t(lang, "sync_now"),
        shop = t(lang, "shops"),
        stream = t(lang, "stream"),
        status = t(lang, "last_status"),
        last = t(lang, "last_run"),
        records = t(lang, "records"),
        next = t(lang, "next_run"),
    );
    with_lang_cookie(
        page(lang, t(lang, "sync"), Some(&session), now, &body),
        &query,
    )
}

/// Makes every stream of the tenant's shops due and starts a pass in the background; the page
/// shows them running.
async fn sync_now(State(app): Shared, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let session = match checked(&app, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let now = app.clock.now_ms();
    let _ = app.scheduler.plan().await;
    let mine: Vec<String> = app
        .store
        .connection_summaries()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.tenant_id == session.tenant_id)
        .map(|c| c.id)
        .collect();
    for schedule in app.store.schedules().await.unwrap_or_default() {
        if mine.contains(&schedule.connection_id) {
            let _ = app
                .store
                .run_now(&schedule.connection_id, &schedule.stream, now)
                .await;
        }
    }
    let scheduler = app.scheduler.clone();
    tokio::spawn(async move {
        if let Err(err) = scheduler.run_until_idle().await {
            tracing::warn!(error = %err, "console sync pass failed");
        }
    });
    Redirect::to("/console/sync").into_response()
}
