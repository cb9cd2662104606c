//! Winit (万邑通) overseas warehouses: a seller's outbound orders and products, the
//! authorization page that answers a token, and legacy app key + token credentials.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use shopbridge_core::capability::{Connector, ConnectorError};
use shopbridge_core::{Clock, Platform, ShopKind};
use shopbridge_store::{Connection, RecordColumns, SyncedRecord};
use shopbridge_winit::WinitClient;
use shopbridge_winit::actions::QueryOutboundOrderList;
use shopbridge_winit::connector::WinitConnector;

use super::{
    Authorization, BeginConnect, BeginError, CallbackMethod, ConnectForm, CredentialsRefused,
    Existing, FormField, MINUTE_MS, NewCredentials, PlatformAdapter, StreamPlan, Text, unreadable,
};
use crate::sources::{ALL_TIME_MS, PRODUCTS, ProductStream};
use crate::sync::{CallKey, DAY_MS, FetchedPage, PageRecords, StreamSource, SyncError};

/// A seller's outbound (出库) orders.
pub const WINIT_OUTBOUND: &str = "winit_outbound";

/// Our `platid` for Winit (polyapi's own is unpublished).
pub const PLATID: &str = "9003";

/// The Winit application, when this hub has one.
#[derive(Debug, Clone)]
pub struct WinitAdapter {
    pub client: WinitClient,
}

/// What a Winit shop stores in the vault: the seller account and its token.
#[derive(Deserialize)]
struct WinitCredentials {
    app_key: String,
    token: String,
}

const KINDS: &[ShopKind] = &[ShopKind::WinitWarehouse];

const FORMS: &[ConnectForm] = &[ConnectForm {
    kind: ShopKind::WinitWarehouse,
    action: Text {
        zh: "连接万邑通",
        en: "Connect Winit",
    },
    fields: &[FormField {
        name: "seller",
        label: Text {
            zh: "万邑联账号",
            en: "Winit seller account",
        },
        numeric: false,
    }],
}];

impl WinitAdapter {
    pub fn new(client: WinitClient) -> Self {
        Self { client }
    }

    /// A shop's client for its seller, and the seller account.
    fn seller(&self, shop: &Connection) -> Result<(WinitClient, String), SyncError> {
        let creds: WinitCredentials = serde_json::from_str(shop.credentials.expose_secret())
            .map_err(|_| unreadable(shop, "credentials are not a Winit app_key and token"))?;
        let seller = self
            .client
            .for_seller(creds.app_key.clone(), SecretString::from(creds.token));
        Ok((seller, creds.app_key))
    }

    /// Whether `token` signs for the seller `app_key`: one read-only call (the warehouses).
    async fn signs_for(
        &self,
        app_key: &str,
        token: &str,
    ) -> Result<(), shopbridge_winit::WinitError> {
        self.client
            .for_seller(app_key.to_owned(), SecretString::from(token.to_owned()))
            .execute(&shopbridge_winit::actions::QueryWarehouse {})
            .await
            .map(|_| ())
    }

    fn sealed(app_key: &str, token: &str) -> NewCredentials {
        NewCredentials {
            kind: ShopKind::WinitWarehouse,
            sealed: SecretString::from(json!({"app_key": app_key, "token": token}).to_string()),
            access_expires_ms: None,
            refresh_expires_ms: None,
        }
    }
}

#[async_trait]
impl PlatformAdapter for WinitAdapter {
    fn platform(&self) -> Platform {
        Platform::Winit
    }

