//! The unified endpoint `/openapi/do` over loopback, with the hub in-process on a sandbox: every
//! common-parameter failure and its subcode, tenant isolation, case-insensitive bizcontent, the
//! batch methods, stock and products, and shop authorization through the platform's login page.

mod common;

use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_hub::polyapi::sign;

use common::{A, B, HubEnv as Env};

impl Env {
    /// GetAuthorizeSessionKey for the one-time code the ERP's callback received.
    async fn redeem(&self, tenant: (&str, &str), code: &str) -> Value {
        self.call(
            tenant,
            "Differ.JH.GetAuthorizeSessionKey",
            "",
            "9002",
            json!({ "code": code }),
        )
        .await
    }

    fn timestamp(&self) -> String {
        shopbridge_vop::time::format_datetime_ms(self.sandbox.clock().now_ms())
    }

    /// Posts form parameters as given (signing them with `secret` unless `sign` is present).
    async fn post(&self, secret: &str, params: &[(&str, &str)]) -> Value {
        let mut params: Vec<(String, String)> = params
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        if !params.iter().any(|(n, _)| n == "sign") {
            let sign = sign::sign(secret, params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            params.push(("sign".into(), sign));
        }
        self.http
            .post(format!("{}/openapi/do", self.hub))
            .form(&params)
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("envelope")
    }

    async fn call(
        &self,
        tenant: (&str, &str),
        method: &str,
        token: &str,
        platid: &str,
        biz: Value,
    ) -> Value {
        let biz = biz.to_string();
        let timestamp = self.timestamp();
        self.post(
            tenant.1,
            &[
                ("method", method),
                ("appkey", tenant.0),
                ("token", token),
                ("platid", platid),
                ("version", "1.1"),
                ("contenttype", "json"),
                ("timestamp", &timestamp),
                ("bizcontent", &biz),
            ],
        )
        .await
    }
}

fn failed(answer: &Value, subcode: &str) {
    assert_eq!(answer["code"], "40000", "{answer}");
    assert_eq!(answer["subcode"], subcode, "{answer}");
    assert!(answer["polyapirequestid"].is_string());
}

/// Where the hub sent the browser after the platform: the ERP's callback, and its query.
fn erp_callback(landed: &reqwest::Response) -> std::collections::HashMap<String, String> {
    assert_eq!(landed.status(), 302);
    let back =
        url::Url::parse(landed.headers()["location"].to_str().expect("location")).expect("url");
    assert_eq!(back.host_str(), Some("erp.example"));
    back.query_pairs().into_owned().collect()
}

fn ok(answer: &Value) -> &Value {
    assert_eq!(answer["code"], "10000", "{answer}");
    answer
}

#[tokio::test]
async fn every_common_parameter_failure_has_its_subcode() {
    let env = Env::start().await;
    let ts = env.timestamp();
    let base = |method: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("method", method.to_owned()),
            ("appkey", A.0.to_owned()),
            ("token", env.jit_a.clone()),
            ("platid", "9002".to_owned()),
            ("timestamp", ts.clone()),
            ("bizcontent", "{}".to_owned()),
        ]
    };
    let post = |params: Vec<(&'static str, String)>, secret: &'static str| {
        let env = &env;
        async move {
            let borrowed: Vec<(&str, &str)> =
                params.iter().map(|(n, v)| (*n, v.as_str())).collect();
            env.post(secret, &borrowed).await
        }
    };
    let mut no_method = base("x");
    no_method.remove(0);
    failed(&post(no_method, A.1).await, "GSE.MISS_PARAMETER");
    let mut stranger = base("Differ.JH.Business.GetOrder");
    stranger[1].1 = "nobody".into();
    failed(&post(stranger, A.1).await, "GSE.APPKEY_FAILURE");
    failed(
        &post(base("Differ.JH.Business.GetOrder"), "wrong").await,
        "GSE.VERIFYSIGN_FAILURE",
    );
    let mut stale = base("Differ.JH.Business.GetOrder");
    stale[4].1 = "2013-02-15 13:32:30".into();
    let answer = post(stale, A.1).await;
    failed(&answer, "GSE.INVALID_PARAMETER");
    assert!(
        answer["submessage"]
            .as_str()
            .expect("text")
            .contains("timestamp")
    );
    failed(
        &post(base("Differ.JH.Business.Nothing"), A.1).await,
        "GSE.ILLEGAL_ACCESS",
    );
    let mut xml = base("Differ.JH.Business.GetOrder");
    xml.push(("contenttype", "xml".into()));
    failed(&post(xml, A.1).await, "GSE.INVALID_PARAMETER");
    let mut not_json = base("Differ.JH.Business.GetOrder");
    not_json[5].1 = "{oops".into();
    failed(&post(not_json, A.1).await, "GSE.INVALID_PARAMETER");
    let mut no_token = base("Differ.JH.Business.GetOrder");
    no_token.remove(2);
    failed(&post(no_token, A.1).await, "GSE.MISS_PARAMETER");
    let answer = env
        .call(
            A,
            "Differ.JH.Business.GetOrder",
            &env.jit_a,
            "9001",
            json!({"PlatOrderNo": "1"}),
        )
        .await;
    failed(&answer, "GSE.INVALID_PARAMETER");
    assert!(
        answer["submessage"]
            .as_str()
            .expect("text")
            .contains("platid")
    );
    failed(
        &env.call(
            A,
            "Differ.JH.Business.GetOrder",
            &env.union_a,
            "9001",
            json!({"PlatOrderNo": "1"}),
        )
        .await,
        "GSE.PLAT_NOT_SUPPORT",
    );
    failed(
        &env.call(
            A,
            "Differ.JH.Business.GetOrder",
            &env.jit_a,
            "9002",
            json!({"PageSize": 500, "StartTime": ts, "EndTime": ts}),
        )
        .await,
        "GSE.INVALID_PARAMETER",
    );
    failed(
        &env.call(
            A,
            "Differ.JH.Business.GetOrder",
            &env.jit_a,
            "9002",
            json!({"OrderStatus": "JH_99"}),
        )
        .await,
        "GSE.MISS_PARAMETER",
    );
    // contextid is not signed: adding it keeps the sign valid.
    let mut with_context = base("Differ.JH.Business.GetOrder");
    with_context[5].1 = json!({"PlatOrderNo": "nothing"}).to_string();
    let signed: Vec<(&str, &str)> = with_context.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let sign = sign::sign(A.1, signed.iter().copied());
    with_context.push(("sign", sign));
    with_context.push(("contextid", "20130206454048".into()));
    ok(&post(with_context, A.1).await);
}

