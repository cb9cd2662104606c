//! Money as exact decimals: platforms send amounts as decimal strings (元), never as floats.

use std::str::FromStr;

pub use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serializer};

/// Parses a platform amount such as `"129.90"` or `"-3.5"`, naming the field when it is not one.
pub fn parse_amount(field: &str, text: &str) -> Result<Decimal, String> {
    Decimal::from_str(text.trim())
        .map_err(|_| format!("{field}: expected a decimal amount like \"99.50\", got {text:?}"))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawAmount {
    Text(String),
    Number(serde_json::Number),
}

/// Deserializes an optional amount sent as a decimal string (or, leniently, a JSON number);
/// an empty string is `None`.
pub fn de_opt_amount<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Decimal>, D::Error> {
    let text = match Option::<RawAmount>::deserialize(deserializer)? {
        None => return Ok(None),
        Some(RawAmount::Text(text)) if text.trim().is_empty() => return Ok(None),
        Some(RawAmount::Text(text)) => text,
        Some(RawAmount::Number(number)) => number.to_string(),
    };
    parse_amount("amount", &text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Serializes an optional amount back as the platform's decimal string.
pub fn ser_opt_amount<S: Serializer>(
    amount: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match amount {
        Some(amount) => serializer.serialize_str(&amount.to_string()),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, serde::Serialize)]
    struct Line {
        #[serde(
            default,
            deserialize_with = "de_opt_amount",
            serialize_with = "ser_opt_amount"
        )]
        commission: Option<Decimal>,
    }

    #[test]
    fn amounts_are_exact_and_round_trip() {
        let sum: Decimal = ["0.10", "0.20"]
            .iter()
            .map(|t| parse_amount("x", t).expect("ok"))
            .sum();
        assert_eq!(sum.to_string(), "0.30");
        let line: Line = serde_json::from_str(r#"{"commission":"154.45"}"#).expect("string");
        assert_eq!(
            serde_json::to_string(&line).expect("ser"),
            r#"{"commission":"154.45"}"#
        );
        let line: Line = serde_json::from_str(r#"{"commission":12.5}"#).expect("number");
        assert_eq!(
            line.commission.map(|c| c.to_string()).as_deref(),
            Some("12.5")
        );
        let empty: Line = serde_json::from_str(r#"{"commission":""}"#).expect("empty");
        assert!(empty.commission.is_none());
        let bad = serde_json::from_str::<Line>(r#"{"commission":"12,5"}"#).expect_err("comma");
        assert!(bad.to_string().contains("decimal amount"));
    }
}
