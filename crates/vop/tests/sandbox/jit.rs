//! JIT: every service method against the sandbox, vendor ownership, and the unified operations
//! of the JIT connector end to end.

use shopbridge_core::Clock;
use shopbridge_core::capability::Connector;
use shopbridge_core::codes::{OrderStatus, RefundStatus, ShopType};
use shopbridge_core::error::ErrorClass;
use shopbridge_core::model::{
    OrderQuery, OrderTimeType, ProductQuery, Shipment, StockMode, StockUpdate,
};
use shopbridge_vop::jit::connector::JitConnector;
use shopbridge_vop::jit::delivery::{
    ConfirmDelivery, ConfirmDeliveryInfo, ConfirmDeliveryInfoRequest, CreateDelivery, CreatePick,
    DeleteDeliveryDetail, DeliveryItem, EditDelivery, GetCarrierList, GetDeliveryList,
    GetPickDetail, GetPickList, GetPoList, GetPoSkuList, GetPrintDelivery, GetSkuPriceInfo,
    ImportDeliveryDetail,
};
use shopbridge_vop::jit::dvd::{
    GetDvdCarrierList, GetOrderDetail, GetOrderList, GetOrderReturnList, Package, Ship, ShipItem,
};
use shopbridge_vop::jit::inventory::{GetSkuStock, SyncMode, UpdateInventory};
use shopbridge_vop::jit::product::{MultiGetProductSkuInfo, MultiGetProductSpuInfo};
use shopbridge_vop::jit::vreturn::{GetReturnDetail, GetReturnInfo};
use shopbridge_vop::jit::{Warehouse, fetch_all};
use shopbridge_vop::time::format_datetime_ms;
use shopbridge_vop::{ApiErrorKind, VopError};

use crate::support::TestEnv;

const VENDOR: i64 = 550;
const DAY: i64 = 86_400;

fn rejected(err: &VopError) -> bool {
    err.api_kind() == Some(ApiErrorKind::InvalidParameter)
}

