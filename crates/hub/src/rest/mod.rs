//! The REST API under `/v1`, described by an OpenAPI document at `/openapi.json` with a Swagger
//! UI at `/swagger-ui` (assets vendored into the binary), plus Prometheus metrics at `/metrics`.
//! Every call names its tenant with `Authorization: Bearer APPKEY:APPSECRET`; a shop of another
//! tenant is answered exactly like a shop that does not exist.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shopbridge_core::codes::ShopType;
use shopbridge_core::model::{Order, Shipment, StockMode, StockUpdate};
use shopbridge_store::{Connection, ConnectionSummary, Cursor};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use crate::problem::hub_error;
use crate::service;
use crate::state::{HubApp, Tenant};

pub mod ops;
pub(crate) mod union;
use crate::sources::{PRODUCTS, UNION_PIDS};

type Shared = State<Arc<HubApp>>;

#[derive(OpenApi)]
#[openapi(
    info(title = "shopbridge hub", description = "The REST API of the shopbridge hub: shops, orders, products, shipments, stock, Union data, sync runs and webhooks, plus health, metrics and the polyapi-compatible unified endpoint. Authenticate with `Authorization: Bearer APPKEY:APPSECRET`. Times are epoch milliseconds, or RFC 3339 date-times where a request takes a time. Every error is an RFC 9457 problem (`application/problem+json`)."),
    paths(list_refunds, create_shop, union::goods, union::links, union::earnings_report, list_shops, get_shop, delete_shop, revoke_shop, reauthorize_shop, list_orders, get_order, check_refund, list_products, ship, push_stock, list_union_orders, list_union_pids, list_runs, create_webhook, list_webhooks, webhook_deliveries, enable_webhook, redeliver_webhook, metrics, ops::sync_run, ops::healthz, crate::polyapi::handle),
    components(schemas(NewShopRequest, ShopView, ShipmentRequest, StockRequest, Problem, OrderPage, ProductPage, UnionOrderPage, PidPage, WebhookRequest, union::LinkRequest, crate::polyapi::PolyForm, crate::polyapi::PolyEnvelope)),
    modifiers(&BearerAuth, &Contract),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("APPKEY:APPSECRET")
                    .build(),
            ),
        );
    }
}

/// What holds for every operation, said once instead of on each handler: its tag (the resource),
/// the answers any authenticated call may get (401, 429, 503; 400 where it takes input), and
/// which operations need no bearer (health, metrics, the unified endpoint with its own sign).
struct Contract;

/// Paths that authenticate otherwise (or not at all).
const PUBLIC_PATHS: [&str; 3] = ["/healthz", "/metrics", "/openapi/do"];

fn tag_of(path: &str) -> &'static str {
    let resource = path
        .trim_start_matches("/v1/")
        .split('/')
        .next()
        .unwrap_or("");
    match resource {
        "shops" => "shops",
        "orders" => "orders",
        "products" => "products",
        "refunds" => "refunds",
        "shipments" | "stock" => "fulfilment",
        "union" => "union",
        "sync" => "sync",
        "webhooks" => "webhooks",
        _ if path == "/openapi/do" => "unified",
        _ => "operations",
    }
}

impl utoipa::Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            ContentBuilder, Ref, RefOr, ResponseBuilder, security::SecurityRequirement,
        };
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = PUBLIC_PATHS.contains(&path.as_str());
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                operation.tags = Some(vec![tag_of(path).to_owned()]);
                let names_a_shop = operation.parameters.iter().flatten().any(|p| {
                    p.parameter_in == utoipa::openapi::path::ParameterIn::Path || p.name == "shop"
                });
                let responses = &mut operation.responses.responses;
                // Error bodies are problem details, whatever a handler's annotation said.
                for (code, response) in responses.iter_mut() {
                    if let (true, RefOr::T(response)) = (code.as_str() >= "400", response)
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        response
                            .content
                            .insert("application/problem+json".into(), content);
                    }
                }
                // Where the platform can refuse (422), the shop's grant can also be gone.
                if responses.contains_key("422") {
                    responses.entry("409".into()).or_insert_with(|| {
                        problem(
                            "The shop must be authorized again before the platform can be called.",
                        )
                    });
                    // ...and the platform can fail to answer.
                    responses.entry("502".into()).or_insert_with(|| {
                        problem("The platform did not answer, or failed (a timeout, its 5xx); retry later.")
                    });
                }
                if names_a_shop {
                    responses.entry("404".into()).or_insert_with(|| {
                        problem("No such shop (or other resource) of this tenant.")
                    });
                }
                let takes_input = operation.request_body.is_some()
                    || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                if takes_input {
                    responses
                        .entry("400".into())
                        .or_insert_with(|| problem("A parameter or the body is malformed or out of range; `detail` names it."));
                }
                if public {
                    operation.security = Some(vec![SecurityRequirement::default()]);
                    continue;
                }
                responses
                    .entry("401".into())
                    .or_insert_with(|| problem("No `Authorization: Bearer APPKEY:APPSECRET`, or an unknown key or wrong secret."));
                responses
                    .entry("429".into())
                    .or_insert_with(|| problem("Too many failed sign-ins from this address or for this key, or the platform's quota for interactive calls is used up; see `Retry-After`."));
                responses
                    .entry("503".into())
                    .or_insert_with(|| problem("The hub's store is unavailable; retry later."));
            }
        }
    }
}

