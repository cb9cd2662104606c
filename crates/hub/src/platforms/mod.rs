//! Each platform described once: a [`PlatformAdapter`] supplies its kinds of shop, their streams
//! and schedules, the connect flow, connectors, token upkeep, the unified API's `platid`, and the
//! connect form's fields; [`Platforms`] is the registry the rest of the hub asks.
//!
//! Outside this module no code matches on a platform's name: a front end or the scheduler looks
//! the shop's [`ShopKind`] up here. Adding a platform is described in `docs/adding-a-platform.md`.

pub mod vop;
pub mod winit;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;
use shopbridge_core::capability::Connector;
use shopbridge_core::{Clock, Platform, ShopKind};
use shopbridge_store::{ConnectState, Connection, ConnectionSummary};

use crate::sync::{StreamSource, SyncError};

pub use vop::VopAdapter;
pub use winit::WinitAdapter;

/// How often a stream of a kind of shop runs, how far each run looks back, and how long its query windows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPlan {
    pub stream: &'static str,
    pub interval_ms: i64,
    pub lookback_ms: i64,
    pub window_ms: i64,
    /// How far back the first run reads.
    pub history_ms: i64,
}

impl StreamPlan {
    /// A stream run every `interval_ms`, each run looking back `lookback_ms` and reading windows
    /// of `window_ms`; its first run reads the 30 days the hub keeps by default.
    pub fn every(stream: &'static str, interval_ms: i64, lookback_ms: i64, window_ms: i64) -> Self {
        Self {
            stream,
            interval_ms,
            lookback_ms,
            window_ms,
            history_ms: 30 * crate::sync::DAY_MS,
        }
    }
}

pub(crate) const MINUTE_MS: i64 = 60_000;

/// Text in both of the console's languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub zh: &'static str,
    pub en: &'static str,
}

impl Text {
    /// The English text, or the Chinese.
    pub fn get(&self, english: bool) -> &'static str {
        if english { self.en } else { self.zh }
    }
}

/// One field a person fills in to connect a shop, beyond its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormField {
    /// The field's name in the connect request (`vendor_id`, `seller`).
    pub name: &'static str,
    pub label: Text,
    /// Digits only.
    pub numeric: bool,
}

/// How a kind of shop is connected through its authorization page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectForm {
    pub kind: ShopKind,
    /// What the button says.
    pub action: Text,
    pub fields: &'static [FormField],
}

/// Where the platform's authorization page is, and what the flow's `state` remembers.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The platform's page the person is sent to.
    pub url: String,
    /// The callback the platform sends the person back to (checked again at the exchange).
    pub redirect_uri: String,
    /// The account the grant is for: Winit's seller, a JIT shop's vendor id.
    pub account: Option<String>,
}

/// A shop's credentials as the vault seals them, with when they stop working.
#[derive(Debug)]
pub struct NewCredentials {
    pub kind: ShopKind,
    pub sealed: SecretString,
    pub access_expires_ms: Option<i64>,
    pub refresh_expires_ms: Option<i64>,
}

/// Why credentials a shop already has were not taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsRefused {
    /// A field is malformed or out of range.
    #[error("{0}")]
    Invalid(String),
    /// A field the kind of shop needs is missing.
    #[error("{0}")]
    Missing(String),
    /// The platform refused the credentials.
    #[error("{0}")]
    Refused(String),
    /// The platform is not configured in this hub.
    #[error("{0}")]
    NotConfigured(String),
    /// The shop could not be stored.
    #[error("store: {0}")]
    Store(#[from] shopbridge_store::StoreError),
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
    /// The connection being re-authorized; `None` connects a new one.
    pub reauthorize: Option<String>,
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
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Incomplete(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
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
    /// VOP: the refresh token that goes with the session key, when the caller has it.
    pub refresh_token: Option<String>,
}

/// How a platform's page comes back to a callback step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackMethod {
    /// A redirect of the browser: GET with the answer in the query.
    Query,
    /// A form the person submits: POST, so that a pasted code stays out of URLs and logs.
    Form,
}

/// Why a platform a caller named is not served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotServed {
    /// No platform has that name.
    #[error("{0}")]
    Unknown(String),
    /// A platform shopbridge knows, without an application configured in this hub.
    #[error("{0}")]
    NotConfigured(String),
}

/// A platform as the hub knows it.
#[async_trait]
pub trait PlatformAdapter: Send + Sync + std::fmt::Debug {
    fn platform(&self) -> Platform;

    /// The kinds of shop it keeps.
    fn kinds(&self) -> &'static [ShopKind];

    /// The kind a person connects who names this platform and, maybe, a mode.
    fn connectable(&self, mode: Option<&str>) -> Result<ShopKind, String>;

    /// The streams a shop of `kind` syncs, with their schedules.
    fn plans(&self, kind: ShopKind) -> Vec<StreamPlan>;

