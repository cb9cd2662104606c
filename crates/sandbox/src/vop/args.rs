//! Typed access to a method's JSON arguments, with errors that name the field.

use serde_json::{Map, Value};

use super::gateway::GatewayError;

/// Reads typed fields of an argument object, with errors that name the field.
pub struct Args<'a> {
    pub prefix: String,
    pub object: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    /// The struct argument `name` of the body (`{"request": {...}}`).
    pub fn wrapped(body: &'a Value, name: &'a str) -> Result<Self, GatewayError> {
        match body.get(name) {
            Some(Value::Object(object)) => Ok(Self {
                prefix: name.to_owned(),
                object,
            }),
            Some(_) => Err(GatewayError::invalid_argument(format!(
                "{name}: expected a JSON object"
            ))),
            None => Err(GatewayError::new(
                "vipapis.miss-parameter",
                format!("缺少参数: {name} (the body must be {{\"{name}\": {{...}}}})"),
            )),
        }
    }

    /// The top-level arguments of the body.
    pub fn top(body: &'a Value) -> Result<Self, GatewayError> {
        match body {
            Value::Object(object) => Ok(Self {
                prefix: String::new(),
                object,
            }),
            _ => Err(GatewayError::invalid_argument(
                "body: expected a JSON object",
            )),
        }
    }

    pub fn path(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.prefix)
        }
    }

    pub fn opt_i64(&self, field: &str) -> Result<Option<i64>, GatewayError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
                GatewayError::invalid_argument(format!("{}: expected an integer", self.path(field)))
            }),
            Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
                GatewayError::invalid_argument(format!(
                    "{}: expected an integer, got {s:?}",
                    self.path(field)
                ))
            }),
            Some(other) => Err(GatewayError::invalid_argument(format!(
                "{}: expected an integer, got {other}",
                self.path(field)
            ))),
        }
    }

    pub fn opt_str(&self, field: &str) -> Result<Option<&'a str>, GatewayError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(GatewayError::invalid_argument(format!(
                "{}: expected a string, got {other}",
                self.path(field)
            ))),
        }
    }

    pub fn req_str(&self, field: &str) -> Result<&'a str, GatewayError> {
        self.opt_str(field)?.ok_or_else(|| {
            GatewayError::new(
                "vipapis.miss-parameter",
                format!("缺少参数: {}", self.path(field)),
            )
        })
    }

    pub fn opt_bool(&self, field: &str) -> Result<bool, GatewayError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(GatewayError::invalid_argument(format!(
                "{}: expected true or false, got {other}",
                self.path(field)
            ))),
        }
    }

    /// A nested object argument, if present.
    pub fn opt_object(&self, field: &str) -> Result<Option<Args<'a>>, GatewayError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(object)) => Ok(Some(Args {
                prefix: self.path(field),
                object,
            })),
            Some(_) => Err(GatewayError::invalid_argument(format!(
                "{}: expected a JSON object",
                self.path(field)
            ))),
        }
    }

    /// A list of strings that may be absent.
    pub fn opt_str_list(&self, field: &str) -> Result<Option<Vec<&'a str>>, GatewayError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.str_list(field).map(Some),
        }
    }

    pub fn str_list(&self, field: &str) -> Result<Vec<&'a str>, GatewayError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Err(GatewayError::new(
                "vipapis.miss-parameter",
                format!("缺少参数: {}", self.path(field)),
            )),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str().ok_or_else(|| {
                        GatewayError::invalid_argument(format!(
                            "{}: expected a list of strings",
                            self.path(field)
                        ))
                    })
                })
                .collect(),
            Some(_) => Err(GatewayError::invalid_argument(format!(
                "{}: expected a list of strings",
                self.path(field)
            ))),
        }
    }

    /// `page` (required, from 1) and `pageSize` (default, at most `max`).
    pub fn paging(&self, default_size: i64, max_size: i64) -> Result<(usize, usize), GatewayError> {
        let page = self.opt_i64("page")?.ok_or_else(|| {
            GatewayError::new(
                "vipapis.miss-parameter",
                format!("缺少参数: {}", self.path("page")),
            )
        })?;
        if page < 1 {
            return Err(GatewayError::invalid_argument(format!(
                "{}: expected 1 or more, got {page}",
                self.path("page")
            )));
        }
        let size = self.opt_i64("pageSize")?.unwrap_or(default_size);
        if !(1..=max_size).contains(&size) {
            return Err(GatewayError::invalid_argument(format!(
                "{}: expected 1 to {max_size}, got {size}",
                self.path("pageSize")
            )));
        }
        Ok((page as usize, size as usize))
    }
}
