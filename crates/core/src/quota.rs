//! The platforms' documented call quotas, as data shared by clients, the scheduler and the sandbox.

use serde::Serialize;

use crate::Platform;

/// Who a quota counts calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaScope {
    /// Per application (VOP channel mode: the developer's own account).
    App,
    /// Per authorized user (VOP tool-provider `...WithOauth` methods).
    AuthorizedUser,
}

/// "At most `limit` calls in any window of `window_secs` seconds" for one method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuotaRule {
    pub platform: Platform,
    /// The service the method belongs to.
    pub service: &'static str,
    /// The channel-mode method name; its `WithOauth` twin shares the rule per authorized user.
    pub method: &'static str,
    pub limit: u32,
    pub window_secs: u32,
}

const UNION_GOODS: &str = "com.vip.adp.api.open.service.UnionGoodsService";
const UNION_URL: &str = "com.vip.adp.api.open.service.UnionUrlService";
const UNION_ORDER: &str = "com.vip.adp.api.open.service.UnionOrderService";
const UNION_PID: &str = "com.vip.adp.api.open.service.UnionPidService";

const fn vop(service: &'static str, method: &'static str, limit: u32) -> QuotaRule {
    QuotaRule {
        platform: Platform::Vop,
        service,
        method,
        limit,
        window_secs: 30,
    }
}

/// The Vipshop Union guide's default limits (§4.1-4.4: "接口限频:默认N/30s").
pub const VOP_QUOTAS: &[QuotaRule] = &[
    vop(UNION_GOODS, "goodsList", 600),
    vop(UNION_GOODS, "query", 600),
    vop(UNION_GOODS, "getByGoodsIds", 1000),
    vop(UNION_GOODS, "similarRecommend", 600),
    vop(UNION_GOODS, "userRecommend", 600),
    vop(UNION_URL, "genByGoodsId", 600),
    vop(UNION_URL, "genByVIPUrl", 600),
    vop(UNION_URL, "vipLinkCheck", 1000),
    vop(UNION_ORDER, "orderList", 180),
    vop(UNION_ORDER, "refundOrderList", 180),
    vop(UNION_PID, "genPid", 180),
    vop(UNION_PID, "queryPid", 180),
];

/// Splits a VOP method name into its channel-mode base name and whether it is the OAuth variant.
///
/// The official `vipLinkCheckWithOuth` keeps its typo, so both suffixes are recognised.
pub fn vop_method_base(method: &str) -> (&str, bool) {
    for suffix in ["WithOauth", "WithOuth"] {
        if let Some(base) = method.strip_suffix(suffix) {
            return (base, true);
        }
    }
    (method, false)
}

/// The quota rule for a VOP call and the scope it is counted in, if the method has one.
pub fn vop_quota(service: &str, method: &str) -> Option<(&'static QuotaRule, QuotaScope)> {
    let (base, with_oauth) = vop_method_base(method);
    let rule = VOP_QUOTAS
        .iter()
        .find(|rule| rule.service == service && rule.method == base)?;
    let scope = if with_oauth {
        QuotaScope::AuthorizedUser
    } else {
        QuotaScope::App
    };
    Some((rule, scope))
}

/// The quota rules in force: the documented ones, with operator overrides (a higher tier the
/// platform granted, or a small quota to test against).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaTable {
    overrides: Vec<QuotaRule>,
}

impl QuotaTable {
    /// The documented rules only.
    pub fn documented() -> Self {
        Self::default()
    }

