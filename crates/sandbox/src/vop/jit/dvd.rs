//! DvdDeliveryService (JIT direct ship) of the simulator: buyers' orders that the vendor ships,
//! and that get collected, signed, cancelled or returned as the simulated clock moves.

use serde_json::{Value, json};

use super::super::args::Args;
use super::super::datetime;
use super::super::gateway::{Call, GatewayError};
use super::data::{CARRIERS, DvdOrder, Fate, JitData, Shipped};
use super::{DVD_SERVICE, page_of, paging, rejected, vendor_of};
use crate::vop::union::catalog::yuan;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// The order's `order_status` at `now`, and when it last changed.
pub fn status_at(order: &DvdOrder, now: i64) -> (i64, i64) {
    let created = order.created_ms;
    if order.fate == Fate::Forbidden {
        return (60, created);
    }
    let Some(shipped) = &order.shipped else {
        if let Fate::CancelBeforeShipping(after) = order.fate
            && created + after <= now
        {
            return (97, created + after);
        }
        return (10, created + 60_000);
    };
    let at = shipped.at_ms;
    match order.fate {
        Fate::CancelAfterShipping if at + 2 * HOUR <= now => return (98, at + 2 * HOUR),
        Fate::CancelAfterCollection if at + 8 * HOUR <= now => return (99, at + 8 * HOUR),
        _ => {}
    }
    let cancelled_early = matches!(
        order.fate,
        Fate::CancelAfterShipping | Fate::CancelAfterCollection
    );
    if at + 2 * DAY <= now && !cancelled_early {
        (30, at + 2 * DAY)
    } else if at + 4 * HOUR <= now && order.fate != Fate::CancelAfterShipping {
        (25, at + 4 * HOUR)
    } else {
        (22, at)
    }
}

fn status_name(code: i64) -> &'static str {
    match code {
        10 => "待发货",
        22 => "已发货",
        25 => "已揽收",
        30 => "已签收",
        60 => "禁发",
        97 => "未发货取消",
        98 => "已发货取消",
        99 => "已揽收取消",
        _ => "其他",
    }
}

/// A returned order's return at `now`: (status, created, last change).
fn return_at(order: &DvdOrder, now: i64) -> Option<(i64, i64, i64)> {
    if order.fate != Fate::ReturnAfterSigning {
        return None;
    }
    let signed = order.shipped.as_ref()?.at_ms + 2 * DAY;
    let created = signed + DAY;
    if now < created {
        return None;
    }
    let step = ((now - created) / DAY).min(3);
    Some((1 + step, created, created + step * DAY))
}

fn order_json(order: &DvdOrder, now: i64) -> Value {
    let (code, updated) = status_at(order, now);
    let updated = return_at(order, now).map_or(updated, |(_, _, changed)| changed.max(updated));
    let goods_fen: i64 = order.lines.iter().map(|l| l.price_fen * l.amount).sum();
    json!({
        "order_id": order.order_id,
        "order_status": code,
        "status_name": status_name(code),
        "add_time": datetime::format(order.created_ms),
        "pay_time": datetime::format(order.created_ms + 60_000),
        "update_time": datetime::format(updated),
        "buyer": order.buyer,
        "mobile": order.mobile,
        "state": order.province,
        "city": order.city,
        "county": order.county,
        "address": order.address,
        "postcode": order.postcode,
        "amount": yuan(goods_fen + order.carriage_fen),
        "carriage": yuan(order.carriage_fen),
        "favourable_money": yuan(0),
        "warehouse": order.warehouse,
        "carrier_code": order.shipped.as_ref().map(|s| s.carrier_code.clone()),
        "carrier_name": order.shipped.as_ref().map(|s| s.carrier_name.clone()),
        "transport_no": order.shipped.as_ref().map(|s| s.transport_no.clone()),
        "goods": order.lines.iter().map(|l| json!({
            "barcode": l.barcode, "product_name": l.name, "size": l.size, "amount": l.amount, "price": yuan(l.price_fen),
        })).collect::<Vec<_>>(),
    })
}

fn range(args: &Args<'_>, start: &str, end: &str) -> Result<Option<(i64, i64)>, GatewayError> {
    let read = |field: &str| -> Result<Option<i64>, GatewayError> {
        args.opt_str(field)?
            .map(|t| {
                datetime::parse(t).ok_or_else(|| {
                    GatewayError::invalid_argument(format!(
                        "{field}: expected yyyy-MM-dd HH:mm:ss, got {t:?}"
                    ))
                })
            })
            .transpose()
    };
    Ok(match (read(start)?, read(end)?) {
        (None, None) => None,
        (from, to) => Some((from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX))),
    })
}

