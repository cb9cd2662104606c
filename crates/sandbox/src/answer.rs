//! The shape of answers as the platforms' own generated writers produce them: a member that is
//! not set is left out, never written as `null`. Generated SDK parsers (the VOP "osp-idlc" ones
//! among them) have no null for a field and fail on one.

use serde_json::Value;

/// `value` with every `null` member of every object left out, at any depth. A value that is
/// itself `null` (the documented whole empty result) stays as it is.
pub fn without_null_members(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .filter(|(_, member)| !member.is_null())
                .map(|(name, member)| (name, without_null_members(member)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_null_members).collect()),
        other => other,
    }
}

/// Whether any object inside `value` has a `null` member; the path of the first one found.
pub fn first_null_member(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::Object(members) => members.iter().find_map(|(name, member)| {
            let here = format!("{path}.{name}");
            if member.is_null() {
                Some(here)
            } else {
                first_null_member(member, &here)
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| first_null_member(item, &format!("{path}[{i}]"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn null_members_are_left_out_at_any_depth() {
        let answer = json!({"a": null, "b": [{"c": null, "d": 1}], "e": {"f": null}});
        let cleaned = super::without_null_members(answer);
        assert_eq!(cleaned, json!({"b": [{"d": 1}], "e": {}}));
        assert_eq!(super::first_null_member(&cleaned, "result"), None);
        assert_eq!(super::without_null_members(json!(null)), json!(null));
        assert_eq!(
            super::first_null_member(&json!({"x": [{"y": null}]}), "result").as_deref(),
            Some("result.x[0].y")
        );
    }
}
