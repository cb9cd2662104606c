//! `shopbridge demo`: the whole VOP story against an embedded sandbox, printed step by step.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use shopbridge_core::Clock;
use shopbridge_core::capability::Connector;
use shopbridge_core::codes::RefundStatus;
use shopbridge_core::codes::{OrderStatus, ShopType};
use shopbridge_core::error::Classify;
use shopbridge_core::model::{
    Address, Order, OrderLine, OrderQuery, OrderTimeType, Shipment, StockMode, StockUpdate,
};
use shopbridge_core::money::Decimal;
use shopbridge_sandbox::{Sandbox, SandboxConfig, browser};
use shopbridge_vop::jit::connector::JitConnector;
use shopbridge_vop::union::earnings::{self, GroupBy};
use shopbridge_vop::union::links;
use shopbridge_vop::union::{GenByGoodsId, GenPid, GetByGoodsIds, GoodsList, SortField};
use shopbridge_vop::{Mode, VopClient, VopConfig};
use shopbridge_winit::actions::QueryWarehouse;
use shopbridge_winit::connector::WinitConnector;
use shopbridge_winit::{WinitClient, WinitConfig};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the embedded sandbox listens (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Seed of the sandbox's generated data.
    #[arg(long, default_value_t = SandboxConfig::default().seed)]
    seed: u64,
}

fn step(n: u32, title: &str) {
    println!("\n[{n}] {title}");
}

fn mask(secret: &SecretString) -> String {
    let shown: String = secret.expose_secret().chars().take(6).collect();
    format!("{shown}…")
}

fn money(amount: Option<Decimal>) -> String {
    amount.map_or_else(|| "-".to_owned(), |a| a.to_string())
}

