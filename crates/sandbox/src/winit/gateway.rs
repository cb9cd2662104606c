//! `POST /winit/openapi/service`: envelope checks, both signatures (verified over `data` as
//! Winit's server canonicalizes it), the timestamp, the rate limit, then the action.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use hmac::digest::Digest;
use md5::Md5;
use serde_json::{Map, Value, json};
use shopbridge_core::Clock;

use super::warehouse::{ActionError, DELIVERY_WAYS, Product, WAREHOUSES, invalid, return_json};
use super::{CLIENT_ID, CLIENT_SECRET, PLATFORM, WinitState};
use crate::state::SandboxState;

const RATE_PER_MINUTE: usize = 1000;
const SKEW_MS: i64 = 10 * 60_000;

/// Winit's envelope, with unset members of `data` left out as the platform's writers do.
fn reply(code: &str, message: &str, data: Value) -> Response {
    let data = crate::answer::without_null_members(data);
    Json(json!({ "code": code, "msg": message, "data": data })).into_response()
}

fn error(err: &ActionError) -> Response {
    reply(err.code, &err.message, Value::String(String::new()))
}

fn err(code: &'static str, message: impl Into<String>) -> ActionError {
    ActionError {
        code,
        message: message.into(),
    }
}

/// The sandbox's own signature: MD5 of secret + sorted field names and values + secret.
fn expected_sign(secret: &str, envelope: &Map<String, Value>, data: &str) -> String {
    let text = |name: &str| match envelope.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let mut signed = String::from(secret);
    for name in [
        "action",
        "app_key",
        "data",
        "format",
        "platform",
        "sign_method",
        "timestamp",
        "version",
    ] {
        signed.push_str(name);
        if name == "data" {
            signed.push_str(data);
        } else {
            signed.push_str(&text(name));
        }
    }
    signed.push_str(secret);
    hex::encode_upper(Md5::digest(signed.as_bytes()))
}

/// Reads the business fields of `data`, naming the missing or malformed one.
struct Data<'a>(&'a Map<String, Value>);

impl Data<'_> {
    fn str(&self, field: &str) -> Option<String> {
        match self.0.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    fn req(&self, field: &str) -> Result<String, ActionError> {
        self.str(field)
            .ok_or_else(|| err("1001", format!("data.{field}: required")))
    }

    fn int(&self, field: &str) -> Result<i64, ActionError> {
        self.req(field)?
            .parse()
            .map_err(|_| invalid(format!("data.{field}: expected a number")))
    }

    fn opt_int(&self, field: &str, default: i64) -> Result<i64, ActionError> {
        match self.str(field) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| invalid(format!("data.{field}: expected a number, got {text:?}"))),
        }
    }

    fn list(&self, field: &str) -> Result<Vec<Map<String, Value>>, ActionError> {
        match self.0.get(field) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_object()
                        .cloned()
                        .ok_or_else(|| invalid(format!("data.{field}: expected objects")))
                })
                .collect(),
            _ => Err(err("1001", format!("data.{field}: required (a list)"))),
        }
    }
}

/// `(code, quantity)` lines of a list, from the given field names.
fn lines(
    items: &[Map<String, Value>],
    code: &str,
    qty: &str,
) -> Result<Vec<(String, i64)>, ActionError> {
    items
        .iter()
        .map(|item| {
            let d = Data(item);
            let q = d.int(qty)?;
            if q <= 0 {
                return Err(invalid(format!(
                    "{qty}: expected a positive quantity, got {q}"
                )));
            }
            Ok((d.req(code)?, q))
        })
        .collect()
}

fn page<T: Clone>(items: &[T], page_num: i64, page_size: i64) -> Result<Vec<T>, ActionError> {
    if page_num < 1 || !(1..=200).contains(&page_size) {
        return Err(invalid("pageNum from 1 and pageSize from 1 to 200"));
    }
    Ok(items
        .iter()
        .skip(((page_num - 1) * page_size) as usize)
        .take(page_size as usize)
        .cloned()
        .collect())
}

