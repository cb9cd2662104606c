//! The REST API over loopback: tenant authentication and isolation, cursor paging that neither
//! skips nor repeats, live shipments and stock, revocation, metrics and the Swagger UI, and a
//! fuzz run driven by the API's own OpenAPI document that never gets a 5xx.

mod common;

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
    assert_eq!(status, 400);
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
