//! The whole OAuth flow against the sandbox's auth server, including every way it can fail.

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use shopbridge_core::Clock;
use shopbridge_core::error::{Classify, ErrorClass};
use shopbridge_vop::oauth::{OOB_REDIRECT_URI, parse_callback};
use shopbridge_vop::union::GoodsList;
use shopbridge_vop::{ApiErrorKind, Mode, VopError};

use crate::support::TestEnv;

fn oauth_code(err: &VopError) -> i64 {
    match err {
        VopError::OAuth { code, .. } => *code,
        other => panic!("expected an OAuth error, got {other:?}"),
    }
}

const DAY: i64 = 24 * 3600;

#[tokio::test]
async fn server_side_flow_approve_exchange_info_and_call() {
    let env = TestEnv::start().await;
    let client = env.client();
    let url = client
        .authorize_url(&env.redirect_uri(), Some("csrf-123"))
        .expect("url");
    assert!(url.as_str().contains("response_type=code") && url.as_str().contains("state=csrf-123"));
    let code = env.authorize_code(&client, "csrf-123").await;
    let token = client
        .exchange_code(&code, &env.redirect_uri(), "127.0.0.1")
        .await
        .expect("exchange");
    assert_eq!(token.expires_in, 90 * DAY, "the Union guide's 90 days");
    assert!(token.refresh_token.is_some());
    let user = env.creds.vop.user("union").expect("user");
    assert_eq!(token.open_id.as_deref(), Some(user.open_id.as_str()));
    let year_ms = 365 * DAY * 1000;
    let refresh_left =
        token.refresh_expires_time.expect("refresh expiry") - env.sandbox.clock().now_ms();
    assert!(
        (year_ms - 5_000..=year_ms).contains(&refresh_left),
        "{refresh_left}"
    );

    let info = client
        .token_info(&token.access_token)
        .await
        .expect("token_info");
    assert_eq!(info.open_id.as_deref(), Some(user.open_id.as_str()));
    assert_eq!(info.token_type.as_deref(), Some("Bearer"));
    assert!(info.expires_in > 89 * DAY);
    assert!(info.create_at.is_some() && info.expires_time.is_some());

    client
        .with_access_token(token.access_token)
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect("tool-provider call");
}

#[tokio::test]
async fn cancel_returns_error_and_description() {
    let env = TestEnv::start().await;
    let client = env.client();
    let (username, password) = env.union_user();
    let url = client
        .authorize_url(&env.redirect_uri(), Some("s9"))
        .expect("url");
    let response = env
        .log_in_and_decide(url.as_str(), &username, &password, false)
        .await;
    assert_eq!(response.status, 302);
    let callback = response.location.expect("redirect");
    assert!(
        callback.starts_with(&env.redirect_uri()) && callback.contains("state=s9"),
        "{callback}"
    );
    let err = parse_callback(&callback).expect_err("cancelled");
    match err {
        VopError::AuthorizationDenied { error, description } => {
            assert_eq!(error, "access_denied");
            assert!(!description.is_empty());
        }
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[tokio::test]
async fn native_oob_flow_shows_the_code() {
    let env = TestEnv::start().await;
    let client = env.client();
    let url = client.native_authorize_url(Some("1212")).expect("url");
    assert!(url.as_str().contains("display=mobile"));
    assert!(
        url.as_str()
            .contains("redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob")
    );
    let (username, password) = env.union_user();
    let page = env
        .log_in_and_decide(url.as_str(), &username, &password, true)
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.location.is_none(),
        "the native flow shows the code instead of redirecting"
    );
    let code = page.oob_code().expect("code on the page");
    let token = client
        .exchange_code(&code, OOB_REDIRECT_URI, "127.0.0.1")
        .await
        .expect("exchange");
    client.token_info(&token.access_token).await.expect("valid");
}

#[tokio::test]
async fn a_code_works_once_and_a_replay_revokes_its_token() {
    let env = TestEnv::start().await;
    let client = env.client();
    let code = env.authorize_code(&client, "s").await;
    let token = client
        .exchange_code(&code, &env.redirect_uri(), "127.0.0.1")
        .await
        .expect("first use");
    let replay = client
        .exchange_code(&code, &env.redirect_uri(), "127.0.0.1")
        .await
        .expect_err("second use");
    assert_eq!(oauth_code(&replay), 30003);
    assert!(replay.to_string().contains("already used"), "{replay}");
    let info = client
        .token_info(&token.access_token)
        .await
        .expect_err("revoked after replay");
    assert!(info.needs_reauthorization(), "{info}");
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let env = TestEnv::start().await;
    let client = env.client();
    let code = env.authorize_code(&client, "s").await;
    env.advance_clock_secs(601).await;
    let err = client
        .exchange_code(&code, &env.redirect_uri(), "127.0.0.1")
        .await
        .expect_err("expired");
    assert!(err.to_string().contains("expired"), "{err}");
}

#[tokio::test]
async fn redirect_uris_must_match_exactly() {
    let env = TestEnv::start().await;
    let client = env.client();
    let unregistered = client
        .authorize_url("http://127.0.0.1:8700/connect/vop/callback/", None)
        .expect("url");
    let page = env
        .http
        .get(unregistered.as_str())
        .send()
        .await
        .expect("get");
    assert_eq!(page.status(), 400);
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("redirect_uri_mismatch")
    );

    let code = env.authorize_code(&client, "s").await;
    let other_registered = env.creds.vop.redirect_uris[1].clone();
    let err = client
        .exchange_code(&code, &other_registered, "127.0.0.1")
        .await
        .expect_err("different uri");
    assert!(err.to_string().contains("redirect_uri"), "{err}");
    assert_eq!(err.class(), ErrorClass::InvalidRequest);
}

