//! Union (联盟) services of the simulator: seeded goods, goods queries and tracking links.

use base64::Engine;
use hmac::digest::Digest;
use md5::Md5;
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};
use shopbridge_core::quota::vop_method_base;

use super::VopState;
use super::gateway::{Call, GatewayError};

pub const GOODS_SERVICE: &str = "com.vip.adp.api.open.service.UnionGoodsService";
pub const URL_SERVICE: &str = "com.vip.adp.api.open.service.UnionUrlService";

/// The guide's curated lists (§4.1.4 精选类目 jx_code).
pub const JX_CODES: &[(&str, &str)] = &[
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

/// One simulated goods item; money in fen (分).
#[derive(Debug, Clone)]
pub struct Goods {
    pub goods_id: String,
    pub name: String,
    pub category_id: i64,
    pub category_name: &'static str,
    pub jx_code: &'static str,
    pub brand_name: &'static str,
    pub brand_store_sn: String,
    pub market_price_fen: i64,
    pub vip_price_fen: i64,
    /// Commission rate in hundredths of a percent (1250 = 12.50%).
    pub commission_rate_bp: i64,
    pub sales: i64,
    /// 0 超高佣, 1 出单爆款.
    pub channel_type: i32,
}

impl Goods {
    fn commission_fen(&self) -> i64 {
        // Round half up to the fen.
        (self.vip_price_fen * self.commission_rate_bp + 5_000) / 10_000
    }

    /// vipPrice / marketPrice with two decimals, as the platform shows it.
    fn discount_hundredths(&self) -> i64 {
        if self.market_price_fen == 0 {
            return 100;
        }
        (self.vip_price_fen * 100 + self.market_price_fen / 2) / self.market_price_fen
    }

    pub fn to_json(&self) -> Value {
        json!({
            "goodsId": self.goods_id,
            "goodsName": self.name,
            "destUrl": format!("https://m.vip.com/product-{}-{}.html", self.brand_store_sn, self.goods_id),
            "goodsThumbUrl": format!("https://h2.appsimg.com/sandbox/{}_thumb.jpg", self.goods_id),
            "goodsMainPicture": format!("https://h2.appsimg.com/sandbox/{}.jpg", self.goods_id),
            "categoryId": self.category_id,
            "categoryName": self.category_name,
            "sourceType": 0,
            "marketPrice": yuan(self.market_price_fen),
            "vipPrice": yuan(self.vip_price_fen),
            "commissionRate": yuan(self.commission_rate_bp),
            "commission": yuan(self.commission_fen()),
            "discount": format!("{}.{:02}", self.discount_hundredths() / 100, self.discount_hundredths() % 100),
            "brandName": self.brand_name,
            "brandStoreSn": self.brand_store_sn,
            "schemeStartTime": 1_767_196_800_000_i64,
            "schemeEndTime": 1_893_427_200_000_i64,
            "sellTimeFrom": 1_767_196_800_000_i64,
            "sellTimeTo": 1_893_427_200_000_i64,
            "saleStockStatus": 2,
            "status": 1,
        })
    }
}

/// Formats hundredths as a two-decimal string (`12999` -> `129.99`).
pub fn yuan(hundredths: i64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Parses a decimal yuan string into fen.
fn parse_fen(field: &str, text: &str) -> Result<i64, GatewayError> {
    let bad = || {
        GatewayError::invalid_argument(format!(
            "{field}: expected a decimal amount like \"99.50\", got {text:?}"
        ))
    };
    let (whole, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    Ok(whole * 100 + frac)
}

#[derive(Debug, Clone)]
pub struct UnionData {
    pub goods: Vec<Goods>,
}

impl UnionData {
    /// 120 goods across the curated categories, deterministic for a seed.
    pub fn generate(rng: &mut ChaCha8Rng) -> Self {
        const BRANDS: &[&str] = &[
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
        ];
        const ITEMS: &[(&str, &[&str])] = &[
            ("女装精选", &["连衣裙", "针织开衫", "羊毛大衣", "阔腿裤"]),
            ("男装精选", &["羽绒服", "休闲衬衫", "牛仔裤", "卫衣"]),
            ("美妆精选", &["精华液", "口红", "面霜", "防晒霜"]),
            ("数码电子", &["蓝牙耳机", "充电宝", "智能手环", "机械键盘"]),
            ("精选-首饰", &["黄金手链", "珍珠耳钉", "银项链", "18K戒指"]),
            ("鞋包精选", &["运动鞋", "真皮单肩包", "乐福鞋", "双肩包"]),
            ("母婴精选", &["婴儿推车", "儿童羽绒服", "纸尿裤", "奶瓶"]),
            ("居家精选", &["四件套", "乳胶枕", "保温杯", "收纳箱"]),
            ("运动户外精选", &["冲锋衣", "瑜伽垫", "跑步鞋", "登山包"]),
            ("家用电器", &["空气炸锅", "电饭煲", "吸尘器", "电热水壶"]),
        ];
        let goods = (0..120)
            .map(|i| {
                let (jx_code, _) = JX_CODES[i % JX_CODES.len()];
                let (category, items) = ITEMS[i % ITEMS.len()];
                let item = items.choose(rng).copied().unwrap_or("商品");
                let brand = BRANDS.choose(rng).copied().unwrap_or("唯品");
                let market = rng.random_range(59..2_999) * 100 + 99;
                let vip = market * rng.random_range(25..95) / 100;
                Goods {
                    goods_id: format!("69191908{:011}", rng.random_range(0..100_000_000_000_i64)),
                    name: format!("{brand} {item} {}", i + 1),
                    category_id: 100_000 + (i % ITEMS.len()) as i64 * 101,
                    category_name: category,
                    jx_code,
                    brand_name: brand,
                    brand_store_sn: format!("{}", 10_000_000 + rng.random_range(0..9_000_000)),
                    market_price_fen: market,
                    vip_price_fen: vip.max(990),
                    commission_rate_bp: rng.random_range(2..30) * 50,
                    sales: rng.random_range(0..50_000),
                    channel_type: i32::from(i % 3 == 0),
                }
            })
            .collect();
        Self { goods }
    }

    pub fn by_id(&self, goods_id: &str) -> Option<&Goods> {
        self.goods.iter().find(|goods| goods.goods_id == goods_id)
    }
}

/// Whether this module serves the method.
pub fn implements(service: &str, method: &str) -> bool {
    let (base, _) = vop_method_base(method);
    match service {
        GOODS_SERVICE => matches!(base, "goodsList" | "query" | "getByGoodsIds"),
        URL_SERVICE => base == "genByGoodsId",
        _ => false,
    }
}

/// What a degraded caller gets: a well-formed, empty answer.
pub fn empty_result(service: &str, method: &str) -> Value {
    let (base, _) = vop_method_base(method);
    match (service, base) {
        (GOODS_SERVICE, "getByGoodsIds") => json!([]),
        (GOODS_SERVICE, _) => json!({"goodsInfoList": [], "total": 0, "page": 1, "pageSize": 0}),
        (URL_SERVICE, _) => json!({"urlInfoList": []}),
        _ => Value::Null,
    }
}

pub fn handle(vop: &mut VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let (base, _) = vop_method_base(call.method);
    match (call.service, base) {
        (GOODS_SERVICE, "goodsList") => goods_list(vop, call),
        (GOODS_SERVICE, "query") => query(vop, call),
        (GOODS_SERVICE, "getByGoodsIds") => get_by_goods_ids(vop, call),
        (URL_SERVICE, "genByGoodsId") => gen_by_goods_id(vop, call),
        _ => Err(GatewayError::new(
            "vipapis.path.Error",
            format!("no method {}.{}", call.service, call.method),
        )),
    }
}

/// Reads typed fields of an argument object, with errors that name the field.
pub struct Args<'a> {
    pub prefix: &'a str,
    pub object: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    /// The struct argument `name` of the body (`{"request": {...}}`).
    pub fn wrapped(body: &'a Value, name: &'a str) -> Result<Self, GatewayError> {
        match body.get(name) {
            Some(Value::Object(object)) => Ok(Self {
                prefix: name,
                object,
            }),
            Some(_) => Err(GatewayError::invalid_argument(format!(
                "{name}: expected a JSON object"
            ))),
            None => Err(GatewayError::new(
                "vipapis.miss-parameter",
                format!("缺少参数: {name} (the body must be {{\"{name}\": {{...}}}})"),
            )),
        }
    }

    /// The top-level arguments of the body.
    pub fn top(body: &'a Value) -> Result<Self, GatewayError> {
        match body {
            Value::Object(object) => Ok(Self { prefix: "", object }),
            _ => Err(GatewayError::invalid_argument(
                "body: expected a JSON object",
            )),
        }
    }

    fn path(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.prefix)
        }
    }

    pub fn opt_i64(&self, field: &str) -> Result<Option<i64>, GatewayError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
                GatewayError::invalid_argument(format!("{}: expected an integer", self.path(field)))
            }),
            Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
                GatewayError::invalid_argument(format!(
                    "{}: expected an integer, got {s:?}",
                    self.path(field)
                ))
            }),
            Some(other) => Err(GatewayError::invalid_argument(format!(
                "{}: expected an integer, got {other}",
                self.path(field)
            ))),
        }
    }

    pub fn opt_str(&self, field: &str) -> Result<Option<&'a str>, GatewayError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(GatewayError::invalid_argument(format!(
                "{}: expected a string, got {other}",
                self.path(field)
            ))),
        }
    }

    pub fn req_str(&self, field: &str) -> Result<&'a str, GatewayError> {
        self.opt_str(field)?.ok_or_else(|| {
            GatewayError::new(
                "vipapis.miss-parameter",
                format!("缺少参数: {}", self.path(field)),
            )
        })
    }

    pub fn str_list(&self, field: &str) -> Result<Vec<&'a str>, GatewayError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Err(GatewayError::new(
                "vipapis.miss-parameter",
                format!("缺少参数: {}", self.path(field)),
            )),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str().ok_or_else(|| {
                        GatewayError::invalid_argument(format!(
                            "{}: expected a list of strings",
                            self.path(field)
                        ))
                    })
                })
                .collect(),
            Some(_) => Err(GatewayError::invalid_argument(format!(
                "{}: expected a list of strings",
                self.path(field)
            ))),
        }
    }

    /// `page` (required, from 1) and `pageSize` (default, at most `max`).
    pub fn paging(&self, default_size: i64, max_size: i64) -> Result<(usize, usize), GatewayError> {
        let page = self.opt_i64("page")?.ok_or_else(|| {
            GatewayError::new(
                "vipapis.miss-parameter",
                format!("缺少参数: {}", self.path("page")),
            )
        })?;
        if page < 1 {
            return Err(GatewayError::invalid_argument(format!(
                "{}: expected 1 or more, got {page}",
                self.path("page")
            )));
        }
        let size = self.opt_i64("pageSize")?.unwrap_or(default_size);
        if !(1..=max_size).contains(&size) {
            return Err(GatewayError::invalid_argument(format!(
                "{}: expected 1 to {max_size}, got {size}",
                self.path("pageSize")
            )));
        }
        Ok((page as usize, size as usize))
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
    goods.sort_by_key(|g| key(g));
    if descending {
        goods.reverse();
    }
    Ok(())
}