    /// The stream whose records are the shop's orders in the unified model (what GetOrder,
    /// GetRefund and `/v1/orders` read); a Union account's orders have a table of their own.
    fn order_stream(&self, kind: ShopKind) -> Option<&'static str>;

    /// The source of one of the shop's streams, with a live token.
    async fn source(
        &self,
        shop: &Connection,
        stream: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn StreamSource>, SyncError>;

    /// The shop's connector for live calls (ship, push stock, check refunds), with a live token.
    async fn connector(&self, shop: &Connection) -> Result<Arc<dyn Connector>, SyncError>;

    /// Renews the shop's token ahead of time when it expires within the adapter's margin;
    /// `None` when nothing was due.
    async fn refresh_if_expiring(
        &self,
        _shop: &ConnectionSummary,
        _now_ms: i64,
    ) -> Option<Result<(), String>> {
        None
    }

    /// Ends the shop's grant at the platform, where it has one.
    async fn revoke_grant(&self, _shop: &Connection) -> Result<(), String> {
        Ok(())
    }

    /// Whether a shop of `kind` was connected through an authorization flow that can be run
    /// again (an account acting with the application's own credentials has none).
    fn has_authorization_flow(&self, kind: ShopKind) -> bool;

    /// The connect forms of the kinds people connect through the platform's page.
    fn connect_forms(&self) -> &'static [ConnectForm];

    /// What people call a kind of shop of this platform.
    fn kind_name(&self, kind: ShopKind) -> Text;

    /// What people call one of its streams; `None` for a stream it does not have.
    fn stream_name(&self, stream: &str) -> Option<Text>;

    /// The platform's authorization page for a new grant of `kind`, bound to `state`; the
    /// platform sends the person back under `public_url`.
    fn authorize(
        &self,
        public_url: &str,
        kind: ShopKind,
        request: &BeginConnect,
        state: &str,
    ) -> Result<Authorization, BeginError>;

    /// What a re-authorization asks for: the account the shop already acts for.
    fn reauthorize_request(&self, shop: &Connection) -> (Option<String>, Option<String>);

    /// Whether new credentials belong to the same platform account as the shop's current ones
    /// (when the platform says who authorized).
    fn same_account(&self, _before: &SecretString, _after: &SecretString) -> bool {
        true
    }

    /// Whether a shop of this platform can be connected with a session key (an access token)
    /// it already has: the unified API's SyncAccount takes nothing else.
    fn takes_session_key(&self) -> bool {
        false
    }

    /// Checks credentials a shop already has with the platform and seals them, for the kind
    /// its `mode` names.
    async fn existing_credentials(
        &self,
        existing: &Existing,
        now_ms: i64,
    ) -> Result<NewCredentials, CredentialsRefused>;

    /// The steps the platform's pages come back to, as `/connect/{platform}/{step}`, each with
    /// the one way it is reached: a GET with a query, or a POSTed form. (`credentials` is
    /// taken by the connect-with-credentials route.)
    fn callback_steps(&self) -> &'static [(&'static str, CallbackMethod)];

    /// A page to answer a callback with before any state is read (a relay of what the browser
    /// kept in the URL's fragment); `None` goes on.
    fn relay(&self, _step: &str, _params: &HashMap<String, String>) -> Option<&'static str> {
        None
    }

    /// The grant a callback brings for the flow whose state it carried, or why there is none.
    async fn complete(
        &self,
        step: &str,
        issued: &ConnectState,
        params: &HashMap<String, String>,
        now_ms: i64,
    ) -> Result<NewCredentials, String>;
}

/// The platforms this hub is configured for, found by kind of shop.
#[derive(Debug, Clone)]
pub struct Platforms {
    adapters: Vec<Arc<dyn PlatformAdapter>>,
    vop: Arc<VopAdapter>,
}

impl Platforms {
    /// The registry: VOP always (the Union service calls its adapter directly), then the
    /// other platforms this hub has applications for.
    pub fn new(vop: VopAdapter, others: Vec<Arc<dyn PlatformAdapter>>) -> Self {
        let vop = Arc::new(vop);
        let mut adapters: Vec<Arc<dyn PlatformAdapter>> = vec![vop.clone()];
        adapters.extend(others);
        Self { adapters, vop }
    }

    /// The VOP adapter: Union's affiliate calls (goods, links) go through its clients.
    pub fn vop(&self) -> &VopAdapter {
        &self.vop
    }

    /// The adapter of a platform, if this hub is configured for it.
    pub fn get(&self, platform: Platform) -> Option<&Arc<dyn PlatformAdapter>> {
        self.adapters.iter().find(|a| a.platform() == platform)
    }

