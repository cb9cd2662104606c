//! A successful answer whose result is a page of a list, read in one pass: each item as its
//! type together with its own text, as the platform sent it.
//!
//! serde_json reads a value or skips it, but cannot say where a value it has read began and
//! ended. Keeping an item's text beside its typed reading therefore took two passes over every
//! item: one to find its extent, one to read it. Here the envelope's punctuation (braces,
//! brackets, colons, commas) is walked by hand and every value in it is read by serde_json's
//! stream reader, whose byte offset is where that value ended. Whatever the walk does not expect
//! (another shape, a key twice, an item that does not read) makes it decline, and the caller
//! reads the answer the general way, which says what is wrong.

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;

/// The items of a list page, each with its own text, and the list's total.
#[derive(Debug)]
pub struct ListPage<T> {
    pub items: Vec<(T, String)>,
    /// `result.total` (0 when the result does not say, as the typed answers default it).
    pub total: i64,
}

/// `text` as a successful answer (`returnCode` `"0"` or `0`, and a `result` object) whose
/// result holds the array `list` (absent: no items) of items that each read as `T`, and an
/// integer `total`. `None` for anything else.
pub fn read<T: DeserializeOwned>(text: &str, list: &str) -> Option<ListPage<T>> {
    let mut walk = Walk { text, at: 0 };
    let mut code_is_zero = None;
    let mut message_seen = false;
    let mut page = None;
    walk.object(|walk, key| {
        match key {
            "returnCode" if code_is_zero.is_none() => {
                let code: &RawValue = walk.value()?;
                code_is_zero = Some(matches!(code.get(), "0" | "\"0\""));
            }
            "returnMessage" if !message_seen => {
                message_seen = true;
                walk.value::<IgnoredAny>()?;
            }
            "result" if page.is_none() => page = Some(walk.result(list)?),
            "returnCode" | "returnMessage" | "result" => return None,
            _ => {
                walk.value::<IgnoredAny>()?;
            }
        }
        Some(())
    })?;
    walk.skip_whitespace();
    (walk.at == text.len() && code_is_zero == Some(true)).then_some(())?;
    page
}

/// `result`, the text of a successful answer's result (whose envelope the caller has read), as
/// an object holding the array `list` of items that each read as `T`, and an integer `total`;
/// `None` for anything else.
pub fn read_result<T: DeserializeOwned>(result: &str, list: &str) -> Option<ListPage<T>> {
    let mut walk = Walk {
        text: result,
        at: 0,
    };
    let page = walk.result(list)?;
    walk.skip_whitespace();
    (walk.at == result.len()).then_some(page)
}

