//! Earnings of a Union account: totals, a chart by day (commission up, deductions down, the
//! net as a line), a table by PID, and both as CSV.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shopbridge_vop::union::earnings::{EarningsRow, GroupBy};

use super::{Shared, ShopChoice, SignedIn, Viewer, chosen_shop, failed, shop_choice};
use crate::service::{self, union::EarningsAnswer};
use crate::ui::{self, chart};

const DAY_MS: i64 = 86_400_000;
/// The longest period, in days (as the REST API's).
const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize, Default)]
pub(super) struct EarningsQuery {
    shop: Option<String>,
    days: Option<String>,
}

impl EarningsQuery {
    /// The period's length in days: 1 to 366, 30 by default.
    fn days(&self) -> Result<i64, String> {
        match self
            .days
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            None => Ok(30),
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|days| (1..=MAX_DAYS).contains(days))
                .ok_or_else(|| {
                    format!(
                        "days: expected a number of days from 1 to {MAX_DAYS}, got {}",
                        super::echoed(text)
                    )
                }),
        }
    }
}

#[derive(Serialize)]
struct EarningsPage {
    shops: Vec<ShopChoice>,
    chosen: String,
    days: i64,
    total: Option<EarningsRow>,
    rows: Vec<EarningsRow>,
    chart: Option<chart::BarChart>,
    period_text: String,
    csv_href: String,
}

fn yuan(value: &shopbridge_core::money::Decimal) -> f64 {
    value.to_string().parse().unwrap_or(0.0)
}

fn chart_of(report: &EarningsAnswer) -> chart::BarChart {
    let days: Vec<chart::DayAmounts> = report
        .days
        .iter()
        .map(|day| chart::DayAmounts {
            day: day.day.clone(),
            commission: yuan(&day.total.settled_commission),
            deduction: yuan(&day.total.refund_deduction),
            net: yuan(&day.total.net),
            commission_text: day.total.settled_commission.to_string(),
            deduction_text: day.total.refund_deduction.to_string(),
            net_text: day.total.net.to_string(),
        })
        .collect();
    chart::bar_chart(&days)
}

async fn report(
    app: &crate::state::HubApp,
    session: &shopbridge_store::ConsoleSession,
    viewer: &Viewer,
    query: &EarningsQuery,
) -> Result<(Vec<ShopChoice>, Option<(String, i64, EarningsAnswer)>), Response> {
    let days = query.days().map_err(|message| {
        super::error_page(
            axum::http::StatusCode::BAD_REQUEST,
            viewer.lang,
            viewer.now_ms,
            message,
            "/console/earnings",
        )
    })?;
    let (shops, chosen) = chosen_shop(app, session, query.shop.as_deref(), |shop| {
        shop.kind.is_union()
    })
    .await
    .map_err(|err| failed(err, viewer, "/console/shops"))?;
    let choices = shops
        .iter()
        .map(|s| shop_choice(app, viewer.lang, s))
        .collect();
    let Some(shop) = chosen else {
        return Ok((choices, None));
    };
    let from = viewer.now_ms - days * DAY_MS;
    let answer = service::union::earnings(
        app,
        &session.tenant_id,
        &shop.id,
        from,
        viewer.now_ms,
        GroupBy::ChanTag,
    )
    .await
    .map_err(|err| failed(err, viewer, "/console/earnings"))?;
    Ok((choices, Some((shop.id, days, answer))))
}

pub(super) async fn page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    viewer: Viewer,
    Query(query): Query<EarningsQuery>,
) -> Response {
    let frame = viewer.frame("title-earnings", "earnings", &session);
    let (shops, found) = match report(&app, &session, &viewer, &query).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let page = match found {
        None => EarningsPage {
            shops,
            chosen: String::new(),
            days: 30,
            total: None,
            rows: Vec::new(),
            chart: None,
            period_text: String::new(),
            csv_href: String::new(),
        },
        Some((shop, days, answer)) => {
            let period_text = viewer.lang.t_with(
                "earnings-period",
                &[
                    ("from", beijing_day(answer.period.start_ms)),
                    ("to", beijing_day(answer.period.end_ms - 1)),
                ],
            );
            EarningsPage {
                chart: Some(chart_of(&answer)),
                csv_href: format!(
                    "/console/earnings.csv?shop={}&days={days}",
                    url::form_urlencoded::byte_serialize(shop.as_bytes()).collect::<String>()
                ),
                shops,
                chosen: shop,
                days,
                total: Some(answer.period.total.clone()),
                rows: answer.period.rows,
                period_text,
            }
        }
    };
    ui::render("earnings.html", &frame, &page)
}

fn beijing_day(ms: i64) -> String {
    shopbridge_vop::time::format_datetime_ms(ms)
        .chars()
        .take(10)
        .collect()
}

/// The period by day and PID as CSV: one line per day and PID that earned or lost.
pub(super) async fn csv(
    State(app): Shared,
    SignedIn(session): SignedIn,
    viewer: Viewer,
    Query(query): Query<EarningsQuery>,
) -> Response {
    let (_, found) = match report(&app, &session, &viewer, &query).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some((shop, days, answer)) = found else {
        return failed(
            service::HubError::NotFound("shop: no Union account".into()),
            &viewer,
            "/console/earnings",
        );
    };
    let lang = viewer.lang;
    let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let mut lines = vec![vec![
        lang.t("csv-day"),
        lang.t("col-pid"),
        lang.t("col-settled-orders"),
        lang.t("earnings-settled"),
        lang.t("earnings-deducted"),
        lang.t("earnings-net"),
    ]];
    for day in &answer.days {
        for row in &day.rows {
            lines.push(vec![
                day.day.clone(),
                row.key.clone(),
                row.settled_orders.to_string(),
                row.settled_commission.to_string(),
                row.refund_deduction.to_string(),
                row.net.to_string(),
            ]);
        }
    }
    for line in &lines {
        let cells: Vec<String> = line.iter().map(|c| super::orders::cell(c)).collect();
        if let Err(err) = writer.write_record(&cells) {
            tracing::error!(error = %err, "earnings export failed");
            break;
        }
    }
    let body = writer.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"earnings-{shop}-{days}d.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}
