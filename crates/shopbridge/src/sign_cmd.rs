//! `shopbridge sign vop`: the platform's signature of a set of parameters and a body.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use secrecy::SecretString;

#[derive(Debug, Args)]
pub struct SignArgs {
    #[command(subcommand)]
    platform: SignPlatform,
}

#[derive(Debug, Subcommand)]
enum SignPlatform {
    /// VOP: upper-hex HMAC-MD5 over sorted non-empty system parameters + the body.
    Vop(VopSignArgs),
}

#[derive(Debug, Args)]
struct VopSignArgs {
    /// The app secret (prefer the environment variable: arguments show up in `ps`).
    #[arg(long, env = "SHOPBRIDGE_VOP_APP_SECRET", hide_env_values = true)]
    secret: String,
    /// The exact request body bytes.
    #[arg(long, default_value = "")]
    body: String,
    /// Also print the string that was signed.
    #[arg(short, long)]
    verbose: bool,
    /// System parameters as NAME=VALUE (service, method, version, timestamp, format, appKey,
    /// accessToken, language).
    #[arg(value_name = "NAME=VALUE", required = true)]
    params: Vec<String>,
}

/// Splits `NAME=VALUE` arguments, naming the one that is malformed.
pub fn parse_pairs(params: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    params
        .iter()
        .map(|pair| {
            let (name, value) = pair
                .split_once('=')
                .with_context(|| format!("parameter {pair:?}: expected NAME=VALUE"))?;
            if name.is_empty() {
                bail!("parameter {pair:?}: the name before '=' is empty");
            }
            Ok((name.to_owned(), value.to_owned()))
        })
        .collect()
}

pub fn run(args: SignArgs) -> anyhow::Result<()> {
    match args.platform {
        SignPlatform::Vop(args) => {
            let pairs = parse_pairs(&args.params)?;
            let borrowed = pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()));
            if args.verbose {
                let signed = shopbridge_vop::sign::signing_string(borrowed.clone(), &args.body);
                println!("signed string: {signed}");
            }
            let secret = SecretString::from(args.secret);
            println!(
                "{}",
                shopbridge_vop::sign::sign(&secret, borrowed, &args.body)
            );
            Ok(())
        }
    }
}
