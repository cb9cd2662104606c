//! Simulated buyers and their orders: clicks on links become orders that move through the
//! guide's status flow (§4.3.3-4.3.4) on the simulated clock; orderList and refundOrderList read
//! them as they are at the current simulated time.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{Datelike, FixedOffset};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::super::VopState;
use super::super::args::Args;
use super::super::gateway::{Call, GatewayError};
use super::catalog::{commission_fen, yuan};
use super::links::{Attribution, attribute};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// How a simulated order will go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Paid after 10 minutes, signed 20 hours later, 待结算 on day 13 and 已结算 on day 14.
    Settles,
    /// Never paid: 已失效 after 30 minutes.
    Unpaid,
    /// Returned two days after signing, before settlement: 已失效, commission 0.
    RefundBeforeSettlement,
    /// Settles, then is returned: the order stays as settled and the deduction appears in
    /// refundOrderList (applied 1 h, booked 2 h, settled 3 h after settlement).
    RefundAfterSettlement,
    /// Like `RefundAfterSettlement`, but the goods take three weeks to come back: the deduction
    /// is booked 21 days after the application and settled a day later. Only when asked for.
    SlowRefundAfterSettlement,
    /// A presale (预付) order: the deposit makes the order at its final price, the balance is
    /// paid two days later, then it goes on like `Settles`.
    Presale,
}

#[derive(Debug, Clone)]
pub struct AfterSale {
    pub after_sale_sn: String,
    pub applied_at: i64,
    pub finished_at: i64,
    /// Only after settlement: when the deduction was booked and settled.
    pub deduction: Option<(String, i64, i64)>,
}

/// One simulated order and its whole future.
#[derive(Debug, Clone)]
pub struct SimOrder {
    pub order_sn: String,
    pub owner: String,
    pub chan_tag: Option<String>,
    pub stat_param: Option<String>,
    pub scenario: Scenario,
    pub goods_id: String,
    pub goods_name: String,
    pub goods_count: i64,
    pub unit_price_fen: i64,
    pub rate_bp: i64,
    pub size_id: String,
    pub new_customer: i16,
    pub order_time: i64,
    pub paid_at: Option<i64>,
    pub signed_at: Option<i64>,
    pub pending_at: Option<i64>,
    pub settled_at: Option<i64>,
    pub invalid_at: Option<i64>,
    pub after_sale: Option<AfterSale>,
    /// When the platform last adjusted the order by itself (a recomputed commission, a
    /// corrected attribution): it changes nothing but `lastUpdateTime`. Set by the churn switch.
    pub adjusted_at: Option<i64>,
}

/// The churn switch: while set, every orderList answer is followed by a change to some of the
/// orders on the page it answered, so that a client paging through a window sees the list move
/// between two page reads, as the platform's does under a busy account. The changed orders get
/// a new `lastUpdateTime` (now) and leave any window in the past; every order after them moves
/// up the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Churn {
    /// Orders changed after each answered page (1 to 100); settled orders never change.
    pub orders_per_page: usize,
    /// How many more answers are followed by changes.
    pub pages: usize,
}

/// Every simulated order, with an index of the moments each one changes, so that a time-window
/// query reads only the orders that changed inside the window rather than every order ever placed
/// (a million-order account would otherwise cost a full scan per page).
#[derive(Debug, Default)]
pub struct OrderBook {
    orders: Vec<SimOrder>,
    by_sn: HashMap<String, usize>,
    /// (moment, position in `orders`) for every moment in `SimOrder::moments`.
    changes: BTreeSet<(i64, usize)>,
    /// The last orderList answer, in order, for paging through it without sorting it again.
    last_list: Mutex<Option<CachedList>>,
    /// Changes to make after the next answers, when set.
    pub churn: Churn,
}

/// What an orderList answer depends on besides the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub owner: String,
    pub status: Option<i64>,
    pub by_order_time: Option<(i64, i64)>,
    pub by_update_time: Option<(i64, i64)>,
    pub order_sns: Option<Vec<String>>,
}

#[derive(Debug)]
struct CachedList {
    query: ListQuery,
    /// The simulated time it was computed at, and how many orders there were.
    at: i64,
    orders: usize,
    positions: Arc<Vec<usize>>,
}

impl OrderBook {
    /// Whether an order already has this number.
    pub fn has_sn(&self, order_sn: &str) -> bool {
        self.by_sn.contains_key(order_sn)
    }

