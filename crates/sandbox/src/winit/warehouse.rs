//! Overseas warehouses of the Winit simulator: delivery ways, products, inventory that honours
//! `inStockQty = qtyAvailable + qtyWaitOut + ...`, outbound orders moving DR -> CFI -> CF -> PKI ->
//! PKC -> PAI -> PAC -> DLI -> DLC on the clock, inbound orders, returns.

use serde_json::{Value, json};

/// A rejected action: Winit's `code` and `msg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    pub code: &'static str,
    pub message: String,
}

pub fn invalid(message: impl Into<String>) -> ActionError {
    ActionError {
        code: "400001",
        message: message.into(),
    }
}

fn not_found(message: impl Into<String>) -> ActionError {
    ActionError {
        code: "400006",
        message: message.into(),
    }
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

#[derive(Debug, Clone)]
pub struct Warehouse {
    pub id: i64,
    pub code: &'static str,
    pub name: &'static str,
    pub address: &'static str,
    pub country: &'static str,
}

pub const WAREHOUSES: [Warehouse; 4] = [
    Warehouse {
        id: 1_000_001,
        code: "AU0001",
        name: "Winit AU Melbourne",
        address: "Tullamarine VIC 3043",
        country: "AU",
    },
    Warehouse {
        id: 1_000_008,
        code: "US0001",
        name: "Winit USWC Los Angeles",
        address: "City of Industry CA 91748",
        country: "US",
    },
    Warehouse {
        id: 1_000_069,
        code: "UK0001",
        name: "Winit UK Birmingham",
        address: "Coleshill B46 1JT",
        country: "GB",
    },
    Warehouse {
        id: 1_000_089,
        code: "DE0001",
        name: "Winit DE Frankfurt",
        address: "Raunheim 65479",
        country: "DE",
    },
];

#[derive(Debug, Clone)]
pub struct DeliveryWay {
    pub id: i64,
    pub name: &'static str,
    pub warehouse_id: i64,
    pub product_code: &'static str,
    pub house_number_required: bool,
    pub carrier: &'static str,
}

pub const DELIVERY_WAYS: [DeliveryWay; 6] = [
    DeliveryWay {
        id: 1_000_010,
        name: "AU Post Parcel",
        warehouse_id: 1_000_001,
        product_code: "OSF000101",
        house_number_required: false,
        carrier: "AUPOST",
    },
    DeliveryWay {
        id: 1_000_020,
        name: "USPS Priority",
        warehouse_id: 1_000_008,
        product_code: "OSF810556",
        house_number_required: false,
        carrier: "USPS",
    },
    DeliveryWay {
        id: 1_000_021,
        name: "UPS Ground",
        warehouse_id: 1_000_008,
        product_code: "OSF810557",
        house_number_required: false,
        carrier: "UPS",
    },
    DeliveryWay {
        id: 1_000_070,
        name: "Royal Mail 48",
        warehouse_id: 1_000_069,
        product_code: "OSF690001",
        house_number_required: false,
        carrier: "ROYALMAIL",
    },
    DeliveryWay {
        id: 1_000_120,
        name: "DHL Paket",
        warehouse_id: 1_000_089,
        product_code: "OSF890001",
        house_number_required: true,
        carrier: "DHL",
    },
    DeliveryWay {
        id: 1_000_121,
        name: "DPD Classic",
        warehouse_id: 1_000_089,
        product_code: "OSF890002",
        house_number_required: true,
        carrier: "DPD",
    },
];

pub fn warehouse(id: i64) -> Option<&'static Warehouse> {
    WAREHOUSES.iter().find(|w| w.id == id)
}

#[derive(Debug, Clone)]
pub struct Product {
    pub seller: String,
    pub code: String,
    pub chinese_name: String,
    pub english_name: String,
    pub weight_g: f64,
    pub specification: String,
}

