//! The hub's operations, once, for every front end: REST, the unified API and the console call
//! these and turn a [`HubError`] into their own answer (an HTTP status and problem, a GSE
//! subcode, an error page). Every operation checks that the shop it touches is the tenant's.

pub mod orders;
pub mod shops;
pub mod sync;
pub mod union;
pub mod webhooks;

use std::sync::Arc;

use shopbridge_core::capability::{Connector, ConnectorError};
use shopbridge_store::{Connection, StoreError};

use crate::state::HubApp;

/// Why an operation of the hub did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// A field is malformed or out of range; the message names it and what was expected.
    #[error("{0}")]
    Invalid(String),
    /// A field the operation needs is missing.
    #[error("{0}")]
    Missing(String),
    /// Well-formed, but not what this shop or this hub can do (the wrong kind of shop, a
    /// period too long, a platform not configured).
    #[error("{0}")]
    Unprocessable(String),
    /// What the platform cannot do for this kind of shop.
    #[error("{0}")]
    Unsupported(String),
    /// No such thing of this tenant's (another tenant's is not found either).
    #[error("{0}")]
    NotFound(String),
    /// The state of the thing forbids it (revoke before delete, a revoked shop).
    #[error("{0}")]
    Conflict(String),
    /// The platform refused credentials a caller gave.
    #[error("{0}")]
    Refused(String),
    /// The platform answered with an error.
    #[error("{}: {}", .0.platform, .0.message)]
    Platform(#[source] ConnectorError),
    /// The platform's quota for the call is used up for now.
    #[error("{message}")]
    Throttled {
        message: String,
        /// When a slot frees up.
        retry_after_ms: i64,
    },
    /// The hub's store failed or is busy.
    #[error("store: {0}")]
    Store(#[source] StoreError),
}

impl From<StoreError> for HubError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(message) => Self::NotFound(message),
            StoreError::Conflict(message) => Self::Conflict(message),
            other => Self::Store(other),
        }
    }
}

impl From<crate::SyncError> for HubError {
    fn from(err: crate::SyncError) -> Self {
        match err {
            crate::SyncError::Platform(err) => Self::Platform(err),
            crate::SyncError::Settings(message) => Self::Unsupported(message),
            crate::SyncError::Held(message) | crate::SyncError::Inactive(message) => {
                Self::Conflict(message)
            }
            crate::SyncError::Store(err) => err.into(),
        }
    }
}

impl From<ConnectorError> for HubError {
    fn from(err: ConnectorError) -> Self {
        Self::Platform(err)
    }
}

impl From<crate::connect::BeginError> for HubError {
    fn from(err: crate::connect::BeginError) -> Self {
        match err {
            crate::connect::BeginError::Invalid(message) => Self::Invalid(message),
            crate::connect::BeginError::Incomplete(message) => Self::Unprocessable(message),
            crate::connect::BeginError::Store(err) => err.into(),
        }
    }
}

impl From<crate::platforms::CredentialsRefused> for HubError {
    fn from(err: crate::platforms::CredentialsRefused) -> Self {
        use crate::platforms::CredentialsRefused;
        match err {
            CredentialsRefused::Invalid(message) => Self::Invalid(message),
            CredentialsRefused::Missing(message) => Self::Missing(message),
            CredentialsRefused::Refused(message) => Self::Refused(message),
            CredentialsRefused::NotConfigured(message) => Self::Unprocessable(message),
            CredentialsRefused::Store(err) => err.into(),
        }
    }
}

/// The tenant's shop `id`; another tenant's is not found.
pub async fn own_shop(app: &HubApp, tenant: &str, id: &str) -> Result<Connection, HubError> {
    match app.store.connection(id).await {
        Ok(shop) if shop.tenant_id == tenant => Ok(shop),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(HubError::NotFound(format!(
            "shop: no shop {id:?} of this tenant"
        ))),
        Err(err) => Err(err.into()),
    }
}

/// The shop's connector for live calls (ship, push stock, check refunds), with a live token.
pub async fn connector(app: &HubApp, shop: &Connection) -> Result<Arc<dyn Connector>, HubError> {
    Ok(app.platforms.connector(shop).await?)
}
