//! UnionGoodsService: goods lists and goods details.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::VopError;
use crate::request::{Mode, VopRequest, ensure, to_json};

use super::{GOODS_SERVICE, new_request_id};

/// One goods item. Money fields are the platform's decimal strings (元).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub market_price: Option<String>,
    #[serde(default)]
    pub vip_price: Option<String>,
    #[serde(default)]
    pub commission_rate: Option<String>,
    #[serde(default)]
    pub commission: Option<String>,
    #[serde(default)]
    pub discount: Option<String>,
    #[serde(default)]
    pub brand_name: Option<String>,
    #[serde(default)]
    pub brand_store_sn: Option<String>,
    #[serde(default)]
    pub sell_time_from: Option<i64>,
    #[serde(default)]
    pub sell_time_to: Option<i64>,
    #[serde(default)]
    pub status: Option<i32>,
    /// Every other field the platform sent, kept as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GoodsInfoResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
        }
    }

    pub fn page_size(mut self, page_size: i32) -> Self {
        self.page_size = Some(page_size);
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
        ensure(self.page >= 1, "request.page", || {
            format!("expected 1 or more, got {}", self.page)
        })?;
        if let Some(size) = self.page_size {
            ensure((1..=100).contains(&size), "request.pageSize", || {
                format!("expected 1 to 100, got {size}")
            })?;
        }
        if self.source_type == Some(1) {
            ensure(
                self.jx_code.as_deref().is_some_and(|code| !code.is_empty()),
                "request.jxCode",
                || "required when sourceType is 1".into(),
            )?;
        } else {
            ensure(self.channel_type.is_some(), "request.channelType", || {
                "required when sourceType is 0 (channels)".into()
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
        })
    }
}
