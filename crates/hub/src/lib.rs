//! The shopbridge hub: incremental sync of platform data into the store. The HTTP API, the
//! scheduler and the console build on this.

pub mod connect;
pub mod polyapi;
pub mod quota;
pub mod scheduler;
pub mod sources;
pub mod sync;
pub mod tokens;

pub use quota::{QuotaGate, RetryAfter};
pub use scheduler::{Platforms, RunOutcome, Scheduler};
pub use sync::{RetryPolicy, RunReport, StreamSource, StreamSync, SyncError};
pub use tokens::{TokenError, TokenManager, VopTokens};