fn check_envelope(
    winit: &mut WinitState,
    envelope: &Map<String, Value>,
    now: i64,
) -> Result<String, ActionError> {
    const REQUIRED: [&str; 10] = [
        "action",
        "app_key",
        "client_id",
        "client_sign",
        "format",
        "platform",
        "sign",
        "sign_method",
        "timestamp",
        "version",
    ];
    let text = |name: &str| {
        envelope
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|name| text(name).is_empty())
        .collect();
    if !missing.is_empty() {
        return Err(err("1001", format!("参数缺失: {}", missing.join(", "))));
    }
    if text("client_id") != CLIENT_ID {
        return Err(err(
            "1005",
            format!("client_id {} is not an application", text("client_id")),
        ));
    }
    if text("platform") != PLATFORM {
        return Err(err(
            "1005",
            format!(
                "platform {:?} is not this application's Code",
                text("platform")
            ),
        ));
    }
    if text("sign_method") != "md5" || text("format") != "json" {
        return Err(invalid("sign_method must be md5 and format json"));
    }
    let data = match envelope.get("data") {
        None | Some(Value::Null) => String::new(),
        // Winit canonicalizes data: keys sorted, compact; the order and spacing sent do not matter.
        Some(value) => value.to_string(),
    };
    if expected_sign(CLIENT_SECRET, envelope, &data) != text("client_sign").to_ascii_uppercase() {
        return Err(err(
            "1003",
            "client_sign 应用签名错误: check the client_secret and the signed fields",
        ));
    }
    let app_key = text("app_key");
    let seller = winit
        .seller(&app_key)
        .ok_or_else(|| err("1006", format!("app_key {app_key} is not a Winit seller")))?;
    let given = text("sign").to_ascii_uppercase();
    if !seller
        .tokens
        .iter()
        .any(|token| expected_sign(token, envelope, &data) == given)
    {
        return Err(err(
            "1002",
            "sign 签名错误: expected upper-hex MD5 of token + action, app_key, data (keys sorted, compact), format, platform, sign_method, timestamp, version + token",
        ));
    }
    let timestamp = crate::vop::datetime::parse(&text("timestamp")).ok_or_else(|| {
        invalid(format!(
            "timestamp: expected yyyy-MM-dd HH:mm:ss, got {:?}",
            text("timestamp")
        ))
    })?;
    if (timestamp - now).abs() > SKEW_MS {
        return Err(err(
            "1004",
            format!(
                "timestamp {} is more than 10 minutes from the server's clock",
                text("timestamp")
            ),
        ));
    }
    let calls = winit.calls.entry(app_key.clone()).or_default();
    while calls.front().is_some_and(|&at| at <= now - 60_000) {
        calls.pop_front();
    }
    if calls.len() >= RATE_PER_MINUTE {
        return Err(err("1007", "超过调用频率限制: 1000 requests a minute"));
    }
    calls.push_back(now);
    Ok(app_key)
}

