//! Vipshop's open platform (VOP): Union affiliate accounts (channel and tool-provider modes)
//! and JIT suppliers, their streams, OAuth flows and token upkeep.

pub mod streams;
pub mod tokens;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use shopbridge_core::capability::{Connector, ConnectorError};
use shopbridge_core::codes::ShopType;
use shopbridge_core::{Clock, ErrorClass, Platform, ShopKind};
use shopbridge_store::{Connection, ConnectionState, ConnectionSummary};
use shopbridge_vop::jit::connector::JitConnector;
use shopbridge_vop::jit::{DVD_SERVICE, PRODUCT_SERVICE};
use shopbridge_vop::oauth::OOB_REDIRECT_URI;
use shopbridge_vop::union::order::MAX_WINDOW_MS;
use shopbridge_vop::{Mode, VopClient};

use self::streams::{
    JIT_RETURNS, JitReturnSource, UNION_ORDERS, UNION_PIDS, UNION_REFUNDS, UnionOrderSource,
    UnionPidSource, UnionRefundSource,
};
use super::{
    Authorization, BeginConnect, BeginError, CallbackMethod, ConnectForm, CredentialsRefused,
    Existing, FormField, MINUTE_MS, NewCredentials, PlatformAdapter, StreamPlan, Text, unreadable,
};

use crate::sources::{ALL_TIME_MS, JIT_ORDERS, OrderStream, PRODUCTS, ProductStream};
use crate::sync::{CallKey, DAY_MS, StreamSource, SyncError};
use crate::{TokenManager, VopTokens};

/// Our `platid` values (polyapi's own for these platforms are unpublished).
pub const PLATID_UNION: &str = "9001";
pub const PLATID_JIT: &str = "9002";

/// The streams of a VOP kind of shop. Orders every 3 minutes by update time (the Union guide's advice, followed for every
/// order stream); JIT returns every 30 minutes by creation time; Union refunds every 30
/// minutes, each window read by application, booking and settlement time, with a day of
/// lookback for the platform's lag; product and PID lists every 6 hours.
pub fn plans(kind: ShopKind) -> Vec<StreamPlan> {
    match kind {
        ShopKind::VopUnionChannel | ShopKind::VopUnionTool => vec![
            StreamPlan::every(UNION_ORDERS, 3 * MINUTE_MS, 10 * MINUTE_MS, DAY_MS),
            StreamPlan::every(UNION_REFUNDS, 30 * MINUTE_MS, DAY_MS, MAX_WINDOW_MS),
            StreamPlan::every(UNION_PIDS, 360 * MINUTE_MS, 0, ALL_TIME_MS),
        ],
        ShopKind::VopJit => vec![
            // Ninety days of history: ERPs ask GetOrder for the last 30 days and more, and
            // the store answers only what its history covers.
            StreamPlan {
                history_ms: 90 * DAY_MS,
                ..StreamPlan::every(JIT_ORDERS, 3 * MINUTE_MS, 10 * MINUTE_MS, DAY_MS)
            },
            StreamPlan::every(JIT_RETURNS, 30 * MINUTE_MS, 10 * MINUTE_MS, 7 * DAY_MS),
            StreamPlan::every(PRODUCTS, 360 * MINUTE_MS, 0, ALL_TIME_MS),
        ],
        _ => Vec::new(),
    }
}

/// A token the shop cannot get as a platform failure of the right class: one that must be
/// authorized again stops the shop's streams, anything else is retried.
fn token_failure(platform: Platform, err: crate::TokenError) -> SyncError {
    let class = match &err {
        crate::TokenError::NeedsReauthorization(..) => ErrorClass::NeedsReauthorization,
        _ => ErrorClass::Transient,
    };
    SyncError::Platform(ConnectorError {
        platform,
        class,
        code: None,
        message: err.to_string(),
        cause: Some(Arc::new(err)),
    })
}

