//! The JIT connector: 订单下载, 商品下载, 发货同步, 库存同步 and 退款检查 in the unified model, on
//! top of the JIT services, for one vendor authorized by its session key (access token).

use std::collections::BTreeMap;

use async_trait::async_trait;
use shopbridge_core::Platform;
use shopbridge_core::capability::{
    Capability, Connector, ConnectorError, OrderSource, ProductSource, RefundChecker, Shipping,
    StockSync,
};
use shopbridge_core::codes::{OrderStatus, RefundStatus, ShopType, carrier_by_code};
use shopbridge_core::error::Classify;
use shopbridge_core::model::{
    Address, LineRefund, Order, OrderLine, OrderQuery, OrderTimeType, Page, Product, ProductQuery,
    RefundCheck, Shipment, ShipmentResult, Sku, StockMode, StockResult, StockUpdate,
};
use shopbridge_core::money::Decimal;

use super::delivery::{
    Carrier, ConfirmDelivery, CreateDelivery, CreatePick, DeliveryItem, GetCarrierList,
    GetPickDetail, GetPoList, GetPoSkuList, ImportDeliveryDetail, PurchaseOrder,
};
use super::dvd::{
    DvdOrder, GetDvdCarrierList, GetOrderDetail, GetOrderList, GetOrderReturnList, Package,
    PackageProduct, Ship, ShipItem, status,
};
use super::inventory::{GetSkuStock, SyncMode, UpdateInventory};
use super::product::MultiGetProductSkuInfo;
use super::vreturn::GetReturnDetail;
use super::{Warehouse, fetch_all};
use crate::time::{format_datetime_ms, parse_datetime_ms};
use crate::{VopClient, VopError, VopRequest};

impl From<VopError> for ConnectorError {
    fn from(err: VopError) -> Self {
        let code = match &err {
            VopError::Api { code, .. } => Some(code.clone()),
            VopError::OAuth { code, .. } => Some(code.to_string()),
            _ => None,
        };
        ConnectorError {
            platform: Platform::Vop,
            class: err.class(),
            code,
            message: err.to_string(),
            cause: Some(std::sync::Arc::new(err)),
        }
    }
}

/// A vendor's JIT shop.
#[derive(Debug, Clone)]
pub struct JitConnector {
    client: VopClient,
    vendor_id: i64,
}

impl JitConnector {
    /// `client` must carry the vendor's access token (the polyapi guide's SessionKey).
    pub fn new(client: VopClient, vendor_id: i64) -> Self {
        Self { client, vendor_id }
    }

    pub fn client(&self) -> &VopClient {
        &self.client
    }

    pub fn vendor_id(&self) -> i64 {
        self.vendor_id
    }

    async fn execute<R: VopRequest>(&self, request: &R) -> Result<R::Output, ConnectorError> {
        Ok(self.client.execute(request).await?)
    }
}

impl Connector for JitConnector {
    fn platform(&self) -> Platform {
        Platform::Vop
    }

    fn orders(&self) -> Result<&dyn OrderSource, ConnectorError> {
        Ok(self)
    }

    fn products(&self) -> Result<&dyn ProductSource, ConnectorError> {
        Ok(self)
    }

    fn shipping(&self) -> Result<&dyn Shipping, ConnectorError> {
        Ok(self)
    }

    fn stock(&self) -> Result<&dyn StockSync, ConnectorError> {
        Ok(self)
    }

    fn refunds(&self) -> Result<&dyn RefundChecker, ConnectorError> {
        Ok(self)
    }
}

/// A direct-ship `order_status` as polyapi's order status.
pub fn dvd_status(code: i64) -> OrderStatus {
    match code {
        status::AWAITING_SHIPMENT => OrderStatus::WaitSellerSend,
        status::SHIPPED | status::COLLECTED => OrderStatus::WaitBuyerConfirm,
        status::SIGNED => OrderStatus::TradeSuccess,
        status::FORBIDDEN => OrderStatus::ShippingForbidden,
        status::CANCELLED_BEFORE_SHIPPING => OrderStatus::CancelledBeforeShipping,
        status::CANCELLED_AFTER_SHIPPING => OrderStatus::CancelledAfterShipping,
        status::CANCELLED_AFTER_COLLECTION => OrderStatus::CancelledAfterCollection,
        _ => OrderStatus::Other,
    }
}

