//! The command line as a user runs it: signing vectors, the demo, a sandbox process and calls.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_shopbridge");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SHOPBRIDGE_VOP_APP_SECRET")
        .env_remove("SHOPBRIDGE_VOP_APP_KEY")
        .output()
        .expect("run shopbridge")
}

fn last_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

const V2_BODY: &str =
    r#"{"goodsIdList":["6919190827778651268"],"chanTag":"pid_1","requestId":"req-0001"}"#;

fn sign_v2(format: &str, extra: &[&str]) -> Output {
    let format = format!("format={format}");
    let mut args = vec![
        "sign",
        "vop",
        "--secret",
        "testappsecret",
        "--body",
        V2_BODY,
        "service=com.vip.adp.api.open.service.UnionUrlService",
        "version=1.0.0",
        "timestamp=1700000000",
        format.as_str(),
        "appKey=testappkey",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn sign_vop_prints_the_published_vectors() {
    let v2 = sign_v2("json", &["method=genByGoodsId"]);
    assert!(v2.status.success());
    assert_eq!(last_line(&v2), "16F7350B386E1D2C0D9D8BDD37CA2E64");
    assert_eq!(
        last_line(&sign_v2("JSON", &["method=genByGoodsId"])),
        "E3863B17752C818555328BF643F6EA1A"
    );
    let v4 = sign_v2(
        "json",
        &[
            "method=genByGoodsIdWithOauth",
            "accessToken=testtoken",
            "language=zh",
        ],
    );
    assert_eq!(last_line(&v4), "FC87273A91B5C6ACF592748046B29315");
    let v5 = run(&[
        "sign",
        "vop",
        "--secret",
        "testappsecret",
        "--body",
        r#"{"vendor_id":"550","page":1,"limit":50}"#,
        "service=vipapis.delivery.JitDeliveryService",
        "method=getPoList",
        "version=1.0.0",
        "timestamp=1700000000",
        "format=json",
        "appKey=testappkey",
    ]);
    assert_eq!(last_line(&v5), "549818CAA17E7914186C861B012680E7");
}

#[test]
fn sign_vop_verbose_shows_the_signed_string_and_bad_pairs_are_named() {
    let verbose = sign_v2("json", &["method=genByGoodsId", "-v"]);
    let stdout = String::from_utf8_lossy(&verbose.stdout);
    assert!(
        stdout.contains("signed string: appKeytestappkeyformatjsonmethodgenByGoodsIdservicecom.vip.adp.api.open.service.UnionUrlServicetimestamp1700000000version1.0.0{"),
        "{stdout}"
    );
    assert_eq!(last_line(&verbose), "16F7350B386E1D2C0D9D8BDD37CA2E64");
    let bad = run(&["sign", "vop", "--secret", "s", "service"]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("\"service\": expected NAME=VALUE"),
        "{stderr}"
    );
}

#[test]
fn demo_runs_every_step_against_the_embedded_sandbox() {
    let output = run(&["demo"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for marker in [
        "[1] Channel mode",
        "[3] Buyers click",
        "total net commission",
        "[5] OAuth",
        "[6] Tool-provider mode",
        "[7] JIT supplier",
        "refund check: JH_07",
        "[8] Winit",
        "ready to report to the sales platform",
        "vipapis.sign-not-match",
        "refreshed:",
        "token revoked",
        "done:",
    ] {
        assert!(stdout.contains(marker), "missing {marker:?} in:\n{stdout}");
    }
    assert!(
        !stdout.contains("sbx-vop-demo-secret"),
        "the app secret is never printed"
    );
}

/// A `shopbridge sandbox` child process on a free port, killed on drop.
struct SandboxProcess {
    child: Child,
    url: String,
    /// Kept open: the sandbox prints more lines, and a closed pipe would kill it.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl SandboxProcess {
    fn start() -> Self {
        let mut child = Command::new(BIN)
            .args(["sandbox", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sandbox");
        let stdout = child.stdout.take().expect("stdout");
        let mut stdout = BufReader::new(stdout);
        let mut first = String::new();
        stdout.read_line(&mut first).expect("first line");
        let url = first
            .trim()
            .strip_prefix("sandbox listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Self {
            child,
            url,
            _stdout: stdout,
        }
    }
}

/// A fresh directory for a store and its master key, as a `sync union` with `--create` makes
/// them.
struct StoreDir {
    database: String,
    key: String,
}

impl StoreDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("sb-{tag}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        Self {
            database: format!("sqlite://{}", dir.join("shop.db").display()),
            key: dir.join("master.key").display().to_string(),
        }
    }

    /// `shopbridge sync --create` into this store, of the Union orders of the last `days`.
    fn sync_union_command(&self, sandbox: &SandboxProcess, days: &str) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(["sync", "--create", "--database", &self.database])
            .args(["--master-key-file", &self.key])
            .args(["union", "--sandbox", &sandbox.url, "--initial-days", days]);
        command
    }

    /// The same, two days, run to its end.
    fn sync_union(&self, sandbox: &SandboxProcess) -> Output {
        self.sync_union_command(sandbox, "2")
            .output()
            .expect("run shopbridge")
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn vop_call_and_auth_against_a_sandbox_process() {
    let sandbox = SandboxProcess::start();
    let call = run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "call",
        "--service",
        "com.vip.adp.api.open.service.UnionGoodsService",
        "--method",
        "goodsList",
        "--body",
        r#"{"request":{"page":1,"pageSize":2,"channelType":0,"requestId":"cli-1"}}"#,
    ]);
    let stdout = String::from_utf8_lossy(&call.stdout);
    assert!(
        call.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&call.stderr)
    );
    let result: serde_json::Value = serde_json::from_str(&stdout).expect("JSON result");
    assert_eq!(result["goodsInfoList"].as_array().map(Vec::len), Some(2));
    let stderr = String::from_utf8_lossy(&call.stderr);
    assert!(
        stderr.contains("returnCode=0") && stderr.contains("sign="),
        "{stderr}"
    );

    let url = run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "auth",
        "url",
        "--native",
        "--state",
        "1212",
    ]);
    let url = last_line(&url);
    assert!(
        url.starts_with(&format!("{}/vop/oauth2/authorize?", sandbox.url)),
        "{url}"
    );
    assert!(
        url.contains("display=mobile") && url.contains("state=1212"),
        "{url}"
    );

    let wrong = Command::new(BIN)
        .args([
            "vop",
            "--sandbox",
            &sandbox.url,
            "call",
            "--service",
            "com.vip.adp.api.open.service.UnionGoodsService",
            "--method",
            "goodsList",
        ])
        .env("SHOPBRIDGE_VOP_APP_SECRET", "wrong-secret-value")
        .output()
        .expect("run");
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("vipapis.sign-not-match") && stderr.contains("shopbridge sign vop -v"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-secret-value"));

    let bad_body = run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "call",
        "--service",
        "s",
        "--method",
        "m",
        "--body",
        "[1",
    ]);
    assert!(!bad_body.status.success());
    assert!(String::from_utf8_lossy(&bad_body.stderr).contains("--body"));

    let info = run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "auth",
        "info",
        "--token",
        "FFFF",
    ]);
    assert!(!info.status.success());
    let stderr = String::from_utf8_lossy(&info.stderr);
    assert!(
        stderr.contains("30111") && stderr.contains("authorize again"),
        "{stderr}"
    );
}

