//! The hub assembled from its configuration: the one wiring that `serve`, `sync scheduled` and
//! the tests use, so that what is tested is what runs.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;
use shopbridge_core::Clock;
use shopbridge_store::Store;
use shopbridge_vop::VopClient;
use shopbridge_winit::WinitClient;

use crate::platforms::{PlatformAdapter, Platforms, VopAdapter, WinitAdapter};
use crate::security::{GuessThrottle, TargetPolicy};
use crate::state::HubApp;
use crate::webhooks::WebhookDispatcher;
use crate::{QuotaGate, Scheduler, TokenManager};

/// What a hub is made of.
pub struct AppConfig {
    pub store: Store,
    /// The VOP application (no access token).
    pub vop: VopClient,
    /// The Winit application, when this hub has one.
    pub winit: Option<WinitClient>,
    /// The platforms' clock (a sandbox's simulated one in tests and the demo).
    pub clock: Arc<dyn Clock>,
    /// The quota gate every platform call passes; `None` calls without one.
    pub gate: Option<QuotaGate>,
    /// The URL people and platforms reach the hub at (callbacks are built from it).
    pub public_url: String,
    /// This process's name on the sync leases it holds.
    pub owner: String,
    /// Where tenants' webhooks may point.
    pub webhook_targets: TargetPolicy,
    /// Count failed sign-ins by the address in `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// In demo mode, what `GET /demo/credentials` answers once the demo shops are connected.
    pub demo_credentials: Option<Arc<OnceLock<Value>>>,
    /// The bearer token `GET /metrics` asks for; `None` leaves the metrics open.
    pub metrics_token: Option<secrecy::SecretString>,
}

/// Why a hub could not be assembled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The webhook dispatcher's HTTP client could not be made.
    #[error("webhook client: {0}")]
    WebhookClient(#[from] reqwest::Error),
}

/// How long a stopping hub waits for its sync runs to finish the page they are on.
const STOP_PATIENCE: Duration = Duration::from_secs(10);

/// A hub: its HTTP application, scheduler and webhook dispatcher.
pub struct Application {
    pub hub: HubApp,
    pub scheduler: Scheduler,
    pub dispatcher: WebhookDispatcher,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").finish_non_exhaustive()
    }
}

impl Application {
    /// Assembles the hub: the platform registry, the scheduler on the quota gate, the connect
    /// flows, and the webhook dispatcher (which may also deliver to the hub's own origin).
    pub fn build(config: AppConfig) -> Result<Self, BuildError> {
        let public_url = config.public_url.trim_end_matches('/').to_owned();
        let platforms = Platforms::new(
            VopAdapter::new(
                config.vop.clone(),
                TokenManager::new(config.store.clone(), config.vop),
            ),
            // Each other platform this hub has an application for.
            config
                .winit
                .map(|client| Arc::new(WinitAdapter::new(client)) as Arc<dyn PlatformAdapter>)
                .into_iter()
                .collect(),
        );
        let mut scheduler = Scheduler::new(
            config.store.clone(),
            platforms.clone(),
            config.clock.clone(),
            config.owner,
        );
        scheduler.gate = config.gate;
        let hub = HubApp {
            store: config.store.clone(),
            platforms,
            public_url: public_url.clone(),
            guesses: Arc::new(
                GuessThrottle::default().trusting_forwarded_for(config.trust_forwarded_for),
            ),
            sync_wake: scheduler.wake.clone(),
            clock: config.clock.clone(),
            scheduler: scheduler.clone(),
            demo_credentials: config.demo_credentials,
            webhook_targets: config.webhook_targets.clone(),
            background_passes: Default::default(),
            metrics_token: config.metrics_token,
        };
        let dispatcher = WebhookDispatcher::with_targets(
            config.store,
            config.clock,
            config.webhook_targets.with_own_origin(&public_url),
        )?;
        Ok(Self {
            hub,
            scheduler,
            dispatcher,
        })
    }

    /// The HTTP application.
    pub fn router(&self) -> axum::Router {
        crate::app::router(self.hub.clone())
    }

    /// Serves `listener` until `shutdown` resolves, with the scheduler (looking for due work
    /// every `poll`) and the webhook dispatcher running in the background.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        poll: Duration,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = self.router();
        let scheduler = self.scheduler;
        let dispatcher = self.dispatcher;
        let mut scheduling = {
            let scheduler = scheduler.clone();
            tokio::spawn(async move { scheduler.run_forever(poll).await })
        };
        let dispatching =
            tokio::spawn(async move { dispatcher.run_forever(Duration::from_secs(1)).await });
        // The signal stops the scheduler at once, not after the requests in flight: runs in
        // progress (a request's "sync now" among them) end after their current page, so that
        // it and the call that fetched it are stored and the run is recorded as interrupted.
        let stopper = scheduler.clone();
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopper.stop();
        })
        .await;
        scheduler.stop();
        let ended = tokio::time::timeout(STOP_PATIENCE, async {
            let _ = (&mut scheduling).await;
            scheduler.runs_ended().await;
        })
        .await;
        if ended.is_err() {
            // One that cannot (a platform call hanging) is cut off; its streams are handed
            // back now rather than when their leases run out, and whichever process takes one
            // ends its run's record.
            tracing::warn!(
                "a sync run did not reach the end of its page in {STOP_PATIENCE:?}; it is cut off"
            );
            scheduling.abort();
            let store = &scheduler.store;
            if let Err(err) = store
                .release_leases_of(&scheduler.owner, scheduler.clock.now_ms())
                .await
            {
                tracing::warn!(error = %err, "could not hand the streams back");
            }
        }
        // Deliveries are kept until they are sent: one cut off is sent again later.
        dispatching.abort();
        served
    }
}
