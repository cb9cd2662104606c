//! UnionGoodsService: goods lists, keyword search, details and recommendations.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use shopbridge_core::money::{Decimal, de_opt_amount, ser_opt_amount};

use crate::VopError;
use crate::request::{Mode, VopRequest, ensure, to_json};

use super::{GOODS_SERVICE, new_request_id};

/// The guide's curated lists (§4.1.4 精选类目): `(jxCode, category)`. Used with `sourceType=1`.
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

/// Sort fields of the guide's §4.1.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// 价格
    Price,
    /// 折扣
    Discount,
    /// 佣金
    Commission,
    /// 佣金比例
    CommissionRate,
    /// 销量
    Sales,
}

impl SortField {
    pub fn as_str(self) -> &'static str {
        match self {
            SortField::Price => "PRICE",
            SortField::Discount => "DISCOUNT",
            SortField::Commission => "COMMISSION",
            SortField::CommissionRate => "COMM_RATE",
            SortField::Sales => "SALES",
        }
    }

    /// Parses `PRICE`, `DISCOUNT`, `COMMISSION`, `COMM_RATE` (or the SDK's `COMM_RATIO`), `SALES`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "PRICE" => Some(SortField::Price),
            "DISCOUNT" => Some(SortField::Discount),
            "COMMISSION" => Some(SortField::Commission),
            "COMM_RATE" | "COMM_RATIO" => Some(SortField::CommissionRate),
            "SALES" => Some(SortField::Sales),
            _ => None,
        }
    }
}

/// `CommonParams`: who is looking, for personalisation (`userRecommend` needs device type and value).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommonParams {
    /// 1 PC, 2 APP, 3 mini program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plat: Option<i32>,
    /// `IMEI`, `IDFA`, `OAID`...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// MD5 of the device id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<String>,
}

/// The optional "also return ..." flags of the goods methods; `false` flags are not sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoodsQueryFlags {
    /// 商品口碑 (comments).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub query_reputation: bool,
    /// 店铺服务能力 (DSR).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub query_store_service_capability: bool,
    /// 库存.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub query_stock: bool,
    /// 活动 (e.g. 唯品快抢).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub query_activity: bool,
    /// 预付.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub query_prepay: bool,
}

