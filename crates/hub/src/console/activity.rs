//! Activity: the tenant's audit log in words, with shop names, and its webhook deliveries, each
//! finished one with a way to send it again.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use serde::Serialize;

use super::auth::CsrfForm;
use super::{Shared, SignedIn, Viewer, change, failed};
use crate::service::{self, HubError};
use crate::ui;

/// The audit actions the page has words for; any other is shown by its code.
pub(super) const AUDIT_ACTIONS: &[&str] = &[
    "console_login",
    "connect",
    "reauthorize",
    "revoke",
    "shop_delete",
    "token_expiring",
    "webhook_redeliver",
    "tenant_rotate_secret",
    "tenant_delete",
];

/// A delivery's states.
pub(super) const DELIVERY_STATES: &[&str] =
    &["pending", "delivered", "failed", "cancelled", "other"];

/// A deleted shop's name and how many records went with it, from its audit entry
/// (`<id> <platform>/<mode> "<name>" by <actor>: <n> records`).
fn deleted_shop(detail: &str) -> Option<(String, u64)> {
    let start = detail.find(" \"")? + 2;
    let end = detail.rfind("\" by ")?;
    let name = detail.get(start..end)?.replace("\\\"", "\"");
    let records = detail
        .rsplit(": ")
        .next()?
        .strip_suffix(" records")?
        .parse()
        .ok()?;
    Some((name, records))
}

/// Entries and deliveries a page shows.
const AUDIT_ROWS: i64 = 100;
const DELIVERY_ROWS: i64 = 50;

#[cfg(test)]
mod tests {
    #[test]
    fn a_deletion_names_its_shop() {
        assert_eq!(
            super::deleted_shop(r#"c1 winit/oswh "第二个\"仓\"" by console: 10 records"#),
            Some(("第二个\"仓\"".to_owned(), 10))
        );
        assert_eq!(super::deleted_shop("something else"), None);
    }
}

#[derive(Serialize)]
struct AuditRow {
    at_ms: i64,
    action: String,
    action_label: String,
    shop: Option<String>,
    detail: String,
    /// The detail is recorded data (a platform's words, an address), not the console's.
    detail_is_data: bool,
}

#[derive(Serialize)]
struct DeliveryRow {
    id: i64,
    hook: String,
    created_ms: i64,
    url: String,
    event: String,
    status: &'static str,
    attempts: String,
}

#[derive(Serialize)]
struct ActivityPage {
    audit: Vec<AuditRow>,
    deliveries: Vec<DeliveryRow>,
}

async fn view(
    app: &crate::state::HubApp,
    tenant: &str,
    viewer: &Viewer,
) -> Result<ActivityPage, HubError> {
    let lang = viewer.lang;
    let names: HashMap<String, String> = service::shops::list(app, tenant)
        .await?
        .into_iter()
        .map(|shop| (shop.id, shop.name))
        .collect();
    let audit = app
        .store
        .audit_entries(tenant, AUDIT_ROWS)
        .await?
        .into_iter()
        .map(|(at_ms, connection, action, detail)| {
            let known = AUDIT_ACTIONS.contains(&action.as_str());
            let action_label = if known {
                lang.t(&format!("audit-{action}"))
            } else {
                lang.t_with("audit-other", &[("action", action.clone())])
            };
            // Who acted, where the entry records it as the console or the API; how a shop was
            // connected, where the entry is a connection's.
            let (detail, detail_is_data) = match (action.as_str(), detail.as_str()) {
                (_, "console" | "api") => (lang.t(&format!("actor-{detail}")), false),
                ("connect" | "reauthorize", via) if via.ends_with(" credentials") => {
                    (lang.t("via-credentials"), false)
                }
                ("connect" | "reauthorize", _) => (lang.t("via-authorization"), false),
                _ => (detail, true),
            };
            let mut shop = connection.map(|id| {
                names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| lang.t("shop-deleted"))
            });
            let (mut detail, mut detail_is_data) = (detail, detail_is_data);
            // A deletion names the shop it removed and what went with it.
            if action == "shop_delete"
                && let Some((name, records)) = deleted_shop(&detail)
            {
                shop = Some(name);
                detail = lang.t_with("audit-deleted-records", &[("count", records.to_string())]);
                detail_is_data = false;
            }
            AuditRow {
                at_ms,
                action_label,
                action,
                shop,
                detail,
                detail_is_data,
            }
        })
        .collect();
    let mut deliveries = Vec::new();
    for hook in app.store.webhooks(tenant).await? {
        for (delivery, attempts) in app
            .store
            .webhook_deliveries(tenant, &hook.id, DELIVERY_ROWS)
            .await?
        {
            let attempts = attempts
                .iter()
                .map(|a| match (a.status_code, &a.error) {
                    (Some(code), _) => format!("HTTP {code}"),
                    (None, Some(error)) => error.clone(),
                    (None, None) => "—".into(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            deliveries.push(DeliveryRow {
                id: delivery.id,
                hook: hook.id.clone(),
                created_ms: delivery.created_ms,
                url: hook.url.clone(),
                event: delivery.event.clone(),
                status: DELIVERY_STATES
                    .iter()
                    .find(|s| **s == delivery.status)
                    .copied()
                    .unwrap_or("other"),
                attempts,
            });
        }
    }
    deliveries.sort_by_key(|d| std::cmp::Reverse(d.created_ms));
    Ok(ActivityPage { audit, deliveries })
}

pub(super) async fn page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    viewer: Viewer,
    axum::extract::Query(query): axum::extract::Query<super::NoticeQuery>,
) -> Response {
    match view(&app, &session.tenant_id, &viewer).await {
        Ok(page) => {
            let mut frame = viewer.frame("title-activity", "activity", &session);
            frame.notice = super::notice(viewer.lang, query.done.as_deref());
            ui::render("activity.html", &frame, &page)
        }
        Err(err) => failed(err, &viewer, "/console/shops"),
    }
}

/// Sends a finished webhook delivery again, then back to the activity page.
pub(super) async fn redeliver(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
    Path((hook, delivery)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    change(
        &app,
        &viewer,
        &jar,
        &form.csrf,
        "/console/activity",
        async |session| {
            let not_found = || {
                HubError::NotFound(format!(
                    "delivery: no delivery {} of this webhook",
                    super::echoed(&delivery)
                ))
            };
            let id = delivery.parse::<i64>().map_err(|_| not_found())?;
            match service::webhooks::redeliver(&app, &session.tenant_id, &hook, id).await? {
                shopbridge_store::Redelivery::NotFound => Err(not_found()),
                // Queued, or still pending (it is sent by itself): the page shows which.
                _ => Ok("/console/activity?done=redelivered".into()),
            }
        },
    )
    .await
}
