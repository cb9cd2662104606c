//! Requests as data: each VOP method is a typed value the one transport knows how to send.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::VopError;

/// A typed VOP call: which service and method, the argument object, and the result type.
pub trait VopRequest {
    /// The decoded `result`.
    type Output: DeserializeOwned;
    /// The service, e.g. `com.vip.adp.api.open.service.UnionGoodsService`.
    const SERVICE: &'static str;
    /// The service version sent as `version`.
    const VERSION: &'static str = "1.0.0";

    /// The method name (it may depend on the request's mode: `goodsList` / `goodsListWithOauth`).
    fn method(&self) -> String;

    /// The JSON body: an object whose keys are the method's argument names.
    fn arguments(&self) -> Result<Value, VopError>;

    /// Checks the documented limits before any network traffic.
    fn validate(&self) -> Result<(), VopError> {
        Ok(())
    }
}

/// Which cooperation mode a Union call is made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// 渠道商: the developer's own account, no access token.
    #[default]
    Channel,
    /// 工具商: on behalf of an authorized union user (`...WithOauth`, needs an access token).
    ToolProvider,
}

impl Mode {
    /// The method name in this mode.
    pub fn method(self, base: &str) -> String {
        match self {
            Mode::Channel => base.to_owned(),
            // The official name of vipLinkCheck's OAuth twin keeps its typo.
            Mode::ToolProvider if base == "vipLinkCheck" => "vipLinkCheckWithOuth".to_owned(),
            Mode::ToolProvider => format!("{base}WithOauth"),
        }
    }
}

/// Serializes a value to JSON, naming the argument that failed.
pub(crate) fn to_json<T: serde::Serialize>(field: &str, value: &T) -> Result<Value, VopError> {
    serde_json::to_value(value).map_err(|err| VopError::InvalidArgument {
        field: field.to_owned(),
        message: format!("cannot serialize: {err}"),
    })
}

/// Fails with a field-naming error when `ok` is false.
pub(crate) fn ensure(
    ok: bool,
    field: &str,
    message: impl FnOnce() -> String,
) -> Result<(), VopError> {
    if ok {
        Ok(())
    } else {
        Err(VopError::InvalidArgument {
            field: field.to_owned(),
            message: message(),
        })
    }
}