pub fn router(app: Arc<HubApp>) -> Router {
    Router::new()
        .route("/v1/shops", get(list_shops).post(create_shop))
        .route("/v1/shops/{id}", get(get_shop).delete(delete_shop))
        .route("/v1/shops/{id}/revoke", post(revoke_shop))
        .route("/v1/shops/{id}/reauthorize", post(reauthorize_shop))
        .route("/v1/orders", get(list_orders))
        .route("/v1/orders/{shop}/{number}", get(get_order))
        .route("/v1/orders/{shop}/{number}/refund", get(check_refund))
        .route("/v1/products", get(list_products))
        .route("/v1/refunds", get(list_refunds))
        .route("/v1/shipments", post(ship))
        .route("/v1/stock", post(push_stock))
        .route("/v1/union/orders", get(list_union_orders))
        .route("/v1/union/pids", get(list_union_pids))
        .route("/v1/union/goods", get(union::goods))
        .route("/v1/union/links", post(union::links))
        .route("/v1/union/earnings", get(union::earnings_report))
        .route("/v1/sync/runs", get(list_runs))
        .route("/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route("/v1/webhooks/{id}/deliveries", get(webhook_deliveries))
        .route("/v1/webhooks/{id}/enable", post(enable_webhook))
        .route(
            "/v1/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(redeliver_webhook),
        )
        .route("/metrics", get(metrics))
        .with_state(app)
        .merge(SwaggerUi::new("/swagger-ui").url("/openapi.json", ApiDoc::openapi()))
}

pub use crate::problem::Problem;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    crate::problem::problem(status, message)
}

/// `Query<T>` whose refusal is this API's 400 naming what was wrong.
pub(crate) struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S>
    for ApiQuery<T>
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(query)| Self(query))
            .map_err(|rejection| bad_request(rejection.body_text()))
    }
}

/// `Json<T>` whose refusal is this API's 400 naming what was wrong.
pub(crate) struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        Json::<T>::from_request(request, state)
            .await
            .map(|Json(body)| Self(body))
            .map_err(|rejection| bad_request(rejection.body_text()))
    }
}

fn bad_request(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

fn store_failure(err: shopbridge_store::StoreError) -> Response {
    crate::problem::store_failure(err)
}

/// The tenant's shop `id`, or the response to give instead.
async fn own_shop(app: &HubApp, tenant: &str, id: &str) -> Result<Connection, Response> {
    service::own_shop(app, tenant, id).await.map_err(hub_error)
}

/// A shop as the API shows it (never its credentials).
#[derive(Debug, Serialize, ToSchema)]
pub struct ShopView {
    pub id: String,
    pub platform: String,
    pub mode: String,
    /// The `platid` of the unified endpoint.
    pub platid: Option<String>,
    pub name: String,
    /// `pending`, `active`, `refreshing`, `needs_reauth` or `revoked`.
    pub state: String,
    pub last_error: Option<String>,
    pub access_expires_ms: Option<i64>,
    pub refresh_expires_ms: Option<i64>,
}

fn shop_view(c: &ConnectionSummary) -> ShopView {
    let platid = crate::platforms::platid_of(c.kind);
    ShopView {
        id: c.id.clone(),
        platform: c.kind.platform().as_str().to_owned(),
        mode: c.kind.mode().to_owned(),
        platid: Some(platid.to_owned()),
        name: c.name.clone(),
        state: c.state.as_str().to_owned(),
        last_error: c.last_error.clone(),
        access_expires_ms: c.access_expires_ms,
        refresh_expires_ms: c.refresh_expires_ms,
    }
}

#[utoipa::path(get, path = "/v1/shops", responses((status = 200, body = [ShopView]), (status = 401, body = Problem)))]
async fn list_shops(State(app): Shared, Tenant(tenant): Tenant) -> Response {
    match service::shops::list(&app, &tenant).await {
        Ok(shops) => Json(shops.iter().map(shop_view).collect::<Vec<_>>()).into_response(),
        Err(err) => hub_error(err),
    }
}

/// A shop to connect: with credentials it already has (`session_key`, or Winit's `app_key` and
/// `token`), or else through the platform's authorization page (`authorize_url` is answered).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShopRequest {
    /// `vop` or `winit`.
    #[schema(example = "vop", pattern = "^(vop|winit)$")]
    pub platform: String,
    /// VOP: `jit` or `union_tool`.
    #[schema(pattern = "^(jit|union_tool)$")]
    pub mode: Option<String>,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    /// VOP JIT: the vendor id.
    #[schema(minimum = 1, maximum = 999_999_999_999_i64)]
    #[serde(default, deserialize_with = "crate::limits::optional_whole_number")]
    pub vendor_id: Option<i64>,
    /// Winit: the seller account to authorize.
    #[schema(min_length = 1, pattern = "\\S")]
    pub seller: Option<String>,
    /// VOP: an access token (session key) the shop already has.
    #[schema(min_length = 1, pattern = "\\S")]
    pub session_key: Option<String>,
    /// Winit (legacy): the seller account and its token.
    #[schema(min_length = 1, pattern = "\\S")]
    pub app_key: Option<String>,
    #[schema(min_length = 1, pattern = "\\S")]
    pub token: Option<String>,
}

