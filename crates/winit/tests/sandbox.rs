//! The Winit client against the Winit sandbox over loopback: signatures, every action, the
//! OAuth implicit flow, the rate limit, and the fulfilment connector end to end.

use std::sync::Arc;

use serde_json::{Value, json};
use shopbridge_core::capability::{Capability, Connector};
use shopbridge_core::codes::{OrderStatus, RefundStatus, ShopType};
use shopbridge_core::error::{Classify, ErrorClass};
use shopbridge_core::model::{Address, Order, OrderLine, ProductQuery};
use shopbridge_core::money::Decimal;
use shopbridge_sandbox::{Credentials, RunningSandbox, SandboxConfig};
use shopbridge_winit::actions::*;
use shopbridge_winit::connector::WinitConnector;
use shopbridge_winit::{WinitClient, WinitConfig, WinitError};

struct Env {
    sandbox: RunningSandbox,
    creds: Credentials,
    http: reqwest::Client,
}

impl Env {
    async fn start() -> Self {
        let sandbox = RunningSandbox::spawn(SandboxConfig {
            union_goods: 50,
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox");
        let creds = sandbox.credentials();
        let http = shopbridge_core::http::client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http");
        Self {
            sandbox,
            creds,
            http,
        }
    }

    fn config(&self) -> WinitConfig {
        let w = &self.creds.winit;
        WinitConfig::new(
            w.app_key.clone(),
            w.token.clone(),
            w.client_id.clone(),
            w.client_secret.clone(),
            w.platform.clone(),
        )
        .with_endpoint(&self.sandbox.winit_endpoint())
        .expect("endpoint")
        .with_authorize_url(&self.sandbox.winit_authorize_url())
        .expect("authorize")
    }

    fn client_with(&self, config: WinitConfig) -> WinitClient {
        WinitClient::with_clock(config, Arc::new(self.sandbox.clock())).expect("client")
    }

    fn client(&self) -> WinitClient {
        self.client_with(self.config())
    }

    async fn admin(&self, path: &str, body: Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.sandbox.base_url()))
            .json(&body)
            .send()
            .await
            .expect("admin");
        assert!(response.status().is_success());
    }
}

fn code(result: Result<impl std::fmt::Debug, WinitError>) -> String {
    match result {
        Err(WinitError::Api { code, .. }) => code,
        other => panic!("expected a Winit error, got {other:?}"),
    }
}

fn us_order(seller_order_no: &str) -> CreateOutboundOrder {
    CreateOutboundOrder {
        warehouse_id: 1_000_008,
        delivery_way_id: "1000020".into(),
        insurance_type_id: 1_000_000,
        repeatable: "N".into(),
        seller_order_no: seller_order_no.into(),
        recipient_name: "José Müller".into(),
        phone_num: "5551234567".into(),
        email_address: "a@b.com".into(),
        state: "US".into(),
        region: "CA".into(),
        city: "Los Angeles".into(),
        zip_code: "90001".into(),
        address1: "1 Main St".into(),
        product_list: vec![OutboundProduct {
            product_code: "SKU-1".into(),
            product_num: "2".into(),
            ..OutboundProduct::default()
        }],
        ..CreateOutboundOrder::default()
    }
}

