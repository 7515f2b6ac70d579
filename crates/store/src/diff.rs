//! The `changes` column of an audit row: before and after of the fields that changed.
//!
//! Resource data can be large (up to 512 KiB), and the audit log is permanent and read in
//! pages: a row keeps what changed, not two copies of the data. Values over
//! [`LARGE_VALUE_BYTES`] are kept as their SHA-256 and size ([`compact`]), which still lets a
//! reader tell whether a value is the one they hold.

use crate::audit_chain::canonical_json;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// A value whose canonical JSON is longer than this is kept as its digest and size.
pub const LARGE_VALUE_BYTES: usize = 4 * 1024;
/// A field-by-field `data` diff longer than this is replaced by the digests of the whole
/// before and after values, so that many small changed fields cannot add up to a large row.
pub const MAX_DATA_DIFF_BYTES: usize = 16 * 1024;

/// `v` itself when its canonical JSON is at most [`LARGE_VALUE_BYTES`], else
/// `{"sha256": <hex of the canonical JSON>, "bytes": <its length>}`. Canonical JSON is the
/// audit chain's (sorted keys, numbers by value), so the digest is the same on every backend.
pub fn compact(v: &Value) -> Value {
    let text = canonical_json(v);
    if text.len() <= LARGE_VALUE_BYTES {
        return v.clone();
    }
    json!({ "sha256": hex::encode(Sha256::digest(text.as_bytes())), "bytes": text.len() })
}

/// How a resource's `data` changed, or `None` if it did not. Between two objects: the
/// top-level fields that differ, `{"fields": {"k": {"before": x, "after": y}}}` (absent on one
/// side is `null`), each value [`compact`]ed; otherwise, or when that listing would be over
/// [`MAX_DATA_DIFF_BYTES`], `{"before": x, "after": y}` of the whole values, compacted.
pub fn data_changes(before: &Value, after: &Value) -> Option<Value> {
    if before == after {
        return None;
    }
    if before.is_object() && after.is_object() {
        let mut fields = changed_fields(before, after);
        if let Some(map) = fields.as_object_mut() {
            for change in map.values_mut() {
                for side in ["before", "after"] {
                    if let Some(v) = change.get_mut(side) {
                        *v = compact(v);
                    }
                }
            }
        }
        let listed = json!({ "fields": fields });
        if canonical_json(&listed).len() <= MAX_DATA_DIFF_BYTES {
            return Some(listed);
        }
    }
    Some(json!({ "before": compact(before), "after": compact(after) }))
}

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
    fn small_values_are_kept_and_large_ones_digested() {
        assert_eq!(compact(&json!({"a": 1})), json!({"a": 1}));
        let big = json!({"text": "x".repeat(5000)});
        let c = compact(&big);
        let text = canonical_json(&big);
        assert_eq!(c["bytes"], text.len());
        assert_eq!(
            c["sha256"],
            hex::encode(Sha256::digest(text.as_bytes())).as_str()
        );
        assert_eq!(c.as_object().map(Map::len), Some(2));
    }

    #[test]
    fn data_diffs_list_changed_top_level_fields_only() {
        let big = "y".repeat(5000);
        let before = json!({"title": "a", "same": [1, 2], "body": big, "gone": 1});
        let after = json!({"title": "b", "same": [1, 2], "body": "short", "new": true});
        let d = data_changes(&before, &after).expect("changed");
        assert_eq!(d["fields"]["title"], json!({"before": "a", "after": "b"}));
        assert_eq!(d["fields"]["gone"], json!({"before": 1, "after": null}));
        assert_eq!(d["fields"]["new"], json!({"before": null, "after": true}));
        assert_eq!(d["fields"]["body"]["after"], "short");
        assert_eq!(d["fields"]["body"]["before"]["bytes"], 5002);
        assert!(d["fields"].get("same").is_none());
        assert_eq!(data_changes(&before, &before), None);
        // Not two objects: the whole values.
        assert_eq!(
            data_changes(&json!([1]), &json!({"a": 1})),
            Some(json!({"before": [1], "after": {"a": 1}}))
        );
    }

    #[test]
    fn many_small_changed_fields_do_not_add_up_to_a_large_row() {
        let before: Map<String, Value> = (0..200)
            .map(|i| (format!("k{i}"), json!("a".repeat(100))))
            .collect();
        let after: Map<String, Value> = (0..200)
            .map(|i| (format!("k{i}"), json!("b".repeat(100))))
            .collect();
        let d = data_changes(&Value::Object(before), &Value::Object(after)).expect("changed");
        assert!(d.get("fields").is_none());
        assert!(d["before"]["sha256"].is_string() && d["after"]["sha256"].is_string());
        assert!(canonical_json(&d).len() < 1024);
    }

    #[test]
    fn creation_lists_every_field() {
        assert_eq!(
            created(&json!({"name": "x"})),
            json!({"name": {"before": null, "after": "x"}})
        );
    }
}