/// Ships one order; an error message when it cannot be shipped (nothing changes then).
fn ship_one(orders: &mut [DvdOrder], item: &Value, now: i64) -> Result<String, (String, String)> {
    let order_id = item
        .get("order_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let fail = |message: String| (order_id.clone(), message);
    let order = orders
        .iter_mut()
        .find(|o| o.order_id == order_id)
        .ok_or_else(|| fail("order_id not found for this vendor".into()))?;
    let (code, _) = status_at(order, now);
    if code != 10 {
        return Err(fail(format!(
            "order status {code} ({}): only 待发货 orders can be shipped",
            status_name(code)
        )));
    }
    let carrier_code = item
        .get("carrier_code")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let carrier = CARRIERS
        .iter()
        .find(|c| c.code == carrier_code)
        .ok_or_else(|| {
            fail(format!(
                "carrier_code {carrier_code:?} is not in the carrier list"
            ))
        })?;
    let packages = item
        .get("packages")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| fail("packages: at least one package".into()))?;
    let mut transport_no = None;
    for package in packages {
        let no = package
            .get("transport_no")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim();
        if no.is_empty() {
            return Err(fail("packages[].transport_no is required".into()));
        }
        transport_no.get_or_insert_with(|| no.to_owned());
        for product in package
            .get("package_product_list")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let barcode = product
                .get("barcode")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let amount = product.get("amount").and_then(Value::as_i64).unwrap_or(0);
            let line = order
                .lines
                .iter()
                .find(|l| l.barcode == barcode)
                .ok_or_else(|| fail(format!("barcode {barcode} is not in the order")))?;
            if amount <= 0 || amount > line.amount {
                return Err(fail(format!(
                    "barcode {barcode}: amount {amount}, the order has {}",
                    line.amount
                )));
            }
        }
    }
    order.shipped = Some(Shipped {
        at_ms: now,
        carrier_code: carrier.code.to_owned(),
        carrier_name: carrier.name.to_owned(),
        transport_no: transport_no.unwrap_or_default(),
    });
    Ok(order_id)
}

pub fn handle(jit: &mut JitData, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::top(call.body)?;
    let vendor = vendor_of(jit, call, &args)?;
    let now = call.now_ms;
    match call.method {
        "getOrderList" => {
            let (page, limit) = paging(&args)?;
            let by_add = range(&args, "st_add_time", "et_add_time")?;
            let by_update = range(&args, "st_update_time", "et_update_time")?;
            let status = args.opt_i64("order_status")?;
            let order_id = args.opt_str("order_id")?;
            let mut matching: Vec<(i64, Value)> = vendor
                .dvd_orders
                .iter()
                .filter(|o| o.created_ms <= now)
                .filter(|o| order_id.is_none_or(|id| o.order_id == id))
                .filter(|o| by_add.is_none_or(|(from, to)| (from..=to).contains(&o.created_ms)))
                .map(|o| (o.created_ms, order_json(o, now)))
                .filter(|(_, json)| status.is_none_or(|s| json["order_status"] == s))
                .filter(|(_, json)| {
                    by_update.is_none_or(|(from, to)| {
                        json["update_time"]
                            .as_str()
                            .and_then(datetime::parse)
                            .is_some_and(|at| (from..=to).contains(&at))
                    })
                })
                .collect();
            matching.sort_by_key(|(created, _)| *created);
            Ok(page_of(
                matching.into_iter().map(|(_, json)| json).collect(),
                "dvd_order_list",
                page,
                limit,
            ))
        }
        "getOrderDetail" => {
            let order_id = args.req_str("order_id")?;
            vendor
                .dvd_orders
                .iter()
                .find(|o| o.order_id == order_id)
                .map(|o| order_json(o, now))
                .ok_or_else(|| {
                    rejected(
                        DVD_SERVICE,
                        format!(
                            "order_id {order_id} is not an order of vendor {}",
                            vendor.vendor_id
                        ),
                    )
                })
        }
        "ship" => {
            let list = match args.object.get("ship_list") {
                Some(Value::Array(list)) if !list.is_empty() && list.len() <= 50 => list.clone(),
                Some(Value::Array(list)) => {
                    return Err(GatewayError::invalid_argument(format!(
                        "ship_list: expected 1 to 50 orders, got {}",
                        list.len()
                    )));
                }
                _ => {
                    return Err(GatewayError::new(
                        "vipapis.miss-parameter",
                        "缺少参数: ship_list",
                    ));
                }
            };
            let mut failures = Vec::new();
            let mut shipped = 0;
            for item in &list {
                match ship_one(&mut vendor.dvd_orders, item, now) {
                    Ok(_) => shipped += 1,
                    Err((order_id, message)) => {
                        failures.push(json!({"order_id": order_id, "error_msg": message}))
                    }
                }
            }
            Ok(json!({"success_num": shipped, "fail_num": failures.len(), "fail_data": failures}))
        }
        "getCarrierList" => {
            let (page, limit) = paging(&args)?;
            let list = CARRIERS
                .iter()
                .map(|c| json!({"carrier_name": c.name, "carrier_shortname": c.name, "carrier_code": c.code, "carrier_isvalid": 1}))
                .collect();
            Ok(page_of(list, "carriers", page, limit))
        }
        "getOrderReturnList" => {
            let (page, limit) = paging(&args)?;
            let order_id = args.opt_str("order_id")?;
            let window = range(&args, "st_create_time", "et_create_time")?;
            let list: Vec<Value> = vendor
                .dvd_orders
                .iter()
                .filter(|o| order_id.is_none_or(|id| o.order_id == id))
                .filter_map(|o| return_at(o, now).map(|r| (o, r)))
                .filter(|(_, (_, created, _))| window.is_none_or(|(from, to)| (from..=to).contains(created)))
                .map(|(o, (status, created, changed))| {
                    let names = ["", "申请中", "已同意待退货", "已退货待确认", "退款完成"];
                    let refund: i64 = o.lines.iter().map(|l| l.price_fen * l.amount).sum();
                    json!({
                        "order_id": o.order_id,
                        "return_sn": format!("TH{}", o.order_id),
                        "status": status,
                        "status_name": names.get(status as usize).copied().unwrap_or("其他"),
                        "create_time": datetime::format(created),
                        "update_time": datetime::format(changed),
                        "refund_amount": yuan(refund),
                        "goods": o.lines.iter().map(|l| json!({"barcode": l.barcode, "amount": l.amount})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            Ok(page_of(list, "return_list", page, limit))
        }
        other => Err(GatewayError::new(
            "vipapis.path.Error",
            format!("no method {DVD_SERVICE}.{other}"),
        )),
    }
}