impl GoodsQueryFlags {
    /// Every flag on.
    pub fn all() -> Self {
        Self {
            query_reputation: true,
            query_store_service_capability: true,
            query_stock: true,
            query_activity: true,
            query_prepay: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StoreInfo {
    #[serde(default)]
    pub store_id: Option<String>,
    #[serde(default)]
    pub store_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CommentsInfo {
    #[serde(default)]
    pub comments: Option<i64>,
    /// Share of good comments, in percent.
    #[serde(default)]
    pub good_comments_share: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StoreServiceCapability {
    #[serde(default)]
    pub store_score: Option<String>,
    #[serde(default)]
    pub store_rank_rate: Option<String>,
}

/// One goods item. Money is exact (元).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GoodsInfo {
    pub goods_id: String,
    #[serde(default)]
    pub goods_name: Option<String>,
    #[serde(default)]
    pub dest_url: Option<String>,
    #[serde(default)]
    pub goods_thumb_url: Option<String>,
    #[serde(default)]
    pub goods_main_picture: Option<String>,
    #[serde(default)]
    pub category_id: Option<i64>,
    #[serde(default)]
    pub category_name: Option<String>,
    /// 0 自营, 1 MP.
    #[serde(default)]
    pub source_type: Option<i32>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub market_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub vip_price: Option<Decimal>,
    /// Percent.
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub commission_rate: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub commission: Option<Decimal>,
    /// vipPrice / marketPrice.
    #[serde(
        default,
        deserialize_with = "de_opt_amount",
        serialize_with = "ser_opt_amount"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub discount: Option<Decimal>,
    #[serde(default)]
    pub brand_name: Option<String>,
    #[serde(default)]
    pub brand_store_sn: Option<String>,
    #[serde(default)]
    pub brand_id: Option<i64>,
    #[serde(default)]
    pub scheme_start_time: Option<i64>,
    #[serde(default)]
    pub scheme_end_time: Option<i64>,
    #[serde(default)]
    pub sell_time_from: Option<i64>,
    #[serde(default)]
    pub sell_time_to: Option<i64>,
    /// 1 已抢光, 2 有库存, 3 有机会 (with `queryStock`).
    #[serde(default)]
    pub sale_stock_status: Option<i32>,
    /// 0 下架, 1 上架.
    #[serde(default)]
    pub status: Option<i32>,
    #[serde(default)]
    pub store_info: Option<StoreInfo>,
    /// With `queryReputation`.
    #[serde(default)]
    pub comments_info: Option<CommentsInfo>,
    /// With `queryStoreServiceCapability`.
    #[serde(default)]
    pub store_service_capability: Option<StoreServiceCapability>,
    /// With `queryPrepay`; its fields are not published, so it is kept as JSON.
    #[serde(default)]
    pub prepay_info: Option<Value>,
    /// With `queryActivity`; kept as JSON for the same reason.
    #[serde(default)]
    pub joined_activities: Option<Vec<Value>>,
    /// Every other field the platform sent, kept as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SortFieldInfo {
    pub field_name: String,
    #[serde(default)]
    pub field_desc: Option<String>,
}

/// `GoodsInfoResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GoodsInfoResponse {
    #[serde(default)]
    pub goods_info_list: Vec<GoodsInfo>,
    #[serde(default)]
    pub total: i64,
    #[serde(default)]
    pub page: i32,
    #[serde(default)]
    pub page_size: i32,
    #[serde(default)]
    pub sort_fields: Vec<SortFieldInfo>,
}

fn check_page(page: i32) -> Result<(), VopError> {
    ensure(page >= 1, "request.page", || {
        format!("expected 1 or more, got {page}")
    })
}

fn check_page_size(size: Option<i32>, max: i32) -> Result<(), VopError> {
    match size {
        Some(size) => ensure((1..=max).contains(&size), "request.pageSize", || {
            format!("expected 1 to {max}, got {size}")
        }),
        None => Ok(()),
    }
}

fn sort_order(descending: bool) -> i32 {
    i32::from(descending)
}

/// `goodsList` / `goodsListWithOauth`: the goods the union promotes, by channel or by jxCode.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoodsList {
    #[serde(skip)]
    pub mode: Mode,
    /// 0 超高佣, 1 出单爆款 (2 每日精选 is retired); required when `source_type` is 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<i32>,
    pub page: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i32>,
    pub request_id: String,
    /// 0 channels, 1 a curated list named by `jx_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jx_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_name: Option<String>,
    /// 0 ascending, 1 descending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i32>,
    #[serde(flatten)]
    pub flags: GoodsQueryFlags,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_params: Option<CommonParams>,
}

impl GoodsList {
    /// Page `page` of a channel (0 超高佣, 1 出单爆款).
    pub fn channel(mode: Mode, channel_type: i32, page: i32) -> Self {
        Self {
            mode,
            channel_type: Some(channel_type),
            page,
            page_size: None,
            request_id: new_request_id(),
            source_type: Some(0),
            jx_code: None,
            field_name: None,
            order: None,
            flags: GoodsQueryFlags::default(),
            common_params: None,
        }
    }

    /// Page `page` of a curated list (`sourceType=1`), e.g. one of [`JX_CODES`].
    pub fn curated(mode: Mode, jx_code: impl Into<String>, page: i32) -> Self {
        Self {
            channel_type: None,
            source_type: Some(1),
            jx_code: Some(jx_code.into()),
            ..Self::channel(mode, 0, page)
        }
    }

    pub fn page_size(mut self, page_size: i32) -> Self {
        self.page_size = Some(page_size);
        self
    }

    pub fn sort_by(mut self, field: SortField, descending: bool) -> Self {
        self.field_name = Some(field.as_str().to_owned());
        self.order = Some(sort_order(descending));
        self
    }

    pub fn flags(mut self, flags: GoodsQueryFlags) -> Self {
        self.flags = flags;
        self
    }
}

impl VopRequest for GoodsList {
    type Output = GoodsInfoResponse;
    const SERVICE: &'static str = GOODS_SERVICE;

    fn method(&self) -> String {
        self.mode.method("goodsList")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        Ok(json!({ "request": to_json("request", self)? }))
    }

    fn validate(&self) -> Result<(), VopError> {
        check_page(self.page)?;
        check_page_size(self.page_size, 100)?;
        match self.source_type.unwrap_or(0) {
            1 => ensure(
                self.jx_code.as_deref().is_some_and(|code| !code.is_empty()),
                "request.jxCode",
                || "required when sourceType is 1".into(),
            ),
            0 => match self.channel_type {
                Some(0 | 1) => Ok(()),
                Some(2) => Err(VopError::InvalidArgument {
                    field: "request.channelType".into(),
                    message: "2 (每日精选) has been retired; use 0 (超高佣) or 1 (出单爆款)".into(),
                }),
                Some(other) => Err(VopError::InvalidArgument {
                    field: "request.channelType".into(),
                    message: format!("expected 0 or 1, got {other}"),
                }),
                None => Err(VopError::InvalidArgument {
                    field: "request.channelType".into(),
                    message: "required when sourceType is 0 (channels)".into(),
                }),
            },
            other => Err(VopError::InvalidArgument {
                field: "request.sourceType".into(),
                message: format!("expected 0 (channels) or 1 (jxCode), got {other}"),
            }),
        }
    }
}

/// `query` / `queryWithOauth`: keyword search with an optional price range.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    #[serde(skip)]
    pub mode: Mode,
    pub keyword: String,
    pub page: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i32>,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_amount"
    )]
    pub price_start: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_amount"
    )]
    pub price_end: Option<Decimal>,
    #[serde(flatten)]
    pub flags: GoodsQueryFlags,
}