/// The `platid` of a VOP kind of shop.
pub fn platid(kind: ShopKind) -> &'static str {
    if kind.is_union() {
        PLATID_UNION
    } else {
        PLATID_JIT
    }
}

/// The VOP application and the upkeep of its shops' tokens.
#[derive(Debug, Clone)]
pub struct VopAdapter {
    /// The application's client (no access token): channel-mode calls, exchanges, refreshes.
    pub client: VopClient,
    pub tokens: TokenManager,
}

const KINDS: &[ShopKind] = &[
    ShopKind::VopUnionChannel,
    ShopKind::VopUnionTool,
    ShopKind::VopJit,
];

const FORMS: &[ConnectForm] = &[
    ConnectForm {
        kind: ShopKind::VopUnionTool,
        action: Text {
            zh: "连接唯品会联盟",
            en: "Connect Vipshop Union",
        },
        fields: &[],
    },
    ConnectForm {
        kind: ShopKind::VopJit,
        action: Text {
            zh: "连接唯品会JIT",
            en: "Connect Vipshop JIT",
        },
        fields: &[FormField {
            name: "vendor_id",
            label: Text {
                zh: "供应商编号",
                en: "Vendor id",
            },
            numeric: true,
        }],
    },
];

/// A JIT shop's vendor id, as a caller gave it.
/// A JIT shop's vendor id, as a caller gave it: `None` when absent, an error naming the field
/// when it is not a number in range.
fn vendor_id(text: Option<&str>) -> Result<Option<i64>, String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let id = text
        .parse::<i64>()
        .map_err(|_| format!("vendor_id: expected a number, got {text:?}"))?;
    crate::limits::in_range("vendor_id", id, crate::limits::ACCOUNT_ID)
        .map(Some)
        .map_err(|err| err.to_string())
}

impl VopAdapter {
    pub fn new(client: VopClient, tokens: TokenManager) -> Self {
        Self { client, tokens }
    }

    /// The Union mode of a shop, or why it is not a Union account: a check that needs no
    /// token (unlike [`VopAdapter::union_client`], which may refresh one).
    pub fn union_mode(kind: ShopKind) -> Result<Mode, SyncError> {
        match kind {
            ShopKind::VopUnionChannel => Ok(Mode::Channel),
            ShopKind::VopUnionTool => Ok(Mode::ToolProvider),
            other => Err(SyncError::Settings(format!(
                "a {other} connection is not a Union account"
            ))),
        }
    }

    async fn client_for(&self, shop: &Connection) -> Result<VopClient, SyncError> {
        let token = self
            .tokens
            .access_token(&shop.id)
            .await
            .map_err(|err| token_failure(Platform::Vop, err))?;
        Ok(self.client.with_access_token(token))
    }

    /// A Union account's client and mode: the app's own in channel mode, the user's token in
    /// tool-provider mode.
    pub async fn union_client(&self, shop: &Connection) -> Result<(VopClient, Mode), SyncError> {
        match Self::union_mode(shop.kind)? {
            Mode::Channel => Ok((self.client.clone(), Mode::Channel)),
            Mode::ToolProvider => Ok((self.client_for(shop).await?, Mode::ToolProvider)),
        }
    }

    /// A JIT shop's client (with a live token) and vendor id.
    async fn jit_parts(&self, shop: &Connection) -> Result<(VopClient, i64), SyncError> {
        if shop.kind != ShopKind::VopJit {
            return Err(SyncError::Settings(format!(
                "a {} connection has no order, stock or refund operations",
                shop.kind
            )));
        }
        let tokens: VopTokens = serde_json::from_str(shop.credentials.expose_secret())
            .map_err(|_| unreadable(shop, "credentials are not VOP tokens"))?;
        let vendor_id = tokens.vendor_id.ok_or_else(|| {
            unreadable(
                shop,
                "a JIT connection needs its vendor id: connect it again with vendor_id",
            )
        })?;
        Ok((self.client_for(shop).await?, vendor_id))
    }

