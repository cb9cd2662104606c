//! VOP's time formats at the connector's edge: epoch seconds/ms and Beijing-time datetime strings.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use serde::{Deserialize, Deserializer};

/// VOP's datetime strings (`2015-03-13 17:24:20`) are Beijing time (UTC+8).
pub fn beijing() -> FixedOffset {
    match FixedOffset::east_opt(8 * 3600) {
        Some(offset) => offset,
        None => unreachable!("UTC+8 is a valid offset"),
    }
}

/// Parses `yyyy-MM-dd HH:mm:ss` in Beijing time into epoch milliseconds.
pub fn parse_datetime_ms(text: &str) -> Option<i64> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    beijing()
        .from_local_datetime(&naive)
        .single()
        .map(|at| at.timestamp_millis())
}

/// Formats epoch milliseconds as `yyyy-MM-dd HH:mm:ss` in Beijing time.
pub fn format_datetime_ms(ms: i64) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(at) => at
            .with_timezone(&beijing())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => String::new(),
    }
}

/// Deserializes a datetime sent either as `yyyy-MM-dd HH:mm:ss` or as epoch milliseconds.
///
/// The refresh response's datetime fields are typed `datetime` in the generated SDK without a
/// wire example, so both encodings are accepted.
pub fn deserialize_opt_datetime_ms<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Millis(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Raw::Millis(ms)) => Ok(Some(ms)),
        Some(Raw::Text(text)) if text.is_empty() => Ok(None),
        Some(Raw::Text(text)) => parse_datetime_ms(&text).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("expected yyyy-MM-dd HH:mm:ss, got {text:?}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_datetimes_round_trip() {
        // The seed's token_info example: 2015-03-13 17:24:20 Beijing = 09:24:20 UTC.
        let ms = parse_datetime_ms("2015-03-13 17:24:20").expect("parses");
        assert_eq!(ms, 1_426_238_660_000);
        assert_eq!(format_datetime_ms(ms), "2015-03-13 17:24:20");
        assert_eq!(parse_datetime_ms("2015-03-13T17:24:20"), None);
    }
}
