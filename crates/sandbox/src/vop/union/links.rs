//! Tracking links: generation (every link type), the registry that resolves them, link checks
//! in text, and reading a clicked link back into its owner, chanTag and statParam.

use std::collections::HashMap;

use base64::Engine;
use hmac::digest::Digest;
use md5::Md5;
use serde_json::{Value, json};

use super::super::VopState;
use super::super::args::Args;
use super::super::gateway::{Call, GatewayError};
use super::catalog::Goods;

/// What a generated link stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// The app key (channel mode) or the authorized user's open id (tool-provider mode).
    pub owner: String,
    pub goods_id: Option<String>,
    pub land_url: String,
    pub chan_tag: Option<String>,
    pub stat_param: Option<String>,
}

/// Every link generated so far, by its code.
#[derive(Debug, Default)]
pub struct LinkRegistry {
    links: HashMap<String, LinkRecord>,
}

impl LinkRegistry {
    pub fn get(&self, code: &str) -> Option<&LinkRecord> {
        self.links.get(code)
    }
}

fn code_of(parts: &[&str]) -> String {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    // Alphanumeric only, so that codes never contain tra_from's separators.
    hex::encode(&digest[..5])
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The tra_from of a link: `prefix:C01...:[adCode]*_*[statParam]:mig_code:[chanTag]:[code]`.
fn tra_from(prefix: &str, ad_code: &str, record: &LinkRecord, code: &str) -> String {
    let stat = record
        .stat_param
        .as_deref()
        .map(|s| format!("*_*{s}"))
        .unwrap_or_default();
    let tag = record.chan_tag.as_deref().unwrap_or_default();
    format!("{prefix}:C01V4kv4xby8mydr:{ad_code}{stat}:mig_code:{tag}:{code}")
}

/// Registers a link and returns its `UrlInfo` with every link type of §4.2.3.
pub fn generate(registry: &mut LinkRegistry, source: &str, record: LinkRecord) -> Value {
    let tag = record.chan_tag.as_deref().unwrap_or_default();
    let stat = record.stat_param.as_deref().unwrap_or_default();
    let code = code_of(&[source, &record.owner, tag, stat]);
    let ad_code = code_of(&[&record.owner])[..8].to_owned();
    let adp = encode(&tra_from("adp", &ad_code, &record, &code));
    let tra = encode(&tra_from("tra", &ad_code, &record, &code));
    let payload = json!({"destUrl": record.land_url, "code": code});
    let long = base64::engine::general_purpose::STANDARD.encode(payload.to_string());
    let goods_part = record
        .goods_id
        .as_deref()
        .map(|id| format!("goodsId={id}&"))
        .unwrap_or_default();
    let info = json!({
        "source": source,
        "url": format!("https://t.vip.com/{code}"),
        "longUrl": format!("https://t.vip.com/redirect.php?url={}", encode(&long)),
        "ulUrl": format!("https://mst.vip.com/ul/{code}?{goods_part}tra_from={tra}"),
        "deeplinkUrl": format!("vipshop://showGoodsDetail?{goods_part}tra_from={tra}"),
        "traFrom": adp,
        "noEvokeUrl": format!("https://t.vip.com/{code}?evoke=0"),
        "noEvokeLongUrl": format!("https://t.vip.com/redirect.php?evoke=0&url={}", encode(&long)),
        "vipWxUrl": record.goods_id.as_deref().map(|id| format!("pages/goodsDetail/goodsDetail?goodsId={id}&tra_from={adp}")),
        "vipWxCode": record.goods_id.as_deref().map(|_| format!("wxe9714e742209d35f:{code}")),
        "vipQuickAppUrl": format!("hap://app/com.vipshop.quickapp/pages/goodsDetail?{goods_part}tra_from={tra}"),
    });
    registry.links.insert(code, record);
    info
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

fn owner(call: &Call<'_>) -> String {
    call.user
        .map_or_else(|| call.app_key.to_owned(), |user| user.open_id.clone())
}

pub fn gen_by_goods_id(vop: &mut VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
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
    let owner = owner(call);
    let union = &mut vop.union;
    let links: Vec<Value> = ids
        .iter()
        .filter_map(|id| union.catalog.by_id(id).cloned())
        .map(|goods: Goods| {
            let record = LinkRecord {
                owner: owner.clone(),
                land_url: goods.dest_url(),
                goods_id: Some(goods.goods_id.clone()),
                chan_tag: chan_tag.map(str::to_owned),
                stat_param: stat_param.map(str::to_owned),
            };
            generate(&mut union.links, &goods.goods_id, record)
        })
        .collect();
    Ok(json!({ "urlInfoList": links }))
}

/// The goods id of a Vipshop goods page (`.../product-{brand}-{goodsId}.html`).
pub fn goods_id_in_page(url: &url::Url) -> Option<String> {
    let last = url.path_segments()?.next_back()?;
    let id = last
        .strip_prefix("product-")?
        .strip_suffix(".html")?
        .rsplit_once('-')?
        .1;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_owned())
}

fn is_vip_host(url: &url::Url) -> bool {
    url.host_str()
        .is_some_and(|host| host == "vip.com" || host.ends_with(".vip.com"))
}

pub fn gen_by_vip_url(vop: &mut VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::top(call.body)?;
    let urls = args.str_list("urlList")?;
    if urls.is_empty() {
        return Err(GatewayError::invalid_argument(
            "urlList: expected at least one Vipshop URL",
        ));
    }
    args.req_str("requestId")?;
    let chan_tag = args.opt_str("chanTag")?;
    let stat_param = args.opt_str("statParam")?;
    check_tag("chanTag", chan_tag)?;
    check_tag("statParam", stat_param)?;
    let owner = owner(call);
    let tool_mode = call.user.is_some();
    let mut links = Vec::new();
    for raw in urls {
        let Ok(parsed) = url::Url::parse(raw) else {
            continue;
        };
        if !is_vip_host(&parsed) {
            continue;
        }
        // Tool providers cannot convert the m.vip.com home page (§4.2.2).
        let home = parsed.host_str() == Some("m.vip.com") && matches!(parsed.path(), "" | "/");
        if tool_mode && home {
            continue;
        }
        let record = LinkRecord {
            owner: owner.clone(),
            goods_id: goods_id_in_page(&parsed),
            land_url: raw.to_owned(),
            chan_tag: chan_tag.map(str::to_owned),
            stat_param: stat_param.map(str::to_owned),
        };
        links.push(generate(&mut vop.union.links, raw, record));
    }
    Ok(json!({ "urlInfoList": links }))
}

/// `vipLinkCheck`: which links in the text are Vipshop's, resolving this sandbox's short links.
pub fn vip_link_check(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "vipLinkCheckReq")?;
    args.req_str("source")?;
    let content = args.req_str("content")?;
    let chars = content.chars().count();
    if chars > 10_000 {
        return Err(GatewayError::invalid_argument(format!(
            "vipLinkCheckReq.content: at most 10000 characters, got {chars}"
        )));
    }
    let mut success = serde_json::Map::new();
    let mut fail = serde_json::Map::new();
    for token in content.split(|c: char| c.is_whitespace() || !c.is_ascii()) {
        let Some(start) = token.find("http").or_else(|| token.find("vipshop://")) else {
            continue;
        };
        let link = token[start..].trim_end_matches(['.', ',', ';', ')', '"', '\'']);
        let Ok(parsed) = url::Url::parse(link) else {
            continue;
        };
        if parsed.scheme() != "vipshop" && !is_vip_host(&parsed) {
            fail.insert(link.to_owned(), json!({"linkType": "NOT_VIPSHOP_LINK"}));
            continue;
        }
        let resolved = click_code(link).and_then(|code| vop.union.links.get(&code).cloned());
        let goods_id = resolved
            .as_ref()
            .and_then(|record| record.goods_id.clone())
            .or_else(|| goods_id_in_page(&parsed))
            .or_else(|| {
                parsed
                    .query_pairs()
                    .find(|(k, _)| k == "goodsId")
                    .map(|(_, v)| v.into_owned())
            });
        let land = resolved.map_or_else(|| link.to_owned(), |record| record.land_url);
        let entry = match goods_id {
            Some(id) => json!({"linkType": "GOODS", "landUrl": land, "goodsId": id}),
            None => json!({"linkType": "OTHER", "landUrl": land}),
        };
        success.insert(link.to_owned(), entry);
    }
    Ok(json!({ "successMap": success, "failMap": fail }))
}

