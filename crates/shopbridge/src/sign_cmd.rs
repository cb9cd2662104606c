//! `shopbridge sign vop|winit|poly`: a platform's signature of a request, to debug 签名不匹配.

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
    /// Winit: upper-hex MD5 of secret + action, app_key, data (canonical), format, platform,
    /// sign_method, timestamp, version + secret. The token gives `sign`, the client secret
    /// `client_sign`.
    Winit(WinitSignArgs),
    /// polyapi (the hub's /openapi/do): lower-hex MD5 of the lower-cased secret + sorted
    /// name/value pairs (every parameter but sign and contextid) + secret.
    Poly(PolySignArgs),
}

#[derive(Debug, Args)]
struct PolySignArgs {
    /// The app secret.
    #[arg(long, env = "SHOPBRIDGE_POLY_SECRET", hide_env_values = true)]
    secret: String,
    /// method, appkey, token, platid, version, contenttype, timestamp, bizcontent as NAME=VALUE
    /// (bizcontent exactly as sent).
    #[arg(value_name = "NAME=VALUE", required = true)]
    params: Vec<String>,
}

#[derive(Debug, Args)]
struct WinitSignArgs {
    /// The seller's token (for `sign`) or the client secret (for `client_sign`).
    #[arg(long, env = "SHOPBRIDGE_WINIT_SECRET", hide_env_values = true)]
    secret: String,
    /// Also print the string that was signed (it contains the secret).
    #[arg(short, long)]
    verbose: bool,
    /// action, app_key, data (JSON, canonicalized: keys sorted, compact), format (json),
    /// platform, sign_method (md5), timestamp, version (1.0) as NAME=VALUE.
    #[arg(value_name = "NAME=VALUE", required = true)]
    params: Vec<String>,
}

fn winit_sign(args: WinitSignArgs) -> anyhow::Result<()> {
    let pairs = parse_pairs(&args.params)?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    const KNOWN: [&str; 8] = [
        "action",
        "app_key",
        "data",
        "format",
        "platform",
        "sign_method",
        "timestamp",
        "version",
    ];
    if let Some((name, _)) = pairs.iter().find(|(n, _)| !KNOWN.contains(&n.as_str())) {
        bail!(
            "parameter {name:?} is not signed by Winit; expected one of {}",
            KNOWN.join(", ")
        );
    }
    let required = |name: &str| get(name).with_context(|| format!("parameter {name} is required"));
    let data = match get("data") {
        Some(text) if !text.is_empty() => {
            let value: serde_json::Value =
                serde_json::from_str(&text).context("data: expected JSON")?;
            shopbridge_winit::sign::canonical_data(Some(&value))
        }
        _ => String::new(),
    };
    let (action, app_key, platform, timestamp) = (
        required("action")?,
        required("app_key")?,
        required("platform")?,
        required("timestamp")?,
    );
    let (format, sign_method, version) = (
        get("format").unwrap_or_else(|| "json".into()),
        get("sign_method").unwrap_or_else(|| "md5".into()),
        get("version").unwrap_or_else(|| "1.0".into()),
    );
    let fields = shopbridge_winit::sign::Signed {
        action: &action,
        app_key: &app_key,
        data: &data,
        format: &format,
        platform: &platform,
        sign_method: &sign_method,
        timestamp: &timestamp,
        version: &version,
    };
    if args.verbose {
        println!(
            "signed string: {}",
            shopbridge_winit::sign::signing_string(&args.secret, &fields)
        );
    }
    println!(
        "{}",
        shopbridge_winit::sign::sign(&SecretString::from(args.secret), &fields)
    );
    Ok(())
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
        SignPlatform::Poly(args) => {
            let pairs = parse_pairs(&args.params)?;
            let mut seen = std::collections::BTreeSet::new();
            for (name, _) in &pairs {
                if !seen.insert(name.to_ascii_lowercase()) {
                    bail!("parameter {name:?} is given twice");
                }
            }
            println!(
                "{}",
                shopbridge_hub::polyapi::sign::sign(
                    &args.secret,
                    pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
                )
            );
            Ok(())
        }
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
        SignPlatform::Winit(args) => winit_sign(args),
    }
}
