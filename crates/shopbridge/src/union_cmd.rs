//! `shopbridge union ...`: the Union affiliate API from the shell, tables by default, `--json`.

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use shopbridge_core::money::Decimal;
use shopbridge_vop::time::{format_datetime_ms, parse_datetime_ms};
use shopbridge_vop::union::earnings::{self, GroupBy};
use shopbridge_vop::union::goods::{GoodsInfoResponse, GoodsQueryFlags};
use shopbridge_vop::union::links;
use shopbridge_vop::union::order::{MAX_WINDOW_MS, OrderInfo, windows};
use shopbridge_vop::union::pid::{PidInfo, QueryPid};
use shopbridge_vop::union::{
    GenByGoodsId, GenByVipUrl, GenPid, GetByGoodsIds, GoodsList, OrderList, OrderStatus, Query,
    RefundOrderList, RefundSearch, SimilarRecommend, SortField, UrlGenResponse, UserRecommend,
    VipLinkCheck,
};
use shopbridge_vop::{Mode, VopClient};

use crate::config::VopCredentialArgs;
use crate::vop_cmd::{explain, run_request};

#[derive(Debug, Args)]
pub struct UnionArgs {
    #[command(flatten)]
    credentials: VopCredentialArgs,
    /// Act as a tool provider (工具商) for the user whose access token is configured
    /// (the `...WithOauth` methods); the default is channel mode (渠道商).
    #[arg(long, global = true)]
    tool: bool,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: UnionCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Sort {
    Price,
    Discount,
    Commission,
    CommRate,
    Sales,
}

impl Sort {
    fn field(self) -> SortField {
        match self {
            Sort::Price => SortField::Price,
            Sort::Discount => SortField::Discount,
            Sort::Commission => SortField::Commission,
            Sort::CommRate => SortField::CommissionRate,
            Sort::Sales => SortField::Sales,
        }
    }
}

#[derive(Debug, Args)]
struct Paging {
    /// The page to show, from 1.
    #[arg(long, default_value_t = 1)]
    page: i32,
    /// Goods per page: 1 to 100 (keyword search: 1 to 50).
    #[arg(long, default_value_t = 20)]
    page_size: i32,
    /// Sort on this field, ascending unless --desc (default: the platform's order).
    #[arg(long, value_enum)]
    sort: Option<Sort>,
    /// Sort descending.
    #[arg(long)]
    desc: bool,
}

#[derive(Debug, Subcommand)]
enum UnionCommand {
    /// Goods of a channel (0 超高佣, 1 出单爆款) or a curated list (--jx).
    Goods {
        /// The channel: 0 超高佣 (top commission) or 1 出单爆款 (best sellers).
        #[arg(long, default_value_t = 0, conflicts_with = "jx")]
        channel: i32,
        /// A jxCode (see `shopbridge union jx`).
        #[arg(long)]
        jx: Option<String>,
        #[command(flatten)]
        paging: Paging,
        /// Also ask for stock, reputation, store scores, activities and presale info.
        #[arg(long)]
        details: bool,
    },
    /// Keyword search with an optional price range.
    Search {
        keyword: String,
        /// The lowest price, in yuan (元), e.g. 99.50.
        #[arg(long)]
        min_price: Option<Decimal>,
        /// The highest price, in yuan (元), e.g. 199.
        #[arg(long)]
        max_price: Option<Decimal>,
        #[command(flatten)]
        paging: Paging,
    },
    /// Details of at most 10 goods.
    Ids { goods_ids: Vec<String> },
    /// Goods similar to one goods item.
    Similar { goods_id: String },
    /// Recommendations for a device (device type and the MD5 of its id).
    Recommend {
        /// The kind of device id: IMEI, IDFA, OAID...
        #[arg(long)]
        device_type: String,
        /// The MD5 (hex) of the device id.
        #[arg(long)]
        device_value: String,
    },
    /// The curated lists' jxCodes.
    Jx,
    /// Tracking links for goods ids or Vipshop URLs; `link splice` rewrites a link offline.
    #[command(args_conflicts_with_subcommands = true)]
    Link {
        #[command(subcommand)]
        splice: Option<LinkCommand>,
        /// Goods ids, or m.vip.com / mst.vip.com URLs.
        targets: Vec<String>,
        /// The PID (chanTag) orders from the links are attributed to: at most 128 bytes, no `:`.
        #[arg(long)]
        chan_tag: Option<String>,
        /// A statistics parameter of yours (statParam), returned with the orders: at most 128
        /// bytes, no `:`.
        #[arg(long)]
        stat_param: Option<String>,
    },
    /// Find Vipshop links and goods ids in a text (--offline: without calling the platform).
    Check {
        text: String,
        /// Look at the text only, without calling the platform (no credentials needed).
        #[arg(long)]
        offline: bool,
    },
    /// Orders updated (or placed, with --by-order-time) in a period; windows of 3 days are
    /// walked automatically.
    Orders {
        /// Start: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` (Beijing time) or epoch milliseconds.
        #[arg(long)]
        from: Option<String>,
        /// End (default: now).
        #[arg(long)]
        to: Option<String>,
        /// Select orders by when they were placed instead of when they were last updated.
        #[arg(long)]
        by_order_time: bool,
        /// 0 不合格, 1 待定, 2 已完结.
        #[arg(long)]
        status: Option<i16>,
        /// Specific order numbers instead of a period.
        #[arg(long = "sn")]
        order_sns: Vec<String>,
    },
    /// Orders refunded after settlement (commission deductions).
    Refunds {
        /// Start: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` (Beijing time) or epoch milliseconds
        /// (default: 7 days before --to; at most 92 days per run).
        #[arg(long)]
        from: Option<String>,
        /// End, in the same formats (default: now).
        #[arg(long)]
        to: Option<String>,
        /// Which time falls in the period: when the refund was applied for, when its commission
        /// deduction was booked, or when that deduction was settled.
        #[arg(long, value_enum, default_value = "settled")]
        by: RefundBy,
    },
    /// PIDs: list them, or create some with `pids gen NAME...`.
    Pids {
        #[command(subcommand)]
        command: Option<PidCommand>,
    },
    /// Settled commission minus after-settlement refunds, per PID, statParam or in total.
    Earnings {
        /// Start: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` (Beijing time) or epoch milliseconds
        /// (default: 30 days before --to; at most 92 days per run).
        #[arg(long)]
        from: Option<String>,
        /// End, in the same formats (default: now).
        #[arg(long)]
        to: Option<String>,
        /// One row per PID (chanTag), one per statParam, or a single total.
        #[arg(long, value_enum, default_value = "pid")]
        by: EarningsBy,
    },
}

#[derive(Debug, Subcommand)]
enum LinkCommand {
    /// Splice or replace chanTag/statParam in a link, offline; prints the link as its last line.
    Splice {
        link: String,
        /// The PID (chanTag) to put in the link: at most 128 bytes, no `:`.
        #[arg(long)]
        chan_tag: Option<String>,
        /// The statistics parameter (statParam) to put in the link: at most 128 bytes, no `:`.
        #[arg(long)]
        stat_param: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum PidCommand {
    /// Create PIDs (at most 100 names, each at most 50 characters).
    Gen { names: Vec<String> },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RefundBy {
    Applied,
    Booked,
    Settled,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EarningsBy {
    Pid,
    Stat,
    Total,
}

/// Reads `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` (Beijing time) or epoch milliseconds.
pub fn parse_time(flag: &str, text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    if text.len() >= 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .with_context(|| format!("{flag}: {text:?} is not a number"));
    }
    let full = if text.len() == 10 {
        format!("{text} 00:00:00")
    } else {
        text.replace('T', " ")
    };
    parse_datetime_ms(&full).with_context(|| {
        format!("{flag}: expected YYYY-MM-DD, \"YYYY-MM-DD HH:MM:SS\" (Beijing time) or epoch milliseconds, got {text:?}")
    })
}

fn period(
    from: &Option<String>,
    to: &Option<String>,
    now: i64,
    default_days: i64,
) -> anyhow::Result<(i64, i64)> {
    let end = to
        .as_deref()
        .map(|t| parse_time("--to", t))
        .transpose()?
        .unwrap_or(now);
    let start = match from {
        Some(text) => parse_time("--from", text)?,
        None => end - default_days * 24 * 3_600_000,
    };
    if start >= end {
        bail!("--from must be before --to");
    }
    // Each 3-day window costs calls against a 180-per-30-s quota: keep one run reasonable.
    const MAX_DAYS: i64 = 92;
    if end - start > MAX_DAYS * 24 * 3_600_000 {
        bail!(
            "--from/--to: at most {MAX_DAYS} days per run (the API is walked in 3-day windows); split the period"
        );
    }
    Ok((start, end))
}

fn money(amount: Option<Decimal>) -> String {
    amount.map_or_else(|| "-".to_owned(), |a| a.to_string())
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn print_goods(answer: &GoodsInfoResponse, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(answer);
    }
    println!(
        "{} goods (page {}, {} shown)",
        answer.total,
        answer.page,
        answer.goods_info_list.len()
    );
    println!(
        "{:<20} {:>10} {:>10} {:>7}  name",
        "goods id", "price", "commission", "rate%"
    );
    for goods in &answer.goods_info_list {
        println!(
            "{:<20} {:>10} {:>10} {:>7}  {}",
            goods.goods_id,
            money(goods.vip_price),
            money(goods.commission),
            money(goods.commission_rate),
            goods.goods_name.as_deref().unwrap_or("-"),
        );
    }
    Ok(())
}

fn print_links(answer: &UrlGenResponse, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(answer);
    }
    for info in &answer.url_info_list {
        println!("source: {}", info.source.as_deref().unwrap_or("-"));
        let types = [
            ("url", &info.url),
            ("longUrl", &info.long_url),
            ("ulUrl", &info.ul_url),
            ("deeplinkUrl", &info.deeplink_url),
            ("traFrom", &info.tra_from),
            ("noEvokeUrl", &info.no_evoke_url),
            ("noEvokeLongUrl", &info.no_evoke_long_url),
            ("vipWxUrl", &info.vip_wx_url),
            ("vipQuickAppUrl", &info.vip_quick_app_url),
        ];
        for (name, value) in types {
            if let Some(value) = value {
                println!("  {name:<15} {value}");
            }
        }
    }
    Ok(())
}

fn print_orders(orders: &[OrderInfo], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&orders);
    }
    println!("{} orders", orders.len());
    println!(
        "{:<18} {:<8} {:>10}  {:<19}  {:<16} statParam",
        "order sn", "stage", "commission", "updated", "pid"
    );
    for order in orders {
        println!(
            "{:<18} {:<8} {:>10}  {:<19}  {:<16} {}",
            order.order_sn,
            order.order_sub_status_name.as_deref().unwrap_or("-"),
            money(order.commission),
            format_datetime_ms(order.last_update_time),
            order.chan_tag().unwrap_or("-"),
            order.stat_param.as_deref().unwrap_or("-"),
        );
    }
    Ok(())
}

fn print_pids(pids: &[PidInfo], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&pids);
    }
    for pid in pids {
        println!(
            "{:<16} {:<30} {}",
            pid.pid,
            pid.pid_name.as_deref().unwrap_or("-"),
            pid.create_time.map(format_datetime_ms).unwrap_or_default()
        );
    }
    Ok(())
}

