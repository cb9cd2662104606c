//! Offline link tools (§4.2.5-4.2.6): splice `chanTag`/`statParam` into links Vipshop already
//! generated, rewrite `tra_from`, and find Vipshop links and goods ids in free text.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::url::{MAX_TAG_BYTES, VipLinkType};

/// Characters left as they are when a value is encoded: unreserved ones, plus `*` and `@`,
/// which the guide's examples leave literal inside `tra_from`.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'*')
    .remove(b'@');

/// Separates `[adCode]`, `[timestamp]` in the third `tra_from` segment.
const TIMESTAMP_MARK: &str = "@_@";
/// Precedes `[statParam]` in the third `tra_from` segment.
const STAT_MARK: &str = "*_*";

/// Why a splice was refused: the link would break or stop tracking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    #[error("{field}: at most {MAX_TAG_BYTES} bytes, got {bytes}")]
    TooLong { field: &'static str, bytes: usize },
    #[error("{field}: must not be empty")]
    Empty { field: &'static str },
    #[error("{field}: must not contain {separator:?}, which separates tra_from's fields")]
    Separator {
        field: &'static str,
        separator: &'static str,
    },
    #[error("nothing to splice: give a chanTag, a statParam or both")]
    NothingToSplice,
    #[error("{0}")]
    Unsupported(String),
    #[error("tra_from {value:?}: {reason}")]
    BadTraFrom { value: String, reason: String },
}

/// A rewritten link and what the guide says about whether it will still track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spliced {
    pub link: String,
    pub warnings: Vec<SpliceWarning>,
}

/// Why a spliced link may not be attributed, as the guide warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpliceWarning {
    /// A mini-program `tra_from` that does not start with `adp:`.
    #[error(
        "a mini-program tra_from must start with adp: (use the traFrom the link service returned), or orders will not be attributed"
    )]
    MiniProgramTraFrom,
    /// An http link without a `tra_from`: as a universal link, iOS may open the app and drop
    /// the parameters.
    #[error(
        "if this is a universal link (ulUrl), iOS opens it directly in an installed Vipshop app and the spliced parameters are lost; rewrite the tra_from of its deeplink instead"
    )]
    UniversalLinkMayLoseParameters,
}

fn check_value(field: &'static str, value: Option<&str>) -> Result<(), LinkError> {
    let Some(value) = value else { return Ok(()) };
    if value.is_empty() {
        return Err(LinkError::Empty { field });
    }
    if value.len() > MAX_TAG_BYTES {
        return Err(LinkError::TooLong {
            field,
            bytes: value.len(),
        });
    }
    for separator in [":", STAT_MARK, TIMESTAMP_MARK] {
        if value.contains(separator) {
            return Err(LinkError::Separator { field, separator });
        }
    }
    Ok(())
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, VALUE).to_string()
}

fn decode(value: &str) -> String {
    percent_decode_str(value).decode_utf8_lossy().into_owned()
}

/// The separator a `tra_from` value uses, in the form it is written (`%3A`, `%3a` or `:`).
fn separator_of(value: &str) -> Option<&'static str> {
    ["%3A", "%3a", ":"]
        .into_iter()
        .find(|sep| value.contains(sep))
}

/// Rewrites a `tra_from` value as the guide's §4.2.5(2) and §4.2.6(2) describe: the fifth
/// colon-separated segment is the chanTag; the third is `[adCode]@_@[timestamp]*_*[statParam]`.
/// The value stays in the encoding it came in; untouched segments are kept byte for byte.
pub fn rewrite_tra_from(
    value: &str,
    chan_tag: Option<&str>,
    stat_param: Option<&str>,
) -> Result<String, LinkError> {
    check_value("chanTag", chan_tag)?;
    check_value("statParam", stat_param)?;
    let bad = |reason: &str| LinkError::BadTraFrom {
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let separator = separator_of(value).ok_or_else(|| bad("no ':' separated fields"))?;
    let mut segments: Vec<String> = value.split(separator).map(str::to_owned).collect();
    if segments.len() < 5 {
        return Err(bad(
            "expected at least 5 ':' separated fields (the 5th is the chanTag)",
        ));
    }
    if let Some(tag) = chan_tag {
        segments[4] = encode(tag);
    }
    if let Some(stat) = stat_param {
        let third = decode(&segments[2]);
        let head = third
            .split_once(STAT_MARK)
            .map_or(third.as_str(), |(head, _)| head);
        segments[2] = format!("{}{STAT_MARK}{}", encode_keep_marks(head), encode(stat));
    }
    Ok(segments.join(separator))
}

/// Encodes `[adCode]@_@[timestamp]` keeping the mark literal.
fn encode_keep_marks(head: &str) -> String {
    head.split(TIMESTAMP_MARK)
        .map(encode)
        .collect::<Vec<_>>()
        .join(TIMESTAMP_MARK)
}

/// The decoded fields of a `tra_from` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraFrom {
    pub prefix: String,
    pub ad_code: Option<String>,
    pub timestamp: Option<String>,
    pub stat_param: Option<String>,
    pub chan_tag: Option<String>,
}