    /// `method=LIMIT/SECONDSs`, e.g. `orderList=40/2s`: the method's documented rule with
    /// another limit and window.
    pub fn with_override(mut self, text: &str) -> Result<Self, String> {
        let expected = || {
            format!("quota override {text:?}: expected METHOD=LIMIT/SECONDSs, e.g. orderList=40/2s")
        };
        let (method, rest) = text.split_once('=').ok_or_else(expected)?;
        let (limit, window) = rest.split_once('/').ok_or_else(expected)?;
        let limit: u32 = limit.trim().parse().map_err(|_| expected())?;
        let window_secs: u32 = window
            .trim()
            .trim_end_matches('s')
            .parse()
            .map_err(|_| expected())?;
        if limit == 0 || window_secs == 0 {
            return Err(format!(
                "quota override {text:?}: limit and window must be positive"
            ));
        }
        let base = VOP_QUOTAS
            .iter()
            .find(|rule| rule.method == method.trim())
            .ok_or_else(|| {
                format!(
                    "quota override {text:?}: no documented quota for method {:?}",
                    method.trim()
                )
            })?;
        self.overrides
            .retain(|rule| rule.method != base.method || rule.service != base.service);
        self.overrides.push(QuotaRule {
            limit,
            window_secs,
            ..*base
        });
        Ok(self)
    }

