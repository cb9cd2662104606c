//! The sync page: every stream of the tenant's shops with its last run (result, duration, pages,
//! records changed) and next run, each stream's run history, and "sync now".

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use shopbridge_store::{ConnectionState, SyncRun};

use super::auth::CsrfForm;
use super::{Shared, SignedIn, Viewer, change, failed};
use crate::service::{self, HubError};
use crate::ui;

/// The results a run is shown with (a run's stored status, else `other`).
pub(super) const OUTCOMES: &[&str] = &[
    "complete",
    "running",
    "fetching",
    "interrupted",
    "fetch_error",
    "auth_error",
    "failed",
    "never",
    "other",
];

/// How many runs a stream's history shows.
const HISTORY_RUNS: i64 = 100;

fn outcome(status: &str) -> &'static str {
    OUTCOMES
        .iter()
        .find(|known| **known == status)
        .copied()
        .unwrap_or("other")
}

#[derive(Serialize)]
struct StreamRow {
    stream: String,
    name: String,
    href: String,
    outcome: &'static str,
    error: Option<String>,
    finished_ms: Option<i64>,
    duration_ms: Option<i64>,
    pages: Option<i64>,
    changed: Option<i64>,
    next_ms: i64,
}

#[derive(Serialize)]
struct ShopStreams {
    id: String,
    name: String,
    kind_name: &'static str,
    state: &'static str,
    paused: bool,
    streams: Vec<StreamRow>,
}

#[derive(Serialize)]
struct SyncPage {
    live: bool,
    shops: Vec<ShopStreams>,
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct SyncQuery {
    started: Option<u8>,
}

fn duration(run: &SyncRun) -> Option<i64> {
    run.finished_ms
        .map(|finished| finished.saturating_sub(run.started_ms).max(0))
}

pub(super) async fn page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    viewer: Viewer,
    Query(query): Query<SyncQuery>,
) -> Response {
    match view(&app, &session.tenant_id, &viewer).await {
        Ok(mut page) => {
            let mut frame = viewer.frame("title-sync", "sync", &session);
            if query.started == Some(1) {
                frame.notice = Some(viewer.lang.t("sync-started"));
                // The pass was just started: look again until its runs are done.
                page.live = true;
            }
            ui::render("sync.html", &frame, &page)
        }
        Err(err) => failed(err, &viewer, "/console/shops"),
    }
}

async fn view(
    app: &crate::state::HubApp,
    tenant: &str,
    viewer: &Viewer,
) -> Result<SyncPage, HubError> {
    let english = viewer.lang.english();
    let shops = service::shops::list(app, tenant).await?;
    let schedules = app.store.tenant_schedules(tenant).await?;
    let mut live = false;
    let mut listed = Vec::new();
    // A revoked shop never syncs again: its streams leave this page (its data stays until the
    // shop is deleted).
    for shop in shops.iter().filter(|s| s.state != ConnectionState::Revoked) {
        let mut streams = Vec::new();
        for schedule in schedules.iter().filter(|s| s.connection_id == shop.id) {
            let last = app
                .store
                .stream_runs(&shop.id, &schedule.stream, 1)
                .await?
                .into_iter()
                .next();
            let running = schedule
                .lease_until_ms
                .is_some_and(|until| until > viewer.now_ms);
            live |= running;
            streams.push(StreamRow {
                name: app
                    .platforms
                    .stream_name(shop.kind, &schedule.stream)
                    .map(|text| text.get(english).to_owned())
                    .unwrap_or_else(|| schedule.stream.clone()),
                href: format!(
                    "/console/sync/{}/{}",
                    super::segment(&shop.id),
                    super::segment(&schedule.stream)
                ),
                outcome: match (&last, running) {
                    (_, true) => "running",
                    (Some(run), false) => outcome(&run.status),
                    (None, false) => "never",
                },
                error: last.as_ref().and_then(|run| run.error.clone()),
                finished_ms: last.as_ref().and_then(|run| run.finished_ms),
                duration_ms: last.as_ref().and_then(duration),
                pages: last.as_ref().map(|run| run.pages),
                changed: last.as_ref().map(|run| run.records),
                next_ms: schedule.next_run_ms,
                stream: schedule.stream.clone(),
            });
        }
        listed.push(ShopStreams {
            id: shop.id.clone(),
            name: shop.name.clone(),
            kind_name: app.platforms.kind_name(shop.kind).get(english),
            state: shop.state.as_str(),
            paused: !matches!(
                shop.state,
                ConnectionState::Active | ConnectionState::Refreshing
            ),
            streams,
        });
    }
    Ok(SyncPage {
        live,
        shops: listed,
    })
}

#[derive(Serialize)]
struct RunRow {
    id: i64,
    started_ms: i64,
    duration_ms: Option<i64>,
    pages: i64,
    changed: i64,
    outcome: &'static str,
    error: Option<String>,
}

#[derive(Serialize)]
struct StreamPage {
    shop_name: String,
    stream_name: String,
    runs: Vec<RunRow>,
}

/// One stream's runs, newest first.
pub(super) async fn stream_page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    viewer: Viewer,
    Path((shop_id, stream)): Path<(String, String)>,
) -> Response {
    let shop = match service::own_shop(&app, &session.tenant_id, &shop_id).await {
        Ok(shop) => shop,
        Err(err) => return failed(err, &viewer, "/console/sync"),
    };
    let Some(name) = app.platforms.stream_name(shop.kind, &stream) else {
        return failed(
            HubError::NotFound(format!(
                "stream: {} has no stream {}",
                shop.name,
                super::echoed(&stream)
            )),
            &viewer,
            "/console/sync",
        );
    };
    let runs = match app.store.stream_runs(&shop.id, &stream, HISTORY_RUNS).await {
        Ok(runs) => runs,
        Err(err) => return failed(err.into(), &viewer, "/console/sync"),
    };
    let runs = runs
        .iter()
        .map(|run| RunRow {
            id: run.id,
            started_ms: run.started_ms,
            duration_ms: duration(run),
            pages: run.pages,
            changed: run.records,
            outcome: outcome(&run.status),
            error: run.error.clone(),
        })
        .collect();
    let mut frame = viewer.frame("title-sync", "sync", &session);
    frame.title = name.get(viewer.lang.english()).to_owned();
    ui::render(
        "sync_stream.html",
        &frame,
        &StreamPage {
            shop_name: shop.name,
            stream_name: frame.title.clone(),
            runs,
        },
    )
}

/// Makes every stream of the tenant's shops due and starts a pass in the background; the page
/// shows them running.
pub(super) async fn sync_now(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    // The same run as `POST /v1/sync/run`, in the background while the page shows it
    // running; pressing again while it runs starts nothing more.
    change(
        &app,
        &viewer,
        &jar,
        &form.csrf,
        "/console/sync",
        async |session| {
            service::sync::start_in_background(&app, &session.tenant_id).await?;
            Ok("/console/sync?started=1".into())
        },
    )
    .await
}