    /// Adds an order whose number is new; a repeated number is refused so none is issued twice.
    pub fn insert(&mut self, order: SimOrder) -> bool {
        if self.has_sn(&order.order_sn) {
            return false;
        }
        let position = self.orders.len();
        self.changes
            .extend(order.moments().map(|moment| (moment, position)));
        self.by_sn.insert(order.order_sn.clone(), position);
        self.orders.push(order);
        true
    }

    /// The orders with these numbers, each once.
    pub fn with_sns<'a>(&'a self, order_sns: &[&str]) -> Vec<&'a SimOrder> {
        self.orders_at(self.positions_with_sns(order_sns))
    }

    fn positions_with_sns(&self, order_sns: &[&str]) -> Vec<usize> {
        let mut positions: Vec<usize> = order_sns
            .iter()
            .filter_map(|sn| self.by_sn.get(*sn).copied())
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
    }

    fn orders_at(&self, positions: Vec<usize>) -> Vec<&SimOrder> {
        positions.into_iter().map(|i| &self.orders[i]).collect()
    }

    /// Every order, in the order they were placed.
    pub fn iter(&self) -> impl Iterator<Item = &SimOrder> {
        self.orders.iter()
    }

    /// The platform adjusts the order at `position` now (see [`SimOrder::adjusted_at`]).
    fn adjust(&mut self, position: usize, now: i64) {
        let Some(order) = self.orders.get_mut(position) else {
            return;
        };
        order.adjusted_at = Some(now);
        self.changes.insert((now, position));
        // A cached answer computed at this very instant would no longer hold.
        if let Ok(mut cache) = self.last_list.lock() {
            *cache = None;
        }
    }

    /// After an answer with the orders at `answered`: the churn switch's changes, if it is set.
    fn churn_after(&mut self, answered: &[usize], now: i64) {
        if self.churn.pages == 0 || self.churn.orders_per_page == 0 {
            return;
        }
        self.churn.pages -= 1;
        let changing: Vec<usize> = answered
            .iter()
            .copied()
            .filter(|&position| {
                self.orders
                    .get(position)
                    .is_some_and(|order| order.stage(now) != "已结算")
            })
            .take(self.churn.orders_per_page)
            .collect();
        for position in changing {
            self.adjust(position, now);
        }
    }

    /// An owner's orders as orderList shows them at `now`, sorted by number: number, sub-status,
    /// commission (as a decimal, however the answer formats it) and last update. What a client
    /// that synced every order should hold; the sync tests compare their store with it.
    pub fn order_set(
        &self,
        owner: &str,
        now: i64,
    ) -> Vec<(String, Option<String>, Option<String>, i64)> {
        let mut orders: Vec<_> = self
            .orders
            .iter()
            .filter(|order| order.owner == owner)
            .map(|order| {
                let view = order.view(now);
                (
                    order.order_sn.clone(),
                    view["orderSubStatusName"].as_str().map(str::to_owned),
                    view["commission"].as_str().map(|c| {
                        c.parse::<shopbridge_core::money::Decimal>()
                            .map_or_else(|_| c.to_owned(), |d| d.to_string())
                    }),
                    view["lastUpdateTime"].as_i64().unwrap_or(order.order_time),
                )
            })
            .collect();
        orders.sort();
        orders
    }

    /// The order at a position `list` answered.
    pub fn at(&self, position: usize) -> Option<&SimOrder> {
        self.orders.get(position)
    }

    /// The positions of the orders `query` matches at `now`, in the list's order, computed by
    /// `list` unless the last answer still holds: the same query, no order placed since, and no
    /// order's moment passed since (every filter compares moments with now, so none can differ).
    /// Paging through a million-order window then sorts it once instead of once per page.
    pub fn list(
        &self,
        query: ListQuery,
        now: i64,
        list: impl FnOnce(&Self) -> Vec<usize>,
    ) -> Arc<Vec<usize>> {
        if let Ok(cache) = self.last_list.lock()
            && let Some(cached) = cache.as_ref()
            && cached.query == query
            && cached.orders == self.orders.len()
            && cached.at <= now
            && (cached.at == now
                || self
                    .changes
                    .range((cached.at + 1, 0)..=(now, usize::MAX))
                    .next()
                    .is_none())
        {
            return cached.positions.clone();
        }
        let positions = Arc::new(list(self));
        if let Ok(mut cache) = self.last_list.lock() {
            *cache = Some(CachedList {
                query,
                at: now,
                orders: self.orders.len(),
                positions: positions.clone(),
            });
        }
        positions
    }

    /// Every order with at least one moment in `from..=to`, each once: a superset of the orders
    /// placed, updated or refunded in that window, for the caller to filter exactly.
    pub fn changed_between(&self, from: i64, to: i64) -> Vec<&SimOrder> {
        self.orders_at(self.positions_changed_between(from, to))
    }

    fn positions_changed_between(&self, from: i64, to: i64) -> Vec<usize> {
        if from > to {
            return Vec::new();
        }
        let mut positions: Vec<usize> = self
            .changes
            .range((from, 0)..=(to, usize::MAX))
            .map(|&(_, position)| position)
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
    }
}

