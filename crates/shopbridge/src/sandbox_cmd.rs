//! `shopbridge sandbox`: serve the simulators until interrupted.

use std::net::SocketAddr;

use clap::Args;
use shopbridge_sandbox::{FaultConfig, Sandbox, SandboxConfig};

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8700")]
    addr: SocketAddr,
    /// Seed of the generated data.
    #[arg(long, default_value_t = SandboxConfig::default().seed)]
    seed: u64,
    /// Lifetime of new access tokens, in seconds (default 90 days).
    #[arg(long)]
    access_token_ttl: Option<i64>,
    /// Lifetime of new refresh tokens, in seconds (default one year).
    #[arg(long)]
    refresh_token_ttl: Option<i64>,
    /// Size of the simulated Union goods catalog.
    #[arg(long, default_value_t = SandboxConfig::default().union_goods)]
    union_goods: usize,
    /// A large JIT vendor: this many direct-ship orders a day over the last 30 days for the
    /// demo vendor, beyond its dozen (at most 100,000).
    #[arg(long, default_value_t = 0)]
    jit_orders_per_day: usize,
    /// Delay every platform response by this many (real) milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Probability (0-1) of an HTTP 503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Probability (0-1) of a dropped connection.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Probability (0-1) of a body cut in half.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let defaults = SandboxConfig::default();
    for (name, value) in [
        ("--access-token-ttl", args.access_token_ttl),
        ("--refresh-token-ttl", args.refresh_token_ttl),
    ] {
        if value.is_some_and(|secs| secs <= 0) {
            anyhow::bail!("{name}: expected a positive number of seconds");
        }
    }
    let faults = FaultConfig {
        latency_ms: args.latency_ms,
        error_rate: args.error_rate,
        drop_rate: args.drop_rate,
        malformed_rate: args.malformed_rate,
        path_prefix: None,
    };
    faults.validate().map_err(anyhow::Error::msg)?;
    anyhow::ensure!(args.union_goods > 0, "--union-goods: expected at least 1");
    anyhow::ensure!(
        args.jit_orders_per_day <= 100_000,
        "--jit-orders-per-day: expected 0 to 100000, got {}",
        args.jit_orders_per_day
    );
    let config = SandboxConfig {
        seed: args.seed,
        access_token_ttl_secs: args
            .access_token_ttl
            .unwrap_or(defaults.access_token_ttl_secs),
        refresh_token_ttl_secs: args
            .refresh_token_ttl
            .unwrap_or(defaults.refresh_token_ttl_secs),
        union_goods: args.union_goods,
        jit_orders_per_day: args.jit_orders_per_day,
        faults,
    };
    let running = Sandbox::new(config).start(args.addr).await?;
    let creds = running.credentials();
    println!("sandbox listening on {}", running.base_url());
    println!("  VOP gateway:    {}", running.vop_gateway_url());
    println!(
        "  VOP OAuth:      {}oauth2/authorize",
        running.vop_oauth_url()
    );
    println!(
        "  credentials:    {}/_sandbox/credentials",
        running.base_url()
    );
    println!(
        "  demo app:       app_key={} (secret in /_sandbox/credentials)",
        creds.vop.app_key
    );
    for user in &creds.vop.users {
        println!(
            "  demo user:      {} / {} ({})",
            user.username, user.password, user.role
        );
    }
    println!("Press Ctrl-C to stop.");
    running.serve_until_ctrl_c().await;
    Ok(())
}