/// Connects a shop: at once with existing credentials (201 with the shop), or by sending its
/// owner to `authorize_url` (202); the callback then stores it.
#[utoipa::path(post, path = "/v1/shops", request_body = NewShopRequest, responses((status = 201, body = ShopView), (status = 202, body = AuthorizeStart), (status = 400, body = Problem), (status = 422, description = "The platform refused the credentials given", body = Problem)))]
async fn create_shop(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiJson(request): ApiJson<NewShopRequest>,
) -> Response {
    if request.session_key.is_some() || request.token.is_some() {
        let existing = crate::connect::Existing {
            name: request.name,
            mode: request.mode,
            session_key: request.session_key,
            vendor_id: request.vendor_id,
            app_key: request.app_key,
            token: request.token,
            refresh_token: None,
        };
        return match service::shops::connect_existing(
            &app,
            &tenant,
            &request.platform,
            existing,
            "api",
        )
        .await
        {
            Ok(shop) => (StatusCode::CREATED, Json(shop_view(&shop.summary()))).into_response(),
            Err(err) => hub_error(err),
        };
    }
    let begin = crate::connect::BeginConnect {
        tenant_id: tenant,
        platform: request.platform,
        mode: request.mode,
        name: request.name,
        seller: request.seller,
        vendor_id: request.vendor_id.map(|id| id.to_string()),
        native: false,
        return_to: None,
        reauthorize: None,
    };
    match service::shops::begin_connect(&app, begin).await {
        Ok(url) => (
            StatusCode::ACCEPTED,
            Json(AuthorizeStart { authorize_url: url }),
        )
            .into_response(),
        Err(err) => hub_error(err),
    }
}

/// What deleting a shop removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShopDeleted {
    pub id: String,
    /// Stored records (orders, refunds, products...) deleted with it, their versions too.
    pub records: u64,
}

/// Deletes a shop that is no longer authorized (revoked, or waiting for re-authorization) with
/// everything stored for it; audited. An authorized shop is a 409: revoke it first.
#[utoipa::path(delete, path = "/v1/shops/{id}", params(("id" = String, Path)), responses((status = 200, body = ShopDeleted), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_shop(
    State(app): Shared,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> Response {
    match service::shops::delete(&app, &tenant, &id, "api").await {
        Ok(deleted) => Json(ShopDeleted {
            id,
            records: deleted.records,
        })
        .into_response(),
        Err(err) => hub_error(err),
    }
}

#[utoipa::path(get, path = "/v1/shops/{id}", params(("id" = String, Path)), responses((status = 200, body = ShopView), (status = 404, body = Problem)))]
async fn get_shop(State(app): Shared, Tenant(tenant): Tenant, Path(id): Path<String>) -> Response {
    match service::own_shop(&app, &tenant, &id).await {
        Ok(shop) => Json(shop_view(&shop.summary())).into_response(),
        Err(err) => hub_error(err),
    }
}

