//! The Winit (万邑通) simulator: a signed OpenAPI gateway verifying `sign` and `client_sign`,
//! the OAuth2 implicit-flow login page, and overseas warehouses whose outbound orders move
//! through their statuses on the simulated clock.

pub mod gateway;
pub mod oauth;
pub mod warehouse;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::state::SandboxState;

/// Winit's public documentation sandbox values (specs/winit.md §2.4): the published vectors
/// verify against this sandbox as they are.
pub const APP_KEY: &str = "rebecca";
pub const PASSWORD: &str = "888";
pub const TOKEN: &str = "89435277FA3BA272DE795559998E-";
pub const CLIENT_ID: &str = "ODJKMDU1YZCTYJQ5YY00ZWZLLTK5N2QTOWY4MZI5OGMWNDG2";
pub const CLIENT_SECRET: &str =
    "ODQ4YWY0ZWETMZLLZC00MJFJLTG3NWUTYTMWNGIYMJFINJFJODK4OTMZNZY1NDA3MJE3MA==";
pub const PLATFORM: &str = "OWNERERP";
pub const REDIRECT_URI: &str = "http://127.0.0.1:8700/connect/winit/callback";

#[derive(Debug, Clone)]
pub struct Seller {
    pub app_key: String,
    pub password: String,
    /// Every token that signs for this seller (the legacy one and OAuth-issued ones).
    pub tokens: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WinitSettings {
    /// Return the OAuth token in the URL fragment instead of the query string.
    pub token_in_fragment: bool,
}

#[derive(Debug)]
pub struct WinitState {
    pub sellers: Vec<Seller>,
    pub redirect_uris: Vec<String>,
    pub settings: WinitSettings,
    /// Calls per seller in the last minute (1000 allowed).
    pub calls: HashMap<String, VecDeque<i64>>,
    pub warehouses: warehouse::Warehouses,
}

impl WinitState {
    pub fn seeded(rng: &mut ChaCha8Rng) -> Self {
        Self {
            sellers: vec![
                Seller {
                    app_key: APP_KEY.into(),
                    password: PASSWORD.into(),
                    tokens: vec![TOKEN.into()],
                },
                Seller {
                    app_key: "winit_other".into(),
                    password: "other-pass".into(),
                    tokens: vec![crate::vop::random_hex(rng, 30)],
                },
            ],
            redirect_uris: vec![
                REDIRECT_URI.into(),
                "http://localhost/winit/callback".into(),
            ],
            settings: WinitSettings::default(),
            calls: HashMap::new(),
            warehouses: warehouse::Warehouses::seeded(),
        }
    }

    pub fn seller(&self, app_key: &str) -> Option<&Seller> {
        self.sellers.iter().find(|s| s.app_key == app_key)
    }

    pub fn credentials(&self) -> WinitCredentials {
        WinitCredentials {
            app_key: APP_KEY.into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            platform: PLATFORM.into(),
            token: TOKEN.into(),
            service_path: "/winit/openapi/service".into(),
            authorize_path: "/winit/openapi/oauth2/authorize".into(),
            redirect_uris: self.redirect_uris.clone(),
            sellers: self
                .sellers
                .iter()
                .map(|s| WinitSellerCredentials {
                    app_key: s.app_key.clone(),
                    password: s.password.clone(),
                })
                .collect(),
        }
    }
}

/// `GET /_sandbox/credentials`'s `winit` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WinitCredentials {
    pub app_key: String,
    pub client_id: String,
    pub client_secret: String,
    pub platform: String,
    /// The demo seller's token.
    pub token: String,
    pub service_path: String,
    pub authorize_path: String,
    pub redirect_uris: Vec<String>,
    pub sellers: Vec<WinitSellerCredentials>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WinitSellerCredentials {
    pub app_key: String,
    pub password: String,
}

pub fn router() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/winit/openapi/service", post(gateway::handle))
        .route(
            "/winit/openapi/oauth2/authorize",
            get(oauth::authorize_page).post(oauth::login),
        )
}
