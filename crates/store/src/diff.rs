//! The `changes` column of an audit row: before and after of the fields that changed.

use serde_json::{Map, Value, json};

/// `{"field": {"before": x, "after": y}}` for every top-level field whose value differs.
/// A field present on one side only is shown with `null` on the other.
pub fn changed_fields(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    for key in b.keys().chain(a.keys()) {
        if out.contains_key(key) {
            continue;
        }
        let (old, new) = (b.get(key), a.get(key));
        if old != new {
            out.insert(
                key.clone(),
                json!({ "before": old.cloned().unwrap_or(Value::Null), "after": new.cloned().unwrap_or(Value::Null) }),
            );
        }
    }
    Value::Object(out)
}

/// The `changes` of a creation: every field, with no `before`.
pub fn created(after: &Value) -> Value {
    changed_fields(&Value::Null, after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_listed() {
        let d = changed_fields(
            &json!({"name": "a", "kind": "doc", "gone": 1}),
            &json!({"name": "b", "kind": "doc", "new": true}),
        );
        assert_eq!(
            d,
            json!({
                "name": {"before": "a", "after": "b"},
                "gone": {"before": 1, "after": null},
                "new": {"before": null, "after": true}
            })
        );
    }

    #[test]
    fn creation_lists_every_field() {
        assert_eq!(
            created(&json!({"name": "x"})),
            json!({"name": {"before": null, "after": "x"}})
        );
    }
}
