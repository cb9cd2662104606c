//! The ranges every number a caller sends must fall in, checked in one place by every front end
//! (REST, the unified API, the console, the connect pages) before the number is used, so that no
//! request can overflow arithmetic or ask for unbounded work.

use std::fmt::Display;
use std::ops::RangeInclusive;

/// The earliest time a caller may name: 2000-01-01T00:00:00Z, before any platform's data.
pub const EPOCH_MS_MIN: i64 = 946_684_800_000;
/// The latest time a caller may name: 2100-01-01T00:00:00Z.
pub const EPOCH_MS_MAX: i64 = 4_102_444_800_000;
/// Times a caller may name, in epoch milliseconds.
pub const EPOCH_MS: RangeInclusive<i64> = EPOCH_MS_MIN..=EPOCH_MS_MAX;
/// Pages a caller may ask for by number: deep enough for any listing, small enough that page
/// times page size stays far inside every integer type it is multiplied in.
pub const PAGE_NUMBERS: RangeInclusive<i64> = 1..=100_000;
/// Units of one line of a shipment.
pub const LINE_COUNT: RangeInclusive<i64> = 1..=99_999;
/// Stock of one item, set in full.
pub const STOCK_QUANTITY: RangeInclusive<i64> = 0..=9_999_999;
/// Stock of one item, changed by this much.
pub const STOCK_CHANGE: RangeInclusive<i64> = -9_999_999..=9_999_999;
/// A platform's account ids (a Vipshop vendor id).
pub const ACCOUNT_ID: RangeInclusive<i64> = 1..=999_999_999_999;

/// When a token given `expires_in_secs` by a platform expires: its lifetime bounded to ten years,
/// so that a platform's odd answer cannot overflow the hub's arithmetic.
pub fn expiry_ms(now_ms: i64, expires_in_secs: i64) -> i64 {
    const TEN_YEARS_SECS: i64 = 10 * 366 * 86_400;
    now_ms.saturating_add(expires_in_secs.clamp(0, TEN_YEARS_SECS) * 1000)
}

/// A time a caller names: epoch milliseconds (`1764403200000`) or an RFC 3339 date-time
/// (`2025-11-29T16:00:00+08:00`, `2025-11-29T08:00:00Z`), as the REST API takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerTime(pub i64);

impl CallerTime {
    /// The time a text names, either way.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(ms) = text.parse::<i64>() {
            return Some(Self(ms));
        }
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|at| Self(at.timestamp_millis()))
    }
}

impl<'de> serde::Deserialize<'de> for CallerTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = CallerTime;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("epoch milliseconds or an RFC 3339 date-time")
            }

            fn visit_i64<E: serde::de::Error>(self, ms: i64) -> Result<CallerTime, E> {
                Ok(CallerTime(ms))
            }

            fn visit_u64<E: serde::de::Error>(self, ms: u64) -> Result<CallerTime, E> {
                i64::try_from(ms)
                    .map(CallerTime)
                    .map_err(|_| E::custom(format!("{ms} is not a time in epoch milliseconds")))
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<CallerTime, E> {
                CallerTime::parse(text).ok_or_else(|| {
                    E::custom(format!(
                        "expected epoch milliseconds or an RFC 3339 date-time, got {text:?}"
                    ))
                })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Reads a whole number written as an integer or as a float with no fraction (`12.0`), as JSON
/// Schema's `integer` allows; for `#[serde(deserialize_with)]` on request fields.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<i64, E> {
            Ok(n)
        }

        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<i64, E> {
            i64::try_from(n).map_err(|_| E::custom(format!("{n} is too large")))
        }

        fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<i64, E> {
            // Within ±2^53 every whole float is exact.
            if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 {
                Ok(n as i64)
            } else {
                Err(E::custom(format!("expected a whole number, got {n}")))
            }
        }
    }
    deserializer.deserialize_any(Visitor)
}

/// [`whole_number`] for an optional field.
pub fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(<Option<Whole> as serde::Deserialize>::deserialize(deserializer)?.map(|Whole(n)| n))
}

/// A number outside what its field allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: expected {expected}, got {got}")]
pub struct OutOfRange {
    pub field: &'static str,
    pub expected: String,
    pub got: String,
}

/// `value` when it lies in `range`.
pub fn in_range<T: PartialOrd + Display + Copy>(
    field: &'static str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<T, OutOfRange> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(OutOfRange {
            field,
            expected: format!("{} to {}", range.start(), range.end()),
            got: value.to_string(),
        })
    }
}

/// A time in epoch milliseconds between 2000 and 2100.
pub fn epoch_ms(field: &'static str, value: i64) -> Result<i64, OutOfRange> {
    in_range(field, value, EPOCH_MS).map_err(|err| OutOfRange {
        expected: format!(
            "a time in epoch milliseconds from {EPOCH_MS_MIN} (2000-01-01) to {EPOCH_MS_MAX} (2100-01-01)"
        ),
        ..err
    })
}

/// A period `[from, to)` of times between 2000 and 2100, `to` after `from`, at most `max_ms`
/// long.
pub fn period(
    from_field: &'static str,
    from: i64,
    to_field: &'static str,
    to: i64,
    max_ms: i64,
) -> Result<(i64, i64), OutOfRange> {
    let from = epoch_ms(from_field, from)?;
    let to = epoch_ms(to_field, to)?;
    // Both lie in 2000..2100, so the difference cannot overflow.
    if to <= from || to - from > max_ms {
        return Err(OutOfRange {
            field: to_field,
            expected: format!(
                "a time after {from_field} ({from}) and at most {} days after it",
                max_ms / 86_400_000
            ),
            got: to.to_string(),
        });
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_epoch_milliseconds_or_rfc_3339() {
        assert_eq!(
            CallerTime::parse("1764403200000"),
            Some(CallerTime(1_764_403_200_000))
        );
        assert_eq!(
            CallerTime::parse("2025-11-29T16:00:00+08:00"),
            Some(CallerTime(1_764_403_200_000))
        );
        assert_eq!(
            CallerTime::parse("2025-11-29T08:00:00Z"),
            Some(CallerTime(1_764_403_200_000))
        );
        assert_eq!(CallerTime::parse("yesterday"), None);
        let query: std::collections::HashMap<String, CallerTime> =
            serde_urlencoded::from_str("at=2025-11-29T08%3A00%3A00Z").expect("query");
        assert_eq!(query["at"], CallerTime(1_764_403_200_000));
    }

    #[test]
    fn extremes_are_refused_by_field() {
        let err =
            period("from", i64::MAX - 1, "to", i64::MAX, 366 * 86_400_000).expect_err("far future");
        assert_eq!(err.field, "from");
        let err = period("from", i64::MIN, "to", 0, 366 * 86_400_000).expect_err("far past");
        assert_eq!(err.field, "from");
        let day = 86_400_000;
        let start = 1_700_000_000_000;
        assert!(period("from", start, "to", start + 366 * day, 366 * day).is_ok());
        let err = period("from", start, "to", start + 367 * day, 366 * day).expect_err("too long");
        assert_eq!(err.field, "to");
        assert_eq!(
            in_range("page", 0, PAGE_NUMBERS).expect_err("0").field,
            "page"
        );
        assert!(in_range("page", 100_000, PAGE_NUMBERS).is_ok());
    }
}
