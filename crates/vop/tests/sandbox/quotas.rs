//! Documented quotas (1008) and the FAQ's degradation after too many business errors.

use serde_json::{Value, json};
use shopbridge_core::error::{Classify, ErrorClass};
use shopbridge_vop::union::GoodsList;
use shopbridge_vop::{ApiErrorKind, Mode};

use crate::support::TestEnv;

#[tokio::test]
async fn goods_list_allows_600_per_30_seconds_per_app() {
    let env = TestEnv::start().await;
    let client = env.client();
    let request = GoodsList::channel(Mode::Channel, 0, 1).page_size(1);
    for call in 0..600 {
        client
            .execute(&request)
            .await
            .unwrap_or_else(|err| panic!("call {call}: {err}"));
    }
    let err = client.execute(&request).await.expect_err("601st call");
    assert_eq!(err.api_kind(), Some(ApiErrorKind::Throttled));
    assert_eq!(err.class(), ErrorClass::RateLimited);
    assert!(err.to_string().contains("600 calls per 30 s"), "{err}");
    // Another app has its own window; the same app gets room once the window has slid.
    env.channel_only_client()
        .execute(&request)
        .await
        .expect("other app");
    env.advance_clock_secs(30).await;
    client.execute(&request).await.expect("window slid");
}

#[tokio::test]
async fn tool_provider_calls_count_per_authorized_user() {
    let env = TestEnv::start().await;
    let client = env.client();
    let token = env.access_token(&client).await;
    let channel_request = GoodsList::channel(Mode::Channel, 0, 1).page_size(1);
    for _ in 0..600 {
        client
            .execute(&channel_request)
            .await
            .expect("channel calls");
    }
    assert!(client.execute(&channel_request).await.is_err());
    client
        .with_access_token(token.access_token)
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect("the authorized user's quota is separate");
}

#[tokio::test]
async fn too_many_business_errors_degrade_to_empty_results_for_a_while() {
    let env = TestEnv::start().await;
    env.admin(
        "/_sandbox/vop/degradation",
        json!({"error_threshold": 5, "window_secs": 60, "duration_secs": 300}),
    )
    .await;
    let client = env.client();
    let good = GoodsList::channel(Mode::Channel, 0, 1);
    assert!(
        !client
            .execute(&good)
            .await
            .expect("normal")
            .goods_info_list
            .is_empty()
    );
    let bad = json!({"request": {"page": 1, "pageSize": 1000, "requestId": "r", "channelType": 0}});
    for _ in 0..5 {
        let err = client
            .call::<Value>(
                "com.vip.adp.api.open.service.UnionGoodsService",
                "goodsList",
                "1.0.0",
                &bad,
            )
            .await
            .expect_err("bad page size");
        assert_eq!(err.api_kind(), Some(ApiErrorKind::InvalidParameter));
    }
    let degraded = client
        .execute(&good)
        .await
        .expect("degraded answers are still successes");
    assert!(
        degraded.goods_info_list.is_empty(),
        "degraded: empty results"
    );
    env.advance_clock_secs(301).await;
    assert!(
        !client
            .execute(&good)
            .await
            .expect("recovered")
            .goods_info_list
            .is_empty()
    );
}