#[tokio::test]
async fn token_parameters_in_the_body_are_refused() {
    let env = TestEnv::start().await;
    let client = env.client();
    let code = env.authorize_code(&client, "s").await;
    let redirect_uri = env.redirect_uri();
    let form = [
        ("client_id", env.creds.vop.app_key.as_str()),
        ("client_secret", env.creds.vop.app_secret.as_str()),
        ("grant_type", "authorization_code"),
        ("redirect_uri", redirect_uri.as_str()),
        ("request_client_ip", "127.0.0.1"),
        ("code", code.as_str()),
    ];
    let response = env
        .http
        .post(format!("{}oauth2/token", env.sandbox.vop_oauth_url()))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], 30001);
    assert!(
        body["msg"]
            .as_str()
            .expect("msg")
            .contains("URL query string"),
        "{body}"
    );
    // The same code still works the right way: the refused call did not consume it.
    client
        .exchange_code(&code, &env.redirect_uri(), "127.0.0.1")
        .await
        .expect("query parameters");
}

#[tokio::test]
async fn wrong_client_secret_is_refused() {
    let env = TestEnv::start().await;
    let client = env.client();
    let code = env.authorize_code(&client, "s").await;
    let impostor = env.client_with(env.config_for(&env.creds.vop.app_key, "guess"));
    let err = impostor
        .exchange_code(&code, &env.redirect_uri(), "127.0.0.1")
        .await
        .expect_err("bad secret");
    assert_eq!(oauth_code(&err), 30002);
    assert!(!err.to_string().contains("guess"));
}

#[tokio::test]
async fn revoke_then_every_use_fails() {
    let env = TestEnv::start().await;
    let client = env.client();
    let token = env.access_token(&client).await;
    client
        .revoke_token(&token.access_token)
        .await
        .expect("revoke");
    let info = client
        .token_info(&token.access_token)
        .await
        .expect_err("revoked");
    assert!(
        matches!(&info, VopError::OAuth { code: 0, message, .. } if message == "token revoked"),
        "{info:?}"
    );
    assert!(info.needs_reauthorization());
    let call = client
        .with_access_token(token.access_token.clone())
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect_err("revoked token");
    assert_eq!(call.api_kind(), Some(ApiErrorKind::TokenInvalid));
    let again = client
        .revoke_token(&token.access_token)
        .await
        .expect_err("already revoked");
    assert_eq!(oauth_code(&again), 30111);
    let refresh = client
        .refresh_token(
            token.refresh_token.as_ref().expect("refresh token"),
            "127.0.0.1",
        )
        .await
        .expect_err("a revoked grant cannot be refreshed");
    assert!(refresh.needs_reauthorization(), "{refresh}");
}