#[tokio::test]
async fn a_tenant_never_reaches_another_tenants_shop() {
    let env = Env::start().await;
    let biz = json!({"PlatOrderNo": "anything"});
    for (tenant, token) in [
        (A, env.jit_b.clone()),
        (B, env.jit_a.clone()),
        (B, env.union_a.clone()),
    ] {
        let answer = env
            .call(
                tenant,
                "Differ.JH.Business.GetOrder",
                &token,
                "9002",
                biz.clone(),
            )
            .await;
        failed(&answer, "GSE.INVALID_PARAMETER");
        assert!(
            answer["submessage"]
                .as_str()
                .expect("text")
                .contains("token"),
            "{answer}"
        );
        let send = env
            .call(
                tenant,
                "Differ.JH.Business.Send",
                &token,
                "9002",
                json!({"PlatOrderNo": "1", "LogisticType": "JH_014", "LogisticNo": "X"}),
            )
            .await;
        failed(&send, "GSE.INVALID_PARAMETER");
    }
    // Each tenant's own token works.
    ok(&env
        .call(
            A,
            "Differ.JH.Business.GetOrder",
            &env.jit_a,
            "9002",
            biz.clone(),
        )
        .await);
    ok(&env
        .call(B, "Differ.JH.Business.GetOrder", &env.jit_b, "9002", biz)
        .await);
}

