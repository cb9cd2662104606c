//! `shopbridge bench reads`: the hub's store-served reads (GetOrder, the REST lists, details,
//! earnings, the console's pages) at several account sizes, from a `shopbridge serve` process of
//! its own, with its memory, and `/healthz` while heavy reads run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Context;
use secrecy::SecretString;
use serde_json::json;
use shopbridge_core::codes::{OrderStatus, RefundStatus, ShopType};
use shopbridge_core::model::{Address, Order, OrderLine};
use shopbridge_core::{Clock, ShopKind};
use shopbridge_hub::sources::UNION_ORDERS;
use shopbridge_hub::sources::{JIT_ORDERS, UNION_REFUNDS, order_record, refund_record};
use shopbridge_store::{Checkpoint, MasterKey, NewConnection, Store, Vault};
use shopbridge_vop::time::format_datetime_ms;
use shopbridge_vop::union::order::{OrderInfo, RefundOrderInfo};

use crate::bench_cmd::{Process, peak_rss_mib, spawn};

const DAY_MS: i64 = 86_400_000;
/// Records written per transaction while the account is built.
const BATCH: usize = 500;
const APP_KEY: &str = "bench-erp";
const APP_SECRET: &str = "bench-erp-secret";

/// Where an account's store lives: a SQLite file, or a PostgreSQL database of its own on a
/// server, made for the account and dropped after it.
enum Place {
    Sqlite(std::path::PathBuf),
    Postgres {
        admin: sqlx::AnyPool,
        name: String,
        url: String,
    },
}