#[tokio::test]
async fn the_whole_delivery_flow_and_its_checks() {
    let env = TestEnv::start().await;
    let client = env.vendor_client("vendor_demo").await;
    let pos = fetch_all(&client, &GetPoList::new(VENDOR))
        .await
        .expect("POs needing picks");
    assert_eq!(pos.len(), 4);
    let po = pos
        .iter()
        .find(|po| po.warehouse.as_deref() == Some("VIP_NH"))
        .expect("a PO for VIP_NH")
        .clone();
    let skus = fetch_all(&client, &GetPoSkuList::new(VENDOR, po.po_no.clone()))
        .await
        .expect("PO lines");
    assert_eq!(skus.len(), 5);
    assert!(skus.iter().all(|s| s.order_status.as_deref() == Some("10")));
    let prices = client
        .execute(&GetSkuPriceInfo::new(
            VENDOR,
            po.po_no.clone(),
            skus.iter().map(|s| s.barcode.clone()).collect(),
        ))
        .await
        .expect("prices");
    assert_eq!(prices.price_list.len(), 5);

    let picks = client
        .execute(&CreatePick::new(VENDOR, po.po_no.clone()))
        .await
        .expect("pick");
    assert_eq!(picks.len(), 1);
    let again = client
        .execute(&CreatePick::new(VENDOR, po.po_no.clone()))
        .await
        .expect_err("nothing left to pick");
    assert!(
        rejected(&again) && again.to_string().contains("already picked"),
        "{again}"
    );
    let pick_no = picks[0].pick_no.clone();
    assert!(pick_no.starts_with("PICK-"));
    let listed = fetch_all(
        &client,
        &GetPickList {
            po_no: Some(po.po_no.clone()),
            ..GetPickList::new(VENDOR)
        },
    )
    .await
    .expect("picks");
    assert_eq!(listed.len(), 1);
    let detail = client
        .execute(&GetPickDetail::new(
            VENDOR,
            po.po_no.clone(),
            pick_no.clone(),
        ))
        .await
        .expect("detail");
    assert_eq!(detail.pick_product_list.len(), 5);
    let first = detail.pick_product_list[0].clone();
    assert_eq!(first.not_delivery_num, first.stock);

    let carriers = fetch_all(&client, &GetCarrierList::new(VENDOR))
        .await
        .expect("carriers");
    let sf = carriers
        .iter()
        .find(|c| c.carrier_name == "顺丰")
        .expect("顺丰")
        .clone();
    let arrival = format_datetime_ms(env.sandbox.clock().now_ms() + DAY * 1000);
    let create = |delivery_no: &str| CreateDelivery {
        vendor_id: VENDOR,
        po_no: po.po_no.clone(),
        delivery_no: delivery_no.into(),
        warehouse: Some(Warehouse::VIP_NH),
        arrival_time: arrival.clone(),
        carrier_name: sf.carrier_name.clone(),
        carrier_code: sf.carrier_code.clone(),
        ..CreateDelivery::default()
    };
    let wrong_warehouse = client
        .execute(&CreateDelivery {
            warehouse: Some(Warehouse::VIP_SH),
            ..create("SF0")
        })
        .await
        .expect_err("PO is for VIP_NH");
    assert!(wrong_warehouse.to_string().contains("VIP_NH"));
    let delivery = client.execute(&create("SF1001")).await.expect("delivery");
    let item = |barcode: &str, amount: i64| DeliveryItem {
        vendor_type: "COMMON".into(),
        barcode: barcode.into(),
        box_no: "1".into(),
        pick_no: Some(pick_no.clone()),
        amount,
        po_no: None,
    };
    let import = |items: Vec<DeliveryItem>| ImportDeliveryDetail {
        vendor_id: VENDOR,
        po_no: po.po_no.clone(),
        storage_no: delivery.storage_no.clone(),
        store_sn: None,
        delivery_list: items,
    };
    let empty = client
        .execute(&ConfirmDelivery::new(VENDOR, delivery.storage_no.clone()))
        .await
        .expect_err("empty delivery");
    assert!(empty.to_string().contains("empty"), "{empty}");
    let too_many = client
        .execute(&import(vec![
            item(&first.barcode, first.stock),
            item(&first.barcode, 1),
        ]))
        .await
        .expect_err("more than picked");
    assert!(too_many.to_string().contains("only"), "{too_many}");
    let print = client
        .execute(&GetPrintDelivery {
            vendor_id: VENDOR,
            storage_no: delivery.storage_no.clone(),
            po_no: po.po_no.clone(),
            box_no: None,
        })
        .await
        .expect("print");
    assert_eq!(print.total, 0, "a refused import changed nothing");
    client
        .execute(&import(vec![item(&first.barcode, first.stock)]))
        .await
        .expect("import");
    let removed = client
        .execute(&DeleteDeliveryDetail {
            vendor_id: VENDOR,
            storage_no: delivery.storage_no.clone(),
            po_no: None,
        })
        .await
        .expect("delete lines");
    assert_eq!(removed.len(), 1);
    let all_lines: Vec<DeliveryItem> = detail
        .pick_product_list
        .iter()
        .map(|p| item(&p.barcode, p.stock))
        .collect();
    client
        .execute(&import(all_lines))
        .await
        .expect("import every line");
    client
        .execute(&EditDelivery {
            vendor_id: VENDOR,
            storage_no: delivery.storage_no.clone(),
            warehouse: Some(Warehouse::VIP_NH),
            delivery_time: arrival.clone(),
            race_time: arrival.clone(),
            carrier_code: "ZTO".into(),
            delivery_no: Some("ZT2002".into()),
            ..EditDelivery::default()
        })
        .await
        .expect("edit");
    client
        .execute(&ConfirmDelivery::new(VENDOR, delivery.storage_no.clone()))
        .await
        .expect("confirm");
    let late = client
        .execute(&import(vec![item(&first.barcode, 1)]))
        .await
        .expect_err("confirmed deliveries are closed");
    assert!(late.to_string().contains("already confirmed"));
    let deliveries = fetch_all(
        &client,
        &GetDeliveryList {
            out_flag: Some(1),
            ..GetDeliveryList::new(VENDOR)
        },
    )
    .await
    .expect("list");
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].carrier_code.as_deref(), Some("ZTO"));
    let after = client
        .execute(&GetPickDetail::new(
            VENDOR,
            po.po_no.clone(),
            pick_no.clone(),
        ))
        .await
        .expect("detail");
    assert!(
        after
            .pick_product_list
            .iter()
            .all(|p| p.not_delivery_num == 0)
    );

    // confirmDeliveryInfo: a second PO, confirmed with its carrier details in one call.
    let other = pos
        .iter()
        .find(|p| p.po_no != po.po_no && p.warehouse.as_deref() == Some("VIP_NH"))
        .expect("another VIP_NH PO");
    let pick = client
        .execute(&CreatePick::new(VENDOR, other.po_no.clone()))
        .await
        .expect("pick")[0]
        .pick_no
        .clone();
    let detail = client
        .execute(&GetPickDetail::new(
            VENDOR,
            other.po_no.clone(),
            pick.clone(),
        ))
        .await
        .expect("detail");
    let second = client
        .execute(&CreateDelivery {
            po_no: other.po_no.clone(),
            ..create("SF3003")
        })
        .await
        .expect("delivery");
    client
        .execute(&ImportDeliveryDetail {
            vendor_id: VENDOR,
            po_no: other.po_no.clone(),
            storage_no: second.storage_no.clone(),
            store_sn: None,
            delivery_list: vec![DeliveryItem {
                pick_no: Some(pick),
                ..item(&detail.pick_product_list[0].barcode, 1)
            }],
        })
        .await
        .expect("import");
    client
        .execute(&ConfirmDeliveryInfo {
            confirm_request: ConfirmDeliveryInfoRequest {
                vendor_id: VENDOR,
                storage_no: second.storage_no.clone(),
                carrier_code: "SF".into(),
                delivery_no: "SF3004".into(),
                delivery_method: "1".into(),
            },
        })
        .await
        .expect("confirmDeliveryInfo");
}