#[tokio::test]
async fn orders_products_stock_and_batches() {
    let env = Env::start().await;
    let now = env.sandbox.clock().now_ms();
    let (from, to) = (
        shopbridge_vop::time::format_datetime_ms(now - 30 * 86_400_000),
        shopbridge_vop::time::format_datetime_ms(now),
    );
    // Keys in any case, as ERPs send them.
    let lower = env
        .call(
            A,
            "Differ.JH.Business.GetOrder",
            &env.jit_a,
            "9002",
            json!({"orderstatus": "JH_02", "starttime": from, "endtime": to, "pagesize": 100}),
        )
        .await;
    let upper = env
        .call(
            A,
            "Differ.JH.Business.GetOrder",
            &env.jit_a,
            "9002",
            json!({"ORDERSTATUS": "JH_02", "StartTime": from, "EndTime": to, "PageSize": 100}),
        )
        .await;
    assert_eq!(ok(&lower)["orders"], ok(&upper)["orders"]);
    let waiting = lower["orders"].as_array().expect("orders").clone();
    assert!(waiting.len() >= 2, "{lower}");
    assert!(waiting.iter().all(|o| o["tradestatus"] == "JH_02"));

    // BatchSend: one good shipment, one for an order that does not exist.
    let number = waiting[0]["platorderno"].as_str().expect("number");
    let batch = env
        .call(
            A,
            "Differ.JH.Business.BatchSend",
            &env.jit_a,
            "9002",
            json!({"orders": [
                {"platorderno": number, "logistictype": "JH_014", "logisticno": "SF0001"},
                {"platorderno": "NO-SUCH-ORDER", "logistictype": "JH_014", "logisticno": "SF0002"},
            ]}),
        )
        .await;
    let results = ok(&batch)["results"].as_array().expect("results").clone();
    assert_eq!(results[0]["issuccess"], 1, "{batch}");
    assert_eq!(results[1]["issuccess"], 0);
    assert_eq!(results[1]["platorderno"], "NO-SUCH-ORDER");
    let checks = env
        .call(
            A,
            "Differ.JH.Business.BatchCheckRefundStatus",
            &env.jit_a,
            "9002",
            json!({"orders": [{"platorderno": number}]}),
        )
        .await;
    assert_eq!(ok(&checks)["results"][0]["refundstatus"], "JH_07");

    // Products from the store; stock pushed live.
    let products = env
        .call(
            A,
            "Differ.JH.Business.DownloadProduct",
            &env.jit_a,
            "9002",
            json!({"PageIndex": 1, "PageSize": 10}),
        )
        .await;
    let goods = ok(&products)["goodslist"]
        .as_array()
        .expect("goods")
        .clone();
    assert!(!goods.is_empty());
    let barcode = goods[0]["skus"][0]["skuouterid"].as_str().expect("barcode");
    let stock = env
        .call(A, "Differ.JH.Business.SyncStock", &env.jit_a, "9002", json!({"PlatProductID": goods[0]["platproductid"], "OuterID": barcode, "Quantity": 37, "WhseCode": "VIP_NH"}))
        .await;
    assert_eq!(ok(&stock)["quantity"], 37);
    // A platform's refusal is GSE.LOGIC_ERROR, whatever the method: here a circuit break
    // (熔断), a drop of more than 50 at once without the acknowledgement.
    let high = env
        .call(
            A,
            "Differ.JH.Business.SyncStock",
            &env.jit_a,
            "9002",
            json!({"OuterID": barcode, "Quantity": 500, "WhseCode": "VIP_NH"}),
        )
        .await;
    assert_eq!(ok(&high)["quantity"], 500);
    let drop = env
        .call(
            A,
            "Differ.JH.Business.SyncStock",
            &env.jit_a,
            "9002",
            json!({"OuterID": barcode, "Quantity": 37, "WhseCode": "VIP_NH"}),
        )
        .await;
    failed(&drop, "GSE.LOGIC_ERROR");
    let acknowledged = env
        .call(A, "Differ.JH.Business.SyncStock", &env.jit_a, "9002", json!({"OuterID": barcode, "Quantity": 37, "WhseCode": "VIP_NH", "CircuitBreakFlag": "1"}))
        .await;
    assert_eq!(ok(&acknowledged)["quantity"], 37);
    let batch = env
        .call(
            A,
            "Differ.JH.Business.BatchSyncStock",
            &env.jit_a,
            "9002",
            json!({"goods": [{"outerid": barcode, "quantity": 5, "syncstocktype": "JH_02", "whsecode": "VIP_NH"}, {"outerid": barcode, "quantity": -1}]}),
        )
        .await;
    let results = ok(&batch)["results"].as_array().expect("results").clone();
    assert_eq!(
        (
            results[0]["issuccess"].clone(),
            results[0]["quantity"].clone()
        ),
        (json!(1), json!(42))
    );
    assert_eq!(
        results[1]["issuccess"], 0,
        "a negative full level is refused: {batch}"
    );
    // Refunds of the synced orders (cancelled direct-ship orders).
    let refunds = env
        .call(
            A,
            "Differ.JH.Business.GetRefund",
            &env.jit_a,
            "9002",
            json!({"BeginTime": from, "EndTime": to}),
        )
        .await;
    assert!(ok(&refunds)["totalcount"].is_u64());
}

