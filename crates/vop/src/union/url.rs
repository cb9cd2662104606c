//! UnionUrlService: tracking links for goods and Vipshop URLs, and link detection in text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::VopError;
use crate::request::{Mode, VopRequest, ensure, to_json};

use super::{URL_SERVICE, new_request_id};

/// The guide's limit on `chanTag` and `statParam`: at most 128 bytes each.
pub const MAX_TAG_BYTES: usize = 128;
/// The Vipshop WeChat mini-program's APPID (for `vipWxUrl` in a channel's own mini program).
pub const VIPSHOP_MINI_PROGRAM_APPID: &str = "wxe9714e742209d35f";
/// The domains `genByVIPUrl` converts reliably (§4.2.1); others may fail to open the app.
pub const SUPPORTED_VIP_URL_HOSTS: [&str; 2] = ["m.vip.com", "mst.vip.com"];
/// `vipLinkCheck`'s limit on `content`.
pub const MAX_LINK_CHECK_CHARS: usize = 10_000;

/// Every link type of one generated link (§4.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct UrlInfo {
    /// The goods id or Vipshop URL the link was made for.
    pub source: Option<String>,
    /// 短链.
    pub url: Option<String>,
    /// 长链.
    pub long_url: Option<String>,
    /// 通用链接 (opens the app directly on iOS when installed).
    pub ul_url: Option<String>,
    /// `vipshop://` deeplink.
    pub deeplink_url: Option<String>,
    /// 小程序 CPS parameter (starts with `adp:` once decoded).
    pub tra_from: Option<String>,
    pub no_evoke_url: Option<String>,
    pub no_evoke_long_url: Option<String>,
    /// 小程序 path (goods links only).
    pub vip_wx_url: Option<String>,
    pub vip_wx_code: Option<String>,
    pub vip_quick_app_url: Option<String>,
}

/// `UrlGenResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct UrlGenResponse {
    pub url_info_list: Vec<UrlInfo>,
}

fn check_tags(chan_tag: &Option<String>, stat_param: &Option<String>) -> Result<(), VopError> {
    for (field, value) in [("chanTag", chan_tag), ("statParam", stat_param)] {
        if let Some(value) = value {
            ensure(value.len() <= MAX_TAG_BYTES, field, || {
                format!("at most {MAX_TAG_BYTES} bytes, got {}", value.len())
            })?;
            // `:` separates the fields of `tra_from`: a tag holding one would shift them and
            // the link would no longer attribute its orders.
            ensure(!value.contains(':'), field, || {
                format!("must not contain \":\", got {value:?}")
            })?;
        }
    }
    Ok(())
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

    /// The PID / 渠道标识 orders from this link are attributed to.
    pub fn chan_tag(mut self, chan_tag: impl Into<String>) -> Self {
        self.chan_tag = Some(chan_tag.into());
        self
    }

    /// A custom statistics parameter returned with the orders.
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
        check_tags(&self.chan_tag, &self.stat_param)
    }
}

/// `genByVIPUrl` / `genByVIPUrlWithOauth`: tracking links for Vipshop pages.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenByVipUrl {
    #[serde(skip)]
    pub mode: Mode,
    pub url_list: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chan_tag: Option<String>,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stat_param: Option<String>,
}

impl GenByVipUrl {
    pub fn new(mode: Mode, urls: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            mode,
            url_list: urls.into_iter().map(Into::into).collect(),
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

    /// URLs outside m.vip.com / mst.vip.com: the guide warns they may fail to open the app.
    pub fn warnings(&self) -> Vec<String> {
        self.url_list
            .iter()
            .filter_map(|raw| {
                let host = url::Url::parse(raw).ok().and_then(|url| url.host_str().map(str::to_owned));
                match host {
                    Some(host) if SUPPORTED_VIP_URL_HOSTS.contains(&host.as_str()) => None,
                    Some(host) => Some(format!(
                        "{raw}: {host} is not m.vip.com or mst.vip.com; the converted link may fail to open the Vipshop app"
                    )),
                    None => Some(format!("{raw}: not an absolute URL")),
                }
            })
            .collect()
    }
}

impl VopRequest for GenByVipUrl {
    type Output = UrlGenResponse;
    const SERVICE: &'static str = URL_SERVICE;

    fn method(&self) -> String {
        self.mode.method("genByVIPUrl")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        to_json("urlList", self)
    }