#[test]
fn missing_credentials_are_explained() {
    let output = Command::new(BIN)
        .args(["vop", "call", "--service", "s", "--method", "m"])
        .env_remove("SHOPBRIDGE_VOP_APP_KEY")
        .env_remove("SHOPBRIDGE_VOP_APP_SECRET")
        .env_remove("SHOPBRIDGE_SANDBOX")
        .env_remove("SHOPBRIDGE_CONFIG")
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no VOP app key"));
}

/// A listing as people see it: a success, a header or field lines, never Rust's debug output.
fn for_people(output: &Output) -> String {
    let text = stdout_of(output);
    assert!(!text.trim().is_empty(), "empty listing");
    for debug in ["Some(", "None,", " {\n", "}\n", "\")", "::"] {
        assert!(
            !text.contains(debug),
            "debug output ({debug:?}) in:\n{text}"
        );
    }
    text
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn vop_auth_cycle_from_the_shell() {
    let sandbox = SandboxProcess::start();
    let creds: serde_json::Value = shopbridge_vop::http_client_builder()
        .build()
        .expect("http")
        .get(format!("{}/_sandbox/credentials", sandbox.url))
        .send()
        .await
        .expect("credentials")
        .json()
        .await
        .expect("json");
    let redirect_uri = creds["vop"]["redirect_uris"][0]
        .as_str()
        .expect("redirect uri")
        .to_owned();
    let user = &creds["vop"]["users"][0];
    let url = last_line(&run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "auth",
        "url",
        "--redirect-uri",
        &redirect_uri,
        "--state",
        "cli",
    ]));

    let http = shopbridge_vop::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let decision = shopbridge_sandbox::browser::authorize(
        &http,
        &url,
        user["username"].as_str().expect("username"),
        user["password"].as_str().expect("password"),
        true,
    )
    .await
    .expect("login and approve");
    let callback = decision.location.expect("redirect with the code");

    let exchange = stdout_of(&run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "auth",
        "exchange",
        "--code",
        &callback,
        "--redirect-uri",
        &redirect_uri,
    ]));
    let tokens: serde_json::Value = serde_json::from_str(&exchange).expect("token JSON");
    let access = tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();

    let info = stdout_of(&run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "auth",
        "info",
        "--token",
        &access,
    ]));
    assert!(info.contains("\"token_type\": \"Bearer\""), "{info}");
    assert!(!info.contains(&access), "token_info masks the token");

    let tool_call = Command::new(BIN)
        .args([
            "vop",
            "--sandbox",
            &sandbox.url,
            "call",
            "--service",
            "com.vip.adp.api.open.service.UnionGoodsService",
        ])
        .args([
            "--method",
            "goodsListWithOauth",
            "--body",
            r#"{"request":{"page":1,"channelType":1,"requestId":"cli-2"}}"#,
        ])
        .env("SHOPBRIDGE_VOP_ACCESS_TOKEN", &access)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&tool_call.stderr);
    assert!(tool_call.status.success(), "{stderr}");
    assert!(
        stderr.contains("accessToken=***") && !stderr.contains(&access),
        "{stderr}"
    );

    let refreshed = stdout_of(&run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "auth",
        "refresh",
        "--refresh-token",
        &refresh,
    ]));
    let refreshed: serde_json::Value = serde_json::from_str(&refreshed).expect("refresh JSON");
    let new_access = refreshed["access_token"]
        .as_str()
        .expect("new token")
        .to_owned();
    assert_ne!(new_access, access);
    assert_eq!(
        stdout_of(&run(&[
            "vop",
            "--sandbox",
            &sandbox.url,
            "auth",
            "revoke",
            "--token",
            &new_access
        ]))
        .trim(),
        "revoked"
    );
    let after = run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "auth",
        "info",
        "--token",
        &new_access,
    ]);
    assert!(!after.status.success());
    assert!(String::from_utf8_lossy(&after.stderr).contains("token revoked"));
}

