//! UnionPidService: promotion positions (推广位 PID), at most 10,000 per user.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::VopError;
use crate::request::{Mode, VopRequest, ensure, to_json};

use super::{PID_SERVICE, new_request_id};

/// Every union user can hold at most 10,000 PIDs.
pub const PID_CAP: i64 = 10_000;
/// At most 100 names per `genPid` call.
pub const MAX_NAMES_PER_CALL: usize = 100;
/// A PID name is at most 50 characters.
pub const MAX_NAME_CHARS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PidInfo {
    pub pid: String,
    #[serde(default)]
    pub pid_name: Option<String>,
    #[serde(default)]
    pub create_time: Option<i64>,
}

/// `CpsUnionPidGenResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PidGenResponse {
    pub pid_info_list: Vec<PidInfo>,
    pub total: i64,
    /// How many more PIDs the user may create (of [`PID_CAP`]).
    pub remain_pid_count: i64,
}

/// `CpsUnionPidQueryResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PidQueryResponse {
    pub pid_info_list: Vec<PidInfo>,
    pub total: i64,
}

/// `genPid` / `genPidWithOauth`.
#[derive(Debug, Clone)]
pub struct GenPid {
    pub mode: Mode,
    pub names: Vec<String>,
    pub request_id: String,
}

impl GenPid {
    pub fn new(mode: Mode, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            mode,
            names: names.into_iter().map(Into::into).collect(),
            request_id: new_request_id(),
        }
    }
}

impl VopRequest for GenPid {
    type Output = PidGenResponse;
    const SERVICE: &'static str = PID_SERVICE;

    fn method(&self) -> String {
        self.mode.method("genPid")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        Ok(json!({ "pidGenRequest": { "pidNameList": self.names, "requestId": self.request_id } }))
    }

    fn validate(&self) -> Result<(), VopError> {
        let count = self.names.len();
        ensure(
            (1..=MAX_NAMES_PER_CALL).contains(&count),
            "pidGenRequest.pidNameList",
            || format!("expected 1 to {MAX_NAMES_PER_CALL} names per call, got {count}"),
        )?;
        for name in &self.names {
            let chars = name.chars().count();
            ensure(
                (1..=MAX_NAME_CHARS).contains(&chars),
                "pidGenRequest.pidNameList",
                || format!("name {name:?} has {chars} characters; expected 1 to {MAX_NAME_CHARS}"),
            )?;
        }
        Ok(())
    }
}

/// `queryPid` / `queryPidWithOauth`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPid {
    #[serde(skip)]
    pub mode: Mode,
    /// Omit for all PIDs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid_list: Option<Vec<String>>,
    pub request_id: String,
    pub page: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i32>,
}

impl QueryPid {
    pub fn all(mode: Mode, page: i32) -> Self {
        Self {
            mode,
            pid_list: None,
            request_id: new_request_id(),
            page,
            page_size: None,
        }
    }

    pub fn page_size(mut self, page_size: i32) -> Self {
        self.page_size = Some(page_size);
        self
    }
}

impl VopRequest for QueryPid {
    type Output = PidQueryResponse;
    const SERVICE: &'static str = PID_SERVICE;

    fn method(&self) -> String {
        self.mode.method("queryPid")
    }

    fn arguments(&self) -> Result<Value, VopError> {
        Ok(json!({ "pidQueryRequest": to_json("pidQueryRequest", self)? }))
    }

    fn validate(&self) -> Result<(), VopError> {
        ensure(self.page >= 1, "pidQueryRequest.page", || {
            format!("expected 1 or more, got {}", self.page)
        })?;
        if let Some(size) = self.page_size {
            ensure(
                (1..=100).contains(&size),
                "pidQueryRequest.pageSize",
                || format!("expected 1 to 100, got {size}"),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_limits() {
        let many: Vec<String> = (0..101).map(|i| format!("p{i}")).collect();
        assert!(
            GenPid::new(Mode::Channel, many)
                .validate()
                .expect_err("101")
                .to_string()
                .contains("100")
        );
        let long = GenPid::new(Mode::Channel, ["推".repeat(51)]);
        assert!(
            long.validate()
                .expect_err("51 chars")
                .to_string()
                .contains("51 characters")
        );
        GenPid::new(Mode::Channel, ["推".repeat(50)])
            .validate()
            .expect("50 chars");
        let body = GenPid::new(Mode::ToolProvider, ["a"])
            .arguments()
            .expect("json");
        assert_eq!(body["pidGenRequest"]["pidNameList"][0], "a");
    }
}
