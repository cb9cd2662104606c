//! Typed Rust SDK for the Winit (万邑通) overseas-warehouse OpenAPI.
//!
//! One JSON envelope posted to one URL; two MD5 signatures on every request (`sign` with the
//! seller's token, `client_sign` with the application's secret, [`sign`]); OAuth2's implicit
//! flow ([`oauth`]); the overseas-warehouse actions as typed requests ([`actions`]); a client-side
//! limit of 1000 requests a minute; and a fulfilment connector ([`connector`]).
//!
//! ```
//! use shopbridge_winit::sign::{Signed, canonical_data, sign};
//! // Vector C of the Winit spec: queryWarehouse with empty data, signed with the demo token.
//! let data = canonical_data(Some(&serde_json::json!({})));
//! let fields = Signed {
//!     action: "queryWarehouse",
//!     app_key: "rebecca",
//!     data: &data,
//!     format: "json",
//!     platform: "OWNERERP",
//!     sign_method: "md5",
//!     timestamp: "2024-01-01 12:00:00",
//!     version: "1.0",
//! };
//! let token = secrecy::SecretString::from("89435277FA3BA272DE795559998E-");
//! assert_eq!(sign(&token, &fields), "554B618743F9C1FA987F34E903C689D8");
//! ```

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
