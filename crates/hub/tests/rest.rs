//! The REST API over loopback: tenant authentication and isolation, cursor paging that neither
//! skips nor repeats, live shipments and stock, revocation, metrics and the Swagger UI, and a
//! fuzz run driven by the API's own OpenAPI document that never gets a 5xx.

mod common;

use shopbridge_core::Clock;
use std::collections::BTreeSet;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use common::{A, B, HubEnv};

fn bearer(tenant: (&str, &str)) -> String {
    format!("Bearer {}:{}", tenant.0, tenant.1)
}

impl HubEnv {
    async fn get(&self, tenant: (&str, &str), path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.hub))
            .header("authorization", bearer(tenant))
            .send()
            .await
            .expect("get");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post_json(&self, tenant: (&str, &str), path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.hub))
            .header("authorization", bearer(tenant))
            .json(&body)
            .send()
            .await
            .expect("post");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn tenants_see_their_own_shops_and_page_through_orders() {
    let env = HubEnv::start().await;
    let [jit_a, union_a, jit_b] = env.ids.clone();
    let (status, shops) = env.get(A, "/v1/shops").await;
    assert_eq!(status, 200);
    let ids: BTreeSet<&str> = shops
        .as_array()
        .expect("shops")
        .iter()
        .map(|s| s["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [jit_a.as_str(), union_a.as_str()].into());
    assert!(
        shops.to_string().find("access_token").is_none(),
        "no credentials in the listing"
    );
    // Another tenant's shop is a shop that does not exist.
    for path in [
        format!("/v1/shops/{jit_b}"),
        format!("/v1/orders?shop={jit_b}"),
        format!("/v1/sync/runs?shop={jit_b}"),
    ] {
        assert_eq!(env.get(A, &path).await.0, 404, "{path}");
    }
    assert_eq!(env.get(B, &format!("/v1/shops/{jit_b}")).await.0, 200);
    // Authentication.
    let anonymous = env
        .http
        .get(format!("{}/v1/shops", env.hub))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(env.get(("erp-a", "wrong"), "/v1/shops").await.0, 401);

    // Three at a time, every order exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/orders?shop={jit_a}&limit=3&cursor={c}"),
            None => format!("/v1/orders?shop={jit_a}&limit=3"),
        };
        let (status, page) = env.get(A, &path).await;
        assert_eq!(status, 200, "{page}");
        // The shop has been synced: the page says until when it is complete.
        let synced_until = page["synced_until_ms"].as_i64().expect("synced_until_ms");
        assert!(synced_until > 0 && synced_until <= env.sandbox.clock().now_ms());
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|o| o["plat_order_no"].as_str().expect("no").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let stored = env
        .store
        .synced_records(&jit_a, "jit_orders")
        .await
        .expect("records");
    assert_eq!(seen.len(), stored.len());
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        seen.len(),
        "no order twice"
    );
    assert_eq!(
        env.get(A, &format!("/v1/orders?shop={jit_a}&cursor=nonsense"))
            .await
            .0,
        400
    );
    assert_eq!(
        env.get(A, &format!("/v1/orders?shop={jit_a}&limit=0"))
            .await
            .0,
        400
    );

    // One order, its refund state, a shipment and a stock push, live.
    let waiting = stored
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.record.payload).expect("json"))
        .find(|o| o["status"] == "JH_02")
        .expect("an order waiting to ship");
    let number = waiting["plat_order_no"].as_str().expect("no");
    let (status, order) = env.get(A, &format!("/v1/orders/{jit_a}/{number}")).await;
    assert_eq!(
        (status, order["plat_order_no"].as_str()),
        (200, Some(number))
    );
    let (status, refund) = env
        .get(A, &format!("/v1/orders/{jit_a}/{number}/refund"))
        .await;
    assert_eq!(
        (status, refund["status"].as_str()),
        (200, Some("JH_07")),
        "{refund}"
    );
    let (status, shipped) = env
        .post_json(A, "/v1/shipments", json!({"shop": jit_a, "plat_order_no": number, "logistic_type": "JH_014", "logistic_no": "SF42"}))
        .await;
    assert_eq!(
        (status, shipped["logistic_no"].as_str()),
        (200, Some("SF42")),
        "{shipped}"
    );
    let (status, again) = env
        .post_json(A, "/v1/shipments", json!({"shop": jit_a, "plat_order_no": number, "logistic_type": "JH_014", "logistic_no": "SF43"}))
        .await;
    assert_eq!(
        status, 422,
        "shipping twice is the platform's refusal: {again}"
    );
    let barcode = waiting["lines"][0]["outer_id"].as_str().expect("barcode");
    let (status, stock) = env
        .post_json(
            A,
            "/v1/stock",
            json!({"shop": jit_a, "outer_id": barcode, "quantity": 12, "warehouse": "VIP_NH"}),
        )
        .await;
    assert_eq!(
        (status, stock["quantity"].as_i64()),
        (200, Some(12)),
        "{stock}"
    );
    let (status, bad) = env
        .post_json(
            A,
            "/v1/stock",
            json!({"shop": jit_a, "outer_id": barcode, "quantity": -3}),
        )
        .await;
    assert_eq!(status, 422, "a full level cannot be negative");
    assert!(bad["error"].as_str().expect("error").contains("quantity"));
    let (status, bad) = env
        .post_json(
            A,
            "/v1/stock",
            json!({"shop": jit_a, "outer_id": barcode, "quantity": 1, "colour": "red"}),
        )
        .await;
    assert_eq!(status, 400, "unknown fields are named: {bad}");
    assert!(bad["error"].as_str().expect("error").contains("colour"));

    let (status, runs) = env.get(A, &format!("/v1/sync/runs?shop={jit_a}")).await;
    assert_eq!(status, 200);
    assert!(
        runs.as_array()
            .expect("runs")
            .iter()
            .any(|r| r["stream"] == "jit_orders" && r["status"] == "complete")
    );
    let (status, products) = env.get(A, &format!("/v1/products?shop={jit_a}")).await;
    assert_eq!(status, 200);
    assert!(!products["items"].as_array().expect("items").is_empty());

    let (status, refunds) = env
        .get(A, &format!("/v1/refunds?shop={jit_a}&limit=500"))
        .await;
    assert_eq!(status, 200, "{refunds}");
    let refunded = refunds["items"].as_array().expect("items");
    assert!(
        refunded.iter().all(|o| o["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .any(|l| l["refund_status"] != "JH_07")),
        "only orders with a refund: {refunds}"
    );
    let cancelled = stored
        .iter()
        .filter(|r| r.record.payload.contains("\"refund_status\":\"JH_06\""))
        .count();
    assert_eq!(refunded.len(), cancelled);
    assert!(
        !refunded.is_empty(),
        "the sandbox has cancelled direct-ship orders"
    );
    assert_eq!(
        env.get(A, &format!("/v1/refunds?shop={union_a}")).await.0,
        200
    );

    // Re-authorization answers the platform's page for the same shop; never another tenant's.
    let (status, again) = env
        .post_json(A, &format!("/v1/shops/{jit_a}/reauthorize"), json!({}))
        .await;
    assert_eq!(status, 202, "{again}");
    assert!(
        again["authorize_url"]
            .as_str()
            .is_some_and(|url| url.contains("/vop/oauth2/authorize")),
        "{again}"
    );
    let (status, _) = env
        .post_json(B, &format!("/v1/shops/{jit_a}/reauthorize"), json!({}))
        .await;
    assert_eq!(status, 404);

    // Revocation ends the grant at the platform too.
    let (status, revoked) = env
        .post_json(A, &format!("/v1/shops/{union_a}/revoke"), json!({}))
        .await;
    assert_eq!((status, revoked["state"].as_str()), (200, Some("revoked")));
    let (status, revoked) = env
        .post_json(A, &format!("/v1/shops/{jit_a}/revoke"), json!({}))
        .await;
    assert_eq!((status, revoked["state"].as_str()), (200, Some("revoked")));
    let (status, _) = env
        .get(B, &format!("/v1/orders/{jit_b}/{number}/refund"))
        .await;
    assert_eq!(
        status, 409,
        "B's shop shared the vendor's revoked token: it must be authorized again"
    );

    let metrics = env
        .http
        .get(format!("{}/metrics", env.hub))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("shopbridge_shops{platform=\"vop\",state=\"revoked\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("shopbridge_streams{stream=\"jit_orders\",outcome=\"complete\"}"));
    // Requests by route template (never a path with its ids), with latency histograms.
    assert!(
        metrics.contains(
            r#"shopbridge_http_requests_total{method="GET",route="/v1/shops/{id}",status="200"}"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(
        r#"shopbridge_http_request_duration_seconds_bucket{method="GET",route="/v1/orders","#
    ));
    assert!(!metrics.contains(&format!("route=\"/v1/shops/{jit_a}")));
    for series in [
        "shopbridge_platform_calls_total{platform=\"vop\"",
        "shopbridge_sync_runs_total{stream=\"jit_orders\",outcome=\"complete\"}",
        "shopbridge_sync_run_duration_seconds_bucket{stream=\"jit_orders\"",
        "shopbridge_webhook_backlog ",
        "shopbridge_db_connections_in_use{pool=\"reader\"}",
        "shopbridge_platform_calls_last_minute{",
    ] {
        assert!(metrics.contains(series), "{series} in {metrics}");
    }
    assert!(metrics.contains(&format!(
        "shopbridge_sync_lag_seconds{{shop=\"{jit_a}\",stream=\"jit_orders\"}}"
    )));
    let swagger = env
        .http
        .get(format!("{}/swagger-ui/", env.hub))
        .send()
        .await
        .expect("swagger");
    assert_eq!(swagger.status(), 200);
    assert!(swagger.text().await.expect("html").contains("swagger"));
}

/// A value for a schema, valid or deliberately not.
fn fuzz_value(
    rng: &mut impl Rng,
    schema: &Value,
    doc: &Value,
    shops: &[String],
    depth: u32,
) -> Value {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    };
    if rng.random_bool(0.15) || depth > 3 {
        return [
            json!(null),
            json!(-1),
            json!("\u{0}"),
            json!("唯品会".repeat(200)),
            json!([1, 2]),
            json!({"x": 1}),
            json!(i64::MAX),
            json!(true),
        ]
        .choose(rng)
        .cloned()
        .unwrap_or(Value::Null);
    }
    let kind = schema["type"]
        .as_str()
        .or_else(|| schema["type"][0].as_str())
        .unwrap_or("object");
    match kind {
        "string" => {
            let options = [
                shops.choose(rng).cloned().unwrap_or_default(),
                "JH_014".into(),
                "full".into(),
                "incremental".into(),
                String::new(),
                "'; DROP TABLE connections; --".into(),
                "%00%ff".into(),
                format!("{}:{}", rng.random::<i64>(), "x"),
            ];
            json!(options.choose(rng).cloned().unwrap_or_default())
        }
        "integer" | "number" => json!(
            [0, 1, -5, 12, 500, 501, i64::MIN, rng.random::<i32>() as i64]
                .choose(rng)
                .copied()
                .unwrap_or(0)
        ),
        "boolean" => json!(rng.random_bool(0.5)),
        "array" => {
            let items = &schema["items"];
            json!(
                (0..rng.random_range(0..3))
                    .map(|_| fuzz_value(rng, items, doc, shops, depth + 1))
                    .collect::<Vec<_>>()
            )
        }
        _ => {
            let mut object = Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property) in properties {
                    if rng.random_bool(0.85) {
                        object.insert(
                            name.clone(),
                            fuzz_value(rng, property, doc, shops, depth + 1),
                        );
                    }
                }
            }
            if rng.random_bool(0.1) {
                object.insert("unexpected".into(), json!(1));
            }
            Value::Object(object)
        }
    }
}