fn before(at: Option<i64>, now: i64) -> bool {
    at.is_some_and(|at| at <= now)
}

impl SimOrder {
    fn base_fen(&self) -> i64 {
        self.unit_price_fen * self.goods_count
    }

    fn commission_fen(&self) -> i64 {
        commission_fen(self.base_fen(), self.rate_bp)
    }

    /// `orderSubStatusName` at `now`.
    pub fn stage(&self, now: i64) -> &'static str {
        if before(self.invalid_at, now) {
            "已失效"
        } else if before(self.settled_at, now) {
            "已结算"
        } else if before(self.pending_at, now) {
            "待结算"
        } else if before(self.signed_at, now) {
            "已签收"
        } else if before(self.paid_at, now) {
            "已付款"
        } else {
            "已下单"
        }
    }

    /// The order's `status` at `now`: 0 invalid, 2 pending settlement or settled, 1 otherwise.
    pub fn status_code(&self, now: i64) -> i64 {
        match self.stage(now) {
            "已失效" => 0,
            "待结算" | "已结算" => 2,
            _ => 1,
        }
    }

    /// The moments the order itself changes: placed, paid, signed, pending, settled, invalid,
    /// and an after-sale applied for before settlement (one after it changes only the refund).
    fn order_moments(&self) -> impl Iterator<Item = i64> + use<> {
        let pre_settlement_after_sale = self
            .after_sale
            .as_ref()
            .filter(|sale| sale.deduction.is_none())
            .map(|sale| sale.applied_at);
        [
            Some(self.order_time),
            self.paid_at,
            self.signed_at,
            self.pending_at,
            self.settled_at,
            self.invalid_at,
            pre_settlement_after_sale,
            self.adjusted_at,
        ]
        .into_iter()
        .flatten()
    }

    /// Every moment the order or its refund changes: the order's own, and the after-sale
    /// applied for, its deduction booked and settled.
    fn moments(&self) -> impl Iterator<Item = i64> + use<> {
        let sale = self.after_sale.as_ref();
        let deduction = sale.and_then(|sale| sale.deduction.as_ref());
        let refund = [
            sale.map(|sale| sale.applied_at),
            deduction.map(|(_, booked, _)| *booked),
            deduction.map(|(_, _, settled)| *settled),
        ];
        self.order_moments().chain(refund.into_iter().flatten())
    }

    /// The last change visible at `now`. After-settlement refunds do not change the order.
    pub fn last_update(&self, now: i64) -> i64 {
        self.order_moments()
            .filter(|&at| at <= now)
            .max()
            .unwrap_or(self.order_time)
    }

    /// The order as orderList shows it at `now`.
    pub fn view(&self, now: i64) -> Value {
        let stage = self.stage(now);
        let status = match stage {
            "已失效" => 0,
            "待结算" | "已结算" => 2,
            _ => 1,
        };
        let settled = stage == "已结算";
        let base = self.commission_fen();
        let refunded_before =
            self.scenario == Scenario::RefundBeforeSettlement && before(self.invalid_at, now);
        let commission = if status == 0 { 0 } else { base };
        let after_sale: Vec<Value> = self
            .after_sale
            .iter()
            .filter(|sale| sale.deduction.is_none() && sale.applied_at <= now)
            .map(|sale| {
                json!({
                    "afterSaleChangedCommission": yuan(-base),
                    "afterSaleChangedGoodsCount": -self.goods_count,
                    "afterSaleSn": sale.after_sale_sn,
                    "afterSaleStatus": if sale.finished_at <= now { 2 } else { 1 },
                    "afterSaleType": 1,
                    "afterSaleFinishTime": (sale.finished_at <= now).then_some(sale.finished_at),
                })
            })
            .collect();
        json!({
            "orderSn": self.order_sn,
            "status": status,
            "newCustomer": self.new_customer,
            "channelTag": self.chan_tag,
            "pid": self.chan_tag,
            "statParam": self.stat_param,
            "orderTime": self.order_time,
            "signTime": self.signed_at.filter(|&at| at <= now),
            "settledTime": self.settled_at.filter(|&at| at <= now),
            "settled": i32::from(settled),
            "selfBuy": 0,
            "orderSubStatusName": stage,
            "commission": yuan(commission),
            "afterSaleChangeCommission": if refunded_before { yuan(-base) } else { yuan(0) },
            "afterSaleChangeGoodsCount": if refunded_before { -self.goods_count } else { 0 },
            "commissionEnterTime": self.settled_at.filter(|&at| at <= now),
            "orderSource": "sandbox",
            "isPrepay": i32::from(self.scenario == Scenario::Presale),
            "lastUpdateTime": self.last_update(now),
            "detailList": [{
                "goodsId": self.goods_id,
                "goodsName": self.goods_name,
                "goodsThumb": format!("https://h2.appsimg.com/sandbox/{}_thumb.jpg", self.goods_id),
                "goodsCount": self.goods_count,
                "commissionTotalCost": yuan(self.base_fen()),
                "commissionRate": yuan(self.rate_bp),
                "commission": yuan(commission),
                "commCode": "C01",
                "commName": "常规佣金",
                "orderSource": "sandbox",
                "afterSaleInfo": after_sale,
                "sizeId": self.size_id,
                "status": status,
            }],
        })
    }

    /// The after-settlement refund as refundOrderList shows it at `now`, once applied.
    pub fn refund_view(&self, now: i64) -> Option<Value> {
        let sale = self
            .after_sale
            .as_ref()
            .filter(|sale| sale.applied_at <= now)?;
        let (txn, booked_at, settled_at) = sale.deduction.as_ref()?;
        let booked = (*booked_at <= now).then_some(*booked_at);
        let settled = (*settled_at <= now).then_some(*settled_at);
        Some(json!({
            "orderSn": self.order_sn,
            "applyTime": sale.applied_at,
            "refundType": 1,
            "commissionTotalCost": yuan(self.base_fen()),
            "commission": yuan(self.commission_fen()),
            "goodsCount": self.goods_count,
            "commissionEnterTxn": booked.map(|_| txn.clone()),
            "commissionEnterTime": booked,
            "commissionSettledTime": settled,
            "refundOrderDetails": [{
                "goodsId": self.goods_id,
                "sizeId": self.size_id,
                "goodsPrice": yuan(self.unit_price_fen),
                "goodsCount": self.goods_count,
                "commission": yuan(self.commission_fen()),
                "totalCost": yuan(self.base_fen()),
            }],
            "orderTime": self.order_time,
            "originCommEnterTime": self.settled_at,
            "settled": i32::from(settled.is_some()),
            "afterSaleSn": sale.after_sale_sn,
            "afterSaleStatus": if sale.finished_at <= now { 2 } else { 1 },
        }))
    }

    /// The time refundOrderList's `searchType` looks at.
    fn refund_time(&self, search_type: i64, now: i64) -> Option<i64> {
        let sale = self.after_sale.as_ref()?;
        let (_, booked, settled) = sale.deduction.as_ref()?;
        let at = match search_type {
            0 => sale.applied_at,
            1 => *booked,
            _ => *settled,
        };
        (at <= now).then_some(at)
    }
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
}

