//! Platform API calls as they happened, and the quota report built from them: the Union FAQ's
//! conditions for a higher quota tier are a 98% success rate and 50% use of the limit over the
//! last seven days.

use serde::Serialize;
use shopbridge_core::quota::QuotaTable;
use sqlx::Row;

use crate::page_sql::Arg;
use crate::records::ApiCall;
use crate::{Store, StoreError};

/// One method's use over the report's period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaUse {
    pub service: String,
    pub method: String,
    pub caller: String,
    pub calls: i64,
    pub success_rate: f64,
    /// The documented limit and window, when the method has one.
    pub limit: Option<(u32, u32)>,
    /// Most calls in any window, over the limit.
    pub peak_use: Option<f64>,
    /// All calls over what the limit would have allowed in the period.
    pub average_use: Option<f64>,
    /// Success at least 98% and average use at least 50%.
    pub upgrade_eligible: bool,
}

/// The calls of one (service, method, caller): `(at_ms, ok)` in time order.
struct CallGroup {
    service: String,
    method: String,
    caller: String,
    calls: Vec<(i64, bool)>,
}

pub(crate) const INSERT_CALL: &str = "INSERT INTO api_calls (at_ms, platform, service, method, caller, ok) VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) fn call_args<'a>(call: &ApiCall<'a>) -> [Arg<'a>; 6] {
    [
        call.at_ms.into(),
        call.platform.into(),
        call.service.into(),
        call.method.into(),
        call.caller.into(),
        i64::from(call.ok).into(),
    ]
}

impl Store {
    /// Records one platform call (a sync's successful page calls go with their page instead:
    /// [`Store::save_fetched_pages`]).
    pub async fn record_call(
        &self,
        at_ms: i64,
        platform: &str,
        service: &str,
        method: &str,
        caller: &str,
        ok: bool,
    ) -> Result<(), StoreError> {
        let call = ApiCall {
            at_ms,
            platform,
            service,
            method,
            caller,
            ok,
        };
        // Recorded between a sync's pages: written where they are (see `write_alone`).
        self.write_alone(INSERT_CALL, &call_args(&call)).await
    }

    /// Use per (service, method, caller) in `[since_ms, until_ms)`, against the documented
    /// quotas.
    /// Calls made since `from_ms`, per method and caller.
    pub async fn calls_since(
        &self,
        from_ms: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT method, caller, COUNT(*) AS n FROM api_calls WHERE at_ms >= $1 GROUP BY method, caller",
        )
        .bind(from_ms)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("method")?,
                    row.try_get("caller")?,
                    row.try_get("n")?,
                ))
            })
            .collect()
    }

    pub async fn quota_report(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<QuotaUse>, StoreError> {
        self.quota_report_against(since_ms, until_ms, &QuotaTable::documented())
            .await
    }

    /// Use per (service, method, caller) in `[since_ms, until_ms)`, against `quotas` (an app
    /// granted more than the documented limits is rated against what it was granted).
    pub async fn quota_report_against(
        &self,
        since_ms: i64,
        until_ms: i64,
        quotas: &QuotaTable,
    ) -> Result<Vec<QuotaUse>, StoreError> {
        let rows = sqlx::query(
            "SELECT service, method, caller, at_ms, ok FROM api_calls WHERE at_ms >= $1 AND at_ms < $2 ORDER BY service, method, caller, at_ms",
        )
        .bind(since_ms)
        .bind(until_ms)
        .fetch_all(self.pool())
        .await?;
        let mut groups: Vec<CallGroup> = Vec::new();
        for row in rows {
            let service: String = row.try_get("service")?;
            let method: String = row.try_get("method")?;
            let caller: String = row.try_get("caller")?;
            let call = (
                row.try_get::<i64, _>("at_ms")?,
                row.try_get::<i64, _>("ok")? == 1,
            );
            match groups.last_mut() {
                Some(group)
                    if group.service == service
                        && group.method == method
                        && group.caller == caller =>
                {
                    group.calls.push(call)
                }
                _ => groups.push(CallGroup {
                    service,
                    method,
                    caller,
                    calls: vec![call],
                }),
            }
        }
        Ok(groups
            .into_iter()
            .map(
                |CallGroup {
                     service,
                     method,
                     caller,
                     calls,
                 }| {
                    let total = calls.len() as i64;
                    let ok = calls.iter().filter(|(_, ok)| *ok).count() as f64;
                    let success_rate = if total == 0 { 0.0 } else { ok / total as f64 };
                    let rule = quotas.vop(&service, &method).map(|(rule, _)| rule);
                    let (peak_use, average_use) = match rule {
                        Some(rule) => {
                            let window = i64::from(rule.window_secs) * 1000;
                            let times: Vec<i64> = calls.iter().map(|(at, _)| *at).collect();
                            let peak = (0..times.len())
                                .map(|i| {
                                    times[i..]
                                        .iter()
                                        .take_while(|&&at| at < times[i] + window)
                                        .count()
                                })
                                .max()
                                .unwrap_or(0);
                            let windows = ((until_ms - since_ms) as f64 / window as f64).max(1.0);
                            (
                                Some(peak as f64 / f64::from(rule.limit)),
                                Some(total as f64 / (f64::from(rule.limit) * windows)),
                            )
                        }
                        None => (None, None),
                    };
                    QuotaUse {
                        upgrade_eligible: success_rate >= 0.98
                            && average_use.is_some_and(|used| used >= 0.5),
                        limit: rule.map(|r| (r.limit, r.window_secs)),
                        service,
                        method,
                        caller,
                        calls: total,
                        success_rate,
                        peak_use,
                        average_use,
                    }
                },
            )
            .collect())
    }
}