#[test]
fn trace_logs_of_a_whole_demo_hold_no_secret_or_token() {
    let output = Command::new(BIN)
        .arg("demo")
        .env("SHOPBRIDGE_LOG", "trace")
        .output()
        .expect("run demo");
    assert!(output.status.success());
    let everything = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(everything.lines().count() > 50, "trace logging is on");
    assert!(
        !everything.contains("sbx-vop-demo-secret"),
        "the app secret leaked"
    );
    // Sandbox access and refresh tokens are 40 upper-case hex characters; none may appear.
    let leaked = everything
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|run| {
            run.len() >= 40
                && run
                    .chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        });
    assert_eq!(leaked, None, "a token leaked into the output");
}

#[test]
fn union_link_splice_prints_the_link_last_and_refuses_bad_values() {
    let spliced = run(&[
        "union",
        "link",
        "splice",
        "--chan-tag",
        "xxx",
        "https://t.vip.com",
    ]);
    assert!(spliced.status.success());
    assert_eq!(last_line(&spliced), "https://t.vip.com?chanTag=xxx");
    let tra = run(&[
        "union",
        "link",
        "splice",
        "--stat-param",
        "xxx",
        "tra%3AC01V4kv4xby8mydr%3Am0bliqmq%3Amig_code%3Accc%3Aac013pq3nrhmc9sk1f99w0ttak5o88",
    ]);
    assert_eq!(
        last_line(&tra),
        "tra%3AC01V4kv4xby8mydr%3Am0bliqmq*_*xxx%3Amig_code%3Accc%3Aac013pq3nrhmc9sk1f99w0ttak5o88"
    );
    assert!(
        String::from_utf8_lossy(&tra.stderr).contains("adp:"),
        "warns about the mini-program prefix"
    );
    let bad = run(&[
        "union",
        "link",
        "splice",
        "--chan-tag",
        "a:b",
        "https://t.vip.com/x",
    ]);
    assert!(!bad.status.success());
    assert!(bad.stdout.is_empty());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("chanTag: must not contain \":\""));
    let offline = run(&[
        "union",
        "check",
        "--offline",
        "看 https://m.vip.com/product-1-6918465055263683665.html 好",
    ]);
    assert!(String::from_utf8_lossy(&offline.stdout).contains("Goods\t6918465055263683665"));
}

#[tokio::test]
async fn union_goods_links_orders_and_earnings_from_the_shell() {
    let sandbox = SandboxProcess::start();
    let goods = stdout_of(&run(&[
        "union",
        "--sandbox",
        &sandbox.url,
        "--json",
        "goods",
        "--page-size",
        "1",
        "--sort",
        "commission",
        "--desc",
    ]));
    let goods: serde_json::Value = serde_json::from_str(&goods).expect("goods JSON");
    let goods_id = goods["goodsInfoList"][0]["goodsId"]
        .as_str()
        .expect("goods id")
        .to_owned();
    let table = stdout_of(&run(&[
        "union",
        "--sandbox",
        &sandbox.url,
        "search",
        "连衣裙",
        "--page-size",
        "3",
    ]));
    assert!(table.contains("goods (page 1, 3 shown)"), "{table}");

    let links = stdout_of(&run(&[
        "union",
        "--sandbox",
        &sandbox.url,
        "--json",
        "link",
        &goods_id,
        "--chan-tag",
        "cli_pid",
    ]));
    let links: serde_json::Value = serde_json::from_str(&links).expect("links JSON");
    let short = links["urlInfoList"][0]["url"]
        .as_str()
        .expect("short link")
        .to_owned();

    let http = shopbridge_vop::http_client_builder().build().expect("http");
    let placed: serde_json::Value = http
        .post(format!("{}/_sandbox/vop/union/clicks", sandbox.url))
        .json(&serde_json::json!({"link": short, "scenario": "settles", "orders": 2}))
        .send()
        .await
        .expect("click")
        .json()
        .await
        .expect("orders");
    let expected: shopbridge_core::money::Decimal = placed["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| {
            o["commission"]
                .as_str()
                .expect("commission")
                .parse::<shopbridge_core::money::Decimal>()
                .expect("decimal")
        })
        .sum();
    http.post(format!("{}/_sandbox/clock", sandbox.url))
        .json(&serde_json::json!({"advance_seconds": 15 * 86_400}))
        .send()
        .await
        .expect("advance");

    // The CLI syncs its clock with the sandbox's, so its timestamps are accepted.
    let orders = stdout_of(&run(&[
        "union",
        "--sandbox",
        &sandbox.url,
        "--json",
        "orders",
    ]));
    let orders: serde_json::Value = serde_json::from_str(&orders).expect("orders JSON");
    let orders = orders.as_array().expect("a list");
    assert_eq!(orders.len(), 2, "settled within the last day");
    assert!(
        orders
            .iter()
            .all(|o| o["orderSubStatusName"] == "已结算" && o["pid"] == "cli_pid")
    );
    let too_long = run(&[
        "union",
        "--sandbox",
        &sandbox.url,
        "orders",
        "--from",
        "2000-01-01",
    ]);
    assert!(!too_long.status.success());
    assert!(String::from_utf8_lossy(&too_long.stderr).contains("at most 92 days"));
    let report = stdout_of(&run(&[
        "union",
        "--sandbox",
        &sandbox.url,
        "--json",
        "earnings",
        "--by",
        "pid",
    ]));
    let report: serde_json::Value = serde_json::from_str(&report).expect("report JSON");
    let row = report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == "cli_pid")
        .expect("cli_pid row")
        .clone();
    assert_eq!(row["settled_orders"], 2);
    assert_eq!(
        row["net"].as_str().map(str::to_owned),
        Some(expected.to_string())
    );
    let table = stdout_of(&run(&["union", "--sandbox", &sandbox.url, "earnings"]));
    assert!(
        table.lines().any(|line| line.starts_with("cli_pid")),
        "{table}"
    );
    let pids = stdout_of(&run(&[
        "union",
        "--sandbox",
        &sandbox.url,
        "pids",
        "gen",
        "渠道一",
    ]));
    assert!(pids.contains("9999 more PIDs"), "{pids}");
}