#[tokio::test]
async fn inventory_products_and_returns() {
    let env = TestEnv::start().await;
    let client = env.vendor_client("vendor_demo").await;
    let skus = fetch_all(&client, &MultiGetProductSkuInfo::new(VENDOR))
        .await
        .expect("SKUs");
    assert_eq!(skus.len(), 60, "20 SPUs in 3 sizes, fetched 100 a page");
    let spus = fetch_all(&client, &MultiGetProductSpuInfo::new(VENDOR))
        .await
        .expect("SPUs");
    assert_eq!(spus.len(), 20);
    assert!(spus.iter().all(|spu| spu.barcodes.len() == 3));
    let drafts = client
        .execute(&MultiGetProductSkuInfo {
            source: Some(0),
            ..MultiGetProductSkuInfo::new(VENDOR)
        })
        .await
        .expect("drafts");
    assert_eq!(drafts.total, 0);

    let barcode = skus[0].barcode.clone();
    let stock = |rows: Vec<shopbridge_vop::jit::inventory::SkuStock>| {
        rows.iter()
            .find(|r| r.warehouse.as_deref() == Some("VIP_NH"))
            .and_then(|r| r.leaving_stock)
            .expect("VIP_NH row")
    };
    let before = stock(
        client
            .execute(&GetSkuStock::new(VENDOR, barcode.clone()))
            .await
            .expect("stock"),
    );
    client
        .execute(
            &UpdateInventory::new(VENDOR, barcode.clone(), before + 100, SyncMode::Full)
                .warehouse(Warehouse::VIP_NH),
        )
        .await
        .expect("full sync up");
    let incremental = UpdateInventory::new(VENDOR, barcode.clone(), -30, SyncMode::Incremental)
        .warehouse(Warehouse::VIP_NH);
    client.execute(&incremental).await.expect("incremental");
    let now = stock(
        client
            .execute(&GetSkuStock::new(VENDOR, barcode.clone()))
            .await
            .expect("stock"),
    );
    assert_eq!(now, before + 70);
    let duplicate = client
        .execute(&incremental)
        .await
        .expect_err("same batch_no");
    assert!(duplicate.to_string().contains("batch_no"), "{duplicate}");
    let crash = UpdateInventory::new(VENDOR, barcode.clone(), 0, SyncMode::Full)
        .warehouse(Warehouse::VIP_NH);
    let refused = client
        .execute(&crash)
        .await
        .expect_err("a drop to 0 trips the circuit breaker");
    assert!(refused.to_string().contains("熔断"), "{refused}");
    assert_eq!(
        stock(
            client
                .execute(&GetSkuStock::new(VENDOR, barcode.clone()))
                .await
                .expect("stock")
        ),
        now,
        "unchanged"
    );
    client
        .execute(&crash.acknowledge_circuit_break())
        .await
        .expect("acknowledged");
    assert_eq!(
        stock(
            client
                .execute(&GetSkuStock::new(VENDOR, barcode.clone()))
                .await
                .expect("stock")
        ),
        0
    );
    let negative = client
        .execute(
            &UpdateInventory::new(VENDOR, barcode.clone(), -1, SyncMode::Incremental)
                .warehouse(Warehouse::VIP_NH),
        )
        .await
        .expect_err("below zero");
    assert!(rejected(&negative));
    let unknown = client
        .execute(&GetSkuStock::new(VENDOR, "0000"))
        .await
        .expect_err("not the vendor's barcode");
    assert!(rejected(&unknown));

    let infos = fetch_all(&client, &GetReturnInfo::new(VENDOR, Warehouse::VIP_NH))
        .await
        .expect("returns");
    assert_eq!(infos.len(), 1);
    let details = fetch_all(&client, &GetReturnDetail::new(VENDOR, Warehouse::VIP_NH))
        .await
        .expect("return details");
    assert_eq!(details[0].return_sn, infos[0].return_sn);
    assert!(
        details[0]
            .delivery_list
            .iter()
            .all(|line| line.po_no.is_some())
    );
}