#[tokio::test]
async fn signatures_are_verified_over_canonical_data() {
    let env = Env::start().await;
    let client = env.client();
    let warehouses = client
        .execute(&QueryWarehouse {})
        .await
        .expect("queryWarehouse");
    assert_eq!(warehouses.len(), 4);

    // A hand-written body whose data keys are out of order and spaced: still accepted.
    let now = shopbridge_winit::client::format_timestamp(shopbridge_core::Clock::now_ms(
        &env.sandbox.clock(),
    ));
    let data = json!({"warehouseID": "1000008"});
    let fields = shopbridge_winit::sign::Signed {
        action: "queryDeliveryWay",
        app_key: "rebecca",
        data: &shopbridge_winit::sign::canonical_data(Some(&data)),
        format: "json",
        platform: "OWNERERP",
        sign_method: "md5",
        timestamp: &now,
        version: "1.0",
    };
    let sign = shopbridge_winit::sign::sign(&env.creds.winit.token.clone().into(), &fields);
    let client_sign =
        shopbridge_winit::sign::sign(&env.creds.winit.client_secret.clone().into(), &fields);
    let body = format!(
        r#"{{"version":"1.0","timestamp":"{now}","sign_method":"md5","sign":"{sign}","platform":"OWNERERP","language":"zh_CN",
            "format":"json","data":{{ "warehouseID" : "1000008" }},"client_sign":"{client_sign}","client_id":"{}","app_key":"rebecca","action":"queryDeliveryWay"}}"#,
        env.creds.winit.client_id
    );
    let answer: Value = env
        .http
        .post(env.sandbox.winit_endpoint())
        .body(body)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["code"], "0", "{answer}");
    assert_eq!(answer["data"].as_array().map(Vec::len), Some(2));

    let wrong_token = env.client_with(env.config().with_token("not-the-token"));
    let err = wrong_token
        .execute(&QueryWarehouse {})
        .await
        .expect_err("bad sign");
    assert_eq!(err.code(), Some("1002"));
    assert_eq!(err.class(), ErrorClass::InvalidRequest);
    assert!(!err.to_string().contains("not-the-token"));
    let mut wrong_secret = env.config();
    wrong_secret.client_secret = "guess".to_owned().into();
    let err = env
        .client_with(wrong_secret)
        .execute(&QueryWarehouse {})
        .await
        .expect_err("bad client sign");
    assert_eq!(err.code(), Some("1003"));
    assert!(err.to_string().contains("client_secret"));
    let mut wrong_platform = env.config();
    wrong_platform.platform = "SELLERERP".into();
    assert_eq!(
        code(
            env.client_with(wrong_platform)
                .execute(&QueryWarehouse {})
                .await
        ),
        "1005"
    );
    assert_eq!(
        code(
            client
                .call::<Value>("noSuchAction", "1.0", Some(&json!({})))
                .await
        ),
        "1008"
    );
    let missing: Value = env
        .http
        .post(env.sandbox.winit_endpoint())
        .body("{}")
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(missing["code"], "1001");

    // A client on the machine's clock, 11 minutes behind the sandbox.
    let system = WinitClient::new(env.config()).expect("client");
    env.admin("/_sandbox/clock", json!({"advance_seconds": 660}))
        .await;
    assert_eq!(code(system.execute(&QueryWarehouse {}).await), "1004");
    client.execute(&QueryWarehouse {}).await.expect("in sync");

    // The legacy account + token keeps working under the application's credentials.
    let w = &env.creds.winit;
    let legacy = WinitConfig::from_legacy(
        "rebecca",
        w.token.clone(),
        w.client_id.clone(),
        w.client_secret.clone(),
        w.platform.clone(),
    )
    .with_endpoint(&env.sandbox.winit_endpoint())
    .expect("endpoint");
    env.client_with(legacy)
        .execute(&QueryWarehouse {})
        .await
        .expect("legacy token");
}

