//! The shops page: each shop's state, token lifetime and last error, the actions its state
//! allows, and the forms that connect a new shop through its platform's page.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use shopbridge_store::ConnectionState;

use super::auth::CsrfForm;
use super::{NoticeQuery, Shared, SignedIn, Viewer, change, failed, notice};
use crate::service;
use crate::ui;

#[derive(Serialize)]
struct ShopRow {
    id: String,
    name: String,
    kind_name: &'static str,
    state: &'static str,
    /// Still authorized: it can be revoked (else deleted).
    authorized: bool,
    /// Not syncing until a person acts.
    paused: bool,
    expires_ms: Option<i64>,
    expired: bool,
    last_error: Option<String>,
    can_reauthorize: bool,
}

#[derive(Serialize)]
struct FieldView {
    name: &'static str,
    label: &'static str,
    numeric: bool,
}

#[derive(Serialize)]
struct FormView {
    platform: &'static str,
    mode: &'static str,
    kind_name: &'static str,
    action: &'static str,
    fields: Vec<FieldView>,
}

#[derive(Serialize)]
struct ShopsPage {
    shops: Vec<ShopRow>,
    lapsed: usize,
    forms: Vec<FormView>,
    highlighted: Option<String>,
}

pub(super) async fn page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    viewer: Viewer,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let english = viewer.lang.english();
    let shops = match service::shops::list(&app, &session.tenant_id).await {
        Ok(shops) => shops,
        Err(err) => return failed(err, &viewer, "/console/shops"),
    };
    let rows = shops
        .iter()
        .map(|shop| {
            let authorized = matches!(
                shop.state,
                ConnectionState::Active | ConnectionState::Refreshing
            );
            ShopRow {
                id: shop.id.clone(),
                name: shop.name.clone(),
                kind_name: app.platforms.kind_name(shop.kind).get(english),
                state: shop.state.as_str(),
                authorized,
                paused: !authorized,
                expires_ms: shop.access_expires_ms,
                expired: shop.access_expires_ms.is_some_and(|at| at <= viewer.now_ms),
                // A revoked shop's state says all; its reason is the revocation's note.
                last_error: shop
                    .last_error
                    .clone()
                    .filter(|_| shop.state != ConnectionState::Revoked),
                can_reauthorize: app.platforms.has_authorization_flow(shop.kind)
                    && shop.state != ConnectionState::Pending,
            }
        })
        .collect();
    let lapsed = shops
        .iter()
        .filter(|c| c.state == ConnectionState::NeedsReauth)
        .count();
    // One form per kind of shop people connect through its platform's page, as each
    // platform's adapter describes it.
    let forms = app
        .platforms
        .connect_forms()
        .iter()
        .map(|form| FormView {
            platform: form.kind.platform().as_str(),
            mode: form.kind.mode(),
            kind_name: app.platforms.kind_name(form.kind).get(english),
            action: form.action.get(english),
            fields: form
                .fields
                .iter()
                .map(|field| FieldView {
                    name: field.name,
                    label: field.label.get(english),
                    numeric: field.numeric,
                })
                .collect(),
        })
        .collect();
    let mut frame = viewer.frame("title-shops", "shops", &session);
    frame.notice = notice(viewer.lang, query.done.as_deref());
    ui::render(
        "shops.html",
        &frame,
        &ShopsPage {
            shops: rows,
            lapsed,
            forms,
            highlighted: query.shop,
        },
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct ConnectForm {
    csrf: String,
    platform: String,
    mode: Option<String>,
    name: String,
    vendor_id: Option<String>,
    seller: Option<String>,
}

pub(super) async fn connect(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<ConnectForm>,
) -> Response {
    change(
        &app,
        &viewer,
        &jar,
        &form.csrf,
        "/console/shops",
        async |session| {
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
            service::shops::begin_connect(&app, request).await
        },
    )
    .await
}

pub(super) async fn revoke(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    change(
        &app,
        &viewer,
        &jar,
        &form.csrf,
        "/console/shops",
        async |session| {
            let reason = "revoked in the console";
            service::shops::revoke(&app, &session.tenant_id, &id, "console", reason).await?;
            Ok("/console/shops?done=revoked".into())
        },
    )
    .await
}

/// Deletes a shop that is no longer authorized, with its data.
pub(super) async fn delete(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    change(
        &app,
        &viewer,
        &jar,
        &form.csrf,
        "/console/shops",
        async |session| {
            service::shops::delete(&app, &session.tenant_id, &id, "console").await?;
            Ok("/console/shops?done=deleted".into())
        },
    )
    .await
}

/// Sends the person to the platform to authorize the shop again.
pub(super) async fn reauthorize(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    change(
        &app,
        &viewer,
        &jar,
        &form.csrf,
        "/console/shops",
        async |session| service::shops::reauthorize(&app, &session.tenant_id, &id, None).await,
    )
    .await
}