#[tokio::test]
async fn a_token_acts_for_its_own_vendor_only() {
    let env = TestEnv::start().await;
    let demo = env.vendor_client("vendor_demo").await;
    let err = demo
        .execute(&GetPoList::new(551))
        .await
        .expect_err("vendor 551 is not vendor_demo's");
    assert_eq!(err.api_kind(), Some(ApiErrorKind::TokenInvalid));
    assert!(err.to_string().contains("551"), "{err}");
    let other = env.vendor_client("vendor_other").await;
    assert_eq!(
        fetch_all(&other, &GetPoList::new(551))
            .await
            .expect("own POs")
            .len(),
        4
    );
    let union = env
        .client()
        .with_access_token(env.access_token(&env.client()).await.access_token);
    assert_eq!(
        union
            .execute(&GetPoList::new(VENDOR))
            .await
            .expect_err("not a vendor")
            .api_kind(),
        Some(ApiErrorKind::TokenInvalid)
    );
    assert_eq!(
        env.client()
            .execute(&GetPoList::new(VENDOR))
            .await
            .expect_err("no token")
            .api_kind(),
        Some(ApiErrorKind::TokenInvalid)
    );
    let channel_only = env.channel_only_client().with_access_token("X");
    assert_eq!(
        channel_only
            .execute(&GetPoList::new(VENDOR))
            .await
            .expect_err("no jit package")
            .api_kind(),
        Some(ApiErrorKind::NoPermission)
    );
}

#[tokio::test]
async fn direct_ship_orders_ship_and_move_on_the_clock() {
    let env = TestEnv::start().await;
    let client = env.vendor_client("vendor_demo").await;
    let orders = fetch_all(&client, &GetOrderList::new(VENDOR))
        .await
        .expect("orders");
    assert_eq!(orders.len(), 12);
    let forbidden = orders
        .iter()
        .find(|o| o.order_status == Some(60))
        .expect("a 禁发 order");
    let waiting = orders
        .iter()
        .find(|o| o.order_status == Some(10))
        .expect("an order to ship")
        .clone();
    let detail = client
        .execute(&GetOrderDetail::new(VENDOR, waiting.order_id.clone()))
        .await
        .expect("detail");
    assert_eq!(detail.goods, waiting.goods);
    let carriers = fetch_all(&client, &GetDvdCarrierList::new(VENDOR))
        .await
        .expect("carriers");
    assert!(carriers.iter().any(|c| c.carrier_code == "SF"));
    let ship = |order_id: &str| ShipItem {
        order_id: order_id.into(),
        carrier_code: "SF".into(),
        carrier_name: "顺丰".into(),
        packages: vec![Package {
            transport_no: "SF900".into(),
            package_product_list: Vec::new(),
        }],
    };
    let result = client
        .execute(&Ship {
            vendor_id: VENDOR,
            ship_list: vec![ship(&waiting.order_id), ship(&forbidden.order_id)],
        })
        .await
        .expect("ship");
    assert_eq!((result.success_num, result.fail_num), (1, 1));
    assert!(result.fail_data[0].error_msg.contains("禁发"));
    let shipped = client
        .execute(&GetOrderDetail::new(VENDOR, waiting.order_id.clone()))
        .await
        .expect("detail");
    assert_eq!(
        (shipped.order_status, shipped.transport_no.as_deref()),
        (Some(22), Some("SF900"))
    );
    env.advance_clock_secs(5 * 3600).await;
    let collected = client
        .execute(&GetOrderDetail::new(VENDOR, waiting.order_id.clone()))
        .await
        .expect("detail");
    assert_eq!(collected.order_status, Some(25));
    let missing = client
        .execute(&GetOrderDetail::new(VENDOR, "1"))
        .await
        .expect_err("unknown order");
    assert!(rejected(&missing));
    let returns = fetch_all(&client, &GetOrderReturnList::default_for(VENDOR))
        .await
        .expect("returns");
    assert!(returns.is_empty(), "no return before anything was signed");
}