/// Where the walk is in the answer's text.
struct Walk<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Walk<'a> {
    fn skip_whitespace(&mut self) {
        let rest = &self.text.as_bytes()[self.at..];
        self.at += rest
            .iter()
            .take_while(|byte| matches!(byte, b' ' | b'\n' | b'\r' | b'\t'))
            .count();
    }

    /// Takes `byte` if it comes next (after any whitespace).
    fn take(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let next = self.text.as_bytes().get(self.at) == Some(&byte);
        if next {
            self.at += 1;
        }
        next
    }

    /// The next value, read as `V` by serde_json; the walk moves past it.
    fn value<V: serde::Deserialize<'a>>(&mut self) -> Option<V> {
        self.skip_whitespace();
        let rest = self.text.get(self.at..)?;
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<V>();
        let value = values.next()?.ok()?;
        self.at += values.byte_offset();
        Some(value)
    }

    /// `open`, then `element`s separated by commas (or none), then `close`.
    fn sequence(
        &mut self,
        open: u8,
        close: u8,
        mut element: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.take(open).then_some(())?;
        if self.take(close) {
            return Some(());
        }
        loop {
            element(self)?;
            if !self.take(b',') {
                return self.take(close).then_some(());
            }
        }
    }

    /// An object, each member's key handed to `member`, which reads its value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<()> {
        self.sequence(b'{', b'}', |walk| {
            let key: String = walk.value()?;
            walk.take(b':').then_some(())?;
            member(walk, &key)
        })
    }

    /// The answer's `result`: an object with the list and the total, other members skipped.
    fn result<T: DeserializeOwned>(&mut self, list: &str) -> Option<ListPage<T>> {
        let mut items = None;
        let mut total = None;
        self.object(|walk, key| {
            if key == list {
                items.is_none().then_some(())?;
                items = Some(walk.items()?);
            } else if key == "total" {
                total.is_none().then_some(())?;
                total = Some(walk.value::<i64>()?);
            } else {
                walk.value::<IgnoredAny>()?;
            }
            Some(())
        })?;
        Some(ListPage {
            items: items.unwrap_or_default(),
            total: total.unwrap_or(0),
        })
    }

    /// An array of items, each read as `T` and kept with its text.
    fn items<T: DeserializeOwned>(&mut self) -> Option<Vec<(T, String)>> {
        let mut items = Vec::new();
        self.sequence(b'[', b']', |walk| {
            walk.skip_whitespace();
            let start = walk.at;
            let item: T = walk.value()?;
            items.push((item, walk.text.get(start..walk.at)?.to_owned()));
            Some(())
        })?;
        Some(items)
    }
}