/// Starts a new authorization of the shop (after it needs re-authorization, after it was
/// revoked, or to renew it): the answer's `authorize_url` is where the person logs in; on return
/// the same shop, with its data and tokens, is active again.
#[utoipa::path(post, path = "/v1/shops/{id}/reauthorize", params(("id" = String, Path)), responses((status = 202, body = AuthorizeStart), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn reauthorize_shop(
    State(app): Shared,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> Response {
    match service::shops::reauthorize(&app, &tenant, &id, None).await {
        Ok(url) => (
            StatusCode::ACCEPTED,
            Json(AuthorizeStart { authorize_url: url }),
        )
            .into_response(),
        Err(err) => hub_error(err),
    }
}

/// Revokes the shop's grant at the platform (where it has one) and marks it revoked.
#[utoipa::path(post, path = "/v1/shops/{id}/revoke", params(("id" = String, Path)), responses((status = 200, body = ShopView), (status = 404, body = Problem), (status = 409, description = "The shop is already revoked", body = Problem)))]
async fn revoke_shop(
    State(app): Shared,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> Response {
    match service::shops::revoke(&app, &tenant, &id, "api", "revoked through the API").await {
        Ok(shop) => Json(shop_view(&shop.summary())).into_response(),
        Err(err) => hub_error(err),
    }
}

/// A listing by update time, one page at a time.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The shop's id.
    #[param(min_length = 1)]
    pub shop: String,
    /// Only records updated at or after this time: an RFC 3339 date-time from 2000 to 2099
    /// (epoch milliseconds are taken too).
    #[param(value_type = Option<String>, format = DateTime, pattern = "^20[0-9]{2}-", example = "2026-11-01T00:00:00+08:00")]
    pub updated_after: Option<crate::limits::CallerTime>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,15}:.+$")]
    pub cursor: Option<String>,
    /// 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Where the shop's owner authorizes it (the platform's page); the callback then stores it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeStart {
    pub authorize_url: String,
}

/// A webhook just created, with its signing secret (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
}

/// A delivery with every attempt made at it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttempts {
    pub delivery: shopbridge_store::Delivery,
    pub attempts: Vec<shopbridge_store::Attempt>,
}

/// A delivery queued again.
#[derive(Debug, Serialize, ToSchema)]
pub struct Redelivered {
    pub delivery: shopbridge_store::Delivery,
}

/// A webhook turned back on.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnabledWebhook {
    pub id: String,
    pub enabled: bool,
}

/// Declares a page of a listing whose items are `$item`: every listing answers the same paging
/// and coverage fields. The schemas keep their own names (`OrderPage`...), which generated
/// clients use.
macro_rules! page_schema {
    ($(#[$doc:meta])* $name:ident, $(#[$item_attr:meta])* $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            $(#[$item_attr])*
            pub items: Vec<$item>,
            /// Pass as `cursor` for the next page; absent on the last one.
            pub next_cursor: Option<String>,
            /// The listing holds every change the platform made from `synced_from_ms` until
            /// before this time (epoch ms); later ones appear after the shop's next sync. Absent
            /// until its first sync has stored a page.
            pub synced_until_ms: Option<i64>,
            /// Where the shop's synced history starts (epoch ms): earlier changes were never
            /// read.
            pub synced_from_ms: Option<i64>,
        }
    };
}

page_schema!(
    /// One page of orders (the unified model).
    OrderPage,
    Order
);
page_schema!(
    /// One page of products (the unified model).
    ProductPage,
    shopbridge_core::model::Product
);
page_schema!(
    /// One page of Union orders, as the platform answers them (`OrderInfo`): each item is the
    /// platform's JSON as it was sent, fields it adds kept; a line whose value departs from the
    /// documented type is passed on as sent rather than holding the order back.
    UnionOrderPage,
    shopbridge_vop::union::order::OrderInfo
);
page_schema!(
    /// One page of Union PIDs, as the platform answers them (`PidInfo`).
    PidPage,
    shopbridge_vop::union::pid::PidInfo
);
page_schema!(
    /// One page of a listing, its items as the store holds them: what every listing answers.
    PageOf,
    #[schema(value_type = Vec<Object>)]
    Value
);

fn list_params(query: &ListQuery) -> Result<(i64, Option<Cursor>, i64), String> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(format!("limit: expected 1 to 500, got {limit}"));
    }
    let cursor = match &query.cursor {
        None => None,
        Some(text) => Some(
            Cursor::decode(text).ok_or_else(|| "cursor: not a cursor this API gave".to_owned())?,
        ),
    };
    let updated_after = match query.updated_after {
        Some(after) => {
            crate::limits::epoch_ms("updated_after", after.0).map_err(|e| e.to_string())?
        }
        None => i64::MIN,
    };
    Ok((updated_after, cursor, limit))
}