impl TraFrom {
    /// Reads a `tra_from` value (encoded or not).
    pub fn parse(value: &str) -> Result<Self, LinkError> {
        let decoded = decode(value);
        let segments: Vec<&str> = decoded.split(':').collect();
        if segments.len() < 5 {
            return Err(LinkError::BadTraFrom {
                value: value.to_owned(),
                reason: "expected at least 5 ':' separated fields".into(),
            });
        }
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let (head, stat) = match segments[2].split_once(STAT_MARK) {
            Some((head, stat)) => (head, non_empty(stat)),
            None => (segments[2], None),
        };
        let (ad_code, timestamp) = match head.split_once(TIMESTAMP_MARK) {
            Some((ad, ts)) => (non_empty(ad), non_empty(ts)),
            None => (non_empty(head), None),
        };
        Ok(Self {
            prefix: segments[0].to_owned(),
            ad_code,
            timestamp,
            stat_param: stat,
            chan_tag: non_empty(segments[4]),
        })
    }
}

/// Splits a URL into (before `?`, query, `#fragment`).
fn split_url(link: &str) -> (&str, Option<&str>, &str) {
    let (rest, fragment) = match link.find('#') {
        Some(at) => link.split_at(at),
        None => (link, ""),
    };
    match rest.split_once('?') {
        Some((base, query)) => (base, Some(query), fragment),
        None => (rest, None, fragment),
    }
}

fn piece_name(piece: &str) -> &str {
    piece.split_once('=').map_or(piece, |(name, _)| name)
}

/// Splices `chanTag` and/or `statParam` into a link Vipshop generated, replacing (never
/// duplicating) values already there:
/// - short, long and universal links (`http(s)://`): the query parameters are replaced or
///   appended; a `tra_from` inside them is rewritten too, so that a universal link opened
///   directly by the iOS app still carries the new values;
/// - deeplink, quick-app and mini-program links (`vipshop://`, `hap://`, `pages/...`): their
///   `tra_from` is rewritten;
/// - a bare `tra_from` value (the `traFrom` field): rewritten as such.
pub fn splice(
    link: &str,
    chan_tag: Option<&str>,
    stat_param: Option<&str>,
) -> Result<Spliced, LinkError> {
    if chan_tag.is_none() && stat_param.is_none() {
        return Err(LinkError::NothingToSplice);
    }
    check_value("chanTag", chan_tag)?;
    check_value("statParam", stat_param)?;
    let link = link.trim();
    let mut warnings = Vec::new();
    let lower = link.to_ascii_lowercase();
    let is_http = lower.starts_with("http://") || lower.starts_with("https://");
    let is_app = lower.starts_with("vipshop://") || lower.starts_with("hap://");
    let is_mini_program = lower.starts_with("pages/") || lower.starts_with("/pages/");
    if !is_http && !is_app && !is_mini_program {
        if separator_of(link).is_some() && !link.contains('/') {
            let rewritten = rewrite_tra_from(link, chan_tag, stat_param)?;
            if !decode(link).starts_with("adp:") {
                warnings.push(SpliceWarning::MiniProgramTraFrom);
            }
            return Ok(Spliced {
                link: rewritten,
                warnings,
            });
        }
        return Err(LinkError::Unsupported(format!(
            "{link:?} is neither an http(s), vipshop://, hap:// or mini-program link nor a tra_from value"
        )));
    }

    let (base, query, fragment) = split_url(link);
    let mut pieces: Vec<String> = query
        .map(|query| query.split('&').map(str::to_owned).collect())
        .unwrap_or_default();
    let mut rewrote_tra_from = false;
    for piece in &mut pieces {
        if piece_name(piece) == "tra_from" {
            let value = &piece["tra_from=".len().min(piece.len())..];
            let rewritten = rewrite_tra_from(value, chan_tag, stat_param)?;
            if is_mini_program && !decode(value).starts_with("adp:") {
                warnings.push(SpliceWarning::MiniProgramTraFrom);
            }
            *piece = format!("tra_from={rewritten}");
            rewrote_tra_from = true;
        }
    }
    if is_http {
        pieces.retain(|piece| match piece_name(piece) {
            "chanTag" => chan_tag.is_none(),
            "statParam" => stat_param.is_none(),
            _ => true,
        });
        while pieces.last().is_some_and(String::is_empty) {
            pieces.pop();
        }
        if let Some(tag) = chan_tag {
            pieces.push(format!("chanTag={}", encode(tag)));
        }
        if let Some(stat) = stat_param {
            pieces.push(format!("statParam={}", encode(stat)));
        }
        let host_is_short_link = lower
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
            .is_some_and(|host| host == "t.vip.com");
        if !rewrote_tra_from && !host_is_short_link {
            warnings.push(SpliceWarning::UniversalLinkMayLoseParameters);
        }
    } else if !rewrote_tra_from {
        return Err(LinkError::Unsupported(format!(
            "{link:?} has no tra_from parameter: app and mini-program links carry the chanTag only there"
        )));
    }
    let query = pieces.join("&");
    Ok(Spliced {
        link: format!("{base}?{query}{fragment}"),
        warnings,
    })
}

