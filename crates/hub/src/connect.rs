//! Connecting a shop through the hub: `GET /connect/{platform}`, asked by the tenant itself, sends
//! the person to the platform with a `state` bound to the tenant and the shop (single use,
//! expiring); the callback exchanges the code (or reads Winit's token) and stores the
//! connection's credentials in the vault. The native flow takes a pasted code; shops can also be
//! connected with credentials they have.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use shopbridge_store::{ConnectState, NewConnection};

pub use crate::platforms::{BeginConnect, BeginError, Existing};
use crate::platforms::{CallbackMethod, CredentialsRefused, NewCredentials, NotServed};
use crate::state::HubApp;

/// A `state` is good for ten minutes.
pub const STATE_TTL_MS: i64 = 10 * 60_000;

pub fn router(app: Arc<HubApp>) -> Router {
    Router::new()
        .route("/connect/{platform}/credentials", post(with_credentials))
        // Where the platforms' pages send the person back: each adapter names its steps.
        .route(
            "/connect/{platform}/{step}",
            get(callback_with_query).post(callback_with_form),
        )
        .route("/connect/{platform}", get(start))
        .with_state(app)
}

/// How a flow at the platform ended, before it is put into the visitor's language.
#[derive(Debug)]
enum FlowEnd {
    /// A shop stored: new, or authorized `again`.
    Connected {
        id: String,
        name: String,
        again: bool,
    },
    /// Back to the ERP that started the flow, with a one-time code.
    Handoff(String),
    /// Why the flow could not end; the message names the field or the refusal.
    Failed { status: StatusCode, message: String },
}

