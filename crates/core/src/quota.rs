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
    fn methods_without_a_documented_quota_have_none() {
        assert!(vop_quota("vipapis.delivery.JitDeliveryService", "getPoList").is_none());
        assert!(vop_quota(UNION_GOODS, "orderList").is_none());
    }
}
