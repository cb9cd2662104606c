//! Token refresh against the sandbox's OAuth server: single-flight under 1,000 concurrent
//! callers, and a permanent failure moving the connection to needs_reauth.

mod common;

use secrecy::{ExposeSecret, SecretString};
use shopbridge_core::Clock;
use shopbridge_hub::{TokenError, TokenManager, VopTokens};
use shopbridge_sandbox::RunningSandbox;
use shopbridge_store::{ConnectionState, Store};
use shopbridge_vop::union::goods::GoodsList;
use shopbridge_vop::{Mode, VopClient};

const DAY_MS: i64 = 86_400_000;

async fn setup() -> (RunningSandbox, VopClient, Store, String, VopTokens) {
    let sandbox = common::sandbox(50).await;
    let client = common::vop_client(&sandbox);
    let tokens = common::authorize_vop(&sandbox, &client, "union").await;
    let store = common::sqlite_store().await;
    let connection = common::connection(
        &store,
        "vop",
        "union_tool",
        "union user",
        &serde_json::to_string(&tokens).expect("json"),
        (Some(tokens.expires_at_ms), tokens.refresh_expires_at_ms),
    )
    .await;
    (sandbox, client, store, connection, tokens)
}

fn issued_tokens(sandbox: &RunningSandbox) -> usize {
    sandbox
        .state()
        .vop()
        .tokens
        .values()
        .filter(|t| t.username == "union_demo")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_cause_exactly_one_refresh() {
    let (sandbox, client, store, connection, tokens) = setup().await;
    let manager = TokenManager::new(store.clone(), client.clone());
    let fresh = manager
        .access_token(&connection)
        .await
        .expect("fresh token");
    assert_eq!(
        fresh.expose_secret(),
        tokens.access_token,
        "no refresh while far from expiry"
    );
    assert_eq!(issued_tokens(&sandbox), 1);

    // Twelve hours before expiry: inside the one-day margin.
    sandbox
        .clock()
        .advance_ms(tokens.expires_at_ms - sandbox.clock().now_ms() - DAY_MS / 2);
    let calls: Vec<_> = (0..1000)
        .map(|_| {
            let manager = manager.clone();
            let connection = connection.clone();
            tokio::spawn(async move { manager.access_token(&connection).await })
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for call in calls {
        let token = call.await.expect("task").expect("token");
        seen.insert(token.expose_secret().to_owned());
    }
    assert_eq!(seen.len(), 1, "every caller got the same refreshed token");
    assert!(!seen.contains(&tokens.access_token));
    assert_eq!(
        issued_tokens(&sandbox),
        2,
        "exactly one refresh reached the platform"
    );
    let refreshed = seen.into_iter().next().expect("token");
    client
        .with_access_token(SecretString::from(refreshed))
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect("the refreshed token works");
    let events = store.connection_events(&connection).await.expect("events");
    let path: Vec<(&str, &str)> = events
        .iter()
        .map(|(a, b, _)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        path,
        [
            ("pending", "active"),
            ("active", "refreshing"),
            ("refreshing", "active")
        ]
    );
    let stored: VopTokens = serde_json::from_str(
        store
            .connection(&connection)
            .await
            .expect("read")
            .credentials
            .expose_secret(),
    )
    .expect("json");
    assert_eq!(
        stored.refresh_token, tokens.refresh_token,
        "the refresh token is kept"
    );
}

#[tokio::test]
async fn a_revoked_grant_moves_the_connection_to_needs_reauth() {
    let (sandbox, client, store, connection, tokens) = setup().await;
    client
        .revoke_token(&SecretString::from(tokens.access_token.clone()))
        .await
        .expect("revoke");
    sandbox.clock().advance_ms(89 * DAY_MS + DAY_MS / 2);
    let manager = TokenManager::new(store.clone(), client);
    let err = manager
        .access_token(&connection)
        .await
        .expect_err("the grant is gone");
    assert!(matches!(err, TokenError::NeedsReauthorization(..)), "{err}");
    let read = store.connection(&connection).await.expect("read");
    assert_eq!(read.state, ConnectionState::NeedsReauth);
    assert!(
        read.last_error
            .as_deref()
            .is_some_and(|e| e.contains("30111")),
        "{:?}",
        read.last_error
    );
    let again = manager
        .access_token(&connection)
        .await
        .expect_err("stays failed until re-authorized");
    assert!(matches!(again, TokenError::NeedsReauthorization(..)));
}

#[test]
fn a_refresh_answer_without_refresh_token_keeps_the_old_one() {
    let old = VopTokens {
        access_token: "A".into(),
        refresh_token: Some("R".into()),
        expires_at_ms: 0,
        refresh_expires_at_ms: Some(9),
        vendor_id: Some(550),
        open_id: Some("U1".into()),
    };
    let answer: shopbridge_vop::oauth::RefreshedToken =
        serde_json::from_value(serde_json::json!({"access_token": "B", "expires_in": 60}))
            .expect("answer");
    let next = old.refreshed(&answer, 1_000);
    assert_eq!(
        (
            next.access_token.as_str(),
            next.refresh_token.as_deref(),
            next.expires_at_ms
        ),
        ("B", Some("R"), 61_000)
    );
    assert_eq!(next.refresh_expires_at_ms, Some(9));
    assert_eq!(next.vendor_id, Some(550), "the vendor survives a refresh");
}