    fn kinds(&self) -> &'static [ShopKind] {
        KINDS
    }

    /// One kind of shop: a mode, if named, is not asked about.
    fn connectable(&self, _mode: Option<&str>) -> Result<ShopKind, String> {
        Ok(ShopKind::WinitWarehouse)
    }

    /// Outbound orders, listed by order date, every 10 minutes over 7 days; products every 6
    /// hours.
    fn plans(&self, _kind: ShopKind) -> Vec<StreamPlan> {
        vec![
            StreamPlan::every(WINIT_OUTBOUND, 10 * MINUTE_MS, 7 * DAY_MS, 8 * DAY_MS),
            StreamPlan::every(PRODUCTS, 360 * MINUTE_MS, 0, ALL_TIME_MS),
        ]
    }

    /// Outbound orders are the warehouse's, not a shop's orders in the unified model.
    fn order_stream(&self, _kind: ShopKind) -> Option<&'static str> {
        None
    }

    async fn source(
        &self,
        shop: &Connection,
        stream: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn StreamSource>, SyncError> {
        let (seller, app_key) = self.seller(shop)?;
        match stream {
            WINIT_OUTBOUND => Ok(Arc::new(WinitOutboundSource { client: seller })),
            PRODUCTS => Ok(Arc::new(ProductStream {
                connector: Arc::new(WinitConnector::new(seller)),
                clock,
                page_size: 200,
                call: CallKey {
                    platform: Platform::Winit.as_str(),
                    service: "openapi".into(),
                    method: "winit.mms.item.list".into(),
                    caller: app_key,
                },
            })),
            other => Err(SyncError::Settings(format!(
                "no stream {other:?} for a {} connection",
                shop.kind
            ))),
        }
    }

    async fn connector(&self, shop: &Connection) -> Result<Arc<dyn Connector>, SyncError> {
        Ok(Arc::new(WinitConnector::new(self.seller(shop)?.0)))
    }

    fn has_authorization_flow(&self, _kind: ShopKind) -> bool {
        true
    }

    fn connect_forms(&self) -> &'static [ConnectForm] {
        FORMS
    }

    fn kind_name(&self, _kind: ShopKind) -> Text {
        Text {
            zh: "万邑通海外仓",
            en: "Winit warehouse",
        }
    }

    fn stream_name(&self, stream: &str) -> Option<Text> {
        let (zh, en) = match stream {
            WINIT_OUTBOUND => ("出库单", "Outbound orders"),
            PRODUCTS => ("商品", "Products"),
            _ => return None,
        };
        Some(Text { zh, en })
    }

    fn authorize(
        &self,
        public_url: &str,
        _kind: ShopKind,
        request: &BeginConnect,
        state: &str,
    ) -> Result<Authorization, BeginError> {
        let Some(seller) = request.seller.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Err(BeginError::Incomplete(
                "seller: the Winit seller account (万邑联) to authorize is required".into(),
            ));
        };
        let redirect_uri = format!("{public_url}/connect/winit/callback");
        let url = self
            .client
            .authorize_url(&redirect_uri, Some(state))
            .map_err(|err| BeginError::Invalid(err.to_string()))?;
        Ok(Authorization {
            url: url.to_string(),
            redirect_uri,
            account: Some(seller.to_owned()),
        })
    }

    fn reauthorize_request(&self, shop: &Connection) -> (Option<String>, Option<String>) {
        let seller = serde_json::from_str::<serde_json::Value>(shop.credentials.expose_secret())
            .ok()
            .and_then(|c| c["app_key"].as_str().map(str::to_owned));
        (seller, None)
    }

    async fn existing_credentials(
        &self,
        existing: &Existing,
        _now_ms: i64,
    ) -> Result<NewCredentials, CredentialsRefused> {
        let (Some(app_key), Some(token)) = (
            existing.app_key.as_deref().filter(|k| !k.is_empty()),
            existing.token.as_deref().filter(|t| !t.is_empty()),
        ) else {
            return Err(CredentialsRefused::Missing(
                "app_key and token: both required for a Winit shop".into(),
            ));
        };
        if let Err(err) = self.signs_for(app_key, token).await {
            return Err(CredentialsRefused::Refused(format!(
                "token: the legacy token does not sign for {app_key}: {err}"
            )));
        }
        Ok(Self::sealed(app_key, token))
    }

    /// Winit answers the token itself on the callback: in the query, or in the fragment, which
    /// the relay page posts back as a form.
    fn callback_steps(&self) -> &'static [(&'static str, CallbackMethod)] {
        &[
            ("callback", CallbackMethod::Query),
            ("callback", CallbackMethod::Form),
        ]
    }

    /// The token may be in the URL's fragment, which browsers never send: a page relays it.
    fn relay(&self, _step: &str, params: &HashMap<String, String>) -> Option<&'static str> {
        (!params.contains_key("access_token") && !params.contains_key("error"))
            .then_some(shopbridge_winit::oauth::FRAGMENT_RELAY_PAGE)
    }

    async fn complete(
        &self,
        _step: &str,
        issued: &shopbridge_store::ConnectState,
        params: &HashMap<String, String>,
        _now_ms: i64,
    ) -> Result<NewCredentials, String> {
        let Some(token) = params.get("access_token").filter(|t| !t.is_empty()) else {
            return Err(format!(
                "authorization was not granted: {}",
                params.get("error").map(String::as_str).unwrap_or_default()
            ));
        };
        // Winit's answer does not say who signed in: the token must sign for the seller the
        // flow was started for, or another account's token would be kept under that seller.
        let seller = issued.seller.as_deref().unwrap_or_default();
        if let Err(err) = self.signs_for(seller, token).await {
            tracing::warn!(error = %err, "a Winit grant does not sign for the seller it was asked for");
            return Err(format!(
                "seller: the Winit account that signed in is not {seller}; sign in as {seller}"
            ));
        }
        Ok(Self::sealed(seller, token))
    }
}