/// Stock a product starts with in a warehouse; the rest is derived from orders.
#[derive(Debug, Clone)]
pub struct BaseStock {
    pub seller: String,
    pub warehouse_id: i64,
    pub code: String,
    pub in_stock: i64,
    pub frozen: i64,
    pub lost_confirming: i64,
    pub destruction: i64,
    pub prohibit_frozen: i64,
    pub prohibit_usable: i64,
    pub pipeline: i64,
}

#[derive(Debug, Clone)]
pub struct Outbound {
    pub num: String,
    pub seller: String,
    pub seller_order_no: String,
    pub warehouse_id: i64,
    pub delivery_way_id: i64,
    pub country: String,
    pub region: String,
    pub city: String,
    pub recipient: String,
    pub products: Vec<(String, i64)>,
    pub created_ms: i64,
    /// When it was submitted (CFI); `None` for a draft.
    pub submitted_ms: Option<i64>,
    pub voided_ms: Option<i64>,
    pub tracking_no: String,
}

/// (status, name, offset after submission).
const FLOW: [(&str, &str, i64); 8] = [
    ("CFI", "出库确认中", 0),
    ("CF", "出库确认", 10 * MINUTE),
    ("PKI", "拣选中", HOUR),
    ("PKC", "拣选完成", 2 * HOUR),
    ("PAI", "打包中", 3 * HOUR),
    ("PAC", "打包完成", 4 * HOUR),
    ("DLI", "派送中", 6 * HOUR),
    ("DLC", "派送完成", 3 * DAY),
];

impl Outbound {
    /// (status, name) at `now`.
    pub fn status(&self, now: i64) -> (&'static str, &'static str) {
        if self.voided_ms.is_some_and(|at| at <= now) {
            return ("VO", "已作废");
        }
        let Some(submitted) = self.submitted_ms else {
            return ("DR", "草稿");
        };
        FLOW.iter()
            .rev()
            .find(|(_, _, offset)| submitted + offset <= now)
            .map_or(("DR", "草稿"), |(code, name, _)| (*code, *name))
    }

    /// Reserved goods leave the warehouse when delivery starts.
    fn left_at(&self) -> Option<i64> {
        self.submitted_ms.map(|at| at + 6 * HOUR)
    }

    fn active(&self, now: i64) -> bool {
        self.submitted_ms.is_some_and(|at| at <= now) && self.voided_ms.is_none_or(|at| at > now)
    }

    fn events(&self, now: i64) -> Vec<(i64, &'static str, &'static str)> {
        let mut events = vec![(self.created_ms, "DR", "草稿")];
        if let Some(submitted) = self.submitted_ms {
            events.extend(
                FLOW.iter()
                    .map(|(code, name, offset)| (submitted + offset, *code, *name)),
            );
        }
        if let Some(voided) = self.voided_ms {
            events.retain(|(at, _, _)| *at < voided);
            events.push((voided, "VO", "已作废"));
        }
        events.retain(|(at, _, _)| *at <= now);
        events
    }
}

#[derive(Debug, Clone)]
pub struct Inbound {
    pub order_no: String,
    pub seller: String,
    pub seller_order_no: String,
    pub warehouse_id: i64,
    pub lines: Vec<(String, i64)>,
    pub created_ms: i64,
    pub voided_ms: Option<i64>,
}

impl Inbound {
    /// Goods arrive two days after the order.
    fn received_at(&self) -> i64 {
        self.created_ms + 2 * DAY
    }