/// `link splice` needs no credentials, so it runs before any client is built.
fn splice(link: &str, chan_tag: Option<&str>, stat_param: Option<&str>) -> anyhow::Result<()> {
    let spliced = links::splice(link, chan_tag, stat_param)?;
    for warning in &spliced.warnings {
        eprintln!("warning: {warning}");
    }
    println!("{}", spliced.link);
    Ok(())
}

fn check_offline(text: &str, json: bool) -> anyhow::Result<()> {
    let found = links::detect(text);
    if json {
        let links: Vec<serde_json::Value> = found
            .links
            .iter()
            .map(|link| serde_json::json!({"link": link.link, "linkType": link.link_type, "goodsId": link.goods_id, "brandId": link.brand_id}))
            .collect();
        return print_json(&serde_json::json!({"links": links, "goodsIds": found.goods_ids}));
    }
    for link in &found.links {
        println!(
            "{:?}\t{}\t{}",
            link.link_type,
            link.goods_id.as_deref().unwrap_or("-"),
            link.link
        );
    }
    println!("goods ids: {}", found.goods_ids.join(", "));
    Ok(())
}

pub async fn run(args: UnionArgs) -> anyhow::Result<()> {
    let json = args.json;
    match &args.command {
        UnionCommand::Link {
            splice:
                Some(LinkCommand::Splice {
                    link,
                    chan_tag,
                    stat_param,
                }),
            ..
        } => return splice(link, chan_tag.as_deref(), stat_param.as_deref()),
        UnionCommand::Check {
            text,
            offline: true,
        } => return check_offline(text, json),
        UnionCommand::Jx => {
            for (code, name) in shopbridge_vop::union::JX_CODES {
                println!("{code}\t{name}");
            }
            return Ok(());
        }
        _ => {}
    }
    let mode = if args.tool {
        Mode::ToolProvider
    } else {
        Mode::Channel
    };
    let client = args.credentials.client().await?;
    if args.tool && client.config().access_token.is_none() {
        bail!(
            "--tool needs the authorized user's access token: set SHOPBRIDGE_VOP_ACCESS_TOKEN or --access-token"
        );
    }
    let now = client_now(&client);
    match args.command {
        UnionCommand::Goods {
            channel,
            jx,
            paging,
            details,
        } => {
            let mut request = match jx {
                Some(code) => GoodsList::curated(mode, code, paging.page),
                None => GoodsList::channel(mode, channel, paging.page),
            }
            .page_size(paging.page_size);
            if let Some(sort) = paging.sort {
                request = request.sort_by(sort.field(), paging.desc);
            }
            if details {
                request = request.flags(GoodsQueryFlags::all());
            }
            print_goods(&run_request(&client, &request).await?, json)?;
        }
        UnionCommand::Search {
            keyword,
            min_price,
            max_price,
            paging,
        } => {
            let mut request = Query::new(mode, keyword, paging.page)
                .page_size(paging.page_size)
                .price_range(min_price, max_price);
            if let Some(sort) = paging.sort {
                request = request.sort_by(sort.field(), paging.desc);
            }
            print_goods(&run_request(&client, &request).await?, json)?;
        }
        UnionCommand::Ids { goods_ids } => {
            let goods = run_request(&client, &GetByGoodsIds::new(mode, goods_ids)).await?;
            let total = goods.len() as i64;
            print_goods(
                &GoodsInfoResponse {
                    goods_info_list: goods,
                    total,
                    page: 1,
                    page_size: total as i32,
                    sort_fields: Vec::new(),
                },
                json,
            )?;
        }
        UnionCommand::Similar { goods_id } => {
            print_goods(
                &run_request(&client, &SimilarRecommend::new(mode, goods_id)).await?,
                json,
            )?;
        }
        UnionCommand::Recommend {
            device_type,
            device_value,
        } => {
            print_goods(
                &run_request(
                    &client,
                    &UserRecommend::new(mode, device_type, device_value),
                )
                .await?,
                json,
            )?;
        }
        UnionCommand::Link {
            targets,
            chan_tag,
            stat_param,
            ..
        } => {
            if targets.is_empty() {
                bail!("give goods ids or Vipshop URLs to link (or `link splice URL`)");
            }
            let urls = targets
                .iter()
                .any(|t| t.starts_with("http://") || t.starts_with("https://"));
            let answer = if urls {
                let mut request = GenByVipUrl::new(mode, targets);
                request.chan_tag = chan_tag;
                request.stat_param = stat_param;
                for warning in request.warnings() {
                    eprintln!("warning: {warning}");
                }
                run_request(&client, &request).await?
            } else {
                let mut request = GenByGoodsId::new(mode, targets);
                request.chan_tag = chan_tag;
                request.stat_param = stat_param;
                run_request(&client, &request).await?
            };
            print_links(&answer, json)?;
        }
        UnionCommand::Check { text, .. } => {
            let answer =
                run_request(&client, &VipLinkCheck::new(mode, "shopbridge-cli", text)).await?;
            if json {
                print_json(&answer)?;
            } else {
                for (link, found) in &answer.success_map {
                    println!(
                        "{:?}\t{}\t{link}",
                        found.link_type,
                        found.goods_id.as_deref().unwrap_or("-")
                    );
                }
                for (link, found) in &answer.fail_map {
                    println!("{:?}\t-\t{link}", found.link_type);
                }
            }
        }
        UnionCommand::Orders {
            from,
            to,
            by_order_time,
            status,
            order_sns,
        } => {
            let status = status
                .map(|code| {
                    OrderStatus::from_code(code)
                        .with_context(|| format!("--status: expected 0, 1 or 2, got {code}"))
                })
                .transpose()?;
            let orders = if !order_sns.is_empty() {
                let mut list = OrderList::by_order_sns(mode, order_sns).page_size(100);
                if let Some(status) = status {
                    list = list.status(status);
                }
                run_request(&client, &list).await?.order_info_list
            } else {
                let (start, end) = period(&from, &to, now, 1)?;
                if by_order_time {
                    let mut all = Vec::new();
                    for (from, to) in windows(start, end, MAX_WINDOW_MS) {
                        let mut page = 1;
                        loop {
                            let mut list = OrderList::by_order_time(mode, from, to - 1)
                                .page_size(100)
                                .page(page);
                            if let Some(status) = status {
                                list = list.status(status);
                            }
                            let answer = run_request(&client, &list).await?;
                            let got = answer.order_info_list.len();
                            all.extend(answer.order_info_list);
                            if got < 100 {
                                break;
                            }
                            page += 1;
                        }
                    }
                    all
                } else {
                    earnings::orders_updated_between(&client, mode, start, end, status)
                        .await
                        .map_err(explain)?
                }
            };
            print_orders(&orders, json)?;
        }
        UnionCommand::Refunds { from, to, by } => {
            let (start, end) = period(&from, &to, now, 7)?;
            let search = match by {
                RefundBy::Applied => RefundSearch::AppliedAt,
                RefundBy::Booked => RefundSearch::DeductionBookedAt,
                RefundBy::Settled => RefundSearch::DeductionSettledAt,
            };
            let mut refunds = Vec::new();
            for (from, to) in windows(start, end, MAX_WINDOW_MS) {
                let answer = run_request(
                    &client,
                    &RefundOrderList::new(mode, search, from, to - 1).page_size(100),
                )
                .await?;
                refunds.extend(answer.refund_order_info_list);
            }
            if json {
                print_json(&refunds)?;
            } else {
                println!("{} refunds after settlement", refunds.len());
                for refund in &refunds {
                    println!(
                        "{:<18} deduction {:>10}  applied {}",
                        refund.order_sn,
                        money(refund.commission),
                        refund
                            .apply_time
                            .map(format_datetime_ms)
                            .unwrap_or_default()
                    );
                }
            }
        }
        UnionCommand::Pids { command } => match command {
            Some(PidCommand::Gen { names }) => {
                let answer = run_request(&client, &GenPid::new(mode, names)).await?;
                if json {
                    print_json(&answer)?;
                } else {
                    print_pids(&answer.pid_info_list, false)?;
                    println!(
                        "{} more PIDs may be created (cap {})",
                        answer.remain_pid_count,
                        shopbridge_vop::union::PID_CAP
                    );
                }
            }
            None => {
                let mut all = Vec::new();
                let mut page = 1;
                loop {
                    let answer =
                        run_request(&client, &QueryPid::all(mode, page).page_size(100)).await?;
                    let got = answer.pid_info_list.len();
                    all.extend(answer.pid_info_list);
                    if got < 100 || all.len() as i64 >= answer.total {
                        break;
                    }
                    page += 1;
                }
                print_pids(&all, json)?;
            }
        },
        UnionCommand::Earnings { from, to, by } => {
            let (start, end) = period(&from, &to, now, 30)?;
            let group_by = match by {
                EarningsBy::Pid => GroupBy::ChanTag,
                EarningsBy::Stat => GroupBy::StatParam,
                EarningsBy::Total => GroupBy::Total,
            };
            let report = earnings::fetch_report(&client, mode, start, end, group_by)
                .await
                .map_err(explain)?;
            if json {
                print_json(&report)?;
            } else {
                print_earnings(&report);
            }
        }
        UnionCommand::Jx => {}
    }
    Ok(())
}

fn client_now(client: &VopClient) -> i64 {
    client.clock().now_ms()
}

/// The earnings table.
pub fn print_earnings(report: &earnings::EarningsReport) {
    println!(
        "earnings {} .. {} (Beijing time)",
        format_datetime_ms(report.start_ms),
        format_datetime_ms(report.end_ms)
    );
    println!(
        "{:<20} {:>7} {:>12} {:>8} {:>12} {:>12}",
        "key", "settled", "commission", "refunds", "deduction", "net"
    );
    for row in report.rows.iter().chain(std::iter::once(&report.total)) {
        println!(
            "{:<20} {:>7} {:>12} {:>8} {:>12} {:>12}",
            row.key,
            row.settled_orders,
            row.settled_commission,
            row.refunded_orders,
            row.refund_deduction,
            row.net
        );
    }
}
