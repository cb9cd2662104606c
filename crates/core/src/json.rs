//! Reading platform JSON into types with errors that say where: the path of the value refused.

use serde::Deserialize;

/// Reads `text` as a `T`. On failure the reason starts with the path of the value that was
/// refused (`detailList[0].goodsCount: invalid type: ...`), found by reading the text a second
/// time with the path tracked, so that a text that reads costs the plain read alone.
pub fn read<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|plain| cut(reason::<T>(text, plain)))
}

/// The longest reason given: serde quotes a refused text whole, and a platform's text can be
/// long.
const MAX_REASON_CHARS: usize = 300;

/// `reason` cut to [`MAX_REASON_CHARS`] characters.
fn cut(reason: String) -> String {
    match reason.char_indices().nth(MAX_REASON_CHARS) {
        Some((end, _)) => format!("{}…", &reason[..end]),
        None => reason,
    }
}

/// Why `text` does not read as a `T`, with the path of the value refused when it is not the
/// top level; `plain` is the plain read's error.
fn reason<'a, T: Deserialize<'a>>(text: &'a str, plain: serde_json::Error) -> String {
    let mut reader = serde_json::Deserializer::from_str(text);
    let Err(err) = serde_path_to_error::deserialize::<_, T>(&mut reader) else {
        return plain.to_string();
    };
    match err.path().to_string() {
        // The top level: the reason alone says it.
        path if path.is_empty() || path == "." => plain.to_string(),
        path => format!("{path}: {}", err.inner()),
    }
}

#[cfg(test)]
mod tests {
    use super::read;

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Order {
        #[allow(dead_code)]
        order_sn: String,
        #[allow(dead_code)]
        detail_list: Vec<Line>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Line {
        #[allow(dead_code)]
        goods_count: i32,
    }

    #[test]
    fn a_refused_value_is_named_by_its_path() {
        read::<Order>(r#"{"orderSn":"1","detailList":[{"goodsCount":2}]}"#).expect("reads");
        let err = read::<Order>(
            r#"{"orderSn":"1","detailList":[{"goodsCount":2},{"goodsCount":"two"}]}"#,
        )
        .expect_err("a line's count is text");
        assert!(
            err.starts_with("detailList[1].goodsCount: invalid type: string \"two\", expected i32"),
            "{err}"
        );
        let err = read::<Order>(r#"{"detailList":[]}"#).expect_err("no number");
        assert!(err.contains("missing field `orderSn`"), "{err}");
        let err = read::<Order>(r#"{"orderSn":"1","detailList":[]"#).expect_err("cut");
        assert!(err.contains("EOF"), "{err}");
        // A long text refused is not quoted whole.
        let long = format!(
            r#"{{"orderSn":"1","detailList":[{{"goodsCount":"{}"}}]}}"#,
            "九".repeat(5_000)
        );
        let err = read::<Order>(&long).expect_err("text");
        assert!(
            err.starts_with("detailList[0].goodsCount: invalid type"),
            "{err}"
        );
        assert_eq!(err.chars().count(), 301, "{err}");
        assert!(err.ends_with('…'));
    }
}