/// A vendor's access token from a sandbox process, through the real login pages.
async fn vendor_token(sandbox: &SandboxProcess, username: &str) -> String {
    let http = shopbridge_vop::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let creds: serde_json::Value = http
        .get(format!("{}/_sandbox/credentials", sandbox.url))
        .send()
        .await
        .expect("credentials")
        .json()
        .await
        .expect("json");
    let user = creds["vop"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == username)
        .expect("user")
        .clone();
    let redirect_uri = creds["vop"]["redirect_uris"][0]
        .as_str()
        .expect("redirect")
        .to_owned();
    let url = last_line(&run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "auth",
        "url",
        "--redirect-uri",
        &redirect_uri,
    ]));
    let decision = shopbridge_sandbox::browser::authorize(
        &http,
        &url,
        user["username"].as_str().expect("name"),
        user["password"].as_str().expect("password"),
        true,
    )
    .await
    .expect("approve");
    let exchange = stdout_of(&run(&[
        "vop",
        "--sandbox",
        &sandbox.url,
        "auth",
        "exchange",
        "--code",
        &decision.location.expect("redirect"),
        "--redirect-uri",
        &redirect_uri,
    ]));
    let tokens: serde_json::Value = serde_json::from_str(&exchange).expect("tokens");
    tokens["access_token"].as_str().expect("token").to_owned()
}

fn jit(sandbox: &SandboxProcess, token: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["jit", "--sandbox", &sandbox.url, "--vendor-id", "550"])
        .args(args)
        .env("SHOPBRIDGE_VOP_ACCESS_TOKEN", token)
        .output()
        .expect("run jit")
}

#[tokio::test]
async fn jit_orders_ship_stock_refunds_and_the_po_flow_from_the_shell() {
    let sandbox = SandboxProcess::start();
    let token = vendor_token(&sandbox, "vendor_demo").await;
    let orders: serde_json::Value = serde_json::from_str(&stdout_of(&jit(
        &sandbox,
        &token,
        &["--json", "orders", "--status", "JH_02"],
    )))
    .expect("orders JSON");
    let order = orders["items"][0]["plat_order_no"]
        .as_str()
        .expect("an order to ship")
        .to_owned();
    let shipped = stdout_of(&jit(
        &sandbox,
        &token,
        &[
            "--json",
            "ship",
            &order,
            "--logistic-type",
            "JH_014",
            "--logistic-no",
            "SF1",
        ],
    ));
    assert!(shipped.contains("\"logistic_no\": \"SF1\""), "{shipped}");
    let table = stdout_of(&jit(&sandbox, &token, &["orders", "--no", &order]));
    assert!(table.contains("JH_03"), "{table}");

    let products: serde_json::Value =
        serde_json::from_str(&stdout_of(&jit(&sandbox, &token, &["--json", "products"])))
            .expect("products");
    let listed = for_people(&jit(&sandbox, &token, &["products"]));
    assert!(listed.contains("products"), "{listed}");
    let barcode = products["items"][0]["skus"][0]["outer_id"]
        .as_str()
        .expect("barcode")
        .to_owned();
    let set = stdout_of(&jit(
        &sandbox,
        &token,
        &["stock", &barcode, "120", "--warehouse", "VIP_NH"],
    ));
    assert!(set.contains(&format!("{barcode} now 120")), "{set}");
    let added = stdout_of(&jit(
        &sandbox,
        &token,
        &[
            "stock",
            &barcode,
            "-20",
            "--incremental",
            "--warehouse",
            "VIP_NH",
        ],
    ));
    assert!(added.contains("now 100"), "{added}");
    let tripped = jit(
        &sandbox,
        &token,
        &["stock", &barcode, "0", "--warehouse", "VIP_NH"],
    );
    assert!(!tripped.status.success());
    assert!(String::from_utf8_lossy(&tripped.stderr).contains("熔断"));

    let refunds = stdout_of(&jit(&sandbox, &token, &["refunds", &order]));
    assert!(refunds.contains("JH_07"), "{refunds}");

    let pos: serde_json::Value = serde_json::from_str(&stdout_of(&jit(
        &sandbox,
        &token,
        &["--json", "po", "list"],
    )))
    .expect("POs");
    let po = pos[0]["po_no"].as_str().expect("po").to_owned();
    let warehouse = pos[0]["warehouse"].as_str().expect("warehouse").to_owned();
    let listed = for_people(&jit(&sandbox, &token, &["po", "list"]));
    let header = listed.lines().next().expect("header");
    assert!(
        header.contains("PO_NO") && header.contains("WAREHOUSE"),
        "{listed}"
    );
    assert!(listed.contains(&po), "{listed}");
    let skus = for_people(&jit(&sandbox, &token, &["po", "skus", &po]));
    assert!(
        skus.lines().next().is_some_and(|h| h.contains("BARCODE")),
        "{skus}"
    );
    let picks: serde_json::Value = serde_json::from_str(&stdout_of(&jit(
        &sandbox,
        &token,
        &["--json", "pick", "create", &po],
    )))
    .expect("picks");
    let pick = picks[0]["pick_no"].as_str().expect("pick").to_owned();
    let detail: serde_json::Value = serde_json::from_str(&stdout_of(&jit(
        &sandbox,
        &token,
        &["--json", "pick", "detail", &po, &pick],
    )))
    .expect("detail");
    let shown = for_people(&jit(&sandbox, &token, &["pick", "detail", &po, &pick]));
    assert!(
        shown.contains("pick_product_list:") && shown.contains("BARCODE"),
        "{shown}"
    );
    let line = format!(
        "{}:{}",
        detail["pick_product_list"][0]["barcode"]
            .as_str()
            .expect("barcode"),
        detail["pick_product_list"][0]["stock"]
    );
    let delivery: serde_json::Value = serde_json::from_str(&stdout_of(&jit(
        &sandbox,
        &token,
        &[
            "--json",
            "delivery",
            "create",
            "--po",
            &po,
            "--delivery-no",
            "SF9",
            "--warehouse",
            &warehouse,
            "--carrier-code",
            "SF",
            "--carrier-name",
            "顺丰",
        ],
    )))
    .expect("delivery");
    let storage = delivery["storage_no"].as_str().expect("storage").to_owned();
    stdout_of(&jit(
        &sandbox,
        &token,
        &[
            "delivery",
            "import",
            "--po",
            &po,
            "--storage-no",
            &storage,
            "--pick",
            &pick,
            &line,
        ],
    ));
    stdout_of(&jit(&sandbox, &token, &["delivery", "confirm", &storage]));
    let deliveries = for_people(&jit(&sandbox, &token, &["delivery", "list"]));
    assert!(deliveries.contains(&storage), "{deliveries}");
    let bad = jit(
        &sandbox,
        &token,
        &[
            "delivery",
            "import",
            "--po",
            &po,
            "--storage-no",
            &storage,
            "x:0",
        ],
    );
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("positive"));
    let other = Command::new(BIN)
        .args([
            "jit",
            "--sandbox",
            &sandbox.url,
            "--vendor-id",
            "551",
            "po",
            "list",
        ])
        .env("SHOPBRIDGE_VOP_ACCESS_TOKEN", &token)
        .output()
        .expect("run jit");
    assert!(!other.status.success() && String::from_utf8_lossy(&other.stderr).contains("551"));
}

