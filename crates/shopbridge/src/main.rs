//! The shopbridge command line: the only place that prints and exits.

mod backup_cmd;
mod bench_cmd;
mod bench_ingest;
mod bench_reads;
mod config;
mod demo;
mod doctor_cmd;
mod init_cmd;
mod jit_cmd;
mod run_owner;
mod sandbox_cmd;
mod serve;
mod settings;
mod sign_cmd;
mod sync_cmd;
mod table;
mod tenant_cmd;
mod union_cmd;
mod vop_cmd;
mod winit_cmd;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// mimalloc for Rust's allocations; the workspace's `override` feature makes it serve the C
/// library's malloc and free (SQLite's) too. A sync allocates and frees every order's strings
/// and rows, and glibc's malloc and free were a tenth of its CPU (`BENCHMARKS.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Self-hosted integration hub for Chinese e-commerce open platforms.
#[derive(Debug, Parser)]
#[command(name = "shopbridge", version, about)]
struct Cli {
    /// Log filter (`info`, `debug`, `shopbridge_vop=debug`...); also read from RUST_LOG.
    #[arg(long, global = true, env = "SHOPBRIDGE_LOG", default_value = "warn")]
    log: String,
    /// How log lines are written to stderr: `pretty` for people, `json` (one object a line) for
    /// log collectors.
    #[arg(long, global = true, env = "SHOPBRIDGE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a consistent copy of the store while the hub runs (SQLite; PostgreSQL: pg_dump).
    Backup(backup_cmd::BackupArgs),
    /// Measure sync ingest, quota use and the unified API, each beside its baseline.
    Bench(bench_cmd::BenchArgs),
    /// Run the whole flow against an embedded sandbox: OAuth login, channel and tool-provider
    /// calls, refresh, revoke.
    Demo(demo::DemoArgs),
    /// Check a deployment without changing it: database and migrations, master key, Redis,
    /// the platforms (a signed call each), the public URL; non-zero exit on a problem.
    Doctor(doctor_cmd::DoctorArgs),
    /// Set up a new deployment's directory: a commented config file and the master key; prints
    /// the callback URLs to register and the next commands.
    Init(init_cmd::InitArgs),
    /// Vipshop JIT supplier operations: orders, products, ship, stock, refunds; po, pick, delivery.
    Jit(jit_cmd::JitArgs),
    /// The vault's master key: `keys rotate`.
    Keys(sync_cmd::KeysArgs),
    /// Quota use from the recorded API calls: `quota report`.
    Quota(sync_cmd::QuotaArgs),
    /// Bring a store back from a backup into a new SQLite file, checked against the master key.
    Restore(backup_cmd::RestoreArgs),
    /// Serve the platform simulators (VOP gateway and OAuth server, admin API).
    Sandbox(sandbox_cmd::SandboxArgs),
    /// Run the hub: the unified API, REST, connect flows and the scheduler (with no
    /// configuration: an embedded sandbox with a demo tenant and shops).
    Serve(serve::ServeArgs),
    /// The shops of every tenant: `shops list`, `shops delete ID`.
    Shops(tenant_cmd::ShopsArgs),
    /// Compute a platform signature, to debug 签名不匹配.
    Sign(sign_cmd::SignArgs),
    /// The apps allowed to call the hub: `tenant create NAME`, `list`, `rotate-secret`, `delete`.
    Tenant(tenant_cmd::TenantArgs),
    /// Pull platform data into the local store (safe to interrupt; resumes where it stopped).
    Sync(sync_cmd::SyncArgs),
    /// The Vipshop Union (唯品会联盟) affiliate API: goods, links, orders, PIDs, earnings.
    Union(union_cmd::UnionArgs),
    /// Call the Vipshop Open Platform.
    Vop(vop_cmd::VopArgs),
    /// The Winit (万邑通) overseas-warehouse API: warehouses, outbound orders, inventory, tracking.
    Winit(winit_cmd::WinitArgs),
}

/// A listing piped into `head` (or any reader that stops early) ends quietly, as command-line
/// tools do, instead of panicking on the closed pipe.
fn end_quietly_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

impl Command {
    /// Whether the command serves or drives many things at once (the hub, the sandbox, the
    /// scheduled sync, the benchmarks' load), so that its tasks should run on every core. A
    /// one-shot command runs on one thread: its few tasks wait on each other (a call, then its
    /// page's write), and handing each wake-up to another thread cost a tenth of a sync's CPU.
    fn runs_tasks_in_parallel(&self) -> bool {
        match self {
            Command::Serve(_) | Command::Sandbox(_) | Command::Demo(_) => true,
            Command::Bench(args) => args.runs_tasks_in_parallel(),
            Command::Sync(args) => args.runs_tasks_in_parallel(),
            _ => false,
        }
    }
}

fn main() -> std::process::ExitCode {
    end_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let runtime = if cli.command.runs_tasks_in_parallel() {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> std::process::ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cli.log));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match cli.log_format {
        LogFormat::Pretty => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let result = match cli.command {
        Command::Backup(args) => backup_cmd::backup(args).await,
        Command::Bench(args) => bench_cmd::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Doctor(args) => match doctor_cmd::run(args).await {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::FAILURE,
            Err(err) => Err(err),
        },
        Command::Init(args) => init_cmd::run(args).await,
        Command::Jit(args) => jit_cmd::run(args).await,
        Command::Keys(args) => sync_cmd::keys(args).await,
        Command::Quota(args) => sync_cmd::quota(args).await,
        Command::Restore(args) => backup_cmd::restore(args).await,
        Command::Sandbox(args) => sandbox_cmd::run(args).await,
        Command::Shops(args) => tenant_cmd::shops(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Sign(args) => sign_cmd::run(args),
        Command::Sync(args) => match sync_cmd::run(args).await {
            Err(err) if err.is::<sync_cmd::Stopped>() => {
                return std::process::ExitCode::from(sync_cmd::STOPPED_EXIT);
            }
            other => other,
        },
        Command::Tenant(args) => tenant_cmd::run(args).await,
        Command::Union(args) => union_cmd::run(args).await,
        Command::Vop(args) => vop_cmd::run(args).await,
        Command::Winit(args) => winit_cmd::run(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every option of every command says what it is for.
    #[test]
    fn every_option_has_help_text() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.is_positional() || matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{}", arg.get_long().unwrap_or(id)));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "shopbridge", &mut missing);
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "options without help:\n{}",
            missing.join("\n")
        );
    }
}