fn query_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn a_fuzz_run_from_the_openapi_document_never_gets_a_5xx() {
    let env = HubEnv::start().await;
    let doc: Value = env
        .http
        .get(format!("{}/openapi.json", env.hub))
        .send()
        .await
        .expect("doc")
        .json()
        .await
        .expect("json");
    let paths = doc["paths"].as_object().expect("paths").clone();
    assert!(paths.len() >= 10, "the document lists the API");
    let shops: Vec<String> = env
        .ids
        .iter()
        .cloned()
        .chain(["no-such-shop".to_owned()])
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let mut calls = 0;
    for (path, operations) in &paths {
        for (method, operation) in operations.as_object().expect("operations") {
            for _ in 0..25 {
                let mut url = path.clone();
                let mut query = Vec::new();
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    let name = parameter["name"].as_str().expect("name");
                    let value =
                        query_text(&fuzz_value(&mut rng, &parameter["schema"], &doc, &shops, 0));
                    match parameter["in"].as_str() {
                        Some("path") => {
                            let value = if value.is_empty() {
                                "x".to_owned()
                            } else {
                                value
                            };
                            let encoded: String =
                                url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
                            url = url.replace(&format!("{{{name}}}"), &encoded);
                        }
                        _ if rng.random_bool(0.8) => query.push((name.to_owned(), value)),
                        _ => {}
                    }
                }
                let tenant = *[A, A, A, B].choose(&mut rng).expect("tenant");
                let mut request = match method.as_str() {
                    "post" => env.http.post(format!("{}{url}", env.hub)),
                    _ => env.http.get(format!("{}{url}", env.hub)),
                }
                .header("authorization", bearer(tenant))
                .query(&query);
                if let Some(schema) =
                    operation["requestBody"]["content"]["application/json"]["schema"].as_object()
                {
                    let body =
                        fuzz_value(&mut rng, &Value::Object(schema.clone()), &doc, &shops, 0);
                    request = if rng.random_bool(0.1) {
                        request
                            .header("content-type", "application/json")
                            .body("{not json")
                    } else {
                        request.json(&body)
                    };
                }
                let response = request.send().await.expect("send");
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                assert!(status < 500, "{method} {url} {query:?} -> {status}: {text}");
                calls += 1;
            }
        }
    }
    assert!(calls >= 250, "{calls} calls");
}