async fn list_records(app: &HubApp, tenant: &str, query: ListQuery, stream: &str) -> Response {
    let shop = match own_shop(app, tenant, &query.shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    records_listing(app, &shop, &query, Listing::Records(stream)).await
}

/// Which stored listing a page comes from.
#[derive(Debug, Clone, Copy)]
enum Listing<'a> {
    /// A stream's records.
    Records(&'a str),
    /// The orders of a stream with a line refunded or being refunded (their `has_refund`
    /// column, set where the order is written).
    Refunding(&'a str),
    /// Union orders, in their own table.
    UnionOrders,
}

/// A page of a shop's listing by update time. The cursor follows the scan, so a page of
/// refunding orders may hold fewer than `limit` items without being the last.
async fn records_listing(
    app: &HubApp,
    shop: &Connection,
    query: &ListQuery,
    listing: Listing<'_>,
) -> Response {
    let (from, cursor, limit) = match list_params(query) {
        Ok(params) => params,
        Err(message) => return bad_request(message),
    };
    let stream = match listing {
        Listing::Records(stream) | Listing::Refunding(stream) => stream,
        Listing::UnionOrders => crate::sources::UNION_ORDERS,
    };
    // Read before the page: coverage only grows, so the page holds at least what it claims.
    let coverage = match app.store.coverage(&shop.id, stream).await {
        Ok(coverage) => coverage,
        Err(err) => return store_failure(err),
    };
    let refunding_only = matches!(listing, Listing::Refunding(_));
    let rows = match listing {
        Listing::Records(stream) | Listing::Refunding(stream) => app
            .store
            .records_page(&shop.id, stream, from, cursor.as_ref(), limit)
            .await
            .map(|records| {
                records
                    .into_iter()
                    .map(|r| {
                        let kept = !refunding_only || r.record.columns.has_refund;
                        (r.cursor(), kept.then_some(r.record.payload))
                    })
                    .collect::<Vec<_>>()
            }),
        Listing::UnionOrders => app
            .store
            .union_orders_page(&shop.id, from, cursor.as_ref(), limit)
            .await
            .map(|rows| {
                rows.into_iter()
                    .map(|(cursor, payload)| (cursor, Some(payload)))
                    .collect()
            }),
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(err) => return store_failure(err),
    };
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|(c, _)| c.encode()))
        .flatten();
    let items = rows
        .iter()
        .filter_map(|(_, payload)| payload.as_deref())
        .map(|payload| serde_json::from_str(payload).unwrap_or(Value::Null))
        .collect();
    Json(PageOf {
        items,
        next_cursor,
        synced_until_ms: coverage.map(|(_, until)| until),
        synced_from_ms: coverage.map(|(from, _)| from),
    })
    .into_response()
}

/// Orders by update time, as the store holds them (unified model).
#[utoipa::path(get, path = "/v1/orders", params(ListQuery), responses((status = 200, body = OrderPage), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn list_orders(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Response {
    let shop = match own_shop(&app, &tenant, &query.shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match service::orders::order_stream(&app, &shop) {
        Ok(stream) => records_listing(&app, &shop, &query, Listing::Records(stream)).await,
        Err(err) => hub_error(err),
    }
}

/// Products as the store holds them (unified model).
#[utoipa::path(get, path = "/v1/products", params(ListQuery), responses((status = 200, body = ProductPage), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn list_products(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Response {
    list_records(&app, &tenant, query, PRODUCTS).await
}

/// Refunds: a Union account's after-settlement refunds as the platform gave them, or a JIT
/// shop's orders with a refunded or refunding line (unified model), by update time.
#[utoipa::path(get, path = "/v1/refunds", params(ListQuery), responses((status = 200, body = OrderPage), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn list_refunds(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Response {
    let shop = match own_shop(&app, &tenant, &query.shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    if shop.kind.is_union() {
        return records_listing(
            &app,
            &shop,
            &query,
            Listing::Records(crate::sources::UNION_REFUNDS),
        )
        .await;
    }
    match service::orders::order_stream(&app, &shop) {
        Ok(orders) => records_listing(&app, &shop, &query, Listing::Refunding(orders)).await,
        Err(err) => hub_error(err),
    }
}

/// The Union account's PIDs.
#[utoipa::path(get, path = "/v1/union/pids", params(ListQuery), responses((status = 200, body = PidPage), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn list_union_pids(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Response {
    list_records(&app, &tenant, query, UNION_PIDS).await
}