const DAY_SECS: i64 = 86_400;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let running = Sandbox::new(SandboxConfig {
        seed: args.seed,
        ..SandboxConfig::default()
    })
    .start(args.addr)
    .await
    .context("cannot start the embedded sandbox")?;
    let creds = running.credentials();
    let base = running.base_url();
    println!("shopbridge demo — embedded VOP sandbox at {base}");
    let http = shopbridge_vop::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;

    let config = VopConfig::new(
        creds.vop.app_key.clone(),
        SecretString::from(creds.vop.app_secret.clone()),
    )
    .with_gateway_url(&running.vop_gateway_url())?
    .with_oauth_url(&running.vop_oauth_url())?;
    let client = VopClient::with_clock(config, Arc::new(running.clock()))?;

    step(
        1,
        "Channel mode (渠道商): goodsList, 超高佣 channel, top 5 by commission",
    );
    let list = GoodsList::channel(Mode::Channel, 0, 1)
        .page_size(5)
        .sort_by(SortField::Commission, true);
    let goods = client.execute(&list).await?;
    println!("    {} goods in the channel; first page:", goods.total);
    for item in &goods.goods_info_list {
        println!(
            "    {}  ¥{:>8}  commission ¥{:>7} ({:>5}%)  {}",
            item.goods_id,
            money(item.vip_price),
            money(item.commission),
            money(item.commission_rate),
            item.goods_name.as_deref().unwrap_or("-"),
        );
    }
    let first = goods
        .goods_info_list
        .first()
        .context("the sandbox returned no goods")?;
    if let Some(last) = client.last_invocation() {
        println!(
            "    last call: sign={} request_id={} latency={}ms",
            last.sign,
            last.request_id,
            last.latency.as_millis()
        );
    }

    step(
        2,
        "Channel mode: getByGoodsIds, a PID, and a tracking link for it",
    );
    let details = client
        .execute(&GetByGoodsIds::new(Mode::Channel, [first.goods_id.clone()]))
        .await?;
    let detail = details.first().context("no details")?;
    println!(
        "    {}: {} in {}",
        first.goods_id,
        detail.goods_name.as_deref().unwrap_or("-"),
        detail.category_name.as_deref().unwrap_or("-")
    );
    let pids = client
        .execute(&GenPid::new(Mode::Channel, ["公众号推广", "社群推广"]))
        .await?;
    let pid = pids
        .pid_info_list
        .first()
        .context("no PID created")?
        .pid
        .clone();
    println!(
        "    PIDs created: {} ({} more allowed)",
        pids.pid_info_list.len(),
        pids.remain_pid_count
    );
    let links_answer = client
        .execute(
            &GenByGoodsId::new(Mode::Channel, [first.goods_id.clone()])
                .chan_tag(pid.clone())
                .stat_param("demo"),
        )
        .await?;
    let link = links_answer
        .url_info_list
        .first()
        .context("no link generated")?;
    let short = link.url.clone().context("no short link")?;
    let deeplink = link.deeplink_url.clone().context("no deeplink")?;
    println!("    url:         {short}");
    println!("    deeplinkUrl: {deeplink}");
    let other_pid = pids
        .pid_info_list
        .get(1)
        .map(|p| p.pid.clone())
        .context("second PID")?;
    let spliced = links::splice(&deeplink, Some(&other_pid), None)?;
    println!("    spliced offline for PID {other_pid}: {}", spliced.link);

    step(
        3,
        "Buyers click: orders arrive, attributed to the PIDs in the links",
    );
    let mut clicks = Vec::new();
    for (link, scenario, orders) in [
        (&short, "settles", 3),
        (&short, "refund_after_settlement", 1),
        (&spliced.link, "settles", 2),
        (&spliced.link, "refund_before_settlement", 1),
        (&short, "unpaid", 1),
    ] {
        let answer: serde_json::Value = http
            .post(format!("{base}/_sandbox/vop/union/clicks"))
            .json(&json!({"link": link, "scenario": scenario, "orders": orders}))
            .send()
            .await?
            .json()
            .await?;
        let created = answer["orders"]
            .as_array()
            .context("clicks answered no orders")?;
        clicks.extend(created.iter().cloned());
    }
    println!("    {} orders placed", clicks.len());

    step(
        4,
        "15 days later on the sandbox clock: orders have settled; earnings per PID",
    );
    let start = running.clock().now_ms() - 60_000;
    running.clock().advance_secs(15 * DAY_SECS);
    let now = running.clock().now_ms();
    let orders = earnings::orders_updated_between(&client, Mode::Channel, start, now, None).await?;
    for stage in ["已结算", "已失效"] {
        let count = orders
            .iter()
            .filter(|o| o.order_sub_status_name.as_deref() == Some(stage))
            .count();
        println!("    {count} orders {stage}");
    }
    let report =
        earnings::fetch_report(&client, Mode::Channel, start, now, GroupBy::ChanTag).await?;
    for row in &report.rows {
        println!(
            "    PID {:<14} settled {} orders ¥{:>8}  refunds {} −¥{:>7}  net ¥{:>8}",
            row.key,
            row.settled_orders,
            row.settled_commission,
            row.refunded_orders,
            row.refund_deduction,
            row.net
        );
    }
    println!("    total net commission ¥{}", report.total.net);

    step(
        5,
        "OAuth (工具商): a union user signs in on the sandbox's login page and approves",
    );
    let (username, password) = creds
        .vop
        .user("union")
        .map(|user| (user.username.clone(), user.password.clone()))
        .context("no union demo user")?;
    let redirect_uri = creds
        .vop
        .redirect_uris
        .first()
        .context("no redirect URI")?
        .clone();
    let authorize_url = client.authorize_url(&redirect_uri, Some("demo-state"))?;
    println!("    authorize:   {authorize_url}");
    let decision =
        browser::authorize(&http, authorize_url.as_str(), &username, &password, true).await?;
    let callback = decision
        .location
        .context("the consent page did not redirect back")?;
    let code = shopbridge_vop::oauth::parse_callback(&callback)?;
    println!(
        "    redirected:  {}?code=…&state={}",
        redirect_uri,
        code.state.as_deref().unwrap_or("-")
    );
    let token = client
        .exchange_code(&code.code, &redirect_uri, "127.0.0.1")
        .await?;
    println!(
        "    token:       {} expires in {} days, open_id {}",
        mask(&token.access_token),
        token.expires_in / DAY_SECS,
        token.open_id.as_deref().unwrap_or("-")
    );
    let info = client.token_info(&token.access_token).await?;
    println!(
        "    token_info:  {} s left, type {}",
        info.expires_in,
        info.token_type.as_deref().unwrap_or("-")
    );

    step(
        6,
        "Tool-provider mode: goodsListWithOauth and genByGoodsIdWithOauth for the user",
    );
    let tool = client.with_access_token(token.access_token.clone());
    let tool_goods = tool
        .execute(&GoodsList::channel(Mode::ToolProvider, 1, 1).page_size(3))
        .await?;
    println!("    {} goods in 出单爆款 for {username}", tool_goods.total);
    let tool_links = tool
        .execute(
            &GenByGoodsId::new(Mode::ToolProvider, [first.goods_id.clone()]).chan_tag("user_pid"),
        )
        .await?;
    println!(
        "    the user's link: {}",
        tool_links
            .url_info_list
            .first()
            .and_then(|l| l.url.as_deref())
            .unwrap_or("-")
    );

    step(
        7,
        "JIT supplier (唯品会JIT): the vendor authorizes; 订单下载, 发货同步, 库存同步, 退款检查",
    );
    let vendor = creds
        .vop
        .user("vendor")
        .context("no vendor demo user")?
        .clone();
    let vendor_id = vendor
        .vendor_id
        .context("the vendor user has no vendor id")?;
    let decision = browser::authorize(
        &http,
        authorize_url.as_str(),
        &vendor.username,
        &vendor.password,
        true,
    )
    .await?;
    let code = shopbridge_vop::oauth::parse_callback(&decision.location.context("no redirect")?)?;
    let session_key = client
        .exchange_code(&code.code, &redirect_uri, "127.0.0.1")
        .await?;
    let jit = JitConnector::new(
        client.with_access_token(session_key.access_token),
        vendor_id,
    );
    let now = running.clock().now_ms();
    let query = OrderQuery {
        status: OrderStatus::WaitSellerSend,
        plat_order_no: None,
        time_type: OrderTimeType::Created,
        start_ms: now - 30 * DAY_SECS * 1000,
        end_ms: now,
        page: 1,
        page_size: 50,
        shop_type: Some(ShopType::Jitx),
    };
    let waiting = jit.orders()?.get_orders(&query).await?;
    println!(
        "    vendor {vendor_id}: {} direct-ship orders waiting to ship",
        waiting.total
    );
    let order = waiting.items.first().context("no order to ship")?;
    let shipment = Shipment {
        plat_order_no: order.plat_order_no.clone(),
        logistic_type: "JH_014".into(),
        logistic_no: "SF1234567890".into(),
        logistic_name: None,
        lines: Vec::new(),
        warehouse: None,
        shop_type: Some(ShopType::Jitx),
    };
    jit.shipping()?.send(&shipment).await?;
    println!(
        "    shipped {} with 顺丰 (JH_014) SF1234567890: {} lines, ¥{}",
        order.plat_order_no,
        order.lines.len(),
        order.total_amount
    );
    let barcode = order
        .lines
        .first()
        .context("an order line")?
        .outer_id
        .clone()
        .context("a barcode")?;
    let stock = jit
        .stock()?
        .sync_stock(&StockUpdate {
            product_id: None,
            sku_id: None,
            outer_id: barcode.clone(),
            quantity: 88,
            mode: StockMode::Full,
            warehouse: Some("VIP_NH".into()),
            circuit_break_ack: true,
            batch_no: None,
        })
        .await?;
    println!("    stock of {barcode} in VIP_NH is now {}", stock.quantity);
    let check = jit.refunds()?.check_refund(&order.plat_order_no).await?;
    println!(
        "    refund check: {} {}",
        check.status.code(),
        check.status.description()
    );

    step(
        8,
        "Winit (万邑通) overseas warehouse: an outbound order from a unified order, tracked",
    );
    let w = &creds.winit;
    let winit = WinitConnector::new(WinitClient::with_clock(
        WinitConfig::new(
            w.app_key.clone(),
            w.token.clone(),
            w.client_id.clone(),
            w.client_secret.clone(),
            w.platform.clone(),
        )
        .with_endpoint(&running.winit_endpoint())?,
        Arc::new(running.clock()),
    )?);
    let warehouses = winit.client().execute(&QueryWarehouse {}).await?;
    let codes: Vec<String> = warehouses
        .iter()
        .filter_map(|w| w.warehouse_code.clone())
        .collect();
    println!("    {} warehouses: {}", warehouses.len(), codes.join(", "));
    let overseas = Order {
        plat_order_no: "DEMO-EXPORT-1".into(),
        status: OrderStatus::WaitSellerSend,
        shop_type: ShopType::Normal,
        created_at_ms: running.clock().now_ms(),
        modified_at_ms: running.clock().now_ms(),
        paid_at_ms: None,
        receiver: Address {
            receiver_name: "Max Mustermann".into(),
            mobile: Some("+49 151 0000000".into()),
            country: Some("DE".into()),
            province: "Hessen".into(),
            city: "Frankfurt am Main".into(),
            address: "Zeil".into(),
            house_number: Some("12".into()),
            zip: Some("60311".into()),
            ..Address::default()
        },
        goods_fee: Decimal::ZERO,
        post_fee: Decimal::ZERO,
        total_amount: Decimal::ZERO,
        real_paid: Decimal::ZERO,
        discount: Decimal::ZERO,
        warehouse: None,
        buyer_remark: None,
        seller_remark: None,
        logistic_no: None,
        logistic_name: None,
        lines: vec![OrderLine {
            sub_order_no: "1".into(),
            product_id: "SKU-3".into(),
            sku_id: None,
            outer_id: Some("SKU-3".into()),
            name: "Test product 3".into(),
            spec: None,
            count: 2,
            price: Decimal::ONE,
            refund_status: RefundStatus::NoRefund,
            status: None,
        }],
    };
    let outbound = winit
        .create_shipment(&overseas, 1_000_089, 1_000_120)
        .await?;
    println!(
        "    outbound order {outbound} from DE0001 by DHL Paket (the house number is required there)"
    );
    running.clock().advance_secs(7 * 3600);
    let tracked = winit
        .tracking(&outbound)
        .await?
        .context("no tracking number after dispatch")?;
    println!(
        "    7 hours later: {} {} ({}), ready to report to the sales platform with Send",
        tracked.logistic_type,
        tracked.logistic_no,
        tracked.logistic_name.as_deref().unwrap_or("-")
    );

    hub_chapter(&running).await?;

    step(
        10,
        "A mistake, and the typed error that explains it (wrong app secret)",
    );
    let wrong = VopClient::with_clock(
        VopConfig::new(
            creds.vop.app_key.clone(),
            SecretString::from("not-the-secret"),
        )
        .with_gateway_url(&running.vop_gateway_url())?,
        Arc::new(running.clock()),
    )?;
    match wrong
        .execute(&GoodsList::channel(Mode::Channel, 0, 1))
        .await
    {
        Ok(_) => bail!("the sandbox accepted a wrong signature"),
        Err(err) => println!("    {:?}: {err}", err.class()),
    }

    step(
        11,
        "90 days later: the token has expired, the refresh token has not",
    );
    running.clock().advance_secs(90 * DAY_SECS + 60);
    match tool
        .execute(&GoodsList::channel(Mode::ToolProvider, 1, 1))
        .await
    {
        Ok(_) => bail!("an expired token was accepted"),
        Err(err) => println!(
            "    needs re-authorization: {} ({err})",
            err.needs_reauthorization()
        ),
    }
    let refresh = token
        .refresh_token
        .clone()
        .context("no refresh token issued")?;
    let refreshed = client.refresh_token(&refresh, "127.0.0.1").await?;
    println!(
        "    refreshed:   {} expires in {} days",
        mask(&refreshed.access_token),
        refreshed.expires_in / DAY_SECS
    );
    let renewed = client.with_access_token(refreshed.access_token.clone());
    renewed
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await?;
    println!("    calls work again with the refreshed token");

    step(12, "Revoke: the user withdraws the authorization");
    client.revoke_token(&refreshed.access_token).await?;
    match client.token_info(&refreshed.access_token).await {
        Ok(_) => bail!("a revoked token is still valid"),
        Err(err) => println!("    token_info: {err}"),
    }

    println!("\ndone: every step above ran against the embedded sandbox over HTTP.");
    running.stop().await;
    Ok(())
}

