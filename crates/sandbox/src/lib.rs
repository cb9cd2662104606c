//! Offline simulators of the platforms shopbridge talks to, in one HTTP process.
//!
//! Every platform lives under its own path prefix (`/vop/...`); `/_sandbox/...` is the admin
//! API (credentials, simulated clock, fault injection, account knobs). The sandbox depends on
//! `shopbridge-core` only and verifies signatures with its own code, so that it catches a
//! client's mistakes instead of sharing them.

pub mod admin;
pub mod answer;
pub mod browser;
pub mod config;
pub mod faults;
pub mod server;
pub mod state;
pub mod vop;
pub mod winit;

pub use config::SandboxConfig;
pub use faults::FaultConfig;
pub use server::{RunningSandbox, Sandbox};
pub use state::{Credentials, VopAppCredentials, VopCredentials, VopUserCredentials};