impl Query {
    /// The guide's page size limit for keyword search.
    pub const MAX_PAGE_SIZE: i32 = 50;

    pub fn new(mode: Mode, keyword: impl Into<String>, page: i32) -> Self {
        Self {
            mode,
            keyword: keyword.into(),
            page,
            page_size: None,
            request_id: new_request_id(),
            field_name: None,
            order: None,
            price_start: None,
            price_end: None,
            flags: GoodsQueryFlags::default(),
        }
    }

    pub fn page_size(mut self, page_size: i32) -> Self {
        self.page_size = Some(page_size);
        self
    }

    pub fn price_range(mut self, start: Option<Decimal>, end: Option<Decimal>) -> Self {
        self.price_start = start;
        self.price_end = end;
        self
    }

    pub fn sort_by(mut self, field: SortField, descending: bool) -> Self {
        self.field_name = Some(field.as_str().to_owned());
        self.order = Some(sort_order(descending));
        self
    }
}

impl VopRequest for Query {
    type Output = GoodsInfoResponse;
    const SERVICE: &'static str = GOODS_SERVICE;

    fn method(&self) -> String {
        self.mode.method("query")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        Ok(json!({ "request": to_json("request", self)? }))
    }

    fn validate(&self) -> Result<(), VopError> {
        ensure(!self.keyword.trim().is_empty(), "request.keyword", || {
            "required".into()
        })?;
        check_page(self.page)?;
        check_page_size(self.page_size, Self::MAX_PAGE_SIZE)?;
        for (field, price) in [
            ("request.priceStart", self.price_start),
            ("request.priceEnd", self.price_end),
        ] {
            if let Some(price) = price {
                ensure(price >= Decimal::ZERO, field, || {
                    format!("expected a non-negative amount, got {price}")
                })?;
            }
        }
        if let (Some(start), Some(end)) = (self.price_start, self.price_end) {
            ensure(start <= end, "request.priceStart", || {
                format!("{start} is above priceEnd {end}")
            })?;
        }
        Ok(())
    }
}

/// `getByGoodsIds` / `getByGoodsIdsWithOauth`: details of at most 10 goods.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetByGoodsIds {
    #[serde(skip)]
    pub mode: Mode,
    pub goods_id_list: Vec<String>,
    pub request_id: String,
}

impl GetByGoodsIds {
    /// The guide's limit: "商品集合最大为10".
    pub const MAX_IDS: usize = 10;

    pub fn new(mode: Mode, goods_ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            mode,
            goods_id_list: goods_ids.into_iter().map(Into::into).collect(),
            request_id: new_request_id(),
        }
    }
}

impl VopRequest for GetByGoodsIds {
    type Output = Vec<GoodsInfo>;
    const SERVICE: &'static str = GOODS_SERVICE;

    fn method(&self) -> String {
        self.mode.method("getByGoodsIds")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        to_json("goodsIdList", self)
    }

    fn validate(&self) -> Result<(), VopError> {
        let count = self.goods_id_list.len();
        ensure((1..=Self::MAX_IDS).contains(&count), "goodsIdList", || {
            format!("expected 1 to {} goods ids, got {count}", Self::MAX_IDS)
        })?;
        ensure(
            self.goods_id_list.iter().all(|id| !id.trim().is_empty()),
            "goodsIdList",
            || "goods ids must not be empty".into(),
        )
    }
}

/// `similarRecommend` / `similarRecommendWithOauth`: goods like `goods_id` (at most 40).
///
/// The body shape (`{"request": {goodsId, page, pageSize, requestId, commonParams, ...}}`) is
/// not in the official SDK copies; it follows third-party clients.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimilarRecommend {
    #[serde(skip)]
    pub mode: Mode,
    pub goods_id: String,
    pub page: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i32>,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_params: Option<CommonParams>,
    #[serde(flatten)]
    pub flags: GoodsQueryFlags,
}

impl SimilarRecommend {
    pub fn new(mode: Mode, goods_id: impl Into<String>) -> Self {
        Self {
            mode,
            goods_id: goods_id.into(),
            page: 1,
            page_size: None,
            request_id: new_request_id(),
            common_params: None,
            flags: GoodsQueryFlags::default(),
        }
    }
}

