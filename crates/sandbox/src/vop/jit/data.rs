//! The JIT simulator's state: vendors and everything they own, generated from the seed.

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Warehouses the simulated vendors supply.
pub const WAREHOUSES: [&str; 2] = ["VIP_NH", "VIP_SH"];

#[derive(Debug, Clone)]
pub struct SimCarrier {
    pub code: &'static str,
    pub name: &'static str,
}

/// Carriers both delivery services know; names match polyapi's logistics table.
pub const CARRIERS: [SimCarrier; 8] = [
    SimCarrier {
        code: "SF",
        name: "顺丰",
    },
    SimCarrier {
        code: "ZTO",
        name: "中通",
    },
    SimCarrier {
        code: "YTO",
        name: "圆通",
    },
    SimCarrier {
        code: "YUNDA",
        name: "韵达",
    },
    SimCarrier {
        code: "STO",
        name: "申通",
    },
    SimCarrier {
        code: "EMS",
        name: "EMS",
    },
    SimCarrier {
        code: "JD",
        name: "京东快递",
    },
    SimCarrier {
        code: "DBL",
        name: "德邦物流",
    },
];

#[derive(Debug, Clone)]
pub struct SimProduct {
    pub sn: String,
    pub barcode: String,
    pub name: String,
    pub size: &'static str,
    pub color: &'static str,
    pub brand_id: String,
    pub category_id: String,
    pub market_price_fen: i64,
    pub sell_price_fen: i64,
    pub supply_price_fen: i64,
    pub on_sale: bool,
}

/// Stock of one barcode in one warehouse.
#[derive(Debug, Clone)]
pub struct Stock {
    pub leaving: i64,
    pub hold: i64,
    /// A full sync that lowers the stock by more than this needs an acknowledgement.
    pub circuit_break_value: i64,
}

#[derive(Debug, Clone)]
pub struct PoSku {
    pub barcode: String,
    pub amount: i64,
    pub picked: i64,
}

#[derive(Debug, Clone)]
pub struct Po {
    pub po_no: String,
    pub warehouse: &'static str,
    pub co_mode: &'static str,
    pub schedule_name: String,
    pub brand_name: String,
    pub start_ms: i64,
    pub sell_st_ms: i64,
    pub sell_et_ms: i64,
    pub skus: Vec<PoSku>,
}

#[derive(Debug, Clone)]
pub struct PickLine {
    pub barcode: String,
    pub picked: i64,
    pub delivered: i64,
}

#[derive(Debug, Clone)]
pub struct SimPick {
    pub pick_no: String,
    pub po_no: String,
    pub warehouse: &'static str,
    pub created_ms: i64,
    pub lines: Vec<PickLine>,
}

#[derive(Debug, Clone)]
pub struct DeliveryLine {
    pub barcode: String,
    pub box_no: String,
    pub pick_no: String,
    pub amount: i64,
}

#[derive(Debug, Clone)]
pub struct SimDelivery {
    pub storage_no: String,
    pub delivery_id: String,
    pub po_no: String,
    pub delivery_no: String,
    pub warehouse: String,
    pub carrier_code: String,
    pub carrier_name: String,
    pub arrival_time: String,
    pub delivery_method: String,
    pub created_ms: i64,
    pub lines: Vec<DeliveryLine>,
    pub confirmed_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ReturnLine {
    pub barcode: String,
    pub name: String,
    pub po_no: String,
    pub qty: i64,
    pub box_no: String,
}

/// Goods a warehouse returns to the vendor (退供).
#[derive(Debug, Clone)]
pub struct VendorReturn {
    pub return_sn: String,
    pub warehouse: &'static str,
    pub return_type: i64,
    pub created_ms: i64,
    pub out_ms: i64,
    pub lines: Vec<ReturnLine>,
}

/// What will happen to a direct-ship order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Normal,
    /// Cancelled this long after creation if not shipped by then.
    CancelBeforeShipping(i64),
    /// Cancelled two hours after shipping, before collection.
    CancelAfterShipping,
    /// Cancelled eight hours after shipping, after collection.
    CancelAfterCollection,
    /// Returned the day after signing; refunded three days later.
    ReturnAfterSigning,
    /// 禁发: must not be shipped.
    Forbidden,
}

#[derive(Debug, Clone)]
pub struct DvdLine {
    pub barcode: String,
    pub name: String,
    pub size: &'static str,
    pub amount: i64,
    pub price_fen: i64,
}

#[derive(Debug, Clone)]
pub struct Shipped {
    pub at_ms: i64,
    pub carrier_code: String,
    pub carrier_name: String,
    pub transport_no: String,
}

#[derive(Debug, Clone)]
pub struct DvdOrder {
    pub order_id: String,
    pub created_ms: i64,
    pub buyer: String,
    pub mobile: String,
    pub province: &'static str,
    pub city: &'static str,
    pub county: &'static str,
    pub address: String,
    pub postcode: String,
    pub warehouse: &'static str,
    pub carriage_fen: i64,
    pub lines: Vec<DvdLine>,
    pub fate: Fate,
    pub shipped: Option<Shipped>,
}