/// Whether `now` is within ten days before a presale date (4.19, 6.16, 11.11, 12.8).
fn near_presale_date(now: i64) -> bool {
    let Some(at) = chrono::DateTime::from_timestamp_millis(now) else {
        return false;
    };
    let date = at.with_timezone(&beijing()).date_naive();
    [(4, 19), (6, 16), (11, 11), (12, 8)]
        .into_iter()
        .any(|(month, day)| {
            chrono::NaiveDate::from_ymd_opt(date.year(), month, day)
                .is_some_and(|event| (0..=10).contains(&(event - date).num_days()))
        })
}

fn pick_scenario(rng: &mut ChaCha8Rng, now: i64) -> Scenario {
    let roll = rng.random_range(0..100);
    match roll {
        0..15 => Scenario::Unpaid,
        15..30 => Scenario::RefundBeforeSettlement,
        30..45 => Scenario::RefundAfterSettlement,
        _ if near_presale_date(now) && roll % 2 == 0 => Scenario::Presale,
        _ => Scenario::Settles,
    }
}

/// A click that became orders.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Click {
    /// Any link type the link service returned, spliced or not.
    pub link: String,
    /// How many orders the click makes (default 1, at most 100).
    #[serde(default)]
    pub orders: Option<u32>,
    /// How the orders will go (default: drawn from the seeded generator).
    #[serde(default)]
    pub scenario: Option<Scenario>,
    /// How many such clicks (default 1, at most 10,000): a bulk way to build a large account.
    #[serde(default)]
    pub clicks: Option<u32>,
}