impl Place {
    /// A new place for an account: a file named `stem`, or a database on `postgres` (the URL of
    /// a database there that may create others, such as `postgres://postgres@127.0.0.1/postgres`).
    async fn new(stem: &std::path::Path, postgres: Option<&str>) -> anyhow::Result<Self> {
        let Some(server) = postgres else {
            return Ok(Place::Sqlite(stem.with_extension("db")));
        };
        let mut url = url::Url::parse(server).context("--postgres: expected a URL")?;
        anyhow::ensure!(
            matches!(url.scheme(), "postgres" | "postgresql"),
            "--postgres: expected a postgres:// URL, got the scheme {:?}",
            url.scheme()
        );
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(server)
            .await
            .context("--postgres: connecting to the server")?;
        let name = format!("shopbridge_reads_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .with_context(|| format!("creating the database {name}"))?;
        url.set_path(&format!("/{name}"));
        Ok(Place::Postgres {
            admin,
            name,
            url: url.to_string(),
        })
    }

    fn url(&self) -> String {
        match self {
            Place::Sqlite(path) => format!("sqlite://{}", path.display()),
            Place::Postgres { url, .. } => url.clone(),
        }
    }

    /// Leaves a PostgreSQL database as autovacuum leaves one after a bulk load: its statistics
    /// gathered and its visibility map set, so that the planner knows the tables' sizes and an
    /// index-only scan need not visit the rows. (A SQLite file has nothing to settle.)
    async fn settle(&self) -> anyhow::Result<()> {
        if let Place::Postgres { url, .. } = self {
            let pool = sqlx::AnyPool::connect(url).await?;
            sqlx::query("VACUUM (ANALYZE)")
                .execute(&pool)
                .await
                .context("VACUUM (ANALYZE) of the account's database")?;
            pool.close().await;
        }
        Ok(())
    }

    /// What the account takes on disk, in MiB.
    async fn size_mib(&self) -> Option<f64> {
        let bytes = match self {
            Place::Sqlite(path) => std::fs::metadata(path).ok()?.len() as f64,
            Place::Postgres { admin, name, .. } => {
                sqlx::query_scalar::<_, i64>(&format!("SELECT pg_database_size('{name}')"))
                    .fetch_one(admin)
                    .await
                    .ok()? as f64
            }
        };
        Some(bytes / 1_048_576.0)
    }

    /// Removes the file (with its log) or drops the database.
    async fn remove(&self) {
        match self {
            Place::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Place::Postgres { admin, name, .. } => {
                if let Err(err) = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
                    .execute(admin)
                    .await
                {
                    eprintln!("could not drop the database {name}: {err}");
                }
            }
        }
    }
}

/// One account: its store's URL, its key, and the shops' ids and token.
struct Account {
    database: String,
    key: std::path::PathBuf,
    jit: String,
    union: String,
    jit_token: String,
    /// A JIT order number and a Union order number in the middle of the account.
    middle_jit: (i64, String),
    middle_union: (i64, String),
}

/// Writes `orders` Union orders, as many JIT orders, and a refund per twenty Union orders,
/// spread over the year before `end`, through the store's own writers.
async fn build(
    size: u64,
    now: i64,
    database: String,
    key_path: std::path::PathBuf,
) -> anyhow::Result<Account> {
    let key = MasterKey::load_or_create(&key_path)?;
    let store = Store::open(&database, Vault::new(key)).await?;
    let tenant = store
        .create_tenant("bench", APP_KEY, &SecretString::from(APP_SECRET), now)
        .await?;
    let shop = |kind: ShopKind| {
        let (store, tenant) = (store.clone(), tenant.clone());
        async move {
            store
                .create_connection(
                    &NewConnection {
                        tenant_id: &tenant,
                        kind,
                        name: kind.mode(),
                        credentials: &SecretString::from("{}"),
                        access_expires_ms: None,
                        refresh_expires_ms: None,
                    },
                    now,
                )
                .await
        }
    };
    let jit = shop(ShopKind::VopJit).await?;
    let union = shop(ShopKind::VopUnionChannel).await?;
    // The scheduler leaves these shops alone: their data is the benchmark's, not a platform's.
    for (id, kind) in [
        (&jit, ShopKind::VopJit),
        (&union, ShopKind::VopUnionChannel),
    ] {
        for plan in shopbridge_hub::platforms::vop::plans(kind) {
            store
                .ensure_schedule(id, plan.stream, plan.interval_ms, now + 3_650 * DAY_MS)
                .await?;
        }
    }
    let jit_token = store.issue_shop_token(&tenant, &jit, now).await?;
    // Everything changed before an hour ago is stored, as after a sync.
    let synced = Checkpoint {
        cursor_ms: now - 3_600_000,
        window: None,
    };
    let start = now - 366 * DAY_MS;
    let span = 365 * DAY_MS;
    // Each stream's first checkpoint names its first window: where its history starts.
    let first = Checkpoint {
        cursor_ms: synced.cursor_ms,
        window: Some((start - DAY_MS, synced.cursor_ms, 0)),
    };
    for (shop, stream) in [
        (&union, UNION_ORDERS),
        (&union, UNION_REFUNDS),
        (&jit, JIT_ORDERS),
    ] {
        store
            .save_page(
                shop,
                stream,
                &shopbridge_store::PageRecords::Records(Vec::new()),
                first,
                None,
                now,
            )
            .await?;
    }
    let at = |i: u64| start + (i128::from(i) * i128::from(span) / i128::from(size.max(1))) as i64;
    let mut union_page = Vec::with_capacity(BATCH);
    let mut jit_page = Vec::with_capacity(BATCH);
    let mut refunds = Vec::with_capacity(BATCH);
    let (mut middle_jit, mut middle_union) = ((0, String::new()), (0, String::new()));
    let started = Instant::now();
    for i in 0..size {
        let ordered = at(i);
        let settled = i % 5 < 3 && ordered + 15 * DAY_MS < now - DAY_MS;
        let order: OrderInfo = serde_json::from_value(json!({
            "orderSn": format!("U{i:09}"),
            "status": if settled { 2 } else { 1 },
            "channelTag": format!("pid-{}", i % 20),
            "orderTime": ordered,
            "lastUpdateTime": if settled { ordered + 15 * DAY_MS } else { ordered + 60_000 },
            "settled": i32::from(settled),
            "settledTime": settled.then_some(ordered + 15 * DAY_MS),
            "orderSubStatusName": if settled { "已结算" } else { "已付款" },
            "commission": format!("{}.{:02}", 1 + i % 90, i % 100),
            "detailList": [{"goodsId": format!("G{}", i % 1000), "goodsName": "商品", "goodsCount": 1,
                            "commissionTotalCost": "99.00", "commission": "9.90", "commissionRate": "10"}],
        }))?;
        let record = shopbridge_hub::sources::union_order_record(&order);
        if i == size / 2 {
            middle_union = (record.last_update_ms, record.order_sn.clone());
        }
        union_page.push(record);
        if i % 20 == 0 && settled {
            let refund: RefundOrderInfo = serde_json::from_value(json!({
                "orderSn": format!("U{i:09}"),
                "afterSaleSn": format!("AS{i:09}"),
                "applyTime": ordered + 20 * DAY_MS,
                "commissionEnterTime": ordered + 21 * DAY_MS,
                "commission": "-1.50",
                "settled": 0,
            }))?;
            refunds.push(refund_record(&refund, now));
        }
        let status = [
            OrderStatus::WaitSellerSend,
            OrderStatus::WaitBuyerConfirm,
            OrderStatus::TradeSuccess,
            OrderStatus::TradeClosed,
        ][(i % 4) as usize];
        let jit_order = Order {
            plat_order_no: format!("J{i:09}"),
            status,
            shop_type: ShopType::Jitx,
            created_at_ms: ordered,
            modified_at_ms: ordered + 3_600_000,
            paid_at_ms: Some(ordered + 60_000),
            receiver: Address {
                receiver_name: "张三".into(),
                phone: None,
                mobile: Some("13800000000".into()),
                country: Some("CN".into()),
                province: "广东省".into(),
                city: "广州市".into(),
                area: "天河区".into(),
                town: None,
                address: "天河路 1 号".into(),
                house_number: None,
                zip: Some("510000".into()),
            },
            goods_fee: "99.00".parse()?,
            post_fee: "0".parse()?,
            total_amount: "99.00".parse()?,
            real_paid: "99.00".parse()?,
            discount: "0".parse()?,
            warehouse: Some("VIP_NH".into()),
            buyer_remark: None,
            seller_remark: None,
            logistic_no: None,
            logistic_name: None,
            lines: vec![OrderLine {
                sub_order_no: format!("J{i:09}-1"),
                product_id: format!("P{}", i % 1000),
                sku_id: Some(format!("S{}", i % 1000)),
                outer_id: Some(format!("OUT-{}", i % 1000)),
                name: "商品".into(),
                spec: None,
                count: 1,
                price: "99.00".parse()?,
                refund_status: if i % 50 == 0 {
                    RefundStatus::Refunded
                } else {
                    RefundStatus::NoRefund
                },
                status: None,
            }],
        };
        let record = order_record(&jit_order);
        if i == size / 2 {
            middle_jit = (record.updated_ms, record.id.clone());
        }
        jit_page.push(record);
        if union_page.len() == BATCH || i + 1 == size {
            store
                .save_page(
                    &union,
                    UNION_ORDERS,
                    &shopbridge_store::PageRecords::UnionOrders(std::mem::take(&mut union_page)),
                    synced,
                    None,
                    now,
                )
                .await?;
            store
                .save_page(
                    &jit,
                    JIT_ORDERS,
                    &shopbridge_store::PageRecords::Records(std::mem::take(&mut jit_page)),
                    synced,
                    None,
                    now,
                )
                .await?;
        }
        if refunds.len() == BATCH {
            store
                .save_page(
                    &union,
                    UNION_REFUNDS,
                    &shopbridge_store::PageRecords::Records(std::mem::take(&mut refunds)),
                    synced,
                    None,
                    now,
                )
                .await?;
        }
    }
    store
        .save_page(
            &union,
            UNION_REFUNDS,
            &shopbridge_store::PageRecords::Records(std::mem::take(&mut refunds)),
            synced,
            None,
            now,
        )
        .await?;
    store.pool().close().await;
    println!(
        "built {size} Union orders, {size} JIT orders and their refunds in {:.1} s",
        started.elapsed().as_secs_f64(),
    );
    Ok(Account {
        database,
        key: key_path,
        jit,
        union,
        jit_token,
        middle_jit,
        middle_union,
    })
}

/// Current resident memory of a process (`VmRSS`), in MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// p50 and p99 in ms of `repeats` sequential calls, and how many failed (a failure is timed
/// too: an overloaded hub answering 503 fast is not a fast read).
async fn time<F, Fut>(repeats: usize, mut call: F) -> anyhow::Result<Timing>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut micros = Vec::with_capacity(repeats);
    let mut failed = 0;
    let mut last_error = None;
    for _ in 0..repeats {
        let started = Instant::now();
        if let Err(err) = call().await {
            failed += 1;
            last_error = Some(err.to_string());
        }
        micros.push(started.elapsed().as_micros() as u64);
    }
    if let Some(err) = &last_error {
        eprintln!("{failed} of {repeats} failed, the last with: {err}");
    }
    micros.sort_unstable();
    let at = |q: f64| {
        micros
            .get(((micros.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    Ok(Timing {
        p50: at(0.5),
        p99: at(0.99),
        failed,
    })
}

/// One read's figures.
#[derive(Debug, Clone, Copy)]
struct Timing {
    p50: f64,
    p99: f64,
    failed: usize,
}

impl std::fmt::Display for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} / {:.1}", self.p50, self.p99)?;
        if self.failed > 0 {
            write!(f, " ({} failed)", self.failed)?;
        }
        Ok(())
    }
}

/// A signed-in console session's cookie.
async fn console_cookie(http: &reqwest::Client, hub: &str) -> anyhow::Result<String> {
    let page = http.get(format!("{hub}/console/login")).send().await?;
    let form_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sb_login="))
        .and_then(|v| v.split(';').next())
        .context("the login form's cookie")?
        .to_owned();
    let html = page.text().await?;
    let token = html
        .split(r#"name="login_csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("the login form's token")?
        .to_owned();
    let signed_in = http
        .post(format!("{hub}/console/login"))
        .header("cookie", form_cookie)
        .header("origin", hub)
        .form(&[
            ("app_key", APP_KEY),
            ("app_secret", APP_SECRET),
            ("login_csrf", token.as_str()),
        ])
        .send()
        .await?;
    anyhow::ensure!(
        signed_in.status() == 303,
        "console sign-in: {}",
        signed_in.status()
    );
    // The answer also spends the sign-in form's cookie: take the session's.
    Ok(signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sb_session="))
        .and_then(|v| v.split(';').next())
        .context("the session cookie")?
        .to_owned())
}

/// What one account size measured: `(read, (p50, p99))` in order, and memory.
struct Measured {
    reads: Vec<(String, Timing)>,
    rss_mib: f64,
    peak_rss_mib: f64,
}

async fn measure(
    sandbox: &str,
    account: &Account,
    now: i64,
    clock: Arc<dyn Clock>,
    repeats: usize,
) -> anyhow::Result<Measured> {
    let database = account.database.clone();
    let key = account.key.display().to_string();
    let hub: Process = spawn(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--sandbox",
            sandbox,
            "--database",
            &database,
            "--master-key-file",
            &key,
            "--poll-secs",
            "3600",
        ],
        "shopbridge hub at ",
        Some("ready"),
    )?;
    let pid = hub.child.id();
    let base = hub.url.clone();
    // Redirects are answers here: the console's sign-in is a 303 carrying the session cookie.
    let http = shopbridge_vop::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let bearer = format!("Bearer {APP_KEY}:{APP_SECRET}");
    let get = {
        let (http, base, bearer) = (http.clone(), base.clone(), bearer.clone());
        move |path: String, cookie: Option<String>| {
            let (http, base, bearer) = (http.clone(), base.clone(), bearer.clone());
            async move {
                let mut request = http.get(format!("{base}{path}"));
                request = match cookie {
                    Some(cookie) => request.header("cookie", cookie),
                    None => request.header("authorization", bearer),
                };
                let response = request.send().await?;
                let status = response.status();
                let body = response.bytes().await?;
                anyhow::ensure!(
                    status.is_success(),
                    "{path}: {status} {}",
                    String::from_utf8_lossy(&body)
                );
                anyhow::Ok(body)
            }
        }
    };
    let mut caller = crate::serve::PolyCaller::new(&base, APP_KEY, APP_SECRET)?;
    caller.clock = clock;
    let end = now - DAY_MS;
    let mut reads: Vec<(String, Timing)> = Vec::new();
    for (name, days) in [("GetOrder 7 days", 7), ("GetOrder 30 days", 30)] {
        let biz = |page: u64| {
            // By modification time over a window the sync has covered: served from the store.
            // (A created-time window also needs the stream caught up to now: one platform
            // call per read on top, which this account's made-up shop cannot make.)
            json!({
                "TimeType": "JH_01",
                "StartTime": format_datetime_ms(end - days * DAY_MS),
                "EndTime": format_datetime_ms(end),
                "PageIndex": page,
                "PageSize": 100,
            })
        };
        let first = caller
            .ok(
                &account.jit_token,
                "9002",
                "Differ.JH.Business.GetOrder",
                &biz(1),
            )
            .await?;
        let total = first["numtotalorder"].as_u64().unwrap_or(0);
        let last_page = total.div_ceil(100).max(1);
        for (which, page) in [("first page", 1), ("last page", last_page)] {
            let (caller, token, biz) = (caller.clone(), account.jit_token.clone(), biz(page));
            let timing = time(repeats, || {
                let (caller, token, biz) = (caller.clone(), token.clone(), biz.clone());
                async move {
                    caller
                        .ok(&token, "9002", "Differ.JH.Business.GetOrder", &biz)
                        .await?;
                    Ok(())
                }
            })
            .await?;
            reads.push((format!("{name}, {which}"), timing));
        }
    }
    // Beijing time, its offset's `+` percent-encoded for the query string.
    let month_ago = format_datetime_ms(now - 30 * DAY_MS).replace(' ', "T") + "%2B08:00";
    let (jit, union) = (&account.jit, &account.union);
    let mid_jit = format!("{}:{}", account.middle_jit.0, account.middle_jit.1);
    let mid_union = format!("{}:{}", account.middle_union.0, account.middle_union.1);
    let rest: Vec<(&'static str, String)> = vec![
        (
            "REST orders, first page",
            format!("/v1/orders?shop={jit}&limit=100"),
        ),
        (
            "REST orders, deep cursor",
            format!("/v1/orders?shop={jit}&limit=100&cursor={mid_jit}"),
        ),
        (
            "REST orders, updated_after",
            format!("/v1/orders?shop={jit}&limit=100&updated_after={month_ago}"),
        ),
        (
            "REST Union orders, first page",
            format!("/v1/union/orders?shop={union}&limit=100"),
        ),
        (
            "REST Union orders, deep cursor",
            format!("/v1/union/orders?shop={union}&limit=100&cursor={mid_union}"),
        ),
        (
            "REST Union orders, updated_after",
            format!("/v1/union/orders?shop={union}&limit=100&updated_after={month_ago}"),
        ),
        (
            "REST refunds, first page",
            format!("/v1/refunds?shop={union}&limit=100"),
        ),
        (
            "REST order detail",
            format!("/v1/orders/{jit}/{}", account.middle_jit.1),
        ),
        (
            "REST earnings, 30 days",
            format!(
                "/v1/union/earnings?shop={union}&from={}&to={}",
                now - 30 * DAY_MS,
                now
            ),
        ),
        (
            "REST earnings, 366 days",
            format!(
                "/v1/union/earnings?shop={union}&from={}&to={}",
                now - 366 * DAY_MS,
                now
            ),
        ),
    ];
    for (name, path) in rest {
        let timing = time(repeats, || {
            let request = get(path.clone(), None);
            async move { request.await.map(drop) }
        })
        .await?;
        reads.push((name.to_owned(), timing));
    }
    let cookie = console_cookie(&http, &base).await?;
    let console: Vec<(&'static str, String)> = vec![
        (
            "console orders, newest",
            format!("/console/orders?shop={union}"),
        ),
        (
            "console orders, oldest",
            format!("/console/orders?shop={union}&oldest=1"),
        ),
        (
            // A person typing most of a number: the hundred orders it starts.
            "console orders, search",
            format!(
                "/console/orders?shop={union}&q={}",
                &account.middle_union.1[..account.middle_union.1.len().saturating_sub(2)]
            ),
        ),
        (
            "console Union order",
            format!("/console/orders/{union}/{}", account.middle_union.1),
        ),
        (
            "console earnings, 30 days",
            format!("/console/earnings?shop={union}&days=30"),
        ),
    ];
    for (name, path) in console {
        let timing = time(repeats, || {
            let request = get(path.clone(), Some(cookie.clone()));
            async move { request.await.map(drop) }
        })
        .await?;
        reads.push((name.to_owned(), timing));
    }
    // /healthz while four year-long earnings reports run at once.
    let stop = Arc::new(AtomicBool::new(false));
    let mut heavy = Vec::new();
    for _ in 0..4 {
        let stop = stop.clone();
        let path = format!(
            "/v1/union/earnings?shop={union}&from={}&to={}",
            now - 366 * DAY_MS,
            now
        );
        let get = get.clone();
        heavy.push(tokio::spawn(async move {
            let mut failed = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                if get(path.clone(), None).await.is_err() {
                    failed += 1;
                }
            }
            failed
        }));
    }
    let health = time(repeats.max(50), || {
        let request = get("/healthz".to_owned(), None);
        async move { request.await.map(drop) }
    })
    .await?;
    stop.store(true, Ordering::Relaxed);
    let mut refused = 0;
    for task in heavy {
        refused += task.await?;
    }
    if refused > 0 {
        eprintln!("{refused} of the concurrent earnings reports were answered busy (503)");
    }
    reads.push(("/healthz during 4 earnings reports".to_owned(), health));
    let measured = Measured {
        reads,
        rss_mib: rss_mib(pid).unwrap_or(0.0),
        peak_rss_mib: peak_rss_mib(Some(pid)).unwrap_or(0.0),
    };
    drop(hub);
    Ok(measured)
}