fn page_of(goods: Vec<&Goods>, page: usize, size: usize) -> Value {
    let total = goods.len();
    let list: Vec<Value> = goods
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .map(Goods::to_json)
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

fn goods_list(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "request")?;
    let (page, size) = args.paging(20, 100)?;
    args.req_str("requestId")?;
    let mut goods: Vec<&Goods> = match args.opt_i64("sourceType")?.unwrap_or(0) {
        0 => {
            let channel = args.opt_i64("channelType")?.ok_or_else(|| {
                GatewayError::new(
                    "vipapis.miss-parameter",
                    "缺少参数: request.channelType (required when sourceType=0)",
                )
            })?;
            match channel {
                0 | 1 => vop
                    .union
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
            if !JX_CODES.iter().any(|(known, _)| *known == code) {
                return Err(GatewayError::invalid_argument(format!(
                    "request.jxCode: unknown 组货码 {code:?}"
                )));
            }
            vop.union
                .goods
                .iter()
                .filter(|g| g.jx_code == code)
                .collect()
        }
        other => {
            return Err(GatewayError::invalid_argument(format!(
                "request.sourceType: expected 0 or 1, got {other}"
            )));
        }
    };
    sort_goods(&mut goods, &args)?;
    Ok(page_of(goods, page, size))
}

fn query(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "request")?;
    let (page, size) = args.paging(20, 50)?;
    args.req_str("requestId")?;
    let keyword = args.req_str("keyword")?;
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
        .goods
        .iter()
        .filter(|g| {
            g.name.contains(keyword)
                || g.brand_name.contains(keyword)
                || g.category_name.contains(keyword)
        })
        .filter(|g| {
            low.is_none_or(|low| g.vip_price_fen >= low)
                && high.is_none_or(|high| g.vip_price_fen <= high)
        })
        .collect();
    sort_goods(&mut goods, &args)?;
    Ok(page_of(goods, page, size))
}