#[test]
fn sign_winit_prints_the_spec_vectors() {
    let common = [
        "action=queryWarehouse",
        "app_key=rebecca",
        "data={}",
        "platform=OWNERERP",
        "timestamp=2024-01-01 12:00:00",
    ];
    let token = run(&[
        &["sign", "winit", "--secret", "89435277FA3BA272DE795559998E-"][..],
        &common[..],
    ]
    .concat());
    assert_eq!(last_line(&token), "554B618743F9C1FA987F34E903C689D8");
    let client = run(&[
        &[
            "sign",
            "winit",
            "--secret",
            "ODQ4YWY0ZWETMZLLZC00MJFJLTG3NWUTYTMWNGIYMJFINJFJODK4OTMZNZY1NDA3MJE3MA==",
        ][..],
        &common[..],
    ]
    .concat());
    assert_eq!(last_line(&client), "6496CF4FBB1ECBE85D4E2DDAB081FA20");
    // Vector D with the data keys out of order and spaced: canonicalized before signing.
    let data = r#"data={ "zipCode":"90001", "warehouseID":1000008, "state":"US", "sellerOrderNo":"SO-1001", "repeatable":"N", "region":"CA",
        "recipientName":"José Müller", "productList":[{"specification":"","productNum":"2","productCode":"SKU-1","eBayTransactionID":"",
        "eBaySellerID":"","eBayItemID":"","eBayBuyerID":""}], "phoneNum":"5551234567", "insuranceTypeID":1000000,
        "emailAddress":"a@b.com", "eBayOrderID":"", "doorplateNumbers":"1", "deliveryWayID":"1000020", "city":"Los Angeles",
        "address2":"", "address1":"1 Main St" }"#;
    let d = run(&[
        "sign",
        "winit",
        "--secret",
        "89435277FA3BA272DE795559998E-",
        "action=createOutboundOrder",
        "app_key=rebecca",
        data,
        "platform=OWNERERP",
        "timestamp=2024-01-01 12:00:00",
    ]);
    assert_eq!(last_line(&d), "6946F49138EC689A1A0CB289C0EF446E");
    let unknown = run(&["sign", "winit", "--secret", "s", "action=a", "client_id=x"]);
    assert!(
        !unknown.status.success() && String::from_utf8_lossy(&unknown.stderr).contains("client_id")
    );
}