pub async fn reads(sizes: &[u64], repeats: usize, postgres: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(
        sizes.iter().all(|&n| (1..=10_000_000).contains(&n)),
        "--sizes: each from 1 to 10,000,000"
    );
    anyhow::ensure!((1..=1_000).contains(&repeats), "--repeats: 1 to 1,000");
    let sandbox = spawn(
        &["sandbox", "--addr", "127.0.0.1:0"],
        "sandbox listening on ",
        None,
    )?;
    let clock = crate::config::sandbox_clock(&sandbox.url).await?;
    let mut results = Vec::new();
    for &size in sizes {
        let now = clock.now_ms();
        let stem = std::env::temp_dir().join(format!(
            "shopbridge-reads-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let place = Place::new(&stem, postgres).await?;
        match &place {
            Place::Sqlite(path) => println!(
                "building an account of {size} orders in {}...",
                path.display()
            ),
            Place::Postgres { name, .. } => {
                println!(
                    "building an account of {size} orders in the PostgreSQL database {name}..."
                )
            }
        }
        let key = stem.with_extension("key");
        let measured = async {
            let account = build(size, now, place.url(), key.clone()).await?;
            place.settle().await?;
            if let Some(size) = place.size_mib().await {
                println!("{size:.0} MiB on disk; measuring...");
            }
            measure(
                &sandbox.url,
                &account,
                now,
                Arc::new(clock.clone()),
                repeats,
            )
            .await
        }
        .await;
        place.remove().await;
        let _ = std::fs::remove_file(&key);
        let measured = measured?;
        for (name, timing) in &measured.reads {
            println!("  {name}: {timing}");
        }
        results.push((size, measured));
    }
    print!("| read (p50 / p99 ms, sequential) |");
    for (size, _) in &results {
        print!(" {size} |");
    }
    println!();
    print!("|---|");
    for _ in &results {
        print!("---:|");
    }
    println!();
    let names: Vec<String> = results
        .first()
        .map(|(_, m)| m.reads.iter().map(|(name, _)| name.clone()).collect())
        .unwrap_or_default();
    for name in names {
        print!("| {name} |");
        for (_, measured) in &results {
            match measured
                .reads
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t)
            {
                Some(timing) => print!(" {timing} |"),
                None => print!(" - |"),
            }
        }
        println!();
    }
    print!("| hub RSS after the reads / peak (MiB) |");
    for (_, measured) in &results {
        print!(" {:.0} / {:.0} |", measured.rss_mib, measured.peak_rss_mib);
    }
    println!();
    Ok(())
}
