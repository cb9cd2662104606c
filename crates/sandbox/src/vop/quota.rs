//! Exact sliding-window quotas per (method, caller) and the FAQ's error-driven degradation.

use std::collections::{HashMap, VecDeque};

use shopbridge_core::quota::{QuotaScope, QuotaTable};

use super::DegradationConfig;

/// Who a call is counted for: the app (channel mode) or the authorized user (tool mode).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    App(String),
    User(String),
}

impl Caller {
    pub fn for_scope(scope: QuotaScope, app_key: &str, open_id: Option<&str>) -> Self {
        match (scope, open_id) {
            (QuotaScope::AuthorizedUser, Some(open_id)) => Caller::User(open_id.to_owned()),
            _ => Caller::App(app_key.to_owned()),
        }
    }
}

/// A call refused by a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub limit: u32,
    pub window_secs: u32,
    /// When the oldest counted call leaves the window.
    pub retry_after_ms: i64,
}

/// The most calls the log keeps (older ones are dropped first).
const LOG_CAPACITY: usize = 1_000_000;

/// One call that met a quota, as the gateway saw it arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedCall {
    /// `service.method` with the channel-mode method name.
    pub method: String,
    pub caller: Caller,
    pub at_ms: i64,
    pub throttled: bool,
}

#[derive(Debug, Default)]
pub struct QuotaBook {
    /// The rules enforced: the documented ones unless a test or operator overrode them.
    pub table: QuotaTable,
    /// Every call that met a quota, oldest first.
    pub log: VecDeque<LoggedCall>,
    windows: HashMap<(String, Caller), VecDeque<i64>>,
    errors: HashMap<Caller, VecDeque<i64>>,
    degraded_until: HashMap<Caller, i64>,
}

impl QuotaBook {
    /// Counts a call if the method's window has room: at most `limit` calls in any `window`.
    pub fn try_acquire(
        &mut self,
        service: &str,
        method: &str,
        caller: &Caller,
        now_ms: i64,
    ) -> Result<(), Throttled> {
        let Some((rule, _)) = self.table.vop(service, method) else {
            return Ok(());
        };
        let name = format!("{service}.{}", rule.method);
        let admitted = self.admit(name.clone(), caller, &rule, now_ms);
        if self.log.len() >= LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(LoggedCall {
            method: name,
            caller: caller.clone(),
            at_ms: now_ms,
            throttled: admitted.is_err(),
        });
        admitted
    }

    fn admit(
        &mut self,
        name: String,
        caller: &Caller,
        rule: &shopbridge_core::quota::QuotaRule,
        now_ms: i64,
    ) -> Result<(), Throttled> {
        let window_ms = i64::from(rule.window_secs) * 1000;
        let calls = self.windows.entry((name, caller.clone())).or_default();
        while calls.front().is_some_and(|&at| at <= now_ms - window_ms) {
            calls.pop_front();
        }
        if calls.len() >= rule.limit as usize {
            let oldest = calls.front().copied().unwrap_or(now_ms);
            return Err(Throttled {
                limit: rule.limit,
                window_secs: rule.window_secs,
                retry_after_ms: oldest + window_ms - now_ms,
            });
        }
        calls.push_back(now_ms);
        Ok(())
    }

    /// Records a business error (bad parameter, throttled); degrades the caller past the threshold.
    pub fn record_business_error(
        &mut self,
        caller: &Caller,
        now_ms: i64,
        config: &DegradationConfig,
    ) {
        let window_ms = config.window_secs.saturating_mul(1000);
        let errors = self.errors.entry(caller.clone()).or_default();
        errors.push_back(now_ms);
        while errors.front().is_some_and(|&at| at <= now_ms - window_ms) {
            errors.pop_front();
        }
        if config.error_threshold > 0 && errors.len() >= config.error_threshold as usize {
            errors.clear();
            self.degraded_until.insert(
                caller.clone(),
                now_ms + config.duration_secs.saturating_mul(1000),
            );
        }
    }

    pub fn is_degraded(&self, caller: &Caller, now_ms: i64) -> bool {
        self.degraded_until
            .get(caller)
            .is_some_and(|&until| now_ms < until)
    }

    /// Forgets every window, error count, degradation and logged call; keeps the rules.
    pub fn reset(&mut self) {
        let table = std::mem::take(&mut self.table);
        *self = Self {
            table,
            ..Self::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDERS: &str = "com.vip.adp.api.open.service.UnionOrderService";

    #[test]
    fn window_slides_exactly() {
        let mut book = QuotaBook::default();
        let caller = Caller::App("k".into());
        for i in 0..180 {
            book.try_acquire(ORDERS, "orderList", &caller, 1_000 + i)
                .expect("within quota");
        }
        let refused = book
            .try_acquire(ORDERS, "orderList", &caller, 2_000)
            .expect_err("181st");
        assert_eq!((refused.limit, refused.window_secs), (180, 30));
        assert_eq!(refused.retry_after_ms, 1_000 + 30_000 - 2_000);
        // One millisecond before the first call leaves the window: still refused.
        assert!(
            book.try_acquire(ORDERS, "orderList", &caller, 30_999)
                .is_err()
        );
        assert!(
            book.try_acquire(ORDERS, "orderList", &caller, 31_000)
                .is_ok()
        );
        // Another caller and the OAuth twin per user have their own windows.
        assert!(
            book.try_acquire(ORDERS, "orderList", &Caller::App("other".into()), 2_000)
                .is_ok()
        );
        assert!(
            book.try_acquire(
                ORDERS,
                "orderListWithOauth",
                &Caller::User("u".into()),
                2_000
            )
            .is_ok()
        );
    }

    #[test]
    fn degradation_after_threshold_then_recovery() {
        let mut book = QuotaBook::default();
        let config = DegradationConfig {
            error_threshold: 3,
            window_secs: 60,
            duration_secs: 300,
        };
        let caller = Caller::App("k".into());
        book.record_business_error(&caller, 0, &config);
        book.record_business_error(&caller, 1, &config);
        assert!(!book.is_degraded(&caller, 2));
        book.record_business_error(&caller, 2, &config);
        assert!(book.is_degraded(&caller, 3));
        assert!(book.is_degraded(&caller, 299_999));
        assert!(!book.is_degraded(&caller, 300_002));
    }
}
