//! Typed Winit errors; messages never carry the token or the client secret.

use shopbridge_core::error::{Classify, ErrorClass};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WinitError {
    /// The envelope's `code` was not 0.
    #[error("Winit {action} failed with code {code}: {message}")]
    Api {
        action: String,
        code: String,
        message: String,
    },
    /// A documented limit or a required field, checked before sending.
    #[error("invalid {field}: {message}")]
    InvalidArgument { field: String, message: String },
    #[error("invalid configuration {field}: {message}")]
    Config {
        field: &'static str,
        message: String,
    },
    #[error("Winit request timed out: {message}")]
    Timeout {
        /// The chain of causes, as text.
        message: String,
        /// The HTTP client's error (its URL removed).
        #[source]
        source: reqwest::Error,
    },
    #[error("Winit transport error: {message}")]
    Transport {
        message: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("Winit answered HTTP {status}: {snippet}")]
    Http { status: u16, snippet: String },
    #[error("undecodable Winit response ({reason}): {snippet}")]
    Undecodable { reason: String, snippet: String },
    /// The OAuth callback carried an error instead of a token.
    #[error("authorization was not granted: {0}")]
    AuthorizationDenied(String),
}

/// Codes the sandbox documents (Winit publishes no full table; see the README).
pub mod codes {
    pub const MISSING_PARAMETER: &str = "1001";
    pub const SIGN_MISMATCH: &str = "1002";
    pub const CLIENT_SIGN_MISMATCH: &str = "1003";
    pub const TIMESTAMP_EXPIRED: &str = "1004";
    pub const UNKNOWN_APPLICATION: &str = "1005";
    pub const TOKEN_INVALID: &str = "1006";
    pub const RATE_LIMITED: &str = "1007";
    pub const UNKNOWN_ACTION: &str = "1008";
    pub const INVALID_ARGUMENT: &str = "400001";
    pub const ORDER_NOT_FOUND: &str = "400006";
}

impl WinitError {
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        let err = err.without_url();
        let mut text = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        if err.is_timeout() {
            WinitError::Timeout {
                message: text,
                source: err,
            }
        } else {
            WinitError::Transport {
                message: text,
                source: err,
            }
        }
    }

    /// The platform's code, when it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            WinitError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl Classify for WinitError {
    fn class(&self) -> ErrorClass {
        match self {
            WinitError::Api { code, .. } => match code.as_str() {
                codes::SIGN_MISMATCH
                | codes::MISSING_PARAMETER
                | codes::TIMESTAMP_EXPIRED
                | codes::UNKNOWN_ACTION => ErrorClass::InvalidRequest,
                codes::CLIENT_SIGN_MISMATCH | codes::UNKNOWN_APPLICATION => ErrorClass::Credentials,
                codes::TOKEN_INVALID => ErrorClass::NeedsReauthorization,
                codes::RATE_LIMITED => ErrorClass::RateLimited,
                codes::INVALID_ARGUMENT | codes::ORDER_NOT_FOUND => ErrorClass::InvalidRequest,
                _ => ErrorClass::Platform,
            },
            WinitError::InvalidArgument { .. } | WinitError::Config { .. } => {
                ErrorClass::InvalidRequest
            }
            WinitError::AuthorizationDenied(_) => ErrorClass::NeedsReauthorization,
            WinitError::Timeout { .. }
            | WinitError::Transport { .. }
            | WinitError::Undecodable { .. } => ErrorClass::Transient,
            WinitError::Http { status, .. } if *status >= 500 || *status == 429 => {
                ErrorClass::Transient
            }
            WinitError::Http { .. } => ErrorClass::Platform,
        }
    }
}

pub(crate) fn snippet(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}
