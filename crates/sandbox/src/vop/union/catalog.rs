//! The simulated goods catalog and the UnionGoodsService methods that read it.

use std::collections::HashMap;

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use shopbridge_core::quota::vop_method_base;

use super::super::VopState;
use super::super::args::Args;
use super::super::gateway::{Call, GatewayError};

/// The guide's curated lists (§4.1.4 精选类目 jx_code), one per category of the catalog.
pub const JX_CODES: [(&str, &str); 10] = [
    ("7hfpy0m4", "女装精选"),
    ("wj7evz2j", "男装精选"),
    ("vd0wbfdx", "美妆精选"),
    ("dpot8m5u", "数码电子"),
    ("szkl4kj7", "精选-首饰"),
    ("byh9331t", "鞋包精选"),
    ("gkf52p8p", "母婴精选"),
    ("cnrzcs22", "居家精选"),
    ("indvf44e", "运动户外精选"),
    ("uggxpyh5", "家用电器"),
];

const ITEMS: [&[&str]; 10] = [
    &["连衣裙", "针织开衫", "羊毛大衣", "阔腿裤", "衬衫裙"],
    &["羽绒服", "休闲衬衫", "牛仔裤", "卫衣", "西装外套"],
    &["精华液", "口红", "面霜", "防晒霜", "粉底液"],
    &["蓝牙耳机", "充电宝", "智能手环", "机械键盘", "平板电脑"],
    &["黄金手链", "珍珠耳钉", "银项链", "18K戒指", "翡翠吊坠"],
    &["运动鞋", "真皮单肩包", "乐福鞋", "双肩包", "短靴"],
    &["婴儿推车", "儿童羽绒服", "纸尿裤", "奶瓶", "安全座椅"],
    &["四件套", "乳胶枕", "保温杯", "收纳箱", "香薰蜡烛"],
    &["冲锋衣", "瑜伽垫", "跑步鞋", "登山包", "速干T恤"],
    &["空气炸锅", "电饭煲", "吸尘器", "电热水壶", "破壁机"],
];
const BRANDS: [&str; 16] = [
    "Vero Moda",
    "太平鸟",
    "李宁",
    "安踏",
    "欧莱雅",
    "兰蔻",
    "小米",
    "美的",
    "巴拉巴拉",
    "周大福",
    "百丽",
    "南极人",
    "波司登",
    "苏泊尔",
    "迪卡侬",
    "雅诗兰黛",
];
/// Far-away fixed selling window, so that goods stay on sale whatever the simulated date.
const SELL_FROM_MS: i64 = 1_767_196_800_000;
const SELL_TO_MS: i64 = 1_893_427_200_000;

/// A presale (预付) offer: a deposit now, the final price once the balance is paid.
#[derive(Debug, Clone)]
pub struct Presale {
    pub deposit_fen: i64,
    pub final_price_fen: i64,
}

/// One goods item; money in fen (分), rates in hundredths of a percent.
#[derive(Debug, Clone)]
pub struct Goods {
    pub goods_id: String,
    pub name: String,
    pub category_index: usize,
    pub category_id: i64,
    pub brand_name: &'static str,
    pub brand_id: i64,
    pub brand_store_sn: String,
    pub market_price_fen: i64,
    pub vip_price_fen: i64,
    pub commission_rate_bp: i64,
    pub sales: i64,
    /// 0 超高佣, 1 出单爆款.
    pub channel_type: i32,
    /// 0 自营, 1 MP.
    pub source_type: i32,
    pub stock: i64,
    pub comments: i64,
    pub good_comments_bp: i64,
    pub store_id: String,
    pub store_name: String,
    pub store_score_hundredths: i64,
    pub store_rank_bp: i64,
    pub flash_sale: bool,
    pub presale: Option<Presale>,
}

/// Formats hundredths as a two-decimal string (`12999` -> `129.99`).
pub fn yuan(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        hundredths.abs() / 100,
        hundredths.abs() % 100
    )
}

/// `amount * rate / 10000`, rounded half up to the fen.
pub fn commission_fen(amount_fen: i64, rate_bp: i64) -> i64 {
    (amount_fen * rate_bp + 5_000) / 10_000
}