/// The hub: shops connected through it, synced, and served to an ERP through `/openapi/do`.
async fn hub_chapter(running: &shopbridge_sandbox::RunningSandbox) -> anyhow::Result<()> {
    step(
        9,
        "The hub: shops connect through it, sync, and an ERP is served through /openapi/do",
    );
    let (vop, winit) = crate::config::embedded_clients(running)?;
    let clock: Arc<dyn Clock> = Arc::new(running.clock());
    let path = std::env::temp_dir().join(format!(
        "shopbridge-demo-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let store = shopbridge_store::Store::open(
        &format!("sqlite://{}", path.display()),
        shopbridge_store::Vault::new(shopbridge_store::MasterKey::generate()),
    )
    .await?;
    let hub = crate::serve::start_hub(crate::serve::HubParts {
        store: store.clone(),
        vop,
        winit: Some(winit),
        clock: clock.clone(),
        gate: shopbridge_hub::QuotaGate::new(clock),
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        public_url: None,
        demo_credentials: None,
        poll: std::time::Duration::from_secs(3600),
        webhook_targets: Default::default(),
        trust_forwarded_for: false,
        metrics_token: None,
    })
    .await?;
    let creds = crate::serve::connect_demo_shops(&store, running, &hub.url).await?;
    let appkey = creds["appkey"].as_str().context("appkey")?;
    let secret = creds["appsecret"].as_str().context("appsecret")?;
    println!("    hub at {}; tenant {appkey} connected:", hub.url);
    for shop in creds["shops"].as_array().into_iter().flatten() {
        println!(
            "      platid {}  {} ({} {})",
            shop["platid"].as_str().unwrap_or_default(),
            shop["name"].as_str().unwrap_or_default(),
            shop["platform"].as_str().unwrap_or_default(),
            shop["mode"].as_str().unwrap_or_default()
        );
    }
    let jit = creds["shops"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["platid"] == "9002")
        .context("no JIT shop")?;
    let token = jit["token"].as_str().context("token")?;
    let http = shopbridge_vop::http_client_builder().build()?;
    let sync_now = || async {
        let runs: serde_json::Value = http
            .post(format!("{}/v1/sync/run", hub.url))
            .bearer_auth(format!("{appkey}:{secret}"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        anyhow::Ok(runs)
    };
    let runs = sync_now().await?;
    let runs = runs["runs"].as_array().cloned().unwrap_or_default();
    println!(
        "    POST /v1/sync/run: {} streams synced ({} records changed)",
        runs.len(),
        runs.iter()
            .filter_map(|r| r["changed"].as_u64())
            .sum::<u64>()
    );

    let mut erp = crate::serve::PolyCaller::new(&hub.url, appkey, secret)?;
    // The hub runs on the sandbox's simulated clock: the ERP's timestamps follow it.
    erp.clock = Arc::new(running.clock());
    let now = running.clock().now_ms();
    let window = json!({
        "OrderStatus": "JH_99",
        "TimeType": "JH_02",
        "StartTime": shopbridge_vop::time::format_datetime_ms(now - 30 * DAY_SECS * 1000),
        "EndTime": shopbridge_vop::time::format_datetime_ms(now),
        "PageSize": 50,
    });
    let answer = erp
        .ok(token, "9002", "Differ.JH.Business.GetOrder", &window)
        .await?;
    let orders = answer["orders"].as_array().cloned().unwrap_or_default();
    println!(
        "    Differ.JH.Business.GetOrder: {} orders ({} ms in the hub)",
        answer["numtotalorder"], answer["polyapitotalms"]
    );
    for order in orders.iter().take(3) {
        println!(
            "      {}  {} {}  ¥{}",
            order["platorderno"].as_str().unwrap_or_default(),
            order["tradestatus"].as_str().unwrap_or_default(),
            order["tradestatusdescription"].as_str().unwrap_or_default(),
            order["totalmoney"].as_str().unwrap_or_default()
        );
    }
    let waiting = orders
        .iter()
        .find(|o| o["tradestatus"] == "JH_02")
        .context("no order waiting to ship")?;
    let number = waiting["platorderno"].as_str().context("order number")?;
    erp.ok(
        token,
        "9002",
        "Differ.JH.Business.Send",
        &json!({"PlatOrderNo": number, "LogisticType": "JH_014", "LogisticNo": "SF2026112200", "IsSplit": 0}),
    )
    .await?;
    println!("    Differ.JH.Business.Send: {number} shipped with 顺丰 (JH_014) SF2026112200");
    let barcode = waiting["goodinfos"][0]["tradegoodsno"]
        .as_str()
        .context("barcode")?;
    let push = json!({"OuterID": barcode, "Quantity": 25, "WhseCode": "VIP_NH"});
    let refused = erp
        .call(token, "9002", "Differ.JH.Business.SyncStock", &push)
        .await?;
    println!(
        "    Differ.JH.Business.SyncStock {barcode} to 25: {} {}",
        refused["subcode"].as_str().unwrap_or("ok"),
        refused["submessage"].as_str().unwrap_or_default()
    );
    let mut acknowledged = push.clone();
    acknowledged["CircuitBreakFlag"] = json!("1");
    let stock = erp
        .ok(token, "9002", "Differ.JH.Business.SyncStock", &acknowledged)
        .await?;
    println!(
        "    resent with CircuitBreakFlag=1 (熔断确认): {barcode} in VIP_NH is now {}",
        stock["quantity"]
    );
    for order in [
        Some(waiting),
        orders.iter().find(|o| o["tradestatus"] == "JH_18"),
    ]
    .into_iter()
    .flatten()
    {
        let number = order["platorderno"].as_str().unwrap_or_default();
        let check = erp
            .ok(
                token,
                "9002",
                "Differ.JH.Business.CheckRefundStatus",
                &json!({"OrderID": number}),
            )
            .await?;
        println!(
            "    Differ.JH.Business.CheckRefundStatus {number}: {} {}",
            check["refundstatus"].as_str().unwrap_or_default(),
            check["refundstatusdescription"]
                .as_str()
                .unwrap_or_default()
        );
    }
    sync_now().await?;
    let after = erp
        .ok(
            token,
            "9002",
            "Differ.JH.Business.GetOrder",
            &json!({"PlatOrderNo": number}),
        )
        .await?;
    println!(
        "    after the next sync the hub's copy of {number} is {} with {}",
        after["orders"][0]["tradestatus"]
            .as_str()
            .unwrap_or_default(),
        after["orders"][0]["logisticno"]
            .as_str()
            .unwrap_or_default()
    );
    let union = creds["shops"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["platid"] == "9001");
    if let Some(union) = union {
        let id = union["connection_id"].as_str().unwrap_or_default();
        let to = running.clock().now_ms();
        let from = to - 60 * DAY_SECS * 1000;
        let earned: serde_json::Value = http
            .get(format!(
                "{}/v1/union/earnings?shop={id}&from={from}&to={to}",
                hub.url
            ))
            .bearer_auth(format!("{appkey}:{secret}"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let total = &earned["period"]["total"];
        println!(
            "    GET /v1/union/earnings (60 days): {} settled orders, ¥{} commission, ¥{} deducted, ¥{} net",
            total["settled_orders"],
            total["settled_commission"].as_str().unwrap_or("0"),
            total["refund_deduction"].as_str().unwrap_or("0"),
            total["net"].as_str().unwrap_or("0")
        );
        for row in earned["period"]["rows"].as_array().into_iter().flatten() {
            println!(
                "      {:<12} ¥{}",
                row["key"].as_str().unwrap_or_default(),
                row["net"].as_str().unwrap_or("0")
            );
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