/// The most clicks one admin call places: a million orders at 100 a click.
pub const MAX_CLICKS: u32 = 10_000;

/// Turns a click on `link` into orders placed now.
pub fn click(
    vop: &mut VopState,
    rng: &mut ChaCha8Rng,
    now: i64,
    click: &Click,
) -> Result<Vec<Value>, String> {
    let count = click.orders.unwrap_or(1);
    if !(1..=100).contains(&count) {
        return Err(format!("orders: expected 1 to 100, got {count}"));
    }
    let Attribution {
        record,
        chan_tag,
        stat_param,
    } = attribute(&vop.union.links, &click.link).ok_or_else(|| {
        format!(
            "link: {:?} was not generated by this sandbox's link service",
            click.link
        )
    })?;
    let mut created = Vec::new();
    for _ in 0..count {
        let goods = match record
            .goods_id
            .as_deref()
            .and_then(|id| vop.union.catalog.by_id(id))
        {
            Some(goods) => goods.clone(),
            None => {
                let i = rng.random_range(0..vop.union.catalog.goods.len().max(1));
                vop.union
                    .catalog
                    .goods
                    .get(i)
                    .cloned()
                    .ok_or_else(|| "the catalog is empty".to_owned())?
            }
        };
        let scenario = click.scenario.unwrap_or_else(|| pick_scenario(rng, now));
        let date = chrono::DateTime::from_timestamp_millis(now)
            .map(|at| at.with_timezone(&beijing()).format("%y%m%d").to_string())
            .unwrap_or_default();
        // Order numbers are unique, as the platform's are.
        let order_sn = loop {
            let candidate = format!("{date}{:010}", rng.random_range(0..10_000_000_000_i64));
            if !vop.union.orders.has_sn(&candidate) {
                break candidate;
            }
        };
        let mut order = SimOrder {
            order_sn: order_sn.clone(),
            owner: record.owner.clone(),
            chan_tag: chan_tag.clone(),
            stat_param: stat_param.clone(),
            scenario,
            goods_id: goods.goods_id.clone(),
            goods_name: goods.name.clone(),
            goods_count: rng.random_range(1..=3),
            unit_price_fen: goods.price_fen(),
            rate_bp: goods.commission_rate_bp,
            size_id: format!("{}", rng.random_range(100_000_000..999_999_999_i64)),
            new_customer: rng.random_range(1..=2),
            order_time: now,
            paid_at: None,
            signed_at: None,
            pending_at: None,
            settled_at: None,
            invalid_at: None,
            after_sale: None,
            adjusted_at: None,
        };
        if scenario == Scenario::Unpaid {
            order.invalid_at = Some(now + 30 * MINUTE);
        } else {
            let paid = if scenario == Scenario::Presale {
                now + 2 * DAY
            } else {
                now + 10 * MINUTE
            };
            let signed = paid + 20 * HOUR;
            order.paid_at = Some(paid);
            order.signed_at = Some(signed);
            match scenario {
                Scenario::RefundBeforeSettlement => {
                    order.invalid_at = Some(signed + 3 * DAY);
                    order.after_sale = Some(AfterSale {
                        after_sale_sn: format!("AS{order_sn}"),
                        applied_at: signed + 2 * DAY,
                        finished_at: signed + 3 * DAY,
                        deduction: None,
                    });
                }
                _ => {
                    order.pending_at = Some(signed + 13 * DAY);
                    let settled = signed + 14 * DAY;
                    order.settled_at = Some(settled);
                    let return_takes = match scenario {
                        Scenario::RefundAfterSettlement => Some(HOUR),
                        Scenario::SlowRefundAfterSettlement => Some(21 * DAY),
                        _ => None,
                    };
                    if let Some(return_takes) = return_takes {
                        let applied = settled + HOUR;
                        let booked = applied + return_takes;
                        order.after_sale = Some(AfterSale {
                            after_sale_sn: format!("AS{order_sn}"),
                            applied_at: applied,
                            finished_at: booked,
                            deduction: Some((
                                format!("TXN{order_sn}"),
                                booked,
                                booked + if return_takes > DAY { DAY } else { HOUR },
                            )),
                        });
                    }
                }
            }
        }
        created.push(json!({
            "order_sn": order.order_sn,
            "owner": order.owner,
            "chan_tag": order.chan_tag,
            "stat_param": order.stat_param,
            "scenario": scenario,
            "goods_id": order.goods_id,
            "goods_count": order.goods_count,
            "commission": yuan(order.commission_fen()),
        }));
        vop.union.orders.insert(order);
    }
    Ok(created)
}

