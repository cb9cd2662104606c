//! Connecting a shop through the hub: `GET /connect/{platform}`, asked by the tenant itself, sends
//! the person to the platform with a `state` bound to the tenant and the shop (single use,
//! expiring); the callback exchanges the code (or reads Winit's token) and stores the
//! connection's credentials in the vault. The native flow takes a pasted code; shops can also be
//! connected with credentials they have.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use shopbridge_core::Clock;
use shopbridge_store::{ConnectState, NewConnection, Store};
use shopbridge_vop::VopClient;
use shopbridge_vop::oauth::OOB_REDIRECT_URI;
use shopbridge_winit::WinitClient;

use crate::tokens::VopTokens;

/// A `state` is good for ten minutes.
pub const STATE_TTL_MS: i64 = 10 * 60_000;

/// What the connect endpoints need.
#[derive(Clone)]
pub struct ConnectApp {
    pub store: Store,
    /// The hub's public base URL (callbacks are built from it).
    pub public_url: String,
    /// The VOP application (no access token).
    pub vop: VopClient,
    /// The Winit application, when configured.
    pub winit: Option<WinitClient>,
    pub clock: Arc<dyn Clock>,
    /// Failed credential guesses, throttled per client address and per app key; shared by
    /// every front end.
    pub guesses: Arc<crate::security::GuessThrottle>,
    /// Wakes the scheduler: a shop just connected starts its first sync at once.
    pub sync_wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for ConnectApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectApp")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

pub fn router(app: ConnectApp) -> Router {
    Router::new()
        .route("/connect/vop/callback", get(vop_callback))
        .route("/connect/vop/oob", post(vop_oob))
        .route("/connect/winit/callback", get(winit_callback))
        .route("/connect/{platform}/credentials", post(with_credentials))
        .route("/connect/{platform}", get(start))
        .with_state(Arc::new(app))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    (
        status,
        Html(format!(
            r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{t}</title></head><body><h1 id="title">{t}</h1><p id="detail">{b}</p><p><a href="/console/shops">控制台 · Console</a></p></body></html>"#,
            t = escape(title),
            b = escape(body)
        )),
    )
        .into_response()
}

fn failure(message: impl Into<String>) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "连接失败 · Not connected",
        &message.into(),
    )
}

fn new_state() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    /// The shop's name in the hub.
    name: String,
    #[serde(default)]
    mode: Option<String>,
    /// Winit: the seller account (万邑联) being authorized.
    #[serde(default)]
    seller: Option<String>,
    /// VOP JIT: the vendor id the token will act for.
    #[serde(default)]
    vendor_id: Option<String>,
    /// VOP: the native (oob) flow; the person pastes the code shown by the platform.
    #[serde(default)]
    native: Option<String>,
}

/// A connection to begin: whose, which platform and mode, under what name.
#[derive(Debug, Clone, Default)]
pub struct BeginConnect {
    pub tenant_id: String,
    pub platform: String,
    pub mode: Option<String>,
    pub name: String,
    /// Winit: the seller account (万邑联) being authorized.
    pub seller: Option<String>,
    /// VOP JIT: the vendor id the token will act for.
    pub vendor_id: Option<String>,
    /// VOP: the native (oob) flow.
    pub native: bool,
    /// Where to send the person once connected, with a one-time code (an ERP's callback).
    pub return_to: Option<String>,
    /// The connection being re-authorized (see [`begin_reauthorize`]); `None` connects a new one.
    pub reauthorize: Option<String>,
}

/// The most characters a shop's name may have.
const SHOP_NAME_MAX: usize = 200;

fn check_shop_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("name: give the shop a name".into());
    }
    let length = name.chars().count();
    if length > SHOP_NAME_MAX {
        return Err(format!(
            "name: at most {SHOP_NAME_MAX} characters, got {length}"
        ));
    }
    Ok(())
}

