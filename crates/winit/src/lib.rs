//! Typed Rust SDK for the Winit (万邑通) overseas-warehouse OpenAPI.
//!
//! One JSON envelope posted to one URL; two MD5 signatures on every request (`sign` with the
//! seller's token, `client_sign` with the application's secret, [`sign`]); OAuth2's implicit
//! flow ([`oauth`]); the overseas-warehouse actions as typed requests ([`actions`]); a client-side
//! limit of 1000 requests a minute; and a fulfilment connector ([`connector`]).

pub mod actions;
pub mod client;
pub mod config;
pub mod connector;
pub mod error;
pub mod oauth;
pub mod request;
pub mod sign;

pub use client::WinitClient;
pub use config::WinitConfig;
pub use error::WinitError;
pub use request::WinitRequest;