#[tokio::test]
async fn outbound_orders_move_on_the_clock_and_void_only_early() {
    let env = Env::start().await;
    let client = env.client();
    let ways = client
        .execute(&QueryDeliveryWay::new(1_000_089))
        .await
        .expect("DE ways");
    assert!(
        ways.iter()
            .all(|w| w.house_number_required.as_deref() == Some("Y"))
    );
    let storage = |rows: StorageList| {
        rows.list
            .into_iter()
            .find(|r| r.product_code == "SKU-1")
            .expect("SKU-1")
    };
    let before = storage(
        client
            .execute(&QueryWarehouseStorage::new(1_000_008))
            .await
            .expect("storage"),
    );
    assert!(before.is_consistent());

    let created = client
        .execute(&us_order("SO-1"))
        .await
        .expect("createOutboundOrder");
    let num = created.outbound_order_num;
    assert!(num.starts_with("WO"));
    let duplicate = client
        .execute(&us_order("SO-1"))
        .await
        .expect_err("repeatable=N");
    assert!(duplicate.to_string().contains("SO-1"));
    let info = client
        .execute(&QueryOutboundOrder::new(num.clone()))
        .await
        .expect("query");
    assert_eq!(
        (info.status.as_deref(), info.tracking_number()),
        (Some("CFI"), None)
    );
    let reserved = storage(
        client
            .execute(&QueryWarehouseStorage::new(1_000_008))
            .await
            .expect("storage"),
    );
    assert_eq!(reserved.qty_wait_out, before.qty_wait_out.map(|q| q + 2));
    assert_eq!(reserved.qty_available, before.qty_available.map(|q| q - 2));
    assert!(reserved.is_consistent());

    env.admin("/_sandbox/clock", json!({"advance_seconds": 90 * 60}))
        .await;
    let picking = client
        .execute(&QueryOutboundOrder::new(num.clone()))
        .await
        .expect("query");
    assert_eq!(picking.status.as_deref(), Some("PKI"));
    let late = client
        .execute(&VoidOutboundOrder::new(num.clone()))
        .await
        .expect_err("picking started");
    assert!(late.to_string().contains("PKI"), "{late}");
    let scans = client
        .execute(&QueryTrack {
            outbound_num: num.clone(),
        })
        .await
        .expect("queryTrack");
    assert_eq!(
        scans
            .iter()
            .map(|s| s.status.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["DR", "CFI", "CF", "PKI"]
    );

    env.admin("/_sandbox/clock", json!({"advance_seconds": 5 * 3600}))
        .await;
    let out = client
        .execute(&QueryOutboundOrder::new(num.clone()))
        .await
        .expect("query");
    assert_eq!(out.status.as_deref(), Some("DLI"));
    let tracking_no = out
        .tracking_number()
        .expect("a tracking number once dispatched")
        .to_owned();
    let shipped = storage(
        client
            .execute(&QueryWarehouseStorage::new(1_000_008))
            .await
            .expect("storage"),
    );
    assert_eq!(
        shipped.in_stock_qty,
        before.in_stock_qty.map(|q| q - 2),
        "the goods left the warehouse"
    );
    assert!(shipped.is_consistent());
    let tracked = client
        .execute(&OrderVendorTracking {
            trackingnos: num.clone(),
        })
        .await
        .expect("tracking");
    assert_eq!(tracked[0].status.as_deref(), Some("DLI"));
    assert!(tracked[0].trace.len() >= 8);
    let by_tracking_no = client
        .execute(&OrderVendorTracking {
            trackingnos: out.tracking_num.clone().expect("number"),
        })
        .await
        .expect("tracking");
    assert_eq!(by_tracking_no.len(), 1);
    assert!(!tracking_no.is_empty());

    // 2.0 API: a draft can be voided; a submitted one is listed.
    let new_order = |no: &str| NewOutboundOrder {
        shipper_order_no: no.into(),
        is_repeat: "N".into(),
        warehouse_code: "US0001".into(),
        winit_product_code: "OSF810556".into(),
        receiver_country: "US".into(),
        receiver_state: "CA".into(),
        receiver_city: "LA".into(),
        receiver_postcode: "90001".into(),
        receiver_address_line1: "2 Main St".into(),
        receiver_name: "Ann".into(),
        receiver_phone: "555".into(),
        merchandise_list: vec![Merchandise {
            merchandise_code: "SKU-2".into(),
            quantity: 1,
        }],
        ..NewOutboundOrder::default()
    };
    let draft = client
        .execute(&CreateDraftOrder(new_order("SO-2")))
        .await
        .expect("draft");
    assert_eq!(
        client
            .execute(&QueryOutboundOrder::new(draft.order_no.clone()))
            .await
            .expect("q")
            .status
            .as_deref(),
        Some("DR")
    );
    client
        .execute(&VoidOutboundOrder::new(draft.order_no.clone()))
        .await
        .expect("void a draft");
    assert_eq!(
        client
            .execute(&QueryOutboundOrder::new(draft.order_no))
            .await
            .expect("q")
            .status
            .as_deref(),
        Some("VO")
    );
    let submitted = client
        .execute(&CreateSubmittedOrder(new_order("SO-3")))
        .await
        .expect("submitted");
    let list = client
        .execute(&QueryOutboundOrderList {
            status: Some("stockup".into()),
            page_size: 50,
            page_num: 1,
            ..QueryOutboundOrderList::default()
        })
        .await
        .expect("list");
    assert!(
        list.list
            .iter()
            .any(|o| o.document_no == submitted.order_no)
    );
    assert!(
        !list.list.iter().any(|o| o.document_no == num),
        "dispatched orders are not stocking up"
    );
    assert_eq!(
        code(client.execute(&QueryOutboundOrder::new("WO404")).await),
        "400006"
    );
}

#[tokio::test]
async fn clear_errors_for_unknown_warehouses_and_missing_house_numbers() {
    let env = Env::start().await;
    let client = env.client();
    let unknown = client
        .execute(&CreateOutboundOrder {
            warehouse_id: 42,
            ..us_order("SO-9")
        })
        .await
        .expect_err("unknown warehouse");
    assert!(unknown.to_string().contains("warehouseID 42"), "{unknown}");
    let german = CreateOutboundOrder {
        warehouse_id: 1_000_089,
        delivery_way_id: "1000120".into(),
        state: "DE".into(),
        region: "Hessen".into(),
        city: "Frankfurt".into(),
        zip_code: "60311".into(),
        address1: "Zeil".into(),
        ..us_order("SO-DE")
    };
    let no_house = client.execute(&german).await.expect_err("house number");
    assert!(
        no_house.to_string().contains("doorplateNumbers"),
        "{no_house}"
    );
    client
        .execute(&CreateOutboundOrder {
            doorplate_numbers: "12".into(),
            ..german
        })
        .await
        .expect("with the house number");
    let country = client
        .execute(&CreateOutboundOrder {
            state: "CA".into(),
            region: "US".into(),
            ..us_order("SO-X")
        })
        .await;
    assert!(
        country.is_ok(),
        "CA is a valid country code (Canada): the client cannot tell, the sandbox ships it"
    );
    let swapped = client
        .execute(&CreateOutboundOrder {
            state: "California".into(),
            ..us_order("SO-Y")
        })
        .await
        .expect_err("state is a country");
    assert!(matches!(swapped, WinitError::InvalidArgument { ref field, .. } if field == "state"));
    let too_many = client
        .execute(&CreateOutboundOrder {
            product_list: vec![OutboundProduct {
                product_code: "SKU-1".into(),
                product_num: "100000".into(),
                ..OutboundProduct::default()
            }],
            ..us_order("SO-Z")
        })
        .await
        .expect_err("more than available");
    assert!(too_many.to_string().contains("available"));
}

#[tokio::test]
async fn products_inventory_inbound_and_returns() {
    let env = Env::start().await;
    let client = env.client();
    let registered = client
        .execute(&RegisterProduct {
            product_list: vec![ProductRegistration {
                product_code: "NEW-1".into(),
                chinese_name: "新品".into(),
                english_name: "New thing".into(),
                registered_weight: 250.0,
                registered_length: 10.0,
                registered_width: 5.0,
                registered_height: 3.0,
                branded: "N".into(),
                battery: "N".into(),
                specification: String::new(),
            }],
        })
        .await
        .expect("register");
    assert_eq!(registered[0].product_code, "NEW-1");
    let items = client.execute(&ItemList::page(1, 50)).await.expect("items");
    assert_eq!(items.page_params.total_count, Some(11));
    let inventory = client
        .execute(&QueryProductInventoryList4Page::for_warehouse("UK0001"))
        .await
        .expect("inventory");
    assert_eq!(inventory.list.len(), 11);

    let inbound = client
        .execute(&CreateInboundOrder {
            order_type: "SD".into(),
            winit_product_code: "ISP-SEA".into(),
            destination_warehouse_code: "UK0001".into(),
            seller_order_no: "IN-1".into(),
            package_list: vec![InboundPackage {
                seller_case_no: "C1".into(),
                seller_length: 40.0,
                seller_width: 30.0,
                seller_height: 20.0,
                seller_weight: 8.0,
                merchandise_list: vec![Merchandise {
                    merchandise_code: "NEW-1".into(),
                    quantity: 30,
                }],
            }],
        })
        .await
        .expect("inbound");
    let listed = client
        .execute(&InboundOrderList {
            seller_order_no: Some("IN-1".into()),
            page_no: 1,
            page_size: 10,
        })
        .await
        .expect("list");
    assert_eq!(listed.list[0].order_no, inbound.order_no);
    env.admin(
        "/_sandbox/clock",
        json!({"advance_seconds": 2 * 86_400 + 60}),
    )
    .await;
    let detail = client
        .execute(&InboundOrderDetail(InboundOrderRef {
            order_no: inbound.order_no.clone(),
        }))
        .await
        .expect("detail");
    assert_eq!(detail.status.as_deref(), Some("FI"));
    let too_late = client
        .execute(&VoidInboundOrder(InboundOrderRef {
            order_no: inbound.order_no.clone(),
        }))
        .await
        .expect_err("received");
    assert!(too_late.to_string().contains("FI"));
    let uk = client
        .execute(&QueryWarehouseStorage::new(1_000_069))
        .await
        .expect("storage");
    let new_row = uk
        .list
        .iter()
        .find(|r| r.product_code == "NEW-1")
        .expect("NEW-1 row");
    assert_eq!(
        (new_row.in_stock_qty, new_row.qty_available),
        (Some(30), Some(30))
    );

    // A delivered order comes back as a return.
    let num = client
        .execute(&us_order("SO-R"))
        .await
        .expect("order")
        .outbound_order_num;
    let early = client
        .execute(&CreateReturnOrder {
            outbound_order_num: num.clone(),
            product_list: vec![Merchandise {
                merchandise_code: "SKU-1".into(),
                quantity: 1,
            }],
        })
        .await
        .expect_err("not delivered yet");
    assert!(early.to_string().contains("DLC"));
    env.admin("/_sandbox/clock", json!({"advance_seconds": 4 * 86_400}))
        .await;
    let created = client
        .execute(&CreateReturnOrder {
            outbound_order_num: num.clone(),
            product_list: vec![Merchandise {
                merchandise_code: "SKU-1".into(),
                quantity: 1,
            }],
        })
        .await
        .expect("return");
    let returns = client
        .execute(&ReturnOrderList {
            outbound_order_num: Some(num),
            page_num: 1,
            page_size: 10,
        })
        .await
        .expect("returns");
    assert_eq!(returns.list[0].return_order_no, created.return_order_no);
}

#[tokio::test]
async fn oauth_implicit_flow_by_query_and_by_fragment() {
    let env = Env::start().await;
    let client = env.client();
    let redirect = env.creds.winit.redirect_uris[0].clone();
    let url = client.authorize_url(&redirect, Some("st")).expect("url");
    assert!(
        url.as_str().contains("response_type=token") && url.as_str().contains("scope=OSWH+ISP")
    );
    let seller = &env.creds.winit.sellers[1];
    let decision = shopbridge_sandbox::browser::authorize(
        &env.http,
        url.as_str(),
        &seller.app_key,
        &seller.password,
        true,
    )
    .await
    .expect("sign in");
    let grant = shopbridge_winit::oauth::parse_callback(&decision.location.expect("redirect"))
        .expect("token in the query");
    assert_eq!(grant.state.as_deref(), Some("st"));
    let other = client.for_seller(seller.app_key.clone(), grant.access_token.clone());
    other
        .execute(&QueryWarehouse {})
        .await
        .expect("the new token signs for its seller");
    let items = other.execute(&ItemList::page(1, 50)).await.expect("items");
    assert_eq!(items.list.len(), 10, "each seller sees its own products");

    env.admin(
        "/_sandbox/winit/settings",
        json!({"token_in_fragment": true}),
    )
    .await;
    let decision = shopbridge_sandbox::browser::authorize(
        &env.http,
        url.as_str(),
        &seller.app_key,
        &seller.password,
        true,
    )
    .await
    .expect("sign in");
    let location = decision.location.expect("redirect");
    assert!(location.contains("#access_token="), "{location}");
    shopbridge_winit::oauth::parse_callback(&location).expect("token in the fragment");

    let bad_redirect = client
        .authorize_url("http://evil.example/cb", None)
        .expect("url");
    let page = env
        .http
        .get(bad_redirect.as_str())
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 400);
}

