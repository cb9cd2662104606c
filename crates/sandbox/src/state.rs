//! Shared state of one sandbox process: clock, seeded randomness, faults and each platform.

use std::sync::{Mutex, MutexGuard};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use shopbridge_core::{Clock, SimClock};

use crate::vop::VopState;
use crate::winit::{WinitCredentials, WinitState};
use crate::{FaultConfig, SandboxConfig};

/// Everything the handlers share. Locks are never held across an `.await`.
#[derive(Debug)]
pub struct SandboxState {
    pub clock: SimClock,
    pub config: SandboxConfig,
    faults: Mutex<FaultConfig>,
    rng: Mutex<ChaCha8Rng>,
    vop: Mutex<VopState>,
    winit: Mutex<WinitState>,
}

/// Locks a mutex, recovering the data if a handler panicked while holding it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SandboxState {
    pub fn new(config: SandboxConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let clock = SimClock::new();
        let vop = VopState::seeded(&mut rng, &config, clock.now_ms());
        let winit = WinitState::seeded(&mut rng);
        Self {
            clock,
            faults: Mutex::new(config.faults.clone()),
            rng: Mutex::new(rng),
            vop: Mutex::new(vop),
            winit: Mutex::new(winit),
            config,
        }
    }

    pub fn faults(&self) -> FaultConfig {
        lock(&self.faults).clone()
    }

    pub fn set_faults(&self, faults: FaultConfig) {
        *lock(&self.faults) = faults;
    }

    pub fn rng(&self) -> MutexGuard<'_, ChaCha8Rng> {
        lock(&self.rng)
    }

    pub fn vop(&self) -> MutexGuard<'_, VopState> {
        lock(&self.vop)
    }

    pub fn winit(&self) -> MutexGuard<'_, WinitState> {
        lock(&self.winit)
    }

    /// The demo credentials, as `GET /_sandbox/credentials` returns them.
    pub fn credentials(&self) -> Credentials {
        Credentials {
            vop: self.vop().credentials(),
            winit: self.winit().credentials(),
        }
    }
}

/// `GET /_sandbox/credentials`: what a client needs to talk to each simulated platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub vop: VopCredentials,
    pub winit: WinitCredentials,
}

/// VOP: the main demo app (every permission package) plus the other apps and the demo users.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VopCredentials {
    pub app_key: String,
    pub app_secret: String,
    pub redirect_uris: Vec<String>,
    /// Path of the gateway under the sandbox's base URL.
    pub gateway_path: String,
    /// Base path of the OAuth server (`oauth2/authorize` etc. below it).
    pub oauth_path: String,
    /// The demo supplier's vendor id (JIT).
    pub vendor_id: i64,
    pub apps: Vec<VopAppCredentials>,
    pub users: Vec<VopUserCredentials>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VopAppCredentials {
    pub name: String,
    pub app_key: String,
    pub app_secret: String,
    pub permissions: Vec<String>,
    pub redirect_uris: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VopUserCredentials {
    pub username: String,
    pub password: String,
    pub open_id: String,
    /// `union` (a union/affiliate account) or `vendor` (a JIT supplier).
    pub role: String,
    pub vendor_id: Option<i64>,
}

impl VopCredentials {
    /// The first user with `role`.
    pub fn user(&self, role: &str) -> Option<&VopUserCredentials> {
        self.users.iter().find(|user| user.role == role)
    }

    /// An app by name.
    pub fn app(&self, name: &str) -> Option<&VopAppCredentials> {
        self.apps.iter().find(|app| app.name == name)
    }
}