impl VopRequest for SimilarRecommend {
    type Output = GoodsInfoResponse;
    const SERVICE: &'static str = GOODS_SERVICE;

    fn method(&self) -> String {
        self.mode.method("similarRecommend")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        Ok(json!({ "request": to_json("request", self)? }))
    }

    fn validate(&self) -> Result<(), VopError> {
        ensure(!self.goods_id.trim().is_empty(), "request.goodsId", || {
            "required".into()
        })?;
        check_page(self.page)?;
        check_page_size(self.page_size, 100)
    }
}

/// `userRecommend` / `userRecommendWithOauth`: goods for a device (at most 40).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecommend {
    #[serde(skip)]
    pub mode: Mode,
    pub page: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i32>,
    pub request_id: String,
    pub common_params: CommonParams,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chan_tag: Option<String>,
}

impl UserRecommend {
    /// Recommendations for a device: `device_type` (IMEI, IDFA, OAID...) and the MD5 of its id.
    pub fn new(
        mode: Mode,
        device_type: impl Into<String>,
        device_value_md5: impl Into<String>,
    ) -> Self {
        Self {
            mode,
            page: 1,
            page_size: None,
            request_id: new_request_id(),
            common_params: CommonParams {
                device_type: Some(device_type.into()),
                device_value: Some(device_value_md5.into()),
                ..CommonParams::default()
            },
            chan_tag: None,
        }
    }
}

impl VopRequest for UserRecommend {
    type Output = GoodsInfoResponse;
    const SERVICE: &'static str = GOODS_SERVICE;

    fn method(&self) -> String {
        self.mode.method("userRecommend")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        Ok(json!({ "request": to_json("request", self)? }))
    }

    fn validate(&self) -> Result<(), VopError> {
        check_page(self.page)?;
        check_page_size(self.page_size, 100)?;
        for (field, value) in [
            (
                "request.commonParams.deviceType",
                &self.common_params.device_type,
            ),
            (
                "request.commonParams.deviceValue",
                &self.common_params.device_value,
            ),
        ] {
            ensure(
                value.as_deref().is_some_and(|v| !v.trim().is_empty()),
                field,
                || "required by userRecommend".into(),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn false_flags_are_not_sent_and_true_ones_are() {
        let plain = GoodsList::channel(Mode::Channel, 0, 1)
            .arguments()
            .expect("json");
        assert!(plain["request"].get("queryStock").is_none());
        let flagged = GoodsList::channel(Mode::Channel, 0, 1)
            .flags(GoodsQueryFlags {
                query_stock: true,
                ..GoodsQueryFlags::default()
            })
            .sort_by(SortField::CommissionRate, true)
            .arguments()
            .expect("json");
        assert_eq!(flagged["request"]["queryStock"], true);
        assert_eq!(flagged["request"]["fieldName"], "COMM_RATE");
        assert_eq!(flagged["request"]["order"], 1);
    }

    #[test]
    fn limits_name_their_field() {
        let err = Query::new(Mode::Channel, "裙", 1)
            .page_size(51)
            .validate()
            .expect_err("51");
        assert!(
            err.to_string().contains("request.pageSize") && err.to_string().contains("50"),
            "{err}"
        );
        let err = GoodsList::curated(Mode::Channel, "", 1)
            .validate()
            .expect_err("empty jxCode");
        assert!(err.to_string().contains("request.jxCode"));
        let err = GoodsList::channel(Mode::Channel, 2, 1)
            .validate()
            .expect_err("retired");
        assert!(err.to_string().contains("retired"));
        let mut user = UserRecommend::new(Mode::Channel, "IMEI", "");
        assert!(
            user.validate()
                .expect_err("no value")
                .to_string()
                .contains("deviceValue")
        );
        user.common_params.device_value = Some("e10adc3949ba59abbe56e057f20f883e".into());
        user.validate().expect("complete");
        let price = Query::new(Mode::Channel, "x", 1)
            .price_range(Some(Decimal::new(100, 0)), Some(Decimal::new(50, 0)))
            .validate()
            .expect_err("inverted range");
        assert!(price.to_string().contains("priceStart"));
        assert_eq!(
            SortField::parse("comm_ratio"),
            Some(SortField::CommissionRate)
        );
    }

    #[test]
    fn query_prices_are_sent_as_decimal_strings() {
        let body = Query::new(Mode::Channel, "裙", 1)
            .price_range(Some("99.5".parse().expect("decimal")), None)
            .arguments()
            .expect("json");
        assert_eq!(body["request"]["priceStart"], "99.5");
        assert!(body["request"].get("priceEnd").is_none());
    }
}