fn get_by_goods_ids(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::top(call.body)?;
    let ids = args.str_list("goodsIdList")?;
    if ids.is_empty() || ids.len() > 10 {
        return Err(GatewayError::invalid_argument(format!(
            "goodsIdList: expected 1 to 10 goods ids, got {}",
            ids.len()
        )));
    }
    args.req_str("requestId")?;
    Ok(Value::Array(
        ids.iter()
            .filter_map(|id| vop.union.by_id(id))
            .map(Goods::to_json)
            .collect(),
    ))
}

fn short_code(parts: &[&str]) -> String {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..6])
}

fn check_tag(field: &str, value: Option<&str>) -> Result<(), GatewayError> {
    if let Some(value) = value
        && value.len() > 128
    {
        return Err(GatewayError::invalid_argument(format!(
            "{field}: at most 128 bytes, got {}",
            value.len()
        )));
    }
    Ok(())
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// All link types of the guide (§4.2.3) for one goods item and owner.
pub fn links_for(
    goods: &Goods,
    owner: &str,
    chan_tag: Option<&str>,
    stat_param: Option<&str>,
) -> Value {
    let tag = chan_tag.unwrap_or_default();
    let stat = stat_param.unwrap_or_default();
    let code = short_code(&[&goods.goods_id, owner, tag, stat]);
    let evoke_free = short_code(&[&goods.goods_id, owner, tag, stat, "no-evoke"]);
    let ad_code = short_code(&[owner])[..8].to_lowercase();
    let third = if stat.is_empty() {
        ad_code.clone()
    } else {
        format!("{ad_code}*_*{stat}")
    };
    let tail = short_code(&[&goods.goods_id, owner]).to_lowercase();
    let tra = |prefix: &str| format!("{prefix}:C01V4kv4xby8mydr:{third}:mig_code:{tag}:{tail}");
    let dest = format!(
        "https://m.vip.com/product-{}-{}.html",
        goods.brand_store_sn, goods.goods_id
    );
    let long_payload =
        json!({"destUrl": dest, "chanTag": tag, "statParam": stat, "ucode": owner, "code": code});
    let long = base64::engine::general_purpose::STANDARD.encode(long_payload.to_string());
    let mut suffix = String::new();
    if !tag.is_empty() {
        suffix.push_str(&format!("&chanTag={}", encode(tag)));
    }
    if !stat.is_empty() {
        suffix.push_str(&format!("&statParam={}", encode(stat)));
    }
    json!({
        "source": goods.goods_id,
        "url": format!("https://t.vip.com/{code}"),
        "longUrl": format!("https://t.vip.com/redirect.php?url={}", encode(&long)),
        "ulUrl": format!("https://mst.vip.com/ul/{code}?goodsId={}{suffix}", goods.goods_id),
        "deeplinkUrl": format!("vipshop://showGoodsDetail?goodsId={}&tra_from={}", goods.goods_id, encode(&tra("tra"))),
        "traFrom": encode(&tra("adp")),
        "noEvokeUrl": format!("https://t.vip.com/{evoke_free}"),
        "noEvokeLongUrl": format!("https://t.vip.com/redirect.php?evoke=0&url={}", encode(&long)),
        "vipWxUrl": format!("pages/goodsDetail/goodsDetail?goodsId={}&tra_from={}", goods.goods_id, encode(&tra("adp"))),
        "vipWxCode": format!("wxe9714e742209d35f:{code}"),
        "vipQuickAppUrl": format!("hap://app/com.vipshop.quickapp/pages/goodsDetail?goodsId={}&tra_from={}", goods.goods_id, encode(&tra("tra"))),
    })
}

fn gen_by_goods_id(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::top(call.body)?;
    let ids = args.str_list("goodsIdList")?;
    if ids.is_empty() {
        return Err(GatewayError::invalid_argument(
            "goodsIdList: expected at least one goods id",
        ));
    }
    args.req_str("requestId")?;
    let chan_tag = args.opt_str("chanTag")?;
    let stat_param = args.opt_str("statParam")?;
    check_tag("chanTag", chan_tag)?;
    check_tag("statParam", stat_param)?;
    let owner = call.user.map_or(call.app_key, |user| user.open_id.as_str());
    let links: Vec<Value> = ids
        .iter()
        .filter_map(|id| vop.union.by_id(id))
        .map(|goods| links_for(goods, owner, chan_tag, stat_param))
        .collect();
    Ok(json!({ "urlInfoList": links }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn data_is_deterministic_per_seed() {
        let a = UnionData::generate(&mut ChaCha8Rng::seed_from_u64(7));
        let b = UnionData::generate(&mut ChaCha8Rng::seed_from_u64(7));
        let c = UnionData::generate(&mut ChaCha8Rng::seed_from_u64(8));
        assert_eq!(a.goods[5].goods_id, b.goods[5].goods_id);
        assert_ne!(a.goods[5].goods_id, c.goods[5].goods_id);
        assert_eq!(a.goods.len(), 120);
        assert!(
            a.goods
                .iter()
                .all(|g| g.goods_id.len() == 19 && g.vip_price_fen <= g.market_price_fen.max(990))
        );
    }

    #[test]
    fn money_is_exact() {
        assert_eq!(yuan(12_999), "129.99");
        assert_eq!(parse_fen("p", "99.5").expect("ok"), 9_950);
        assert_eq!(parse_fen("p", "12").expect("ok"), 1_200);
        assert!(parse_fen("p", "1.234").is_err());
        assert!(parse_fen("p", "-1").is_err());
    }
}
