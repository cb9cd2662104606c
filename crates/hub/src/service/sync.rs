//! Sync on request: every stream of the tenant's runnable shops made due and run now, with the
//! streams other processes are still running reported, for REST and the console alike.

use std::sync::Arc;
use std::time::Duration;

use shopbridge_store::{ClaimScope, ConnectionState};

use super::HubError;
use crate::state::HubApp;

/// One stream run made on request.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub connection_id: String,
    pub stream: String,
    pub ok: bool,
    /// The run stopped between two pages because its process is stopping; its stream is due
    /// again at once and the next run goes on from there.
    pub interrupted: bool,
    pub pages: u32,
    /// Records inserted or replaced by a newer version.
    pub changed: u32,
    pub error: Option<String>,
}

/// What a sync on request did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SyncRunAnswer {
    pub runs: Vec<RunView>,
    /// Nothing of the tenant's is still running elsewhere.
    pub complete: bool,
    /// `connection stream` of the streams other processes were still running.
    pub still_running_elsewhere: Vec<String>,
}

/// How long a sync on request waits for streams another process is running before it answers
/// with them as still running.
const WAIT_FOR_OTHERS: Duration = Duration::from_secs(5);

/// The tenant's shops whose streams can run now (a shop that needs re-authorization cannot,
/// and waits for its owner).
async fn runnable_shops(app: &HubApp, tenant: &str) -> Result<Vec<String>, HubError> {
    Ok(app
        .store
        .tenant_connections(tenant)
        .await?
        .into_iter()
        .filter(|c| {
            matches!(
                c.state,
                ConnectionState::Active | ConnectionState::Refreshing
            )
        })
        .map(|c| c.id)
        .collect())
}

/// Makes every stream of the tenant's runnable shops due, runs them here, and answers with
/// those runs and the streams still leased by other processes when the wait for them ran out.
/// Only the tenant's own streams are run and reported.
pub async fn run_now(app: &HubApp, tenant: &str) -> Result<SyncRunAnswer, HubError> {
    make_due(app, tenant).await?;
    run_due(app, tenant).await
}

/// Makes every stream of the tenant's runnable shops due now (a shop just connected is
/// planned first); a shop waiting for re-authorization is left to its owner.
pub async fn make_due(app: &HubApp, tenant: &str) -> Result<(), HubError> {
    // Whatever changed before this request is read: runs end their windows before their own
    // second, so they start once the current one is over.
    crate::sync::settle_current_second(app.clock.as_ref()).await;
    app.scheduler.plan_tenant(tenant).await?;
    let runnable = runnable_shops(app, tenant).await?;
    let now = app.clock.now_ms();
    for schedule in app.store.tenant_schedules(tenant).await? {
        if runnable.contains(&schedule.connection_id) {
            app.store
                .run_now(&schedule.connection_id, &schedule.stream, now)
                .await?;
        }
    }
    Ok(())
}

/// Makes the tenant's streams due and runs them in the background, unless a pass started this
/// way is still running for the tenant (then nothing more is started). True if one started.
pub async fn start_in_background(app: &Arc<HubApp>, tenant: &str) -> Result<bool, HubError> {
    let claimed = app
        .background_passes
        .lock()
        .map(|mut running| running.insert(tenant.to_owned()))
        .unwrap_or(false);
    if !claimed {
        return Ok(false);
    }
    // The pass ends (and the tenant may start another) however it ends.
    struct Release(Arc<HubApp>, String);
    impl Drop for Release {
        fn drop(&mut self) {
            if let Ok(mut running) = self.0.background_passes.lock() {
                running.remove(&self.1);
            }
        }
    }
    let release = Release(app.clone(), tenant.to_owned());
    make_due(app, tenant).await?;
    let app = app.clone();
    let tenant = tenant.to_owned();
    tokio::spawn(async move {
        let _release = release;
        if let Err(err) = run_due(&app, &tenant).await {
            tracing::warn!(error = %err, "background sync pass failed");
        }
    });
    Ok(true)
}

/// Runs the tenant's due streams here until none is left, then waits a little for those other
/// processes hold.
pub async fn run_due(app: &HubApp, tenant: &str) -> Result<SyncRunAnswer, HubError> {
    let started = std::time::Instant::now();
    let store = &app.store;
    let mut runs = Vec::new();
    loop {
        while let Some(outcome) = app.scheduler.run_one_of(ClaimScope::Tenant(tenant)).await? {
            runs.push(RunView {
                ok: outcome.result.is_ok(),
                interrupted: outcome.result.as_ref().is_ok_and(|r| r.interrupted),
                pages: outcome.result.as_ref().map(|r| r.pages).unwrap_or_default(),
                changed: outcome
                    .result
                    .as_ref()
                    .map(|r| r.changed)
                    .unwrap_or_default(),
                error: outcome.result.as_ref().err().map(ToString::to_string),
                connection_id: outcome.connection_id,
                stream: outcome.stream,
            });
        }
        // Read again: a shop may have moved to needs_reauth during its run, and its streams
        // then wait for the shop's owner, not for another process.
        let runnable = runnable_shops(app, tenant).await?;
        let now = app.clock.now_ms();
        let busy: Vec<String> = store
            .tenant_schedules(tenant)
            .await?
            .into_iter()
            .filter(|s| {
                runnable.contains(&s.connection_id)
                    && s.lease_until_ms.is_some_and(|until| until > now)
            })
            .map(|s| format!("{} {}", s.connection_id, s.stream))
            .collect();
        if busy.is_empty() || started.elapsed() > WAIT_FOR_OTHERS {
            return Ok(SyncRunAnswer {
                runs,
                complete: busy.is_empty(),
                still_running_elsewhere: busy,
            });
        }
        // Another process holds a lease on one of them: give it a moment to finish.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