/// The direct-ship `order_status` to ask for, when polyapi's status maps to exactly one.
fn dvd_status_filter(status: OrderStatus) -> Option<i64> {
    match status {
        OrderStatus::WaitSellerSend => Some(status::AWAITING_SHIPMENT),
        OrderStatus::TradeSuccess => Some(status::SIGNED),
        OrderStatus::ShippingForbidden => Some(status::FORBIDDEN),
        OrderStatus::CancelledBeforeShipping => Some(status::CANCELLED_BEFORE_SHIPPING),
        OrderStatus::CancelledAfterShipping => Some(status::CANCELLED_AFTER_SHIPPING),
        OrderStatus::CancelledAfterCollection => Some(status::CANCELLED_AFTER_COLLECTION),
        _ => None,
    }
}

/// A direct-ship return `status` as polyapi's refund status.
pub fn return_status(code: i64) -> RefundStatus {
    match code {
        1 => RefundStatus::BuyerRequested,
        2 => RefundStatus::SellerAgreedAwaitingReturn,
        3 => RefundStatus::BuyerReturnedAwaitingSeller,
        4 => RefundStatus::Refunded,
        5 => RefundStatus::SellerRefused,
        _ => RefundStatus::Other,
    }
}

fn amount(text: Option<&str>) -> Decimal {
    text.and_then(|t| t.trim().parse().ok()).unwrap_or_default()
}

fn dvd_to_order(order: &DvdOrder) -> Order {
    let created = order
        .add_time
        .as_deref()
        .and_then(parse_datetime_ms)
        .unwrap_or_default();
    let status = dvd_status(order.order_status.unwrap_or_default());
    let cancelled = matches!(
        status,
        OrderStatus::CancelledBeforeShipping
            | OrderStatus::CancelledAfterShipping
            | OrderStatus::CancelledAfterCollection
    );
    let lines: Vec<OrderLine> = order
        .goods
        .iter()
        .map(|goods| OrderLine {
            sub_order_no: goods.barcode.clone(),
            product_id: goods.barcode.clone(),
            sku_id: Some(goods.barcode.clone()),
            outer_id: Some(goods.barcode.clone()),
            name: goods.product_name.clone().unwrap_or_default(),
            spec: goods.size.clone(),
            count: goods.amount.unwrap_or_default(),
            price: amount(goods.price.as_deref()),
            refund_status: if cancelled {
                RefundStatus::Refunded
            } else {
                RefundStatus::NoRefund
            },
            status: Some(status),
        })
        .collect();
    let goods_fee: Decimal = lines
        .iter()
        .map(|line| line.price * Decimal::from(line.count))
        .sum();
    let total = amount(order.amount.as_deref());
    Order {
        plat_order_no: order.order_id.clone(),
        status,
        shop_type: ShopType::Jitx,
        created_at_ms: created,
        modified_at_ms: order
            .update_time
            .as_deref()
            .and_then(parse_datetime_ms)
            .unwrap_or(created),
        paid_at_ms: order.pay_time.as_deref().and_then(parse_datetime_ms),
        receiver: Address {
            receiver_name: order.buyer.clone().unwrap_or_default(),
            phone: order.tel.clone(),
            mobile: order.mobile.clone(),
            country: Some("CN".into()),
            province: order.state.clone().unwrap_or_default(),
            city: order.city.clone().unwrap_or_default(),
            area: order.county.clone().unwrap_or_default(),
            town: order.town.clone(),
            address: order.address.clone().unwrap_or_default(),
            house_number: None,
            zip: order.postcode.clone(),
        },
        goods_fee,
        post_fee: amount(order.carriage.as_deref()),
        total_amount: total,
        real_paid: total,
        discount: amount(order.favourable_money.as_deref()),
        warehouse: order.warehouse.clone(),
        buyer_remark: order.remark.clone(),
        seller_remark: None,
        logistic_no: order.transport_no.clone(),
        logistic_name: order.carrier_name.clone(),
        lines,
    }
}

