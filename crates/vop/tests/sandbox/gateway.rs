//! Gateway checks: each documented rejection, seen through the client's typed errors.

use secrecy::SecretString;
use serde_json::{Value, json};
use shopbridge_core::error::{Classify, ErrorClass};
use shopbridge_vop::union::{GetByGoodsIds, GoodsInfoResponse, GoodsList};
use shopbridge_vop::{ApiErrorKind, Format, Mode, VopError};

use crate::support::TestEnv;

const GOODS: &str = "com.vip.adp.api.open.service.UnionGoodsService";

fn kind(result: Result<impl std::fmt::Debug, VopError>) -> ApiErrorKind {
    match result {
        Err(err) => err
            .api_kind()
            .unwrap_or_else(|| panic!("expected a gateway error, got {err:?}")),
        Ok(value) => panic!("expected a gateway error, got {value:?}"),
    }
}

#[tokio::test]
async fn channel_goods_list_round_trip_and_last_invocation() {
    let env = TestEnv::start().await;
    let client = env.client();
    let page = client
        .execute(&GoodsList::channel(Mode::Channel, 0, 1).page_size(5))
        .await
        .expect("goodsList");
    assert_eq!(page.goods_info_list.len(), 5);
    assert_eq!(
        page.total, 6666,
        "every third of the 10,000 seeded goods is in channel 1, the rest in 0"
    );
    assert!(
        page.goods_info_list
            .iter()
            .all(|goods| goods.goods_id.len() == 19)
    );

    let last = client.last_invocation().expect("recorded");
    assert_eq!(last.method, "goodsList");
    assert_eq!(last.return_code.as_deref(), Some("0"));
    assert_eq!(last.http_status, Some(200));
    assert_eq!(last.sign.len(), 32);
    assert!(
        last.sign
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
    assert!(
        last.url.contains(&format!("sign={}", last.sign)),
        "{}",
        last.url
    );
    assert_eq!(last.request_id.len(), 36);

    // Paging walks the same list without overlap.
    let second = client
        .execute(&GoodsList::channel(Mode::Channel, 0, 2).page_size(5))
        .await
        .expect("page 2");
    assert!(
        second
            .goods_info_list
            .iter()
            .all(|g| !page.goods_info_list.contains(g))
    );
}

#[tokio::test]
async fn uppercase_format_and_language_are_signed_as_sent() {
    let env = TestEnv::start().await;
    let config = env
        .config_for(&env.creds.vop.app_key, &env.creds.vop.app_secret)
        .with_format(Format::JsonUpper)
        .with_language("zh");
    let client = env.client_with(config);
    client
        .execute(&GoodsList::channel(Mode::Channel, 1, 1))
        .await
        .expect("format=JSON accepted");
    let url = client.last_invocation().expect("recorded").url;
    assert!(
        url.contains("format=JSON") && url.contains("language=zh"),
        "{url}"
    );
}

#[tokio::test]
async fn body_bytes_are_signed_exactly_whatever_their_layout() {
    let env = TestEnv::start().await;
    let client = env.client();
    let body = "{ \"request\" : {\"requestId\":\"r-1\",  \"page\":1,\n \"channelType\":1, \"pageSize\": 3} }";
    let result = client
        .call_raw(GOODS, "goodsList", "1.0.0", body)
        .await
        .expect("raw body");
    let page: GoodsInfoResponse = serde_json::from_value(result).expect("typed");
    assert_eq!(page.goods_info_list.len(), 3);
}

#[tokio::test]
async fn missing_system_parameters_are_named() {
    let env = TestEnv::start().await;
    let response: Value = env
        .http
        .post(format!(
            "{}?service={GOODS}&method=goodsList&format=json",
            env.sandbox.vop_gateway_url()
        ))
        .body("{}")
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(response["returnCode"], "vipapis.miss-parameter");
    let message = response["returnMessage"].as_str().expect("message");
    for name in ["version", "timestamp", "appKey", "sign"] {
        assert!(message.contains(name), "{message}");
    }
    // A bare GET, the liveness probe some clients use, answers the same code.
    let probe: Value = env
        .http
        .get(env.sandbox.vop_gateway_url())
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(probe["returnCode"], "vipapis.miss-parameter");
}

#[tokio::test]
async fn unknown_app_key_wrong_secret_and_blacklist() {
    let env = TestEnv::start().await;
    let unknown = env.client_with(env.config_for("no-such-app", "whatever"));
    assert_eq!(
        kind(
            unknown
                .execute(&GoodsList::channel(Mode::Channel, 0, 1))
                .await
        ),
        ApiErrorKind::AppKeyUnknown
    );

    let wrong_secret = env.client_with(env.config_for(&env.creds.vop.app_key, "not-the-secret"));
    let err = wrong_secret
        .execute(&GoodsList::channel(Mode::Channel, 0, 1))
        .await
        .expect_err("sign mismatch");
    assert_eq!(err.api_kind(), Some(ApiErrorKind::SignMismatch));
    assert_eq!(err.class(), ErrorClass::InvalidRequest);
    assert!(
        err.to_string()
            .contains("appKey, format, method, service, timestamp, version"),
        "{err}"
    );
    assert!(!err.to_string().contains("not-the-secret"));

    env.admin(
        &format!("/_sandbox/vop/apps/{}", env.creds.vop.app_key),
        json!({"blacklisted": true}),
    )
    .await;
    assert_eq!(
        kind(
            env.client()
                .execute(&GoodsList::channel(Mode::Channel, 0, 1))
                .await
        ),
        ApiErrorKind::AppKeyBlocked
    );
}

#[tokio::test]
async fn timestamps_more_than_ten_minutes_off_are_refused() {
    let env = TestEnv::start().await;
    // A client on the machine's clock while the gateway's clock moves ahead.
    let system_clock_client = shopbridge_vop::VopClient::new(
        env.config_for(&env.creds.vop.app_key, &env.creds.vop.app_secret),
    )
    .expect("client");
    env.advance_clock_secs(9 * 60).await;
    system_clock_client
        .execute(&GoodsList::channel(Mode::Channel, 0, 1))
        .await
        .expect("nine minutes of skew is accepted");
    env.advance_clock_secs(2 * 60).await;
    let err = system_clock_client
        .execute(&GoodsList::channel(Mode::Channel, 0, 1))
        .await
        .expect_err("eleven minutes of skew");
    assert_eq!(err.api_kind(), Some(ApiErrorKind::InvalidParameter));
    assert!(err.to_string().contains("timestamp"), "{err}");
    // A client on the gateway's clock is fine.
    env.client()
        .execute(&GoodsList::channel(Mode::Channel, 0, 1))
        .await
        .expect("in sync");
}

#[tokio::test]
async fn ip_allow_list() {
    let env = TestEnv::start().await;
    let app = format!("/_sandbox/vop/apps/{}", env.creds.vop.app_key);
    env.admin(&app, json!({"ip_allowlist": ["10.1.2.3"]})).await;
    let err = env
        .client()
        .execute(&GoodsList::channel(Mode::Channel, 0, 1))
        .await
        .expect_err("not allowed");
    assert_eq!(err.api_kind(), Some(ApiErrorKind::IpNotAllowed));
    assert_eq!(err.class(), ErrorClass::Credentials);
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
    env.admin(&app, json!({"ip_allowlist": ["10.1.2.3", "127.0.0.1"]}))
        .await;
    env.client()
        .execute(&GoodsList::channel(Mode::Channel, 0, 1))
        .await
        .expect("allowed");
}

#[tokio::test]
async fn permission_packages_are_enforced() {
    let env = TestEnv::start().await;
    let channel_only = env.channel_only_client();
    channel_only
        .execute(&GoodsList::channel(Mode::Channel, 0, 1))
        .await
        .expect("channel package");
    let err = channel_only
        .with_access_token("ABC")
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect_err("no tool package");
    assert_eq!(err.api_kind(), Some(ApiErrorKind::NoPermission));
    assert!(err.to_string().contains("union_tool"), "{err}");
    let refresh = channel_only
        .refresh_token(&SecretString::from("R"), "127.0.0.1")
        .await
        .expect_err("no refreshToken package");
    assert_eq!(refresh.api_kind(), Some(ApiErrorKind::NoPermission));
}

#[tokio::test]
async fn oauth_methods_need_a_live_token_of_this_app() {
    let env = TestEnv::start().await;
    let client = env.client();
    let missing = client
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect_err("no token");
    assert_eq!(missing.api_kind(), Some(ApiErrorKind::TokenInvalid));
    assert!(missing.needs_reauthorization());
    let bogus = client
        .with_access_token("0123456789ABCDEF0123456789ABCDEF01234567")
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect_err("unknown token");
    assert_eq!(bogus.api_kind(), Some(ApiErrorKind::TokenInvalid));
    let secret_free = format!("{bogus} {bogus:?} {:?}", client.last_invocation());
    assert!(!secret_free.contains(&env.creds.vop.app_secret));

    // A token issued to the demo app does not work for another app.
    let token = env.access_token(&client).await;
    let other = env.channel_only_client();
    env.admin(
        &format!("/_sandbox/vop/apps/{}", other.config().app_key),
        json!({"permissions": ["union_channel", "union_tool"]}),
    )
    .await;
    let err = other
        .with_access_token(token.access_token.clone())
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect_err("token of another app");
    assert_eq!(err.api_kind(), Some(ApiErrorKind::TokenInvalid));
    let tool = client.with_access_token(token.access_token);
    tool.execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect("own token");
    assert!(
        tool.last_invocation()
            .expect("recorded")
            .url
            .contains("accessToken=***")
    );
}

#[tokio::test]
async fn disabled_union_accounts_answer_1007() {
    let env = TestEnv::start().await;
    let client = env.client();
    let token = env.access_token(&client).await;
    env.admin(
        &format!("/_sandbox/vop/apps/{}", env.creds.vop.app_key),
        json!({"union_disabled": true}),
    )
    .await;
    let err = client
        .execute(&GoodsList::channel(Mode::Channel, 0, 1))
        .await
        .expect_err("developer disabled");
    assert_eq!(err.api_kind(), Some(ApiErrorKind::UnionAccountDisabled));
    assert_eq!(err.class(), ErrorClass::AccountDisabled);
    // The authorized user's own account is what counts in tool-provider mode.
    let tool = client.with_access_token(token.access_token);
    tool.execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect("user enabled");
    let (username, _) = env.union_user();
    env.admin(
        &format!("/_sandbox/vop/users/{username}"),
        json!({"union_disabled": true}),
    )
    .await;
    assert_eq!(
        kind(
            tool.execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
                .await
        ),
        ApiErrorKind::UnionAccountDisabled
    );
}

#[tokio::test]
async fn unknown_methods_and_bad_arguments_are_specific() {
    let env = TestEnv::start().await;
    let client = env.client();
    let unknown = client
        .call::<Value>(GOODS, "noSuchMethod", "1.0.0", &json!({}))
        .await;
    assert_eq!(kind(unknown), ApiErrorKind::UnknownMethod);
    let bad = client
        .call::<Value>(
            GOODS,
            "goodsList",
            "1.0.0",
            &json!({"request": {"page": 1, "pageSize": 500, "requestId": "r", "channelType": 0}}),
        )
        .await
        .expect_err("page size");
    assert_eq!(bad.api_kind(), Some(ApiErrorKind::InvalidParameter));
    assert!(bad.to_string().contains("request.pageSize"), "{bad}");
    let unwrapped = client
        .call::<Value>(
            GOODS,
            "goodsList",
            "1.0.0",
            &json!({"page": 1, "requestId": "r"}),
        )
        .await
        .expect_err("missing wrapper");
    assert_eq!(unwrapped.api_kind(), Some(ApiErrorKind::MissingParameter));
    assert!(unwrapped.to_string().contains("\"request\""), "{unwrapped}");
    let not_json = client
        .call_raw(GOODS, "goodsList", "1.0.0", "page=1")
        .await
        .expect_err("not json");
    assert_eq!(not_json.api_kind(), Some(ApiErrorKind::InvalidParameter));
}

#[tokio::test]
async fn documented_limits_are_checked_before_any_call() {
    let env = TestEnv::start().await;
    let client = env.client();
    let ids: Vec<String> = (0..11).map(|i| format!("{i}")).collect();
    let err = client
        .execute(&GetByGoodsIds::new(Mode::Channel, ids))
        .await
        .expect_err("11 ids");
    assert!(
        matches!(err, VopError::InvalidArgument { ref field, .. } if field == "goodsIdList"),
        "{err}"
    );
    assert!(client.last_invocation().is_none(), "nothing was sent");
    let err = client
        .execute(&GoodsList::channel(Mode::Channel, 0, 0))
        .await
        .expect_err("page 0");
    assert!(err.to_string().contains("request.page"), "{err}");
}

#[tokio::test]
async fn goods_details_and_links_in_both_modes() {
    let env = TestEnv::start().await;
    let client = env.client();
    let page = client
        .execute(&GoodsList::channel(Mode::Channel, 1, 1).page_size(3))
        .await
        .expect("list");
    let ids: Vec<String> = page
        .goods_info_list
        .iter()
        .map(|g| g.goods_id.clone())
        .collect();
    let details = client
        .execute(&GetByGoodsIds::new(Mode::Channel, ids.clone()))
        .await
        .expect("details");
    assert_eq!(details.len(), 3);
    assert_eq!(details[0].goods_name, page.goods_info_list[0].goods_name);

    let links = client
        .execute(
            &shopbridge_vop::union::GenByGoodsId::new(Mode::Channel, ids.clone())
                .chan_tag("pid_1")
                .stat_param("s1"),
        )
        .await
        .expect("links");
    assert_eq!(links.url_info_list.len(), 3);
    let first = &links.url_info_list[0];
    assert_eq!(first.source.as_deref(), Some(ids[0].as_str()));
    let tra_from = first.tra_from.as_deref().expect("traFrom");
    assert!(tra_from.starts_with("adp%3A"), "{tra_from}");
    assert!(
        tra_from.contains("%3Apid_1%3A"),
        "chanTag is the 5th segment: {tra_from}"
    );
    assert!(
        first
            .ul_url
            .as_deref()
            .is_some_and(|u| u.contains("%3Apid_1%3A"))
    );

    let token = env.access_token(&client).await;
    let tool_links = client
        .with_access_token(token.access_token)
        .execute(
            &shopbridge_vop::union::GenByGoodsId::new(Mode::ToolProvider, ids)
                .chan_tag("pid_1")
                .stat_param("s1"),
        )
        .await
        .expect("tool links");
    assert_ne!(
        tool_links.url_info_list[0].url, first.url,
        "links belong to the authorized user"
    );
}

/// Answers every request on a local port with `body` as a 200 JSON answer: a gateway that says
/// what the test needs it to say.
async fn gateway_answering(body: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut request).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{address}/")
}

