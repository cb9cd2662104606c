//! Every Union method in both modes against the sandbox; link tools, orders and earnings.

use std::collections::BTreeMap;

use serde_json::json;
use shopbridge_core::Clock;
use shopbridge_core::money::Decimal;
use shopbridge_vop::union::earnings::{self, GroupBy};
use shopbridge_vop::union::goods::GoodsQueryFlags;
use shopbridge_vop::union::links;
use shopbridge_vop::union::url::VipLinkType;
use shopbridge_vop::union::{
    GenByGoodsId, GenByVipUrl, GenPid, GetByGoodsIds, GoodsList, JX_CODES, OrderList, OrderStage,
    OrderStatus, Query, QueryPid, RefundOrderList, RefundSearch, SimilarRecommend, SortField,
    UserRecommend, VipLinkCheck,
};
use shopbridge_vop::{ApiErrorKind, Mode, VopError};

use crate::support::TestEnv;

const MODES: [Mode; 2] = [Mode::Channel, Mode::ToolProvider];
const DAY_SECS: i64 = 86_400;

fn dec(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

#[tokio::test]
async fn goods_list_channels_curated_sorting_and_flags_in_both_modes() {
    let env = TestEnv::start().await;
    let modes = env.modes().await;
    for mode in MODES {
        let client = modes.client(mode);
        let page = client
            .execute(
                &GoodsList::channel(mode, 1, 1)
                    .page_size(50)
                    .sort_by(SortField::Price, true),
            )
            .await
            .expect("channel 1");
        assert_eq!(
            page.total, 3334,
            "{mode:?}: a third of the 10,000 goods are 出单爆款"
        );
        let prices: Vec<Decimal> = page
            .goods_info_list
            .iter()
            .filter_map(|g| g.vip_price)
            .collect();
        assert_eq!(prices.len(), 50);
        assert!(
            prices.windows(2).all(|w| w[0] >= w[1]),
            "sorted by price, descending"
        );
        assert!(
            page.goods_info_list[0].comments_info.is_none(),
            "reputation only when asked for"
        );

        let (code, category) = JX_CODES[2];
        let curated = client
            .execute(
                &GoodsList::curated(mode, code, 1)
                    .page_size(10)
                    .flags(GoodsQueryFlags::all()),
            )
            .await
            .expect("curated");
        assert_eq!(curated.total, 1000);
        for goods in &curated.goods_info_list {
            assert_eq!(goods.category_name.as_deref(), Some(category));
            assert!(goods.comments_info.is_some() && goods.store_service_capability.is_some());
            assert!(
                goods.sale_stock_status.is_some()
                    && goods.prepay_info.is_some()
                    && goods.joined_activities.is_some()
            );
            let expected = (goods.vip_price.expect("price") * goods.commission_rate.expect("rate")
                / Decimal::ONE_HUNDRED)
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            assert_eq!(
                goods.commission,
                Some(expected),
                "commission = price x rate"
            );
        }
        for field in [
            SortField::Discount,
            SortField::Commission,
            SortField::CommissionRate,
            SortField::Sales,
        ] {
            client
                .execute(&GoodsList::channel(mode, 0, 1).sort_by(field, false))
                .await
                .unwrap_or_else(|err| panic!("{field:?}: {err}"));
        }
    }
    let unknown = modes
        .channel
        .call::<serde_json::Value>(
            "com.vip.adp.api.open.service.UnionGoodsService",
            "goodsList",
            "1.0.0",
            &json!({"request": {"page": 1, "requestId": "r", "sourceType": 1, "jxCode": "nope"}}),
        )
        .await
        .expect_err("unknown jxCode");
    assert!(unknown.to_string().contains("request.jxCode"), "{unknown}");
}

#[tokio::test]
async fn keyword_search_with_price_range_in_both_modes() {
    let env = TestEnv::start().await;
    let modes = env.modes().await;
    for mode in MODES {
        let answer = modes
            .client(mode)
            .execute(
                &Query::new(mode, "连衣裙", 1)
                    .page_size(50)
                    .price_range(Some(dec("100")), Some(dec("500.50")))
                    .sort_by(SortField::Price, false),
            )
            .await
            .expect("query");
        assert!(answer.total > 0 && answer.total < 1000, "{}", answer.total);
        for goods in &answer.goods_info_list {
            assert!(
                goods
                    .goods_name
                    .as_deref()
                    .is_some_and(|name| name.contains("连衣裙"))
            );
            let price = goods.vip_price.expect("price");
            assert!(price >= dec("100") && price <= dec("500.50"), "{price}");
        }
    }
    let err = modes
        .channel
        .execute(&Query::new(Mode::Channel, "裙", 1).page_size(60))
        .await
        .expect_err("page size over 50");
    assert!(
        matches!(err, VopError::InvalidArgument { ref field, .. } if field == "request.pageSize")
    );
}

#[tokio::test]
async fn details_and_recommendations_in_both_modes() {
    let env = TestEnv::start().await;
    let modes = env.modes().await;
    for mode in MODES {
        let client = modes.client(mode);
        let page = client
            .execute(&GoodsList::channel(mode, 0, 1).page_size(10))
            .await
            .expect("list");
        let ids: Vec<String> = page
            .goods_info_list
            .iter()
            .map(|g| g.goods_id.clone())
            .collect();
        let details = client
            .execute(&GetByGoodsIds::new(mode, ids.clone()))
            .await
            .expect("details");
        assert_eq!(details.len(), 10);
        assert!(
            details
                .iter()
                .all(|d| d.store_info.is_some() && d.comments_info.is_some())
        );

        let similar = client
            .execute(&SimilarRecommend::new(mode, ids[0].clone()))
            .await
            .expect("similar");
        assert!(
            similar.total > 0 && similar.total <= 40,
            "at most 40: {}",
            similar.total
        );
        assert!(
            similar
                .goods_info_list
                .iter()
                .all(|g| g.goods_id != ids[0] && g.category_name == details[0].category_name)
        );

        let recommend = UserRecommend::new(mode, "IMEI", "e10adc3949ba59abbe56e057f20f883e");
        let first = client.execute(&recommend).await.expect("user recommend");
        let again = client
            .execute(&UserRecommend::new(
                mode,
                "IMEI",
                "e10adc3949ba59abbe56e057f20f883e",
            ))
            .await
            .expect("again");
        assert_eq!(first.total, 40);
        assert_eq!(
            first.goods_info_list, again.goods_info_list,
            "stable per device"
        );
    }
    let missing_device = modes
        .channel
        .call::<serde_json::Value>(
            "com.vip.adp.api.open.service.UnionGoodsService",
            "userRecommend",
            "1.0.0",
            &json!({"request": {"page": 1, "requestId": "r", "commonParams": {"deviceType": "IMEI"}}}),
        )
        .await
        .expect_err("deviceValue required");
    assert_eq!(
        missing_device.api_kind(),
        Some(ApiErrorKind::MissingParameter)
    );
    assert!(
        missing_device
            .to_string()
            .contains("commonParams.deviceValue"),
        "{missing_device}"
    );
}

#[tokio::test]
async fn links_by_goods_id_and_vip_url_and_link_check_in_both_modes() {
    let env = TestEnv::start().await;
    let modes = env.modes().await;
    let goods = modes
        .channel
        .execute(&GoodsList::channel(Mode::Channel, 0, 1).page_size(2))
        .await
        .expect("list")
        .goods_info_list;
    let page_url = goods[1].dest_url.clone().expect("destUrl");
    for mode in MODES {
        let client = modes.client(mode);
        let by_id = client
            .execute(
                &GenByGoodsId::new(mode, [goods[0].goods_id.clone()])
                    .chan_tag("pid_x")
                    .stat_param("st"),
            )
            .await
            .expect("genByGoodsId");
        let info = &by_id.url_info_list[0];
        for (name, value) in [
            ("url", &info.url),
            ("longUrl", &info.long_url),
            ("ulUrl", &info.ul_url),
            ("deeplinkUrl", &info.deeplink_url),
            ("traFrom", &info.tra_from),
            ("noEvokeUrl", &info.no_evoke_url),
            ("noEvokeLongUrl", &info.no_evoke_long_url),
            ("vipWxUrl", &info.vip_wx_url),
            ("vipQuickAppUrl", &info.vip_quick_app_url),
        ] {
            assert!(
                value.as_deref().is_some_and(|v| !v.is_empty()),
                "{mode:?}: {name} missing"
            );
        }
        let tra =
            links::TraFrom::parse(info.tra_from.as_deref().expect("traFrom")).expect("parses");
        assert_eq!(
            (
                tra.prefix.as_str(),
                tra.chan_tag.as_deref(),
                tra.stat_param.as_deref()
            ),
            ("adp", Some("pid_x"), Some("st"))
        );

        let request = GenByVipUrl::new(mode, [page_url.clone()]).chan_tag("pid_y");
        assert!(request.warnings().is_empty());
        let by_url = client.execute(&request).await.expect("genByVIPUrl");
        assert_eq!(
            by_url.url_info_list[0].source.as_deref(),
            Some(page_url.as_str())
        );

        let text = format!(
            "快来看 {} 还有 https://item.taobao.com/item.htm?id=1",
            info.url.as_deref().expect("url")
        );
        let checked = client
            .execute(&VipLinkCheck::new(mode, "tests", text))
            .await
            .expect("vipLinkCheck");
        let (_, found) = checked
            .success_map
            .iter()
            .next()
            .expect("the short link is found");
        assert_eq!(found.link_type, VipLinkType::Goods);
        assert_eq!(
            found.goods_id.as_deref(),
            Some(goods[0].goods_id.as_str()),
            "the platform resolves its short links"
        );
        assert_eq!(
            checked.fail_map.values().next().map(|f| f.link_type),
            Some(VipLinkType::NotVipshopLink)
        );
    }
    let long_tag = modes
        .channel
        .execute(
            &GenByGoodsId::new(Mode::Channel, [goods[0].goods_id.clone()])
                .chan_tag("x".repeat(129)),
        )
        .await
        .expect_err("chanTag over 128 bytes");
    assert!(matches!(long_tag, VopError::InvalidArgument { ref field, .. } if field == "chanTag"));
    assert!(
        !GenByVipUrl::new(Mode::Channel, ["https://www.vip.com/detail-1-2.html"])
            .warnings()
            .is_empty()
    );
}

#[tokio::test]
async fn pids_in_both_modes_and_the_cap() {
    let env = TestEnv::start().await;
    let modes = env.modes().await;
    for mode in MODES {
        let client = modes.client(mode);
        let created = client
            .execute(&GenPid::new(mode, ["公众号", "社群"]))
            .await
            .expect("genPid");
        assert_eq!(created.pid_info_list.len(), 2);
        assert_eq!(created.remain_pid_count, 9_998);
        let listed = client
            .execute(&QueryPid::all(mode, 1))
            .await
            .expect("queryPid");
        assert_eq!(listed.total, 2, "{mode:?}: each owner has its own PIDs");
    }
    // Fill the channel owner's quota of 10,000 and see the next call refused.
    let names: Vec<String> = (0..100).map(|i| format!("pid-{i}")).collect();
    let mut remain = 9_998;
    while remain >= 100 {
        remain = modes
            .channel
            .execute(&GenPid::new(Mode::Channel, names.clone()))
            .await
            .expect("fill")
            .remain_pid_count;
    }
    let last: Vec<String> = (0..remain).map(|i| format!("last-{i}")).collect();
    if !last.is_empty() {
        assert_eq!(
            modes
                .channel
                .execute(&GenPid::new(Mode::Channel, last))
                .await
                .expect("last")
                .remain_pid_count,
            0
        );
    }
    let over = modes
        .channel
        .execute(&GenPid::new(Mode::Channel, ["one more"]))
        .await
        .expect_err("over the cap");
    assert!(over.to_string().contains("cap"), "{over}");
    let total = modes
        .channel
        .execute(&QueryPid::all(Mode::Channel, 100).page_size(100))
        .await
        .expect("last page");
    assert_eq!(total.total, 10_000);
}

/// Sums the commission strings of the orders the admin API placed, per chan tag.
fn expected_net(orders: &[serde_json::Value]) -> BTreeMap<String, Decimal> {
    let mut net: BTreeMap<String, Decimal> = BTreeMap::new();
    for order in orders {
        let tag = order["chan_tag"].as_str().unwrap_or("(none)").to_owned();
        let commission = dec(order["commission"].as_str().expect("commission"));
        // Settled orders earn their commission; a refund after settlement deducts it again.
        let earned = match order["scenario"].as_str() {
            Some("settles") => commission,
            _ => Decimal::ZERO,
        };
        *net.entry(tag).or_default() += earned;
    }
    net
}

#[tokio::test]
async fn orders_move_through_the_status_flow_and_earnings_add_up_to_the_cent() {
    let env = TestEnv::start().await;
    let modes = env.modes().await;
    let clock = env.sandbox.clock();
    for mode in MODES {
        let start = clock.now_ms() - 1_000;
        let client = modes.client(mode);
        let goods = client
            .execute(&GoodsList::channel(mode, 0, 1).page_size(1))
            .await
            .expect("list")
            .goods_info_list;
        let links = client
            .execute(
                &GenByGoodsId::new(mode, [goods[0].goods_id.clone()])
                    .chan_tag("pid_a")
                    .stat_param("s_a"),
            )
            .await
            .expect("link");
        let short = links.url_info_list[0].url.clone().expect("url");
        let deeplink = links.url_info_list[0]
            .deeplink_url
            .clone()
            .expect("deeplink");
        let spliced_short = links::splice(&short, Some("pid_b"), None)
            .expect("splice")
            .link;
        let spliced_deeplink = links::splice(&deeplink, Some("pid_c"), Some("s_c"))
            .expect("splice")
            .link;
        let mut placed = Vec::new();
        placed.extend(env.click(&short, "settles", 2).await);
        placed.extend(env.click(&spliced_short, "settles", 1).await);
        placed.extend(env.click(&spliced_deeplink, "settles", 1).await);
        placed.extend(env.click(&short, "refund_after_settlement", 1).await);
        placed.extend(
            env.click(&spliced_short, "refund_before_settlement", 1)
                .await,
        );
        placed.extend(env.click(&spliced_deeplink, "unpaid", 1).await);
        placed.extend(env.click(&spliced_deeplink, "presale", 1).await);
        let tags: Vec<&str> = placed
            .iter()
            .filter_map(|o| o["chan_tag"].as_str())
            .collect();
        assert!(
            tags.contains(&"pid_a") && tags.contains(&"pid_b") && tags.contains(&"pid_c"),
            "splices are attributed"
        );

        let now = clock.now_ms();
        let fresh = client
            .execute(&OrderList::by_order_time(mode, start, now).page_size(100))
            .await
            .expect("orders");
        assert_eq!(fresh.total, 8, "{mode:?}: each owner sees its own orders");
        // The same page read as a list of heads with their texts, in one pass: each text is
        // the order as the typed page has it, and each head that order's head.
        let heads = client
            .execute_list::<_, shopbridge_vop::union::OrderHead>(
                &OrderList::by_order_time(mode, start, now).page_size(100),
                "orderInfoList",
            )
            .await
            .expect("heads");
        assert_eq!(heads.total, fresh.total);
        assert_eq!(heads.items.len(), fresh.order_info_list.len());
        for ((head, text), order) in heads.items.iter().zip(&fresh.order_info_list) {
            let from_text: shopbridge_vop::union::OrderInfo =
                serde_json::from_str(text).expect("an order's own text");
            assert_eq!(&from_text, order);
            assert_eq!(head, &shopbridge_vop::union::OrderHead::from(order));
        }
        assert!(
            fresh
                .order_info_list
                .iter()
                .all(|o| o.stage() == Some(OrderStage::Ordered) && o.status == 1)
        );
        let by_sn = client
            .execute(&OrderList::by_order_sns(
                mode,
                [placed[0]["order_sn"].as_str().expect("sn")],
            ))
            .await
            .expect("by sn");
        assert_eq!(by_sn.order_info_list.len(), 1);
        assert_eq!(by_sn.order_info_list[0].stat_param.as_deref(), Some("s_a"));
        let spliced_order = fresh
            .order_info_list
            .iter()
            .find(|o| o.chan_tag() == Some("pid_c"))
            .expect("an order of the spliced deeplink");
        assert_eq!(spliced_order.stat_param.as_deref(), Some("s_c"));

        // 1 hour: paid or lapsed; incremental pulls by update time see exactly the changes.
        env.advance_clock_secs(3_600).await;
        let changed = earnings::orders_updated_between(client, mode, now + 1, clock.now_ms(), None)
            .await
            .expect("changes");
        assert_eq!(
            changed.len(),
            7,
            "all but the presale order changed: 6 paid, 1 lapsed"
        );
        assert_eq!(
            changed
                .iter()
                .filter(|o| o.stage() == Some(OrderStage::Invalid))
                .count(),
            1
        );

        // 15 days: everything settled or invalid; the presale order is still on its way.
        let before_settlement = clock.now_ms();
        env.advance_clock_secs(15 * DAY_SECS).await;
        let end = clock.now_ms() + 1;
        let all = earnings::orders_updated_between(client, mode, start, end, None)
            .await
            .expect("all orders");
        assert_eq!(all.len(), 8);
        let stage = |sn: &serde_json::Value| {
            all.iter()
                .find(|o| o.order_sn == sn.as_str().unwrap_or_default())
                .and_then(|o| o.stage())
        };
        for order in &placed {
            let expected = match order["scenario"].as_str() {
                Some("settles" | "refund_after_settlement") => OrderStage::Settled,
                Some("refund_before_settlement" | "unpaid") => OrderStage::Invalid,
                // The presale balance came two days later: signed, not yet awaiting settlement.
                _ => OrderStage::Signed,
            };
            assert_eq!(stage(&order["order_sn"]), Some(expected), "{order}");
        }
        let settled_later = earnings::orders_updated_between(
            client,
            mode,
            before_settlement,
            end,
            Some(OrderStatus::Completed),
        )
        .await
        .expect("completed");
        assert!(settled_later.iter().all(|o| o.status == 2));

        let refunds = earnings::refunds_settled_between(client, mode, start, end)
            .await
            .expect("refunds");
        assert_eq!(refunds.len(), 1);
        let applied = client
            .execute(&RefundOrderList::new(
                mode,
                RefundSearch::AppliedAt,
                end - 2 * DAY_SECS * 1000,
                end,
            ))
            .await
            .expect("by application time");
        assert_eq!(applied.refund_order_info_list.len(), 1);
        assert_eq!(
            applied.refund_order_info_list[0].order_sn,
            refunds[0].order_sn
        );

        let report = earnings::fetch_report(client, mode, start, end, GroupBy::ChanTag)
            .await
            .expect("report");
        let expected = expected_net(&placed);
        let actual: BTreeMap<String, Decimal> = report
            .rows
            .iter()
            .map(|row| (row.key.clone(), row.net))
            .collect();
        for (tag, net) in &expected {
            assert_eq!(
                actual.get(tag).copied().unwrap_or_default(),
                *net,
                "{mode:?} {tag}"
            );
        }
        let pid_a = report
            .rows
            .iter()
            .find(|row| row.key == "pid_a")
            .expect("pid_a row");
        assert_eq!((pid_a.settled_orders, pid_a.refunded_orders), (3, 1));
        assert_eq!(pid_a.net, pid_a.settled_commission - pid_a.refund_deduction);
        assert_eq!(
            report.total.net,
            expected.values().copied().sum::<Decimal>()
        );
        let by_stat = earnings::fetch_report(client, mode, start, end, GroupBy::StatParam)
            .await
            .expect("by statParam");
        assert!(by_stat.rows.iter().any(|row| row.key == "s_c"));

        // Settled orders never change again.
        env.advance_clock_secs(20 * DAY_SECS).await;
        let later = earnings::orders_updated_between(client, mode, end, clock.now_ms(), None)
            .await
            .expect("later");
        let settled_at_end: Vec<&str> = all
            .iter()
            .filter(|o| o.stage() == Some(OrderStage::Settled))
            .map(|o| o.order_sn.as_str())
            .collect();
        assert_eq!(settled_at_end.len(), 5);
        assert!(
            later
                .iter()
                .all(|o| !settled_at_end.contains(&o.order_sn.as_str())),
            "settled orders changed"
        );
        assert_eq!(later.len(), 1, "only the presale order moved on");
        assert_eq!(later[0].stage(), Some(OrderStage::Settled));
        assert_eq!(later[0].is_prepay, Some(1));
    }
}

#[tokio::test]
async fn order_queries_are_checked_and_unknown_links_refused() {
    let env = TestEnv::start().await;
    let client = env.client();
    let err = client
        .execute(&OrderList::by_update_time(
            Mode::Channel,
            0,
            4 * DAY_SECS * 1000,
        ))
        .await
        .expect_err("four days");
    assert!(err.to_string().contains("72"), "{err}");
    let response = env
        .http
        .post(format!(
            "{}/_sandbox/vop/union/clicks",
            env.sandbox.base_url()
        ))
        .json(&json!({"link": "https://t.vip.com/notours"}))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 400);
}

