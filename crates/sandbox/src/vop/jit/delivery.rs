//! JitDeliveryService: POs, picks, deliveries and their checks (what was picked, what is left,
//! empty deliveries, confirmed deliveries that can no longer change).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::super::args::Args;
use super::super::datetime;
use super::super::gateway::{Call, GatewayError};
use super::data::{CARRIERS, DeliveryLine, JitData, PickLine, Po, SimDelivery, SimPick, Vendor};
use super::{DELIVERY_SERVICE, page_of, paging, rejected, vendor_of};
use crate::vop::union::catalog::yuan;

fn err(message: impl Into<String>) -> GatewayError {
    rejected(DELIVERY_SERVICE, message)
}

fn po<'a>(vendor: &'a Vendor, po_no: &str) -> Result<&'a Po, GatewayError> {
    vendor
        .pos
        .iter()
        .find(|po| po.po_no == po_no)
        .ok_or_else(|| {
            err(format!(
                "po_no {po_no} is not a PO of vendor {}",
                vendor.vendor_id
            ))
        })
}

fn not_picked(po: &Po) -> i64 {
    po.skus.iter().map(|sku| sku.amount - sku.picked).sum()
}

fn po_json(vendor: &Vendor, po: &Po) -> Value {
    json!({
        "po_no": po.po_no,
        "co_mode": po.co_mode,
        "sell_st_time": datetime::format(po.sell_st_ms),
        "sell_et_time": datetime::format(po.sell_et_ms),
        "stock": po.skus.iter().map(|s| s.amount).sum::<i64>().to_string(),
        "sales_volume": "0",
        "not_pick": not_picked(po).to_string(),
        "trade_mode": "普通",
        "schedule_id": format!("S{}", po.po_no),
        "vendor_name": vendor.name,
        "brand_name": po.brand_name,
        "warehouse": po.warehouse,
        "schedule_name": po.schedule_name,
        "po_start_time": datetime::format(po.start_ms),
        "cooperation_no": format!("{}", vendor.vendor_id * 10),
    })
}

fn time_range(args: &Args<'_>, start: &str, end: &str) -> Result<Option<(i64, i64)>, GatewayError> {
    let read = |field: &str| -> Result<Option<i64>, GatewayError> {
        match args.opt_str(field)? {
            None => Ok(None),
            Some(text) => datetime::parse(text).map(Some).ok_or_else(|| {
                GatewayError::invalid_argument(format!(
                    "{field}: expected yyyy-MM-dd HH:mm:ss, got {text:?}"
                ))
            }),
        }
    };
    Ok(match (read(start)?, read(end)?) {
        (None, None) => None,
        (from, to) => Some((from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX))),
    })
}

fn get_po_list(vendor: &Vendor, args: &Args<'_>) -> Result<Value, GatewayError> {
    let (page, limit) = paging(args)?;
    let po_no = args.opt_str("po_no")?;
    let co_mode = args.opt_str("co_mode")?;
    let by_start = time_range(args, "st_po_start_time", "et_po_start_time")?;
    let by_sell = time_range(args, "st_sell_st_time", "et_sell_st_time")?;
    // With no sell-time range, the POs that still need picking (the method's documented default).
    let needing_pick = by_sell.is_none() && po_no.is_none() && by_start.is_none();
    let list: Vec<Value> = vendor
        .pos
        .iter()
        .filter(|po| po_no.is_none_or(|no| po.po_no == no))
        .filter(|po| co_mode.is_none_or(|mode| po.co_mode == mode))
        .filter(|po| by_start.is_none_or(|(from, to)| (from..=to).contains(&po.start_ms)))
        .filter(|po| by_sell.is_none_or(|(from, to)| (from..=to).contains(&po.sell_st_ms)))
        .filter(|po| !needing_pick || not_picked(po) > 0)
        .map(|po| po_json(vendor, po))
        .collect();
    Ok(page_of(list, "purchase_order_list", page, limit))
}

