//! Platform-independent classes of failure, so that the hub can act on any connector's errors.

use serde::{Deserialize, Serialize};

/// What a caller should do about a failed platform call, whatever the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The request itself is wrong (missing or invalid field, bad signature): fix it, do not retry.
    InvalidRequest,
    /// The application's credentials or network origin are refused (unknown key, IP not allowed).
    Credentials,
    /// The application lacks the permission package for this method.
    Permission,
    /// The user's authorization is gone (expired, revoked, password changed): re-authorize.
    NeedsReauthorization,
    /// The user's account on the platform cannot be used (for example a disabled union account).
    AccountDisabled,
    /// A quota was exceeded: retry later, more slowly.
    RateLimited,
    /// A transient failure (network, timeout, 5xx, undecodable body): retry with backoff.
    Transient,
    /// Any other platform-reported failure.
    Platform,
    /// The connector does not support this capability.
    Unsupported,
}

impl ErrorClass {
    /// Whether retrying the same request later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::RateLimited | ErrorClass::Transient)
    }
}

/// Implemented by every connector's error type.
pub trait Classify {
    /// The class of this error.
    fn class(&self) -> ErrorClass;
}
