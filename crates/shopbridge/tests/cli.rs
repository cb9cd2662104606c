//! The command line as a user runs it: signing vectors, the demo, a sandbox process and calls.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

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
        "[3] OAuth",
        "[4] Tool-provider mode",
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