#[tokio::test]
async fn winit_warehouses_outbound_inventory_and_tracking_from_the_shell() {
    let sandbox = SandboxProcess::start();
    let winit = |args: &[&str]| run(&[&["winit", "--sandbox", &sandbox.url][..], args].concat());
    let warehouses = stdout_of(&winit(&["warehouses"]));
    assert!(warehouses.contains("DE0001"), "{warehouses}");
    assert!(stdout_of(&winit(&["delivery-ways", "1000089"])).contains("house number required: Y"));
    // Warehouse codes work wherever an id does; an unknown one names the codes there are.
    assert_eq!(
        stdout_of(&winit(&["delivery-ways", "DE0001"])),
        stdout_of(&winit(&["delivery-ways", "1000089"]))
    );
    assert_eq!(
        stdout_of(&winit(&["inventory", "us0001"])),
        stdout_of(&winit(&["inventory", "1000008"]))
    );
    let unknown = winit(&["inventory", "XX9999"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("US0001"));
    let created = stdout_of(&winit(&[
        "outbound",
        "create",
        "--warehouse",
        "US0001",
        "--delivery-way",
        "1000020",
        "--order-no",
        "CLI-1",
        "--name",
        "Ann",
        "--phone",
        "555",
        "--country",
        "US",
        "--region",
        "CA",
        "--city",
        "LA",
        "--zip",
        "90001",
        "--address",
        "1 Main St",
        "SKU-1:2",
    ]));
    let number = created.trim().to_owned();
    assert!(number.starts_with("WO"), "{created}");
    let products = for_people(&winit(&["products"]));
    assert!(
        products.contains("PRODUCTCODE") && products.contains("SKU-1"),
        "{products}"
    );
    let listed = for_people(&winit(&["outbound", "list"]));
    assert!(listed.contains(&number), "{listed}");
    let shown = for_people(&winit(&["outbound", "get", &number]));
    assert!(shown.contains(&number), "{shown}");
    let no_house = winit(&[
        "outbound",
        "create",
        "--warehouse",
        "1000089",
        "--delivery-way",
        "1000120",
        "--order-no",
        "CLI-2",
        "--name",
        "Max",
        "--phone",
        "49151",
        "--country",
        "DE",
        "--region",
        "Hessen",
        "--city",
        "Frankfurt",
        "--zip",
        "60311",
        "--address",
        "Zeil",
        "SKU-1:1",
    ]);
    assert!(!no_house.status.success());
    assert!(String::from_utf8_lossy(&no_house.stderr).contains("doorplateNumbers"));
    let http = shopbridge_vop::http_client_builder().build().expect("http");
    http.post(format!("{}/_sandbox/clock", sandbox.url))
        .json(&serde_json::json!({"advance_seconds": 7 * 3600}))
        .send()
        .await
        .expect("advance");
    let tracking = stdout_of(&winit(&["track", &number]));
    assert!(
        tracking.contains("DLI") && tracking.contains("派送中"),
        "{tracking}"
    );
    let inventory = stdout_of(&winit(&["inventory", "1000008"]));
    assert!(
        inventory.lines().any(|l| l.starts_with("SKU-1")),
        "{inventory}"
    );
    assert!(
        !winit(&["outbound", "void", &number]).status.success(),
        "dispatched orders cannot be voided"
    );
}

#[tokio::test]
async fn keys_rotate_reencrypts_and_the_store_still_opens() {
    let sandbox = SandboxProcess::start();
    let store = StoreDir::new("rotate");
    let (database, key) = (store.database.clone(), store.key.as_str());
    let key_file = std::path::PathBuf::from(key);
    let dir = key_file.parent().expect("its directory").to_path_buf();
    let sync = || store.sync_union(&sandbox);
    assert!(stdout_of(&sync()).contains("synced union orders"));
    // A key file that is not there is refused, not made up.
    let missing = dir.join("missing.key");
    let refused = run(&[
        "keys",
        "--database",
        &database,
        "--master-key-file",
        missing.to_str().expect("path"),
        "rotate",
    ]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no master key at"),
        "{refused:?}"
    );
    assert!(!missing.exists() && !dir.join("missing.key.next").exists());
    let before = std::fs::read_to_string(&key_file).expect("key");
    let rotated = stdout_of(&run(&[
        "keys",
        "--database",
        &database,
        "--master-key-file",
        key,
        "rotate",
    ]));
    assert!(rotated.contains("re-encrypted 2 secrets"), "{rotated}");
    let after = std::fs::read_to_string(&key_file).expect("key");
    assert_ne!(before, after);
    assert_eq!(
        std::fs::read_to_string(dir.join("master.key.old")).expect("old key"),
        before
    );
    // Without the old key file the store opens with the new key alone.
    std::fs::remove_file(dir.join("master.key.old")).expect("remove old key");
    assert!(stdout_of(&sync()).contains("synced union orders"));
    let report = stdout_of(&run(&[
        "quota",
        "--database",
        &database,
        "--master-key-file",
        key,
        "report",
    ]));
    let line = report
        .lines()
        .find(|l| l.starts_with("orderList"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(line.contains("100.0%") && line.ends_with("no"), "{line}");
    // Columns: method, caller, calls, success, peak use, average use, upgrade.
    let peak_use = |line: &str| -> f64 {
        line.split_whitespace()
            .nth(4)
            .and_then(|peak| peak.trim_end_matches('%').parse().ok())
            .unwrap_or_else(|| panic!("no peak use in {line}"))
    };
    let documented_peak = peak_use(line);
    assert!(documented_peak > 0.0, "{line}");
    // Rated against a quota the app was granted instead: twice the limit, half the use.
    let granted = stdout_of(&run(&[
        "quota",
        "--database",
        &database,
        "--master-key-file",
        key,
        "report",
        "--quota",
        "orderList=360/30s",
    ]));
    let line = granted
        .lines()
        .find(|l| l.starts_with("orderList"))
        .unwrap_or_else(|| panic!("{granted}"));
    assert!(
        (peak_use(line) - documented_peak / 2.0).abs() < 0.06,
        "{line} against {documented_peak}%"
    );
    let bad = run(&[
        "quota",
        "--database",
        &database,
        "--master-key-file",
        key,
        "report",
        "--quota",
        "orderList=lots",
    ]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("orderList"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sign_poly_prints_the_spec_vectors() {
    let tv2 = run(&[
        "sign",
        "poly",
        "--secret",
        "5ee2084de90043be989d4d99d0dd0eaa",
        "appkey=438b2f6ff103422a98a9349507293bb2",
        "token=9415c33b04d24c7dae320b0185f42fb0",
        "method=Differ.JH.Business.DownloadProduct",
        "platid=500",
        "version=1.1",
        "contenttype=json",
        "timestamp=2013-02-15 13:32:30",
        r#"bizcontent={"a":"a1","b":"b1"}"#,
        "contextid=20130206454048",
    ]);
    assert!(tv2.status.success());
    assert_eq!(last_line(&tv2), "16a5815aa39f21b4a7948dea4216b3a5");
    let key = "8085dbc11647487ea3d9425f9102eb1c";
    let tv1 = run(&[
        "sign",
        "poly",
        "--secret",
        key,
        "method=Differ.JH.Business.GetOrder",
        &format!("appkey={key}"),
        &format!("token={key}"),
        r#"bizcontent={"OrderStatus":"JH_99","PlatOrderNo":"","StartTime":"2023-04-18 14:34:49","EndTime":"2023-04-25 14:34:49","TimeType":"JH_02","PageIndex":1,"PageSize":30}"#,
    ]);
    assert_eq!(last_line(&tv1), "08b95e1b2f5f4814f0f7a015c691939f");
    let twice = run(&["sign", "poly", "--secret", "s", "a=1", "A=2"]);
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("given twice"));
}

/// Demo-mode `serve` points people at the console and the API docs, sends `/` to the console,
/// and removes its throwaway database when it is stopped (SIGTERM, as `systemctl stop` sends).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_hub_shows_its_pages_and_cleans_up_when_stopped() {
    let temp = std::env::temp_dir().join(format!("sb-demo-tmp-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&temp).expect("dir");
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--union-goods", "50"])
        .env("TMPDIR", &temp)
        .env_remove("SHOPBRIDGE_DATABASE_URL")
        .env_remove("SHOPBRIDGE_VOP_APP_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut banner = String::new();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    for line in lines.by_ref() {
        let line = line.expect("line");
        banner.push_str(&line);
        banner.push('\n');
        if line == "ready" {
            break;
        }
    }
    assert!(
        banner.contains("/console") && banner.contains("/swagger-ui/"),
        "{banner}"
    );
    let hub = banner
        .lines()
        .find_map(|l| l.strip_prefix("shopbridge hub at "))
        .expect("url")
        .trim()
        .to_owned();
    let demo_files = || {
        std::fs::read_dir(&temp)
            .expect("temp")
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("shopbridge-demo-")
            })
            .count()
    };
    assert!(
        demo_files() >= 1,
        "the demo's database is in the temp directory"
    );
    let http = shopbridge_core::http::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let root = http.get(format!("{hub}/")).send().await.expect("root");
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()["location"], "/console");
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "a clean exit: {status}");
    assert_eq!(demo_files(), 0, "the demo's database was removed");
    let _ = std::fs::remove_dir_all(&temp);
}

/// A listing whose reader goes away early (`| head`) ends quietly with success, not a panic.
#[test]
fn a_closed_pipe_ends_a_listing_quietly() {
    let sandbox = SandboxProcess::start();
    let mut child = Command::new(BIN)
        .args(["winit", "--sandbox", &sandbox.url, "warehouses"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // The reader closes before the listing is written.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success(), "{stderr}");
}

/// `--log-format json` writes one JSON object a line, with an access line per request (its
/// request id echoed to the caller) and a line per sync run, no colour codes and no secrets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_requests_and_sync_runs_as_json() {
    let temp = std::env::temp_dir().join(format!("sb-logs-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&temp).expect("dir");
    let mut child = Command::new(BIN)
        .args(["--log", "info", "--log-format", "json"])
        .args(["serve", "--addr", "127.0.0.1:0", "--union-goods", "50"])
        .env("TMPDIR", &temp)
        .env_remove("SHOPBRIDGE_DATABASE_URL")
        .env_remove("SHOPBRIDGE_VOP_APP_KEY")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut hub = String::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("line");
        if let Some(url) = line.strip_prefix("shopbridge hub at ") {
            hub = url.trim().to_owned();
        }
        if line == "ready" {
            break;
        }
    }
    let http = shopbridge_core::http::client_builder()
        .build()
        .expect("http");
    let answer = http
        .get(format!("{hub}/healthz"))
        .header("x-request-id", "trace-42")
        .send()
        .await
        .expect("health");
    assert_eq!(answer.headers()["x-request-id"], "trace-42");
    let demo: serde_json::Value = http
        .get(format!("{hub}/demo/credentials"))
        .send()
        .await
        .expect("demo")
        .json()
        .await
        .expect("json");
    let secret = demo["appsecret"].as_str().expect("secret").to_owned();
    http.post(format!("{hub}/v1/sync/run"))
        .bearer_auth(format!(
            "{}:{secret}",
            demo["appkey"].as_str().expect("key")
        ))
        .send()
        .await
        .expect("sync")
        .error_for_status()
        .expect("synced");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let message =
        |line: &serde_json::Value| line["fields"]["message"].as_str().unwrap_or("").to_owned();
    assert!(
        lines.iter().any(|l| message(l) == "http request"
            && l["fields"]["request_id"] == "trace-42"
            && l["fields"]["path"] == "/healthz"),
        "{stderr}"
    );
    assert!(lines.iter().any(|l| message(l) == "sync run"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "no colour codes");
    assert!(!stderr.contains(&secret), "no secret in the logs");
    let _ = std::fs::remove_dir_all(&temp);
}

/// `sync union` runs its stream under the lease a serving hub's runs take: while another
/// process holds it the command is refused, naming the holder; a lease left by a `sync` of this
/// machine that was killed is taken over at once, not waited out.
#[tokio::test]
async fn sync_union_waits_its_turn_on_the_streams_lease() {
    let sandbox = SandboxProcess::start();
    let store = StoreDir::new("lease");
    let sync = || store.sync_union(&sandbox);
    assert!(stdout_of(&sync()).contains("synced union orders"));
    common::hold_union_orders(&store.database, "hub-1").await;
    let refused = sync();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("is being synced by hub-1 (its lease runs until"),
        "{stderr}"
    );
    // A `sync` of this machine that has exited holds it: taken over.
    common::hold_union_orders(&store.database, &common::exited_process("sync")).await;
    assert!(stdout_of(&sync()).contains("synced union orders"));
}

/// SIGTERM (or Ctrl-C) stops `sync union` after its page: it says so and exits with 75 ("try
/// again"), with what it read stored and the stream handed back due, and the next run finishes
/// from there.
#[tokio::test]
async fn sync_union_stops_after_its_page_on_sigterm() {
    let sandbox = SandboxProcess::start();
    // Slow answers: the run's 31 one-day windows take seconds, so the signal lands mid-run.
    let faults = shopbridge_vop::http_client_builder()
        .build()
        .expect("http")
        .post(format!("{}/_sandbox/faults", sandbox.url))
        .json(&serde_json::json!({ "latency_ms": 150 }))
        .send()
        .await
        .expect("faults");
    assert!(faults.status().is_success());
    let store = StoreDir::new("stop");
    let database = &store.database;
    let sync = || {
        let mut command = store.sync_union_command(&sandbox, "30");
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    };
    let child = sync().spawn().expect("sync");
    // Once a batch of pages is stored, the run is certainly under way.
    let query = async |sql: &str| -> Result<Option<String>, sqlx::Error> {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect(&format!("{database}?mode=ro")).await?;
        sqlx::query_scalar(sql).fetch_optional(&mut db).await
    };
    let mut checked = 0;
    loop {
        // Before the command has made its database, there is nothing to read yet.
        match query("SELECT CAST(cursor_ms AS TEXT) FROM sync_checkpoints").await {
            Ok(Some(_)) => break,
            Ok(None) => {}
            Err(err) if checked > 100 => panic!("the sync's database: {err}"),
            Err(_) => {}
        }
        checked += 1;
        assert!(checked < 600, "no page was stored within a minute");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    // Stopped after its page: within a minute, or it is killed and the test fails.
    let mut child = child;
    let mut waited = 0;
    while child.try_wait().expect("wait").is_none() {
        waited += 1;
        if waited > 600 {
            let _ = child.kill();
            panic!("the sync did not stop within a minute of SIGTERM");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let stopped = child.wait_with_output().expect("exit");
    assert_eq!(stopped.status.code(), Some(75), "{stopped:?}");
    let said = String::from_utf8_lossy(&stopped.stdout);
    assert!(said.contains("union orders sync stopped"), "{said}");
    assert_eq!(
        query("SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1")
            .await
            .expect("runs"),
        Some("interrupted".to_owned())
    );
    assert_eq!(
        query("SELECT COALESCE(lease_owner, 'none') || ' ' || last_status FROM sync_schedule WHERE stream = 'union_orders'")
            .await
            .expect("schedule"),
        Some("none interrupted".to_owned()),
        "handed back"
    );
    let finished = sync().output().expect("sync");
    assert!(
        String::from_utf8_lossy(&finished.stdout).contains("synced union orders"),
        "{finished:?}"
    );
}

/// `shops sums` checks every shop's kept sums against its rows, fails when one differs, and
/// with `--rebuild` puts back what the rows make.
#[tokio::test]
async fn shops_sums_finds_and_rebuilds_a_sum_that_differs() {
    let sandbox = SandboxProcess::start();
    let store = StoreDir::new("sums");
    assert!(stdout_of(&store.sync_union(&sandbox)).contains("synced union orders"));
    let sums = |extra: &[&str]| {
        let mut args = vec![
            "shops",
            "--database",
            &store.database,
            "--master-key-file",
            &store.key,
            "sums",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let agreed = sums(&[]);
    assert!(agreed.status.success(), "{agreed:?}");
    // A sum no row makes: found, and the command fails.
    sqlx::query(
        "INSERT INTO union_settled_daily (connection_id, day_ms, chan_tag, stat_param, orders, commission_e4)
         SELECT id, 0, 'x', '', 5, 50000 FROM connections",
    )
    .execute(&mut common::sqlite(&store.database).await)
    .await
    .expect("a sum no row makes");
    let found = sums(&["--json"]);
    assert!(!found.status.success());
    let report: serde_json::Value = serde_json::from_slice(&found.stdout).expect("a JSON report");
    assert_eq!(report[0]["agrees"], false, "{report}");
    assert_eq!(report[0]["tables"][0]["differing"], 1, "{report}");
    assert!(String::from_utf8_lossy(&found.stderr).contains("--rebuild"));
    let rebuilt = sums(&["--rebuild"]);
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    assert!(String::from_utf8_lossy(&rebuilt.stdout).contains("rebuilt"));
    assert!(sums(&[]).status.success());
    let unknown = sums(&["--shop", "no-such-shop"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no-such-shop"));
}

/// A hub that starts after one on this machine crashed (killed, or restarted by its service
/// manager) resumes the streams it left leased at once, not when their leases lapse; a lease
/// of a process still running is left alone.
#[tokio::test]
async fn a_hub_resumes_the_streams_a_crashed_one_left_leased() {
    let sandbox = SandboxProcess::start();
    let store = StoreDir::new("crashed");
    assert!(stdout_of(&store.sync_union(&sandbox)).contains("synced union orders"));
    let database = &store.database;
    let scheduled = |extra: &[&str]| {
        let mut args = vec![
            "sync",
            "--database",
            database,
            "--master-key-file",
            &store.key,
            "scheduled",
            "--sandbox",
            &sandbox.url,
            "--until-idle",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    // Held by a process that is running (this test, named as a hub): left as it is.
    let running = common::process_name("serve", std::process::id());
    common::hold_union_orders(database, &running).await;
    let idle = scheduled(&[]);
    assert!(idle.status.success(), "{idle:?}");
    assert_eq!(
        common::union_orders_holder(database).await,
        Some(running.clone()),
        "a running holder's lease stays"
    );
    // Held by a `serve` of this machine that has exited: handed back, and run.
    common::hold_union_orders(database, &common::exited_process("serve")).await;
    let resumed = scheduled(&[]);
    assert!(resumed.status.success(), "{resumed:?}");
    assert_eq!(
        common::union_orders_holder(database).await,
        None,
        "handed back, run, and released"
    );
    let last: Option<String> =
        sqlx::query_scalar("SELECT last_status FROM sync_schedule WHERE stream = 'union_orders'")
            .fetch_one(&mut common::sqlite(database).await)
            .await
            .expect("schedule");
    assert_eq!(last.as_deref(), Some("complete"), "run to its end");
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains("has exited; handed the stream back"),
        "{stderr}"
    );
    // A name given by hand that reads as a made one is refused: it could be taken for an
    // exited process's while its own runs.
    let refused = scheduled(&["--owner", &running]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--owner"));
}