#[derive(Debug, Clone)]
pub struct Vendor {
    pub vendor_id: i64,
    pub name: String,
    pub products: Vec<SimProduct>,
    pub stock: HashMap<(String, String), Stock>,
    pub batch_nos: HashSet<String>,
    pub pos: Vec<Po>,
    pub picks: Vec<SimPick>,
    pub deliveries: Vec<SimDelivery>,
    pub returns: Vec<VendorReturn>,
    pub dvd_orders: Vec<DvdOrder>,
}

impl Vendor {
    pub fn product(&self, barcode: &str) -> Option<&SimProduct> {
        self.products.iter().find(|p| p.barcode == barcode)
    }
}

#[derive(Debug, Clone, Default)]
pub struct JitData {
    pub vendors: BTreeMap<i64, Vendor>,
}

const SIZES: [&str; 3] = ["S", "M", "L"];
const COLORS: [&str; 4] = ["黑色", "白色", "藏青", "燕麦色"];
const ITEMS: [&str; 10] = [
    "羊绒衫",
    "羽绒服",
    "连衣裙",
    "运动鞋",
    "牛仔裤",
    "卫衣",
    "衬衫",
    "大衣",
    "T恤",
    "针织裤",
];
const PLACES: [(&str, &str, &str); 4] = [
    ("广东省", "广州市", "天河区"),
    ("上海市", "上海市", "浦东新区"),
    ("浙江省", "杭州市", "西湖区"),
    ("北京市", "北京市", "朝阳区"),
];
const NAMES: [&str; 6] = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"];

/// A direct-ship order made at `created_ms`, the `i`th of its vendor; its number is drawn
/// after its lines, as it always was, so that the demo's seeded data stays the same.
fn dvd_order(
    rng: &mut ChaCha8Rng,
    products: &[SimProduct],
    order_id: impl FnOnce(&mut ChaCha8Rng) -> String,
    i: usize,
    fate: Fate,
    created_ms: i64,
) -> DvdOrder {
    let (province, city, county) = PLACES[i % PLACES.len()];
    let lines: Vec<DvdLine> = (0..rng.random_range(1..=3))
        .map(|_| {
            let product = products.choose(rng).cloned();
            let product = product.unwrap_or_else(|| products[0].clone());
            DvdLine {
                barcode: product.barcode,
                name: product.name,
                size: product.size,
                amount: rng.random_range(1..=2),
                price_fen: product.sell_price_fen,
            }
        })
        .fold(Vec::new(), |mut acc: Vec<DvdLine>, line| {
            if !acc.iter().any(|l| l.barcode == line.barcode) {
                acc.push(line);
            }
            acc
        });
    DvdOrder {
        order_id: order_id(rng),
        created_ms,
        buyer: NAMES.choose(rng).copied().unwrap_or("张伟").to_owned(),
        mobile: format!("138{:08}", rng.random_range(0..100_000_000)),
        province,
        city,
        county,
        address: format!(
            "{}路{}号",
            ["中山", "人民", "解放", "建设"][i % 4],
            rng.random_range(1..300)
        ),
        postcode: format!("{}", 510_000 + rng.random_range(0..9_999)),
        warehouse: WAREHOUSES[i % 2],
        carriage_fen: if i.is_multiple_of(3) { 0 } else { 1_000 },
        lines,
        fate,
        shipped: None,
    }
}

/// How busy a generated vendor is beyond the demo's handful of records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitVolume {
    /// Direct-ship orders a day over the last 30 days, with one return a day per 20 of them
    /// (0: the demo's dozen orders and two returns only).
    pub orders_per_day: usize,
}

