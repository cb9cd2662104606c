//! UnionUrlService: tracking links for goods.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::VopError;
use crate::request::{Mode, VopRequest, ensure, to_json};

use super::{URL_SERVICE, new_request_id};

/// The guide's limit on `chanTag` and `statParam`: at most 128 bytes each.
pub const MAX_TAG_BYTES: usize = 128;

/// Every link type of one generated link.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UrlInfo {
    pub source: Option<String>,
    pub url: Option<String>,
    pub long_url: Option<String>,
    pub ul_url: Option<String>,
    pub deeplink_url: Option<String>,
    pub tra_from: Option<String>,
    pub no_evoke_url: Option<String>,
    pub no_evoke_long_url: Option<String>,
    pub vip_wx_url: Option<String>,
    pub vip_wx_code: Option<String>,
    pub vip_quick_app_url: Option<String>,
}

/// `UrlGenResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UrlGenResponse {
    pub url_info_list: Vec<UrlInfo>,
}

/// `genByGoodsId` / `genByGoodsIdWithOauth`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenByGoodsId {
    #[serde(skip)]
    pub mode: Mode,
    pub goods_id_list: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chan_tag: Option<String>,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stat_param: Option<String>,
}

impl GenByGoodsId {
    pub fn new(mode: Mode, goods_ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            mode,
            goods_id_list: goods_ids.into_iter().map(Into::into).collect(),
            chan_tag: None,
            request_id: new_request_id(),
            stat_param: None,
        }
    }

    pub fn chan_tag(mut self, chan_tag: impl Into<String>) -> Self {
        self.chan_tag = Some(chan_tag.into());
        self
    }

    pub fn stat_param(mut self, stat_param: impl Into<String>) -> Self {
        self.stat_param = Some(stat_param.into());
        self
    }
}

impl VopRequest for GenByGoodsId {
    type Output = UrlGenResponse;
    const SERVICE: &'static str = URL_SERVICE;

    fn method(&self) -> String {
        self.mode.method("genByGoodsId")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        to_json("goodsIdList", self)
    }

    fn validate(&self) -> Result<(), VopError> {
        ensure(!self.goods_id_list.is_empty(), "goodsIdList", || {
            "expected at least one goods id".into()
        })?;
        for (field, value) in [("chanTag", &self.chan_tag), ("statParam", &self.stat_param)] {
            if let Some(value) = value {
                ensure(value.len() <= MAX_TAG_BYTES, field, || {
                    format!("at most {MAX_TAG_BYTES} bytes, got {}", value.len())
                })?;
            }
        }
        Ok(())
    }
}