#[tokio::test]
async fn the_sandbox_allows_1000_requests_a_minute() {
    let env = Env::start().await;
    let unlimited = env.client_with(env.config().with_rate_per_minute(None));
    for i in 0..1000 {
        unlimited
            .execute(&QueryWarehouse {})
            .await
            .unwrap_or_else(|err| panic!("call {i}: {err}"));
    }
    let refused = unlimited
        .execute(&QueryWarehouse {})
        .await
        .expect_err("1001st");
    assert_eq!(refused.code(), Some("1007"));
    assert_eq!(refused.class(), ErrorClass::RateLimited);
    env.admin("/_sandbox/clock", json!({"advance_seconds": 61}))
        .await;
    unlimited
        .execute(&QueryWarehouse {})
        .await
        .expect("a new minute");
}

#[tokio::test]
async fn fulfilment_connector_from_a_unified_order_to_a_tracking_number() {
    let env = Env::start().await;
    let winit = WinitConnector::new(env.client());
    assert!(winit.products().is_ok());
    assert_eq!(
        winit.orders().err().map(|e| e.class),
        Some(ErrorClass::Unsupported)
    );
    assert!(winit.refunds().is_err() && winit.shipping().is_err() && winit.stock().is_err());
    let _ = Capability::Orders;

    let order = Order {
        plat_order_no: "ERP-1001".into(),
        status: OrderStatus::WaitSellerSend,
        shop_type: ShopType::Normal,
        created_at_ms: 0,
        modified_at_ms: 0,
        paid_at_ms: None,
        receiver: Address {
            receiver_name: "Max Mustermann".into(),
            mobile: Some("+49 151 000000".into()),
            country: Some("DE".into()),
            province: "Hessen".into(),
            city: "Frankfurt".into(),
            area: String::new(),
            address: "Zeil".into(),
            house_number: Some("12".into()),
            zip: Some("60311".into()),
            ..Address::default()
        },
        goods_fee: Decimal::ZERO,
        post_fee: Decimal::ZERO,
        total_amount: Decimal::ZERO,
        real_paid: Decimal::ZERO,
        discount: Decimal::ZERO,
        warehouse: None,
        buyer_remark: None,
        seller_remark: None,
        logistic_no: None,
        logistic_name: None,
        lines: vec![OrderLine {
            sub_order_no: "1".into(),
            product_id: "SKU-3".into(),
            sku_id: None,
            outer_id: Some("SKU-3".into()),
            name: "Test product 3".into(),
            spec: None,
            count: 3,
            price: Decimal::ONE,
            refund_status: RefundStatus::NoRefund,
            status: None,
        }],
    };
    let num = winit
        .create_shipment(&order, 1_000_089, 1_000_120)
        .await
        .expect("outbound order");
    assert!(
        winit.tracking(&num).await.expect("tracking").is_none(),
        "no tracking number before dispatch"
    );
    env.admin("/_sandbox/clock", json!({"advance_seconds": 7 * 3600}))
        .await;
    let shipment = winit
        .tracking(&num)
        .await
        .expect("tracking")
        .expect("dispatched");
    assert_eq!(shipment.plat_order_no, "ERP-1001");
    assert!(
        shipment.logistic_no.starts_with("WDHL"),
        "winitTrackingNo first: {}",
        shipment.logistic_no
    );
    assert_eq!(shipment.logistic_name.as_deref(), Some("DHL"));
    assert_eq!(
        shipment.logistic_type, "JHI_002",
        "DHL from the logistics table"
    );

    let levels = winit.stock_levels(1_000_089).await.expect("stock");
    let sku3 = levels
        .iter()
        .find(|l| l.outer_id == "SKU-3")
        .expect("SKU-3");
    assert_eq!(sku3.warehouse, "DE0001");
    let products = winit
        .products()
        .expect("products")
        .download_products(&ProductQuery {
            page: 1,
            page_size: 5,
            ..ProductQuery::default()
        })
        .await
        .expect("products");
    assert_eq!(
        (products.items.len(), products.total, products.has_next),
        (5, 10, true)
    );
    let missing_country = winit
        .create_shipment(
            &Order {
                receiver: Address {
                    country: None,
                    ..order.receiver.clone()
                },
                ..order.clone()
            },
            1_000_089,
            1_000_120,
        )
        .await
        .expect_err("no country");
    assert_eq!(missing_country.class, ErrorClass::InvalidRequest);
}

