//! Shared vocabulary of shopbridge: clock, platforms, error classes and the platforms' quota table.
//!
//! Every other crate depends on this one and on nothing above it; the sandbox depends on it
//! alone, so that it can never share a connector's mistakes.

pub mod capability;
pub mod clock;
pub mod codes;
pub mod error;
pub mod http;
pub mod json;
pub mod model;
pub mod money;
pub mod platform;
pub mod quota;

pub use clock::{Clock, SimClock, SystemClock};
pub use error::ErrorClass;
pub use platform::{Platform, ShopKind, UnknownShopKind};
