//! `shopbridge vop call|auth`: the VOP SDK from the shell.

use anyhow::Context;
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use shopbridge_vop::time::format_datetime_ms;
use shopbridge_vop::{VopClient, VopError, VopRequest};

use crate::config::VopCredentialArgs;

#[derive(Debug, Args)]
pub struct VopArgs {
    #[command(flatten)]
    credentials: VopCredentialArgs,
    #[command(subcommand)]
    command: VopCommand,
}

#[derive(Debug, Subcommand)]
enum VopCommand {
    /// Call any service method and print its `result` (or the typed error).
    Call {
        /// The service's full name, e.g. vipapis.inventory.InventoryService.
        #[arg(long)]
        service: String,
        /// The method's name, e.g. updateInventory.
        #[arg(long)]
        method: String,
        /// The service version the method is documented under.
        #[arg(long, default_value = "1.0.0")]
        version: String,
        /// The JSON body: an object of the method's arguments, e.g. '{"request":{...}}'.
        #[arg(long, default_value = "{}")]
        body: String,
    },
    /// OAuth 2.0 against auth.vip.com.
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AuthCommand {
    /// Print the authorize URL (server-side flow, or --native for the oob flow).
    Url {
        /// The redirect URI registered for the app, where the code is sent (unless --native).
        #[arg(long, required_unless_present = "native")]
        redirect_uri: Option<String>,
        /// A value of yours the platform sends back unchanged with the code (against CSRF).
        #[arg(long)]
        state: Option<String>,
        /// Native application flow: redirect_uri=urn:ietf:wg:oauth:2.0:oob, display=mobile.
        #[arg(long)]
        native: bool,
    },
    /// Exchange an authorization code (or a full callback URL) for tokens.
    Exchange {
        /// The code, or the whole callback URL the browser landed on.
        #[arg(long)]
        code: String,
        /// The redirect URI the authorize URL was made with (the default is the native flow's).
        #[arg(long, default_value = shopbridge_vop::oauth::OOB_REDIRECT_URI)]
        redirect_uri: String,
        /// The caller's IP address, sent as `request_client_ip`.
        #[arg(long, default_value = "127.0.0.1")]
        client_ip: String,
    },
    /// Look a token up (token_info).
    Info {
        /// The access token to look up; prefer the environment variable: arguments show up in `ps`.
        #[arg(long, env = "SHOPBRIDGE_VOP_ACCESS_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Revoke a token.
    Revoke {
        /// The access token to revoke; prefer the environment variable: arguments show up in `ps`.
        #[arg(long, env = "SHOPBRIDGE_VOP_ACCESS_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Refresh through vipapis.oauth.OauthService.refreshToken.
    Refresh {
        /// The refresh token; prefer the environment variable: arguments show up in `ps`.
        #[arg(long, env = "SHOPBRIDGE_VOP_REFRESH_TOKEN", hide_env_values = true)]
        refresh_token: String,
        /// The caller's IP address, sent as `request_client_ip`.
        #[arg(long, default_value = "127.0.0.1")]
        client_ip: String,
    },
}

pub async fn run(args: VopArgs) -> anyhow::Result<()> {
    let client = args.credentials.client().await?;
    match args.command {
        VopCommand::Call {
            service,
            method,
            version,
            body,
        } => {
            let body: Value = serde_json::from_str(&body)
                .context("--body: expected a JSON object of the method's arguments")?;
            anyhow::ensure!(
                body.is_object(),
                "--body: expected a JSON object, got {body}"
            );
            let result = client
                .call::<Value>(&service, &method, &version, &body)
                .await;
            print_invocation(&client);
            let value = result.map_err(explain)?;
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        VopCommand::Auth { command } => auth(&client, command).await?,
    }
    Ok(())
}

/// Executes a typed request; on failure prints the last invocation and explains the error.
pub async fn run_request<R: VopRequest>(
    client: &VopClient,
    request: &R,
) -> anyhow::Result<R::Output> {
    let result = client.execute(request).await;
    if result.is_err() {
        print_invocation(client);
    }
    result.map_err(explain)
}

/// The debugging facts of the last call, on stderr (no secrets: the URL is redacted).
pub fn print_invocation(client: &VopClient) {
    if let Some(last) = client.last_invocation() {
        eprintln!(
            "# {}.{} sign={} request_id={} latency={}ms http={} returnCode={}",
            last.service,
            last.method,
            last.sign,
            last.request_id,
            last.latency.as_millis(),
            last.http_status.map_or("-".to_owned(), |s| s.to_string()),
            last.return_code.as_deref().unwrap_or("-"),
        );
        eprintln!("# {}", last.url);
    }
}

/// A typed error with what to do about it.
pub fn explain(err: VopError) -> anyhow::Error {
    use shopbridge_core::error::{Classify, ErrorClass};
    let hint = match err.class() {
        ErrorClass::InvalidRequest => {
            "fix the request; `shopbridge sign vop -v` shows what is signed"
        }
        ErrorClass::Credentials => "check the app key, secret and the IP allow-list",
        ErrorClass::Permission => "the app needs the permission package for this method",
        ErrorClass::NeedsReauthorization => {
            "the user must authorize again (`shopbridge vop auth url`)"
        }
        ErrorClass::AccountDisabled => "the union account is missing or disabled",
        ErrorClass::RateLimited => "quota exceeded: retry later, more slowly",
        ErrorClass::Transient => "transient failure: retry with backoff",
        ErrorClass::Platform | ErrorClass::Unsupported => "see the platform's message",
    };
    anyhow::Error::new(err).context(hint)
}

fn mask(secret: &SecretString) -> String {
    let text = secret.expose_secret();
    let shown: String = text.chars().take(6).collect();
    format!("{shown}… ({} chars)", text.chars().count())
}

/// Prints newly issued tokens. This is the one place tokens are shown: the user asked for them,
/// on their own terminal, to store them.
fn print_issued(
    access: &SecretString,
    refresh: Option<&SecretString>,
    expires_in: i64,
    refresh_expires_ms: Option<i64>,
    extra: Value,
) -> anyhow::Result<()> {
    let mut answer = json!({
        "access_token": access.expose_secret(),
        "refresh_token": refresh.map(|token| token.expose_secret().to_owned()),
        "expires_in": expires_in,
        "refresh_expires_time": refresh_expires_ms.map(format_datetime_ms),
    });
    if let (Value::Object(answer), Value::Object(extra)) = (&mut answer, extra) {
        answer.extend(extra);
    }
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

async fn auth(client: &VopClient, command: AuthCommand) -> anyhow::Result<()> {
    match command {
        AuthCommand::Url {
            redirect_uri,
            state,
            native,
        } => {
            let url = if native {
                client.native_authorize_url(state.as_deref())?
            } else {
                let redirect_uri =
                    redirect_uri.context("--redirect-uri is required for the server-side flow")?;
                client.authorize_url(&redirect_uri, state.as_deref())?
            };
            println!("{url}");
        }
        AuthCommand::Exchange {
            code,
            redirect_uri,
            client_ip,
        } => {
            let code = if code.contains("code=") || code.contains("error=") {
                shopbridge_vop::oauth::parse_callback(&code)
                    .map_err(explain)?
                    .code
            } else {
                code
            };
            let token = client
                .exchange_code(&code, &redirect_uri, &client_ip)
                .await
                .map_err(explain)?;
            print_issued(
                &token.access_token,
                token.refresh_token.as_ref(),
                token.expires_in,
                token.refresh_expires_time,
                json!({ "open_id": token.open_id }),
            )?;
        }
        AuthCommand::Info { token } => {
            let info = client
                .token_info(&SecretString::from(token))
                .await
                .map_err(explain)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "access_token": mask(&info.access_token),
                    "open_id": info.open_id,
                    "expires_in": info.expires_in,
                    "create_at": info.create_at.map(format_datetime_ms),
                    "expires_time": info.expires_time.map(format_datetime_ms),
                    "token_type": info.token_type,
                }))?
            );
        }
        AuthCommand::Revoke { token } => {
            client
                .revoke_token(&SecretString::from(token))
                .await
                .map_err(explain)?;
            println!("revoked");
        }
        AuthCommand::Refresh {
            refresh_token,
            client_ip,
        } => {
            let token = client
                .refresh_token(&SecretString::from(refresh_token), &client_ip)
                .await
                .map_err(explain)?;
            print_issued(
                &token.access_token,
                token.refresh_token.as_ref(),
                token.expires_in,
                token.refresh_expires_time,
                json!({ "expires_time": token.expires_time.map(format_datetime_ms) }),
            )?;
        }
    }
    Ok(())
}