    fn status(&self, now: i64) -> &'static str {
        if self.voided_ms.is_some() {
            "VO"
        } else if self.received_at() <= now {
            "FI"
        } else {
            "WFI"
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReturnOrder {
    pub return_no: String,
    pub seller: String,
    pub outbound_num: String,
    pub warehouse_id: i64,
    pub lines: Vec<(String, i64)>,
    pub created_ms: i64,
}

#[derive(Debug, Default)]
pub struct Warehouses {
    pub products: Vec<Product>,
    pub stock: Vec<BaseStock>,
    pub outbound: Vec<Outbound>,
    pub inbound: Vec<Inbound>,
    pub returns: Vec<ReturnOrder>,
    pub counter: u64,
}

impl Warehouses {
    pub fn seeded() -> Self {
        let mut warehouses = Self::default();
        for seller in [super::APP_KEY, "winit_other"] {
            for i in 1..=10 {
                let code = format!("SKU-{i}");
                warehouses.products.push(Product {
                    seller: seller.into(),
                    code: code.clone(),
                    chinese_name: format!("测试商品{i}"),
                    english_name: format!("Test product {i}"),
                    weight_g: 100.0 * f64::from(i),
                    specification: String::new(),
                });
                for w in &WAREHOUSES {
                    warehouses.stock.push(BaseStock {
                        seller: seller.into(),
                        warehouse_id: w.id,
                        code: code.clone(),
                        in_stock: 50 + i64::from(i) * 10,
                        frozen: i64::from(i % 3),
                        lost_confirming: i64::from(i % 2),
                        destruction: 0,
                        prohibit_frozen: 0,
                        prohibit_usable: i64::from(i % 4 == 0),
                        pipeline: 20,
                    });
                }
            }
        }
        warehouses
    }

    fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:010}", self.counter)
    }

    /// The inventory identity at `now`, for one product in one warehouse.
    pub fn storage(&self, seller: &str, warehouse_id: i64, code: &str, now: i64) -> Option<Value> {
        let base = self
            .stock
            .iter()
            .find(|s| s.seller == seller && s.warehouse_id == warehouse_id && s.code == code)?;
        let mut reserved = 0;
        let mut shipped = 0;
        for order in self
            .outbound
            .iter()
            .filter(|o| o.seller == seller && o.warehouse_id == warehouse_id && o.active(now))
        {
            let qty: i64 = order
                .products
                .iter()
                .filter(|(c, _)| c == code)
                .map(|(_, q)| q)
                .sum();
            if order.left_at().is_some_and(|at| at <= now) {
                shipped += qty;
            } else {
                reserved += qty;
            }
        }
        let received: i64 = self
            .inbound
            .iter()
            .filter(|o| {
                o.seller == seller
                    && o.warehouse_id == warehouse_id
                    && o.voided_ms.is_none()
                    && o.received_at() <= now
            })
            .flat_map(|o| o.lines.iter())
            .filter(|(c, _)| c == code)
            .map(|(_, q)| q)
            .sum();
        let returned: i64 = self
            .returns
            .iter()
            .filter(|r| {
                r.seller == seller
                    && r.warehouse_id == warehouse_id
                    && r.created_ms + 2 * DAY <= now
            })
            .flat_map(|r| r.lines.iter())
            .filter(|(c, _)| c == code)
            .map(|(_, q)| q)
            .sum();
        let in_stock = base.in_stock - shipped + received + returned;
        let held = base.frozen
            + base.lost_confirming
            + base.destruction
            + base.prohibit_frozen
            + base.prohibit_usable;
        let available = in_stock - reserved - held;
        let product = self
            .products
            .iter()
            .find(|p| p.seller == seller && p.code == code);
        let warehouse_code = warehouse(warehouse_id).map(|w| w.code);
        Some(json!({
            "productCode": code,
            "productName": product.map(|p| p.chinese_name.clone()),
            "specification": product.map(|p| p.specification.clone()),
            "qtyAvailable": available,
            "inStockQty": in_stock,
            "qtyWaitOut": reserved,
            "qtyFrozen": base.frozen,
            "pipelineInventory": base.pipeline,
            "qtyLostConfirming": base.lost_confirming,
            "qtyDestruction": base.destruction,
            "prohibitFrozenQty": base.prohibit_frozen,
            "prohibitUsableQty": base.prohibit_usable,
            "preSaleWaitOutQty": 0,
            "warehouseID": warehouse_id,
            "warehouseCode": warehouse_code,
        }))
    }