/// A request's raw `result`, exactly as it came over the wire (before any typed parsing, which
/// would read a `null` as an absent field).
async fn raw<R: shopbridge_vop::VopRequest>(
    client: &shopbridge_vop::VopClient,
    request: &R,
) -> serde_json::Value {
    let body = request.arguments().expect("arguments").to_string();
    client
        .call_raw(R::SERVICE, &request.method(), R::VERSION, &body)
        .await
        .unwrap_or_else(|err| panic!("{}: {err}", request.method()))
}

fn assert_no_null(what: &str, answer: &serde_json::Value) {
    if let Some(path) = shopbridge_sandbox::answer::first_null_member(answer, "result") {
        panic!("{what}: {path} is null in {answer}");
    }
}

/// The sandbox writes answers as the platform's generated writers do: an unset member is left
/// out, never `null` (the generated SDKs' parsers have none). Every Union method in both modes,
/// and orders and refunds of every scenario at every stage of their lives, raw as they come
/// over the wire.
#[tokio::test]
async fn no_answer_holds_a_null_member() {
    let env = TestEnv::start().await;
    let modes = env.modes().await;
    for mode in MODES {
        let client = modes.client(mode);
        let goods = raw(client, &GoodsList::channel(mode, 0, 1).page_size(3)).await;
        assert_no_null("goodsList", &goods);
        let listed = goods["goodsInfoList"].as_array().expect("goods");
        let ids: Vec<String> = listed
            .iter()
            .map(|g| g["goodsId"].as_str().expect("id").to_owned())
            .collect();
        let page_url = listed[0]["destUrl"].as_str().expect("destUrl").to_owned();
        assert_no_null("query", &raw(client, &Query::new(mode, "裙", 1)).await);
        assert_no_null(
            "getByGoodsIds",
            &raw(client, &GetByGoodsIds::new(mode, ids.clone())).await,
        );
        assert_no_null(
            "similarRecommend",
            &raw(client, &SimilarRecommend::new(mode, ids[0].clone())).await,
        );
        assert_no_null(
            "userRecommend",
            &raw(
                client,
                &UserRecommend::new(mode, "IMEI", "e10adc3949ba59abbe56e057f20f883e"),
            )
            .await,
        );
        let links = raw(
            client,
            &GenByGoodsId::new(mode, ids.clone()).chan_tag("pid_n"),
        )
        .await;
        assert_no_null("genByGoodsId", &links);
        let link = links["urlInfoList"][0]["url"]
            .as_str()
            .expect("url")
            .to_owned();
        assert_no_null(
            "genByVIPUrl",
            &raw(client, &GenByVipUrl::new(mode, [page_url.clone()])).await,
        );
        assert_no_null(
            "vipLinkCheck",
            &raw(client, &VipLinkCheck::new(mode, "tests", link.clone())).await,
        );
        assert_no_null(
            "genPid",
            &raw(client, &GenPid::new(mode, ["null-walk"])).await,
        );
        assert_no_null("queryPid", &raw(client, &QueryPid::all(mode, 1)).await);
        for scenario in [
            "settles",
            "unpaid",
            "refund_before_settlement",
            "refund_after_settlement",
            "slow_refund_after_settlement",
            "presale",
        ] {
            env.click(&link, scenario, 2).await;
        }
    }
    let start = env.sandbox.clock().now_ms() - 3_600_000;
    // Each stage: placed, paid, signed, pending, settled, after-sales booked and settled.
    for advance in [
        0,
        3_600,
        DAY_SECS,
        13 * DAY_SECS,
        DAY_SECS,
        3 * DAY_SECS,
        25 * DAY_SECS,
    ] {
        env.advance_clock_secs(advance).await;
        let now = env.sandbox.clock().now_ms();
        for mode in MODES {
            let client = modes.client(mode);
            let orders = raw(
                client,
                &OrderList::by_update_time(mode, start, now).page_size(100),
            )
            .await;
            assert!(
                !orders["orderInfoList"]
                    .as_array()
                    .expect("orders")
                    .is_empty()
            );
            assert_no_null("orderList", &orders);
            for search in [
                RefundSearch::AppliedAt,
                RefundSearch::DeductionBookedAt,
                RefundSearch::DeductionSettledAt,
            ] {
                let refunds = raw(
                    client,
                    &RefundOrderList::new(mode, search, start, now).page_size(100),
                )
                .await;
                assert_no_null("refundOrderList", &refunds);
            }
        }
    }
}