#[tokio::test]
async fn shops_connect_and_union_calls_go_live_within_the_quota() {
    let env = HubEnv::start().await;
    let union = env.ids[1].clone();
    // Interactive calls may use the whole quota (3 per minute here), then get a retry-after.
    for _ in 0..3 {
        let (status, goods) = env
            .get(A, &format!("/v1/union/goods?shop={union}&page_size=5"))
            .await;
        assert_eq!(status, 200, "{goods}");
        assert_eq!(goods["goodsInfoList"].as_array().expect("goods").len(), 5);
    }
    let throttled = env
        .http
        .get(format!("{}/v1/union/goods?shop={union}", env.hub))
        .header("authorization", bearer(A))
        .send()
        .await
        .expect("get");
    assert_eq!(throttled.status(), 429);
    let wait: i64 = throttled.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=61).contains(&wait), "{wait}");

    // Links for a PID, then a buyer, then earnings once the orders settle.
    let (_, goods) = env.get(A, &format!("/v1/union/pids?shop={union}")).await;
    assert!(goods["items"].is_array());
    let catalog =
        shopbridge_vop::union::goods::GoodsList::channel(shopbridge_vop::Mode::Channel, 0, 1)
            .page_size(2);
    let ids: Vec<String> = common::vop_client(&env.sandbox)
        .execute(&catalog)
        .await
        .expect("catalog")
        .goods_info_list
        .into_iter()
        .map(|g| g.goods_id)
        .collect();
    let (status, links) = env
        .post_json(
            A,
            "/v1/union/links",
            json!({"shop": union, "goods_ids": ids, "chan_tag": "pid_rest"}),
        )
        .await;
    assert_eq!(status, 200, "{links}");
    let link = links["urlInfoList"][0]["url"]
        .as_str()
        .expect("link")
        .to_owned();
    let (status, _) = env
        .post_json(
            A,
            "/v1/union/links",
            json!({"shop": union, "goods_ids": []}),
        )
        .await;
    assert_eq!(status, 400);
    common::http()
        .post(format!(
            "{}/_sandbox/vop/union/clicks",
            env.sandbox.base_url()
        ))
        .json(&json!({"link": link, "orders": 5, "scenario": "settles"}))
        .send()
        .await
        .expect("clicks");
    let start = shopbridge_core::Clock::now_ms(&env.sandbox.clock());
    env.sandbox.clock().advance_ms(40 * 86_400_000);
    let runs: Value = env
        .http
        .post(format!("{}/v1/sync/run", env.hub))
        .header("authorization", bearer(A))
        .send()
        .await
        .expect("sync")
        .json()
        .await
        .expect("runs");
    assert!(
        runs["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .any(|r| r["stream"] == "union_orders" && r["ok"] == true),
        "{runs}"
    );
    let end = shopbridge_core::Clock::now_ms(&env.sandbox.clock());
    let (status, earned) = env
        .get(
            A,
            &format!("/v1/union/earnings?shop={union}&from={start}&to={end}"),
        )
        .await;
    assert_eq!(status, 200, "{earned}");
    let row = earned["period"]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == "pid_rest")
        .expect("the PID's row")
        .clone();
    assert_eq!(row["settled_orders"], 5);
    let days = earned["days"].as_array().expect("days");
    assert!(days.len() >= 40);
    let per_day: u64 = days
        .iter()
        .flat_map(|d| d["rows"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["key"] == "pid_rest")
        .filter_map(|r| r["settled_orders"].as_u64())
        .sum();
    assert_eq!(per_day, 5, "the days add up to the period");
    // The report (daily sums for whole days, the orders themselves at the partial ends) equals
    // the definition computed from every stored order and refund, aligned to midnight or not.
    let orders: Vec<shopbridge_vop::union::order::OrderInfo> = env
        .store
        .union_orders_page(&union, i64::MIN, None, 100_000)
        .await
        .expect("orders")
        .iter()
        .map(|(_, payload)| serde_json::from_str(payload).expect("order"))
        .collect();
    let refunds: Vec<shopbridge_vop::union::order::RefundOrderInfo> = env
        .store
        .synced_records(&union, "union_refunds")
        .await
        .expect("refunds")
        .iter()
        .map(|r| serde_json::from_str(&r.record.payload).expect("refund"))
        .collect();
    let midnight = shopbridge_store::beijing_day(start) + 86_400_000;
    for (from, to) in [
        (start, end),
        (midnight, midnight + 30 * 86_400_000),
        (start + 1, end - 1),
    ] {
        let (_, earned) = env
            .get(
                A,
                &format!("/v1/union/earnings?shop={union}&from={from}&to={to}"),
            )
            .await;
        let expected = shopbridge_vop::union::earnings::report(
            &orders,
            &refunds,
            from,
            to,
            shopbridge_vop::union::earnings::GroupBy::ChanTag,
        );
        assert_eq!(
            earned["period"]["total"],
            serde_json::to_value(&expected.total).expect("total"),
            "{from}..{to}"
        );
        assert_eq!(
            earned["period"]["rows"],
            serde_json::to_value(&expected.rows).expect("rows")
        );
    }
    assert_eq!(
        env.get(
            A,
            &format!("/v1/union/earnings?shop={union}&from={end}&to={start}")
        )
        .await
        .0,
        422,
        "two good times that make no period"
    );

    // A shop with a session key it already has, and one through the platform's page.
    let vop = common::vop_client(&env.sandbox);
    let vendor = common::authorize_vop(&env.sandbox, &vop, "vendor").await;
    let (status, shop) = env
        .post_json(A, "/v1/shops", json!({"platform": "vop", "mode": "jit", "name": "existing", "session_key": vendor.access_token, "vendor_id": vendor.vendor_id}))
        .await;
    assert_eq!(
        (status, shop["state"].as_str()),
        (201, Some("active")),
        "{shop}"
    );
    let (status, refused) = env
        .post_json(
            A,
            "/v1/shops",
            json!({"platform": "vop", "name": "bad", "session_key": "FFFF"}),
        )
        .await;
    assert_eq!(status, 422, "the platform's refusal: {refused}");
    let creds = env.sandbox.credentials();
    let (status, started) = env
        .post_json(A, "/v1/shops", json!({"platform": "vop", "mode": "jit", "name": "via page", "vendor_id": creds.vop.vendor_id}))
        .await;
    assert_eq!(status, 202);
    let landed = common::approve_on_sandbox(
        &env.http,
        &env.sandbox,
        started["authorize_url"].as_str().expect("url"),
        "vendor",
    )
    .await;
    assert_eq!(landed.status(), 200);
    let (_, shops) = env.get(A, "/v1/shops").await;
    let names: BTreeSet<&str> = shops
        .as_array()
        .expect("shops")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains("existing") && names.contains("via page"),
        "{names:?}"
    );
}

