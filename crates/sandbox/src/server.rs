//! Building the sandbox's HTTP app and running it on a socket (port 0 in tests).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use shopbridge_core::SimClock;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::state::{Credentials, SandboxState};
use crate::{SandboxConfig, admin, faults, vop, winit};

/// A sandbox that has not started listening yet.
#[derive(Debug, Clone)]
pub struct Sandbox {
    state: Arc<SandboxState>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Self {
        Self {
            state: Arc::new(SandboxState::new(config)),
        }
    }

    pub fn state(&self) -> Arc<SandboxState> {
        self.state.clone()
    }

    /// The whole app: platform routes behind fault injection, plus the admin API.
    pub fn router(&self) -> Router {
        let platforms =
            vop::router()
                .merge(winit::router())
                .layer(axum::middleware::from_fn_with_state(
                    self.state.clone(),
                    faults::inject,
                ));
        Router::new()
            .merge(platforms)
            .merge(admin::router())
            .with_state(self.state.clone())
    }

    /// Binds `addr` (use port 0 for any free port) and serves in a background task.
    pub async fn start(self, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let result = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(err) = result {
                tracing::error!(error = %err, "sandbox server failed");
            }
        });
        tracing::info!(%addr, "sandbox listening");
        Ok(RunningSandbox {
            addr,
            state: self.state,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }
}

/// A sandbox serving on a socket; stops when dropped or on [`RunningSandbox::stop`].
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    state: Arc<SandboxState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// Starts a sandbox with `config` on a free loopback port.
    pub async fn spawn(config: SandboxConfig) -> std::io::Result<Self> {
        Sandbox::new(config)
            .start(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The VOP gateway URL (`http://127.0.0.1:PORT/vop/`).
    pub fn vop_gateway_url(&self) -> String {
        format!("{}/vop/", self.base_url())
    }

    /// The VOP OAuth base URL; `oauth2/authorize` etc. resolve below it.
    pub fn vop_oauth_url(&self) -> String {
        format!("{}/vop/", self.base_url())
    }

    /// The Winit OpenAPI endpoint (`http://127.0.0.1:PORT/winit/openapi/service`).
    pub fn winit_endpoint(&self) -> String {
        format!("{}/winit/openapi/service", self.base_url())
    }

    /// The Winit authorize page.
    pub fn winit_authorize_url(&self) -> String {
        format!("{}/winit/openapi/oauth2/authorize", self.base_url())
    }

    /// A handle on the simulated clock (shared: advancing it moves the server's time).
    pub fn clock(&self) -> SimClock {
        self.state.clock.clone()
    }

    pub fn state(&self) -> Arc<SandboxState> {
        self.state.clone()
    }

    pub fn credentials(&self) -> Credentials {
        self.state.credentials()
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until the process is interrupted (Ctrl-C).
    pub async fn serve_until_ctrl_c(self) {
        let _ = tokio::signal::ctrl_c().await;
        self.stop().await;
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