/// A link found in free text, classified offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedLink {
    pub link: String,
    pub link_type: VipLinkType,
    pub goods_id: Option<String>,
    pub brand_id: Option<String>,
}

/// What [`detect`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detection {
    pub links: Vec<DetectedLink>,
    /// Goods ids from the links and bare 19-digit ids in the text, in order, without repeats.
    pub goods_ids: Vec<String>,
    /// The text held more than [`MAX_DETECTED`] links or ids; the rest were left out.
    pub truncated: bool,
}

const LINK_STARTS: [&str; 3] = ["https://", "http://", "vipshop://"];
const TRAILING: &[char] = &['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"'];

fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|piece| piece.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

fn digits_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

fn classify(link: &str) -> DetectedLink {
    let lower = link.to_ascii_lowercase();
    let host = lower
        .split_once("://")
        .map(|(_, rest)| {
            rest.split(['/', '?', '#'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_default();
    let vipshop =
        lower.starts_with("vipshop://") || host == "vip.com" || host.ends_with(".vip.com");
    if !vipshop {
        return DetectedLink {
            link: link.to_owned(),
            link_type: VipLinkType::NotVipshopLink,
            goods_id: None,
            brand_id: None,
        };
    }
    let (path, query, _) = split_url(link);
    let query = query.unwrap_or_default();
    // m.vip.com/product-{brandStoreSn}-{goodsId}.html
    let from_path = path
        .rsplit('/')
        .next()
        .and_then(|last| last.strip_prefix("product-"))
        .and_then(|rest| rest.strip_suffix(".html"))
        .and_then(|rest| rest.rsplit_once('-'))
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    let from_query = query_value(query, "goodsId").or_else(|| {
        path.to_ascii_lowercase()
            .contains("showgoodsdetail")
            .then(|| query_value(query, "pid"))
            .flatten()
    });
    let goods_id = from_path.or(from_query).map(str::to_owned);
    let brand_id = query_value(query, "brandId")
        .or_else(|| digits_after(path, "brand-"))
        .map(str::to_owned);
    let link_type = if goods_id.is_some() {
        VipLinkType::Goods
    } else if brand_id.is_some() {
        VipLinkType::Brand
    } else {
        VipLinkType::Other
    };
    DetectedLink {
        link: link.to_owned(),
        link_type,
        goods_id,
        brand_id,
    }
}

/// The most links and goods ids [`detect`] reports; what a pasted text holds beyond them is left
/// out (and [`Detection::truncated`] says so).
pub const MAX_DETECTED: usize = 200;

/// Finds links (and which are Vipshop goods or brand links) and goods ids in free text, without
/// calling the platform: the offline twin of `vipLinkCheck`. Short links (t.vip.com) are
/// reported as Vipshop links of type `Other`: only the platform can resolve them. The work is
/// linear in the text, and at most [`MAX_DETECTED`] links and ids are reported.
pub fn detect(text: &str) -> Detection {
    let mut detection = Detection::default();
    let mut seen_ids = std::collections::HashSet::new();
    // ASCII lowercasing keeps every byte where it was, so offsets in `lower` are offsets in
    // `text`.
    let lower = text.to_ascii_lowercase();
    // The next occurrence of each link start at or after the scan position, found again only
    // once the scan has passed it: each start is searched for across the text once in all.
    let mut next: Vec<Option<usize>> = LINK_STARTS.iter().map(|s| lower.find(s)).collect();
    let mut pos = 0;
    let mut link_spans = Vec::new();
    loop {
        for (i, start) in LINK_STARTS.iter().enumerate() {
            if next[i].is_some_and(|at| at < pos) {
                next[i] = lower[pos..].find(start).map(|at| at + pos);
            }
        }
        let Some(at) = next.iter().flatten().min().copied() else {
            break;
        };
        if detection.links.len() == MAX_DETECTED {
            detection.truncated = true;
            break;
        }
        let candidate = &text[at..];
        let end = candidate
            .find(|c: char| {
                c.is_whitespace() || !c.is_ascii() || matches!(c, '<' | '>' | '"' | '\'')
            })
            .unwrap_or(candidate.len());
        let link = candidate[..end].trim_end_matches(TRAILING);
        if link.contains("://") && link.len() > "https://".len() {
            let found = classify(link);
            if let Some(id) = &found.goods_id
                && seen_ids.insert(id.clone())
            {
                detection.goods_ids.push(id.clone());
            }
            link_spans.push((at, at + link.len()));
            detection.links.push(found);
        }
        pos = at + end.max(1);
    }
    // Bare goods ids: 19-digit numbers outside the links.
    let mut spans = link_spans.iter().peekable();
    let mut offset = 0;
    for word in text.split(|c: char| !c.is_ascii_digit()) {
        let (start, finish) = (offset, offset + word.len());
        // The separator is one ASCII-or-not character: step over its UTF-8 length.
        offset = finish
            + text[finish..]
                .chars()
                .next()
                .map(char::len_utf8)
                .unwrap_or(0);
        while spans.peek().is_some_and(|(_, end)| *end <= start) {
            spans.next();
        }
        let inside_link = spans
            .peek()
            .is_some_and(|(link_start, link_end)| *link_start < finish && start < *link_end);
        if word.len() == 19 && !inside_link && seen_ids.insert(word.to_owned()) {
            if detection.goods_ids.len() == MAX_DETECTED {
                detection.truncated = true;
                break;
            }
            detection.goods_ids.push(word.to_owned());
        }
    }
    detection
}

#[cfg(test)]
mod tests {
    use super::*;

    // §4.2.5 (2): replace the 5th segment of an encoded tra_from.
    const GUIDE_TRA_FROM: &str =
        "tra%3AC01V4kv4xby8mydr%3Am0bliqmq%3Amig_code%3Accc%3Aac013pq3nrhmc9sk1f99w0ttak5o88";

    #[test]
    fn guide_example_chan_tag_in_tra_from() {
        assert_eq!(
            rewrite_tra_from(GUIDE_TRA_FROM, Some("xxx"), None).expect("rewrite"),
            "tra%3AC01V4kv4xby8mydr%3Am0bliqmq%3Amig_code%3Axxx%3Aac013pq3nrhmc9sk1f99w0ttak5o88"
        );
    }

    #[test]
    fn guide_example_stat_param_in_tra_from() {
        // §4.2.6 (2), steps 2 -> 3, on the decoded value.
        assert_eq!(
            rewrite_tra_from(
                "tra:C01V4kv4xby8mydr:m0bliqmq:mig_code:ccc:ac013pq3nrhmc9sk1f99w0ttak5o8858",
                None,
                Some("xxx")
            )
            .expect("rewrite"),
            "tra:C01V4kv4xby8mydr:m0bliqmq*_*xxx:mig_code:ccc:ac013pq3nrhmc9sk1f99w0ttak5o8858"
        );
        // The same on the encoded form keeps its %3A separators and the literal *_*.
        assert_eq!(
            rewrite_tra_from(GUIDE_TRA_FROM, None, Some("xxx")).expect("rewrite"),
            "tra%3AC01V4kv4xby8mydr%3Am0bliqmq*_*xxx%3Amig_code%3Accc%3Aac013pq3nrhmc9sk1f99w0ttak5o88"
        );
        // A lower-case encoding stays lower case.
        let lower = GUIDE_TRA_FROM.replace("%3A", "%3a");
        assert!(
            rewrite_tra_from(&lower, Some("t"), None)
                .expect("rewrite")
                .contains("%3at%3a")
        );
    }

    #[test]
    fn stat_param_replaces_and_keeps_ad_code_and_timestamp() {
        let value = "adp:C01:ad1@_@1700000000*_*old:mig_code:tag:tail";
        let rewritten = rewrite_tra_from(value, Some("new_tag"), Some("new")).expect("rewrite");
        assert_eq!(
            rewritten,
            "adp:C01:ad1@_@1700000000*_*new:mig_code:new_tag:tail"
        );
        let parsed = TraFrom::parse(&rewritten).expect("parse");
        assert_eq!(parsed.ad_code.as_deref(), Some("ad1"));
        assert_eq!(parsed.timestamp.as_deref(), Some("1700000000"));
        assert_eq!(parsed.stat_param.as_deref(), Some("new"));
        assert_eq!(parsed.chan_tag.as_deref(), Some("new_tag"));
        // Every part of the third segment is optional.
        let bare = rewrite_tra_from("adp:C01::mig_code::tail", None, Some("s")).expect("rewrite");
        assert_eq!(bare, "adp:C01:*_*s:mig_code::tail");
    }

    #[test]
    fn guide_example_short_and_long_links() {
        assert_eq!(
            splice("https://t.vip.com", Some("xxx"), None)
                .expect("splice")
                .link,
            "https://t.vip.com?chanTag=xxx"
        );
        let long = "https://t.vip.com/redirect.php?url=eyJtb25pdG9yU3BvdENvZGUiOiJDMDFWNGt2NHhieThteWRyIn0==";
        let spliced = splice(long, Some("xxx"), Some("xxx")).expect("splice");
        assert_eq!(spliced.link, format!("{long}&chanTag=xxx&statParam=xxx"));
        assert!(spliced.warnings.is_empty(), "{:?}", spliced.warnings);
        // Splicing again replaces instead of duplicating.
        let again = splice(&spliced.link, Some("yyy"), None).expect("splice");
        assert_eq!(again.link, format!("{long}&statParam=xxx&chanTag=yyy"));
        assert_eq!(again.link.matches("chanTag=").count(), 1);
    }

    #[test]
    fn guide_example_click_link_with_tra_from_gets_both() {
        let link = "https://click.union.vip.com/deeplink/showGoodsDetail?pid=6918465055263683665&goodType=1&tra_from=tra%3AC01V4kv4xby8mydr%3Am0bliqmq%3Amig_code%3A%3Aac013pq3nrhmc9sk1f99w0ttak5o8858&f=dx&cps_code=69CkBlEdb86&chanTag=xxx&&statParam=xxx";
        let spliced = splice(link, Some("pid_9"), Some("s9")).expect("splice");
        assert_eq!(
            spliced.link,
            "https://click.union.vip.com/deeplink/showGoodsDetail?pid=6918465055263683665&goodType=1&tra_from=tra%3AC01V4kv4xby8mydr%3Am0bliqmq*_*s9%3Amig_code%3Apid_9%3Aac013pq3nrhmc9sk1f99w0ttak5o8858&f=dx&cps_code=69CkBlEdb86&chanTag=pid_9&statParam=s9"
        );
        assert!(spliced.warnings.is_empty());
    }

    #[test]
    fn app_and_mini_program_links_rewrite_tra_from_only() {
        let deeplink = format!("vipshop://showGoodsDetail?goodsId=1&tra_from={GUIDE_TRA_FROM}");
        let spliced = splice(&deeplink, Some("xxx"), None).expect("splice");
        assert!(
            spliced
                .link
                .ends_with("mig_code%3Axxx%3Aac013pq3nrhmc9sk1f99w0ttak5o88"),
            "{}",
            spliced.link
        );
        assert!(!spliced.link.contains("chanTag="));
        let mini = format!("pages/goodsDetail/goodsDetail?goodsId=1&tra_from={GUIDE_TRA_FROM}");
        let spliced = splice(&mini, Some("xxx"), None).expect("splice");
        assert!(
            spliced
                .warnings
                .iter()
                .any(|w| w.to_string().contains("adp:")),
            "tra: prefix in a mini program"
        );
        let no_tra = splice("vipshop://showGoodsDetail?goodsId=1", Some("x"), None)
            .expect_err("nothing to rewrite");
        assert!(no_tra.to_string().contains("no tra_from"));
        let bare =
            splice("adp%3AC01%3Aa%3Amig_code%3Aold%3Atail", Some("new"), None).expect("bare value");
        assert_eq!(bare.link, "adp%3AC01%3Aa%3Amig_code%3Anew%3Atail");
        assert!(bare.warnings.is_empty());
    }

    #[test]
    fn universal_links_without_tra_from_warn() {
        let spliced =
            splice("https://mst.vip.com/ul/abc?goodsId=1", Some("x"), None).expect("splice");
        assert!(
            spliced
                .warnings
                .iter()
                .any(|w| w.to_string().contains("iOS"))
        );
    }

    #[test]
    fn values_that_would_corrupt_a_link_are_refused() {
        assert_eq!(
            splice("https://t.vip.com/a", Some(&"x".repeat(129)), None),
            Err(LinkError::TooLong {
                field: "chanTag",
                bytes: 129
            })
        );
        assert!(matches!(
            splice("https://t.vip.com/a", Some("a:b"), None),
            Err(LinkError::Separator {
                field: "chanTag",
                ..
            })
        ));
        assert!(matches!(
            splice("https://t.vip.com/a", None, Some("a*_*b")),
            Err(LinkError::Separator {
                field: "statParam",
                ..
            })
        ));
        assert_eq!(
            splice("https://t.vip.com/a", None, None),
            Err(LinkError::NothingToSplice)
        );
        assert!(matches!(
            splice("https://t.vip.com/a", Some(""), None),
            Err(LinkError::Empty { .. })
        ));
        assert!(matches!(
            splice("ftp://x", Some("a"), None),
            Err(LinkError::Unsupported(_))
        ));
        // Special characters are encoded, not passed through.
        let spliced = splice("https://t.vip.com/a", Some("渠道&1"), None).expect("splice");
        assert_eq!(
            spliced.link,
            "https://t.vip.com/a?chanTag=%E6%B8%A0%E9%81%93%261"
        );
        assert!(matches!(
            rewrite_tra_from("adp:a:b", Some("x"), None),
            Err(LinkError::BadTraFrom { .. })
        ));
    }

    #[test]
    fn a_huge_paste_is_read_once_and_capped() {
        // Two megabytes of links: linear work, and at most MAX_DETECTED reported.
        let text = "http://ab ".repeat(200_000);
        let found = detect(&text);
        assert_eq!(found.links.len(), MAX_DETECTED);
        assert!(found.truncated);
        let ids: String = (0..(MAX_DETECTED as u64 + 50))
            .map(|n| format!("{} ", 6_900_000_000_000_000_000 + n))
            .collect();
        let found = detect(&ids);
        assert_eq!(found.goods_ids.len(), MAX_DETECTED);
        assert!(found.truncated);
        // An id inside a link is the link's, not a second bare one; repeats are dropped.
        let found = detect(
            "https://m.vip.com/product-1-6918465055263683665.html 6918465055263683665 6919190827778651268 6919190827778651268",
        );
        assert_eq!(
            found.goods_ids,
            ["6918465055263683665", "6919190827778651268"]
        );
        assert!(!found.truncated);
    }

    #[test]
    fn detects_links_and_goods_ids_in_chinese_text() {
        let text = "限时特价！https://m.vip.com/product-1710614449-6918465055263683665.html，还有https://t.vip.com/AbCd12 \
                    和 https://item.taobao.com/item.htm?id=1 以及商品6919190827778651268";
        let found = detect(text);
        assert_eq!(found.links.len(), 3, "{found:?}");
        assert_eq!(found.links[0].link_type, VipLinkType::Goods);
        assert_eq!(
            found.links[0].goods_id.as_deref(),
            Some("6918465055263683665")
        );
        assert_eq!(found.links[1].link_type, VipLinkType::Other);
        assert_eq!(found.links[2].link_type, VipLinkType::NotVipshopLink);
        assert_eq!(
            found.goods_ids,
            vec![
                "6918465055263683665".to_owned(),
                "6919190827778651268".to_owned()
            ]
        );
        let deeplink =
            detect("vipshop://showGoodsDetail?goodsId=6919190827778651268&tra_from=adp%3Aa");
        assert_eq!(deeplink.links[0].link_type, VipLinkType::Goods);
        let brand = detect("https://m.vip.com/brand-123456.html");
        assert_eq!(brand.links[0].link_type, VipLinkType::Brand);
        assert_eq!(brand.links[0].brand_id.as_deref(), Some("123456"));
        assert!(detect("no links here").links.is_empty());
    }
}