fn get_po_sku_list(vendor: &Vendor, args: &Args<'_>) -> Result<Value, GatewayError> {
    let (page, limit) = paging(args)?;
    let po = po(vendor, args.req_str("po_no")?)?;
    let status = args.opt_str("order_status")?;
    let list: Vec<Value> = po
        .skus
        .iter()
        .map(|sku| {
            let product = vendor.product(&sku.barcode);
            let supply = product.map_or(0, |p| p.supply_price_fen);
            let state = if sku.picked == 0 { "10" } else { "20" };
            json!({
                "po_no": po.po_no,
                "sell_site": "VIP",
                "warehouse": po.warehouse,
                "barcode": sku.barcode,
                "product_name": product.map(|p| p.name.clone()),
                "amount": sku.amount,
                "order_cate": "single",
                "order_status": state,
                "create_time": datetime::format(po.start_ms),
                "audit_time": datetime::format(po.start_ms),
                "actual_unit_price": yuan(supply),
                "actual_market_price": yuan(supply * 113 / 100),
            })
        })
        .filter(|sku| status.is_none_or(|s| sku["order_status"] == s))
        .collect();
    Ok(page_of(list, "purchase_order_sku_list", page, limit))
}

fn create_pick(
    vendor: &mut Vendor,
    rng: &mut ChaCha8Rng,
    args: &Args<'_>,
    now: i64,
) -> Result<Value, GatewayError> {
    let po_numbers: Vec<String> = args
        .req_str("po_no")?
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    for po_no in &po_numbers {
        let po = po(vendor, po_no)?;
        if not_picked(po) == 0 {
            return Err(err(format!("po_no {po_no}: every SKU is already picked")));
        }
    }
    let mut created = Vec::new();
    for po_no in po_numbers {
        let Some(po) = vendor.pos.iter_mut().find(|po| po.po_no == po_no) else {
            continue;
        };
        let lines: Vec<PickLine> = po
            .skus
            .iter_mut()
            .filter(|sku| sku.amount > sku.picked)
            .map(|sku| {
                let picked = sku.amount - sku.picked;
                sku.picked = sku.amount;
                PickLine {
                    barcode: sku.barcode.clone(),
                    picked,
                    delivered: 0,
                }
            })
            .collect();
        let pick = SimPick {
            pick_no: format!("PICK-{po_no}-{}", rng.random_range(1..1_000)),
            po_no: po_no.clone(),
            warehouse: po.warehouse,
            created_ms: now,
            lines,
        };
        created.push(
            json!({"pick_no": pick.pick_no, "pick_type": "normal", "warehouse": pick.warehouse}),
        );
        vendor.picks.push(pick);
    }
    Ok(Value::Array(created))
}

fn undelivered(vendor: &Vendor, pick: &SimPick, barcode: &str) -> i64 {
    pick.lines
        .iter()
        .filter(|l| l.barcode == barcode)
        .map(|l| l.picked - l.delivered)
        .sum::<i64>()
        - vendor
            .deliveries
            .iter()
            .filter(|d| d.confirmed_ms.is_none())
            .flat_map(|d| d.lines.iter())
            .filter(|l| l.pick_no == pick.pick_no && l.barcode == barcode)
            .map(|l| l.amount)
            .sum::<i64>()
}

fn get_pick_list(vendor: &Vendor, args: &Args<'_>) -> Result<Value, GatewayError> {
    let (page, limit) = paging(args)?;
    let po_no = args.opt_str("po_no")?;
    let pick_no = args.opt_str("pick_no")?;
    let warehouse = args.opt_str("warehouse")?;
    let list: Vec<Value> = vendor
        .picks
        .iter()
        .filter(|p| po_no.is_none_or(|no| no.split(',').any(|n| n.trim() == p.po_no)))
        .filter(|p| pick_no.is_none_or(|no| p.pick_no == no))
        .filter(|p| warehouse.is_none_or(|w| p.warehouse == w))
        .map(|p| {
            let picked: i64 = p.lines.iter().map(|l| l.picked).sum();
            let delivered: i64 = p.lines.iter().map(|l| l.delivered).sum();
            json!({
                "po_no": p.po_no, "pick_no": p.pick_no, "co_mode": "jit", "sell_site": "VIP", "order_cate": "single",
                "pick_num": picked, "create_time": datetime::format(p.created_ms), "export_num": 0,
                "delivery_status": i32::from(delivered >= picked), "delivery_num": delivered, "warehouse": p.warehouse,
            })
        })
        .collect();
    Ok(page_of(list, "picks", page, limit))
}

