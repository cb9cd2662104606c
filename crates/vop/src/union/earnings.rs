//! Earnings as the guide defines them (§4.3): commission of orders settled in a period minus
//! the commission deducted for orders refunded after settlement (refundOrderList).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use shopbridge_core::money::Decimal;

use super::order::{
    MAX_WINDOW_MS, OrderInfo, OrderList, OrderStatus, RefundOrderInfo, RefundOrderList,
    RefundSearch, windows,
};
use crate::{Mode, VopClient, VopError};

/// What the report's rows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The PID / chanTag (`pid`, else `channelTag`).
    ChanTag,
    /// The custom statistics parameter.
    StatParam,
    /// One row for everything.
    Total,
}

/// The key of orders without a PID or statParam.
pub const UNTAGGED: &str = "(none)";

/// One row: settled commission, deductions and what is left.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EarningsRow {
    pub key: String,
    pub settled_orders: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub settled_commission: Decimal,
    pub refunded_orders: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub refund_deduction: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub net: Decimal,
}

/// Earnings of `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EarningsReport {
    pub start_ms: i64,
    pub end_ms: i64,
    pub group_by: GroupBy,
    /// Sorted by key.
    pub rows: Vec<EarningsRow>,
    pub total: EarningsRow,
}

/// The row key of an order tagged `chan_tag` (its PID, else its channel tag) and `stat_param`;
/// [`UNTAGGED`] for a refund whose order is unknown or an order without the tag.
pub fn group_key(tags: Option<(Option<&str>, Option<&str>)>, group_by: GroupBy) -> String {
    let key = match (tags, group_by) {
        (_, GroupBy::Total) => Some("total"),
        (Some((chan_tag, _)), GroupBy::ChanTag) => chan_tag,
        (Some((_, stat_param)), GroupBy::StatParam) => stat_param.filter(|s| !s.is_empty()),
        (None, _) => None,
    };
    key.unwrap_or(UNTAGGED).to_owned()
}

fn key_of(order: Option<&OrderInfo>, group_by: GroupBy) -> String {
    group_key(
        order.map(|order| (order.chan_tag(), order.stat_param.as_deref())),
        group_by,
    )
}

/// Earnings added up one settled order and one refund at a time, so that a report over stored
/// data can be computed from a stream of rows rather than from everything loaded at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EarningsTally {
    rows: BTreeMap<String, EarningsRow>,
}

impl EarningsTally {
    /// An order settled in the period, under its row key.
    pub fn settled(&mut self, key: String, commission: Decimal) {
        self.settled_many(key, 1, commission);
    }

    /// `orders` orders settled in the period under one key, with their summed commission.
    pub fn settled_many(&mut self, key: String, orders: u32, commission: Decimal) {
        let row = self.rows.entry(key).or_default();
        row.settled_orders = row.settled_orders.saturating_add(orders);
        row.settled_commission += commission;
    }

    /// A refund booked in the period, under its order's row key; the deduction counts whatever
    /// sign the platform gave it.
    pub fn refunded(&mut self, key: String, deduction: Decimal) {
        self.refunded_many(key, 1, deduction);
    }

    /// `refunds` refunds booked in the period under one key, with the sum of their deductions'
    /// sizes.
    pub fn refunded_many(&mut self, key: String, refunds: u32, deduction: Decimal) {
        let row = self.rows.entry(key).or_default();
        row.refunded_orders = row.refunded_orders.saturating_add(refunds);
        row.refund_deduction += deduction.abs();
    }

    /// The report of `[start_ms, end_ms)` from what was added.
    pub fn report(self, start_ms: i64, end_ms: i64, group_by: GroupBy) -> EarningsReport {
        let mut total = EarningsRow {
            key: "total".into(),
            ..EarningsRow::default()
        };
        let rows: Vec<EarningsRow> = self
            .rows
            .into_iter()
            .map(|(key, mut row)| {
                row.key = key;
                row.net = row.settled_commission - row.refund_deduction;
                total.settled_orders += row.settled_orders;
                total.settled_commission += row.settled_commission;
                total.refunded_orders += row.refunded_orders;
                total.refund_deduction += row.refund_deduction;
                row
            })
            .collect();
        total.net = total.settled_commission - total.refund_deduction;
        EarningsReport {
            start_ms,
            end_ms,
            group_by,
            rows,
            total,
        }
    }
}