fn connector(client: shopbridge_vop::VopClient) -> JitConnector {
    JitConnector::new(client, VENDOR)
}

#[tokio::test]
async fn unified_orders_products_shipping_and_stock() {
    let env = TestEnv::start().await;
    let jit = connector(env.vendor_client("vendor_demo").await);
    let now = env.sandbox.clock().now_ms();
    let query = OrderQuery {
        status: OrderStatus::All,
        plat_order_no: None,
        time_type: OrderTimeType::Created,
        start_ms: now - 3 * DAY * 1000,
        end_ms: now,
        page: 1,
        page_size: 5,
        shop_type: None,
    };
    let page = jit
        .orders()
        .expect("orders")
        .get_orders(&query)
        .await
        .expect("JITX orders");
    assert_eq!((page.items.len(), page.total, page.has_next), (5, 12, true));
    assert!(
        page.items
            .iter()
            .all(|o| o.shop_type == ShopType::Jitx && !o.lines.is_empty())
    );
    let waiting = jit
        .orders()
        .expect("orders")
        .get_orders(&OrderQuery {
            status: OrderStatus::WaitSellerSend,
            page_size: 100,
            ..query.clone()
        })
        .await
        .expect("JH_02");
    assert!(
        waiting
            .items
            .iter()
            .all(|o| o.status == OrderStatus::WaitSellerSend)
    );
    let order = waiting.items[0].clone();
    assert_eq!(order.total_amount, order.goods_fee + order.post_fee);
    let pos = jit
        .orders()
        .expect("orders")
        .get_orders(&OrderQuery {
            shop_type: Some(ShopType::Normal),
            start_ms: now - 10 * DAY * 1000,
            page_size: 100,
            ..query.clone()
        })
        .await
        .expect("POs");
    assert_eq!(pos.total, 4);
    assert!(
        pos.items
            .iter()
            .all(|o| o.shop_type == ShopType::Normal && o.lines.len() == 5)
    );

    let products = jit
        .products()
        .expect("products")
        .download_products(&ProductQuery {
            page: 1,
            page_size: 50,
            ..ProductQuery::default()
        })
        .await
        .expect("products");
    assert_eq!(products.total, 20);
    assert!(products.items.iter().all(|p| p.skus.len() == 3));

    // 发货同步, direct ship.
    let shipment = Shipment {
        plat_order_no: order.plat_order_no.clone(),
        logistic_type: "JH_014".into(),
        logistic_no: "SF123456".into(),
        logistic_name: None,
        lines: Vec::new(),
        warehouse: None,
        shop_type: None,
    };
    jit.shipping()
        .expect("shipping")
        .send(&shipment)
        .await
        .expect("ship");
    let single = jit
        .orders()
        .expect("orders")
        .get_orders(&OrderQuery {
            plat_order_no: Some(order.plat_order_no.clone()),
            ..query.clone()
        })
        .await
        .expect("single");
    assert_eq!(single.items[0].status, OrderStatus::WaitBuyerConfirm);
    assert_eq!(single.items[0].logistic_no.as_deref(), Some("SF123456"));
    let twice = jit
        .shipping()
        .expect("shipping")
        .send(&shipment)
        .await
        .expect_err("already shipped");
    assert!(twice.message.contains("待发货"), "{twice}");
    let unknown_carrier = jit
        .shipping()
        .expect("shipping")
        .send(&Shipment {
            logistic_type: "JH_999".into(),
            ..shipment.clone()
        })
        .await
        .expect_err("unknown code");
    assert_eq!(unknown_carrier.class, ErrorClass::InvalidRequest);

    // 发货同步, the JIT delivery flow for a PO.
    let po = pos
        .items
        .iter()
        .find(|o| o.warehouse.as_deref() == Some("VIP_SH"))
        .expect("a PO")
        .clone();
    let delivered = jit
        .shipping()
        .expect("shipping")
        .send(&Shipment {
            plat_order_no: po.plat_order_no.clone(),
            logistic_type: "JH_006".into(),
            logistic_no: "ZT77".into(),
            ..shipment.clone()
        })
        .await
        .expect("PO delivered");
    let storage_no = delivered.platform_reference.expect("storage number");
    let deliveries = fetch_all(
        jit.client(),
        &GetDeliveryList {
            po_no: Some(po.plat_order_no.clone()),
            ..GetDeliveryList::new(VENDOR)
        },
    )
    .await
    .expect("deliveries");
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        (deliveries[0].storage_no.as_str(), deliveries[0].out_flag),
        (storage_no.as_str(), Some(1))
    );
    assert_eq!(deliveries[0].carrier_name.as_deref(), Some("中通"));

    // 库存同步: full, incremental, circuit break.
    let barcode = products.items[0].skus[0].outer_id.clone();
    let stock = jit.stock().expect("stock");
    let update = |quantity, mode, ack| StockUpdate {
        product_id: None,
        sku_id: None,
        outer_id: barcode.clone(),
        quantity,
        mode,
        warehouse: Some("VIP_NH".into()),
        circuit_break_ack: ack,
        batch_no: None,
    };
    assert_eq!(
        stock
            .sync_stock(&update(120, StockMode::Full, false))
            .await
            .expect("full")
            .quantity,
        120
    );
    assert_eq!(
        stock
            .sync_stock(&update(-20, StockMode::Incremental, false))
            .await
            .expect("incremental")
            .quantity,
        100
    );
    let tripped = stock
        .sync_stock(&update(10, StockMode::Full, false))
        .await
        .expect_err("circuit break");
    assert!(tripped.message.contains("熔断"));
    assert_eq!(
        stock
            .sync_stock(&update(10, StockMode::Full, true))
            .await
            .expect("acknowledged")
            .quantity,
        10
    );
    let bad = stock
        .sync_stock(&StockUpdate {
            warehouse: Some("VIP_XX".into()),
            ..update(1, StockMode::Full, false)
        })
        .await
        .expect_err("warehouse");
    assert!(bad.message.contains("VIP_XX"));
}