fn get_pick_detail(vendor: &Vendor, args: &Args<'_>) -> Result<Value, GatewayError> {
    let (page, limit) = paging(args)?;
    let po_no = args.req_str("po_no")?;
    let pick_no = args.req_str("pick_no")?;
    let po = po(vendor, po_no)?;
    let pick = vendor
        .picks
        .iter()
        .find(|p| p.pick_no == pick_no && p.po_no == po_no)
        .ok_or_else(|| err(format!("pick_no {pick_no} is not a pick of PO {po_no}")))?;
    let products: Vec<Value> = pick
        .lines
        .iter()
        .map(|line| {
            let product = vendor.product(&line.barcode);
            json!({
                "stock": line.picked,
                "barcode": line.barcode,
                "art_no": product.map(|p| p.sn.clone()),
                "product_name": product.map(|p| p.name.clone()),
                "size": product.map(|p| p.size),
                "not_delivery_num": undelivered(vendor, pick, &line.barcode),
            })
        })
        .collect();
    let total = products.len();
    Ok(json!({
        "po_no": po.po_no,
        "sell_st_time": datetime::format(po.sell_st_ms),
        "sell_et_time": datetime::format(po.sell_et_ms),
        "warehouse": pick.warehouse,
        "order_cate": "single",
        "pick_product_list": products.into_iter().skip((page - 1) * limit).take(limit).collect::<Vec<_>>(),
        "total": total,
    }))
}

fn carrier(code: &str) -> Result<&'static super::data::SimCarrier, GatewayError> {
    CARRIERS
        .iter()
        .find(|c| c.code == code)
        .ok_or_else(|| err(format!("carrier_code {code:?} is not in the carrier list")))
}

fn create_delivery(
    vendor: &mut Vendor,
    rng: &mut ChaCha8Rng,
    args: &Args<'_>,
    now: i64,
) -> Result<Value, GatewayError> {
    let po_no = args.req_str("po_no")?;
    let delivery_no = args.req_str("delivery_no")?;
    let warehouse = args.req_str("warehouse")?;
    let arrival = args.req_str("arrival_time")?;
    args.req_str("carrier_name")?;
    let carrier = carrier(args.req_str("carrier_code")?)?;
    let po = po(vendor, po_no)?;
    if po.warehouse != warehouse {
        return Err(err(format!(
            "warehouse {warehouse}: PO {po_no} is for {}",
            po.warehouse
        )));
    }
    if datetime::parse(arrival).is_none() {
        return Err(GatewayError::invalid_argument(format!(
            "arrival_time: expected yyyy-MM-dd HH:mm:ss, got {arrival:?}"
        )));
    }
    let method = args.opt_str("delivery_method")?.unwrap_or("1");
    if !matches!(method, "1" | "2") {
        return Err(GatewayError::invalid_argument(format!(
            "delivery_method: expected 1 or 2, got {method:?}"
        )));
    }
    let storage_no = format!(
        "RK{}{:06}",
        vendor.vendor_id,
        rng.random_range(0..1_000_000)
    );
    let delivery = SimDelivery {
        storage_no: storage_no.clone(),
        delivery_id: format!("{}", rng.random_range(10_000_000..99_999_999)),
        po_no: po_no.to_owned(),
        delivery_no: delivery_no.to_owned(),
        warehouse: warehouse.to_owned(),
        carrier_code: carrier.code.to_owned(),
        carrier_name: carrier.name.to_owned(),
        arrival_time: arrival.to_owned(),
        delivery_method: method.to_owned(),
        created_ms: now,
        lines: Vec::new(),
        confirmed_ms: None,
    };
    let answer = json!({"delivery_id": delivery.delivery_id, "storage_no": storage_no});
    vendor.deliveries.push(delivery);
    Ok(answer)
}