/// Winit outbound orders (`queryOutboundOrderList`) by order date. The list has no update time,
/// so each run re-reads a lookback of days and stores the orders whose content changed.
#[derive(Debug, Clone)]
pub struct WinitOutboundSource {
    pub client: WinitClient,
}

const WINIT_PAGE_SIZE: i64 = 200;

fn beijing_date(ms: i64) -> String {
    shopbridge_vop::time::format_datetime_ms(ms)
        .chars()
        .take(10)
        .collect()
}

#[async_trait]
impl StreamSource for WinitOutboundSource {
    fn stream(&self) -> &'static str {
        WINIT_OUTBOUND
    }

    fn max_window_ms(&self) -> i64 {
        31 * DAY_MS
    }

    fn clock(&self) -> &dyn Clock {
        self.client.clock()
    }

    fn call(&self) -> CallKey {
        CallKey {
            platform: Platform::Winit.as_str(),
            service: "openapi".into(),
            method: "queryOutboundOrderList".into(),
            caller: self.client.config().app_key.clone(),
        }
    }

    fn page_size(&self) -> u32 {
        WINIT_PAGE_SIZE as u32
    }

    async fn fetch(
        &self,
        start_ms: i64,
        end_ms: i64,
        _pass: u32,
        page: u32,
    ) -> Result<FetchedPage, ConnectorError> {
        let request = QueryOutboundOrderList {
            date_ordered_start: Some(beijing_date(start_ms)),
            date_ordered_end: Some(beijing_date(end_ms)),
            page_size: WINIT_PAGE_SIZE,
            page_num: i64::from(page),
            ..Default::default()
        };
        let answer = self.client.execute(&request).await?;
        let seen = self.client.clock().now_ms();
        Ok(FetchedPage {
            unchanged: 0,
            total: answer.total.and_then(|total| u64::try_from(total).ok()),
            records: PageRecords::Records(
                answer
                    .list
                    .iter()
                    .map(|order| SyncedRecord {
                        id: order.document_no.clone(),
                        updated_ms: seen,
                        is_final: false,
                        payload: json(order),
                        columns: RecordColumns::default(),
                    })
                    .collect(),
            ),
        })
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