/// Union orders by update time, as the platform gave them.
#[utoipa::path(get, path = "/v1/union/orders", params(ListQuery), responses((status = 200, body = UnionOrderPage), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn list_union_orders(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Response {
    // A bad parameter is named before the shop is looked up.
    if let Err(message) = list_params(&query) {
        return bad_request(message);
    }
    let shop = match own_shop(&app, &tenant, &query.shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    records_listing(&app, &shop, &query, Listing::UnionOrders).await
}

/// One order: from the store, else from the platform if it is not synced yet.
#[utoipa::path(get, path = "/v1/orders/{shop}/{number}", params(("shop" = String, Path), ("number" = String, Path)), responses((status = 200, description = "The order (unified model): from the store, else live from the platform", body = Order), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn get_order(
    State(app): Shared,
    Tenant(tenant): Tenant,
    Path((shop, number)): Path<(String, String)>,
) -> Response {
    let shop = match own_shop(&app, &tenant, &shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match service::orders::by_number(&app, &shop, &number).await {
        Ok(Some(order)) => Json::<Order>(order).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("order: no order {number:?} in this shop"),
        ),
        Err(err) => hub_error(err),
    }
}

/// The order's refund state, asked of the platform now.
#[utoipa::path(get, path = "/v1/orders/{shop}/{number}/refund", params(("shop" = String, Path), ("number" = String, Path)), responses((status = 200, body = shopbridge_core::model::RefundCheck), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn check_refund(
    State(app): Shared,
    Tenant(tenant): Tenant,
    Path((shop, number)): Path<(String, String)>,
) -> Response {
    let shop = match own_shop(&app, &tenant, &shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match service::orders::check_refund(&app, &shop, &number).await {
        Ok(check) => Json(check).into_response(),
        Err(err) => hub_error(err),
    }
}

/// What to ship.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    #[schema(min_length = 1)]
    pub shop: String,
    #[schema(min_length = 1, pattern = "\\S")]
    pub plat_order_no: String,
    /// polyapi `LogisticType`, e.g. `JH_014` (顺丰).
    #[schema(min_length = 1, pattern = "\\S", example = "JH_014")]
    pub logistic_type: String,
    pub logistic_no: String,
    pub logistic_name: Option<String>,
    /// Lines and counts when only part of the order ships.
    #[serde(default)]
    pub lines: Vec<ShipmentLine>,
    pub warehouse: Option<String>,
    /// polyapi `shoptype`, e.g. `JH_005` (JITX).
    #[schema(pattern = "^JH_00[1-6]$")]
    pub shop_type: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentLine {
    pub sub_order_no: String,
    #[schema(minimum = 1, maximum = 99_999)]
    #[serde(deserialize_with = "crate::limits::whole_number")]
    pub count: i64,
}

/// Ships an order on the platform.
#[utoipa::path(post, path = "/v1/shipments", request_body = ShipmentRequest, responses((status = 200, body = shopbridge_core::model::ShipmentResult), (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn ship(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiJson(request): ApiJson<ShipmentRequest>,
) -> Response {
    let shop_type = match request
        .shop_type
        .as_deref()
        .map(|code| ShopType::from_code(code).ok_or(code))
    {
        None => None,
        Some(Ok(kind)) => Some(kind),
        Some(Err(code)) => return bad_request(format!("shop_type: unknown code {code:?}")),
    };
    let shipment = Shipment {
        plat_order_no: request.plat_order_no,
        logistic_type: request.logistic_type,
        logistic_no: request.logistic_no,
        logistic_name: request.logistic_name,
        lines: request
            .lines
            .into_iter()
            .map(|l| (l.sub_order_no, l.count))
            .collect(),
        warehouse: request.warehouse,
        shop_type,
    };
    // A malformed shipment is told so whatever the shop.
    if let Err(err) = service::orders::check_shipment(&shipment) {
        return hub_error(err);
    }
    let shop = match own_shop(&app, &tenant, &request.shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match service::orders::ship(&app, &shop, &shipment).await {
        Ok(result) => Json(result).into_response(),
        Err(err) => hub_error(err),
    }
}

/// A stock level to push.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockRequest {
    #[schema(min_length = 1)]
    pub shop: String,
    /// The merchant code (the barcode on Vipshop).
    #[schema(min_length = 1, pattern = "\\S")]
    pub outer_id: String,
    /// The level (full: 0 to 9,999,999) or the change (incremental: -9,999,999 to 9,999,999).
    #[schema(minimum = -9_999_999, maximum = 9_999_999)]
    #[serde(deserialize_with = "crate::limits::whole_number")]
    pub quantity: i64,
    /// `full` (default) or `incremental`.
    #[schema(pattern = "^(full|incremental)$")]
    pub mode: Option<String>,
    pub warehouse: Option<String>,
    /// Acknowledges a circuit break (熔断): the platform refuses a drop of more than its
    /// threshold at once (a 422 saying so) until the same push is sent again with this set.
    #[serde(default)]
    pub circuit_break_ack: bool,
}

