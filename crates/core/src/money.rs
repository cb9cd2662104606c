//! Money as exact decimals: platforms send amounts as decimal strings (元), never as floats.

use std::fmt;
use std::str::FromStr;

pub use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Parses a platform amount such as `"129.90"` or `"-3.5"`, naming the field when it is not one.
pub fn parse_amount(field: &str, text: &str) -> Result<Decimal, String> {
    Decimal::from_str(text.trim())
        .map_err(|_| format!("{field}: expected a decimal amount like \"99.50\", got {text:?}"))
}

/// Deserializes an optional amount sent as a decimal string (or, leniently, a JSON number);
/// an empty string is `None`.
pub fn de_opt_amount<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Decimal>, D::Error> {
    deserializer.deserialize_option(OptAmount)
}

/// What [`de_opt_amount`] reads. A visitor, not an untagged enum: serde buffers an untagged
/// value into a copy of its own before it tries the variants, and every order line has amounts.
struct OptAmount;

impl<'de> Visitor<'de> for OptAmount {
    type Value = Option<Decimal>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a decimal amount (a string like \"99.50\", or a number), or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        parse_amount("amount", text).map(Some).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(number)))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(number)))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Self::Value, E> {
        // As JSON writes the number: 12.5, not 12.4999…, and 100.0 as it came.
        match serde_json::Number::from_f64(number) {
            Some(number) => self.visit_str(&number.to_string()),
            None => Err(E::custom(format!("amount: {number} is not a number"))),
        }
    }
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

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
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
        let null: Line = serde_json::from_str(r#"{"commission":null}"#).expect("null");
        assert!(null.commission.is_none());
        let absent: Line = serde_json::from_str("{}").expect("absent");
        assert!(absent.commission.is_none());
        let float: Line = serde_json::from_str(r#"{"commission":100.0}"#).expect("float");
        assert_eq!(
            float.commission.map(|c| c.to_string()).as_deref(),
            Some("100.0")
        );
        let whole: Line = serde_json::from_str(r#"{"commission":-3}"#).expect("integer");
        assert_eq!(whole.commission, Some(Decimal::from(-3)));
        let escaped: Line = serde_json::from_str(r#"{"commission":"\u0031.5"}"#).expect("escaped");
        assert_eq!(
            escaped.commission.map(|c| c.to_string()).as_deref(),
            Some("1.5")
        );
        for wrong in [
            r#"{"commission":true}"#,
            r#"{"commission":{}}"#,
            r#"{"commission":[1]}"#,
        ] {
            let err = serde_json::from_str::<Line>(wrong).expect_err(wrong);
            assert!(err.to_string().contains("decimal amount"), "{err}");
        }
    }
}
