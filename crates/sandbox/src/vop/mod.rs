//! The Vipshop Open Platform simulator: signed gateway, OAuth server and Union/JIT services.

pub mod args;
pub mod datetime;
pub mod gateway;
pub mod jit;
pub mod oauth;
pub mod pages;
pub mod quota;
pub mod signature;
pub mod union;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::SandboxConfig;
use crate::state::{SandboxState, VopAppCredentials, VopCredentials, VopUserCredentials};

/// Fixed demo credentials, documented in the README.
pub const DEMO_APP_KEY: &str = "sbx-vop-demo";
pub const DEMO_APP_SECRET: &str = "sbx-vop-demo-secret-3c9a1f";
pub const CHANNEL_APP_KEY: &str = "sbx-vop-channel";
pub const CHANNEL_APP_SECRET: &str = "sbx-vop-channel-secret-77e0b2";
pub const DEMO_REDIRECT_URI: &str = "http://127.0.0.1:8700/connect/vop/callback";
pub const DEMO_VENDOR_ID: i64 = 550;
/// Authorization codes and consent pages expire after ten minutes.
pub const AUTH_CODE_TTL_MS: i64 = crate::config::AUTH_CODE_TTL_SECS * 1000;

/// The permission packages an app can hold (VOP 权限包).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// 联盟渠道商: the plain Union methods.
    UnionChannel,
    /// 联盟工具商: the `...WithOauth` Union methods.
    UnionTool,
    /// JIT supplier services.
    Jit,
    /// `vipapis.oauth.OauthService.refreshToken`.
    RefreshToken,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::UnionChannel,
        Permission::UnionTool,
        Permission::Jit,
        Permission::RefreshToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::UnionChannel => "union_channel",
            Permission::UnionTool => "union_tool",
            Permission::Jit => "jit",
            Permission::RefreshToken => "refresh_token",
        }
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub app_key: String,
    pub app_secret: String,
    pub permissions: BTreeSet<Permission>,
    pub redirect_uris: Vec<String>,
    /// Empty: any IP may call.
    pub ip_allowlist: Vec<IpAddr>,
    /// The developer's own union account is missing or disabled (1007 in channel mode).
    pub union_disabled: bool,
    pub blacklisted: bool,
}

#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub password: String,
    pub open_id: String,
    pub role: &'static str,
    pub vendor_id: Option<i64>,
    pub frozen: bool,
    pub union_disabled: bool,
}

#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub username: String,
    pub expires_at_ms: i64,
    pub used: bool,
    /// Tokens issued from this code, revoked if the code is replayed.
    pub issued_tokens: Vec<String>,
}

/// Why a token stopped working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// revoke_token was called.
    Revoked,
    /// Superseded by a refresh.
    Refreshed,
    /// The user changed the password.
    PasswordChanged,
    /// The user (or the user's grant) was frozen.
    Frozen,
    /// The authorization code it came from was replayed.
    CodeReplayed,
}

impl Revocation {
    pub fn describe(self) -> &'static str {
        match self {
            Revocation::Revoked => "token revoked",
            Revocation::Refreshed => "token replaced by a refresh",
            Revocation::PasswordChanged => "user changed the password",
            Revocation::Frozen => "user authorization frozen",
            Revocation::CodeReplayed => "authorization code was used twice",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Token {
    pub client_id: String,
    pub username: String,
    pub refresh_token: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub refresh_expires_ms: i64,
    pub revoked: Option<Revocation>,
}

/// A logged-in user on the consent page, before 授权 or 取消.
#[derive(Debug, Clone)]
pub struct ConsentTicket {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub username: String,
    pub expires_at_ms: i64,
}

/// The FAQ's degradation: too many business errors in a window and results come back empty.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DegradationConfig {
    pub error_threshold: u32,
    pub window_secs: i64,
    pub duration_secs: i64,
}

impl Default for DegradationConfig {
    fn default() -> Self {
        Self {
            error_threshold: 100,
            window_secs: 60,
            duration_secs: 300,
        }
    }
}

#[derive(Debug)]
pub struct VopState {
    pub apps: Vec<App>,
    pub users: Vec<User>,
    pub codes: HashMap<String, AuthCode>,
    pub tokens: HashMap<String, Token>,
    pub tickets: HashMap<String, ConsentTicket>,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub quotas: quota::QuotaBook,
    pub degradation: DegradationConfig,
    pub union: union::UnionData,
    pub jit: jit::JitData,
}

impl VopState {
    pub fn seeded(rng: &mut ChaCha8Rng, config: &SandboxConfig, now_ms: i64) -> Self {
        let demo_redirects = vec![
            DEMO_REDIRECT_URI.to_owned(),
            "http://localhost/callback".to_owned(),
        ];
        let apps = vec![
            App {
                name: "demo".into(),
                app_key: DEMO_APP_KEY.into(),
                app_secret: DEMO_APP_SECRET.into(),
                permissions: Permission::ALL.into_iter().collect(),
                redirect_uris: demo_redirects.clone(),
                ip_allowlist: Vec::new(),
                union_disabled: false,
                blacklisted: false,
            },
            App {
                name: "channel_only".into(),
                app_key: CHANNEL_APP_KEY.into(),
                app_secret: CHANNEL_APP_SECRET.into(),
                permissions: [Permission::UnionChannel].into_iter().collect(),
                redirect_uris: demo_redirects,
                ip_allowlist: Vec::new(),
                union_disabled: false,
                blacklisted: false,
            },
        ];
        let users = vec![
            User {
                username: "union_demo".into(),
                password: "union-demo-pass".into(),
                open_id: random_hex(rng, 32),
                role: "union",
                vendor_id: None,
                frozen: false,
                union_disabled: false,
            },
            User {
                username: "vendor_demo".into(),
                password: "vendor-demo-pass".into(),
                open_id: random_hex(rng, 32),
                role: "vendor",
                vendor_id: Some(DEMO_VENDOR_ID),
                frozen: false,
                union_disabled: true,
            },
            User {
                username: "vendor_other".into(),
                password: "vendor-other-pass".into(),
                open_id: random_hex(rng, 32),
                role: "vendor",
                vendor_id: Some(DEMO_VENDOR_ID + 1),
                frozen: false,
                union_disabled: true,
            },
        ];
        Self {
            apps,
            users,
            codes: HashMap::new(),
            tokens: HashMap::new(),
            tickets: HashMap::new(),
            access_token_ttl_secs: config.access_token_ttl_secs,
            refresh_token_ttl_secs: config.refresh_token_ttl_secs,
            quotas: quota::QuotaBook::default(),
            degradation: DegradationConfig::default(),
            union: union::UnionData::generate(rng, config.union_goods),
            jit: jit::JitData::generate(
                rng,
                now_ms,
                jit::data::JitVolume {
                    orders_per_day: config.jit_orders_per_day,
                },
            ),
        }
    }