#[tokio::test]
async fn refunds_appear_as_the_clock_advances() {
    let env = TestEnv::start().await;
    let jit = connector(env.vendor_client("vendor_demo").await);
    let orders = fetch_all(jit.client(), &GetOrderList::new(VENDOR))
        .await
        .expect("orders");
    let refunds = jit.refunds().expect("refunds");
    let waiting: Vec<_> = orders
        .iter()
        .filter(|o| o.order_status == Some(10))
        .map(|o| o.order_id.clone())
        .collect();
    for id in &waiting {
        let check = refunds.check_refund(id).await.expect("check");
        assert_eq!(
            check.status,
            RefundStatus::NoRefund,
            "JH_07 before anything happens"
        );
    }
    // Ship everything that can be shipped; orders destined to be cancelled before shipping are
    // left alone so that the clock cancels them.
    let ship = |id: &str| Shipment {
        plat_order_no: id.into(),
        logistic_type: "JH_014".into(),
        logistic_no: format!("SF{id}"),
        logistic_name: None,
        lines: Vec::new(),
        warehouse: None,
        shop_type: Some(ShopType::Jitx),
    };
    let keep_unshipped = waiting.last().expect("the newest order");
    for id in waiting.iter().filter(|id| *id != keep_unshipped) {
        jit.shipping()
            .expect("shipping")
            .send(&ship(id))
            .await
            .expect("ship");
    }
    env.advance_clock_secs(3 * DAY + 3600).await;
    let mut statuses = Vec::new();
    for id in &waiting {
        statuses.push(refunds.check_refund(id).await.expect("check"));
    }
    let cancelled = statuses
        .iter()
        .find(|c| c.plat_order_no == *keep_unshipped)
        .expect("unshipped order");
    assert_eq!(
        cancelled.order_status,
        Some(OrderStatus::CancelledBeforeShipping)
    );
    assert_eq!(cancelled.status, RefundStatus::Refunded);
    assert!(statuses.iter().any(
        |c| c.order_status == Some(OrderStatus::CancelledAfterShipping)
            && c.status == RefundStatus::Refunded
    ));
    assert!(
        statuses
            .iter()
            .any(|c| c.order_status == Some(OrderStatus::CancelledAfterCollection))
    );
    let returned = statuses
        .iter()
        .find(|c| c.status == RefundStatus::BuyerRequested)
        .expect("a return was requested")
        .plat_order_no
        .clone();
    env.advance_clock_secs(3 * DAY).await;
    let done = refunds.check_refund(&returned).await.expect("check");
    assert_eq!(done.status, RefundStatus::Refunded);
    assert!(
        done.lines
            .iter()
            .all(|l| l.refund_no.is_some() && l.status == RefundStatus::Refunded)
    );

    // A PO with goods returned to the vendor: partly refunded, per line.
    let po_check = refunds.check_refund("20055000001").await.expect("PO check");
    assert_eq!(po_check.status, RefundStatus::PartlyRefunded);
    assert_eq!(po_check.lines.len(), 2);
    let unknown = refunds
        .check_refund("nope")
        .await
        .expect_err("unknown order");
    assert_eq!(unknown.class, ErrorClass::InvalidRequest);
}