fn open_delivery<'a>(
    vendor: &'a mut Vendor,
    storage_no: &str,
) -> Result<&'a mut SimDelivery, GatewayError> {
    let vendor_id = vendor.vendor_id;
    let delivery = vendor
        .deliveries
        .iter_mut()
        .find(|d| d.storage_no == storage_no)
        .ok_or_else(|| {
            err(format!(
                "storage_no {storage_no} is not a delivery of vendor {vendor_id}"
            ))
        })?;
    if delivery.confirmed_ms.is_some() {
        return Err(err(format!(
            "storage_no {storage_no} is already confirmed and cannot change"
        )));
    }
    Ok(delivery)
}

fn import_delivery_detail(vendor: &mut Vendor, args: &Args<'_>) -> Result<Value, GatewayError> {
    let po_no = args.req_str("po_no")?.to_owned();
    let storage_no = args.req_str("storage_no")?.to_owned();
    let items = match args.object.get("delivery_list") {
        Some(Value::Array(items)) if !items.is_empty() => items.clone(),
        _ => {
            return Err(GatewayError::new(
                "vipapis.miss-parameter",
                "缺少参数: delivery_list (at least one box line)",
            ));
        }
    };
    {
        let delivery = open_delivery(vendor, &storage_no)?;
        if delivery.po_no != po_no {
            return Err(err(format!(
                "storage_no {storage_no} belongs to PO {}, not {po_no}",
                delivery.po_no
            )));
        }
    }
    // Validate every line before changing anything.
    let mut lines = Vec::new();
    let mut wanted: std::collections::HashMap<(String, String), i64> =
        std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(object) = item else {
            return Err(GatewayError::invalid_argument(format!(
                "delivery_list[{i}]: expected an object"
            )));
        };
        let line = Args {
            prefix: format!("delivery_list[{i}]"),
            object,
        };
        let vendor_type = line.req_str("vendor_type")?;
        if !matches!(vendor_type, "COMMON" | "3PL") {
            return Err(GatewayError::invalid_argument(format!(
                "delivery_list[{i}].vendor_type: expected COMMON or 3PL, got {vendor_type:?}"
            )));
        }
        let barcode = line.req_str("barcode")?.to_owned();
        let box_no = line.req_str("box_no")?.to_owned();
        let amount = line.opt_i64("amount")?.unwrap_or(0);
        if amount <= 0 {
            return Err(GatewayError::invalid_argument(format!(
                "delivery_list[{i}].amount: expected a positive quantity, got {amount}"
            )));
        }
        let pick = match line.opt_str("pick_no")? {
            Some(pick_no) => vendor
                .picks
                .iter()
                .find(|p| p.pick_no == pick_no && p.po_no == po_no),
            None => vendor
                .picks
                .iter()
                .find(|p| p.po_no == po_no && p.lines.iter().any(|l| l.barcode == barcode)),
        }
        .ok_or_else(|| {
            err(format!(
                "delivery_list[{i}]: barcode {barcode} was not picked for PO {po_no}"
            ))
        })?;
        if !pick.lines.iter().any(|l| l.barcode == barcode) {
            return Err(err(format!(
                "delivery_list[{i}]: barcode {barcode} is not in pick {}",
                pick.pick_no
            )));
        }
        let key = (pick.pick_no.clone(), barcode.clone());
        let total = wanted.entry(key).or_insert(0);
        *total += amount;
        let left = undelivered(vendor, pick, &barcode);
        if *total > left {
            return Err(err(format!(
                "delivery_list[{i}]: delivering {} of barcode {barcode}, but only {left} picked and not yet delivered",
                *total
            )));
        }
        lines.push(DeliveryLine {
            barcode,
            box_no,
            pick_no: pick.pick_no.clone(),
            amount,
        });
    }
    open_delivery(vendor, &storage_no)?.lines.extend(lines);
    Ok(json!("success"))
}