/// Pushes a stock level to the platform.
#[utoipa::path(post, path = "/v1/stock", request_body = StockRequest, responses((status = 200, body = shopbridge_core::model::StockResult), (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn push_stock(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiJson(request): ApiJson<StockRequest>,
) -> Response {
    let mode = match request.mode.as_deref() {
        None | Some("full") => StockMode::Full,
        Some("incremental") => StockMode::Incremental,
        Some(other) => return bad_request(format!("mode: full or incremental, got {other:?}")),
    };
    let update = StockUpdate {
        product_id: None,
        sku_id: None,
        outer_id: request.outer_id,
        quantity: request.quantity,
        mode,
        warehouse: request.warehouse,
        circuit_break_ack: request.circuit_break_ack,
        batch_no: None,
    };
    // A malformed push is told so whatever the shop.
    if let Err(err) = service::orders::check_stock(&update) {
        return hub_error(err);
    }
    let shop = match own_shop(&app, &tenant, &request.shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match service::orders::push_stock(&app, &shop, &update).await {
        Ok(result) => Json(result).into_response(),
        Err(err) => hub_error(err),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    #[param(min_length = 1)]
    pub shop: String,
    /// 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// The shop's latest sync runs, newest first.
#[utoipa::path(get, path = "/v1/sync/runs", params(RunsQuery), responses((status = 200, body = [shopbridge_store::SyncRun]), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn list_runs(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<RunsQuery>,
) -> Response {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return bad_request(format!("limit: expected 1 to 500, got {limit}"));
    }
    let shop = match own_shop(&app, &tenant, &query.shop).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match app.store.sync_runs(&shop.id, limit).await {
        Ok(runs) => Json(runs).into_response(),
        Err(err) => store_failure(err),
    }
}

/// A webhook to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where events are POSTed (http or https, a public address).
    #[schema(
        min_length = 1,
        pattern = "^https?://[^/?#@]+",
        example = "https://erp.example.com/hooks/shopbridge"
    )]
    pub url: String,
    /// Any of `order.created`, `order.updated`, `union_order.created`, `union_order.updated`,
    /// `refund.changed`, `connection.needs_reauth`, `sync.failed`; all of them (and any added
    /// later) when absent or empty.
    #[serde(default)]
    pub events: Vec<String>,
}

/// Creates a webhook; the answer holds its signing secret, shown this once.
#[utoipa::path(post, path = "/v1/webhooks", request_body = WebhookRequest, responses((status = 201, body = CreatedWebhook), (status = 400, body = Problem), (status = 422, description = "The URL is well-formed but not a target the hub sends to (not public, unresolvable, the hub itself)", body = Problem)))]
async fn create_webhook(
    State(app): Shared,
    Tenant(tenant): Tenant,
    ApiJson(request): ApiJson<WebhookRequest>,
) -> Response {
    let targets = app.webhook_targets.clone().with_own_origin(&app.public_url);
    // Not even of the documented shape: malformed. Of that shape, but not a target the hub
    // sends to (not a valid host, not public, unresolvable, the hub itself): refused on its
    // meaning.
    let shaped = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| request.url.strip_prefix(scheme))
        .any(|rest| {
            rest.split(['/', '?', '#'])
                .next()
                .is_some_and(|authority| !authority.is_empty() && !authority.contains('@'))
        });
    if !shaped {
        // Not echoed: what was sent may hold a password.
        return bad_request(
            "url: expected an http(s) URL with a host and no user name or password",
        );
    }
    if let Err(refused) = targets.check_target(&request.url).await {
        return error(StatusCode::UNPROCESSABLE_ENTITY, refused.to_string());
    }
    let secret = uuid::Uuid::new_v4().simple().to_string();
    let now = app.clock.now_ms();
    match app
        .store
        .create_webhook(
            &tenant,
            &request.url,
            &request.events,
            &SecretString::from(secret.clone()),
            now,
        )
        .await
    {
        Ok(id) => {
            // The events as stored: none named means every event, later ones too.
            let events = match app.store.webhooks(&tenant).await {
                Ok(hooks) => hooks
                    .into_iter()
                    .find(|hook| hook.id == id)
                    .map(|hook| hook.events)
                    .unwrap_or(request.events),
                Err(err) => return store_failure(err),
            };
            (
                StatusCode::CREATED,
                Json(CreatedWebhook {
                    id,
                    url: request.url,
                    events,
                    secret,
                }),
            )
                .into_response()
        }
        Err(shopbridge_store::StoreError::Invalid(message)) => bad_request(message),
        Err(err) => store_failure(err),
    }
}