/// Where a clicked link leads and to whom its orders belong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub record: LinkRecord,
    pub chan_tag: Option<String>,
    pub stat_param: Option<String>,
}

fn decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("v={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// The decoded `tra_from` of a link (or the link itself when it is a bare tra_from value).
fn tra_from_of(link: &str) -> Option<String> {
    if let Some(query) = link.split_once('?').map(|(_, q)| q) {
        for piece in query.split('&') {
            if let Some(value) = piece.strip_prefix("tra_from=") {
                return Some(decode(value));
            }
        }
        return None;
    }
    let decoded = decode(link);
    (decoded.split(':').count() >= 6).then_some(decoded)
}

fn query_param(link: &str, name: &str) -> Option<String> {
    let query = link.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}

/// The registry code a link carries: in its path, its long-link payload or its tra_from.
fn click_code(link: &str) -> Option<String> {
    if let Some(tra) = tra_from_of(link) {
        return tra.split(':').nth(5).map(str::to_owned);
    }
    let parsed = url::Url::parse(link).ok()?;
    if let Some(payload) = parsed
        .query_pairs()
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.into_owned())
    {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .ok()?;
        let json: Value = serde_json::from_slice(&bytes).ok()?;
        return json.get("code").and_then(Value::as_str).map(str::to_owned);
    }
    parsed.path_segments()?.next_back().map(str::to_owned)
}