fn confirm(vendor: &mut Vendor, storage_no: &str, now: i64) -> Result<Value, GatewayError> {
    let delivery = open_delivery(vendor, storage_no)?;
    if delivery.lines.is_empty() {
        return Err(err(format!(
            "storage_no {storage_no} is empty: import its boxes before confirming"
        )));
    }
    delivery.confirmed_ms = Some(now);
    let lines = delivery.lines.clone();
    for line in lines {
        if let Some(pick_line) = vendor
            .picks
            .iter_mut()
            .find(|p| p.pick_no == line.pick_no)
            .and_then(|p| p.lines.iter_mut().find(|l| l.barcode == line.barcode))
        {
            pick_line.delivered += line.amount;
        }
    }
    Ok(json!("success"))
}

fn edit_delivery(vendor: &mut Vendor, args: &Args<'_>) -> Result<Value, GatewayError> {
    let storage_no = args.req_str("storage_no")?.to_owned();
    args.req_str("warehouse")?;
    args.req_str("delivery_time")?;
    args.req_str("race_time")?;
    let carrier = carrier(args.req_str("carrier_code")?)?;
    let delivery_no = args.opt_str("delivery_no")?.map(str::to_owned);
    let arrival = args.opt_str("arrival_time")?.map(str::to_owned);
    let delivery = open_delivery(vendor, &storage_no)?;
    delivery.carrier_code = carrier.code.to_owned();
    delivery.carrier_name = carrier.name.to_owned();
    if let Some(no) = delivery_no {
        delivery.delivery_no = no;
    }
    if let Some(arrival) = arrival {
        delivery.arrival_time = arrival;
    }
    Ok(json!("success"))
}

fn delivery_json(vendor: &Vendor, d: &SimDelivery) -> Value {
    json!({
        "vendor_id": vendor.vendor_id.to_string(),
        "vendor_name": vendor.name,
        "po_no": d.po_no,
        "delivery_no": d.delivery_no,
        "warehouse": d.warehouse,
        "storage_no": d.storage_no,
        "out_time": d.confirmed_ms.map(datetime::format),
        "arrive_time": d.arrival_time,
        "out_flag": i32::from(d.confirmed_ms.is_some()),
        "create_time": datetime::format(d.created_ms),
        "delivery_time": d.confirmed_ms.map(datetime::format),
        "carrier_code": d.carrier_code,
        "carrier_name": d.carrier_name,
        "delivery_method": d.delivery_method,
    })
}