/// Why a connect flow could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BeginError {
    /// A field is malformed or out of range.
    #[error("{0}")]
    Invalid(String),
    /// Well-formed, but what this platform needs is missing or not available in this hub.
    #[error("{0}")]
    Incomplete(String),
    /// The hub's store failed.
    #[error("store: {0}")]
    Store(#[from] shopbridge_store::StoreError),
}

impl BeginError {
    /// The HTTP status that answers it.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Incomplete(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Issues a `state` for the connection and answers the platform's authorize URL.
pub async fn begin(app: &ConnectApp, request: BeginConnect) -> Result<String, BeginError> {
    check_shop_name(&request.name).map_err(BeginError::Invalid)?;
    let state = new_state();
    let now = app.clock.now_ms();
    let (mode, redirect_uri, location) = match request.platform.as_str() {
        "vop" => {
            let mode = request.mode.clone().unwrap_or_else(|| "union_tool".into());
            if !matches!(mode.as_str(), "union_tool" | "jit") {
                return Err(BeginError::Invalid(format!(
                    "mode: expected union_tool or jit, got {mode:?}"
                )));
            }
            if mode == "jit"
                && request
                    .vendor_id
                    .as_deref()
                    .and_then(|v| v.trim().parse::<i64>().ok())
                    .filter(|id| crate::limits::ACCOUNT_ID.contains(id))
                    .is_none()
            {
                return Err(BeginError::Incomplete(
                    "vendor_id: a JIT shop needs its numeric vendor id".into(),
                ));
            }
            let redirect_uri = if request.native {
                OOB_REDIRECT_URI.to_owned()
            } else {
                format!("{}/connect/vop/callback", app.public_url)
            };
            let url = if request.native {
                app.vop.native_authorize_url(Some(&state))
            } else {
                app.vop.authorize_url(&redirect_uri, Some(&state))
            };
            let url = url.map_err(|err| BeginError::Invalid(err.to_string()))?;
            (mode, redirect_uri, url.to_string())
        }
        "winit" => {
            let Some(winit) = &app.winit else {
                return Err(BeginError::Incomplete(
                    "platform: winit is not configured in this hub".into(),
                ));
            };
            if request
                .seller
                .as_deref()
                .is_none_or(|s| s.trim().is_empty())
            {
                return Err(BeginError::Incomplete(
                    "seller: the Winit seller account (万邑联) to authorize is required".into(),
                ));
            }
            let redirect_uri = format!("{}/connect/winit/callback", app.public_url);
            let url = winit
                .authorize_url(&redirect_uri, Some(&state))
                .map_err(|err| BeginError::Invalid(err.to_string()))?;
            ("oswh".to_owned(), redirect_uri, url.to_string())
        }
        other => {
            return Err(BeginError::Invalid(format!(
                "platform: expected vop or winit, got {other:?}"
            )));
        }
    };
    let issued = ConnectState {
        tenant_id: request.tenant_id,
        // The account the grant is for: Winit's seller, or a JIT shop's vendor id.
        seller: if request.platform == "vop" {
            request.vendor_id
        } else {
            request.seller
        },
        platform: request.platform,
        mode,
        name: request.name,
        redirect_uri,
        return_to: request.return_to,
        reauthorize: request.reauthorize,
    };
    app.store
        .create_connect_state(&state, &issued, now + STATE_TTL_MS)
        .await?;
    Ok(location)
}

/// Whether a shop was connected through an OAuth flow that can be run again; the Union channel
/// account acts with the app's own credentials and has none.
pub fn has_authorization_flow(platform: &str, mode: &str) -> bool {
    matches!(
        (platform, mode),
        ("vop", "union_tool" | "jit") | ("winit", _)
    )
}

/// Starts a flow that gives an existing connection new credentials: the same id, synced data
/// and shop tokens, back to active once the person has authorized again. The account (JIT
/// vendor, Winit seller) is the one the connection already acts for.
pub async fn begin_reauthorize(
    app: &ConnectApp,
    tenant_id: &str,
    connection_id: &str,
    return_to: Option<String>,
) -> Result<String, (StatusCode, String)> {
    let connection = match app.store.connection(connection_id).await {
        Ok(connection) if connection.tenant_id == tenant_id => connection,
        Ok(_) | Err(shopbridge_store::StoreError::NotFound(_)) => {
            return Err((
                StatusCode::NOT_FOUND,
                format!("shop: no shop {connection_id:?} in this tenant"),
            ));
        }
        Err(err) => return Err((StatusCode::SERVICE_UNAVAILABLE, format!("store: {err}"))),
    };
    if connection.state == shopbridge_store::ConnectionState::Revoked {
        return Err((
            StatusCode::CONFLICT,
            "shop: a revoked shop cannot be re-authorized; connect it as a new shop".into(),
        ));
    }
    let (platform, mode) = (connection.platform.as_str(), connection.mode.as_str());
    if !has_authorization_flow(platform, mode) {
        return Err((
            StatusCode::CONFLICT,
            format!(
                "shop: a {platform} {mode} connection has no authorization flow to repeat (it was connected with the app's own credentials)"
            ),
        ));
    }
    // The account the connection already acts for: a JIT shop's vendor, a Winit seller.
    let credentials: serde_json::Value =
        serde_json::from_str(connection.credentials.expose_secret()).unwrap_or_default();
    let (seller, vendor_id) = match platform {
        "winit" => (credentials["app_key"].as_str().map(str::to_owned), None),
        _ => (
            None,
            credentials["vendor_id"].as_i64().map(|id| id.to_string()),
        ),
    };
    let request = BeginConnect {
        tenant_id: tenant_id.to_owned(),
        platform: platform.to_owned(),
        mode: (platform == "vop").then(|| mode.to_owned()),
        name: connection.name.clone(),
        seller,
        vendor_id,
        native: false,
        return_to,
        reauthorize: Some(connection.id.clone()),
    };
    begin(app, request)
        .await
        .map_err(|err| (err.status(), err.to_string()))
}

async fn start(
    State(app): State<Arc<ConnectApp>>,
    Path(platform): Path<String>,
    // Only the tenant itself may start a flow that ends with a shop in its account: anyone
    // could otherwise send a shop owner a link that connects their shop to a stranger's tenant.
    // People start from the console or the REST API's `authorize_url`.
    crate::app::Tenant(tenant): crate::app::Tenant,
    Query(query): Query<StartQuery>,
) -> Response {
    let request = BeginConnect {
        tenant_id: tenant,
        platform,
        mode: query.mode,
        name: query.name,
        seller: query.seller,
        vendor_id: query.vendor_id,
        native: query
            .native
            .as_deref()
            .is_some_and(|v| v == "1" || v == "true"),
        return_to: None,
        reauthorize: None,
    };
    match begin(&app, request).await {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(err) => page(err.status(), "连接失败 · Not connected", &err.to_string()),
    }
}

async fn store_vop(app: &ConnectApp, issued: &ConnectState, code: &str) -> Response {
    let now = app.clock.now_ms();
    let token = match app
        .vop
        .exchange_code(code, &issued.redirect_uri, "127.0.0.1")
        .await
    {
        Ok(token) => token,
        Err(err) => return failure(format!("code exchange failed: {err}")),
    };
    let tokens = VopTokens {
        access_token: token.access_token.expose_secret().to_owned(),
        refresh_token: token
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        expires_at_ms: crate::limits::expiry_ms(now, token.expires_in),
        refresh_expires_at_ms: token.refresh_expires_time,
        vendor_id: issued.seller.as_deref().and_then(|v| v.trim().parse().ok()),
        open_id: token.open_id.clone(),
    };
    save(
        app,
        issued,
        &serde_json::to_string(&tokens).unwrap_or_default(),
        Some(tokens.expires_at_ms),
        tokens.refresh_expires_at_ms,
    )
    .await
}

/// The return URL with a one-time code the ERP redeems for the shop's token.
async fn handoff_url(
    app: &ConnectApp,
    issued: &ConnectState,
    connection_id: &str,
    return_to: &str,
    now: i64,
) -> Result<String, String> {
    let code = app
        .store
        .create_handoff(&issued.tenant_id, connection_id, now + STATE_TTL_MS)
        .await
        .map_err(|err| err.to_string())?;
    let mut url = url::Url::parse(return_to).map_err(|err| format!("return URL: {err}"))?;
    url.query_pairs_mut().append_pair("code", &code);
    Ok(url.to_string())
}

/// The end of a re-authorization: new credentials for the same connection, active again.
async fn reauthorized(
    app: &ConnectApp,
    issued: &ConnectState,
    id: &str,
    credentials: &str,
    access_expires: Option<i64>,
    refresh_expires: Option<i64>,
    now: i64,
) -> Response {
    let connection = match app.store.connection(id).await {
        Ok(connection) => connection,
        Err(err) => return failure(err.to_string()),
    };
    if connection.tenant_id != issued.tenant_id || connection.platform != issued.platform {
        return failure("state: issued for another shop");
    }
    if connection.state == shopbridge_store::ConnectionState::Revoked {
        return failure("the shop was revoked while it was being re-authorized; connect it anew");
    }
    // The same shop must come back: a grant by another platform user would put another
    // account's data under this shop's history and tokens.
    let user = |credentials: &str| {
        serde_json::from_str::<VopTokens>(credentials)
            .ok()
            .and_then(|tokens| tokens.open_id)
    };
    if let (Some(before), Some(now_user)) = (
        user(connection.credentials.expose_secret()),
        user(credentials),
    ) && before != now_user
    {
        return failure(format!(
            "{} was authorized by another platform account; log in as that account, or connect this one as a new shop",
            issued.name
        ));
    }
    let credentials = SecretString::from(credentials.to_owned());
    if let Err(err) = app
        .store
        .update_credentials(id, &credentials, access_expires, refresh_expires, now)
        .await
    {
        return failure(err.to_string());
    }
    if connection.state != shopbridge_store::ConnectionState::Active
        && let Err(err) = app
            .store
            .set_state(id, shopbridge_store::ConnectionState::Active, None, now)
            .await
    {
        return failure(err.to_string());
    }
    connected(
        app,
        issued,
        id,
        "reauthorize",
        now,
        "已重新授权 · Re-authorized",
        &format!("{} is authorized again (connection {id})", issued.name),
    )
    .await
}

/// A flow's end once the shop is stored: audited, then the ERP's return URL with a one-time
/// code, or the hub's own page.
async fn connected(
    app: &ConnectApp,
    issued: &ConnectState,
    id: &str,
    action: &str,
    now: i64,
    title: &str,
    message: &str,
) -> Response {
    let _ = app
        .store
        .audit(
            now,
            Some(&issued.tenant_id),
            Some(id),
            action,
            &issued.platform,
        )
        .await;
    app.sync_wake.notify_one();
    if let Some(return_to) = &issued.return_to {
        return match handoff_url(app, issued, id, return_to, now).await {
            Ok(url) => (StatusCode::FOUND, [(header::LOCATION, url)]).into_response(),
            Err(message) => failure(message),
        };
    }
    page(StatusCode::OK, title, message)
}

async fn save(
    app: &ConnectApp,
    issued: &ConnectState,
    credentials: &str,
    access_expires: Option<i64>,
    refresh_expires: Option<i64>,
) -> Response {
    let now = app.clock.now_ms();
    if let Some(id) = &issued.reauthorize {
        return reauthorized(
            app,
            issued,
            id,
            credentials,
            access_expires,
            refresh_expires,
            now,
        )
        .await;
    }
    let created = app
        .store
        .create_connection(
            &NewConnection {
                tenant_id: &issued.tenant_id,
                platform: &issued.platform,
                mode: &issued.mode,
                name: &issued.name,
                credentials: &SecretString::from(credentials.to_owned()),
                access_expires_ms: access_expires,
                refresh_expires_ms: refresh_expires,
            },
            now,
        )
        .await;
    match created {
        Ok(id) => {
            connected(
                app,
                issued,
                &id,
                "connect",
                now,
                "已连接 · Connected",
                &format!("{} is connected as connection {id}", issued.name),
            )
            .await
        }
        Err(err) => failure(err.to_string()),
    }
}

async fn vop_callback(
    State(app): State<Arc<ConnectApp>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(state) = query.get("state") else {
        return failure("state: missing");
    };
    let issued = match app
        .store
        .take_connect_state(state, "vop", app.clock.now_ms())
        .await
    {
        Ok(issued) => issued,
        Err(err) => return failure(err.to_string()),
    };
    if let Some(error) = query.get("error") {
        let description = query
            .get("error_description")
            .map(String::as_str)
            .unwrap_or_default();
        return failure(format!(
            "authorization was not granted: {error} {description}"
        ));
    }
    match query.get("code") {
        Some(code) => store_vop(&app, &issued, code).await,
        None => failure("code: missing"),
    }
}

#[derive(Debug, Deserialize)]
struct OobForm {
    state: String,
    code: String,
}

async fn vop_oob(State(app): State<Arc<ConnectApp>>, Form(form): Form<OobForm>) -> Response {
    let issued = match app
        .store
        .take_connect_state(&form.state, "vop", app.clock.now_ms())
        .await
    {
        Ok(issued) => issued,
        Err(err) => return failure(err.to_string()),
    };
    if issued.redirect_uri != OOB_REDIRECT_URI {
        return failure(
            "state: this connection was started for the browser flow, not the native one",
        );
    }
    store_vop(&app, &issued, form.code.trim()).await
}

async fn winit_callback(
    State(app): State<Arc<ConnectApp>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !query.contains_key("access_token") && !query.contains_key("error") {
        // The token may be in the fragment, which browsers never send: relay it.
        return Html(shopbridge_winit::oauth::FRAGMENT_RELAY_PAGE).into_response();
    }
    let Some(state) = query.get("state") else {
        return failure("state: missing");
    };
    let issued = match app
        .store
        .take_connect_state(state, "winit", app.clock.now_ms())
        .await
    {
        Ok(issued) => issued,
        Err(err) => return failure(err.to_string()),
    };
    let Some(token) = query.get("access_token").filter(|t| !t.is_empty()) else {
        return failure(format!(
            "authorization was not granted: {}",
            query.get("error").map(String::as_str).unwrap_or_default()
        ));
    };
    let credentials = json!({"app_key": issued.seller, "token": token}).to_string();
    save(&app, &issued, &credentials, None, None).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExistingCredentials {
    name: String,
    #[serde(default)]
    mode: Option<String>,
    /// VOP: the session key (access token) the shop already has.
    #[serde(default)]
    session_key: Option<String>,
    /// VOP JIT: the vendor id the session key acts for.
    #[serde(default)]
    vendor_id: Option<i64>,
    /// Winit (legacy): the seller account and its token.
    #[serde(default)]
    app_key: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

fn json_error(status: StatusCode, message: impl Into<String>) -> Response {
    crate::problem::problem(status, message)
}

/// `POST /connect/{platform}/credentials`: a shop connected with credentials it already has
/// (polyapi's guide: the SessionKey; Winit's legacy app_key + token), checked with the platform
/// first. The tenant authenticates with `Authorization: Bearer APPKEY:APPSECRET`.
async fn with_credentials(
    State(app): State<Arc<ConnectApp>>,
    Path(platform): Path<String>,
    crate::app::Tenant(tenant): crate::app::Tenant,
    body: Result<Json<ExistingCredentials>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return json_error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let existing = Existing {
        name: body.name,
        mode: body.mode,
        session_key: body.session_key,
        vendor_id: body.vendor_id,
        app_key: body.app_key,
        token: body.token,
    };
    match connect_existing(&app, &tenant, &platform, existing).await {
        Ok(id) => Json(json!({"connection_id": id})).into_response(),
        Err((status, message)) => json_error(status, message),
    }
}

/// Credentials a shop already has.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    pub name: String,
    pub mode: Option<String>,
    /// VOP: the session key (access token).
    pub session_key: Option<String>,
    /// VOP JIT: the vendor id the session key acts for.
    pub vendor_id: Option<i64>,
    /// Winit (legacy): the seller account and its token.
    pub app_key: Option<String>,
    pub token: Option<String>,
}

/// Connects a tenant's shop with credentials it already has, checked with the platform first;
/// answers the new connection's id, or the status and message to refuse with.
pub async fn connect_existing(
    app: &ConnectApp,
    tenant: &str,
    platform: &str,
    body: Existing,
) -> Result<String, (StatusCode, String)> {
    let now = app.clock.now_ms();
    check_shop_name(&body.name).map_err(|message| (StatusCode::BAD_REQUEST, message))?;
    let (mode, credentials, expires) = match platform {
        "vop" => {
            let Some(key) = body.session_key.filter(|k| !k.is_empty()) else {
                return Err((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "session_key: a VOP shop connected with credentials it has needs its session key"
                        .into(),
                ));
            };
            let info = app
                .vop
                .token_info(&SecretString::from(key.clone()))
                .await
                .map_err(|err| {
                    (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("session_key: the platform refused it: {err}"),
                    )
                })?;
            let tokens = VopTokens {
                access_token: key,
                refresh_token: None,
                expires_at_ms: crate::limits::expiry_ms(now, info.expires_in),
                refresh_expires_at_ms: None,
                vendor_id: body.vendor_id,
                open_id: info.open_id.clone(),
            };
            let mode = body.mode.unwrap_or_else(|| "jit".into());
            if !matches!(mode.as_str(), "jit" | "union_tool") {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("mode: jit or union_tool, got {mode:?}"),
                ));
            }
            if let Some(id) = tokens.vendor_id
                && let Err(err) =
                    crate::limits::in_range("vendor_id", id, crate::limits::ACCOUNT_ID)
            {
                return Err((StatusCode::BAD_REQUEST, err.to_string()));
            }
            if mode == "jit" && tokens.vendor_id.is_none() {
                return Err((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "vendor_id: a JIT shop needs its numeric vendor id".into(),
                ));
            }
            (
                mode,
                serde_json::to_string(&tokens).unwrap_or_default(),
                Some(tokens.expires_at_ms),
            )
        }
        "winit" => {
            let (Some(app_key), Some(token)) = (
                body.app_key.filter(|k| !k.is_empty()),
                body.token.filter(|t| !t.is_empty()),
            ) else {
                return Err((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "app_key and token: both required for a Winit shop".into(),
                ));
            };
            let Some(winit) = &app.winit else {
                return Err((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "platform: winit is not configured in this hub".into(),
                ));
            };
            let seller = winit.for_seller(app_key.clone(), SecretString::from(token.clone()));
            if let Err(err) = seller
                .execute(&shopbridge_winit::actions::QueryWarehouse {})
                .await
            {
                return Err((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("token: the legacy token does not sign for {app_key}: {err}"),
                ));
            }
            (
                "oswh".to_owned(),
                json!({"app_key": app_key, "token": token}).to_string(),
                None,
            )
        }
        other => {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("platform: expected vop or winit, got {other:?}"),
            ));
        }
    };
    let created = app
        .store
        .create_connection(
            &NewConnection {
                tenant_id: tenant,
                platform,
                mode: &mode,
                name: &body.name,
                credentials: &SecretString::from(credentials),
                access_expires_ms: expires,
                refresh_expires_ms: None,
            },
            now,
        )
        .await
        .map_err(|err| (StatusCode::CONFLICT, format!("name: {err}")))?;
    let _ = app
        .store
        .audit(now, Some(tenant), Some(&created), "connect", platform)
        .await;
    app.sync_wake.notify_one();
    Ok(created)
}