impl JitConnector {
    async fn po_to_order(&self, po: &PurchaseOrder) -> Result<Order, ConnectorError> {
        let skus = fetch_all(
            &self.client,
            &GetPoSkuList::new(self.vendor_id, po.po_no.clone()),
        )
        .await?;
        let created = po
            .po_start_time
            .as_deref()
            .and_then(parse_datetime_ms)
            .unwrap_or_default();
        let lines: Vec<OrderLine> = skus
            .iter()
            .map(|sku| OrderLine {
                sub_order_no: sku.barcode.clone(),
                product_id: sku.barcode.clone(),
                sku_id: Some(sku.barcode.clone()),
                outer_id: Some(sku.barcode.clone()),
                name: sku.product_name.clone().unwrap_or_default(),
                spec: None,
                count: sku.amount,
                price: amount(sku.actual_unit_price.as_deref()),
                refund_status: RefundStatus::NoRefund,
                status: None,
            })
            .collect();
        let goods_fee: Decimal = lines
            .iter()
            .map(|line| line.price * Decimal::from(line.count))
            .sum();
        let open = po.not_pick.unwrap_or_default() > 0
            || skus
                .iter()
                .any(|sku| sku.order_status.as_deref() != Some("97"));
        Ok(Order {
            plat_order_no: po.po_no.clone(),
            status: if open {
                OrderStatus::WaitSellerSend
            } else {
                OrderStatus::TradeSuccess
            },
            shop_type: ShopType::Normal,
            created_at_ms: created,
            modified_at_ms: created,
            paid_at_ms: Some(created),
            receiver: Address {
                receiver_name: format!("唯品会 {}", po.warehouse.as_deref().unwrap_or("warehouse")),
                ..Address::default()
            },
            goods_fee,
            post_fee: Decimal::ZERO,
            total_amount: goods_fee,
            real_paid: goods_fee,
            discount: Decimal::ZERO,
            warehouse: po.warehouse.clone(),
            buyer_remark: None,
            seller_remark: po.schedule_name.clone(),
            logistic_no: None,
            logistic_name: None,
            lines,
        })
    }

    async fn purchase_order(&self, po_no: &str) -> Result<Option<PurchaseOrder>, ConnectorError> {
        let request = GetPoList {
            po_no: Some(po_no.to_owned()),
            ..GetPoList::new(self.vendor_id)
        };
        Ok(self
            .execute(&request)
            .await?
            .purchase_order_list
            .into_iter()
            .next())
    }