/// A stock drop the platform stops as a circuit break (熔断) is confirmed through REST, and a
/// links request answers every goods id: a link, or why there is none.
#[tokio::test]
async fn circuit_breaks_are_acknowledged_and_unknown_goods_are_answered() {
    let env = HubEnv::start().await;
    let [jit_a, union_a, _] = env.ids.clone();
    let (_, products) = env
        .get(A, &format!("/v1/products?shop={jit_a}&limit=1"))
        .await;
    let barcode = products["items"][0]["skus"][0]["outer_id"]
        .as_str()
        .expect("barcode")
        .to_owned();
    let stock = |quantity: i64, ack: bool| json!({"shop": jit_a, "outer_id": barcode, "quantity": quantity, "warehouse": "VIP_NH", "circuit_break_ack": ack});
    assert_eq!(
        env.post_json(A, "/v1/stock", stock(500, false)).await.0,
        200
    );
    let (status, refused) = env.post_json(A, "/v1/stock", stock(3, false)).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["detail"].as_str().expect("detail").contains("熔断"));
    let (status, confirmed) = env.post_json(A, "/v1/stock", stock(3, true)).await;
    assert_eq!(
        (status, confirmed["quantity"].as_i64()),
        (200, Some(3)),
        "{confirmed}"
    );
    // Without a warehouse the level of the one set (the vendor's main) is reported, not the
    // sum of every warehouse.
    let (status, main) = env
        .post_json(
            A,
            "/v1/stock",
            json!({"shop": jit_a, "outer_id": barcode, "quantity": 7, "circuit_break_ack": true}),
        )
        .await;
    assert_eq!(
        (status, main["quantity"].as_i64()),
        (200, Some(7)),
        "{main}"
    );

    let (_, goods) = env
        .get(A, &format!("/v1/union/goods?shop={union_a}&page_size=1"))
        .await;
    let known = goods["goodsInfoList"][0]["goodsId"]
        .as_str()
        .expect("goods id")
        .to_owned();
    let (status, links) = env
        .post_json(
            A,
            "/v1/union/links",
            json!({"shop": union_a, "goods_ids": [known, "6900000000000000000", ""]}),
        )
        .await;
    assert_eq!(status, 200, "{links}");
    assert_eq!(links["urlInfoList"].as_array().map(Vec::len), Some(1));
    let unanswered: BTreeSet<&str> = links["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["goods_id"].as_str().expect("id"))
        .collect();
    assert_eq!(unanswered, ["6900000000000000000", ""].into());
    // The live calls count in the quota report, beside the sync's.
    let report = env
        .store
        .quota_report(0, i64::MAX / 2)
        .await
        .expect("report");
    let methods: BTreeSet<&str> = report.iter().map(|line| line.method.as_str()).collect();
    assert!(
        methods.contains("goodsList") && methods.contains("genByGoodsId"),
        "{methods:?}"
    );
}