#[tokio::test]
async fn shops_are_authorized_through_the_unified_endpoint() {
    let env = Env::start().await;
    let creds = env.sandbox.credentials();
    let built = env
        .call(
            A,
            "Differ.JH.BuildeAuthorizeUrl",
            "",
            "9002",
            json!({"callbackurl": "https://erp.example/cb", "state": "s-1", "shopname": "new JIT shop", "vendorid": creds.vop.vendor_id}),
        )
        .await;
    let url = ok(&built)["authorizeurl"].as_str().expect("url").to_owned();
    // A Winit warehouse is authorized the same way, on Winit's page.
    let winit = env
        .call(
            A,
            "Differ.JH.BuildeAuthorizeUrl",
            "",
            "9003",
            json!({"callbackurl": "https://erp.example/cb", "shopname": "warehouse", "seller": "seller-1"}),
        )
        .await;
    let winit_url = ok(&winit)["authorizeurl"].as_str().expect("url");
    assert!(winit_url.contains("winit"), "{winit_url}");
    let landed = common::approve_on_sandbox(&env.http, &env.sandbox, &url, "vendor").await;
    let query = erp_callback(&landed);
    assert_eq!(query["state"], "s-1");
    // The code is A's, once.
    failed(
        &env.redeem(B, &query["code"]).await,
        "GSE.INVALID_PARAMETER",
    );
    let session = env.redeem(A, &query["code"]).await;
    let token = ok(&session)["sessionkey"].as_str().expect("key").to_owned();
    assert_eq!(session["nickname"], "new JIT shop");
    assert_eq!(session["venderid"], creds.vop.vendor_id);
    failed(
        &env.redeem(A, &query["code"]).await,
        "GSE.INVALID_PARAMETER",
    );
    let synced = env
        .call(
            A,
            "Differ.JH.SyncAccount",
            "",
            "9002",
            json!({"sessionkey": token}),
        )
        .await;
    assert_eq!(ok(&synced)["token"], token.as_str());
    ok(&env
        .call(
            A,
            "Differ.JH.Business.GetOrder",
            &token,
            "9002",
            json!({"PlatOrderNo": "x"}),
        )
        .await);

    // A platform SessionKey the shop already has, sealed as older clients send it.
    let vop = common::vop_client(&env.sandbox);
    let existing = common::authorize_vop(&env.sandbox, &vop, "vendor").await;
    let sealed = sign::encrypt_account(
        B.1,
        &json!({"SessionKey": existing.access_token, "VendorId": creds.vop.vendor_id, "ShopName": "from polyapi"}).to_string(),
    );
    let timestamp = env.timestamp();
    let answer = env
        .post(
            B.1,
            &[
                ("method", "Differ.JH.SyncAccount"),
                ("appkey", B.0),
                ("platid", "9002"),
                ("timestamp", &timestamp),
                ("bizcontent", &sealed),
            ],
        )
        .await;
    let b_token = ok(&answer)["token"].as_str().expect("token").to_owned();
    ok(&env
        .call(
            B,
            "Differ.JH.Business.GetOrder",
            &b_token,
            "9002",
            json!({"PlatOrderNo": "x"}),
        )
        .await);
    let refused = env
        .call(
            B,
            "Differ.JH.SyncAccount",
            "",
            "9002",
            json!({"sessionkey": "FFFF", "vendorid": 1}),
        )
        .await;
    failed(&refused, "GSE.LOGIC_ERROR");
    let _ = env.store.clone();
}

