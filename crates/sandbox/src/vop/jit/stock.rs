//! InventoryService, VendorProductService and VendorReturnService of the simulator.

use serde_json::{Value, json};

use super::super::args::Args;
use super::super::datetime;
use super::super::gateway::{Call, GatewayError};
use super::data::{JitData, Vendor, WAREHOUSES};
use super::{
    INVENTORY_SERVICE, PRODUCT_SERVICE, RETURN_SERVICE, page_of, paging, rejected, vendor_of,
};
use crate::vop::union::catalog::yuan;

fn warehouse_arg<'a>(args: &Args<'a>, required: bool) -> Result<Option<&'a str>, GatewayError> {
    let warehouse = if required {
        Some(args.req_str("warehouse")?)
    } else {
        args.opt_str("warehouse")?
    };
    if let Some(name) = warehouse
        && !WAREHOUSES.contains(&name)
    {
        return Err(GatewayError::invalid_argument(format!(
            "{}: {name:?} is not a warehouse of this vendor (expected one of {})",
            args.path("warehouse"),
            WAREHOUSES.join(", ")
        )));
    }
    Ok(warehouse)
}

/// `updateInventory`. Without a warehouse the vendor's main warehouse (the first) is meant.
/// A full sync, or a decrement, that lowers the stock by more than the circuit-break value is
/// refused until it is resent with `circuit_break_ack_flag=1` (熔断确认). A refused update
/// changes nothing and does not use up its `batch_no`.
fn update_inventory(vendor: &mut Vendor, args: &Args<'_>) -> Result<Value, GatewayError> {
    let err = |message: String| rejected(INVENTORY_SERVICE, message);
    let barcode = args.req_str("barcode")?;
    let batch_no = args.req_str("batch_no")?;
    if batch_no.chars().count() > 40 {
        return Err(GatewayError::invalid_argument(
            "request.batch_no: at most 40 characters",
        ));
    }
    let quantity = args
        .opt_i64("quantity")?
        .ok_or_else(|| GatewayError::new("vipapis.miss-parameter", "缺少参数: request.quantity"))?;
    let mode = args.opt_i64("sync_mode")?.unwrap_or(0);
    if !matches!(mode, 0 | 1) {
        return Err(GatewayError::invalid_argument(format!(
            "request.sync_mode: expected 0 (全量) or 1 (增量), got {mode}"
        )));
    }
    let ack = args.opt_i64("circuit_break_ack_flag")?.unwrap_or(0) == 1;
    let warehouse = warehouse_arg(args, false)?
        .unwrap_or(WAREHOUSES[0])
        .to_owned();
    if vendor.product(barcode).is_none() {
        return Err(err(format!(
            "barcode {barcode} is not a product of vendor {}",
            vendor.vendor_id
        )));
    }
    if vendor.batch_nos.contains(batch_no) {
        return Err(err(format!(
            "batch_no {batch_no} was already used by vendor {}: use a new one",
            vendor.vendor_id
        )));
    }
    let stock = vendor
        .stock
        .get_mut(&(warehouse.clone(), barcode.to_owned()))
        .ok_or_else(|| err(format!("barcode {barcode} has no stock row in {warehouse}")))?;
    let new = if mode == 0 {
        if quantity < 0 {
            return Err(GatewayError::invalid_argument(format!(
                "request.quantity: a full sync needs 0 or more, got {quantity}"
            )));
        }
        quantity
    } else {
        stock.leaving + quantity
    };
    if new < 0 {
        return Err(err(format!(
            "barcode {barcode}: {} - {} would leave a negative stock",
            stock.leaving, -quantity
        )));
    }
    let drop = stock.leaving - new;
    if drop > stock.circuit_break_value && !ack {
        return Err(err(format!(
            "触发熔断: barcode {barcode} in {warehouse} would drop from {} to {new}, more than the circuit-break value {}; resend with circuit_break_ack_flag=1 to confirm",
            stock.leaving, stock.circuit_break_value
        )));
    }
    stock.leaving = new;
    vendor.batch_nos.insert(batch_no.to_owned());
    Ok(Value::Null)
}

fn get_sku_stock(vendor: &Vendor, args: &Args<'_>) -> Result<Value, GatewayError> {
    let barcode = args.req_str("barcode")?;
    let warehouse = warehouse_arg(args, false)?;
    if vendor.product(barcode).is_none() {
        return Err(rejected(
            INVENTORY_SERVICE,
            format!(
                "barcode {barcode} is not a product of vendor {}",
                vendor.vendor_id
            ),
        ));
    }
    let rows: Vec<Value> = WAREHOUSES
        .iter()
        .filter(|w| warehouse.is_none_or(|wanted| wanted == **w))
        .filter_map(|w| {
            vendor
                .stock
                .get(&((*w).to_owned(), barcode.to_owned()))
                .map(|s| (w, s))
        })
        .map(|(w, s)| {
            json!({
                "cooperation_no": format!("{}", vendor.vendor_id * 10),
                "warehouse": w,
                "barcode": barcode,
                "leaving_stock": s.leaving,
                "current_hold": s.hold,
                "circuit_break_value": s.circuit_break_value,
            })
        })
        .collect();
    Ok(Value::Array(rows))
}

fn sku_json(vendor: &Vendor, p: &super::data::SimProduct) -> Value {
    json!({
        "vendor_id": vendor.vendor_id,
        "brand_id": p.brand_id,
        "product_name": p.name,
        "category_id": p.category_id,
        "sn": p.sn,
        "barcode": p.barcode,
        "size": p.size,
        "color": p.color,
        "market_price": yuan(p.market_price_fen),
        "sell_price": yuan(p.sell_price_fen),
        "supply_price": yuan(p.supply_price_fen),
        "tax_rate": "0.13",
        "images": [format!("https://a.vpimg.com/sandbox/{}.jpg", p.sn)],
        "status": i32::from(p.on_sale),
    })
}