/// Reads a clicked link: the registered link it came from, with the chanTag and statParam a
/// splice may have changed. A browser sees the `chanTag`/`statParam` query parameters; the app
/// (deeplink, mini program, universal link on iOS) sees the tra_from fields.
pub fn attribute(registry: &LinkRegistry, link: &str) -> Option<Attribution> {
    let link = link.trim();
    let record = registry.get(&click_code(link)?)?.clone();
    let mut chan_tag = record.chan_tag.clone();
    let mut stat_param = record.stat_param.clone();
    let is_http = link.starts_with("http://") || link.starts_with("https://");
    if is_http
        && (query_param(link, "chanTag").is_some() || query_param(link, "statParam").is_some())
    {
        chan_tag = query_param(link, "chanTag").or(chan_tag);
        stat_param = query_param(link, "statParam").or(stat_param);
    } else if let Some(tra) = tra_from_of(link) {
        let fields: Vec<&str> = tra.split(':').collect();
        chan_tag = fields
            .get(4)
            .filter(|tag| !tag.is_empty())
            .map(|tag| (*tag).to_owned());
        stat_param = fields
            .get(2)
            .and_then(|third| third.split_once("*_*"))
            .map(|(_, stat)| stat.to_owned())
            .filter(|stat| !stat.is_empty());
    }
    Some(Attribution {
        record,
        chan_tag,
        stat_param,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> LinkRecord {
        LinkRecord {
            owner: "app".into(),
            goods_id: Some("6919000000000000001".into()),
            land_url: "https://m.vip.com/product-1-6919000000000000001.html".into(),
            chan_tag: Some("pid_1".into()),
            stat_param: Some("s1".into()),
        }
    }

    #[test]
    fn every_link_type_resolves_to_its_record() {
        let mut registry = LinkRegistry::default();
        let info = generate(&mut registry, "6919000000000000001", record());
        for field in [
            "url",
            "longUrl",
            "ulUrl",
            "deeplinkUrl",
            "traFrom",
            "noEvokeUrl",
            "noEvokeLongUrl",
            "vipWxUrl",
            "vipQuickAppUrl",
        ] {
            let link = info[field].as_str().unwrap_or_else(|| panic!("{field}"));
            let found =
                attribute(&registry, link).unwrap_or_else(|| panic!("{field} {link} resolves"));
            assert_eq!(found.chan_tag.as_deref(), Some("pid_1"), "{field}");
            assert_eq!(found.stat_param.as_deref(), Some("s1"), "{field}");
        }
        assert!(
            info["traFrom"]
                .as_str()
                .is_some_and(|t| decode(t).starts_with("adp:"))
        );
    }

    #[test]
    fn spliced_values_win() {
        let mut registry = LinkRegistry::default();
        let info = generate(&mut registry, "g", record());
        let short = format!(
            "{}?chanTag=new_pid&statParam=new_s",
            info["url"].as_str().expect("url")
        );
        let found = attribute(&registry, &short).expect("resolves");
        assert_eq!(
            (found.chan_tag.as_deref(), found.stat_param.as_deref()),
            (Some("new_pid"), Some("new_s"))
        );
        let deeplink = info["deeplinkUrl"]
            .as_str()
            .expect("deeplink")
            .replace("%3Apid_1%3A", "%3Aother%3A");
        assert_eq!(
            attribute(&registry, &deeplink)
                .expect("resolves")
                .chan_tag
                .as_deref(),
            Some("other")
        );
        assert!(attribute(&registry, "https://t.vip.com/unknown").is_none());
    }
}
