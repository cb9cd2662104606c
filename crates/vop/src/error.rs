//! Typed VOP errors a caller can act on, and their mapping from gateway return codes.

use shopbridge_core::error::{Classify, ErrorClass};

/// What a gateway `returnCode` means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// `vipapis.sign-not-match`: the signature does not match (check secret, body bytes, params).
    SignMismatch,
    /// `vipapis.miss-parameter`
    MissingParameter,
    /// `vipapis.parameter-notmatch`, `*.invalid-parameter`, `vipapis.request-data-max`
    InvalidParameter,
    /// `vipapis.appkey-not-exist`
    AppKeyUnknown,
    /// `vipapis.appKey-in-blackList`
    AppKeyBlocked,
    /// `vipapis.white-ip-not-exist`, `vipapis.ip-in-blackList`: the caller's IP is not allowed.
    IpNotAllowed,
    /// `vipapis.api-invalidate-permission`, `*.access-denied`: no permission package for the method.
    NoPermission,
    /// `vipapis.oauth-invalidate-failure`, `30111`: the access token is invalid, expired or revoked.
    TokenInvalid,
    /// `1008` (union quota) or `vipapis.app-flow-overrun` (daily traffic).
    Throttled,
    /// `1007`: the developer's or the authorizing user's union account is missing or disabled.
    UnionAccountDisabled,
    /// Unknown service or method (`vipapis.path.Error`).
    UnknownMethod,
    /// `vipapis.sys_other_error`, `vipapis.response-timeOut`, `vipapis.base-api.error`.
    GatewayInternal,
    /// Any other code.
    Other,
}

impl ApiErrorKind {
    /// Maps a `returnCode` to its kind. Service-level codes carry a `CALLEE_USER_` prefix and
    /// sometimes a service name (`CALLEE_USER_vipapis.JitDeliveryService.invalid-parameter`).
    pub fn from_return_code(code: &str) -> Self {
        let code = code.strip_prefix("CALLEE_USER_").unwrap_or(code);
        match code {
            "vipapis.sign-not-match" => Self::SignMismatch,
            "vipapis.miss-parameter" => Self::MissingParameter,
            "vipapis.parameter-notmatch" | "vipapis.request-data-max" => Self::InvalidParameter,
            "vipapis.appkey-not-exist" => Self::AppKeyUnknown,
            "vipapis.appKey-in-blackList" => Self::AppKeyBlocked,
            "vipapis.white-ip-not-exist" | "vipapis.ip-in-blackList" => Self::IpNotAllowed,
            "vipapis.api-invalidate-permission" => Self::NoPermission,
            "vipapis.oauth-invalidate-failure" | "30111" => Self::TokenInvalid,
            "1008" | "vipapis.app-flow-overrun" => Self::Throttled,
            "1007" => Self::UnionAccountDisabled,
            "vipapis.path.Error" => Self::UnknownMethod,
            "vipapis.sys_other_error" | "vipapis.response-timeOut" | "vipapis.base-api.error" => {
                Self::GatewayInternal
            }
            other if other.ends_with(".invalid-parameter") => Self::InvalidParameter,
            other if other.ends_with("access-denied") => Self::NoPermission,
            _ => Self::Other,
        }
    }

    pub fn class(self) -> ErrorClass {
        match self {
            Self::SignMismatch | Self::MissingParameter | Self::InvalidParameter => {
                ErrorClass::InvalidRequest
            }
            Self::UnknownMethod => ErrorClass::InvalidRequest,
            Self::AppKeyUnknown | Self::AppKeyBlocked | Self::IpNotAllowed => {
                ErrorClass::Credentials
            }
            Self::NoPermission => ErrorClass::Permission,
            Self::TokenInvalid => ErrorClass::NeedsReauthorization,
            Self::Throttled => ErrorClass::RateLimited,
            Self::UnionAccountDisabled => ErrorClass::AccountDisabled,
            Self::GatewayInternal => ErrorClass::Transient,
            Self::Other => ErrorClass::Platform,
        }
    }
}

