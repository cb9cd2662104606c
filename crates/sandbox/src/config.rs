//! Start-up settings of a sandbox: data seed, token lifetimes, initial faults.

use crate::FaultConfig;

/// Ninety days: the Union guide's default access-token lifetime (seed 000 says 30 days for
/// supplier apps; configurable).
pub const DEFAULT_ACCESS_TOKEN_TTL_SECS: i64 = 90 * 24 * 3600;
/// One year: the Union guide's refresh-token lifetime.
pub const DEFAULT_REFRESH_TOKEN_TTL_SECS: i64 = 365 * 24 * 3600;
/// Authorization codes expire after ten minutes.
pub const AUTH_CODE_TTL_SECS: i64 = 600;
/// The gateway accepts timestamps at most ten minutes off its clock.
pub const TIMESTAMP_SKEW_SECS: i64 = 600;

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Seed of the generated data (goods, tokens); the same seed gives the same data.
    pub seed: u64,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// Size of the simulated Union goods catalog.
    pub union_goods: usize,
    /// Direct-ship orders a day the demo JIT vendor had over the last 30 days, beyond the
    /// demo's dozen: a large vendor for load tests and benchmarks.
    pub jit_orders_per_day: usize,
    pub faults: FaultConfig,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 20_190_618,
            access_token_ttl_secs: DEFAULT_ACCESS_TOKEN_TTL_SECS,
            refresh_token_ttl_secs: DEFAULT_REFRESH_TOKEN_TTL_SECS,
            union_goods: 10_000,
            jit_orders_per_day: 0,
            faults: FaultConfig::default(),
        }
    }
}
