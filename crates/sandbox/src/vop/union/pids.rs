//! UnionPidService: PIDs per union user (the app's developer or an authorized user), capped at 10,000.

use std::collections::HashMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::super::VopState;
use super::super::args::Args;
use super::super::gateway::{Call, GatewayError};

pub const PID_CAP: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Pid {
    pub pid: String,
    pub name: String,
    pub create_time: i64,
}

/// PIDs by owner.
#[derive(Debug, Default)]
pub struct PidBook {
    pub by_owner: HashMap<String, Vec<Pid>>,
}

fn owner_of(call: &Call<'_>) -> String {
    call.user
        .map_or_else(|| call.app_key.to_owned(), |user| user.open_id.clone())
}

fn pid_json(pid: &Pid) -> Value {
    json!({"pid": pid.pid, "pidName": pid.name, "createTime": pid.create_time})
}

pub fn gen_pid(
    vop: &mut VopState,
    rng: &mut ChaCha8Rng,
    call: &Call<'_>,
) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "pidGenRequest")?;
    args.req_str("requestId")?;
    let names = args.str_list("pidNameList")?;
    if names.is_empty() || names.len() > 100 {
        return Err(GatewayError::invalid_argument(format!(
            "pidGenRequest.pidNameList: expected 1 to 100 names, got {}",
            names.len()
        )));
    }
    if let Some(bad) = names
        .iter()
        .find(|name| name.is_empty() || name.chars().count() > 50)
    {
        return Err(GatewayError::invalid_argument(format!(
            "pidGenRequest.pidNameList: name {bad:?} must have 1 to 50 characters"
        )));
    }
    let pids = vop.union.pids.by_owner.entry(owner_of(call)).or_default();
    if pids.len() + names.len() > PID_CAP {
        return Err(GatewayError::invalid_argument(format!(
            "PID cap reached: {} of {PID_CAP} used, {} requested",
            pids.len(),
            names.len()
        )));
    }
    let mut created = Vec::new();
    for name in names {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let pid: String = (0..12)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        let record = Pid {
            pid,
            name: name.to_owned(),
            create_time: call.now_ms,
        };
        created.push(pid_json(&record));
        pids.push(record);
    }
    Ok(json!({
        "pidInfoList": created,
        "total": created.len(),
        "remainPidCount": PID_CAP - pids.len(),
    }))
}

pub fn query_pid(vop: &VopState, call: &Call<'_>) -> Result<Value, GatewayError> {
    let args = Args::wrapped(call.body, "pidQueryRequest")?;
    args.req_str("requestId")?;
    let (page, size) = args.paging(100, 100)?;
    let wanted = args
        .opt_str_list("pidList")?
        .filter(|list| !list.is_empty());
    let empty = Vec::new();
    let owned = vop
        .union
        .pids
        .by_owner
        .get(&owner_of(call))
        .unwrap_or(&empty);
    let matching: Vec<&Pid> = owned
        .iter()
        .filter(|pid| {
            wanted
                .as_ref()
                .is_none_or(|list| list.contains(&pid.pid.as_str()))
        })
        .collect();
    let list: Vec<Value> = matching
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|pid| pid_json(pid))
        .collect();
    Ok(json!({ "pidInfoList": list, "total": matching.len() }))
}