/// Computes the report from orders and after-settlement refunds.
///
/// An order counts when it is settled with a `settledTime` in the period; a refund counts when
/// its deduction was settled (`commissionSettledTime`, else booked: `commissionEnterTime`) in the
/// period. A refund is grouped by its original order, which must be among `orders` to be keyed
/// (it may have settled in an earlier period).
pub fn report(
    orders: &[OrderInfo],
    refunds: &[RefundOrderInfo],
    start_ms: i64,
    end_ms: i64,
    group_by: GroupBy,
) -> EarningsReport {
    let in_period = |at: Option<i64>| at.is_some_and(|at| at >= start_ms && at < end_ms);
    let by_sn: HashMap<&str, &OrderInfo> = orders
        .iter()
        .map(|order| (order.order_sn.as_str(), order))
        .collect();
    let mut tally = EarningsTally::default();
    let mut seen = std::collections::HashSet::new();
    for order in orders {
        if !order.is_settled()
            || !in_period(order.settled_time)
            || !seen.insert(order.order_sn.as_str())
        {
            continue;
        }
        tally.settled(
            key_of(Some(order), group_by),
            order.commission.unwrap_or_default(),
        );
    }
    let mut seen_refunds = std::collections::HashSet::new();
    for refund in refunds {
        let booked = refund
            .commission_settled_time
            .or(refund.commission_enter_time);
        let identity = (
            refund.order_sn.as_str(),
            refund.after_sale_sn.as_deref().unwrap_or_default(),
        );
        if !in_period(booked) || !seen_refunds.insert(identity) {
            continue;
        }
        tally.refunded(
            key_of(by_sn.get(refund.order_sn.as_str()).copied(), group_by),
            refund.commission.unwrap_or_default(),
        );
    }
    tally.report(start_ms, end_ms, group_by)
}

const PAGE_SIZE: i32 = 100;

/// Every order whose `lastUpdateTime` is in `[start_ms, end_ms)`, in three-day windows.
pub async fn orders_updated_between(
    client: &VopClient,
    mode: Mode,
    start_ms: i64,
    end_ms: i64,
    status: Option<OrderStatus>,
) -> Result<Vec<OrderInfo>, VopError> {
    let mut out: Vec<OrderInfo> = Vec::new();
    for (from, to) in windows(start_ms, end_ms, MAX_WINDOW_MS) {
        // The API's range is inclusive; the last millisecond belongs to the next window.
        let mut list = OrderList::by_update_time(mode, from, to - 1).page_size(PAGE_SIZE);
        if let Some(status) = status {
            list = list.status(status);
        }
        collect_pages(client, list, &mut out).await?;
    }
    Ok(out)
}

async fn collect_pages(
    client: &VopClient,
    list: OrderList,
    out: &mut Vec<OrderInfo>,
) -> Result<(), VopError> {
    let mut page = 1;
    loop {
        let answer = client.execute(&list.clone().page(page)).await?;
        let got = answer.order_info_list.len();
        for order in answer.order_info_list {
            match out
                .iter_mut()
                .find(|known| known.order_sn == order.order_sn)
            {
                Some(known) if known.last_update_time <= order.last_update_time => *known = order,
                Some(_) => {}
                None => out.push(order),
            }
        }
        if got < PAGE_SIZE as usize || (page as i64) * (PAGE_SIZE as i64) >= answer.total {
            return Ok(());
        }
        page += 1;
    }
}