    /// Seals VOP tokens for a shop of `kind`.
    fn sealed(kind: ShopKind, tokens: &VopTokens) -> NewCredentials {
        NewCredentials {
            kind,
            sealed: SecretString::from(serde_json::to_string(tokens).unwrap_or_default()),
            access_expires_ms: Some(tokens.expires_at_ms),
            refresh_expires_ms: tokens.refresh_expires_at_ms,
        }
    }

    /// Exchanges a callback's code for the shop's tokens.
    async fn exchange(
        &self,
        issued: &shopbridge_store::ConnectState,
        code: &str,
        now_ms: i64,
    ) -> Result<NewCredentials, String> {
        let token = self
            .client
            .exchange_code(code, &issued.redirect_uri, "127.0.0.1")
            .await
            .map_err(|err| format!("code exchange failed: {err}"))?;
        let tokens = VopTokens {
            access_token: token.access_token.expose_secret().to_owned(),
            refresh_token: token
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            expires_at_ms: crate::limits::expiry_ms(now_ms, token.expires_in),
            refresh_expires_at_ms: token.refresh_expires_time,
            vendor_id: issued.seller.as_deref().and_then(|v| v.trim().parse().ok()),
            open_id: token.open_id.clone(),
        };
        Ok(Self::sealed(issued.kind, &tokens))
    }
}

#[async_trait]
impl PlatformAdapter for VopAdapter {
    fn platform(&self) -> Platform {
        Platform::Vop
    }

