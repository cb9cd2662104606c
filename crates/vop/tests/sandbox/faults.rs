//! Fault injection and timeouts: what the client reports for each kind of broken answer.

use std::time::Duration;

use serde_json::json;
use shopbridge_core::error::{Classify, ErrorClass};
use shopbridge_vop::union::GoodsList;
use shopbridge_vop::{Mode, VopError};

use crate::support::TestEnv;

fn request() -> GoodsList {
    GoodsList::channel(Mode::Channel, 0, 1)
}

#[tokio::test]
async fn read_timeout() {
    let env = TestEnv::start().await;
    env.set_faults(json!({"latency_ms": 1500})).await;
    let config = env
        .config_for(&env.creds.vop.app_key, &env.creds.vop.app_secret)
        .with_timeouts(Duration::from_secs(5), Duration::from_millis(200));
    let client = env.client_with(config);
    let err = client.execute(&request()).await.expect_err("too slow");
    assert!(matches!(err, VopError::Timeout { .. }), "{err:?}");
    assert!(err.class().is_retryable());
    // The HTTP client's error is kept as the source, and again under the connector's error.
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
    let classified = shopbridge_core::capability::ConnectorError::from(err);
    let cause = std::error::Error::source(&classified).expect("a cause");
    assert!(std::error::Error::source(cause).is_some(), "{cause:?}");
    assert!(client.last_invocation().expect("recorded").latency >= Duration::from_millis(200));
}

#[tokio::test]
async fn server_errors_are_transient_http_errors() {
    let env = TestEnv::start().await;
    env.set_faults(json!({"error_rate": 1.0})).await;
    let err = env.client().execute(&request()).await.expect_err("503");
    assert!(matches!(err, VopError::Http { status: 503, .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Transient);
    env.set_faults(json!({})).await;
    env.client().execute(&request()).await.expect("recovered");
}

#[tokio::test]
async fn dropped_connections_are_transport_errors() {
    let env = TestEnv::start().await;
    env.set_faults(json!({"drop_rate": 1.0, "path_prefix": "/vop"}))
        .await;
    let err = env.client().execute(&request()).await.expect_err("dropped");
    assert!(matches!(err, VopError::Transport { .. }), "{err:?}");
    assert!(err.class().is_retryable());
}

#[tokio::test]
async fn malformed_bodies_are_undecodable_with_a_snippet() {
    let env = TestEnv::start().await;
    env.set_faults(json!({"malformed_rate": 1.0})).await;
    let err = env
        .client()
        .execute(&request())
        .await
        .expect_err("cut body");
    match &err {
        VopError::Undecodable { snippet, .. } => {
            assert!(snippet.starts_with("{\"returnCode\":\"0\""), "{snippet}")
        }
        other => panic!("expected undecodable, got {other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Transient);
}

#[tokio::test]
async fn faults_can_target_one_platform_prefix_and_rates_are_validated() {
    let env = TestEnv::start().await;
    env.set_faults(json!({"error_rate": 1.0, "path_prefix": "/winit"}))
        .await;
    env.client()
        .execute(&request())
        .await
        .expect("VOP unaffected");
    let response = env
        .http
        .post(format!("{}/_sandbox/faults", env.sandbox.base_url()))
        .json(&json!({"error_rate": 2.0}))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 400);
    assert!(response.text().await.expect("body").contains("error_rate"));
}
