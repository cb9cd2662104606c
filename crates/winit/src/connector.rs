//! Winit as a fulfilment connector: warehouse shipments from unified orders, their tracking
//! numbers for `Send`, stock levels per SKU and warehouse for `SyncStock`, and products.

use async_trait::async_trait;
use shopbridge_core::Platform;
use shopbridge_core::capability::{Connector, ConnectorError, ProductSource};
use shopbridge_core::codes::carrier_by_name;
use shopbridge_core::error::Classify;
use shopbridge_core::model::{Order, Page, Product, ProductQuery, Shipment, Sku, StockLevel};
use shopbridge_core::money::Decimal;

use crate::actions::{
    CreateOutboundOrder, ItemList, OutboundProduct, QueryOutboundOrder, QueryWarehouseStorage,
};
use crate::{WinitClient, WinitError};

impl From<WinitError> for ConnectorError {
    fn from(err: WinitError) -> Self {
        ConnectorError {
            platform: Platform::Winit,
            class: err.class(),
            code: err.code().map(str::to_owned),
            message: err.to_string(),
            cause: Some(std::sync::Arc::new(err)),
        }
    }
}

/// polyapi's "其他" carrier, for a Winit carrier the logistics table does not name.
pub const OTHER_CARRIER: &str = "JH_093";

#[derive(Debug, Clone)]
pub struct WinitConnector {
    client: WinitClient,
}

impl WinitConnector {
    pub fn new(client: WinitClient) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &WinitClient {
        &self.client
    }

    /// 发货: an outbound order for a unified order, from `warehouse_id` by `delivery_way_id`.
    /// The receiver's country becomes `state` and the province `region` (Winit's naming).
    pub async fn create_shipment(
        &self,
        order: &Order,
        warehouse_id: i64,
        delivery_way_id: i64,
    ) -> Result<String, ConnectorError> {
        let receiver = &order.receiver;
        let country = receiver.country.clone().ok_or_else(|| {
            ConnectorError::invalid(
                Platform::Winit,
                format!(
                    "order {}: the receiver's country is required",
                    order.plat_order_no
                ),
            )
        })?;
        let request = CreateOutboundOrder {
            warehouse_id,
            delivery_way_id: delivery_way_id.to_string(),
            insurance_type_id: 1_000_000,
            repeatable: "N".into(),
            seller_order_no: order.plat_order_no.clone(),
            ebay_order_id: String::new(),
            recipient_name: receiver.receiver_name.clone(),
            phone_num: receiver
                .mobile
                .clone()
                .or(receiver.phone.clone())
                .unwrap_or_default(),
            email_address: String::new(),
            state: country,
            region: receiver.province.clone(),
            city: receiver.city.clone(),
            zip_code: receiver.zip.clone().unwrap_or_default(),
            address1: receiver.address.clone(),
            address2: receiver.town.clone().unwrap_or_default(),
            doorplate_numbers: receiver.house_number.clone().unwrap_or_default(),
            product_list: order
                .lines
                .iter()
                .map(|line| OutboundProduct {
                    product_code: line
                        .outer_id
                        .clone()
                        .unwrap_or_else(|| line.product_id.clone()),
                    product_num: line.count.to_string(),
                    specification: line.spec.clone().unwrap_or_default(),
                    ..OutboundProduct::default()
                })
                .collect(),
        };
        Ok(self.client.execute(&request).await?.outbound_order_num)
    }

    /// The shipment to report to the sales platform (`Send`), once Winit has a tracking number.
    pub async fn tracking(
        &self,
        outbound_order_num: &str,
    ) -> Result<Option<Shipment>, ConnectorError> {
        let info = self
            .client
            .execute(&QueryOutboundOrder::new(outbound_order_num))
            .await?;
        let Some(number) = info.tracking_number() else {
            return Ok(None);
        };
        let carrier = info.carrier.clone();
        let logistic_type = carrier
            .as_deref()
            .and_then(carrier_by_name)
            .map_or(OTHER_CARRIER, |c| c.code)
            .to_owned();
        Ok(Some(Shipment {
            plat_order_no: info
                .seller_order_no
                .clone()
                .unwrap_or_else(|| outbound_order_num.to_owned()),
            logistic_type,
            logistic_no: number.to_owned(),
            logistic_name: carrier,
            lines: Vec::new(),
            warehouse: info.warehouse_code.clone(),
            shop_type: None,
        }))
    }

    /// Stock of every product in a warehouse, page after page.
    pub async fn stock_levels(&self, warehouse_id: i64) -> Result<Vec<StockLevel>, ConnectorError> {
        let mut levels = Vec::new();
        let mut request = QueryWarehouseStorage::new(warehouse_id);
        loop {
            let page = self.client.execute(&request).await?;
            let got = page.list.len();
            levels.extend(page.list.into_iter().map(|row| {
                StockLevel {
                    warehouse: row
                        .warehouse_code
                        .clone()
                        .unwrap_or_else(|| warehouse_id.to_string()),
                    outer_id: row.product_code,
                    available: row.qty_available.unwrap_or_default(),
                    in_stock: row.in_stock_qty.unwrap_or_default(),
                }
            }));
            if (got as i64) < request.page_size
                || levels.len() as i64 >= page.total.unwrap_or_default()
            {
                return Ok(levels);
            }
            request.page_num += 1;
        }
    }
}

impl Connector for WinitConnector {
    fn platform(&self) -> Platform {
        Platform::Winit
    }

    fn products(&self) -> Result<&dyn ProductSource, ConnectorError> {
        Ok(self)
    }
}

#[async_trait]
impl ProductSource for WinitConnector {
    async fn download_products(
        &self,
        query: &ProductQuery,
    ) -> Result<Page<Product>, ConnectorError> {
        if query.page == 0 || !(1..=200).contains(&query.page_size) {
            return Err(ConnectorError::invalid(
                Platform::Winit,
                "PageIndex from 1 and PageSize from 1 to 200",
            ));
        }
        let mut request = ItemList::page(i64::from(query.page), i64::from(query.page_size));
        request.product_code = query.product_id.clone();
        let answer = self.client.execute(&request).await?;
        let total = answer
            .page_params
            .total_count
            .unwrap_or(answer.list.len() as i64)
            .max(0) as u64;
        let items: Vec<Product> = answer
            .list
            .into_iter()
            .map(|item| {
                let name = item
                    .chinese_name
                    .clone()
                    .or(item.english_name.clone())
                    .unwrap_or_default();
                Product {
                    plat_product_id: item.product_code.clone(),
                    name: name.clone(),
                    outer_id: item.product_code.clone(),
                    price: Decimal::ZERO,
                    quantity: 0,
                    picture_url: None,
                    on_sale: true,
                    skus: vec![Sku {
                        sku_id: item.product_code.clone(),
                        outer_id: item.product_code,
                        name,
                        price: Decimal::ZERO,
                        quantity: 0,
                        property: item.specification,
                    }],
                }
            })
            .collect();
        let has_next = u64::from(query.page) * u64::from(query.page_size) < total;
        Ok(Page {
            items,
            total,
            has_next,
        })
    }
}
