//! Typed Rust SDK for the Vipshop Open Platform (VOP, 唯品会开放平台).
//!
//! One [`VopClient`] per configuration (app key, secret, optional access token), one transport
//! that signs and sends every call ([`VopClient::call_raw`]), typed requests as data
//! ([`VopRequest`]) for the services, OAuth 2.0 against auth.vip.com ([`oauth`]), and typed
//! errors ([`VopError`], [`ApiErrorKind`]) a caller can act on.
//!
//! ```no_run
//! use shopbridge_vop::union::{GenByGoodsId, GoodsList};
//! use shopbridge_vop::{Mode, VopClient, VopConfig};
//!
//! # async fn example(user_token: secrecy::SecretString) -> Result<(), shopbridge_vop::VopError> {
//! let client = VopClient::new(VopConfig::new("app-key", "app-secret"))?;
//! let page = client.execute(&GoodsList::channel(Mode::Channel, 0, 1).page_size(20)).await?;
//! let tool = client.with_access_token(user_token);
//! let ids = page.goods_info_list.iter().map(|goods| goods.goods_id.clone());
//! let links = tool.execute(&GenByGoodsId::new(Mode::ToolProvider, ids).chan_tag("pid_1")).await?;
//! println!("{} links; last call {:?}", links.url_info_list.len(), tool.last_invocation());
//! # Ok(())
//! # }
//! ```

pub mod client;
pub mod config;
pub mod error;
pub mod jit;
pub mod list_page;
pub mod oauth;
pub mod request;
pub mod sign;
pub mod time;
pub mod union;

pub use client::{LastInvocation, VopClient, http_client_builder};
pub use config::{Format, VopConfig};
pub use error::{ApiErrorKind, VopError};
pub use list_page::ListPage;
pub use request::{Mode, VopRequest};