fn run(
    winit: &mut WinitState,
    seller: &str,
    action: &str,
    data: &Map<String, Value>,
    now: i64,
) -> Result<Value, ActionError> {
    let d = Data(data);
    let stock = &mut winit.warehouses;
    match action {
        "queryWarehouse" => Ok(json!(WAREHOUSES
            .iter()
            .map(|w| json!({"warehouseID": w.id, "warehouseCode": w.code, "warehouseName": w.name, "warehouseAddress": w.address}))
            .collect::<Vec<_>>())),
        "queryDeliveryWay" => {
            let id = d.int("warehouseID")?;
            if super::warehouse::warehouse(id).is_none() {
                return Err(invalid(format!("warehouseID {id} is not a Winit warehouse")));
            }
            Ok(json!(DELIVERY_WAYS
                .iter()
                .filter(|w| w.warehouse_id == id)
                .map(|w| json!({"deliveryID": w.id, "deliveryWay": w.name, "warehouseID": w.warehouse_id, "winitProductCode": w.product_code,
                               "isMandoorplateNumbers": if w.house_number_required { "Y" } else { "N" }, "deliveryType": "STANDARD"}))
                .collect::<Vec<_>>()))
        }
        "createOutboundOrder" => {
            let products = lines(&d.list("productList")?, "productCode", "productNum")?;
            let num = stock.create_outbound(
                seller,
                d.int("warehouseID")?,
                d.int("deliveryWayID")?,
                &d.req("sellerOrderNo")?,
                d.str("repeatable").as_deref() != Some("N"),
                (&d.req("recipientName")?, &d.req("state")?, &d.req("region")?, &d.req("city")?),
                &d.str("doorplateNumbers").unwrap_or_default(),
                products,
                true,
                now,
            )?;
            d.req("zipCode")?;
            d.req("address1")?;
            Ok(json!({"outboundOrderNum": num}))
        }
        "wh.outbound.createSubmittedOrder" | "wh.outbound.createOrder" => {
            let code = d.req("winitProductCode")?;
            let way = DELIVERY_WAYS
                .iter()
                .find(|w| w.product_code == code)
                .ok_or_else(|| invalid(format!("winitProductCode {code} is not a delivery product (see queryDeliveryWay)")))?;
            let warehouse_code = d.req("warehouseCode")?;
            let warehouse = WAREHOUSES
                .iter()
                .find(|w| w.code == warehouse_code)
                .ok_or_else(|| invalid(format!("warehouseCode {warehouse_code} is not a Winit warehouse")))?;
            let products = lines(&d.list("merchandiseList")?, "merchandiseCode", "quantity")?;
            let num = stock.create_outbound(
                seller,
                warehouse.id,
                way.id,
                &d.req("shipperOrderNo")?,
                d.str("isRepeat").as_deref() != Some("N"),
                (&d.req("receiverName")?, &d.req("receiverCountry")?, &d.str("receiverState").unwrap_or_default(), &d.req("receiverCity")?),
                &d.str("receiverHouseNo").unwrap_or_default(),
                products,
                action == "wh.outbound.createSubmittedOrder",
                now,
            )?;
            Ok(json!({"orderNo": num, "splitType": "NONE", "orderNoList": [num]}))
        }
        "queryOutboundOrder" => {
            let order = stock.outbound(seller, &d.req("outboundOrderNum")?)?;
            Ok(stock.outbound_json(order, now))
        }
        "voidOutboundOrder" => {
            stock.void_outbound(seller, &d.req("outboundOrderNum")?, now)?;
            Ok(Value::String(String::new()))
        }
        "queryOutboundOrderList" => {
            let warehouse = d.str("warehouseId").map(|w| w.parse::<i64>().unwrap_or(-1));
            let seller_order_no = d.str("sellerOrderNo");
            let status = d.str("status");
            let matching: Vec<Value> = stock
                .outbound
                .iter()
                .filter(|o| o.seller == seller)
                .filter(|o| warehouse.is_none_or(|w| o.warehouse_id == w))
                .filter(|o| seller_order_no.as_deref().is_none_or(|s| o.seller_order_no == s))
                .filter(|o| {
                    let code = o.status(now).0;
                    match status.as_deref() {
                        None => true,
                        Some("valid") => code != "VO",
                        Some("outbound") => matches!(code, "DLI" | "DLC"),
                        Some("stockup") => matches!(code, "CFI" | "CF" | "PKI" | "PKC" | "PAI" | "PAC"),
                        Some(_) => false,
                    }
                })
                .map(|o| {
                    let full = stock.outbound_json(o, now);
                    json!({"documentNo": o.num, "status": full["status"], "trackingNo": full["trackingNum"],
                           "winitTrackingNo": full["winitTrackingNo"], "sellerOrderNo": o.seller_order_no})
                })
                .collect();
            let (num, size) = (d.opt_int("pageNum", 1)?, d.opt_int("pageSize", 20)?);
            let list = page(&matching, num, size)?;
            Ok(json!({"currentPageSize": list.len(), "total": matching.len(), "currentPageNum": num, "list": list}))
        }
        "queryWarehouseStorage" => {
            let id = d.int("warehouseID")?;
            if super::warehouse::warehouse(id).is_none() {
                return Err(invalid(format!("warehouseID {id} is not a Winit warehouse")));
            }
            let rows: Vec<Value> = stock
                .products
                .iter()
                .filter(|p| p.seller == seller)
                .filter_map(|p| stock.storage(seller, id, &p.code, now))
                .collect();
            let (num, size) = (d.opt_int("pageNum", 1)?, d.opt_int("pageSize", 20)?);
            let list = page(&rows, num, size)?;
            Ok(json!({"currentPageSize": list.len(), "total": rows.len(), "currentPageNum": num, "list": list}))
        }
        "queryProductInventoryList4Page" => {
            let inventory_type = d.req("inventoryType")?;
            let codes: Vec<i64> = match inventory_type.as_str() {
                "Warehouse" => {
                    let code = d.req("warehouseCode")?;
                    vec![WAREHOUSES.iter().find(|w| w.code == code).ok_or_else(|| invalid(format!("warehouseCode {code} is not a Winit warehouse")))?.id]
                }
                "Country" => WAREHOUSES.iter().map(|w| w.id).collect(),
                other => return Err(invalid(format!("inventoryType: expected Country or Warehouse, got {other:?}"))),
            };
            let product = d.str("productCode");
            let rows: Vec<Value> = codes
                .iter()
                .flat_map(|id| stock.products.iter().filter(|p| p.seller == seller).map(move |p| (*id, p)))
                .filter(|(_, p)| product.as_deref().is_none_or(|c| p.code == c))
                .filter_map(|(id, p)| stock.storage(seller, id, &p.code, now))
                .map(|row| json!({"productCode": row["productCode"], "warehouseCode": row["warehouseCode"], "qtyAvailable": row["qtyAvailable"],
                                  "qtyReserved": row["qtyWaitOut"], "qtyOrdered": row["pipelineInventory"], "inStockQty": row["inStockQty"], "DOI": 30}))
                .collect();
            let (num, size) = (d.opt_int("pageNum", 1)?, d.opt_int("pageSize", 20)?);
            let list = page(&rows, num, size)?;
            Ok(json!({"page": {"StartRow": (num - 1) * size, "NumRows": list.len(), "TotalRows": rows.len()}, "list": list}))
        }
        "registerProduct" => {
            let mut products = Vec::new();
            for item in d.list("productList")? {
                let p = Data(&item);
                let weight: f64 = p.req("registeredWeight")?.parse().map_err(|_| invalid("registeredWeight: grams"))?;
                products.push(Product {
                    seller: seller.into(),
                    code: p.req("productCode")?,
                    chinese_name: p.str("chineseName").unwrap_or_default(),
                    english_name: p.req("englishName")?,
                    weight_g: weight,
                    specification: p.str("specification").unwrap_or_default(),
                });
            }
            Ok(json!(stock.register_products(seller, products)))
        }
        "winit.mms.item.list" => {
            let params = data.get("pageParams").and_then(Value::as_object).cloned().unwrap_or_default();
            let params = Data(&params);
            let code = d.str("productCode");
            let items: Vec<Value> = stock
                .products
                .iter()
                .filter(|p| p.seller == seller && code.as_deref().is_none_or(|c| p.code == c))
                .map(|p| json!({"productCode": p.code, "chineseName": p.chinese_name, "englishName": p.english_name,
                                "registeredWeight": p.weight_g, "specification": p.specification}))
                .collect();
            let (no, size) = (params.opt_int("pageNo", 1)?, params.opt_int("pageSize", 20)?);
            let list = page(&items, no, size)?;
            Ok(json!({"list": list, "PageParams": {"totalCount": items.len(), "pageNo": no, "pageSize": size}}))
        }
        "tracking.getOrderVerdorTracking" => {
            let wanted = d.req("trackingnos")?;
            let numbers: Vec<&str> = wanted.split([',', ' ']).filter(|s| !s.is_empty()).collect();
            Ok(json!(stock
                .outbound
                .iter()
                .filter(|o| o.seller == seller && (numbers.contains(&o.num.as_str()) || numbers.contains(&o.tracking_no.as_str())))
                .map(|o| stock.tracking_json(o, now))
                .collect::<Vec<_>>()))
        }
        "queryTrack" => {
            let order = stock.outbound(seller, &d.req("outboundNum")?)?;
            let tracking = stock.tracking_json(order, now);
            Ok(json!(tracking["trace"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| json!({"scanlocation": e["location"], "scandateTime": e["date"], "trackingmess": e["eventDescription"], "status": e["eventCode"]}))
                .collect::<Vec<_>>()))
        }
        "winit.wh.inbound.order.create" => {
            let order_type = d.req("orderType")?;
            if !matches!(order_type.as_str(), "SD" | "DW" | "DI") {
                return Err(invalid(format!("orderType: expected SD, DW or DI, got {order_type:?}")));
            }
            d.req("winitProductCode")?;
            let mut all = Vec::new();
            for package in d.list("packageList")? {
                all.extend(lines(&Data(&package).list("merchandiseList")?, "merchandiseCode", "quantity")?);
            }
            let order_no = stock.create_inbound(seller, &d.req("destinationWarehouseCode")?, &d.req("sellerOrderNo")?, all, now)?;
            Ok(json!({"orderNo": order_no}))
        }
        "winit.wh.inbound.getOrderList" => {
            let seller_order_no = d.str("sellerOrderNo");
            let orders: Vec<Value> = stock
                .inbound
                .iter()
                .filter(|o| o.seller == seller && seller_order_no.as_deref().is_none_or(|s| o.seller_order_no == s))
                .map(|o| stock.inbound_json(o, now))
                .collect();
            let list = page(&orders, d.opt_int("pageNo", 1)?, d.opt_int("pageSize", 20)?)?;
            Ok(json!({"list": list, "total": orders.len()}))
        }
        "winit.wh.inbound.getOrderDetail" => Ok(stock.inbound_json(stock.inbound(seller, &d.req("orderNo")?)?, now)),
        "winit.wh.inbound.voidOrder" => {
            stock.void_inbound(seller, &d.req("orderNo")?, now)?;
            Ok(Value::String(String::new()))
        }
        "rma.returnGoodsOrder.createReturnGoodsOrder" => {
            let returned = lines(&d.list("productList")?, "merchandiseCode", "quantity")?;
            stock.create_return(seller, &d.req("outboundOrderNum")?, returned, now)
        }
        "rma.returnGoodsOrder.queryReturnOderList" => {
            let outbound = d.str("outboundOrderNum");
            let orders: Vec<Value> = stock
                .returns
                .iter()
                .filter(|r| r.seller == seller && outbound.as_deref().is_none_or(|o| r.outbound_num == o))
                .map(|r| return_json(r, now))
                .collect();
            let list = page(&orders, d.opt_int("pageNum", 1)?, d.opt_int("pageSize", 20)?)?;
            Ok(json!({"list": list, "total": orders.len()}))
        }
        other => Err(err("1008", format!("action {other:?} does not exist"))),
    }
}

pub async fn handle(State(state): State<Arc<SandboxState>>, body: Bytes) -> Response {
    let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(&body) else {
        return error(&err(
            "1001",
            "the body must be the JSON envelope {action, app_key, client_id, client_sign, data, ...}",
        ));
    };
    let now = state.clock.now_ms();
    let mut winit = state.winit();
    let seller = match check_envelope(&mut winit, &envelope, now) {
        Ok(seller) => seller,
        Err(rejection) => return error(&rejection),
    };
    let empty = Map::new();
    let data = envelope
        .get("data")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let action = envelope
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match run(&mut winit, &seller, action, data, now) {
        Ok(data) => reply("0", "操作成功", data),
        Err(rejection) => error(&rejection),
    }
}
