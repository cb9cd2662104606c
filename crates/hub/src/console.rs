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
use shopbridge_core::ShopKind;
use shopbridge_store::{Capped, ConnectionState, ConsoleSession, Cursor, Seek};

use crate::service::{self, HubError};
use crate::state::HubApp;

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
        .route("/console/shops/{id}/delete", post(delete_shop))
        .route("/console/shops/{id}/reauthorize", post(reauthorize))
        .route("/console/sync", get(sync_page))
        .route("/console/orders", get(orders_page))
        .route("/console/orders/{shop}/{number}", get(order_page))
        .route("/console/earnings", get(earnings_page))
        .route("/console/links", get(links_page).post(links_page_post))
        .route("/console/activity", get(activity_page))
        .route(
            "/console/webhooks/{hook}/deliveries/{delivery}/redeliver",
            post(redeliver),
        )
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
        "delete" => ("删除", "Delete"),
        "confirm_revoke" => (
            "撤销后平台上的授权也会失效，该店铺的同步停止。确定撤销？",
            "This ends the grant at the platform too and stops the shop's sync. Revoke?",
        ),
        "confirm_delete" => (
            "删除该店铺及其全部已同步数据（订单、退款、商品、历史），不可恢复。确定删除？",
            "This deletes the shop and all its synced data (orders, refunds, products, history) for good. Delete?",
        ),
        "reauthorize" => ("重新授权", "Re-authorize"),
        "connect" => ("连接店铺", "Connect a shop"),
        "no_shops" => ("还没有店铺。", "No shops yet."),
        "reauth_prompt" => (
            "个店铺的授权已失效，同步已暂停：点击“重新授权”，在平台登录后即恢复。",
            " shop(s) lost their authorization and stopped syncing: use Re-authorize and log in on the platform to resume.",
        ),
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
        "orders" => ("订单", "Orders"),
        "earnings" => ("收益", "Earnings"),
        "order_no" => ("订单号", "Order"),
        "status" => ("状态", "Status"),
        "updated" => ("更新时间", "Updated"),
        "amount" => ("金额/佣金", "Amount / commission"),
        "search" => ("订单号（开头）", "Order number (start)"),
        "newest" => ("最新", "Newest"),
        "oldest" => ("最早", "Oldest"),
        "newer" => ("较新", "Newer"),
        "older" => ("较早", "Older"),
        "matching" => ("笔订单", "orders"),
        "more_than" => ("超过", "more than"),
        "go" => ("查询", "Go"),
        "versions" => ("历史版本", "Versions"),
        "days" => ("天数", "Days"),
        "pid" => ("推广位 PID", "PID"),
        "settled" => ("已结算佣金", "Settled commission"),
        "deducted" => ("维权扣除", "Deducted"),
        "net" => ("净收益", "Net"),
        "shop" => ("店铺", "Shop"),
        "prev" => ("上一页", "Previous"),
        "next" => ("下一页", "Next"),
        "no_orders" => ("没有订单。", "No orders."),
        "links" => ("链接工具", "Links"),
        "text" => ("粘贴文字或链接", "Paste text or a link"),
        "chan_tag" => ("渠道标识 chanTag (PID)", "chanTag (PID)"),
        "stat_param" => ("自定义统计参数 statParam", "statParam"),
        "analyse" => ("识别并生成", "Detect and generate"),
        "detected" => ("识别到的商品", "Goods found"),
        "spliced" => ("离线拼接的链接", "Spliced offline"),
        "generated" => ("生成的推广链接", "Generated links"),
        "copy" => ("复制", "Copy"),
        "activity" => ("活动", "Activity"),
        "audit" => ("审计日志", "Audit log"),
        "deliveries" => ("Webhook 投递", "Webhook deliveries"),
        "redeliver" => ("重新投递", "Redeliver"),
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
.table{overflow-x:auto;background:#fff;border-radius:6px}table{border-collapse:collapse;width:100%;min-width:44rem}
th,td{padding:.5rem .6rem;border-bottom:1px solid #e4e6eb;text-align:left;vertical-align:top}
th{white-space:nowrap}td{overflow-wrap:break-word;max-width:24rem}td:first-child{min-width:9rem}button{white-space:nowrap}
.state-active{color:#137333}.state-needs_reauth,.state-revoked{color:#b3261e}.state-refreshing{color:#8a6d00}
form.inline{display:inline}td.actions{white-space:nowrap}button{padding:.35rem .8rem;border:1px solid #1d2330;background:#fff;border-radius:4px;cursor:pointer}
.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}.card{background:#fff;padding:1rem;border-radius:6px;flex:1 1 16rem}
label{display:block;margin:.4rem 0 .2rem}input{width:100%;padding:.4rem;border:1px solid #c4c7cf;border-radius:4px}
.error{color:#b3261e}
"#;

/// Counts down every `[data-expires]` element (epoch ms) once a second.
const COUNTDOWN: &str = r#"
document.addEventListener('submit',function(e){var m=e.target.dataset.confirm;if(m&&!confirm(m))e.preventDefault()});
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
            r#"<nav aria-label="main"><a href="/console/shops">{shops}</a><a href="/console/sync">{sync}</a><a href="/console/orders">{orders}</a><a href="/console/earnings">{earnings}</a><a href="/console/links">{links}</a><a href="/console/activity">{activity}</a></nav>
<div class="right"><a href="?lang={other}" hreflang="{other}">{other_name}</a>
<form class="inline" method="post" action="/console/logout"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">{logout}</button></form></div>"#,
            shops = t(lang, "shops"),
            sync = t(lang, "sync"),
            orders = t(lang, "orders"),
            earnings = t(lang, "earnings"),
            links = t(lang, "links"),
            activity = t(lang, "activity"),
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
        Err(err) => Err(crate::problem::store_failure(err)),
    }
}

/// A page's signed-in session; without one, the answer is a redirect to the sign-in page.
struct SignedIn(ConsoleSession);

impl axum::extract::FromRequestParts<Arc<HubApp>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &Arc<HubApp>,
    ) -> Result<Self, Response> {
        session(app, &parts.headers).await.map(SignedIn)
    }
}

/// The session, if the form's CSRF token is the session's.
async fn checked(
    app: &HubApp,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<ConsoleSession, Response> {
    let session = session(app, headers).await?;
    if !crate::state::constant_time_eq(session.csrf.as_bytes(), csrf.as_bytes()) {
        return Err((
            StatusCode::FORBIDDEN,
            "the form is stale or forged: reload the page",
        )
            .into_response());
    }
    Ok(session)
}

fn login_form(lang: Lang, error: Option<&str>, now_ms: i64, login_token: &str) -> Response {
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"{error}<form method="post" action="/console/login" class="card" style="max-width:24rem">
<input type="hidden" name="login_csrf" value="{token}">
<label for="app_key">{key}</label><input id="app_key" name="app_key" autocomplete="username" required>
<label for="app_secret">{secret}</label><input id="app_secret" name="app_secret" type="password" autocomplete="current-password" required>
<p><button type="submit">{login}</button></p></form>"#,
        token = escape(login_token),
        key = t(lang, "app_key"),
        secret = t(lang, "app_secret"),
        login = t(lang, "login"),
    );
    page(lang, t(lang, "login"), None, now_ms, &body)
}

/// The sign-in form's own cookie: a random token the form must send back, so that a page on
/// another site cannot sign a visitor's browser into the attacker's tenant (login CSRF).
const LOGIN_COOKIE: &str = "sb_login";

async fn login_page(
    State(app): Shared,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&headers, &query);
    let token = uuid::Uuid::new_v4().simple().to_string();
    let mut response = login_form(lang, None, app.clock.now_ms(), &token);
    if let Ok(value) = header::HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; Path=/console/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        secure_attribute(&app)
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    with_lang_cookie(response, &query)
}

fn secure_attribute(app: &HubApp) -> &'static str {
    if app.connect.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
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
    let public = url::Url::parse(&app.connect.public_url)
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
struct LoginForm {
    app_key: String,
    app_secret: String,
    #[serde(default)]
    login_csrf: String,
}

async fn login(
    State(app): Shared,
    headers: HeaderMap,
    crate::state::ClientAddr(client): crate::state::ClientAddr,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = lang_of(&headers, &LangQuery::default());
    let now = app.clock.now_ms();
    let login_token = cookie(&headers, LOGIN_COOKIE)
        .unwrap_or_default()
        .to_owned();
    let Ok(Form(form)) = form else {
        return (
            StatusCode::BAD_REQUEST,
            login_form(lang, Some(t(lang, "login_failed")), now, &login_token),
        )
            .into_response();
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
    if let Err(wait) = app.connect.guesses.check(&keys) {
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
            app.connect.guesses.failed(&keys);
            return (
                StatusCode::UNAUTHORIZED,
                login_form(lang, Some(t(lang, "login_failed")), now, &login_token),
            )
                .into_response();
        }
        Err(err) => {
            return crate::problem::store_failure(err);
        }
    };
    let token = match app
        .store
        .create_console_session(&tenant, now, SESSION_TTL_MS)
        .await
    {
        Ok(token) => token,
        Err(err) => {
            return crate::problem::store_failure(err);
        }
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/console; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_TTL_MS / 1000,
        secure_attribute(&app)
    );
    let mut response = Redirect::to("/console/shops").into_response();
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    // The sign-in form's token is spent.
    response.headers_mut().append(
        header::SET_COOKIE,
        header::HeaderValue::from_static(
            "sb_login=; Path=/console/login; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
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
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&headers, &query);
    let now = app.clock.now_ms();
    let shops = match app.store.tenant_connections(&session.tenant_id).await {
        Ok(shops) => shops,
        Err(err) => {
            return crate::problem::store_failure(err);
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
            let has_flow = app.platforms.has_authorization_flow(c.kind);
            let action = |path: &str, label: &str, confirm: Option<&str>| {
                let confirm = confirm
                    .map(|text| format!(r#" data-confirm="{}""#, escape(text)))
                    .unwrap_or_default();
                format!(
                    r#"<form class="inline" method="post" action="/console/shops/{id}/{path}"{confirm}><input type="hidden" name="csrf" value="{csrf}"><button type="submit" aria-label="{label} {name}">{label}</button></form>"#,
                    id = escape(&c.id),
                    name = escape(&c.name),
                )
            };
            let revoke_action = action("revoke", t(lang, "revoke"), Some(t(lang, "confirm_revoke")));
            let delete_action = action("delete", t(lang, "delete"), Some(t(lang, "confirm_delete")));
            let reauthorize_action = action("reauthorize", t(lang, "reauthorize"), None);
            // A shop still authorized can be revoked; one that is not can be deleted.
            let revoke = match c.state {
                ConnectionState::Active | ConnectionState::Refreshing if has_flow => {
                    format!("{reauthorize_action} {revoke_action}")
                }
                ConnectionState::Active | ConnectionState::Refreshing => revoke_action,
                _ if has_flow => format!("{reauthorize_action} {delete_action}"),
                _ => delete_action,
            };
            format!(
                r#"<tr data-shop="{id}"><td>{name}</td><td>{platform}</td><td>{mode}</td><td class="state-{state}">{state_text}</td><td>{expires}</td><td>{error}</td><td class="actions">{revoke}</td></tr>"#,
                id = escape(&c.id),
                name = escape(&c.name),
                platform = c.kind.platform().as_str(),
                mode = c.kind.mode(),
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
    // The re-authorization prompt: sync of these shops waits for a person.
    let lapsed = shops
        .iter()
        .filter(|c| c.state == ConnectionState::NeedsReauth)
        .count();
    let prompt = if lapsed == 0 {
        String::new()
    } else {
        format!(
            r#"<p class="error" role="alert" data-reauth="{lapsed}">{lapsed}{}</p>"#,
            t(lang, "reauth_prompt")
        )
    };
    // One form per kind of shop people connect through its platform's page, as each
    // platform's adapter describes it.
    let forms: String = app
        .platforms
        .connect_forms()
        .iter()
        .enumerate()
        .map(|(i, form)| {
            let fields: String = form
                .fields
                .iter()
                .map(|field| {
                    format!(
                        r#"<label for="f{i}-{name}">{label}</label><input id="f{i}-{name}" name="{name}"{numeric} required>"#,
                        name = field.name,
                        label = escape(field.label.get(lang == Lang::En)),
                        numeric = if field.numeric { r#" inputmode="numeric""# } else { "" },
                    )
                })
                .collect();
            format!(
                r#"<form class="card" method="post" action="/console/shops/connect"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="platform" value="{platform}"><input type="hidden" name="mode" value="{mode}">
<label for="f{i}-name">{name}</label><input id="f{i}-name" name="name" required>{fields}<p><button type="submit">{action}</button></p></form>"#,
                platform = form.kind.platform().as_str(),
                mode = form.kind.mode(),
                name = t(lang, "name"),
                action = escape(form.action.get(lang == Lang::En)),
            )
        })
        .collect();
    let connect = format!(
        r#"<h2>{connect}</h2><div class="cards">{forms}</div>"#,
        connect = t(lang, "connect"),
    );
    with_lang_cookie(
        page(
            lang,
            t(lang, "shops"),
            Some(&session),
            now,
            &format!("{prompt}{table}{connect}"),
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
        reauthorize: None,
    };
    match service::shops::begin_connect(&app, request).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(err) => failed(err),
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
    match service::shops::revoke(
        &app,
        &session.tenant_id,
        &id,
        "console",
        "revoked in the console",
    )
    .await
    {
        Ok(_) => Redirect::to("/console/shops").into_response(),
        Err(err) => failed(err),
    }
}

/// Deletes a shop that is no longer authorized, with its data.
async fn delete_shop(
    State(app): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match checked(&app, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    match service::shops::delete(&app, &session.tenant_id, &id, "console").await {
        Ok(_) => Redirect::to("/console/shops").into_response(),
        Err(err) => failed(err),
    }
}

/// Sends a finished webhook delivery again, then back to the activity page.
async fn redeliver(
    State(app): Shared,
    headers: HeaderMap,
    Path((hook, delivery)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match checked(&app, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Ok(delivery) = delivery.parse::<i64>() else {
        return (StatusCode::NOT_FOUND, "no such delivery").into_response();
    };
    match service::webhooks::redeliver(&app, &session.tenant_id, &hook, delivery).await {
        Ok(shopbridge_store::Redelivery::NotFound) => {
            (StatusCode::NOT_FOUND, "no such delivery").into_response()
        }
        // Queued, or still pending (it is sent by itself): the page shows which.
        Ok(_) => Redirect::to("/console/activity").into_response(),
        Err(err) => failed(err),
    }
}

/// Sends the person to the platform to authorize the shop again.
async fn reauthorize(
    State(app): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match checked(&app, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    match service::shops::reauthorize(&app, &session.tenant_id, &id, None).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(err) => failed(err),
    }
}

/// What a page says of an operation that did not happen; the store's own error text is never
/// shown.
fn said(err: &HubError) -> String {
    match err {
        HubError::Store(err) if err.is_busy() => {
            "the hub's store is busy (every database connection is taken); retry in a second".into()
        }
        HubError::Store(_) => "the hub's store failed; retry later".into(),
        other => other.to_string(),
    }
}

/// An operation that did not happen: the store's own answer when it is busy or failed, else
/// why, with the way back to the shops page.
fn failed(err: HubError) -> Response {
    match err {
        HubError::Store(err) => crate::problem::store_failure(err),
        err => back_to_shops(crate::problem::hub_status(&err), &err.to_string()),
    }
}

/// Why a flow could not start, with the way back to the shops page.
fn back_to_shops(status: StatusCode, message: &str) -> Response {
    (
        status,
        Html(format!(
            "<p class=\"error\">{}</p><p><a href=\"/console/shops\">←</a></p>",
            escape(message)
        )),
    )
        .into_response()
}

fn time_text(ms: Option<i64>, lang: Lang) -> String {
    ms.map(shopbridge_vop::time::format_datetime_ms)
        .unwrap_or_else(|| t(lang, "never").to_owned())
}

async fn sync_page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&headers, &query);
    let now = app.clock.now_ms();
    let (shops, schedules) = match (
        app.store.tenant_connections(&session.tenant_id).await,
        app.store.tenant_schedules(&session.tenant_id).await,
    ) {
        (Ok(shops), Ok(schedules)) => (shops, schedules),
        (Err(err), _) | (_, Err(err)) => {
            return crate::problem::store_failure(err);
        }
    };
    let mut rows = String::new();
    for shop in &shops {
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
    // While a run is live the page looks again every two seconds.
    let live = if rows.contains(r#"role="status""#) {
        "<script>setTimeout(function(){location.reload()},2000)</script>"
    } else {
        ""
    };
    let body = format!(
        r#"{live}<form method="post" action="/console/sync/now"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">{now_label}</button></form>
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
    // The same run as `POST /v1/sync/run`: made due here, run in the background while the
    // page shows it running.
    if let Err(err) = service::sync::make_due(&app, &session.tenant_id).await {
        return failed(err);
    }
    let tenant = session.tenant_id.clone();
    tokio::spawn(async move {
        if let Err(err) = service::sync::run_due(&app, &tenant).await {
            tracing::warn!(error = %err, "console sync pass failed");
        }
    });
    Redirect::to("/console/sync").into_response()
}

#[derive(Debug, Deserialize, Default)]
struct OrdersQuery {
    lang: Option<String>,
    shop: Option<String>,
    q: Option<String>,
    /// A page older than this cursor (`<updated_ms>:<number>`).
    older: Option<String>,
    /// A page newer than this cursor.
    newer: Option<String>,
    /// `1`: the oldest page.
    oldest: Option<u8>,
    days: Option<i64>,
}

impl OrdersQuery {
    fn lang(&self) -> LangQuery {
        LangQuery {
            lang: self.lang.clone(),
        }
    }
}

/// One row of the orders table.
struct OrderRow {
    number: String,
    status: String,
    updated_ms: i64,
    amount: String,
}

/// The tenant's shops a page shows (`shown`), and the one chosen (the first by default).
async fn chosen_shop(
    app: &HubApp,
    session: &ConsoleSession,
    wanted: Option<&str>,
    shown: impl Fn(ShopKind) -> bool,
) -> Result<
    (
        Vec<shopbridge_store::ConnectionSummary>,
        Option<shopbridge_store::ConnectionSummary>,
    ),
    Response,
> {
    let shops: Vec<_> = app
        .store
        .tenant_connections(&session.tenant_id)
        .await
        .map_err(crate::problem::store_failure)?
        .into_iter()
        .filter(|c| shown(c.kind))
        .collect();
    let chosen = match wanted {
        Some(id) => shops.iter().find(|c| c.id == id).cloned(),
        None => shops.first().cloned(),
    };
    Ok((shops, chosen))
}

fn shop_picker(
    lang: Lang,
    path: &str,
    shops: &[shopbridge_store::ConnectionSummary],
    chosen: Option<&str>,
    extra: &str,
) -> String {
    let options: String = shops
        .iter()
        .map(|c| {
            format!(
                r#"<option value="{id}"{selected}>{name} ({mode})</option>"#,
                id = escape(&c.id),
                selected = if Some(c.id.as_str()) == chosen {
                    " selected"
                } else {
                    ""
                },
                name = escape(&c.name),
                mode = c.kind.mode(),
            )
        })
        .collect();
    format!(
        r#"<form method="get" action="{path}" class="card"><label for="shop">{label}</label><select id="shop" name="shop">{options}</select>{extra}<p><button type="submit">{go}</button></p></form>"#,
        label = t(lang, "shop"),
        go = t(lang, "go"),
    )
}

/// One page of a shop's orders, newest change first, by index.
async fn order_rows(
    app: &HubApp,
    shop: &shopbridge_store::ConnectionSummary,
    prefix: Option<&str>,
    seek: &Seek,
) -> Result<(Vec<OrderRow>, Capped), shopbridge_store::StoreError> {
    if let Some(stream) = app.platforms.order_stream(shop.kind) {
        let page = app
            .store
            .browse_records(
                &shop.id,
                stream,
                prefix,
                seek,
                ORDERS_PER_PAGE,
                ORDER_COUNT_CAP,
            )
            .await?;
        let rows = page
            .rows
            .iter()
            .map(|r| OrderRow {
                number: r.record.id.clone(),
                status: r
                    .record
                    .columns
                    .status
                    .as_deref()
                    .and_then(shopbridge_core::codes::OrderStatus::from_code)
                    .map(|status| format!("{} {}", status.code(), status.description()))
                    .unwrap_or_default(),
                updated_ms: r.record.updated_ms,
                amount: format!("¥{}", r.record.columns.amount.as_deref().unwrap_or("0")),
            })
            .collect();
        return Ok((rows, page.matching));
    }
    let page = app
        .store
        .browse_union_orders(&shop.id, prefix, seek, ORDERS_PER_PAGE, ORDER_COUNT_CAP)
        .await?;
    let rows = page
        .rows
        .iter()
        .map(|(cursor, payload)| {
            let order: serde_json::Value =
                serde_json::from_str(payload).unwrap_or(serde_json::Value::Null);
            OrderRow {
                number: cursor.id.clone(),
                status: order["orderSubStatusName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                updated_ms: cursor.updated_ms,
                amount: format!("¥{}", order["commission"].as_str().unwrap_or("0")),
            }
        })
        .collect();
    Ok((rows, page.matching))
}

const ORDERS_PER_PAGE: i64 = 50;
/// Counting stops here: the count of a huge shop's orders is not worth a scan.
const ORDER_COUNT_CAP: i64 = 10_000;

async fn orders_page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Query(query): Query<OrdersQuery>,
) -> Response {
    let lang = lang_of(&headers, &query.lang());
    let now = app.clock.now_ms();
    let (shops, chosen) = match chosen_shop(&app, &session, query.shop.as_deref(), |kind| {
        kind.is_union() || app.platforms.order_stream(kind).is_some()
    })
    .await
    {
        Ok(found) => found,
        Err(response) => return response,
    };
    let search = query.q.clone().unwrap_or_default();
    let search = search.trim();
    let picker = shop_picker(
        lang,
        "/console/orders",
        &shops,
        chosen.as_ref().map(|c| c.id.as_str()),
        &format!(
            r#"<label for="q">{}</label><input id="q" name="q" type="search" value="{}">"#,
            t(lang, "search"),
            escape(search)
        ),
    );
    let Some(shop) = chosen else {
        return page(
            lang,
            t(lang, "orders"),
            Some(&session),
            now,
            &format!("{picker}<p>{}</p>", t(lang, "no_orders")),
        );
    };
    let cursor = |field: &str, text: &Option<String>| match text {
        None => Ok(None),
        Some(text) => Cursor::decode(text).map(Some).ok_or_else(|| {
            format!("{field}: expected a cursor from this page's links, got {text:?}")
        }),
    };
    let seek = match (cursor("older", &query.older), cursor("newer", &query.newer)) {
        (Err(message), _) | (_, Err(message)) => {
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
        (Ok(Some(older)), _) => Seek::Older(older),
        (_, Ok(Some(newer))) => Seek::Newer(newer),
        _ if query.oldest == Some(1) => Seek::Oldest,
        _ => Seek::Newest,
    };
    let prefix = (!search.is_empty()).then_some(search);
    let (rows, matching) = match order_rows(&app, &shop, prefix, &seek).await {
        Ok(found) => found,
        Err(err) => {
            return crate::problem::store_failure(err);
        }
    };
    let body_rows: String = rows
        .iter()
        .map(|r| {
            format!(
                r#"<tr><td><a href="/console/orders/{shop}/{number}">{number}</a></td><td>{status}</td><td>{updated}</td><td>{amount}</td></tr>"#,
                shop = escape(&shop.id),
                number = escape(&r.number),
                status = escape(&r.status),
                updated = shopbridge_vop::time::format_datetime_ms(r.updated_ms),
                amount = escape(&r.amount),
            )
        })
        .collect();
    // Every value in a link is URL-encoded (ids and searches may hold `&`, `#`, `+`), then the
    // whole link is HTML-escaped.
    let link = |extra: &[(&str, &str)], label: &str| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("shop", &shop.id).append_pair("q", search);
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        format!(
            r#"<a href="/console/orders?{}">{label}</a>"#,
            escape(&query.finish())
        )
    };
    let cursor_of = |row: &OrderRow| {
        Cursor {
            updated_ms: row.updated_ms,
            id: row.number.clone(),
        }
        .encode()
    };
    // Keyset paging: each link names the row it continues from, so the last page costs what the
    // first does.
    let full = rows.len() as i64 == ORDERS_PER_PAGE;
    let at_newest = matches!(seek, Seek::Newest) || (matches!(seek, Seek::Newer(_)) && !full);
    let at_oldest =
        matches!(seek, Seek::Oldest) || (matches!(seek, Seek::Older(_) | Seek::Newest) && !full);
    let mut pager = Vec::new();
    match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => {
            if !at_newest {
                pager.push(link(&[], t(lang, "newest")));
                pager.push(link(&[("newer", &cursor_of(first))], t(lang, "newer")));
            }
            if !at_oldest {
                pager.push(link(&[("older", &cursor_of(last))], t(lang, "older")));
                pager.push(link(&[("oldest", "1")], t(lang, "oldest")));
            }
        }
        // An empty page past either end still leads back.
        _ if !matches!(seek, Seek::Newest) => pager.push(link(&[], t(lang, "newest"))),
        _ => {}
    }
    let count = match matching {
        Capped::Exactly(n) => format!("{n} {}", t(lang, "matching")),
        Capped::MoreThan(n) => format!("{} {n} {}", t(lang, "more_than"), t(lang, "matching")),
    };
    let body = format!(
        r#"{picker}<p>{count}</p><div class="table"><table><thead><tr><th scope="col">{no}</th><th scope="col">{status}</th><th scope="col">{updated}</th><th scope="col">{amount}</th></tr></thead><tbody>{body_rows}</tbody></table></div><nav aria-label="pages">{pager}</nav>"#,
        no = t(lang, "order_no"),
        status = t(lang, "status"),
        updated = t(lang, "updated"),
        amount = t(lang, "amount"),
        pager = pager.join(" · "),
    );
    with_lang_cookie(
        page(lang, t(lang, "orders"), Some(&session), now, &body),
        &query.lang(),
    )
}

async fn order_page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Path((shop_id, number)): Path<(String, String)>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&headers, &query);
    let now = app.clock.now_ms();
    let shop = match app.store.connection(&shop_id).await {
        Ok(shop) if shop.tenant_id == session.tenant_id => shop,
        _ => return (StatusCode::NOT_FOUND, "no such shop").into_response(),
    };
    let (payload, versions) = if let Some(stream) = app.platforms.order_stream(shop.kind) {
        match app.store.synced_record(&shop.id, stream, &number).await {
            Ok(Some(record)) => {
                let history = app
                    .store
                    .synced_record_versions(&shop.id, stream, &number)
                    .await
                    .unwrap_or_default();
                let lines: Vec<String> = history
                    .iter()
                    .map(|(updated, _, payload)| {
                        let status = serde_json::from_str::<serde_json::Value>(payload)
                            .ok()
                            .and_then(|v| v["status"].as_str().map(str::to_owned))
                            .unwrap_or_default();
                        format!(
                            "{}  {status}",
                            shopbridge_vop::time::format_datetime_ms(*updated)
                        )
                    })
                    .collect();
                (record.record.payload, lines)
            }
            Ok(None) => return (StatusCode::NOT_FOUND, "no such order").into_response(),
            Err(err) => return crate::problem::store_failure(err),
        }
    } else {
        let versions = app
            .store
            .union_order_versions(&shop.id, &number)
            .await
            .unwrap_or_default();
        let payload = match app.store.union_order(&shop.id, &number).await {
            Ok(Some((_, payload))) => payload,
            Ok(None) => return (StatusCode::NOT_FOUND, "no such order").into_response(),
            Err(err) => return crate::problem::store_failure(err),
        };
        let lines = versions
            .iter()
            .map(|(at, status, commission)| {
                format!(
                    "{}  {}  ¥{}",
                    shopbridge_vop::time::format_datetime_ms(*at),
                    status.as_deref().unwrap_or(""),
                    commission.as_deref().unwrap_or("0")
                )
            })
            .collect();
        (payload, lines)
    };
    let pretty = serde_json::from_str::<serde_json::Value>(&payload)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(payload);
    let versions: String = versions
        .iter()
        .map(|v| format!("<li>{}</li>", escape(v)))
        .collect();
    let body = format!(
        r#"<h2>{title}</h2><ol>{versions}</ol><pre style="white-space:pre-wrap;background:#fff;padding:1rem;border-radius:6px">{json}</pre>"#,
        title = t(lang, "versions"),
        json = escape(&pretty),
    );
    page(lang, &number, Some(&session), now, &body)
}

async fn earnings_page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Query(query): Query<OrdersQuery>,
) -> Response {
    let lang = lang_of(&headers, &query.lang());
    let now = app.clock.now_ms();
    let days = query.days.unwrap_or(30).clamp(1, 366);
    let (shops, chosen) =
        match chosen_shop(&app, &session, query.shop.as_deref(), ShopKind::is_union).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let picker = shop_picker(
        lang,
        "/console/earnings",
        &shops,
        chosen.as_ref().map(|c| c.id.as_str()),
        &format!(
            r#"<label for="days">{}</label><input id="days" name="days" type="number" min="1" max="366" value="{days}">"#,
            t(lang, "days")
        ),
    );
    let Some(shop) = chosen else {
        return page(lang, t(lang, "earnings"), Some(&session), now, &picker);
    };
    let from = now - days * 86_400_000;
    let report = match service::union::earnings(
        &app,
        &session.tenant_id,
        &shop.id,
        from,
        now,
        shopbridge_vop::union::earnings::GroupBy::ChanTag,
    )
    .await
    {
        Ok(report) => report,
        Err(err) => return failed(err),
    };
    let values: Vec<(String, f64)> = report
        .days
        .iter()
        .map(|d| {
            let net = d.total.net.to_string().parse::<f64>().unwrap_or(0.0);
            (d.day.clone(), net)
        })
        .collect();
    let max = values.iter().map(|(_, v)| v.abs()).fold(1.0_f64, f64::max);
    let width = 12.0;
    let bars: String = values
        .iter()
        .enumerate()
        .map(|(i, (day, net))| {
            let height = (net.abs() / max * 120.0).max(if *net == 0.0 { 0.0 } else { 1.0 });
            let y = if *net >= 0.0 { 130.0 - height } else { 130.0 };
            let colour = if *net >= 0.0 { "#137333" } else { "#b3261e" };
            format!(
                r#"<rect x="{x}" y="{y:.1}" width="{w}" height="{height:.1}" fill="{colour}"><title>{day}: ¥{net:.2}</title></rect>"#,
                x = i as f64 * width + 1.0,
                w = width - 2.0,
                day = escape(day),
            )
        })
        .collect();
    let chart = format!(
        r##"<figure class="card"><svg role="img" aria-label="{label}" viewBox="0 0 {w} 260" preserveAspectRatio="none" style="width:100%;height:12rem"><line x1="0" y1="130" x2="{w}" y2="130" stroke="#c4c7cf"/>{bars}</svg><figcaption>{label}</figcaption></figure>"##,
        label = format!("{} · {} {}", t(lang, "net"), days, t(lang, "days")),
        w = values.len() as f64 * width,
    );
    let rows: String = report
        .period
        .rows
        .iter()
        .map(|r| {
            format!(
                r#"<tr data-pid="{key}"><td>{key}</td><td>{orders}</td><td>¥{settled}</td><td>¥{deducted}</td><td>¥{net}</td></tr>"#,
                key = escape(&r.key),
                orders = r.settled_orders,
                settled = r.settled_commission,
                deducted = r.refund_deduction,
                net = r.net,
            )
        })
        .collect();
    let total = &report.period.total;
    let body = format!(
        r#"{picker}{chart}<div class="table"><table><thead><tr><th scope="col">{pid}</th><th scope="col">{orders}</th><th scope="col">{settled}</th><th scope="col">{deducted}</th><th scope="col">{net}</th></tr></thead><tbody>{rows}</tbody><tfoot><tr><th scope="row">Σ</th><td>{t_orders}</td><td>¥{t_settled}</td><td>¥{t_deducted}</td><td>¥{t_net}</td></tr></tfoot></table></div>"#,
        pid = t(lang, "pid"),
        orders = t(lang, "orders"),
        settled = t(lang, "settled"),
        deducted = t(lang, "deducted"),
        net = t(lang, "net"),
        t_orders = total.settled_orders,
        t_settled = total.settled_commission,
        t_deducted = total.refund_deduction,
        t_net = total.net,
    );
    with_lang_cookie(
        page(lang, t(lang, "earnings"), Some(&session), now, &body),
        &query.lang(),
    )
}

#[derive(Debug, Deserialize, Default)]
struct LinksForm {
    csrf: String,
    shop: Option<String>,
    text: String,
    chan_tag: Option<String>,
    stat_param: Option<String>,
}

fn copy_button(lang: Lang, value: &str) -> String {
    format!(
        r#"<button type="button" data-copy="{v}" onclick="navigator.clipboard&&navigator.clipboard.writeText(this.dataset.copy)">{label}</button>"#,
        v = escape(value),
        label = t(lang, "copy"),
    )
}

async fn links_view(
    app: &HubApp,
    session: &ConsoleSession,
    lang: Lang,
    form: Option<&LinksForm>,
) -> Response {
    let now = app.clock.now_ms();
    let (shops, chosen) = match chosen_shop(
        app,
        session,
        form.and_then(|f| f.shop.as_deref()),
        ShopKind::is_union,
    )
    .await
    {
        Ok(found) => found,
        Err(response) => return response,
    };
    let options: String = shops
        .iter()
        .map(|c| {
            format!(
                r#"<option value="{id}"{selected}>{name}</option>"#,
                id = escape(&c.id),
                selected = if chosen.as_ref().is_some_and(|x| x.id == c.id) {
                    " selected"
                } else {
                    ""
                },
                name = escape(&c.name),
            )
        })
        .collect();
    let value = |v: Option<&str>| escape(v.unwrap_or_default());
    let mut results = String::new();
    if let Some(form) = form {
        let chan_tag = form.chan_tag.as_deref().filter(|v| !v.trim().is_empty());
        let stat_param = form.stat_param.as_deref().filter(|v| !v.trim().is_empty());
        let found = shopbridge_vop::union::links::detect(&form.text);
        let goods: String = found
            .goods_ids
            .iter()
            .map(|id| format!("<li>{}</li>", escape(id)))
            .collect();
        results.push_str(&format!(
            r#"<h2>{}</h2><ul data-goods>{goods}</ul>"#,
            t(lang, "detected")
        ));
        if chan_tag.is_some() || stat_param.is_some() {
            let spliced: String = found
                .links
                .iter()
                .map(|link| {
                    match shopbridge_vop::union::links::splice(&link.link, chan_tag, stat_param) {
                        Ok(done) => format!(
                            r#"<li><code data-spliced>{l}</code> {copy}{warn}</li>"#,
                            l = escape(&done.link),
                            copy = copy_button(lang, &done.link),
                            warn = done
                                .warnings
                                .iter()
                                .map(|w| format!(r#"<br><small>{}</small>"#, escape(w)))
                                .collect::<String>(),
                        ),
                        Err(err) => {
                            format!(r#"<li class="error">{}</li>"#, escape(&err.to_string()))
                        }
                    }
                })
                .collect();
            results.push_str(&format!(
                r#"<h2>{}</h2><ul>{spliced}</ul>"#,
                t(lang, "spliced")
            ));
        }
        if let (Some(shop), false) = (&chosen, found.goods_ids.is_empty()) {
            // Through the same service as `POST /v1/union/links`: the interactive quota first.
            let request = service::union::LinkRequest {
                shop: shop.id.clone(),
                goods_ids: found
                    .goods_ids
                    .iter()
                    .take(service::union::MAX_LINK_GOODS)
                    .cloned()
                    .collect(),
                chan_tag: chan_tag.map(str::to_owned),
                stat_param: stat_param.map(str::to_owned),
            };
            let generated = service::union::links(app, &session.tenant_id, request)
                .await
                .map_err(|err| said(&err));
            let list = match generated {
                Ok(answer) => answer
                    .url_info_list
                    .iter()
                    .map(|info| {
                        let kinds = [("url", &info.url), ("long_url", &info.long_url), ("ul_url", &info.ul_url), ("deeplink", &info.deeplink_url), ("tra_from", &info.tra_from)];
                        let items: String = kinds
                            .iter()
                            .filter_map(|(kind, v)| v.as_deref().map(|v| format!(r#"<div><small>{kind}</small> <code data-link="{kind}">{}</code> {}</div>"#, escape(v), copy_button(lang, v))))
                            .collect();
                        format!("<li>{}{items}</li>", escape(info.source.as_deref().unwrap_or_default()))
                    })
                    .chain(answer.errors.iter().map(|missing| {
                        format!(
                            r#"<li class="error">{}: {}</li>"#,
                            escape(&missing.goods_id),
                            escape(&missing.error)
                        )
                    }))
                    .collect::<String>(),
                Err(message) => format!(r#"<li class="error">{}</li>"#, escape(&message)),
            };
            results.push_str(&format!(
                r#"<h2>{}</h2><ul>{list}</ul>"#,
                t(lang, "generated")
            ));
        }
    }
    let body = format!(
        r#"<form method="post" action="/console/links" class="card"><input type="hidden" name="csrf" value="{csrf}">
<label for="shop">{shop_label}</label><select id="shop" name="shop">{options}</select>
<label for="text">{text_label}</label><textarea id="text" name="text" rows="4" style="width:100%">{text}</textarea>
<label for="chan_tag">{chan_label}</label><input id="chan_tag" name="chan_tag" value="{chan}">
<label for="stat_param">{stat_label}</label><input id="stat_param" name="stat_param" value="{stat}">
<p><button type="submit">{go}</button></p></form>{results}"#,
        csrf = escape(&session.csrf),
        shop_label = t(lang, "shop"),
        text_label = t(lang, "text"),
        text = value(form.map(|f| f.text.as_str())),
        chan_label = t(lang, "chan_tag"),
        chan = value(form.and_then(|f| f.chan_tag.as_deref())),
        stat_label = t(lang, "stat_param"),
        stat = value(form.and_then(|f| f.stat_param.as_deref())),
        go = t(lang, "analyse"),
    );
    page(lang, t(lang, "links"), Some(session), now, &body)
}

async fn links_page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&headers, &query);
    with_lang_cookie(links_view(&app, &session, lang, None).await, &query)
}

async fn links_page_post(
    State(app): Shared,
    headers: HeaderMap,
    Form(form): Form<LinksForm>,
) -> Response {
    let session = match checked(&app, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let lang = lang_of(&headers, &LangQuery::default());
    links_view(&app, &session, lang, Some(&form)).await
}

async fn activity_page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&headers, &query);
    let now = app.clock.now_ms();
    let audit = app
        .store
        .audit_entries(&session.tenant_id, 100)
        .await
        .unwrap_or_default();
    let audit_rows: String = audit
        .iter()
        .map(|(at, connection, action, detail)| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                shopbridge_vop::time::format_datetime_ms(*at),
                escape(action),
                escape(connection.as_deref().unwrap_or("")),
                escape(detail),
            )
        })
        .collect();
    let mut delivery_rows = String::new();
    for hook in app
        .store
        .webhooks(&session.tenant_id)
        .await
        .unwrap_or_default()
    {
        for (delivery, attempts) in app
            .store
            .webhook_deliveries(&session.tenant_id, &hook.id, 50)
            .await
            .unwrap_or_default()
        {
            let tries: String = attempts
                .iter()
                .map(|a| match (a.status_code, &a.error) {
                    (Some(code), _) => format!("{code}"),
                    (None, Some(error)) => escape(error),
                    (None, None) => "—".into(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            // A finished delivery (failed, or lost by its receiver) can be sent again.
            let action = if delivery.status == "pending" {
                String::new()
            } else {
                format!(
                    r#"<form class="inline" method="post" action="/console/webhooks/{hook}/deliveries/{id}/redeliver"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">{label}</button></form>"#,
                    hook = escape(&hook.id),
                    id = delivery.id,
                    csrf = escape(&session.csrf),
                    label = t(lang, "redeliver"),
                )
            };
            delivery_rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                shopbridge_vop::time::format_datetime_ms(delivery.created_ms),
                escape(&hook.url),
                escape(&delivery.event),
                escape(&delivery.status),
                tries,
                action,
            ));
        }
    }
    let body = format!(
        r#"<h2>{audit_title}</h2><div class="table"><table><tbody>{audit_rows}</tbody></table></div>
<h2>{deliveries_title}</h2><div class="table"><table><tbody>{delivery_rows}</tbody></table></div>"#,
        audit_title = t(lang, "audit"),
        deliveries_title = t(lang, "deliveries"),
    );
    with_lang_cookie(
        page(lang, t(lang, "activity"), Some(&session), now, &body),
        &query,
    )
}