/// A list page whose third order's head does not read: the error names the order's place and
/// the value refused, and a failure's code is still the gateway's error.
#[tokio::test]
async fn a_list_item_that_does_not_read_is_named_by_place_and_path() {
    let client = |url: String| {
        let mut config = shopbridge_vop::VopConfig::new("key", SecretString::from("secret"));
        config.gateway_url = url.parse().expect("url");
        shopbridge_vop::VopClient::new(config).expect("client")
    };
    let request = shopbridge_vop::union::OrderList::by_update_time(Mode::Channel, 0, 1000);
    let odd = client(
        gateway_answering(
            r#"{"returnCode":"0","result":{"total":3,"orderInfoList":[
            {"orderSn":"1","status":1,"orderTime":1,"lastUpdateTime":2},
            {"orderSn":"2","status":1,"orderTime":1,"lastUpdateTime":2},
            {"orderSn":"3","status":1,"orderTime":1,"lastUpdateTime":"soon"}]}}"#,
        )
        .await,
    );
    let err = odd
        .execute_list::<_, shopbridge_vop::union::OrderHead>(&request, "orderInfoList")
        .await
        .expect_err("the third does not read");
    assert!(
        err.to_string()
            .contains("orderInfoList[2] of com.vip.adp.api.open.service.UnionOrderService.orderList does not match its type: lastUpdateTime: invalid type"),
        "{err}"
    );
    assert!(matches!(err, VopError::Undecodable { .. }), "{err:?}");
    // A code the one pass does not take as "0" (escaped) is read by the envelope's own reading.
    let escaped = client(
        gateway_answering(
            r#"{"returnCode":"\u0030","result":{"total":1,"orderInfoList":[
            {"orderSn":"1","status":1,"orderTime":1,"lastUpdateTime":2}]}}"#,
        )
        .await,
    );
    let page = escaped
        .execute_list::<_, shopbridge_vop::union::OrderHead>(&request, "orderInfoList")
        .await
        .expect("a success");
    assert_eq!((page.items.len(), page.total), (1, 1));
    assert_eq!(
        page.items[0].1,
        r#"{"orderSn":"1","status":1,"orderTime":1,"lastUpdateTime":2}"#
    );
    let refused =
        client(gateway_answering(r#"{"returnCode":"100001","returnMessage":"bad sign"}"#).await);
    let err = refused
        .execute_list::<_, shopbridge_vop::union::OrderHead>(&request, "orderInfoList")
        .await
        .expect_err("a failure");
    assert_eq!(
        err.api_kind(),
        Some(ApiErrorKind::from_return_code("100001"))
    );
}