    pub fn app(&self, app_key: &str) -> Option<&App> {
        self.apps.iter().find(|app| app.app_key == app_key)
    }

    pub fn app_mut(&mut self, app_key: &str) -> Option<&mut App> {
        self.apps.iter_mut().find(|app| app.app_key == app_key)
    }

    pub fn user(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|user| user.username == username)
    }

    pub fn user_mut(&mut self, username: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|user| user.username == username)
    }

    /// Ends every live token of a user.
    pub fn revoke_user_tokens(&mut self, username: &str, why: Revocation) -> usize {
        let mut count = 0;
        for token in self.tokens.values_mut() {
            if token.username == username && token.revoked.is_none() {
                token.revoked = Some(why);
                count += 1;
            }
        }
        count
    }

    pub fn credentials(&self) -> VopCredentials {
        let apps: Vec<VopAppCredentials> = self
            .apps
            .iter()
            .map(|app| VopAppCredentials {
                name: app.name.clone(),
                app_key: app.app_key.clone(),
                app_secret: app.app_secret.clone(),
                permissions: app
                    .permissions
                    .iter()
                    .map(|p| p.as_str().to_owned())
                    .collect(),
                redirect_uris: app.redirect_uris.clone(),
            })
            .collect();
        let demo = self.app(DEMO_APP_KEY);
        VopCredentials {
            app_key: DEMO_APP_KEY.into(),
            app_secret: DEMO_APP_SECRET.into(),
            redirect_uris: demo
                .map(|app| app.redirect_uris.clone())
                .unwrap_or_default(),
            gateway_path: "/vop/".into(),
            oauth_path: "/vop/".into(),
            vendor_id: DEMO_VENDOR_ID,
            apps,
            users: self
                .users
                .iter()
                .map(|user| VopUserCredentials {
                    username: user.username.clone(),
                    password: user.password.clone(),
                    open_id: user.open_id.clone(),
                    role: user.role.to_owned(),
                    vendor_id: user.vendor_id,
                })
                .collect(),
        }
    }
}

/// `len` upper-case hex characters from the seeded generator (token and open id shapes).
pub fn random_hex(rng: &mut impl Rng, len: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    (0..len)
        .map(|_| char::from(DIGITS[rng.random_range(0..16)]))
        .collect()
}

/// The VOP routes: the gateway at `/vop/` (and `/vop`), the OAuth server under `/vop/oauth2/`.
pub fn router() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/vop", post(gateway::handle).get(gateway::handle_get))
        .route("/vop/", post(gateway::handle).get(gateway::handle_get))
        .route(
            "/vop/oauth2/authorize",
            get(oauth::authorize_page).post(oauth::login),
        )
        .route("/vop/oauth2/consent", post(oauth::consent))
        .route("/vop/oauth2/token", post(oauth::token))
        .route("/vop/oauth2/token_info", post(oauth::token_info))
        .route("/vop/oauth2/revoke_token", post(oauth::revoke_token))
}