    fn validate(&self) -> Result<(), VopError> {
        ensure(!self.url_list.is_empty(), "urlList", || {
            "expected at least one Vipshop URL".into()
        })?;
        for raw in &self.url_list {
            let parsed = url::Url::parse(raw).map_err(|err| VopError::InvalidArgument {
                field: "urlList".into(),
                message: format!("{raw:?} is not an absolute URL: {err}"),
            })?;
            let vip = parsed
                .host_str()
                .is_some_and(|host| host == "vip.com" || host.ends_with(".vip.com"));
            ensure(vip, "urlList", || format!("{raw:?} is not a vip.com URL"))?;
        }
        for warning in self.warnings() {
            tracing::warn!("genByVIPUrl: {warning}");
        }
        check_tags(&self.chan_tag, &self.stat_param)
    }
}

/// `VipLinkTypeEnum`, sent by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VipLinkType {
    IllegalLink,
    NotVipshopLink,
    Goods,
    Brand,
    Other,
}

/// `VipLinkCheckVO`: what one link in the text is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VipLinkCheckVo {
    pub link_type: VipLinkType,
    #[serde(default)]
    pub land_url: Option<String>,
    #[serde(default)]
    pub goods_id: Option<String>,
    /// 专场 id.
    #[serde(default)]
    pub brand_id: Option<String>,
}

/// `VipLinkCheckResp`, keyed by the link found in the text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VipLinkCheckResp {
    pub success_map: BTreeMap<String, VipLinkCheckVo>,
    pub fail_map: BTreeMap<String, VipLinkCheckVo>,
}

/// `vipLinkCheck` / `vipLinkCheckWithOuth` (the official name keeps the typo).
#[derive(Debug, Clone)]
pub struct VipLinkCheck {
    pub mode: Mode,
    /// Free text identifying the calling application (no business meaning).
    pub source: String,
    /// The text to scan, at most 10,000 characters.
    pub content: String,
}

impl VipLinkCheck {
    pub fn new(mode: Mode, source: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            mode,
            source: source.into(),
            content: content.into(),
        }
    }
}

impl VopRequest for VipLinkCheck {
    type Output = VipLinkCheckResp;
    const SERVICE: &'static str = URL_SERVICE;

    fn method(&self) -> String {
        self.mode.method("vipLinkCheck")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        Ok(json!({ "vipLinkCheckReq": { "source": self.source, "content": self.content } }))
    }

    fn validate(&self) -> Result<(), VopError> {
        ensure(
            !self.source.trim().is_empty(),
            "vipLinkCheckReq.source",
            || "required (any name of the caller)".into(),
        )?;
        let chars = self.content.chars().count();
        ensure(
            (1..=MAX_LINK_CHECK_CHARS).contains(&chars),
            "vipLinkCheckReq.content",
            || format!("expected 1 to {MAX_LINK_CHECK_CHARS} characters, got {chars}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vip_url_checks_and_warnings() {
        let ok = GenByVipUrl::new(Mode::Channel, ["https://m.vip.com/product-1-2.html"]);
        ok.validate().expect("m.vip.com");
        assert!(ok.warnings().is_empty());
        let other = GenByVipUrl::new(Mode::Channel, ["https://www.vip.com/detail-1-2.html"]);
        other.validate().expect("still a vip.com URL");
        assert_eq!(other.warnings().len(), 1);
        let foreign = GenByVipUrl::new(Mode::Channel, ["https://item.taobao.com/item.htm?id=1"]);
        assert!(
            foreign
                .validate()
                .expect_err("not vip")
                .to_string()
                .contains("not a vip.com URL")
        );
        let long = GenByGoodsId::new(Mode::Channel, ["1"]).chan_tag("x".repeat(129));
        assert!(
            long.validate()
                .expect_err("129 bytes")
                .to_string()
                .contains("chanTag")
        );
        // 43 three-byte characters are 129 bytes.
        let wide = GenByGoodsId::new(Mode::Channel, ["1"]).stat_param("唯".repeat(43));
        assert!(wide.validate().is_err());
    }

    #[test]
    fn link_check_uses_the_official_typo_and_wrapper() {
        let check = VipLinkCheck::new(
            Mode::ToolProvider,
            "shopbridge",
            "看看 https://m.vip.com/product-1-2.html",
        );
        assert_eq!(check.method(), "vipLinkCheckWithOuth");
        assert_eq!(
            check.arguments().expect("json")["vipLinkCheckReq"]["source"],
            "shopbridge"
        );
        let long = VipLinkCheck::new(Mode::Channel, "s", "a".repeat(10_001));
        assert!(
            long.validate()
                .expect_err("too long")
                .to_string()
                .contains("10000")
        );
    }
}
