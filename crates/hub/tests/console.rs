//! The web console over loopback: sign-in and session cookies, the shops and sync pages in both
//! languages, tenant isolation, CSRF, connecting and revoking shops, "sync now", signing out.

mod common;

use common::{A, HubEnv};

fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect()
}

struct Browser {
    http: reqwest::Client,
    hub: String,
    cookie: String,
}

impl Browser {
    /// Signs in as `tenant` (app key, secret) and keeps the session cookie.
    async fn sign_in(hub: &str, tenant: (&str, &str)) -> Self {
        let http = common::http();
        let cookie = common::console_session(&http, hub, tenant).await;
        Self {
            http,
            hub: hub.to_owned(),
            cookie,
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.hub))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("get");
        // The templates escape `/` in text and attributes; the tests read addresses plainly.
        (
            response.status().as_u16(),
            response.text().await.expect("html").replace("&#x2f;", "/"),
        )
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.hub))
            .header("cookie", &self.cookie)
            .form(form)
            .send()
            .await
            .expect("post")
    }
}

#[tokio::test]
async fn a_tenant_signs_in_sees_its_shops_connects_revokes_and_syncs() {
    let env = HubEnv::start().await;
    let http = common::http();
    let anonymous = http
        .get(format!("{}/console/shops", env.hub))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()["location"], "/console/login");
    let (form_cookie, form_token) = common::login_form(&http, &env.hub).await;
    let wrong = http
        .post(format!("{}/console/login", env.hub))
        .header("accept-language", "en")
        .header("cookie", &form_cookie)
        .form(&[
            ("app_key", A.0),
            ("app_secret", "nope"),
            ("login_csrf", &form_token),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong
            .text()
            .await
            .expect("html")
            .contains("Unknown app key or wrong secret")
    );
    let signed_in = common::console_login(&http, &env.hub, A.0, A.1).await;
    assert_eq!(signed_in.status(), 303);
    let set_cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("sb_session="))
        .expect("the session cookie")
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().expect("pair").to_owned();
    let browser = Browser {
        http: http.clone(),
        hub: env.hub.clone(),
        cookie,
    };

    // Chinese by default, English on request; the tenant's shops only.
    let (status, shops) = browser.get("/console/shops").await;
    assert_eq!(status, 200);
    assert!(
        shops.contains("<h1>店铺</h1>") && shops.contains("正常"),
        "{shops}"
    );
    assert!(
        shops.contains(&format!(r#"data-shop="{}""#, env.ids[0]))
            && shops.contains(&format!(r#"data-shop="{}""#, env.ids[1]))
    );
    assert!(
        !shops.contains(&env.ids[2]),
        "another tenant's shop is not shown"
    );
    let (_, english) = browser.get("/console/shops?lang=en").await;
    assert!(english.contains("<h1>Shops</h1>") && english.contains("Connect Vipshop JIT"));
    let csrf = csrf_of(&shops);

    // Changes need the form's token, and only reach the tenant's own shops.
    let forged = browser
        .post(
            &format!("/console/shops/{}/revoke", env.ids[1]),
            &[("csrf", "00")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    let foreign = browser
        .post(
            &format!("/console/shops/{}/revoke", env.ids[2]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(foreign.status(), 404);
    // A shop whose grant lapsed is called out until it is authorized again.
    let set_state = |state| {
        env.store.set_state(
            &env.ids[0],
            state,
            Some("refresh token expired"),
            shopbridge_core::Clock::now_ms(&env.sandbox.clock()),
        )
    };
    set_state(shopbridge_store::ConnectionState::NeedsReauth)
        .await
        .expect("lapse");
    let (_, lapsed) = browser.get("/console/shops").await;
    assert!(
        lapsed.contains(r#"data-reauth="1""#) && lapsed.contains("重新授权"),
        "{lapsed}"
    );
    set_state(shopbridge_store::ConnectionState::Active)
        .await
        .expect("back");
    let (_, fine) = browser.get("/console/shops").await;
    assert!(!fine.contains("data-reauth"));

    // Re-authorizing goes back through the platform's page for the same shop; the app's own
    // Union channel account has no flow to repeat, and another tenant's shop is not found.
    assert!(
        shops.contains(&format!("/console/shops/{}/reauthorize", env.ids[0]))
            && !shops.contains(&format!("/console/shops/{}/reauthorize", env.ids[1])),
        "{shops}"
    );
    let again = browser
        .post(
            &format!("/console/shops/{}/reauthorize", env.ids[0]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status(), 303);
    let location = again.headers()["location"].to_str().expect("location");
    assert!(location.contains("/vop/oauth2/authorize"), "{location}");
    for (id, status) in [(&env.ids[1], 409), (&env.ids[2], 404)] {
        let refused = browser
            .post(
                &format!("/console/shops/{id}/reauthorize"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(refused.status(), status);
    }
    let revoked = browser
        .post(
            &format!("/console/shops/{}/revoke", env.ids[1]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status(), 303);
    let (_, after) = browser.get("/console/shops").await;
    assert!(after.contains("已撤销"), "{after}");

    // Connecting goes to the platform's authorization page.
    let vendor = env.sandbox.credentials().vop.vendor_id.to_string();
    let connect = browser
        .post(
            "/console/shops/connect",
            &[
                ("csrf", &csrf),
                ("platform", "vop"),
                ("mode", "jit"),
                ("name", "新店"),
                ("vendor_id", &vendor),
            ],
        )
        .await;
    assert_eq!(connect.status(), 303);
    assert!(
        connect.headers()["location"]
            .to_str()
            .expect("location")
            .starts_with(&env.sandbox.vop_oauth_url())
    );

    // Sync now, driven until idle through the API, then shown.
    let now = browser.post("/console/sync/now", &[("csrf", &csrf)]).await;
    assert_eq!(now.status(), 303);
    http.post(format!("{}/v1/sync/run", env.hub))
        .bearer_auth(format!("{}:{}", A.0, A.1))
        .send()
        .await
        .expect("sync");
    let (status, sync) = browser.get("/console/sync?lang=en").await;
    assert_eq!(status, 200);
    assert!(
        sync.contains(r#"data-stream="jit_orders" data-outcome="complete""#)
            && sync.contains("JIT orders"),
        "{sync}"
    );
    // A revoked shop's streams leave the sync page.
    assert!(
        !sync.contains(&format!("/console/sync/{}/", env.ids[1])),
        "{sync}"
    );

    let out = browser.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), 303);
    let (status, _) = browser.get("/console/shops").await;
    assert_eq!(status, 303, "the session ended");
}

#[tokio::test]
async fn orders_can_be_found_and_opened_and_earnings_are_charted() {
    let env = HubEnv::start().await;
    let browser = Browser::sign_in(&env.hub, A).await;
    let jit = &env.ids[0];
    let stored = env
        .store
        .synced_records(jit, "jit_orders")
        .await
        .expect("orders");
    let (status, orders) = browser
        .get(&format!("/console/orders?shop={jit}&lang=en"))
        .await;
    assert_eq!(status, 200);
    for record in &stored {
        assert!(
            orders.contains(&record.record.id),
            "order {} listed",
            record.record.id
        );
    }
    let wanted = &stored[0].record.id;
    let (_, found) = browser
        .get(&format!("/console/orders?shop={jit}&q={wanted}"))
        .await;
    assert_eq!(
        found.matches("data-order=").count(),
        1,
        "the search finds one order: {found}"
    );
    let (status, detail) = browser
        .get(&format!("/console/orders/{jit}/{wanted}?lang=en"))
        .await;
    assert_eq!(status, 200);
    let order: shopbridge_core::model::Order =
        serde_json::from_str(&stored[0].record.payload).expect("a unified order");
    // The order in words: status, receiver, each line, the total, a way back.
    let status_words =
        shopbridge_hub::ui::Lang::En.t(&format!("order-status-{}", order.status.code()));
    assert!(detail.contains(&status_words), "{status_words}: {detail}");
    assert!(detail.contains(&order.receiver.receiver_name));
    for line in &order.lines {
        assert!(detail.contains(&format!(r#"data-line="{}""#, line.sub_order_no)));
    }
    assert!(
        detail.contains(&format!(r#"data-total="{}">¥"#, order.total_amount)),
        "the total: {detail}"
    );
    assert!(
        detail.contains(&format!("/console/orders?shop={jit}")),
        "back to the list"
    );
    assert!(
        !detail.contains(">JH_"),
        "statuses are words, not codes: {detail}"
    );
    let versions = env
        .store
        .synced_record_versions(jit, "jit_orders", wanted)
        .await
        .expect("versions");
    assert!(!versions.is_empty(), "every stored version is kept");
    assert!(
        detail.contains(&format!(r#"data-versions="{}""#, versions.len())),
        "one timeline entry per version"
    );
    assert!(detail.contains("First synced"));
    let (status, _) = browser
        .get(&format!("/console/orders/{}/{wanted}", env.ids[2]))
        .await;
    assert_eq!(status, 404, "another tenant's order");
    let (status, earnings) = browser
        .get(&format!("/console/earnings?shop={}&days=14", env.ids[1]))
        .await;
    assert_eq!(status, 200);
    assert!(
        earnings.contains(r#"<option value="14" selected>"#),
        "{earnings}"
    );
    let (status, refused) = browser
        .get(&format!("/console/earnings?shop={}&days=367", env.ids[1]))
        .await;
    assert_eq!(status, 400, "at most 366 days: {refused}");
    assert!(refused.contains("days"));
    let (status, earnings) = browser
        .get(&format!(
            "/console/earnings?shop={}&days=30&lang=en",
            env.ids[1]
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        earnings.contains("Settled commission") && earnings.contains("Last 30 days"),
        "{earnings}"
    );
}

#[tokio::test]
async fn links_are_detected_spliced_and_generated_and_activity_is_listed() {
    let env = HubEnv::start().await;
    let browser = Browser::sign_in(&env.hub, A).await;
    let (_, page) = browser.get("/console/links").await;
    let csrf = csrf_of(&page);
    let goods = common::vop_client(&env.sandbox)
        .execute(
            &shopbridge_vop::union::goods::GoodsList::channel(shopbridge_vop::Mode::Channel, 0, 1)
                .page_size(1),
        )
        .await
        .expect("goods")
        .goods_info_list[0]
        .goods_id
        .clone();
    let text = format!("看看这个 https://m.vip.com/product-1-{goods}.html 很划算");
    let answer = browser
        .post(
            "/console/links",
            &[
                ("csrf", &csrf),
                ("shop", &env.ids[1]),
                ("text", &text),
                ("chan_tag", "pid_console"),
            ],
        )
        .await;
    assert_eq!(answer.status(), 200);
    let html = answer.text().await.expect("html");
    assert!(
        html.contains(&format!("<li>{goods}</li>")),
        "the goods id is found: {html}"
    );
    assert!(
        html.contains("chanTag=pid_console"),
        "the link is spliced offline"
    );
    assert!(
        html.contains(r#"data-link="url""#) && html.contains("data-copy"),
        "links generated with copy buttons"
    );
    let (status, activity) = browser.get("/console/activity?lang=en").await;
    assert_eq!(status, 200);
    assert!(activity.contains("console_login") && activity.contains("Webhook deliveries"));
}

/// Revoking and deleting ask first; a shop that is no longer authorized can be deleted with its
/// data, an authorized one cannot, and another tenant's is not found.
#[tokio::test]
async fn a_revoked_shop_is_deleted_from_the_console() {
    let env = HubEnv::start().await;
    let browser = Browser::sign_in(&env.hub, A).await;
    let (_, shops) = browser.get("/console/shops").await;
    let csrf = csrf_of(&shops);
    let revoke_form = format!(
        r#"action="/console/shops/{}/revoke" data-confirm=""#,
        env.ids[0]
    );
    assert!(shops.contains(&revoke_form), "revoke asks first: {shops}");
    assert!(
        !shops.contains(&format!("/console/shops/{}/delete", env.ids[0])),
        "an authorized shop offers no delete"
    );
    let active = browser
        .post(
            &format!("/console/shops/{}/delete", env.ids[0]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(active.status(), 409);
    assert!(
        active
            .text()
            .await
            .expect("page")
            .contains("revoke it first")
    );
    let foreign = browser
        .post(
            &format!("/console/shops/{}/delete", env.ids[2]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(foreign.status(), 404);
    let revoked = browser
        .post(
            &format!("/console/shops/{}/revoke", env.ids[0]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status(), 303);
    let (_, after) = browser.get("/console/shops").await;
    let delete_form = format!(
        r#"action="/console/shops/{}/delete" data-confirm=""#,
        env.ids[0]
    );
    assert!(after.contains(&delete_form), "delete asks first: {after}");
    // A revoked shop can be authorized again in place, through the platform's page, for the
    // vendor it had (or deleted).
    assert!(after.contains(&format!("/console/shops/{}/reauthorize", env.ids[0])));
    let again = browser
        .post(
            &format!("/console/shops/{}/reauthorize", env.ids[0]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status(), 303);
    let location = again.headers()["location"].to_str().expect("location");
    assert!(location.contains("/vop/oauth2/authorize"), "{location}");
    let deleted = browser
        .post(
            &format!("/console/shops/{}/delete", env.ids[0]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(deleted.status(), 303);
    let (_, gone) = browser.get("/console/shops").await;
    assert!(
        !gone.contains(&format!(r#"data-shop="{}""#, env.ids[0])),
        "{gone}"
    );
    assert!(
        env.store
            .synced_records(&env.ids[0], "jit_orders")
            .await
            .expect("records")
            .is_empty()
    );
}

/// The console and REST are two front ends of one service: links made in the console count
/// against the same interactive quota REST answers 429 for, revoking a revoked shop is a
/// conflict in both, and "sync now" leaves shops that wait for their owner alone in both.
#[tokio::test]
async fn the_console_and_rest_apply_the_same_rules() {
    let env = HubEnv::start().await;
    let browser = Browser::sign_in(&env.hub, A).await;
    let (_, page) = browser.get("/console/links").await;
    let csrf = csrf_of(&page);
    let union = &env.ids[1];
    let text = "看看 https://m.vip.com/product-1-6918000001.html";
    // Three links a minute in this hub: the console's calls use them up...
    for _ in 0..3 {
        let made = browser
            .post(
                "/console/links",
                &[("csrf", &csrf), ("shop", union), ("text", text)],
            )
            .await;
        assert_eq!(made.status(), 200);
        let html = made.text().await.expect("html");
        assert!(!html.contains("quota"), "{html}");
    }
    let over = browser
        .post(
            "/console/links",
            &[("csrf", &csrf), ("shop", union), ("text", text)],
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(
        over.contains(r#"class="alert" role="alert""#) && over.contains("quota"),
        "the console says the quota is used up: {over}"
    );
    // ...and REST, asking for the same account, waits for the same window.
    let rest = env
        .http
        .post(format!("{}/v1/union/links", env.hub))
        .bearer_auth(format!("{}:{}", A.0, A.1))
        .json(&serde_json::json!({"shop": union, "goods_ids": ["6918000001"]}))
        .send()
        .await
        .expect("links");
    assert_eq!(rest.status(), 429);
    assert!(rest.headers().contains_key("retry-after"));

    // Revoked through REST; the console's revoke of it again is the same conflict.
    let revoke = |path: String| {
        env.http
            .post(format!("{}{path}", env.hub))
            .bearer_auth(format!("{}:{}", A.0, A.1))
            .send()
    };
    let first = revoke(format!("/v1/shops/{union}/revoke"))
        .await
        .expect("revoke");
    assert_eq!(first.status(), 200);
    let again = browser
        .post(
            &format!("/console/shops/{union}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status(), 409);
    assert!(
        again
            .text()
            .await
            .expect("html")
            .contains("already revoked")
    );
    let again = revoke(format!("/v1/shops/{union}/revoke"))
        .await
        .expect("revoke");
    assert_eq!(again.status(), 409);

    // A shop waiting for re-authorization, and the revoked one, are not made due by "sync now".
    let jit = &env.ids[0];
    let now = shopbridge_core::Clock::now_ms(&env.sandbox.clock());
    env.store
        .set_state(
            jit,
            shopbridge_store::ConnectionState::NeedsReauth,
            Some("refresh token expired"),
            now,
        )
        .await
        .expect("needs reauth");
    let synced = browser.post("/console/sync/now", &[("csrf", &csrf)]).await;
    assert_eq!(synced.status(), 303);
    let after = shopbridge_core::Clock::now_ms(&env.sandbox.clock());
    let tenant = env
        .store
        .tenant_by_app_key(A.0)
        .await
        .expect("tenant")
        .expect("found")
        .0;
    for schedule in env
        .store
        .tenant_schedules(&tenant)
        .await
        .expect("schedules")
    {
        assert!(
            schedule.next_run_ms > after,
            "{} {} was made due",
            schedule.connection_id,
            schedule.stream
        );
    }
}

#[tokio::test]
async fn orders_filter_and_export_and_streams_show_their_runs() {
    let env = HubEnv::start().await;
    let browser = Browser::sign_in(&env.hub, A).await;
    let jit = &env.ids[0];
    let stored = env
        .store
        .synced_records(jit, "jit_orders")
        .await
        .expect("orders");
    let waiting: Vec<_> = stored
        .iter()
        .filter(|r| r.record.columns.status.as_deref() == Some("JH_02"))
        .collect();
    assert!(
        !waiting.is_empty() && waiting.len() < stored.len(),
        "the sandbox has orders in several states"
    );

    // A status narrows the list, by index, and the CSV holds exactly what the list shows.
    let (status, page) = browser
        .get(&format!("/console/orders?shop={jit}&status=JH_02&lang=en"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("data-order=").count(), waiting.len(), "{page}");
    assert!(!page.contains(r#"class="badge">Completed<"#), "{page}");
    // The other language's link keeps the filters.
    assert!(
        page.contains(&format!(
            "href=\"/console/orders?shop={jit}&amp;status=JH_02&amp;lang=zh\""
        )),
        "{page}"
    );
    let csv = browser
        .http
        .get(format!(
            "{}/console/orders.csv?shop={jit}&status=JH_02&lang=en",
            browser.hub
        ))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let bytes = csv.bytes().await.expect("csv");
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "a byte-order mark for spreadsheets"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
    let lines: Vec<&str> = text.trim_end().lines().collect();
    assert_eq!(lines[0], "Order,Status,Last change,Amount");
    assert_eq!(lines.len() - 1, waiting.len());
    for record in &waiting {
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with(&record.record.id)
                    && line.contains("Awaiting shipment")),
            "{} exported",
            record.record.id
        );
    }

    // A range of change dates (Beijing days) narrows the list too.
    let newest = stored
        .iter()
        .map(|r| r.record.updated_ms)
        .max()
        .expect("one");
    let day = shopbridge_vop::time::format_datetime_ms(newest)[..10].to_owned();
    let on_that_day = stored
        .iter()
        .filter(|r| shopbridge_vop::time::format_datetime_ms(r.record.updated_ms).starts_with(&day))
        .count();
    let (_, dated) = browser
        .get(&format!("/console/orders?shop={jit}&from={day}&to={day}"))
        .await;
    assert_eq!(dated.matches("data-order=").count(), on_that_day.min(50));

    // Another tenant's shop is not found, whatever the page.
    let foreign = &env.ids[2];
    for path in [
        format!("/console/orders.csv?shop={foreign}"),
        format!("/console/sync/{foreign}/jit_orders"),
        format!("/console/orders/{foreign}/X"),
    ] {
        let (status, body) = browser.get(&path).await;
        assert!(status == 404 || !body.contains(foreign), "{path}: {status}");
        assert_ne!(status, 200, "{path}");
    }

    // A stream's run history, once it has run.
    env.http
        .post(format!("{}/v1/sync/run", env.hub))
        .bearer_auth(format!("{}:{}", A.0, A.1))
        .send()
        .await
        .expect("sync");
    let (status, runs) = browser
        .get(&format!("/console/sync/{jit}/jit_orders?lang=en"))
        .await;
    assert_eq!(status, 200);
    assert!(
        runs.contains("data-run=") && runs.contains("Complete"),
        "{runs}"
    );
    let (status, _) = browser.get(&format!("/console/sync/{jit}/nope")).await;
    assert_eq!(status, 404, "a stream the shop does not have");

    // Pages run no inline code: scripts and styles come from the hub's own assets.
    let response = browser
        .http
        .get(format!("{}/console/shops", browser.hub))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .expect("page");
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(policy.contains("script-src 'self'") && policy.contains("style-src 'self'"));
    let html = response.text().await.expect("html");
    assert!(!html.contains("<script>") && !html.contains(" style=\""));
    for asset in ["/console/assets/console.css", "/console/assets/console.js"] {
        let (status, body) = browser.get(asset).await;
        assert_eq!(status, 200);
        assert!(body.len() > 500, "{asset}");
    }

    // A shop id that is not the tenant's is not found, never a page about no shop at all.
    for path in ["/console/earnings?shop=bogus", "/console/orders?shop=bogus"] {
        let (status, body) = browser.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    // What a page repeats from its address is short.
    let long = "9".repeat(500);
    let (status, body) = browser
        .get(&format!("/console/orders?shop={jit}&from={long}"))
        .await;
    assert_eq!(status, 400);
    assert!(
        !body.contains(&long) && body.contains(&"9".repeat(40)),
        "{body}"
    );
    // The links tool reads at most 20,000 characters, and says so.
    let csrf = csrf_of(&browser.get("/console/links").await.1);
    let huge = "http://ab ".repeat(3_000);
    let refused = browser
        .post(
            "/console/links?lang=en",
            &[("csrf", &csrf), ("text", &huge)],
        )
        .await
        .text()
        .await
        .expect("page");
    assert!(refused.contains("30000 characters"), "{refused}");

    // Earnings export per day and PID, with its header.
    let union = &env.ids[1];
    let (status, earnings) = browser
        .get(&format!(
            "/console/earnings.csv?shop={union}&days=30&lang=en"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        earnings
            .trim_start_matches('\u{feff}')
            .starts_with("Day,PID,Settled orders"),
        "{earnings}"
    );
}

/// A Union order whose line the model cannot read (a count sent as text) is stored all the
/// same: the sync reads only its head. The list shows it by its head; its page answers 422
/// naming the value refused.
#[tokio::test]
async fn an_order_whose_line_does_not_read_is_listed_and_its_page_names_the_value() {
    let env = HubEnv::start().await;
    let browser = Browser::sign_in(&env.hub, A).await;
    let union = &env.ids[1];
    let payload = r#"{"orderSn":"2612019999000001","status":2,"orderTime":1796000000000,
        "lastUpdateTime":1796000300000,"settled":0,"orderSubStatusName":"待结算",
        "commission":"12.50","detailList":[{"goodsId":"6919","goodsCount":"two"}]}"#;
    let head: shopbridge_vop::union::OrderHead =
        serde_json::from_str(payload).expect("the head reads");
    let record =
        shopbridge_hub::platforms::vop::streams::union_order_record_with(head, payload.into());
    let checkpoint = env
        .store
        .checkpoint(union, "union_orders")
        .await
        .expect("checkpoint")
        .unwrap_or(shopbridge_store::Checkpoint {
            cursor_ms: 0,
            window: None,
        });
    env.store
        .save_page(
            union,
            "union_orders",
            &shopbridge_store::PageRecords::UnionOrders(vec![record]),
            checkpoint,
            None,
            1,
        )
        .await
        .expect("stored");
    let (status, list) = browser
        .get(&format!("/console/orders?shop={union}&lang=en"))
        .await;
    assert_eq!(status, 200);
    assert!(
        list.contains("2612019999000001") && list.contains("12.50"),
        "listed with its commission: {list}"
    );
    let (status, page) = browser
        .get(&format!("/console/orders/{union}/2612019999000001?lang=en"))
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("detailList[0].goodsCount"),
        "the value refused: {page}"
    );
}