impl Goods {
    pub fn category_name(&self) -> &'static str {
        JX_CODES[self.category_index].1
    }

    pub fn jx_code(&self) -> &'static str {
        JX_CODES[self.category_index].0
    }

    /// The price a buyer pays (the presale final price when there is one).
    pub fn price_fen(&self) -> i64 {
        self.presale
            .as_ref()
            .map_or(self.vip_price_fen, |presale| presale.final_price_fen)
    }

    pub fn commission_fen(&self) -> i64 {
        commission_fen(self.vip_price_fen, self.commission_rate_bp)
    }

    pub fn discount_hundredths(&self) -> i64 {
        if self.market_price_fen == 0 {
            return 100;
        }
        (self.vip_price_fen * 100 + self.market_price_fen / 2) / self.market_price_fen
    }

    pub fn dest_url(&self) -> String {
        format!(
            "https://m.vip.com/product-{}-{}.html",
            self.brand_store_sn, self.goods_id
        )
    }

    fn sale_stock_status(&self) -> i32 {
        match self.stock {
            0 => 1,
            1..=5 => 3,
            _ => 2,
        }
    }

    /// The platform's JSON for this goods item; the optional blocks only when asked for.
    pub fn to_json(&self, flags: &Flags) -> Value {
        let mut goods = json!({
            "goodsId": self.goods_id,
            "goodsName": self.name,
            "destUrl": self.dest_url(),
            "goodsThumbUrl": format!("https://h2.appsimg.com/sandbox/{}_thumb.jpg", self.goods_id),
            "goodsMainPicture": format!("https://h2.appsimg.com/sandbox/{}.jpg", self.goods_id),
            "categoryId": self.category_id,
            "categoryName": self.category_name(),
            "cat1stId": 1000 + self.category_index as i64,
            "cat1stName": self.category_name(),
            "sourceType": self.source_type,
            "marketPrice": yuan(self.market_price_fen),
            "vipPrice": yuan(self.vip_price_fen),
            "commissionRate": yuan(self.commission_rate_bp),
            "commission": yuan(self.commission_fen()),
            "discount": yuan(self.discount_hundredths()),
            "brandName": self.brand_name,
            "brandId": self.brand_id,
            "brandStoreSn": self.brand_store_sn,
            "brandLogoFull": format!("https://a.appsimg.com/sandbox/brand/{}.png", self.brand_store_sn),
            "schemeStartTime": SELL_FROM_MS,
            "schemeEndTime": SELL_TO_MS,
            "sellTimeFrom": SELL_FROM_MS,
            "sellTimeTo": SELL_TO_MS,
            "status": 1,
            "storeInfo": {"storeId": self.store_id, "storeName": self.store_name},
        });
        let Value::Object(map) = &mut goods else {
            return goods;
        };
        if flags.stock {
            map.insert("saleStockStatus".into(), json!(self.sale_stock_status()));
        }
        if flags.reputation {
            map.insert(
                "commentsInfo".into(),
                json!({"comments": self.comments, "goodCommentsShare": yuan(self.good_comments_bp)}),
            );
        }
        if flags.store_capability {
            map.insert(
                "storeServiceCapability".into(),
                json!({"storeScore": yuan(self.store_score_hundredths), "storeRankRate": yuan(self.store_rank_bp)}),
            );
        }
        if flags.activity {
            let activities: Vec<Value> = self
                .flash_sale
                .then(|| json!({"actType": 1, "actName": "唯品快抢", "beginTime": SELL_FROM_MS, "endTime": SELL_TO_MS}))
                .into_iter()
                .collect();
            map.insert("joinedActivities".into(), json!(activities));
        }
        if flags.prepay {
            let info = self.presale.as_ref().map(|presale| {
                json!({
                    "isPrepay": 1,
                    "prepayPrice": yuan(presale.deposit_fen),
                    "prepayFavAmount": yuan(presale.deposit_fen),
                    "finalPrice": yuan(presale.final_price_fen),
                })
            });
            map.insert(
                "prepayInfo".into(),
                info.unwrap_or_else(|| json!({"isPrepay": 0})),
            );
        }
        goods
    }
}

/// The optional blocks a goods query asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    pub reputation: bool,
    pub store_capability: bool,
    pub stock: bool,
    pub activity: bool,
    pub prepay: bool,
}