/// What a new user tried and got wrong answers for: each now refused or answered plainly.
#[tokio::test]
async fn malformed_or_misdirected_requests_get_clear_answers() {
    let env = HubEnv::start().await;
    let [jit_a, union_a, _] = env.ids.clone();
    // A Union account's orders are under /v1/union/orders: /v1/orders says so rather than
    // answering an empty page; its refunds are its after-settlement refunds.
    let (status, body) = env.get(A, &format!("/v1/orders?shop={union_a}")).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("/v1/union"),
        "{body}"
    );
    let (status, body) = env.get(A, &format!("/v1/refunds?shop={union_a}")).await;
    assert_eq!(status, 200, "{body}");
    // A JIT shop's refunds are its orders with a refunded or refunding line, by the same rule
    // the unified API's GetRefund reads.
    let (status, body) = env.get(A, &format!("/v1/refunds?shop={jit_a}")).await;
    assert_eq!(status, 200, "{body}");
    let refunding = body["items"].as_array().expect("items");
    assert!(
        !refunding.is_empty(),
        "the demo vendor has refunding orders: {body}"
    );
    for order in refunding {
        assert!(
            order["lines"]
                .as_array()
                .expect("lines")
                .iter()
                .any(|line| line["refund_status"] != "JH_07"),
            "{order}"
        );
    }
    // A malformed shipment or stock push is told so whatever the shop, even an unknown one.
    let (status, body) = env
        .post_json(
            A,
            "/v1/shipments",
            json!({"shop": "no-such-shop", "plat_order_no": " ", "logistic_type": "JH_014", "logistic_no": "SF1"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .starts_with("plat_order_no:"),
        "{body}"
    );
    let (status, body) = env
        .post_json(
            A,
            "/v1/stock",
            json!({"shop": "no-such-shop", "outer_id": "OUT-1", "quantity": -5, "mode": "full"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    // A chanTag with ":" would shift the link's fields and lose its orders.
    let (status, body) = env
        .post_json(
            A,
            "/v1/union/links",
            json!({"shop": union_a, "goods_ids": ["1"], "chan_tag": "a:b"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .starts_with("chan_tag:")
    );
    // A password in a webhook URL would be shown in clear.
    let (status, body) = env
        .post_json(
            A,
            "/v1/webhooks",
            json!({"url": "https://user:pw@93.184.215.14/hook"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(!body.to_string().contains("pw@"), "{body}");
    // Earnings are a Union account's.
    let (status, body) = env
        .get(
            A,
            &format!(
                "/v1/union/earnings?shop={jit_a}&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z"
            ),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    // A cursor this API never gives.
    let (status, _) = env
        .get(A, &format!("/v1/orders?shop={jit_a}&cursor=123:"))
        .await;
    assert_eq!(status, 400);
    // Unknown paths and methods answer problem details.
    for (method, path, expected) in [
        (reqwest::Method::GET, "/v1/nope", 404),
        (reqwest::Method::PUT, "/v1/shops", 405),
    ] {
        let answer = env
            .http
            .request(method, format!("{}{path}", env.hub))
            .header("authorization", bearer(A))
            .send()
            .await
            .expect("request");
        assert_eq!(answer.status().as_u16(), expected, "{path}");
        assert_eq!(
            answer.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
}

/// A shop goes with its data only once it is no longer authorized, and only for its own tenant;
/// the deletion is audited.
#[tokio::test]
async fn a_revoked_shop_is_deleted_with_its_data() {
    let env = HubEnv::start().await;
    let [jit_a, _, _] = env.ids.clone();
    let delete = |tenant: (&'static str, &'static str), id: String| {
        let env = &env;
        async move {
            let response = env
                .http
                .delete(format!("{}/v1/shops/{id}", env.hub))
                .header("authorization", bearer(tenant))
                .send()
                .await
                .expect("delete");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, body) = delete(A, jit_a.clone()).await;
    assert_eq!(status, 409, "an active shop is revoked first: {body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("revoke it first")
    );
    assert_eq!(
        delete(B, jit_a.clone()).await.0,
        404,
        "not another tenant's"
    );
    let stored = env
        .store
        .synced_records(&jit_a, "jit_orders")
        .await
        .expect("records")
        .len();
    assert!(stored > 0);
    let (status, _) = env
        .post_json(A, &format!("/v1/shops/{jit_a}/revoke"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = delete(A, jit_a.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["records"].as_u64().expect("records") >= stored as u64);
    assert_eq!(env.get(A, &format!("/v1/shops/{jit_a}")).await.0, 404);
    assert!(
        env.store
            .synced_records(&jit_a, "jit_orders")
            .await
            .expect("records")
            .is_empty()
    );
    assert_eq!(delete(A, jit_a.clone()).await.0, 404, "gone");
    let tenant = env
        .store
        .tenant_by_app_key(A.0)
        .await
        .expect("tenant")
        .expect("A")
        .0;
    let audit = env.store.audit_entries(&tenant, 10).await.expect("audit");
    assert!(audit.iter().any(|(_, shop, action, detail)| {
        action == "shop_delete"
            && shop.as_deref() == Some(jit_a.as_str())
            && detail.contains("by api")
    }));
}