/// Item `place` of the list `list` in the answer of `call` (`service.method`), read as `T` from
/// its text; a text that does not read is named by its place and the path of the value refused.
pub fn read_item<T: DeserializeOwned>(
    text: &str,
    list: &str,
    place: usize,
    call: &str,
) -> Result<T, crate::VopError> {
    shopbridge_core::json::read(text).map_err(|reason| crate::VopError::Undecodable {
        reason: format!("{list}[{place}] of {call} does not match its type: {reason}"),
        snippet: crate::error::snippet(text, 300),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Item {
        order_sn: String,
        status: i16,
    }

    /// What the reading this one replaces made of `text` on its first try (the success path,
    /// envelope and typed page in one serde pass, each item's text its raw extent); whatever it
    /// declined went to the general reading, as what this one declines does.
    fn two_pass(text: &str) -> Option<(Vec<(Item, String)>, i64)> {
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(rename = "returnCode", borrow)]
            code: &'a RawValue,
            #[serde(rename = "returnMessage", default)]
            _message: Option<IgnoredAny>,
            #[serde(default = "Option::default")]
            result: Option<Page>,
        }
        #[derive(serde::Deserialize, Default)]
        #[serde(rename_all = "camelCase", default)]
        struct Page {
            order_info_list: Vec<Box<RawValue>>,
            total: i64,
        }
        let envelope: Envelope = serde_json::from_str(text).ok()?;
        matches!(envelope.code.get(), "0" | "\"0\"").then_some(())?;
        let page = envelope.result?;
        let items = page
            .order_info_list
            .iter()
            .map(|raw| Some((serde_json::from_str(raw.get()).ok()?, raw.get().to_owned())))
            .collect::<Option<Vec<_>>>()?;
        Some((items, page.total))
    }

    fn one_pass(text: &str) -> Option<(Vec<(Item, String)>, i64)> {
        read::<Item>(text, "orderInfoList").map(|page| (page.items, page.total))
    }

    #[test]
    fn a_list_page_reads_as_the_two_pass_reading_did() {
        for text in [
            r#"{"returnCode":"0","result":{"orderInfoList":[{"orderSn":"1","status":2},{"orderSn":"2","status":0}],"total":2}}"#,
            " {\n \"result\" : { \"total\" : 7 , \"orderInfoList\" : [ {\"status\":1 , \"orderSn\":\"a\\\"b\", \"x\":[1,{\"y\":null}]} ] , \"page\":1 } ,\t\"returnCode\" : 0 , \"returnMessage\":\"ok\" }\n",
            r#"{"returnCode":"0","result":{"orderInfoList":[],"total":0}}"#,
            r#"{"returnCode":"0","result":{}}"#,
            r#"{"returnCode":"0","result":{"orderInfoList":[{"orderSn":"九","status":1}]},"extra":{"a":[]},"extra":1}"#,
            r#"{"re\u0074urnCode":"0","result":{"orderInfoList":[{"orderSn":"1","status":1}],"total":1}}"#,
        ] {
            let read = one_pass(text);
            assert!(read.is_some(), "{text}");
            assert_eq!(read, two_pass(text), "{text}");
        }
        // The item's text is exactly its extent in the answer.
        let (items, _) = one_pass(
            r#"{"returnCode":"0","result":{"orderInfoList":[ {"orderSn":"1", "status":2} ]}}"#,
        )
        .expect("reads");
        assert_eq!(items[0].1, r#"{"orderSn":"1", "status":2}"#);
    }

    #[test]
    fn anything_else_is_declined_for_the_general_reading() {
        for text in [
            r#"{"returnCode":"1001","returnMessage":"no","result":{"total":3}}"#,
            r#"{"returnCode":"0"}"#,
            r#"{"returnCode":"0","result":null}"#,
            r#"{"returnCode":"\u0030","result":{"total":3}}"#,
            r#"{"result":{"total":3}}"#,
            r#"[{"returnCode":"0"}]"#,
            r#"{"returnCode":"0","result":{"total":3}} trailing"#,
            r#"{"returnCode":"0","result":{"total":3}}}"#,
            r#"{"returnCode":"0","returnCode":"0","result":{"total":3}}"#,
            r#"{"returnCode":"0","returnMessage":"a","returnMessage":"b","result":{"total":3}}"#,
            r#"{"returnCode":"0","result":{"total":3},"result":{"total":3}}"#,
            r#"{"returnCode":"0","result":{"total":"three"}}"#,
            r#"{"returnCode":"0","result":{"total":3,"total":3}}"#,
            r#"{"returnCode":"0","result":{"orderInfoList":null}}"#,
            r#"{"returnCode":"0","result":{"orderInfoList":{}}}"#,
            r#"{"returnCode":"0","result":{"orderInfoList":[{"orderSn":"1","status":"x"}]}}"#,
            r#"{"returnCode":"0","result":{"orderInfoList":[{"orderSn":"1","status":1},]}}"#,
            r#"{"returnCode":"0","result":{"orderInfoList":[{"orderSn":"1","status":1}{"orderSn":"2","status":1}]}}"#,
            r#"{"returnCode":"0","result":{"orderInfoList":[{"orderSn":"1","status":1}]"#,
            r#"{"returnCode":"0","result":{"orderInfoList":[{"orderSn":"1","status":1}],}}"#,
            r#"{"returnCode":"0",,"result":{}}"#,
            r#"{"returnCode":"0" "result":{}}"#,
            r#"{"returnCode":"0","result":{"total":3 4}}"#,
            "",
            "{",
        ] {
            assert!(one_pass(text).is_none(), "{text}");
            assert!(
                two_pass(text).is_none(),
                "the success path also declined {text}"
            );
        }
        // A result that is an array, not a page: the derived reading took it for an empty
        // page (a struct reads from an array of its fields), which would end a window as if
        // it held nothing; it is declined, and the general reading names it.
        assert!(one_pass(r#"{"returnCode":"0","result":[]}"#).is_none());
        assert!(read_result::<Item>("[]", "orderInfoList").is_none());
        // The result alone, as the general reading hands it over.
        let page = read_result::<Item>(
            r#" {"orderInfoList":[{"orderSn":"1","status":2}],"total":1} "#,
            "orderInfoList",
        )
        .expect("a result");
        assert_eq!((page.items.len(), page.total), (1, 1));
        assert!(read_result::<Item>(r#"{"total":1} x"#, "orderInfoList").is_none());
    }
}