/// A request's raw `data`, before typed parsing (which would read a `null` as an absent field).
async fn raw<R: shopbridge_winit::request::WinitRequest>(
    client: &WinitClient,
    request: &R,
) -> Value {
    let data = request.data().expect("data");
    client
        .call_raw(R::ACTION, R::VERSION, data.as_ref())
        .await
        .unwrap_or_else(|err| panic!("{}: {err}", R::ACTION))
}

/// The Winit simulator leaves unset members out, as the platform's writers do: every read
/// action, and an outbound order at every stage of its flow, raw as it comes over the wire.
#[tokio::test]
async fn no_answer_holds_a_null_member() {
    let env = Env::start().await;
    let client = env.client();
    let clean = |what: &str, data: &Value| {
        if let Some(path) = shopbridge_sandbox::answer::first_null_member(data, "data") {
            panic!("{what}: {path} is null in {data}");
        }
    };
    clean("queryWarehouse", &raw(&client, &QueryWarehouse {}).await);
    clean(
        "queryDeliveryWay",
        &raw(&client, &QueryDeliveryWay::new(1_000_089)).await,
    );
    clean(
        "queryWarehouseStorage",
        &raw(&client, &QueryWarehouseStorage::new(1_000_008)).await,
    );
    clean("itemList", &raw(&client, &ItemList::page(1, 50)).await);
    let created = client.execute(&us_order("NULL-1")).await.expect("created");
    for minutes in [0, 90, 24 * 60, 3 * 24 * 60, 10 * 24 * 60] {
        env.admin("/_sandbox/clock", json!({"advance_seconds": minutes * 60}))
            .await;
        let num = created.outbound_order_num.clone();
        clean(
            "queryOutboundOrder",
            &raw(&client, &QueryOutboundOrder::new(num.clone())).await,
        );
        clean(
            "queryTrack",
            &raw(&client, &QueryTrack { outbound_num: num }).await,
        );
        clean(
            "queryOutboundOrderList",
            &raw(
                &client,
                &QueryOutboundOrderList {
                    page_size: 50,
                    page_num: 1,
                    ..Default::default()
                },
            )
            .await,
        );
    }
}
