//! Requests as data: each Winit action is a typed value the one transport knows how to send.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::WinitError;

pub trait WinitRequest {
    type Output: DeserializeOwned;
    const ACTION: &'static str;
    const VERSION: &'static str = "1.0";

    /// The `data` object (`None`: no data).
    fn data(&self) -> Result<Option<Value>, WinitError>;

    /// Required fields and documented limits, before any network traffic.
    fn validate(&self) -> Result<(), WinitError> {
        Ok(())
    }
}

/// Implements [`WinitRequest`] for a serializable struct whose fields are the action's `data`.
macro_rules! winit_action {
    ($ty:ty, $action:literal, $out:ty) => {
        winit_action!($ty, $action, "1.0", $out);
    };
    ($ty:ty, $action:literal, $version:literal, $out:ty) => {
        impl $crate::request::WinitRequest for $ty {
            type Output = $out;
            const ACTION: &'static str = $action;
            const VERSION: &'static str = $version;

            fn data(&self) -> Result<Option<serde_json::Value>, $crate::WinitError> {
                serde_json::to_value(self).map(Some).map_err(|err| {
                    $crate::WinitError::InvalidArgument {
                        field: "data".into(),
                        message: format!("cannot serialize: {err}"),
                    }
                })
            }

            fn validate(&self) -> Result<(), $crate::WinitError> {
                self.check()
            }
        }
    };
}
pub(crate) use winit_action;

pub(crate) fn ensure(
    ok: bool,
    field: &str,
    message: impl FnOnce() -> String,
) -> Result<(), WinitError> {
    if ok {
        Ok(())
    } else {
        Err(WinitError::InvalidArgument {
            field: field.to_owned(),
            message: message(),
        })
    }
}

pub(crate) fn required(field: &str, value: &str) -> Result<(), WinitError> {
    ensure(!value.trim().is_empty(), field, || "required".into())
}

/// Deserializes a number Winit may send as a JSON number or a string.
pub(crate) fn de_lenient_i64<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    use serde::Deserialize;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(i64),
        Float(f64),
        Text(String),
    }
    match Option::<Raw>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Float(f)) => Ok(Some(f as i64)),
        Some(Raw::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Raw::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a number, got {t:?}"))),
    }
}