#[tokio::test]
async fn refresh_replaces_the_access_token_and_keeps_the_refresh_token() {
    let env = TestEnv::start().await;
    let client = env.client();
    let token = env.access_token(&client).await;
    let refresh = token.refresh_token.clone().expect("refresh token");
    let refreshed = client
        .refresh_token(&refresh, "127.0.0.1")
        .await
        .expect("refresh");
    assert_ne!(
        refreshed.access_token.expose_secret(),
        token.access_token.expose_secret()
    );
    assert_eq!(
        refreshed
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        Some(refresh.expose_secret().to_owned())
    );
    assert_eq!(refreshed.expires_in, 90 * DAY);
    assert!(refreshed.refresh_expires_time.is_some() && refreshed.expires_time.is_some());
    let old = client
        .with_access_token(token.access_token)
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect_err("old token replaced");
    assert_eq!(old.api_kind(), Some(ApiErrorKind::TokenInvalid));
    client
        .with_access_token(refreshed.access_token)
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect("new token");
    let garbage = client
        .refresh_token(&SecretString::from("nope"), "127.0.0.1")
        .await
        .expect_err("unknown refresh token");
    assert_eq!(garbage.api_kind(), Some(ApiErrorKind::TokenInvalid));
}

#[tokio::test]
async fn tokens_expire_on_the_simulated_clock_and_refresh_tokens_after_a_year() {
    let env = TestEnv::start().await;
    let client = env.client();
    let token = env.access_token(&client).await;
    let refresh = token.refresh_token.clone().expect("refresh token");
    env.advance_clock_secs(90 * DAY + 1).await;
    let expired = client
        .with_access_token(token.access_token.clone())
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect_err("expired");
    assert_eq!(expired.api_kind(), Some(ApiErrorKind::TokenInvalid));
    assert!(expired.to_string().contains("expired"), "{expired}");
    let info = client
        .token_info(&token.access_token)
        .await
        .expect_err("expired");
    assert!(matches!(info, VopError::OAuth { code: 30111, .. }));
    let refreshed = client
        .refresh_token(&refresh, "127.0.0.1")
        .await
        .expect("refresh token still good");
    client
        .with_access_token(refreshed.access_token)
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect("refreshed token");
    env.advance_clock_secs(276 * DAY).await;
    let dead = client
        .refresh_token(&refresh, "127.0.0.1")
        .await
        .expect_err("refresh token past a year");
    assert!(
        dead.needs_reauthorization() && dead.to_string().contains("expired"),
        "{dead}"
    );
}

#[tokio::test]
async fn configured_token_lifetimes_apply() {
    let env = TestEnv::start().await;
    env.admin(
        "/_sandbox/vop/tokens",
        json!({"access_token_ttl_secs": 30 * DAY}),
    )
    .await;
    let token = env.access_token(&env.client()).await;
    assert_eq!(token.expires_in, 30 * DAY, "seed 000's 30 days");
}

#[tokio::test]
async fn password_change_and_freeze_end_authorizations() {
    let env = TestEnv::start().await;
    let client = env.client();
    let (username, password) = env.union_user();
    let token = env.access_token(&client).await;
    let changed = env
        .admin(
            &format!("/_sandbox/vop/users/{username}"),
            json!({"password": "a-new-password"}),
        )
        .await;
    assert_eq!(changed["tokens_revoked"], 1);
    let err = client
        .with_access_token(token.access_token.clone())
        .execute(&GoodsList::channel(Mode::ToolProvider, 0, 1))
        .await
        .expect_err("password changed");
    assert!(
        err.needs_reauthorization() && err.to_string().contains("password"),
        "{err}"
    );
    let refresh = client
        .refresh_token(token.refresh_token.as_ref().expect("rt"), "127.0.0.1")
        .await
        .expect_err("refresh too");
    assert!(refresh.needs_reauthorization());

    // The old password no longer signs in; the new one does.
    let url = client
        .authorize_url(&env.redirect_uri(), None)
        .expect("url");
    let (status, message) = env.refused_login(url.as_str(), &username, &password).await;
    assert_eq!(status, 401);
    assert!(message.contains("用户名或密码错误"), "{message}");
    let second = env
        .log_in_and_decide(url.as_str(), &username, "a-new-password", true)
        .await;
    assert_eq!(second.status, 302);
    let code = parse_callback(&second.location.expect("redirect"))
        .expect("code")
        .code;
    let fresh = client
        .exchange_code(&code, &env.redirect_uri(), "127.0.0.1")
        .await
        .expect("exchange");

    env.admin(
        &format!("/_sandbox/vop/users/{username}"),
        json!({"frozen": true}),
    )
    .await;
    let frozen = client
        .token_info(&fresh.access_token)
        .await
        .expect_err("frozen");
    assert!(frozen.needs_reauthorization());
    let (status, message) = env
        .refused_login(url.as_str(), &username, "a-new-password")
        .await;
    assert_eq!(status, 401);
    assert!(message.contains("冻结"), "{message}");
}
