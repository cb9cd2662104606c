//! VOP's `yyyy-MM-dd HH:mm:ss` datetimes, in Beijing time (UTC+8).

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};

fn beijing() -> Option<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
}

/// Formats epoch milliseconds.
pub fn format(ms: i64) -> String {
    match (DateTime::from_timestamp_millis(ms), beijing()) {
        (Some(at), Some(offset)) => at
            .with_timezone(&offset)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        _ => String::new(),
    }
}

/// Parses into epoch milliseconds.
pub fn parse(text: &str) -> Option<i64> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    beijing()?
        .from_local_datetime(&naive)
        .single()
        .map(|at| at.timestamp_millis())
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let ms = super::parse("2015-03-13 17:24:20").expect("parses");
        assert_eq!(ms, 1_426_238_660_000);
        assert_eq!(super::format(ms), "2015-03-13 17:24:20");
        assert!(super::parse("13/03/2015").is_none());
    }
}