/// Every after-settlement refund whose deduction was settled in `[start_ms, end_ms)`.
pub async fn refunds_settled_between(
    client: &VopClient,
    mode: Mode,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<RefundOrderInfo>, VopError> {
    let mut out = Vec::new();
    for (from, to) in windows(start_ms, end_ms, MAX_WINDOW_MS) {
        let request = RefundOrderList::new(mode, RefundSearch::DeductionSettledAt, from, to - 1)
            .page_size(PAGE_SIZE);
        let mut page = 1;
        loop {
            let answer = client.execute(&request.clone().page(page)).await?;
            let got = answer.refund_order_info_list.len();
            out.extend(answer.refund_order_info_list);
            if got < PAGE_SIZE as usize || (page as i64) * (PAGE_SIZE as i64) >= answer.total {
                break;
            }
            page += 1;
        }
    }
    Ok(out)
}

/// Pulls what the period needs and computes its report: orders updated in the period (settled
/// ones never change after settling), refunds settled in it, and the original orders of those
/// refunds (fetched by order number, 20 at a time) so that deductions land on the right PID.
pub async fn fetch_report(
    client: &VopClient,
    mode: Mode,
    start_ms: i64,
    end_ms: i64,
    group_by: GroupBy,
) -> Result<EarningsReport, VopError> {
    let mut orders =
        orders_updated_between(client, mode, start_ms, end_ms, Some(OrderStatus::Completed))
            .await?;
    let refunds = refunds_settled_between(client, mode, start_ms, end_ms).await?;
    let missing: Vec<String> = refunds
        .iter()
        .map(|refund| refund.order_sn.clone())
        .filter(|sn| !orders.iter().any(|order| &order.order_sn == sn))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in missing.chunks(20) {
        let list = OrderList::by_order_sns(mode, chunk.iter().cloned()).page_size(PAGE_SIZE);
        collect_pages(client, list, &mut orders).await?;
    }
    Ok(report(&orders, &refunds, start_ms, end_ms, group_by))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(sn: &str, pid: &str, commission: &str, settled_time: Option<i64>) -> OrderInfo {
        serde_json::from_value(serde_json::json!({
            "orderSn": sn, "status": 2, "orderTime": 0, "lastUpdateTime": settled_time.unwrap_or(0),
            "settled": i16::from(settled_time.is_some()), "settledTime": settled_time, "pid": pid,
            "commission": commission,
        }))
        .expect("order")
    }

    fn refund(sn: &str, commission: &str, settled_at: i64) -> RefundOrderInfo {
        serde_json::from_value(serde_json::json!({
            "orderSn": sn, "commission": commission, "commissionSettledTime": settled_at, "afterSaleSn": format!("AS{sn}"),
        }))
        .expect("refund")
    }

    #[test]
    fn settled_minus_after_settlement_refunds_per_pid() {
        let orders = [
            order("1", "pid_a", "10.10", Some(100)),
            order("2", "pid_a", "0.20", Some(150)),
            order("3", "pid_b", "5.00", Some(199)),
            order("4", "pid_b", "7.00", Some(200)), // settles after the period
            order("5", "pid_b", "9.99", None),      // not settled
            order("6", "pid_a", "3.30", Some(50)),  // settled before, refunded inside
        ];
        let refunds = [
            refund("6", "3.30", 120),
            refund("3", "-1.25", 180),
            refund("1", "2.00", 250),
        ];
        let report = report(&orders, &refunds, 100, 200, GroupBy::ChanTag);
        assert_eq!(report.rows.len(), 2);
        let a = &report.rows[0];
        assert_eq!(
            (a.key.as_str(), a.settled_orders, a.refunded_orders),
            ("pid_a", 2, 1)
        );
        assert_eq!(a.settled_commission.to_string(), "10.30");
        assert_eq!(a.net.to_string(), "7.00");
        let b = &report.rows[1];
        assert_eq!(b.net.to_string(), "3.75");
        assert_eq!(report.total.net.to_string(), "10.75");
        let totals = super::report(&orders, &refunds, 100, 200, GroupBy::Total);
        assert_eq!(totals.rows.len(), 1);
        assert_eq!(totals.rows[0].net, report.total.net);
    }
}