fn owner_of(call: &Call<'_>) -> String {
    call.user
        .map_or_else(|| call.app_key.to_owned(), |user| user.open_id.clone())
}

fn range(args: &Args<'_>, start: &str, end: &str) -> Result<Option<(i64, i64)>, GatewayError> {
    match (args.opt_i64(start)?, args.opt_i64(end)?) {
        (None, None) => Ok(None),
        (Some(from), Some(to)) if from <= to => Ok(Some((from, to))),
        (Some(_), Some(_)) => Err(GatewayError::invalid_argument(format!(
            "{}: must not be after {}",
            args.path(start),
            args.path(end)
        ))),
        _ => Err(GatewayError::invalid_argument(format!(
            "{} and {}: give both or neither",
            args.path(start),
            args.path(end)
        ))),
    }
}

fn page(items: Vec<Value>, list_name: &str, page: usize, size: usize) -> Value {
    let total = items.len();
    let items: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    paged(items, total, list_name, page, size)
}

/// One page already cut out of `total` matches.
fn paged(items: Vec<Value>, total: usize, list_name: &str, page: usize, size: usize) -> Value {
    json!({ list_name: items, "total": total, "page": page, "pageSize": size })
}

pub fn order_list(vop: &mut VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "queryModel")?;
    let (page_no, size) = args.paging(20, 100)?;
    args.req_str("requestId")?;
    let status = args.opt_i64("status")?;
    if status.is_some_and(|s| !(0..=2).contains(&s)) {
        return Err(GatewayError::invalid_argument(
            "queryModel.status: expected 0, 1 or 2",
        ));
    }
    let by_order_time = range(&args, "orderTimeStart", "orderTimeEnd")?;
    let by_update_time = range(&args, "updateTimeStart", "updateTimeEnd")?;
    let order_sns = args
        .opt_str_list("orderSnList")?
        .filter(|list| !list.is_empty());
    if by_order_time.is_none() && by_update_time.is_none() && order_sns.is_none() {
        return Err(GatewayError::invalid_argument(
            "queryModel: give orderTimeStart/End, updateTimeStart/End or orderSnList",
        ));
    }
    let owner = owner_of(call);
    let now = call.now_ms;
    let query = ListQuery {
        owner: owner.clone(),
        status,
        by_order_time,
        by_update_time,
        order_sns: order_sns
            .as_ref()
            .map(|sns| sns.iter().map(|sn| (*sn).to_owned()).collect()),
    };
    let book = &vop.union.orders;
    let listed = book.list(query, now, |book| {
        // Every time a query filters on is one of the order's moments, at or before now: the
        // index yields the candidates, the filters below decide exactly.
        let candidates = match (&order_sns, by_update_time.or(by_order_time)) {
            (Some(sns), _) => book.positions_with_sns(sns),
            (None, Some((from, to))) => book.positions_changed_between(from, to.min(now)),
            (None, None) => Vec::new(),
        };
        let mut matching: Vec<(i64, &str, usize)> = candidates
            .into_iter()
            .map(|position| (position, &book.orders[position]))
            .filter(|(_, order)| order.owner == owner && order.order_time <= now)
            .filter(|(_, order)| {
                by_order_time.is_none_or(|(from, to)| (from..=to).contains(&order.order_time))
            })
            .filter_map(|(position, order)| {
                let time = if by_update_time.is_some() {
                    order.last_update(now)
                } else {
                    order.order_time
                };
                let in_window = by_update_time.is_none_or(|(from, to)| (from..=to).contains(&time));
                let status_ok = status.is_none_or(|s| order.status_code(now) == s);
                (in_window && status_ok).then_some((time, order.order_sn.as_str(), position))
            })
            .collect();
        matching.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        matching
            .into_iter()
            .map(|(_, _, position)| position)
            .collect()
    });
    let total = listed.len();
    let skip = (page_no.max(1) - 1).saturating_mul(size).min(total);
    let end = skip.saturating_add(size).min(total);
    // JSON only for the page asked for.
    let views: Vec<Value> = listed[skip..end]
        .iter()
        .filter_map(|&position| book.at(position))
        .map(|order| order.view(now))
        .collect();
    vop.union.orders.churn_after(&listed[skip..end], now);
    Ok(paged(views, total, "orderInfoList", page_no, size))
}