    /// The rule for a VOP call and the scope it is counted in, if the method has one.
    pub fn vop(&self, service: &str, method: &str) -> Option<(QuotaRule, QuotaScope)> {
        let (rule, scope) = vop_quota(service, method)?;
        let rule = self
            .overrides
            .iter()
            .find(|o| o.service == rule.service && o.method == rule.method)
            .unwrap_or(rule);
        Some((*rule, scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_variants_share_the_rule_per_user() {
        let (rule, scope) = vop_quota(UNION_ORDER, "orderListWithOauth").expect("rule");
        assert_eq!((rule.limit, rule.window_secs), (180, 30));
        assert_eq!(scope, QuotaScope::AuthorizedUser);
        let (rule, scope) = vop_quota(UNION_URL, "vipLinkCheckWithOuth").expect("rule");
        assert_eq!(rule.limit, 1000);
        assert_eq!(scope, QuotaScope::AuthorizedUser);
        let (_, scope) = vop_quota(UNION_GOODS, "goodsList").expect("rule");
        assert_eq!(scope, QuotaScope::App);
    }

    #[test]
    fn overrides_replace_a_documented_rule_and_bad_ones_say_why() {
        let table = QuotaTable::documented()
            .with_override("orderList=40/2s")
            .expect("override");
        let (rule, scope) = table.vop(UNION_ORDER, "orderListWithOauth").expect("rule");
        assert_eq!(
            (rule.limit, rule.window_secs, scope),
            (40, 2, QuotaScope::AuthorizedUser)
        );
        assert_eq!(
            table
                .vop(UNION_ORDER, "refundOrderList")
                .expect("rule")
                .0
                .limit,
            180
        );
        for bad in [
            "orderList",
            "orderList=x/2s",
            "orderList=0/2s",
            "nothing=1/1s",
        ] {
            let err = QuotaTable::documented().with_override(bad).expect_err(bad);
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn methods_without_a_documented_quota_have_none() {
        assert!(vop_quota("vipapis.delivery.JitDeliveryService", "getPoList").is_none());
        assert!(vop_quota(UNION_GOODS, "orderList").is_none());
    }
}

/// The extra window length that absorbs transit-time jitter between granting and arrival.
pub fn transit_guard_ms(window_ms: i64) -> i64 {
    (window_ms / 100).clamp(25, 1000)
}

/// Who is asking for a call slot: interactive callers go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A caller waiting on the answer (a unified API request): may use the whole quota, and
    /// is refused with a retry-after instead of waiting.
    Interactive,
    /// Background work (sync): waits, and leaves a reserve for interactive callers.
    Background,
}

/// An exact sliding-window limiter: never more than `limit` acquisitions in any window of
/// `window_ms`. Background acquisitions stop `reserve` short of the limit, so that interactive
/// callers always find room. Time is passed in, so the limiter runs on any clock.
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    pub limit: u32,
    pub window_ms: i64,
    pub reserve: u32,
    granted: std::collections::VecDeque<i64>,
}

impl SlidingWindow {
    /// A limiter for `rule`, reserving 2% (at least one call) for interactive callers, over a
    /// window 1% longer than the platform's (25 ms to 1 s): the platform counts calls when they
    /// arrive, and a call granted early but delayed in transit must not land in the same
    /// platform window as one granted a full window later.
    pub fn for_rule(rule: &QuotaRule) -> Self {
        let window_ms = i64::from(rule.window_secs) * 1000;
        Self::new(
            rule.limit,
            window_ms + transit_guard_ms(window_ms),
            (rule.limit / 50).max(1),
        )
    }

    pub fn new(limit: u32, window_ms: i64, reserve: u32) -> Self {
        Self {
            limit,
            window_ms,
            reserve: reserve.min(limit.saturating_sub(1)),
            granted: Default::default(),
        }
    }

    fn prune(&mut self, now_ms: i64) {
        while self
            .granted
            .front()
            .is_some_and(|&at| at <= now_ms - self.window_ms)
        {
            self.granted.pop_front();
        }
    }

    /// Takes a slot at `now_ms`, or says how many milliseconds until one frees up.
    pub fn try_acquire(&mut self, now_ms: i64, priority: Priority) -> Result<(), i64> {
        self.prune(now_ms);
        let cap = match priority {
            Priority::Interactive => self.limit,
            Priority::Background => self.limit - self.reserve,
        } as usize;
        if self.granted.len() < cap {
            self.granted.push_back(now_ms);
            return Ok(());
        }
        // The slot frees when enough of the oldest grants leave the window.
        let index = self.granted.len() - cap;
        let frees_at = self.granted.get(index).copied().unwrap_or(now_ms) + self.window_ms;
        Err((frees_at - now_ms).max(1))
    }

    /// Calls granted in the window ending at `now_ms`.
    pub fn in_window(&mut self, now_ms: i64) -> usize {
        self.prune(now_ms);
        self.granted.len()
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;

    /// The largest number of grants in any window of `window_ms`.
    fn worst(grants: &[i64], window_ms: i64) -> usize {
        (0..grants.len())
            .map(|i| {
                grants[i..]
                    .iter()
                    .take_while(|&&at| at < grants[i] + window_ms)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn background_saturates_without_exceeding_and_leaves_the_reserve() {
        let rule = QuotaRule {
            platform: Platform::Vop,
            service: "s",
            method: "orderList",
            limit: 180,
            window_secs: 30,
        };
        let mut limiter = SlidingWindow::for_rule(&rule);
        let mut now = 0;
        let mut grants = Vec::new();
        // A background worker asking as fast as it may for ten minutes.
        while now < 600_000 {
            match limiter.try_acquire(now, Priority::Background) {
                Ok(()) => grants.push(now),
                Err(wait) => now += wait,
            }
        }
        assert!(worst(&grants, 30_000) <= 180);
        let used = grants.len() as f64 / (180.0 * 20.0);
        assert!(used >= 0.95, "uses {used:.3} of the quota");
        // The reserve is there for an interactive caller at any moment.
        assert!(limiter.try_acquire(now, Priority::Interactive).is_ok());
    }

    #[test]
    fn interactive_callers_get_a_retry_after_instead_of_waiting() {
        let mut limiter = SlidingWindow::new(3, 1_000, 1);
        assert!(limiter.try_acquire(0, Priority::Background).is_ok());
        assert!(limiter.try_acquire(100, Priority::Background).is_ok());
        assert_eq!(
            limiter.try_acquire(200, Priority::Background),
            Err(800),
            "background stops at the reserve"
        );
        assert!(limiter.try_acquire(200, Priority::Interactive).is_ok());
        assert_eq!(limiter.try_acquire(300, Priority::Interactive), Err(700));
        assert!(limiter.try_acquire(1_000, Priority::Interactive).is_ok());
        assert_eq!(limiter.in_window(1_000), 3);
    }
}