/// An ERP re-authorizes a shop by calling BuildeAuthorizeUrl with the shop's `token`: the same
/// shop comes back active (its synced data kept) and GetAuthorizeSessionKey answers a token for
/// it; another tenant cannot start that with the token.
#[tokio::test]
async fn a_shop_is_authorized_again_with_its_token() {
    let env = Env::start().await;
    let creds = env.sandbox.credentials();
    let shops_before = env.store.connection_summaries().await.expect("shops").len();
    env.store
        .set_state(
            &env.ids[0],
            shopbridge_store::ConnectionState::NeedsReauth,
            Some("refresh token expired"),
            env.sandbox.clock().now_ms(),
        )
        .await
        .expect("needs reauth");
    failed(
        &env.call(
            B,
            "Differ.JH.BuildeAuthorizeUrl",
            &env.jit_a,
            "9002",
            json!({"callbackurl": "https://erp.example/cb"}),
        )
        .await,
        "GSE.INVALID_PARAMETER",
    );
    // With a name for a new shop, the token an ERP sends along is not a re-authorization.
    ok(&env
        .call(
            A,
            "Differ.JH.BuildeAuthorizeUrl",
            "stale-token",
            "9002",
            json!({"callbackurl": "https://erp.example/cb", "shopname": "another", "vendorid": creds.vop.vendor_id}),
        )
        .await);
    let built = env
        .call(
            A,
            "Differ.JH.BuildeAuthorizeUrl",
            &env.jit_a,
            "9002",
            json!({"callbackurl": "https://erp.example/cb", "state": "again"}),
        )
        .await;
    let url = ok(&built)["authorizeurl"].as_str().expect("url").to_owned();
    let landed = common::approve_on_sandbox(&env.http, &env.sandbox, &url, "vendor").await;
    let query = erp_callback(&landed);
    assert_eq!(query["state"], "again");
    let session = env.redeem(A, &query["code"]).await;
    let token = ok(&session)["sessionkey"].as_str().expect("key").to_owned();
    assert_eq!(session["venderid"], creds.vop.vendor_id);
    let shop = env.store.connection(&env.ids[0]).await.expect("shop");
    assert_eq!(shop.state, shopbridge_store::ConnectionState::Active);
    assert_eq!(
        env.store.connection_summaries().await.expect("shops").len(),
        shops_before,
        "the same shop, not a new one"
    );
    // The new token names the same shop and its synced orders.
    let now = env.sandbox.clock().now_ms();
    let from = shopbridge_vop::time::format_datetime_ms(now - 30 * 86_400_000);
    let to = shopbridge_vop::time::format_datetime_ms(now);
    let orders = |token: String| {
        let (from, to) = (from.clone(), to.clone());
        let env = &env;
        async move {
            env.call(
                A,
                "Differ.JH.Business.GetOrder",
                &token,
                "9002",
                json!({"OrderStatus": "JH_99", "StartTime": from, "EndTime": to, "PageSize": 50}),
            )
            .await
        }
    };
    let via_new = orders(token).await;
    let via_old = orders(env.jit_a.clone()).await;
    assert_eq!(ok(&via_new)["numtotalorder"], ok(&via_old)["numtotalorder"]);
    assert!(
        via_new["orders"].as_array().is_some_and(|o| !o.is_empty()),
        "{via_new}"
    );
}

/// GetOrder is as fresh as the platform: an order shipped a moment ago is no longer listed as
/// waiting although no background sync has run since, because the read catches the shop's
/// stream up first.
#[tokio::test]
async fn get_order_sees_what_changed_since_the_last_sync() {
    let env = Env::start().await;
    let list = |status: &'static str| {
        let env = &env;
        async move {
            let now = env.sandbox.clock().now_ms();
            let answer = env
                .call(
                    A,
                    "Differ.JH.Business.GetOrder",
                    &env.jit_a,
                    "9002",
                    json!({
                        "OrderStatus": status,
                        "StartTime": shopbridge_vop::time::format_datetime_ms(now - 30 * 86_400_000),
                        "EndTime": shopbridge_vop::time::format_datetime_ms(now),
                        "PageSize": 100,
                    }),
                )
                .await;
            ok(&answer)["orders"]
                .as_array()
                .expect("orders")
                .iter()
                .map(|o| o["platorderno"].as_str().expect("number").to_owned())
                .collect::<Vec<_>>()
        }
    };
    let waiting = list("JH_02").await;
    let number = waiting.first().expect("a waiting order").clone();
    let sent = env
        .call(
            A,
            "Differ.JH.Business.Send",
            &env.jit_a,
            "9002",
            json!({"PlatOrderNo": number, "LogisticType": "JH_014", "LogisticNo": "SF7001"}),
        )
        .await;
    ok(&sent);
    assert!(!list("JH_02").await.contains(&number), "still waiting");
    assert!(list("JH_99").await.contains(&number));
}

