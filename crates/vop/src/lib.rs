//! Typed Rust SDK for the Vipshop Open Platform (VOP, 唯品会开放平台).
//!
//! One [`VopClient`] per configuration (app key, secret, optional access token), one transport
//! that signs and sends every call ([`VopClient::call_raw`]), typed requests as data
//! ([`VopRequest`]) for the services, OAuth 2.0 against auth.vip.com ([`oauth`]), and typed
//! errors ([`VopError`], [`ApiErrorKind`]) a caller can act on.

pub mod client;
pub mod config;
pub mod error;
pub mod oauth;
pub mod request;
pub mod sign;
pub mod time;
pub mod union;

pub use client::{LastInvocation, VopClient, http_client_builder};
pub use config::{Format, VopConfig};
pub use error::{ApiErrorKind, VopError};
pub use request::{Mode, VopRequest};