impl Flags {
    pub fn from_args(args: &Args<'_>) -> Result<Self, GatewayError> {
        Ok(Self {
            reputation: args.opt_bool("queryReputation")?,
            store_capability: args.opt_bool("queryStoreServiceCapability")?,
            stock: args.opt_bool("queryStock")?,
            activity: args.opt_bool("queryActivity")?,
            prepay: args.opt_bool("queryPrepay")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub goods: Vec<Goods>,
    index: HashMap<String, usize>,
}

impl Catalog {
    /// `count` goods across the ten categories, deterministic for a seed.
    pub fn generate(rng: &mut ChaCha8Rng, count: usize) -> Self {
        let mut goods = Vec::with_capacity(count);
        let mut index = HashMap::with_capacity(count);
        while goods.len() < count {
            let i = goods.len();
            let goods_id = format!("6919{:015}", rng.random_range(0..1_000_000_000_000_000_i64));
            if index.contains_key(&goods_id) {
                continue;
            }
            let category_index = i % JX_CODES.len();
            let item = ITEMS[category_index].choose(rng).copied().unwrap_or("商品");
            let brand_index = rng.random_range(0..BRANDS.len());
            let brand = BRANDS[brand_index];
            let market = rng.random_range(29..2_999) * 100 + 99;
            let vip = (market * rng.random_range(25..95) / 100).max(990);
            let presale = (i % 37 == 5).then(|| Presale {
                deposit_fen: (vip / 10).max(100),
                final_price_fen: vip * 9 / 10,
            });
            goods.push(Goods {
                name: format!("{brand} {item} {}", i + 1),
                category_index,
                category_id: 100_000 + category_index as i64 * 101 + (i % 7) as i64,
                brand_name: brand,
                brand_id: 80_000_000 + (brand_index as i64) * 1_000 + (i % 13) as i64,
                brand_store_sn: format!("{}", 10_000_000 + brand_index * 7_919),
                market_price_fen: market,
                vip_price_fen: vip,
                commission_rate_bp: rng.random_range(2..40) * 50,
                sales: rng.random_range(0..80_000),
                channel_type: i32::from(i % 3 == 0),
                source_type: i32::from(i % 4 == 0),
                stock: if i % 29 == 0 {
                    0
                } else {
                    rng.random_range(1..500)
                },
                comments: rng.random_range(0..20_000),
                good_comments_bp: rng.random_range(8_500..10_000),
                store_id: format!("{}", 500_000 + brand_index),
                store_name: format!("{brand}官方旗舰店"),
                store_score_hundredths: rng.random_range(440..500),
                store_rank_bp: rng.random_range(1_000..9_900),
                flash_sale: i % 11 == 3,
                presale,
                goods_id: goods_id.clone(),
            });
            index.insert(goods_id, i);
        }
        Self { goods, index }
    }

    pub fn by_id(&self, goods_id: &str) -> Option<&Goods> {
        self.index.get(goods_id).map(|&i| &self.goods[i])
    }
}

fn sort_goods(goods: &mut [&Goods], args: &Args<'_>) -> Result<(), GatewayError> {
    let Some(field) = args.opt_str("fieldName")? else {
        return Ok(());
    };
    let key: fn(&Goods) -> i64 = match field {
        "PRICE" => |g| g.vip_price_fen,
        "DISCOUNT" => |g| g.discount_hundredths(),
        "COMMISSION" => |g| g.commission_fen(),
        // The guide says COMM_RATE, the generated SDK's comment COMM_RATIO: both are accepted.
        "COMM_RATE" | "COMM_RATIO" => |g| g.commission_rate_bp,
        "SALES" => |g| g.sales,
        other => {
            return Err(GatewayError::invalid_argument(format!(
                "{}: expected PRICE, DISCOUNT, COMMISSION, COMM_RATE or SALES, got {other:?}",
                args.path("fieldName")
            )));
        }
    };
    let descending = match args.opt_i64("order")? {
        None | Some(0) => false,
        Some(1) => true,
        Some(other) => {
            return Err(GatewayError::invalid_argument(format!(
                "{}: expected 0 (asc) or 1 (desc), got {other}",
                args.path("order")
            )));
        }
    };
    // Ties keep catalog order, so pages never overlap.
    if descending {
        goods.sort_by_key(|g| std::cmp::Reverse(key(g)));
    } else {
        goods.sort_by_key(|g| key(g));
    }
    Ok(())
}

fn page_of(goods: Vec<&Goods>, page: usize, size: usize, flags: &Flags) -> Value {
    let total = goods.len();
    let list: Vec<Value> = goods
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|goods| goods.to_json(flags))
        .collect();
    json!({
        "goodsInfoList": list,
        "total": total,
        "page": page,
        "pageSize": size,
        "sortFields": [
            {"fieldName": "PRICE", "fieldDesc": "价格"},
            {"fieldName": "DISCOUNT", "fieldDesc": "折扣"},
            {"fieldName": "COMMISSION", "fieldDesc": "佣金"},
            {"fieldName": "COMM_RATE", "fieldDesc": "佣金比例"},
            {"fieldName": "SALES", "fieldDesc": "销量"}
        ],
    })
}

/// Parses a decimal yuan string into fen.
fn parse_fen(field: &str, text: &str) -> Result<i64, GatewayError> {
    let bad = || {
        GatewayError::invalid_argument(format!(
            "{field}: expected a decimal amount like \"99.50\", got {text:?}"
        ))
    };
    let trimmed = text.trim();
    let (whole, frac) = trimmed.split_once('.').unwrap_or((trimmed, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || frac.len() > 2 || !digits(whole) || !digits(frac) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    Ok(whole * 100 + frac)
}

pub fn goods_list(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "request")?;
    let (page, size) = args.paging(20, 100)?;
    args.req_str("requestId")?;
    let flags = Flags::from_args(&args)?;
    let catalog = &vop.union.catalog;
    let mut goods: Vec<&Goods> = match args.opt_i64("sourceType")?.unwrap_or(0) {
        0 => {
            let channel = args.opt_i64("channelType")?.ok_or_else(|| {
                GatewayError::new(
                    "vipapis.miss-parameter",
                    "缺少参数: request.channelType (required when sourceType=0)",
                )
            })?;
            match channel {
                0 | 1 => catalog
                    .goods
                    .iter()
                    .filter(|g| i64::from(g.channel_type) == channel)
                    .collect(),
                2 => {
                    return Err(GatewayError::invalid_argument(
                        "request.channelType: 2 (每日精选) has been retired; use 0 or 1",
                    ));
                }
                other => {
                    return Err(GatewayError::invalid_argument(format!(
                        "request.channelType: expected 0 or 1, got {other}"
                    )));
                }
            }
        }
        1 => {
            let code = args.req_str("jxCode")?;
            let category = JX_CODES
                .iter()
                .position(|(known, _)| *known == code)
                .ok_or_else(|| {
                    GatewayError::invalid_argument(format!(
                        "request.jxCode: unknown 组货码 {code:?}"
                    ))
                })?;
            catalog
                .goods
                .iter()
                .filter(|g| g.category_index == category)
                .collect()
        }
        other => {
            return Err(GatewayError::invalid_argument(format!(
                "request.sourceType: expected 0 or 1, got {other}"
            )));
        }
    };
    sort_goods(&mut goods, &args)?;
    Ok(page_of(goods, page, size, &flags))
}

pub fn query(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "request")?;
    let (page, size) = args.paging(20, 50)?;
    args.req_str("requestId")?;
    let keyword = args.req_str("keyword")?;
    let flags = Flags::from_args(&args)?;
    let low = args
        .opt_str("priceStart")?
        .map(|p| parse_fen("request.priceStart", p))
        .transpose()?;
    let high = args
        .opt_str("priceEnd")?
        .map(|p| parse_fen("request.priceEnd", p))
        .transpose()?;
    let mut goods: Vec<&Goods> = vop
        .union
        .catalog
        .goods
        .iter()
        .filter(|g| {
            g.name.contains(keyword)
                || g.brand_name.contains(keyword)
                || g.category_name().contains(keyword)
        })
        .filter(|g| {
            low.is_none_or(|low| g.vip_price_fen >= low)
                && high.is_none_or(|high| g.vip_price_fen <= high)
        })
        .collect();
    sort_goods(&mut goods, &args)?;
    Ok(page_of(goods, page, size, &flags))
}

pub fn get_by_goods_ids(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::top(call.body)?;
    let ids = args.str_list("goodsIdList")?;
    if ids.is_empty() || ids.len() > 10 {
        return Err(GatewayError::invalid_argument(format!(
            "goodsIdList: expected 1 to 10 goods ids, got {}",
            ids.len()
        )));
    }
    args.req_str("requestId")?;
    let flags = Flags {
        reputation: true,
        store_capability: true,
        stock: true,
        activity: true,
        prepay: true,
    };
    Ok(Value::Array(
        ids.iter()
            .filter_map(|id| vop.union.catalog.by_id(id))
            .map(|goods| goods.to_json(&flags))
            .collect(),
    ))
}

/// At most this many recommendations, as the guide warns.
const MAX_RECOMMENDATIONS: usize = 40;

pub fn similar_recommend(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "request")?;
    let goods_id = args.req_str("goodsId")?;
    let (page, size) = args.paging(20, 100)?;
    let flags = Flags::from_args(&args)?;
    let catalog = &vop.union.catalog;
    let Some(seed) = catalog.by_id(goods_id) else {
        // An unknown goods id gets no recommendations: the guide says to expect empty answers.
        return Ok(page_of(Vec::new(), page, size, &flags));
    };
    let mut similar: Vec<&Goods> = catalog
        .goods
        .iter()
        .filter(|g| {
            g.category_index == seed.category_index && g.goods_id != seed.goods_id && g.stock > 0
        })
        .collect();
    similar.sort_by_key(|g| std::cmp::Reverse(g.sales));
    similar.truncate(MAX_RECOMMENDATIONS);
    Ok(page_of(similar, page, size, &flags))
}

pub fn user_recommend(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "request")?;
    let (page, size) = args.paging(20, 100)?;
    let common = args.opt_object("commonParams")?.ok_or_else(|| {
        GatewayError::new(
            "vipapis.miss-parameter",
            "缺少参数: request.commonParams (deviceType and deviceValue)",
        )
    })?;
    common.req_str("deviceType")?;
    let device = common.req_str("deviceValue")?;
    let catalog = &vop.union.catalog;
    // A stable pick per device: the same device sees the same recommendations.
    let start = device.bytes().fold(0usize, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(usize::from(b))
    }) % catalog.goods.len().max(1);
    let picks: Vec<&Goods> = catalog
        .goods
        .iter()
        .cycle()
        .skip(start)
        .step_by(7)
        .filter(|g| g.stock > 0)
        .take(MAX_RECOMMENDATIONS.min(catalog.goods.len()))
        .collect();
    Ok(page_of(picks, page, size, &Flags::default()))
}