/// When the sync cannot catch up and the window is longer than one platform query, GetOrder
/// says what the hub has stored instead of answering a page that looks complete.
#[tokio::test]
async fn get_order_refuses_a_window_the_sync_has_not_covered() {
    let env = Env::start().await;
    // The platform now refuses the app: the catch-up run and any read-through fail at once.
    let app_key = env.sandbox.credentials().vop.app_key.clone();
    let patched = env
        .http
        .post(format!(
            "{}/_sandbox/vop/apps/{app_key}",
            env.sandbox.base_url()
        ))
        .json(&json!({"blacklisted": true}))
        .send()
        .await
        .expect("patch");
    assert!(patched.status().is_success());
    let now = env.sandbox.clock().now_ms();
    let answer = env
        .call(
            A,
            "Differ.JH.Business.GetOrder",
            &env.jit_a,
            "9002",
            json!({
                "StartTime": shopbridge_vop::time::format_datetime_ms(now - 30 * 86_400_000),
                "EndTime": shopbridge_vop::time::format_datetime_ms(now + 3_600_000),
            }),
        )
        .await;
    failed(&answer, "GSE.LOGIC_ERROR");
    let message = answer["submessage"].as_str().expect("message");
    assert!(
        message.contains("the hub has stored the orders changed from"),
        "{message}"
    );
    // A window from before the shop's synced history is not answered as if it were complete.
    let answer = env
        .call(
            A,
            "Differ.JH.Business.GetOrder",
            &env.jit_a,
            "9002",
            json!({
                "StartTime": shopbridge_vop::time::format_datetime_ms(now - 120 * 86_400_000),
                "EndTime": shopbridge_vop::time::format_datetime_ms(now - 100 * 86_400_000),
                "TimeType": "JH_01",
            }),
        )
        .await;
    failed(&answer, "GSE.LOGIC_ERROR");
    // A modified-time window inside the synced history is still answered from the store.
    let answer = env
        .call(
            A,
            "Differ.JH.Business.GetOrder",
            &env.jit_a,
            "9002",
            json!({
                "StartTime": shopbridge_vop::time::format_datetime_ms(now - 29 * 86_400_000),
                "EndTime": shopbridge_vop::time::format_datetime_ms(now - 86_400_000),
                "TimeType": "JH_01",
            }),
        )
        .await;
    ok(&answer);
}

/// What the shop cannot do is refused once for the whole call, batches included; SyncAccount
/// takes session keys only for platforms whose shops have them; GetOrder and GetRefund name the
/// method a Union account has nothing for.
#[tokio::test]
async fn what_a_shop_or_platform_cannot_do_is_refused_for_the_call() {
    let env = Env::start().await;
    // A Union account has no shipping: the batch is refused as a call, not item by item.
    let batch = env
        .call(
            A,
            "Differ.JH.Business.BatchSend",
            &env.union_a,
            "9001",
            json!({"orders": [{"PlatOrderNo": "1", "LogisticType": "JH_014", "LogisticNo": "SF1"}]}),
        )
        .await;
    failed(&batch, "GSE.PLAT_NOT_SUPPORT");
    assert!(batch["results"].is_null(), "{batch}");
    for method in [
        "Differ.JH.Business.GetOrder",
        "Differ.JH.Business.GetRefund",
    ] {
        let answer = env
            .call(
                A,
                method,
                &env.union_a,
                "9001",
                json!({"StartTime": "2026-11-01 00:00:00", "EndTime": "2026-11-02 00:00:00", "BeginTime": "2026-11-01 00:00:00"}),
            )
            .await;
        failed(&answer, "GSE.PLAT_NOT_SUPPORT");
        let message = answer["submessage"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(method.rsplit('.').next().unwrap_or_default()),
            "{answer}"
        );
    }
    // Winit shops have no session keys; an unknown platid is not served either.
    for platid in ["9003", "1234"] {
        let answer = env
            .call(
                A,
                "Differ.JH.SyncAccount",
                "",
                platid,
                json!({"sessionkey": "anything", "shopname": "x"}),
            )
            .await;
        failed(&answer, "GSE.PLAT_NOT_SUPPORT");
    }
}