fn products(vendor: &Vendor, args: &Args<'_>, by_spu: bool) -> Result<Value, GatewayError> {
    let (page, limit) = paging(args)?;
    let barcode = args.opt_str("barcode")?;
    let brand = args.opt_str("brand_id")?;
    let category = args.opt_str("category_id")?;
    let sn = args.opt_str("sn")?;
    let status = args.opt_i64("status")?;
    let source = args.opt_i64("source")?.unwrap_or(1);
    if !matches!(source, 0 | 1) {
        return Err(GatewayError::invalid_argument(format!(
            "source: expected 0 (草稿库) or 1 (发布库), got {source}"
        )));
    }
    let matching: Vec<&super::data::SimProduct> = vendor
        .products
        .iter()
        .filter(|_| source == 1)
        .filter(|p| barcode.is_none_or(|b| p.barcode == b))
        .filter(|p| brand.is_none_or(|b| p.brand_id == b))
        .filter(|p| category.is_none_or(|c| p.category_id == c))
        .filter(|p| sn.is_none_or(|s| p.sn == s))
        .filter(|p| status.is_none_or(|s| i64::from(p.on_sale) == s))
        .collect();
    if !by_spu {
        let list = matching.iter().map(|p| sku_json(vendor, p)).collect();
        return Ok(page_of(list, "products", page, limit));
    }
    let mut spus: Vec<Value> = Vec::new();
    for p in matching {
        match spus.iter_mut().find(|spu| spu["sn"] == p.sn.as_str()) {
            Some(spu) => {
                if let Some(barcodes) = spu["barcodes"].as_array_mut() {
                    barcodes.push(json!(p.barcode));
                }
            }
            None => spus.push(json!({
                "sn": p.sn, "brand_id": p.brand_id, "product_name": p.name, "category_id": p.category_id,
                "market_price": yuan(p.market_price_fen), "sell_price": yuan(p.sell_price_fen),
                "status": i32::from(p.on_sale), "barcodes": [p.barcode],
            })),
        }
    }
    Ok(page_of(spus, "products", page, limit))
}

fn returns(vendor: &Vendor, args: &Args<'_>, detail: bool) -> Result<Value, GatewayError> {
    let (page, limit) = paging(args)?;
    let warehouse = warehouse_arg(args, true)?.unwrap_or_default();
    let return_sn = args.opt_str("return_sn")?;
    let (start_field, end_field) = if detail {
        ("out_time_start", "out_time_end")
    } else {
        ("st_create_time", "ed_create_time")
    };
    let parse = |field: &str| -> Result<Option<i64>, GatewayError> {
        args.opt_str(field)?
            .map(|text| {
                datetime::parse(text).ok_or_else(|| {
                    GatewayError::invalid_argument(format!(
                        "{field}: expected yyyy-MM-dd HH:mm:ss, got {text:?}"
                    ))
                })
            })
            .transpose()
    };
    let (start, end) = (parse(start_field)?, parse(end_field)?);
    let list: Vec<Value> = vendor
        .returns
        .iter()
        .filter(|r| r.warehouse == warehouse && return_sn.is_none_or(|sn| r.return_sn == sn))
        .filter(|r| {
            let at = if detail { r.out_ms } else { r.created_ms };
            start.is_none_or(|s| at >= s) && end.is_none_or(|e| at <= e)
        })
        .map(|r| {
            if detail {
                json!({
                    "return_sn": r.return_sn,
                    "out_time": datetime::format(r.out_ms),
                    "total_cases": 1,
                    "total_skus": r.lines.len(),
                    "total_qtys": r.lines.iter().map(|l| l.qty).sum::<i64>(),
                    "delivery_list": r.lines.iter().map(|l| json!({
                        "barcode": l.barcode, "product_name": l.name, "grade": "A", "po_no": l.po_no, "qty": l.qty, "box_no": l.box_no,
                    })).collect::<Vec<_>>(),
                })
            } else {
                json!({
                    "return_sn": r.return_sn, "warehouse": r.warehouse, "return_type": r.return_type, "pay_type": "寄付",
                    "consignee": vendor.name, "country": "中国", "state": "广东省", "city": "广州市", "region": "海珠区",
                    "address": "新港东路 1 号", "telephone": "020-00000000", "create_time": datetime::format(r.created_ms),
                })
            }
        })
        .collect();
    Ok(page_of(
        list,
        if detail {
            "returnDeliveryInfos"
        } else {
            "returnInfos"
        },
        page,
        limit,
    ))
}

pub fn handle(jit: &mut JitData, call: &Call<'_>) -> Result<Value, GatewayError> {
    if call.method == "updateInventory" {
        let args = Args::wrapped(call.body, "request")?;
        let vendor = vendor_of(jit, call, &args)?;
        return update_inventory(vendor, &args);
    }
    let args = Args::top(call.body)?;
    let vendor = vendor_of(jit, call, &args)?;
    match (call.service, call.method) {
        (INVENTORY_SERVICE, "getSkuStock") => get_sku_stock(vendor, &args),
        (PRODUCT_SERVICE, "multiGetProductSkuInfo") => products(vendor, &args, false),
        (PRODUCT_SERVICE, "multiGetProductSpuInfo") => products(vendor, &args, true),
        (RETURN_SERVICE, "getReturnInfo") => returns(vendor, &args, false),
        (RETURN_SERVICE, "getReturnDetail") => returns(vendor, &args, true),
        (service, method) => Err(GatewayError::new(
            "vipapis.path.Error",
            format!("no method {service}.{method}"),
        )),
    }
}