/// Which goods method (by base name) this module serves.
pub fn serves(method: &str) -> bool {
    matches!(
        vop_method_base(method).0,
        "goodsList" | "query" | "getByGoodsIds" | "similarRecommend" | "userRecommend"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn catalog_is_deterministic_unique_and_sized() {
        let a = Catalog::generate(&mut ChaCha8Rng::seed_from_u64(7), 500);
        let b = Catalog::generate(&mut ChaCha8Rng::seed_from_u64(7), 500);
        let c = Catalog::generate(&mut ChaCha8Rng::seed_from_u64(8), 500);
        assert_eq!(a.goods[5].goods_id, b.goods[5].goods_id);
        assert_ne!(a.goods[5].goods_id, c.goods[5].goods_id);
        assert_eq!(a.goods.len(), 500);
        assert_eq!(a.index.len(), 500, "ids are unique");
        assert!(
            a.goods
                .iter()
                .all(|g| g.goods_id.len() == 19 && g.vip_price_fen >= 990)
        );
        assert!(
            a.goods.iter().any(|g| g.presale.is_some()) && a.goods.iter().any(|g| g.stock == 0)
        );
    }

    #[test]
    fn money_is_exact() {
        assert_eq!(yuan(12_999), "129.99");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(commission_fen(12_999, 1_250), 1_625);
        assert_eq!(parse_fen("p", "99.5").expect("ok"), 9_950);
        assert!(parse_fen("p", "1.234").is_err() && parse_fen("p", "-1").is_err());
    }
}