/// The tenant's webhooks, with whether each is enabled and why not.
#[utoipa::path(get, path = "/v1/webhooks", responses((status = 200, body = [shopbridge_store::Webhook])))]
async fn list_webhooks(State(app): Shared, Tenant(tenant): Tenant) -> Response {
    match app.store.webhooks(&tenant).await {
        Ok(hooks) => Json(hooks).into_response(),
        Err(err) => store_failure(err),
    }
}

/// A webhook's latest deliveries with every attempt.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", params(("id" = String, Path)), responses((status = 200, body = [DeliveryAttempts]), (status = 404, body = Problem)))]
async fn webhook_deliveries(
    State(app): Shared,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> Response {
    match app.store.webhooks(&tenant).await {
        Ok(hooks) if hooks.iter().any(|h| h.id == id) => {}
        Ok(_) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("webhook: no webhook {id:?} of this tenant"),
            );
        }
        Err(err) => return store_failure(err),
    }
    match app.store.webhook_deliveries(&tenant, &id, 200).await {
        Ok(deliveries) => Json(
            deliveries
                .into_iter()
                .map(|(delivery, attempts)| DeliveryAttempts { delivery, attempts })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(err) => store_failure(err),
    }
}

/// Turns a disabled webhook back on.
#[utoipa::path(post, path = "/v1/webhooks/{id}/enable", params(("id" = String, Path)), responses((status = 200, body = EnabledWebhook), (status = 404, body = Problem)))]
async fn enable_webhook(
    State(app): Shared,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> Response {
    match app.store.enable_webhook(&tenant, &id).await {
        Ok(true) => Json(EnabledWebhook { id, enabled: true }).into_response(),
        Ok(false) => error(
            StatusCode::NOT_FOUND,
            format!("webhook: no webhook {id:?} of this tenant"),
        ),
        Err(err) => store_failure(err),
    }
}

/// Sends a delivery again, now, with a fresh retry budget (a failed one, or one the receiver
/// lost); its earlier attempts stay in its log. A disabled webhook sends it once enabled.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery}/redeliver", params(("id" = String, Path), ("delivery" = i64, Path)), responses((status = 202, body = Redelivered), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn redeliver_webhook(
    State(app): Shared,
    Tenant(tenant): Tenant,
    Path((id, delivery)): Path<(String, String)>,
) -> Response {
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            format!("delivery: no delivery {delivery:?} of webhook {id:?} of this tenant"),
        )
    };
    let Ok(delivery_id) = delivery.parse::<i64>() else {
        return not_found();
    };
    match service::webhooks::redeliver(&app, &tenant, &id, delivery_id).await {
        Ok(shopbridge_store::Redelivery::Queued(queued)) => {
            (StatusCode::ACCEPTED, Json(Redelivered { delivery: queued })).into_response()
        }
        Ok(shopbridge_store::Redelivery::StillPending) => error(
            StatusCode::CONFLICT,
            format!("delivery: {delivery_id} has not finished yet; it is sent again by itself"),
        ),
        Ok(shopbridge_store::Redelivery::NotFound) => not_found(),
        Err(err) => hub_error(err),
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", responses(
    (status = 200, description = "Prometheus text", content_type = "text/plain", body = String),
    (status = 401, description = "The hub asks for its metrics token (`--metrics-token-file`) and the request did not carry it as `Authorization: Bearer TOKEN`", body = Problem, content_type = "application/problem+json"),
))]
/// Prometheus text: HTTP requests and latency per route, platform calls per method and outcome,
/// sync runs and lag per stream, webhook attempts and backlog, quota use, database pools.
async fn metrics(State(app): Shared, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &app.metrics_token {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !crate::state::constant_time_eq(
            given.as_bytes(),
            secrecy::ExposeSecret::expose_secret(token).as_bytes(),
        ) {
            let mut refused = crate::problem::problem(
                StatusCode::UNAUTHORIZED,
                "the metrics ask for the operator's token: Authorization: Bearer TOKEN",
            );
            refused.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
            return refused;
        }
    }
    match crate::telemetry::render(&app.store, app.clock.now_ms()).await {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            text,
        )
            .into_response(),
        Err(err) => store_failure(err),
    }
}

/// A helper for tests and tools: the OpenAPI document as JSON.
pub fn openapi_json() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}))
}