    fn available(&self, seller: &str, warehouse_id: i64, code: &str, now: i64) -> Option<i64> {
        self.storage(seller, warehouse_id, code, now)?
            .get("qtyAvailable")?
            .as_i64()
    }

    /// Places an outbound order: checks the warehouse, the delivery way and its house-number rule,
    /// the products and their availability; changes nothing when any check fails.
    #[allow(clippy::too_many_arguments)]
    pub fn create_outbound(
        &mut self,
        seller: &str,
        warehouse_id: i64,
        delivery_way_id: i64,
        seller_order_no: &str,
        repeatable: bool,
        recipient: (&str, &str, &str, &str),
        house_number: &str,
        products: Vec<(String, i64)>,
        submit: bool,
        now: i64,
    ) -> Result<String, ActionError> {
        let (name, country, region, city) = recipient;
        let warehouse = warehouse(warehouse_id).ok_or_else(|| {
            invalid(format!(
                "warehouseID {warehouse_id} is not a Winit warehouse (queryWarehouse lists {})",
                WAREHOUSES
                    .iter()
                    .map(|w| w.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let way = DELIVERY_WAYS
            .iter()
            .find(|d| d.id == delivery_way_id && d.warehouse_id == warehouse_id)
            .ok_or_else(|| invalid(format!("deliveryWayID {delivery_way_id} is not a delivery way of warehouse {warehouse_id} (see queryDeliveryWay)")))?;
        if way.house_number_required && house_number.trim().is_empty() {
            return Err(invalid(format!(
                "doorplateNumbers: {} requires the house number (isMandoorplateNumbers=Y)",
                way.name
            )));
        }
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(format!(
                "state: expected the recipient's country (ISO-2, e.g. {}), got {country:?}",
                warehouse.country
            )));
        }
        if !repeatable
            && self.outbound.iter().any(|o| {
                o.seller == seller && o.seller_order_no == seller_order_no && o.voided_ms.is_none()
            })
        {
            return Err(invalid(format!(
                "sellerOrderNo {seller_order_no} already has an outbound order (repeatable=N)"
            )));
        }
        if products.is_empty() {
            return Err(invalid("productList: at least one product"));
        }
        for (code, qty) in &products {
            if *qty <= 0 {
                return Err(invalid(format!(
                    "productList: productNum of {code} must be positive"
                )));
            }
            let available = self
                .available(seller, warehouse_id, code, now)
                .ok_or_else(|| {
                    invalid(format!(
                        "productCode {code} is not stocked in {}",
                        warehouse.code
                    ))
                })?;
            if submit && available < *qty {
                return Err(invalid(format!(
                    "productCode {code}: {qty} ordered, {available} available in {}",
                    warehouse.code
                )));
            }
        }
        let num = self.next("WO");
        let tracking_no = format!("{}{}", way.carrier, &num[2..]);
        self.outbound.push(Outbound {
            num: num.clone(),
            seller: seller.into(),
            seller_order_no: seller_order_no.into(),
            warehouse_id,
            delivery_way_id,
            country: country.into(),
            region: region.into(),
            city: city.into(),
            recipient: name.into(),
            products,
            created_ms: now,
            submitted_ms: submit.then_some(now),
            voided_ms: None,
            tracking_no,
        });
        Ok(num)
    }

    pub fn outbound(&self, seller: &str, num: &str) -> Result<&Outbound, ActionError> {
        self.outbound
            .iter()
            .find(|o| o.seller == seller && o.num == num)
            .ok_or_else(|| {
                not_found(format!(
                    "outboundOrderNum {num}: 请检查订单是否上传或已删除"
                ))
            })
    }

    pub fn outbound_json(&self, order: &Outbound, now: i64) -> Value {
        let (status, name) = order.status(now);
        let warehouse = warehouse(order.warehouse_id);
        let way = DELIVERY_WAYS.iter().find(|d| d.id == order.delivery_way_id);
        let dispatched = matches!(status, "DLI" | "DLC");
        json!({
            "outboundOrderNum": order.num,
            "sellerOrderNo": order.seller_order_no,
            "status": status,
            "statusName": name,
            "warehouseID": order.warehouse_id,
            "warehouseCode": warehouse.map(|w| w.code),
            "warehouseName": warehouse.map(|w| w.name),
            "state": order.country,
            "regionName": order.region,
            "city": order.city,
            "recipientName": order.recipient,
            "trackingNum": if dispatched { order.tracking_no.clone() } else { String::new() },
            "winitTrackingNo": if dispatched { format!("W{}", order.tracking_no) } else { String::new() },
            "carrier": if dispatched { way.map(|w| w.carrier) } else { None },
            "deliveryCompletionStatus": if status == "DLC" { "DL" } else { "OT" },
            "reasonForVoid": if status == "VO" { "seller request" } else { "" },
            "packageList": [{"trackingNos": if dispatched { order.tracking_no.clone() } else { String::new() },
                "merchandiseList": order.products.iter().map(|(c, q)| json!({"merchandiseCode": c, "quantity": q})).collect::<Vec<_>>()}],
        })
    }

    pub fn void_outbound(&mut self, seller: &str, num: &str, now: i64) -> Result<(), ActionError> {
        let status = self.outbound(seller, num)?.status(now).0;
        if !matches!(status, "DR" | "CFI" | "CF") {
            return Err(invalid(format!(
                "出库单状态为 {status},已开始拣货,不能作废 (only DR, CFI and CF can be voided)"
            )));
        }
        if let Some(order) = self
            .outbound
            .iter_mut()
            .find(|o| o.seller == seller && o.num == num)
        {
            order.voided_ms = Some(now);
        }
        Ok(())
    }

    pub fn tracking_json(&self, order: &Outbound, now: i64) -> Value {
        let way = DELIVERY_WAYS.iter().find(|d| d.id == order.delivery_way_id);
        let warehouse = warehouse(order.warehouse_id);
        let trace: Vec<Value> = order
            .events(now)
            .iter()
            .map(|(at, code, name)| {
                json!({"date": crate::vop::datetime::format(*at), "location": warehouse.map(|w| w.name), "eventCode": code,
                       "eventStatus": code, "eventDescription": name, "lastEvent": "N"})
            })
            .collect();
        let (status, _) = order.status(now);
        json!({
            "orderNo": order.num,
            "trackingNo": if matches!(status, "DLI" | "DLC") { order.tracking_no.clone() } else { String::new() },
            "origin": warehouse.map(|w| w.country),
            "destination": order.country,
            "status": status,
            "vendorName": way.map(|w| w.name),
            "carrier": way.map(|w| w.carrier),
            "trackingUrl": format!("https://track.winit.com.cn/{}", order.num),
            "trace": trace,
        })
    }

    pub fn register_products(&mut self, seller: &str, products: Vec<Product>) -> Vec<Value> {
        let mut registered = Vec::new();
        for product in products {
            registered.push(json!({"productCode": product.code}));
            match self
                .products
                .iter_mut()
                .find(|p| p.seller == seller && p.code == product.code)
            {
                Some(existing) => *existing = product,
                None => {
                    for w in &WAREHOUSES {
                        self.stock.push(BaseStock {
                            seller: seller.into(),
                            warehouse_id: w.id,
                            code: product.code.clone(),
                            in_stock: 0,
                            frozen: 0,
                            lost_confirming: 0,
                            destruction: 0,
                            prohibit_frozen: 0,
                            prohibit_usable: 0,
                            pipeline: 0,
                        });
                    }
                    self.products.push(product);
                }
            }
        }
        registered
    }

    pub fn create_inbound(
        &mut self,
        seller: &str,
        warehouse_code: &str,
        seller_order_no: &str,
        lines: Vec<(String, i64)>,
        now: i64,
    ) -> Result<String, ActionError> {
        let warehouse = WAREHOUSES
            .iter()
            .find(|w| w.code == warehouse_code)
            .ok_or_else(|| {
                invalid(format!(
                    "destinationWarehouseCode {warehouse_code} is not a Winit warehouse"
                ))
            })?;
        for (code, _) in &lines {
            if !self
                .products
                .iter()
                .any(|p| p.seller == seller && &p.code == code)
            {
                return Err(invalid(format!(
                    "merchandiseCode {code} is not registered (registerProduct first)"
                )));
            }
        }
        let order_no = self.next("WI");
        self.inbound.push(Inbound {
            order_no: order_no.clone(),
            seller: seller.into(),
            seller_order_no: seller_order_no.into(),
            warehouse_id: warehouse.id,
            lines,
            created_ms: now,
            voided_ms: None,
        });
        Ok(order_no)
    }

    pub fn inbound_json(&self, order: &Inbound, now: i64) -> Value {
        json!({
            "orderNo": order.order_no,
            "sellerOrderNo": order.seller_order_no,
            "status": order.status(now),
            "destinationWarehouseCode": warehouse(order.warehouse_id).map(|w| w.code),
            "createDate": crate::vop::datetime::format(order.created_ms),
            "merchandiseList": order.lines.iter().map(|(c, q)| json!({"merchandiseCode": c, "quantity": q})).collect::<Vec<_>>(),
        })
    }

    pub fn inbound(&self, seller: &str, order_no: &str) -> Result<&Inbound, ActionError> {
        self.inbound
            .iter()
            .find(|o| o.seller == seller && o.order_no == order_no)
            .ok_or_else(|| {
                not_found(format!(
                    "orderNo {order_no} is not an inbound order of this seller"
                ))
            })
    }

    pub fn void_inbound(
        &mut self,
        seller: &str,
        order_no: &str,
        now: i64,
    ) -> Result<(), ActionError> {
        let status = self.inbound(seller, order_no)?.status(now);
        if status != "WFI" {
            return Err(invalid(format!(
                "inbound order {order_no} is {status}: only orders not yet received can be voided"
            )));
        }
        if let Some(order) = self
            .inbound
            .iter_mut()
            .find(|o| o.seller == seller && o.order_no == order_no)
        {
            order.voided_ms = Some(now);
        }
        Ok(())
    }

    pub fn create_return(
        &mut self,
        seller: &str,
        outbound_num: &str,
        lines: Vec<(String, i64)>,
        now: i64,
    ) -> Result<Value, ActionError> {
        let order = self.outbound(seller, outbound_num)?;
        if order.status(now).0 != "DLC" {
            return Err(invalid(format!(
                "outbound order {outbound_num} is {}: only delivered (DLC) orders can be returned",
                order.status(now).0
            )));
        }
        for (code, qty) in &lines {
            let shipped: i64 = order
                .products
                .iter()
                .filter(|(c, _)| c == code)
                .map(|(_, q)| q)
                .sum();
            if *qty <= 0 || *qty > shipped {
                return Err(invalid(format!(
                    "productList: {qty} of {code} returned, {shipped} shipped"
                )));
            }
        }
        let warehouse_id = order.warehouse_id;
        let return_no = self.next("RT");
        let record = ReturnOrder {
            return_no,
            seller: seller.into(),
            outbound_num: outbound_num.into(),
            warehouse_id,
            lines,
            created_ms: now,
        };
        let answer = return_json(&record, now);
        self.returns.push(record);
        Ok(answer)
    }
}

pub fn return_json(order: &ReturnOrder, now: i64) -> Value {
    json!({
        "returnOrderNo": order.return_no,
        "outboundOrderNum": order.outbound_num,
        "status": if order.created_ms + 2 * DAY <= now { "RC" } else { "CR" },
        "createDate": crate::vop::datetime::format(order.created_ms),
        "productList": order.lines.iter().map(|(c, q)| json!({"merchandiseCode": c, "quantity": q})).collect::<Vec<_>>(),
    })
}