pub fn refund_order_list(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "request")?;
    let (page_no, size) = args.paging(20, 100)?;
    args.req_str("requestId")?;
    let search_type = args.opt_i64("searchType")?.ok_or_else(|| {
        GatewayError::new("vipapis.miss-parameter", "缺少参数: request.searchType")
    })?;
    if !(0..=2).contains(&search_type) {
        return Err(GatewayError::invalid_argument(format!(
            "request.searchType: expected 0 (applied), 1 (deduction booked) or 2 (deduction settled), got {search_type}"
        )));
    }
    let window = range(&args, "searchTimeStart", "searchTimeEnd")?;
    let order_sns = args
        .opt_str_list("orderSns")?
        .filter(|list| !list.is_empty());
    if window.is_none() && order_sns.is_none() {
        return Err(GatewayError::invalid_argument(
            "request: give searchTimeStart/End or orderSns",
        ));
    }
    let owner = owner_of(call);
    let now = call.now_ms;
    let candidates = match (&order_sns, window) {
        (Some(sns), _) => vop.union.orders.with_sns(sns),
        (None, Some((from, to))) => vop.union.orders.changed_between(from, to.min(now)),
        (None, None) => Vec::new(),
    };
    let mut matching: Vec<(i64, &SimOrder)> = candidates
        .into_iter()
        .filter(|order| order.owner == owner)
        .filter_map(|order| order.refund_time(search_type, now).map(|at| (at, order)))
        .filter(|(at, _)| window.is_none_or(|(from, to)| (from..=to).contains(at)))
        .collect();
    matching.sort_by_key(|(at, order)| (*at, order.order_sn.clone()));
    let views: Vec<Value> = matching
        .into_iter()
        .filter_map(|(_, order)| order.refund_view(now))
        .collect();
    Ok(page(views, "refundOrderInfoList", page_no, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(scenario: Scenario) -> SimOrder {
        SimOrder {
            order_sn: "1".into(),
            owner: "app".into(),
            chan_tag: Some("p".into()),
            stat_param: None,
            scenario,
            goods_id: "g".into(),
            goods_name: "n".into(),
            goods_count: 2,
            unit_price_fen: 10_050,
            rate_bp: 1_250,
            size_id: "s".into(),
            new_customer: 1,
            order_time: 0,
            paid_at: Some(10 * MINUTE),
            signed_at: Some(10 * MINUTE + 20 * HOUR),
            pending_at: Some(10 * MINUTE + 20 * HOUR + 13 * DAY),
            settled_at: Some(10 * MINUTE + 20 * HOUR + 14 * DAY),
            invalid_at: None,
            after_sale: None,
            adjusted_at: None,
        }
    }

    #[test]
    fn the_change_index_finds_exactly_what_a_full_scan_finds() {
        use rand::SeedableRng;
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let scenarios = [
            Scenario::Settles,
            Scenario::Unpaid,
            Scenario::RefundBeforeSettlement,
            Scenario::RefundAfterSettlement,
            Scenario::Presale,
        ];
        let mut book = OrderBook::default();
        let mut all = Vec::new();
        for i in 0..400 {
            let placed = rng.random_range(0..40 * DAY);
            let mut o = order(scenarios[i % scenarios.len()]);
            o.order_sn = format!("{i:06}");
            o.order_time = placed;
            let shift = |at: Option<i64>| at.map(|at| at + placed);
            o.paid_at = shift(o.paid_at);
            o.signed_at = shift(o.signed_at);
            o.pending_at = shift(o.pending_at);
            o.settled_at = shift(o.settled_at);
            if i % 3 == 0 {
                o.after_sale = Some(AfterSale {
                    after_sale_sn: format!("AS{i}"),
                    applied_at: placed + 15 * DAY,
                    finished_at: placed + 16 * DAY,
                    deduction: Some(("T".into(), placed + 16 * DAY, placed + 17 * DAY)),
                });
            }
            assert!(book.insert(o.clone()));
            all.push(o);
        }
        assert!(!book.insert(all[0].clone()), "a repeated number is refused");
        for _ in 0..200 {
            let now = rng.random_range(0..60 * DAY);
            let from = rng.random_range(0..now.max(1));
            let to = rng.random_range(from..=now + DAY);
            let updated =
                |o: &SimOrder| o.order_time <= now && (from..=to).contains(&o.last_update(now));
            let refunded = |o: &SimOrder| {
                o.refund_time(0, now)
                    .is_some_and(|at| (from..=to).contains(&at))
            };
            let indexed = book.changed_between(from, to.min(now));
            assert_eq!(
                sns_of(indexed.iter().copied().filter(|o| updated(o)).collect()),
                sns_of(all.iter().filter(|o| updated(o)).collect()),
                "updated in {from}..={to} at {now}"
            );
            assert_eq!(
                sns_of(indexed.iter().copied().filter(|o| refunded(o)).collect()),
                sns_of(all.iter().filter(|o| refunded(o)).collect()),
                "refund applied in {from}..={to} at {now}"
            );
        }
        assert_eq!(
            sns_of(book.with_sns(&["000002", "000001", "000002", "nope"])),
            ["000001", "000002"]
        );
    }

    #[test]
    fn a_listing_is_reused_only_while_nothing_it_depends_on_moved() {
        let mut book = OrderBook::default();
        assert!(book.insert(order(Scenario::Settles)));
        let query = ListQuery {
            owner: "app".into(),
            status: None,
            by_order_time: None,
            by_update_time: Some((0, 100 * DAY)),
            order_sns: None,
        };
        let computed = std::cell::Cell::new(0);
        let list = |book: &OrderBook, now: i64| {
            book.list(query.clone(), now, |_| {
                computed.set(computed.get() + 1);
                vec![0]
            })
        };
        list(&book, 0);
        list(&book, MINUTE);
        assert_eq!(computed.get(), 1, "no moment between 0 and 1 minute");
        list(&book, 10 * MINUTE);
        assert_eq!(
            computed.get(),
            2,
            "paid at 10 minutes: the answer may differ"
        );
        list(&book, 10 * MINUTE + 5);
        assert_eq!(computed.get(), 2);
        let mut other = query.clone();
        other.status = Some(2);
        book.list(other, 10 * MINUTE + 5, |_| {
            computed.set(computed.get() + 1);
            Vec::new()
        });
        assert_eq!(computed.get(), 3, "another query");
        list(&book, 10 * MINUTE + 5);
        assert_eq!(computed.get(), 4, "only the last answer is kept");
        let mut second = order(Scenario::Unpaid);
        second.order_sn = "2".into();
        assert!(book.insert(second));
        list(&book, 10 * MINUTE + 5);
        assert_eq!(computed.get(), 5, "an order was placed");
        list(&book, 5 * MINUTE);
        assert_eq!(computed.get(), 6, "the clock went back");
    }

    fn sns_of(orders: Vec<&SimOrder>) -> Vec<String> {
        orders.into_iter().map(|o| o.order_sn.clone()).collect()
    }

    #[test]
    fn stages_follow_the_clock_and_settled_orders_freeze() {
        let o = order(Scenario::Settles);
        let signed = 10 * MINUTE + 20 * HOUR;
        assert_eq!(o.stage(0), "已下单");
        assert_eq!(o.stage(10 * MINUTE), "已付款");
        assert_eq!(o.stage(signed), "已签收");
        assert_eq!(o.stage(signed + 13 * DAY), "待结算");
        assert_eq!(o.stage(signed + 14 * DAY), "已结算");
        let settled = o.view(signed + 14 * DAY);
        assert_eq!(
            settled["commission"], "25.13",
            "201.00 x 12.5% rounded half up"
        );
        assert_eq!(settled["status"], 2);
        assert_eq!(
            settled,
            o.view(signed + 400 * DAY),
            "nothing changes after settlement"
        );
        assert_eq!(o.last_update(signed + 20 * DAY), signed + 14 * DAY);
    }
}