/// A flow's last page, in the console's look and the visitor's language. The address may hold
/// a platform's token (Winit answers it in the query), so the page is not cached, sends no
/// referrer, and takes its query out of the address bar and history at once.
fn flow_page(end: FlowEnd, headers: &HeaderMap, now_ms: i64) -> Response {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(headers);
    let lang = crate::ui::lang_of(&jar, headers, None);
    // The other language's link leads to the console: this address is spent (its state is
    // single use, its token must not be sent again).
    let mut frame = crate::ui::Frame::new(lang, "title-connect", "", now_ms);
    frame.switch_href = format!("/console/shops?lang={}", frame.other_lang);
    let (status, message) = match end {
        FlowEnd::Handoff(url) => {
            return (StatusCode::FOUND, [(header::LOCATION, url)]).into_response();
        }
        FlowEnd::Connected { id, name, again } => (
            StatusCode::OK,
            crate::ui::Message {
                tone: "ok",
                heading: lang.t(if again {
                    "connect-redone"
                } else {
                    "connect-done"
                }),
                subject: Some(name),
                detail: lang.t(if again {
                    "connect-redone-detail"
                } else {
                    "connect-done-detail"
                }),
                back_href: format!(
                    "/console/shops?shop={id}#shop-{id}",
                    id = url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
                ),
                back_label: lang.t("connect-open-shop"),
                clean_url: true,
            },
        ),
        FlowEnd::Failed { status, message } => (
            status,
            crate::ui::Message {
                tone: "error",
                heading: lang.t("connect-failed"),
                subject: None,
                detail: message,
                back_href: "/console/shops".into(),
                back_label: lang.t("back-to-shops"),
                clean_url: true,
            },
        ),
    };
    let mut response = crate::ui::message(status, &frame, &message);
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn callback_with_query(
    State(app): State<Arc<HubApp>>,
    Path((platform, step)): Path<(String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match callback(&app, &platform, &step, CallbackMethod::Query, params).await {
        Ok(relay) => relay,
        Err(end) => flow_page(end, &headers, app.clock.now_ms()),
    }
}

async fn callback_with_form(
    State(app): State<Arc<HubApp>>,
    Path((platform, step)): Path<(String, String)>,
    headers: HeaderMap,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    match callback(&app, &platform, &step, CallbackMethod::Form, params).await {
        Ok(relay) => relay,
        Err(end) => flow_page(end, &headers, app.clock.now_ms()),
    }
}

/// The end of a flow at the platform: the adapter's relay page if it has one (`Ok`), else the
/// flow's `state` (single use) and the grant the adapter reads from the callback, stored.
async fn callback(
    app: &HubApp,
    platform: &str,
    step: &str,
    method: CallbackMethod,
    params: HashMap<String, String>,
) -> Result<Response, FlowEnd> {
    let adapter = match app.platforms.named(platform) {
        Ok(adapter) if adapter.callback_steps().contains(&(step, method)) => adapter,
        _ => {
            return Err(FlowEnd::Failed {
                status: StatusCode::NOT_FOUND,
                message: format!("path: no /connect/{platform}/{step} here"),
            });
        }
    };
    if let Some(relay) = adapter.relay(step, &params) {
        return Ok(Html(relay).into_response());
    }
    let Some(state) = params.get("state") else {
        return Err(failure("state: missing"));
    };
    let now = app.clock.now_ms();
    let issued = app
        .store
        .take_connect_state(state, adapter.platform(), now)
        .await
        .map_err(|err| failure(shown(&err)))?;
    match adapter.complete(step, &issued, &params, now).await {
        Ok(credentials) => Err(save(app, &issued, state, credentials).await),
        Err(message) => Err(failure(message)),
    }
}

/// What a flow's page may say of a store failure: the refusal of a state or a shop, or, for
/// the database's own failure, only that it failed (the cause is logged).
fn shown(err: &shopbridge_store::StoreError) -> String {
    use shopbridge_store::StoreError;
    match err {
        StoreError::Invalid(message)
        | StoreError::NotFound(message)
        | StoreError::Conflict(message) => message.clone(),
        other => {
            tracing::error!(error = %other, "store failure in a connect flow");
            "the hub's store failed; try again in a moment".into()
        }
    }
}

/// A flow that could not end, and why.
fn failure(message: impl Into<String>) -> FlowEnd {
    FlowEnd::Failed {
        status: StatusCode::BAD_REQUEST,
        message: message.into(),
    }
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

/// Issues a `state` for the connection and answers the platform's authorize URL.
pub async fn begin(app: &HubApp, request: BeginConnect) -> Result<String, BeginError> {
    check_shop_name(&request.name).map_err(BeginError::Invalid)?;
    let state = new_state();
    let now = app.clock.now_ms();
    let adapter = app
        .platforms
        .named(&request.platform)
        .map_err(|err| match err {
            NotServed::Unknown(message) => BeginError::Invalid(message),
            NotServed::NotConfigured(message) => BeginError::Incomplete(message),
        })?;
    let kind = adapter
        .connectable(request.mode.as_deref())
        .map_err(BeginError::Invalid)?;
    let authorization = adapter.authorize(&app.public_url, kind, &request, &state)?;
    let issued = ConnectState {
        tenant_id: request.tenant_id,
        kind,
        seller: authorization.account,
        name: request.name,
        redirect_uri: authorization.redirect_uri,
        return_to: request.return_to,
        reauthorize: request.reauthorize,
    };
    app.store
        .create_connect_state(&state, &issued, now + STATE_TTL_MS)
        .await?;
    Ok(authorization.url)
}

async fn start(
    State(app): State<Arc<HubApp>>,
    Path(platform): Path<String>,
    // Only the tenant itself may start a flow that ends with a shop in its account: anyone
    // could otherwise send a shop owner a link that connects their shop to a stranger's tenant.
    // People start from the console or the REST API's `authorize_url`.
    crate::state::Tenant(tenant): crate::state::Tenant,
    headers: HeaderMap,
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
        Err(err) => flow_page(
            FlowEnd::Failed {
                status: err.status(),
                message: match &err {
                    BeginError::Store(store) => shown(store),
                    other => other.to_string(),
                },
            },
            &headers,
            app.clock.now_ms(),
        ),
    }
}

/// The return URL with a one-time code the ERP redeems for the shop's token.
async fn handoff_url(
    app: &HubApp,
    issued: &ConnectState,
    connection_id: &str,
    return_to: &str,
    now: i64,
) -> Result<String, String> {
    let code = app
        .store
        .create_handoff(&issued.tenant_id, connection_id, now + STATE_TTL_MS)
        .await
        .map_err(|err| shown(&err))?;
    let mut url = url::Url::parse(return_to).map_err(|err| format!("return URL: {err}"))?;
    url.query_pairs_mut().append_pair("code", &code);
    Ok(url.to_string())
}

/// The end of a re-authorization: new credentials for the same connection, active again.
async fn reauthorized(
    app: &HubApp,
    issued: &ConnectState,
    state: &str,
    id: &str,
    credentials: NewCredentials,
    now: i64,
) -> FlowEnd {
    let connection = match app.store.connection(id).await {
        Ok(connection) => connection,
        Err(err) => return failure(shown(&err)),
    };
    if connection.tenant_id != issued.tenant_id || connection.kind != issued.kind {
        return failure("state: issued for another shop");
    }
    // The same shop must come back: a grant by another platform user would put another
    // account's data under this shop's history and tokens.
    let same = app
        .platforms
        .of(connection.kind)
        .is_ok_and(|adapter| adapter.same_account(&connection.credentials, &credentials.sealed));
    if !same {
        return failure(format!(
            "{} was authorized by another platform account; log in as that account, or connect this one as a new shop",
            issued.name
        ));
    }
    // A revoked shop comes back in one step, and only for a flow begun after the revocation
    // (revoking removes the flows begun before, and this flow's row is checked in the same
    // transaction); a live one gets new credentials, then is active again.
    if connection.state == shopbridge_store::ConnectionState::Revoked {
        if let Err(err) = app
            .store
            .reinstate(
                id,
                state,
                &credentials.sealed,
                credentials.access_expires_ms,
                credentials.refresh_expires_ms,
                now,
            )
            .await
        {
            return failure(shown(&err));
        }
        return connected(app, issued, id, true, now).await;
    }
    if let Err(err) = app
        .store
        .update_credentials(
            id,
            &credentials.sealed,
            credentials.access_expires_ms,
            credentials.refresh_expires_ms,
            now,
        )
        .await
    {
        return failure(shown(&err));
    }
    if connection.state != shopbridge_store::ConnectionState::Active
        && let Err(err) = app
            .store
            .set_state(id, shopbridge_store::ConnectionState::Active, None, now)
            .await
    {
        return failure(shown(&err));
    }
    connected(app, issued, id, true, now).await
}

/// A flow's end once the shop is stored (new, or authorized `again`): audited, then the ERP's
/// return URL with a one-time code, or the hub's own page.
async fn connected(
    app: &HubApp,
    issued: &ConnectState,
    id: &str,
    again: bool,
    now: i64,
) -> FlowEnd {
    let action = if again { "reauthorize" } else { "connect" };
    let _ = app
        .store
        .audit(
            now,
            Some(&issued.tenant_id),
            Some(id),
            action,
            issued.kind.platform().as_str(),
        )
        .await;
    app.sync_wake.notify_one();
    if let Some(return_to) = &issued.return_to {
        return match handoff_url(app, issued, id, return_to, now).await {
            Ok(url) => FlowEnd::Handoff(url),
            Err(message) => failure(message),
        };
    }
    FlowEnd::Connected {
        id: id.to_owned(),
        name: issued.name.clone(),
        again,
    }
}

/// Stores what a platform's callback granted: a new shop, or new credentials for the shop
/// being re-authorized.
async fn save(
    app: &HubApp,
    issued: &ConnectState,
    state: &str,
    credentials: NewCredentials,
) -> FlowEnd {
    let now = app.clock.now_ms();
    if let Some(id) = &issued.reauthorize {
        return reauthorized(app, issued, state, id, credentials, now).await;
    }
    let created = app
        .store
        .create_connection(
            &NewConnection {
                tenant_id: &issued.tenant_id,
                kind: issued.kind,
                name: &issued.name,
                credentials: &credentials.sealed,
                access_expires_ms: credentials.access_expires_ms,
                refresh_expires_ms: credentials.refresh_expires_ms,
            },
            now,
        )
        .await;
    match created {
        Ok(id) => connected(app, issued, &id, false, now).await,
        Err(err) => failure(shown(&err)),
    }
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
    State(app): State<Arc<HubApp>>,
    Path(platform): Path<String>,
    crate::state::Tenant(tenant): crate::state::Tenant,
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
        refresh_token: None,
    };
    match connect_existing(&app, &tenant, &platform, existing, "credentials").await {
        Ok(id) => Json(json!({"connection_id": id})).into_response(),
        Err(err) => crate::problem::hub_error(err.into()),
    }
}

/// Connects a tenant's shop with credentials it already has, checked with the platform first;
/// answers the new connection's id, or why it was refused.
pub async fn connect_existing(
    app: &HubApp,
    tenant: &str,
    platform: &str,
    body: Existing,
    via: &str,
) -> Result<String, CredentialsRefused> {
    let now = app.clock.now_ms();
    check_shop_name(&body.name).map_err(CredentialsRefused::Invalid)?;
    let adapter = app.platforms.named(platform).map_err(|err| match err {
        NotServed::Unknown(message) => CredentialsRefused::Invalid(message),
        NotServed::NotConfigured(message) => CredentialsRefused::NotConfigured(message),
    })?;
    let credentials = adapter.existing_credentials(&body, now).await?;
    let created = app
        .store
        .create_connection(
            &NewConnection {
                tenant_id: tenant,
                kind: credentials.kind,
                name: &body.name,
                credentials: &credentials.sealed,
                access_expires_ms: credentials.access_expires_ms,
                refresh_expires_ms: credentials.refresh_expires_ms,
            },
            now,
        )
        .await?;
    let _ = app
        .store
        .audit(
            now,
            Some(tenant),
            Some(&created),
            "connect",
            &format!("{} {via}", credentials.kind.platform()),
        )
        .await;
    app.sync_wake.notify_one();
    Ok(created)
}