    /// The direct-ship order with this id, or `None` when the platform does not know it.
    async fn dvd_order(&self, order_id: &str) -> Result<Option<DvdOrder>, ConnectorError> {
        match self
            .client
            .execute(&GetOrderDetail::new(self.vendor_id, order_id))
            .await
        {
            Ok(order) => Ok(Some(order)),
            Err(VopError::Api {
                kind: crate::ApiErrorKind::InvalidParameter,
                ..
            }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// A VOP carrier for a polyapi `LogisticType`: by its code's name in the carrier list.
    fn pick_carrier(
        logistic_type: &str,
        logistic_name: Option<&str>,
        carriers: &[Carrier],
    ) -> Result<Carrier, ConnectorError> {
        let wanted = carrier_by_code(logistic_type)
            .map(|carrier| carrier.name.to_owned())
            .or_else(|| logistic_name.map(str::to_owned))
            .ok_or_else(|| {
                ConnectorError::invalid(
                    Platform::Vop,
                    format!("LogisticType {logistic_type:?} is not a known polyapi carrier code"),
                )
            })?;
        carriers
            .iter()
            .find(|c| c.carrier_name == wanted || c.carrier_name.contains(&wanted) || wanted.contains(&c.carrier_name))
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = carriers.iter().map(|c| c.carrier_name.as_str()).collect();
                ConnectorError::invalid(
                    Platform::Vop,
                    format!("carrier {wanted} ({logistic_type}) is not in the vendor's carrier list: {}", known.join(", ")),
                )
            })
    }

    async fn ship_direct(
        &self,
        shipment: &Shipment,
        order: &DvdOrder,
    ) -> Result<ShipmentResult, ConnectorError> {
        let carriers = fetch_all(&self.client, &GetDvdCarrierList::new(self.vendor_id)).await?;
        let carrier = Self::pick_carrier(
            &shipment.logistic_type,
            shipment.logistic_name.as_deref(),
            &carriers,
        )?;
        for (line, _) in &shipment.lines {
            if !order.goods.iter().any(|goods| &goods.barcode == line) {
                return Err(ConnectorError::invalid(
                    Platform::Vop,
                    format!("lines: {line:?} is not a line of order {}", order.order_id),
                ));
            }
        }
        let request = Ship {
            vendor_id: self.vendor_id,
            ship_list: vec![ShipItem {
                order_id: order.order_id.clone(),
                carrier_code: carrier.carrier_code.clone(),
                carrier_name: carrier.carrier_name.clone(),
                packages: vec![Package {
                    transport_no: shipment.logistic_no.clone(),
                    package_product_list: shipment
                        .lines
                        .iter()
                        .map(|(barcode, count)| PackageProduct {
                            barcode: barcode.clone(),
                            amount: *count,
                        })
                        .collect(),
                }],
            }],
        };
        let result = self.execute(&request).await?;
        if let Some(failure) = result.fail_data.first() {
            return Err(ConnectorError {
                platform: Platform::Vop,
                class: shopbridge_core::ErrorClass::Platform,
                code: None,
                message: format!(
                    "order {} was not shipped: {}",
                    failure.order_id, failure.error_msg
                ),
                cause: None,
            });
        }
        Ok(ShipmentResult {
            plat_order_no: order.order_id.clone(),
            logistic_no: shipment.logistic_no.clone(),
            platform_reference: None,
        })
    }

    /// The JIT delivery flow for a PO: pick -> delivery -> detail import -> confirm.
    async fn deliver_purchase_order(
        &self,
        shipment: &Shipment,
        po: &PurchaseOrder,
    ) -> Result<ShipmentResult, ConnectorError> {
        let carriers = fetch_all(&self.client, &GetCarrierList::new(self.vendor_id)).await?;
        let carrier = Self::pick_carrier(
            &shipment.logistic_type,
            shipment.logistic_name.as_deref(),
            &carriers,
        )?;
        let picks = self
            .execute(&CreatePick::new(self.vendor_id, po.po_no.clone()))
            .await?;
        if picks.is_empty() {
            return Err(ConnectorError::invalid(
                Platform::Vop,
                format!("PO {} has nothing left to pick", po.po_no),
            ));
        }
        let wanted: BTreeMap<&str, i64> = shipment
            .lines
            .iter()
            .map(|(barcode, count)| (barcode.as_str(), *count))
            .collect();
        let arrival = format_datetime_ms(self.client.clock().now_ms() + 24 * 3_600_000);
        let mut storage_numbers = Vec::new();
        for pick in picks {
            let detail = self
                .execute(&GetPickDetail {
                    limit: Some(100),
                    ..GetPickDetail::new(self.vendor_id, po.po_no.clone(), pick.pick_no.clone())
                })
                .await?;
            let items: Vec<DeliveryItem> = detail
                .pick_product_list
                .iter()
                .filter(|product| product.not_delivery_num > 0)
                .filter_map(|product| {
                    let count = if wanted.is_empty() {
                        product.not_delivery_num
                    } else {
                        wanted
                            .get(product.barcode.as_str())
                            .copied()?
                            .min(product.not_delivery_num)
                    };
                    (count > 0).then(|| DeliveryItem {
                        vendor_type: "COMMON".into(),
                        barcode: product.barcode.clone(),
                        box_no: "1".into(),
                        pick_no: Some(pick.pick_no.clone()),
                        amount: count,
                        po_no: None,
                    })
                })
                .collect();
            if items.is_empty() {
                continue;
            }
            let warehouse = pick
                .warehouse
                .as_deref()
                .or(detail.warehouse.as_deref())
                .or(po.warehouse.as_deref())
                .map(Warehouse::parse)
                .transpose()?;
            let delivery = self
                .execute(&CreateDelivery {
                    vendor_id: self.vendor_id,
                    po_no: po.po_no.clone(),
                    delivery_no: shipment.logistic_no.clone(),
                    warehouse,
                    arrival_time: arrival.clone(),
                    carrier_name: carrier.carrier_name.clone(),
                    carrier_code: carrier.carrier_code.clone(),
                    delivery_method: Some("1".into()),
                    ..CreateDelivery::default()
                })
                .await?;
            self.execute(&ImportDeliveryDetail {
                vendor_id: self.vendor_id,
                po_no: po.po_no.clone(),
                storage_no: delivery.storage_no.clone(),
                store_sn: None,
                delivery_list: items,
            })
            .await?;
            self.execute(&ConfirmDelivery::new(
                self.vendor_id,
                delivery.storage_no.clone(),
            ))
            .await?;
            storage_numbers.push(delivery.storage_no);
        }
        if storage_numbers.is_empty() {
            return Err(ConnectorError::invalid(
                Platform::Vop,
                format!("nothing of PO {} matched the lines to ship", po.po_no),
            ));
        }
        Ok(ShipmentResult {
            plat_order_no: po.po_no.clone(),
            logistic_no: shipment.logistic_no.clone(),
            platform_reference: Some(storage_numbers.join(",")),
        })
    }
}

#[async_trait]
impl OrderSource for JitConnector {
    async fn get_orders(&self, query: &OrderQuery) -> Result<Page<Order>, ConnectorError> {
        if !(1..=100).contains(&query.page_size) || query.page == 0 {
            return Err(ConnectorError::invalid(
                Platform::Vop,
                "PageIndex from 1 and PageSize from 1 to 100",
            ));
        }
        if let Some(number) = query.plat_order_no.as_deref() {
            let found = match self.dvd_order(number).await? {
                Some(order) => Some(dvd_to_order(&order)),
                None => match self.purchase_order(number).await? {
                    Some(po) => Some(self.po_to_order(&po).await?),
                    None => None,
                },
            };
            let items: Vec<Order> = found.into_iter().collect();
            return Ok(Page {
                total: items.len() as u64,
                has_next: false,
                items,
            });
        }
        let (start, end) = (
            format_datetime_ms(query.start_ms),
            format_datetime_ms(query.end_ms),
        );
        let page = query.page as i32;
        let limit = query.page_size as i32;
        if query.shop_type == Some(ShopType::Normal) {
            let request = GetPoList {
                st_po_start_time: Some(start),
                et_po_start_time: Some(end),
                page: Some(page),
                limit: Some(limit),
                ..GetPoList::new(self.vendor_id)
            };
            let answer = self.execute(&request).await?;
            let mut items = Vec::new();
            for po in &answer.purchase_order_list {
                items.push(self.po_to_order(po).await?);
            }
            let has_next = (page as i64) * (limit as i64) < answer.total;
            return Ok(Page {
                items,
                total: answer.total.max(0) as u64,
                has_next,
            });
        }
        let mut request = GetOrderList::new(self.vendor_id);
        match query.time_type {
            OrderTimeType::Created => {
                request.st_add_time = Some(start);
                request.et_add_time = Some(end);
            }
            OrderTimeType::Modified => {
                request.st_update_time = Some(start);
                request.et_update_time = Some(end);
            }
        }
        request.order_status = dvd_status_filter(query.status);
        request.page = Some(page);
        request.limit = Some(limit);
        let answer = self.execute(&request).await?;
        let has_next = (page as i64) * (limit as i64) < answer.total;
        let items: Vec<Order> = answer
            .dvd_order_list
            .iter()
            .map(dvd_to_order)
            .filter(|order| {
                query.status == OrderStatus::All
                    || order.status == query.status
                    || dvd_status_filter(query.status).is_some()
            })
            .collect();
        Ok(Page {
            items,
            total: answer.total.max(0) as u64,
            has_next,
        })
    }
}

#[async_trait]
impl ProductSource for JitConnector {
    async fn download_products(
        &self,
        query: &ProductQuery,
    ) -> Result<Page<Product>, ConnectorError> {
        if !(1..=100).contains(&query.page_size) || query.page == 0 {
            return Err(ConnectorError::invalid(
                Platform::Vop,
                "PageIndex from 1 and PageSize from 1 to 100",
            ));
        }
        // Products are SPUs (sn) with barcode SKUs: group the SKU list by sn.
        let mut request = MultiGetProductSkuInfo::new(self.vendor_id);
        request.sn = query.product_id.clone();
        let skus = fetch_all(&self.client, &request).await?;
        let mut products: BTreeMap<String, Product> = BTreeMap::new();
        for sku in skus {
            let sn = sku.sn.clone().unwrap_or_else(|| sku.barcode.clone());
            let name = sku.product_name.clone().unwrap_or_default();
            if query
                .name
                .as_deref()
                .is_some_and(|wanted| !name.contains(wanted))
            {
                continue;
            }
            let price = amount(sku.sell_price.as_deref());
            let product = products.entry(sn.clone()).or_insert_with(|| Product {
                plat_product_id: sn.clone(),
                name: name.clone(),
                outer_id: sn.clone(),
                price,
                quantity: 0,
                picture_url: sku.images.first().cloned(),
                on_sale: sku.status == Some(1),
                skus: Vec::new(),
            });
            product.skus.push(Sku {
                sku_id: sku.barcode.clone(),
                outer_id: sku.barcode.clone(),
                name,
                price,
                quantity: 0,
                property: [sku.color.as_deref(), sku.size.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .into(),
            });
        }
        let total = products.len() as u64;
        let start = ((query.page - 1) * query.page_size) as usize;
        let items: Vec<Product> = products
            .into_values()
            .skip(start)
            .take(query.page_size as usize)
            .collect();
        let has_next = (start + items.len()) < total as usize;
        Ok(Page {
            items,
            total,
            has_next,
        })
    }
}

#[async_trait]
impl Shipping for JitConnector {
    async fn send(&self, shipment: &Shipment) -> Result<ShipmentResult, ConnectorError> {
        if shipment.logistic_no.trim().is_empty() {
            return Err(ConnectorError::invalid(
                Platform::Vop,
                "LogisticNo: required",
            ));
        }
        if let Some((line, count)) = shipment.lines.iter().find(|(_, count)| *count <= 0) {
            return Err(ConnectorError::invalid(
                Platform::Vop,
                format!("lines: {line:?} has a count of {count}; expected 1 or more"),
            ));
        }
        if shipment.shop_type != Some(ShopType::Normal)
            && let Some(order) = self.dvd_order(&shipment.plat_order_no).await?
        {
            return self.ship_direct(shipment, &order).await;
        }
        if shipment.shop_type != Some(ShopType::Jitx)
            && let Some(po) = self.purchase_order(&shipment.plat_order_no).await?
        {
            return self.deliver_purchase_order(shipment, &po).await;
        }
        Err(ConnectorError::invalid(
            Platform::Vop,
            format!(
                "PlatOrderNo {:?} is neither a direct-ship order nor a PO of vendor {}",
                shipment.plat_order_no, self.vendor_id
            ),
        ))
    }
}

#[async_trait]
impl StockSync for JitConnector {
    async fn sync_stock(&self, update: &StockUpdate) -> Result<StockResult, ConnectorError> {
        let mode = match update.mode {
            StockMode::Full => SyncMode::Full,
            StockMode::Incremental => SyncMode::Incremental,
        };
        let mut request = UpdateInventory::new(
            self.vendor_id,
            update.outer_id.clone(),
            update.quantity,
            mode,
        );
        if let Some(batch_no) = &update.batch_no {
            request = request.batch_no(batch_no.clone());
        }
        let warehouse = update
            .warehouse
            .as_deref()
            .map(Warehouse::parse)
            .transpose()?;
        if let Some(warehouse) = warehouse {
            request = request.warehouse(warehouse);
        }
        if update.circuit_break_ack {
            request = request.acknowledge_circuit_break();
        }
        let batch_no = request.request.batch_no.clone();
        self.execute(&request).await?;
        let mut lookup = GetSkuStock::new(self.vendor_id, update.outer_id.clone());
        lookup.warehouse = warehouse;
        let rows = self.execute(&lookup).await?;
        // The level of the warehouse the update went to: the one named, else the vendor's main
        // warehouse, which the platform lists first; never the sum of every warehouse.
        let quantity = rows
            .first()
            .and_then(|row| row.leaving_stock)
            .unwrap_or_default();
        Ok(StockResult {
            outer_id: update.outer_id.clone(),
            quantity,
            batch_no,
        })
    }
}

#[async_trait]
impl RefundChecker for JitConnector {
    async fn check_refund(&self, plat_order_no: &str) -> Result<RefundCheck, ConnectorError> {
        if let Some(order) = self.dvd_order(plat_order_no).await? {
            let order_status = dvd_status(order.order_status.unwrap_or_default());
            let cancelled = matches!(
                order_status,
                OrderStatus::CancelledBeforeShipping
                    | OrderStatus::CancelledAfterShipping
                    | OrderStatus::CancelledAfterCollection
            );
            let returns = fetch_all(
                &self.client,
                &GetOrderReturnList::for_order(self.vendor_id, plat_order_no),
            )
            .await?;
            let lines: Vec<LineRefund> = order
                .goods
                .iter()
                .map(|goods| {
                    let refund = returns
                        .iter()
                        .find(|r| r.goods.iter().any(|g| g.barcode == goods.barcode));
                    let status = match refund {
                        _ if cancelled => RefundStatus::Refunded,
                        Some(refund) => return_status(refund.status.unwrap_or_default()),
                        None => RefundStatus::NoRefund,
                    };
                    LineRefund {
                        sub_order_no: goods.barcode.clone(),
                        refund_no: refund.map(|r| r.return_sn.clone()),
                        product_name: goods.product_name.clone(),
                        status,
                    }
                })
                .collect();
            let status = summarize(&lines);
            return Ok(RefundCheck {
                plat_order_no: plat_order_no.to_owned(),
                status,
                order_status: Some(order_status),
                lines,
            });
        }
        let Some(po) = self.purchase_order(plat_order_no).await? else {
            return Err(ConnectorError::invalid(
                Platform::Vop,
                format!(
                    "OrderID {plat_order_no:?} is neither a direct-ship order nor a PO of vendor {}",
                    self.vendor_id
                ),
            ));
        };
        // Returns to vendor (退供) name the PO on each returned line.
        let warehouse = po
            .warehouse
            .as_deref()
            .map(Warehouse::parse)
            .transpose()?
            .unwrap_or(Warehouse::VIP_NH);
        let returns = fetch_all(
            &self.client,
            &GetReturnDetail::new(self.vendor_id, warehouse),
        )
        .await?;
        let lines: Vec<LineRefund> = returns
            .iter()
            .flat_map(|delivery| {
                delivery
                    .delivery_list
                    .iter()
                    .filter(|line| line.po_no.as_deref() == Some(plat_order_no))
                    .map(|line| LineRefund {
                        sub_order_no: line.barcode.clone(),
                        refund_no: Some(delivery.return_sn.clone()),
                        product_name: line.product_name.clone(),
                        status: RefundStatus::Refunded,
                    })
            })
            .collect();
        let status = if lines.is_empty() {
            RefundStatus::NoRefund
        } else {
            RefundStatus::PartlyRefunded
        };
        Ok(RefundCheck {
            plat_order_no: plat_order_no.to_owned(),
            status,
            order_status: None,
            lines,
        })
    }
}

/// An order's refund status from its lines' (polyapi: JH_07 when nothing is refunded).
fn summarize(lines: &[LineRefund]) -> RefundStatus {
    let refunded = lines
        .iter()
        .filter(|l| l.status == RefundStatus::Refunded)
        .count();
    if !lines.is_empty() && refunded == lines.len() {
        return RefundStatus::Refunded;
    }
    if let Some(active) = lines
        .iter()
        .find(|l| !matches!(l.status, RefundStatus::NoRefund | RefundStatus::Refunded))
    {
        return active.status;
    }
    if refunded > 0 {
        RefundStatus::PartlyRefunded
    } else {
        RefundStatus::NoRefund
    }
}

/// Checks that the connector answers every capability (for the hub's capability listing).
pub const CAPABILITIES: [Capability; 5] = [
    Capability::Orders,
    Capability::Products,
    Capability::Shipping,
    Capability::Stock,
    Capability::Refunds,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_tables() {
        assert_eq!(dvd_status(10), OrderStatus::WaitSellerSend);
        assert_eq!(dvd_status(99), OrderStatus::CancelledAfterCollection);
        assert_eq!(dvd_status(60).code(), "JH_24");
        assert_eq!(return_status(4), RefundStatus::Refunded);
        let line = |status| LineRefund {
            sub_order_no: "a".into(),
            refund_no: None,
            product_name: None,
            status,
        };
        assert_eq!(
            summarize(&[line(RefundStatus::NoRefund)]),
            RefundStatus::NoRefund
        );
        assert_eq!(
            summarize(&[line(RefundStatus::Refunded), line(RefundStatus::NoRefund)]),
            RefundStatus::PartlyRefunded
        );
        assert_eq!(
            summarize(&[
                line(RefundStatus::BuyerRequested),
                line(RefundStatus::NoRefund)
            ]),
            RefundStatus::BuyerRequested
        );
        assert_eq!(
            summarize(&[line(RefundStatus::Refunded)]),
            RefundStatus::Refunded
        );
    }
}