/// The sandbox's large-vendor knob: with `jit_orders_per_day`, the demo vendor has that many
/// direct-ship orders a day over the last 30 days, every one listed once by creation time.
#[tokio::test]
async fn a_large_vendor_has_its_orders_per_day() {
    let env = TestEnv::with_config(shopbridge_sandbox::SandboxConfig {
        jit_orders_per_day: 200,
        union_goods: 10,
        ..Default::default()
    })
    .await;
    let jit = connector(env.vendor_client("vendor_demo").await);
    let now = env.sandbox.clock().now_ms();
    let mut numbers = std::collections::BTreeSet::new();
    // Day windows from 31 days back (the data was made when the sandbox started, a moment ago).
    for day in 0..32 {
        let end = now - (31 - day) * DAY * 1000 + DAY * 1000;
        let mut page = 1;
        loop {
            let answer = jit
                .orders()
                .expect("orders")
                .get_orders(&OrderQuery {
                    status: OrderStatus::All,
                    plat_order_no: None,
                    time_type: OrderTimeType::Created,
                    start_ms: end - DAY * 1000,
                    end_ms: end - 1,
                    page,
                    page_size: 100,
                    shop_type: None,
                })
                .await
                .expect("page");
            numbers.extend(answer.items.iter().map(|o| o.plat_order_no.clone()));
            if !answer.has_next {
                break;
            }
            page += 1;
        }
    }
    assert_eq!(
        numbers.len(),
        30 * 200 + 12,
        "every order once, the demo's dozen too"
    );
    // And a return a day per 20 orders a day, beside the demo's two.
    let client = env.vendor_client("vendor_demo").await;
    let mut returns = std::collections::BTreeSet::new();
    for window in 0..6 {
        let end = now + 60_000 - window * 6 * DAY * 1000;
        for warehouse in Warehouse::ALL {
            let request = GetReturnInfo {
                st_create_time: Some(format_datetime_ms(end - 6 * DAY * 1000 + 1000)),
                ed_create_time: Some(format_datetime_ms(end)),
                ..GetReturnInfo::new(VENDOR, warehouse)
            };
            // A warehouse the vendor does not ship through is refused: nothing there.
            if let Ok(infos) = fetch_all(&client, &request).await {
                returns.extend(infos.into_iter().map(|info| info.return_sn));
            }
        }
    }
    assert_eq!(returns.len(), 30 * 10 + 2);
}
