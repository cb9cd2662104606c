//! The shopbridge hub: incremental sync of platform data into the store on a shared scheduler,
//! quotas, token upkeep, the connect flows, and the HTTP API (polyapi-compatible and REST).

pub mod access_log;
pub mod app;
pub mod application;
pub mod connect;
pub mod console;
pub mod limits;
pub mod platforms;
pub mod polyapi;
pub mod problem;
pub mod quota;
pub mod rest;
pub mod scheduler;
pub mod security;
pub mod service;
pub mod sources;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod ui;
pub mod webhooks;

pub use application::{AppConfig, Application, BuildError};
pub use platforms::vop::tokens::{TokenError, TokenManager, VopTokens};
pub use quota::{QuotaGate, RetryAfter};
pub use scheduler::{Platforms, RunOutcome, Scheduler};
pub use sync::{PageBatching, RetryPolicy, RunReport, StreamSource, StreamSync, SyncError};