/// Everything that can go wrong calling VOP. Messages never contain secrets or tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VopError {
    /// The gateway answered with a non-zero `returnCode`.
    #[error("VOP {service}.{method} failed with {code}: {message}")]
    Api {
        kind: ApiErrorKind,
        code: String,
        message: String,
        service: String,
        method: String,
    },
    /// The OAuth server refused a request (`{"code": N, "msg": ...}`).
    #[error("VOP OAuth {endpoint} failed with code {code}: {message}")]
    OAuth {
        endpoint: &'static str,
        code: i64,
        message: String,
    },
    /// The user pressed 取消 on the consent page (`error`, `error_description` on the callback).
    #[error("authorization was not granted: {error}: {description}")]
    AuthorizationDenied { error: String, description: String },
    /// A request argument breaks a documented limit; checked before any call is made.
    #[error("invalid {field}: {message}")]
    InvalidArgument { field: String, message: String },
    /// Client configuration is unusable.
    #[error("invalid configuration {field}: {message}")]
    Config {
        field: &'static str,
        message: String,
    },
    /// The request timed out (connect or read).
    #[error("VOP request timed out: {message}")]
    Timeout {
        /// The chain of causes, as text.
        message: String,
        /// The HTTP client's error (its URL, which holds the token, removed).
        #[source]
        source: reqwest::Error,
    },
    /// Connection refused, reset or closed mid-response.
    #[error("VOP transport error: {message}")]
    Transport {
        message: String,
        #[source]
        source: reqwest::Error,
    },
    /// A non-200 HTTP status (gateways answer 200 even for rejections, so this is an outage).
    #[error("VOP answered HTTP {status}: {snippet}")]
    Http { status: u16, snippet: String },
    /// The body could not be decoded as the expected JSON.
    #[error("undecodable VOP response ({reason}): {snippet}")]
    Undecodable { reason: String, snippet: String },
}

impl VopError {
    /// The kind of a gateway error, if this is one.
    pub fn api_kind(&self) -> Option<ApiErrorKind> {
        match self {
            VopError::Api { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// Whether the user must authorize again (token invalid, expired, revoked).
    pub fn needs_reauthorization(&self) -> bool {
        self.class() == ErrorClass::NeedsReauthorization
    }

    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        // The URL carries the access token in its query string: never let it into a message.
        let err = err.without_url();
        let message = error_chain(&err);
        if err.is_timeout() {
            VopError::Timeout {
                message,
                source: err,
            }
        } else {
            VopError::Transport {
                message,
                source: err,
            }
        }
    }
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

impl Classify for VopError {
    fn class(&self) -> ErrorClass {
        match self {
            VopError::Api { kind, .. } => kind.class(),
            VopError::OAuth { code, message, .. } => {
                if *code == 30111 || message.contains("revoked") {
                    ErrorClass::NeedsReauthorization
                } else {
                    ErrorClass::InvalidRequest
                }
            }
            VopError::AuthorizationDenied { .. } => ErrorClass::NeedsReauthorization,
            VopError::InvalidArgument { .. } | VopError::Config { .. } => {
                ErrorClass::InvalidRequest
            }
            VopError::Timeout { .. }
            | VopError::Transport { .. }
            | VopError::Undecodable { .. } => ErrorClass::Transient,
            VopError::Http { status, .. } => {
                if *status >= 500 || *status == 429 {
                    ErrorClass::Transient
                } else {
                    ErrorClass::Platform
                }
            }
        }
    }
}

/// The first `max` characters of a body, for error messages.
pub(crate) fn snippet(body: &str, max: usize) -> String {
    let mut out: String = body.chars().take(max).collect();
    if body.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_codes_map_to_kinds() {
        assert_eq!(
            ApiErrorKind::from_return_code("vipapis.sign-not-match"),
            ApiErrorKind::SignMismatch
        );
        assert_eq!(
            ApiErrorKind::from_return_code("CALLEE_USER_30111"),
            ApiErrorKind::TokenInvalid
        );
        assert_eq!(
            ApiErrorKind::from_return_code(
                "CALLEE_USER_vipapis.JitDeliveryService.invalid-parameter"
            ),
            ApiErrorKind::InvalidParameter
        );
        assert_eq!(
            ApiErrorKind::from_return_code("CALLEE_USER_vipapis.access-denied"),
            ApiErrorKind::NoPermission
        );
        assert_eq!(
            ApiErrorKind::from_return_code("1008"),
            ApiErrorKind::Throttled
        );
        assert_eq!(
            ApiErrorKind::from_return_code("1007"),
            ApiErrorKind::UnionAccountDisabled
        );
        assert_eq!(
            ApiErrorKind::from_return_code("something-new"),
            ApiErrorKind::Other
        );
        assert!(ApiErrorKind::Throttled.class().is_retryable());
        assert!(!ApiErrorKind::SignMismatch.class().is_retryable());
    }

    #[test]
    fn snippets_are_cut() {
        assert_eq!(snippet("abcdef", 3), "abc…");
        assert_eq!(snippet("唯品会", 5), "唯品会");
    }
}