    /// The adapter of a platform named by a caller; the error names what is served.
    pub fn named(&self, name: &str) -> Result<&Arc<dyn PlatformAdapter>, NotServed> {
        let served = || {
            self.adapters
                .iter()
                .map(|a| a.platform().as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        };
        match Platform::parse(name) {
            Some(platform) => self.get(platform).ok_or_else(|| {
                NotServed::NotConfigured(format!(
                    "platform: {name} is not configured in this hub (it serves {})",
                    served()
                ))
            }),
            None => Err(NotServed::Unknown(format!(
                "platform: expected {}, got {name:?}",
                served()
            ))),
        }
    }

    /// The adapter that keeps shops of `kind`.
    pub fn of(&self, kind: ShopKind) -> Result<&Arc<dyn PlatformAdapter>, SyncError> {
        self.get(kind.platform()).ok_or_else(|| {
            SyncError::Settings(format!("{} is not configured in this hub", kind.platform()))
        })
    }

    /// The streams of a kind of shop (none where its platform is not configured).
    pub fn plans(&self, kind: ShopKind) -> Vec<StreamPlan> {
        self.of(kind).map(|a| a.plans(kind)).unwrap_or_default()
    }

    /// The plan of one stream of a kind of shop.
    pub fn plan(&self, kind: ShopKind, stream: &str) -> Option<StreamPlan> {
        self.plans(kind).into_iter().find(|p| p.stream == stream)
    }

    /// The source of `stream` for a shop, with a live token.
    pub async fn source(
        &self,
        shop: &Connection,
        stream: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn StreamSource>, SyncError> {
        self.of(shop.kind)?.source(shop, stream, clock).await
    }

    /// The connector of a shop for live calls, with a live token.
    pub async fn connector(&self, shop: &Connection) -> Result<Arc<dyn Connector>, SyncError> {
        self.of(shop.kind)?.connector(shop).await
    }

    /// The kind a `platid` connects: of the kinds with that id, the first people authorize.
    pub fn kind_of_platid(&self, platid: &str) -> Option<ShopKind> {
        self.adapters.iter().find_map(|adapter| {
            adapter
                .kinds()
                .iter()
                .copied()
                .find(|&kind| platid_of(kind) == platid && adapter.has_authorization_flow(kind))
        })
    }

    /// Every `platid` served, with what it is, for error messages.
    pub fn platids(&self) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for adapter in &self.adapters {
            for &kind in adapter.kinds() {
                if !seen.contains(&platid_of(kind)) {
                    seen.push(platid_of(kind));
                }
            }
        }
        // Each id named by the kind it connects.
        seen.iter()
            .filter_map(|&platid| {
                self.kind_of_platid(platid)
                    .map(|kind| format!("{platid} ({kind})"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether a shop of `kind` can be authorized again.
    pub fn has_authorization_flow(&self, kind: ShopKind) -> bool {
        self.of(kind)
            .is_ok_and(|adapter| adapter.has_authorization_flow(kind))
    }

    /// The records stream holding a shop's orders in the unified model.
    pub fn order_stream(&self, kind: ShopKind) -> Option<&'static str> {
        self.of(kind).ok().and_then(|a| a.order_stream(kind))
    }

    /// Every connect form, platform by platform.
    /// What people call a kind of shop (its kind's code where no adapter is configured).
    pub fn kind_name(&self, kind: ShopKind) -> Text {
        self.of(kind)
            .map(|adapter| adapter.kind_name(kind))
            .unwrap_or(Text {
                zh: kind.mode(),
                en: kind.mode(),
            })
    }

    /// What people call a stream of a kind of shop (its code where the adapter has no name).
    pub fn stream_name(&self, kind: ShopKind, stream: &str) -> Option<Text> {
        self.of(kind)
            .ok()
            .and_then(|adapter| adapter.stream_name(stream))
    }

    pub fn connect_forms(&self) -> Vec<ConnectForm> {
        self.adapters
            .iter()
            .flat_map(|a| a.connect_forms().iter().copied())
            .collect()
    }

    /// Renews, ahead of time, the shop's token when it is due; `None` when nothing was due.
    pub async fn refresh_if_expiring(
        &self,
        shop: &ConnectionSummary,
        now_ms: i64,
    ) -> Option<Result<(), String>> {
        match self.of(shop.kind) {
            Ok(adapter) => adapter.refresh_if_expiring(shop, now_ms).await,
            Err(_) => None,
        }
    }

    /// Ends the shop's grant at its platform, where it has one.
    pub async fn revoke_grant(&self, shop: &Connection) -> Result<(), String> {
        self.of(shop.kind)
            .map_err(|err| err.to_string())?
            .revoke_grant(shop)
            .await
    }
}

/// The unified API's `platid` of a kind of shop, whether or not this hub is configured for its
/// platform (the demo hands the ids out before a hub runs).
pub fn platid_of(kind: ShopKind) -> &'static str {
    match kind.platform() {
        Platform::Vop => vop::platid(kind),
        Platform::Winit => winit::PLATID,
    }
}

/// The credentials of a shop are not what its kind stores.
pub(crate) fn unreadable(shop: &Connection, what: &str) -> SyncError {
    SyncError::Settings(format!("connection {}: {what}", shop.id))
}