pub fn handle(
    jit: &mut JitData,
    rng: &mut ChaCha8Rng,
    call: &Call<'_>,
) -> Result<Value, GatewayError> {
    let now = call.now_ms;
    let body = call.body;
    match call.method {
        "getCarrierList" => {
            let args = Args::wrapped(body, "carrierRequest")?;
            vendor_of(jit, call, &args)?;
            let (page, limit) = paging(&args)?;
            let code = args.opt_str("carrier_code")?;
            let name = args.opt_str("carrier_name")?;
            let list: Vec<Value> = CARRIERS
                .iter()
                .filter(|c| code.is_none_or(|code| c.code == code) && name.is_none_or(|name| c.name.contains(name)))
                .enumerate()
                .map(|(i, c)| json!({"tms_carrier_id": format!("{}", 100 + i), "carrier_name": c.name, "carrier_shortname": c.name, "carrier_code": c.code, "carrier_isvalid": 1}))
                .collect();
            Ok(page_of(list, "carriers", page, limit))
        }
        "confirmDeliveryInfo" => {
            let args = Args::wrapped(body, "confirmRequest")?;
            let vendor = vendor_of(jit, call, &args)?;
            let storage_no = args.req_str("storage_no")?.to_owned();
            let carrier = carrier(args.req_str("carrier_code")?)?;
            let delivery_no = args.req_str("delivery_no")?.to_owned();
            let method = args.req_str("delivery_method")?.to_owned();
            let delivery = open_delivery(vendor, &storage_no)?;
            delivery.carrier_code = carrier.code.to_owned();
            delivery.carrier_name = carrier.name.to_owned();
            delivery.delivery_no = delivery_no;
            delivery.delivery_method = method;
            confirm(vendor, &storage_no, now)
        }
        "getSkuPriceInfo" => {
            let args = Args::wrapped(body, "request")?;
            let vendor = vendor_of(jit, call, &args)?;
            let po = po(vendor, args.req_str("po_no")?)?;
            let barcodes = args.str_list("barcodes")?;
            if barcodes.is_empty() || barcodes.len() > 200 {
                return Err(GatewayError::invalid_argument(format!(
                    "request.barcodes: expected 1 to 200, got {}",
                    barcodes.len()
                )));
            }
            let prices: Vec<Value> = barcodes
                .iter()
                .filter(|b| po.skus.iter().any(|s| s.barcode == **b))
                .filter_map(|b| vendor.product(b))
                .map(|p| json!({"barcode": p.barcode, "actual_unit_price": yuan(p.supply_price_fen), "actual_market_price": yuan(p.supply_price_fen * 113 / 100)}))
                .collect();
            Ok(json!({"price_list": prices}))
        }
        method => {
            let args = Args::top(body)?;
            let vendor = vendor_of(jit, call, &args)?;
            match method {
                "getPoList" => get_po_list(vendor, &args),
                "getPoSkuList" => get_po_sku_list(vendor, &args),
                "createPick" => create_pick(vendor, rng, &args, now),
                "getPickList" => get_pick_list(vendor, &args),
                "getPickDetail" => get_pick_detail(vendor, &args),
                "createDelivery" => create_delivery(vendor, rng, &args, now),
                "importDeliveryDetail" => import_delivery_detail(vendor, &args),
                "confirmDelivery" => confirm(vendor, args.req_str("storage_no")?, now),
                "editDelivery" => edit_delivery(vendor, &args),
                "deleteDeliveryDetail" => {
                    let delivery = open_delivery(vendor, args.req_str("storage_no")?)?;
                    let removed: Vec<Value> = delivery
                        .lines
                        .drain(..)
                        .map(|l| json!({"barcode": l.barcode, "box_no": l.box_no, "amount": l.amount}))
                        .collect();
                    Ok(Value::Array(removed))
                }
                "getDeliveryList" => {
                    let (page, limit) = paging(&args)?;
                    let po_no = args.opt_str("po_no")?;
                    let storage_no = args.opt_str("storage_no")?;
                    let out_flag = args.opt_i64("out_flag")?;
                    let list: Vec<Value> = vendor
                        .deliveries
                        .iter()
                        .filter(|d| po_no.is_none_or(|no| d.po_no == no))
                        .filter(|d| storage_no.is_none_or(|no| d.storage_no == no))
                        .filter(|d| {
                            out_flag.is_none_or(|flag| i64::from(d.confirmed_ms.is_some()) == flag)
                        })
                        .map(|d| delivery_json(vendor, d))
                        .collect();
                    Ok(page_of(list, "delivery_list", page, limit))
                }
                "getPrintDelivery" => {
                    let storage_no = args.req_str("storage_no")?;
                    let po_no = args.req_str("po_no")?;
                    let box_no = args.opt_str("box_no")?;
                    let delivery = vendor
                        .deliveries
                        .iter()
                        .find(|d| d.storage_no == storage_no && d.po_no == po_no)
                        .ok_or_else(|| {
                            err(format!("storage_no {storage_no} of PO {po_no} not found"))
                        })?;
                    let lines: Vec<String> = delivery
                        .lines
                        .iter()
                        .filter(|l| box_no.is_none_or(|b| l.box_no == b))
                        .map(|l| format!("{}\t{}\t{}", l.box_no, l.barcode, l.amount))
                        .collect();
                    let template = format!(
                        "送货单 {storage_no}\nPO {po_no} -> {}\n承运商 {} 运单 {}\n箱号\t条码\t数量\n{}",
                        delivery.warehouse,
                        delivery.carrier_name,
                        delivery.delivery_no,
                        lines.join("\n")
                    );
                    Ok(json!({"template": template, "total": lines.len()}))
                }
                other => Err(GatewayError::new(
                    "vipapis.path.Error",
                    format!("no method {DELIVERY_SERVICE}.{other}"),
                )),
            }
        }
    }
}