    fn kinds(&self) -> &'static [ShopKind] {
        KINDS
    }

    fn connectable(&self, mode: Option<&str>) -> Result<ShopKind, String> {
        match mode {
            None | Some("union_tool") => Ok(ShopKind::VopUnionTool),
            Some("jit") => Ok(ShopKind::VopJit),
            Some(other) => Err(format!("mode: expected union_tool or jit, got {other:?}")),
        }
    }

    fn plans(&self, kind: ShopKind) -> Vec<StreamPlan> {
        plans(kind)
    }

    fn order_stream(&self, kind: ShopKind) -> Option<&'static str> {
        (kind == ShopKind::VopJit).then_some(JIT_ORDERS)
    }

    async fn source(
        &self,
        shop: &Connection,
        stream: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn StreamSource>, SyncError> {
        let id = shop.id.as_str();
        match (shop.kind, stream) {
            (
                ShopKind::VopUnionChannel | ShopKind::VopUnionTool,
                UNION_ORDERS | UNION_REFUNDS | UNION_PIDS,
            ) => {
                let (client, mode) = self.union_client(shop).await?;
                Ok(match stream {
                    UNION_ORDERS => Arc::new(UnionOrderSource::new(client, mode, id)),
                    UNION_REFUNDS => Arc::new(UnionRefundSource::new(client, mode, id)),
                    _ => Arc::new(UnionPidSource::new(client, mode, id)),
                })
            }
            (ShopKind::VopJit, JIT_RETURNS) => {
                let (client, vendor_id) = self.jit_parts(shop).await?;
                Ok(Arc::new(JitReturnSource {
                    client,
                    vendor_id,
                    caller: id.to_owned(),
                }))
            }
            (ShopKind::VopJit, JIT_ORDERS | PRODUCTS) => {
                let (client, vendor_id) = self.jit_parts(shop).await?;
                let caller = id.to_owned();
                let connector: Arc<dyn Connector> = Arc::new(JitConnector::new(client, vendor_id));
                if stream == JIT_ORDERS {
                    Ok(Arc::new(OrderStream {
                        connector,
                        clock,
                        shop_type: Some(ShopType::Jitx),
                        max_window_ms: MAX_WINDOW_MS,
                        call: CallKey {
                            platform: Platform::Vop.as_str(),
                            service: DVD_SERVICE.into(),
                            method: "getOrderList".into(),
                            caller,
                        },
                    }))
                } else {
                    Ok(Arc::new(ProductStream {
                        connector,
                        clock,
                        page_size: 100,
                        call: CallKey {
                            platform: Platform::Vop.as_str(),
                            service: PRODUCT_SERVICE.into(),
                            method: "multiGetProductSkuInfo".into(),
                            caller,
                        },
                    }))
                }
            }
            (kind, stream) => Err(SyncError::Settings(format!(
                "no stream {stream:?} for a {kind} connection"
            ))),
        }
    }

    async fn connector(&self, shop: &Connection) -> Result<Arc<dyn Connector>, SyncError> {
        let (client, vendor_id) = self.jit_parts(shop).await?;
        Ok(Arc::new(JitConnector::new(client, vendor_id)))
    }

    async fn refresh_if_expiring(
        &self,
        shop: &ConnectionSummary,
        now_ms: i64,
    ) -> Option<Result<(), String>> {
        let due = shop.kind != ShopKind::VopUnionChannel
            && matches!(
                shop.state,
                ConnectionState::Active | ConnectionState::Refreshing
            )
            && shop
                .access_expires_ms
                .is_some_and(|at| at <= now_ms.saturating_add(self.tokens.margin_ms));
        if !due {
            return None;
        }
        Some(
            self.tokens
                .access_token(&shop.id)
                .await
                .map(drop)
                .map_err(|err| err.to_string()),
        )
    }

    async fn revoke_grant(&self, shop: &Connection) -> Result<(), String> {
        let Ok(tokens) = serde_json::from_str::<VopTokens>(shop.credentials.expose_secret()) else {
            // The channel account holds no token of its own.
            return Ok(());
        };
        self.client
            .revoke_token(&SecretString::from(tokens.access_token))
            .await
            .map(drop)
            .map_err(|err| err.to_string())
    }

    fn has_authorization_flow(&self, kind: ShopKind) -> bool {
        kind != ShopKind::VopUnionChannel
    }

    fn connect_forms(&self) -> &'static [ConnectForm] {
        FORMS
    }

    fn kind_name(&self, kind: ShopKind) -> Text {
        match kind {
            ShopKind::VopUnionChannel => Text {
                zh: "唯品会联盟（渠道）",
                en: "Vipshop Union (channel)",
            },
            ShopKind::VopUnionTool => Text {
                zh: "唯品会联盟",
                en: "Vipshop Union",
            },
            _ => Text {
                zh: "唯品会 JIT",
                en: "Vipshop JIT",
            },
        }
    }

    fn stream_name(&self, stream: &str) -> Option<Text> {
        let (zh, en) = match stream {
            UNION_ORDERS => ("联盟订单", "Union orders"),
            UNION_REFUNDS => ("售后维权", "After-sale claims"),
            UNION_PIDS => ("推广位", "PIDs"),
            JIT_ORDERS => ("JIT 订单", "JIT orders"),
            JIT_RETURNS => ("退供单", "Returns to vendor"),
            PRODUCTS => ("商品", "Products"),
            _ => return None,
        };
        Some(Text { zh, en })
    }

    fn authorize(
        &self,
        public_url: &str,
        kind: ShopKind,
        request: &BeginConnect,
        state: &str,
    ) -> Result<Authorization, BeginError> {
        let vendor = vendor_id(request.vendor_id.as_deref()).map_err(BeginError::Invalid)?;
        if kind == ShopKind::VopJit && vendor.is_none() {
            return Err(BeginError::Incomplete(
                "vendor_id: a JIT shop needs its numeric vendor id".into(),
            ));
        }
        let redirect_uri = if request.native {
            OOB_REDIRECT_URI.to_owned()
        } else {
            format!("{public_url}/connect/vop/callback")
        };
        let url = if request.native {
            self.client.native_authorize_url(Some(state))
        } else {
            self.client.authorize_url(&redirect_uri, Some(state))
        };
        let url = url.map_err(|err| BeginError::Invalid(err.to_string()))?;
        Ok(Authorization {
            url: url.to_string(),
            redirect_uri,
            account: request.vendor_id.clone(),
        })
    }

    fn reauthorize_request(&self, shop: &Connection) -> (Option<String>, Option<String>) {
        let vendor = serde_json::from_str::<VopTokens>(shop.credentials.expose_secret())
            .ok()
            .and_then(|tokens| tokens.vendor_id)
            .map(|id| id.to_string());
        (None, vendor)
    }

    /// The same platform user must come back: a grant by another would put another account's
    /// data under this shop's history and tokens.
    fn same_account(&self, before: &SecretString, after: &SecretString) -> bool {
        let user = |credentials: &SecretString| {
            serde_json::from_str::<VopTokens>(credentials.expose_secret())
                .ok()
                .and_then(|tokens| tokens.open_id)
        };
        match (user(before), user(after)) {
            (Some(before), Some(after)) => before == after,
            _ => true,
        }
    }

    fn takes_session_key(&self) -> bool {
        true
    }

    /// A session key is most often a JIT shop's (polyapi's guide): the mode defaults to `jit`.
    async fn existing_credentials(
        &self,
        existing: &Existing,
        now_ms: i64,
    ) -> Result<NewCredentials, CredentialsRefused> {
        let kind = self
            .connectable(Some(existing.mode.as_deref().unwrap_or("jit")))
            .map_err(CredentialsRefused::Invalid)?;
        let Some(key) = existing.session_key.clone().filter(|k| !k.is_empty()) else {
            return Err(CredentialsRefused::Missing(
                "session_key: a VOP shop connected with credentials it has needs its session key"
                    .into(),
            ));
        };
        if let Some(id) = existing.vendor_id
            && let Err(err) = crate::limits::in_range("vendor_id", id, crate::limits::ACCOUNT_ID)
        {
            return Err(CredentialsRefused::Invalid(err.to_string()));
        }
        if kind == ShopKind::VopJit && existing.vendor_id.is_none() {
            return Err(CredentialsRefused::Missing(
                "vendor_id: a JIT shop needs its numeric vendor id".into(),
            ));
        }
        let info = self
            .client
            .token_info(&SecretString::from(key.clone()))
            .await
            .map_err(|err| {
                CredentialsRefused::Refused(format!("session_key: the platform refused it: {err}"))
            })?;
        let tokens = VopTokens {
            access_token: key,
            refresh_token: existing.refresh_token.clone().filter(|t| !t.is_empty()),
            expires_at_ms: crate::limits::expiry_ms(now_ms, info.expires_in),
            refresh_expires_at_ms: None,
            vendor_id: existing.vendor_id,
            open_id: info.open_id.clone(),
        };
        Ok(Self::sealed(kind, &tokens))
    }

    /// `callback`: the browser flow's redirect; `oob`: the native flow, whose person pastes
    /// the code the platform showed.
    fn callback_steps(&self) -> &'static [(&'static str, CallbackMethod)] {
        &[
            ("callback", CallbackMethod::Query),
            ("oob", CallbackMethod::Form),
        ]
    }

    async fn complete(
        &self,
        step: &str,
        issued: &shopbridge_store::ConnectState,
        params: &HashMap<String, String>,
        now_ms: i64,
    ) -> Result<NewCredentials, String> {
        // Each flow ends where it was started for: the native state at `oob` only.
        let native = issued.redirect_uri == OOB_REDIRECT_URI;
        if (step == "oob") != native {
            return Err(if native {
                "state: this connection was started for the native flow: paste the code".into()
            } else {
                "state: this connection was started for the browser flow, not the native one".into()
            });
        }
        if let Some(error) = params.get("error") {
            let description = params
                .get("error_description")
                .map(String::as_str)
                .unwrap_or_default();
            return Err(format!(
                "authorization was not granted: {error} {description}"
            ));
        }
        match params.get("code").map(|code| code.trim()) {
            Some(code) if !code.is_empty() => self.exchange(issued, code, now_ms).await,
            _ => Err("code: missing".into()),
        }
    }
}