fn generate_vendor(
    rng: &mut ChaCha8Rng,
    vendor_id: i64,
    name: &str,
    now_ms: i64,
    volume: JitVolume,
) -> Vendor {
    let mut products = Vec::new();
    for spu in 0..20 {
        let sn = format!("SN{vendor_id}{spu:04}");
        let item = ITEMS[spu % ITEMS.len()];
        let color = COLORS.choose(rng).copied().unwrap_or("黑色");
        let market = rng.random_range(99..1_999) * 100;
        let sell = market * rng.random_range(40..90) / 100;
        for size in SIZES {
            products.push(SimProduct {
                sn: sn.clone(),
                barcode: format!("69{vendor_id:04}{:07}", rng.random_range(0..10_000_000)),
                name: format!("{name} {item}"),
                size,
                color,
                brand_id: format!("{}", 10_000 + vendor_id),
                category_id: format!("{}", 200 + spu % ITEMS.len()),
                market_price_fen: market,
                sell_price_fen: sell,
                supply_price_fen: sell * 70 / 100,
                on_sale: spu % 9 != 8,
            });
        }
    }
    let mut stock = HashMap::new();
    for product in &products {
        for warehouse in WAREHOUSES {
            stock.insert(
                (warehouse.to_owned(), product.barcode.clone()),
                Stock {
                    leaving: rng.random_range(10..200),
                    hold: rng.random_range(0..5),
                    circuit_break_value: 50,
                },
            );
        }
    }
    let mut pos = Vec::new();
    for i in 0..4 {
        let warehouse = WAREHOUSES[i % 2];
        let skus: Vec<PoSku> = products
            .iter()
            .skip(i * 7)
            .take(5)
            .map(|p| PoSku {
                barcode: p.barcode.clone(),
                amount: rng.random_range(5..30),
                picked: 0,
            })
            .collect();
        let start = now_ms - (4 - i as i64) * DAY;
        pos.push(Po {
            po_no: format!("{}{:04}", 2_000_000 + vendor_id * 10, i + 1),
            warehouse,
            co_mode: if i == 3 { "jit_4a" } else { "jit" },
            schedule_name: format!("{name} 档期 {}", i + 1),
            brand_name: name.to_owned(),
            start_ms: start,
            sell_st_ms: start + DAY,
            sell_et_ms: start + 6 * DAY,
            skus,
        });
    }
    // The demo's two returns, then, for a large vendor, one a day per 20 orders a day.
    let returns_per_day = volume.orders_per_day / 20;
    let large = (0..returns_per_day.saturating_mul(30)).map(|n| {
        let day = (n / returns_per_day.max(1)) as i64;
        (n % pos.len(), now_ms - (30 - day) * DAY + 3_600_000, 2 + n)
    });
    let returns = [(0, now_ms - 3 * DAY, 0), (1, now_ms - 2 * DAY, 1)]
        .into_iter()
        .chain(large)
        .map(|(po_index, created_ms, n)| {
            let po = &pos[po_index];
            VendorReturn {
                return_sn: if n < 2 {
                    format!("RT{vendor_id}{:05}", n + 1)
                } else {
                    format!("RT{vendor_id}L{n:07}")
                },
                warehouse: po.warehouse,
                return_type: 1,
                created_ms,
                out_ms: created_ms + DAY,
                lines: po
                    .skus
                    .iter()
                    .take(2)
                    .map(|sku| ReturnLine {
                        barcode: sku.barcode.clone(),
                        name: products
                            .iter()
                            .find(|p| p.barcode == sku.barcode)
                            .map(|p| p.name.clone())
                            .unwrap_or_default(),
                        po_no: po.po_no.clone(),
                        qty: 1,
                        box_no: format!("B{}", n + 1),
                    })
                    .collect(),
            }
        })
        .collect();
    let fates = [
        Fate::Normal,
        Fate::Normal,
        Fate::Normal,
        Fate::Normal,
        Fate::CancelBeforeShipping(30 * HOUR),
        Fate::Normal,
        Fate::CancelAfterShipping,
        Fate::ReturnAfterSigning,
        Fate::Forbidden,
        Fate::CancelAfterCollection,
        Fate::Normal,
        Fate::CancelBeforeShipping(40 * HOUR),
    ];
    let mut dvd_orders: Vec<DvdOrder> = fates
        .iter()
        .enumerate()
        .map(|(i, fate)| {
            let order_id = |rng: &mut ChaCha8Rng| {
                format!(
                    "{}{:08}",
                    26_112_200 + vendor_id,
                    rng.random_range(0..100_000_000)
                )
            };
            dvd_order(
                rng,
                &products,
                order_id,
                i,
                *fate,
                now_ms - (48 - 4 * i as i64) * HOUR,
            )
        })
        .collect();
    // A large vendor: orders_per_day more over the last 30 days, evenly spread, with the same
    // mix of fates; their numbers are sequential so that none repeats.
    let per_day = volume.orders_per_day;
    for n in 0..per_day.saturating_mul(30) {
        let day = (n / per_day) as i64;
        let within = (n % per_day) as i64 * DAY / per_day as i64;
        let created_ms = now_ms - (30 - day) * DAY + within;
        let order_id = |_: &mut ChaCha8Rng| format!("{}{:010}", 26_112_300 + vendor_id, n);
        dvd_orders.push(dvd_order(
            rng,
            &products,
            order_id,
            n,
            fates[n % fates.len()],
            created_ms,
        ));
    }
    dvd_orders.sort_by_key(|order| order.created_ms);
    Vendor {
        vendor_id,
        name: name.to_owned(),
        products,
        stock,
        batch_nos: HashSet::new(),
        pos,
        picks: Vec::new(),
        deliveries: Vec::new(),
        returns,
        dvd_orders,
    }
}

impl JitData {
    /// Two vendors, so that ownership can be tested: 550 (the demo, as busy as `volume` says)
    /// and 551.
    pub fn generate(rng: &mut ChaCha8Rng, now_ms: i64, volume: JitVolume) -> Self {
        let mut vendors = BTreeMap::new();
        for (vendor_id, name) in [(550, "衣品天成"), (551, "森马")] {
            let volume = if vendor_id == 550 {
                volume
            } else {
                JitVolume::default()
            };
            vendors.insert(
                vendor_id,
                generate_vendor(rng, vendor_id, name, now_ms, volume),
            );
        }
        Self { vendors }
    }
}
