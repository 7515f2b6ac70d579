//! The claims of a verified token that have no typed field, kept as a sorted slice: a JSON map
//! allocates a whole tree node (over 600 bytes) for even one member, and most tokens carry one
//! to three of them.

use super::interned::{Interned, Interner};
use serde_json::{Map, Value};

/// Claim name to value, sorted by name, as the token sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct OtherClaims(Box<[(Interned, Value)]>);

impl OtherClaims {
    /// Names are shared through `names` (they repeat in every token of an issuer); values are
    /// kept as sent, arrays trimmed to their length.
    pub fn from_map(map: Map<String, Value>, names: &Interner) -> Self {
        Self::from_map_counted(map, names, &std::cell::Cell::new(0))
    }

    /// Like [`from_map`](Self::from_map), adding unshared names' bytes to `own`.
    pub fn from_map_counted(
        map: Map<String, Value>,
        names: &Interner,
        own: &std::cell::Cell<usize>,
    ) -> Self {
        let mut items: Vec<_> = map
            .into_iter()
            .map(|(k, v)| (names.intern_counted(&k, own), compact(v)))
            .collect();
        // Already in name order from a JSON map without `preserve_order`; sorted in case a
        // dependency turns that feature on.
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Self(items.into_boxed_slice())
    }

    /// The claim `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Whether the claim `name` is present.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every claim, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many claims.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// As a JSON map, for code that wants one.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect()
    }

    /// Heap bytes owned by this value (names are shared and not counted).
    pub fn heap_bytes(&self) -> usize {
        self.0.len() * std::mem::size_of::<(Interned, Value)>()
            + self.0.iter().map(|(_, v)| value_bytes(v)).sum::<usize>()
    }
}

impl<'a> IntoIterator for &'a OtherClaims {
    type Item = (&'a str, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Interned, Value)>,
        fn(&'a (Interned, Value)) -> (&'a str, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

fn compact(v: Value) -> Value {
    match v {
        Value::String(mut s) => {
            s.shrink_to_fit();
            Value::String(s)
        }
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(compact).collect();
            items.shrink_to_fit();
            Value::Array(items)
        }
        other => other,
    }
}

/// Heap bytes below a JSON value; a nested object is counted as its tree nodes would be,
/// roughly (one node per eleven members).
pub(crate) fn value_bytes(v: &Value) -> usize {
    const NODE: usize = 640;
    match v {
        Value::String(s) => s.capacity(),
        Value::Array(items) => {
            items.capacity() * std::mem::size_of::<Value>()
                + items.iter().map(value_bytes).sum::<usize>()
        }
        Value::Object(m) => {
            m.len().div_ceil(11) * NODE
                + m.iter()
                    .map(|(k, v)| k.capacity() + value_bytes(v))
                    .sum::<usize>()
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookups_and_iteration_follow_the_map() {
        let Value::Object(map) =
            json!({"tid": "T1", "groups": ["a", "b"], "event_id": "e", "n": 3})
        else {
            panic!("an object")
        };
        let other = OtherClaims::from_map(map.clone(), &Interner::new(8));
        assert_eq!(other.len(), 4);
        for (k, v) in &map {
            assert_eq!(other.get(k), Some(v));
        }
        assert_eq!(other.get("absent"), None);
        assert!(!other.contains_key("ti"));
        assert_eq!(other.to_map(), map);
        let names: Vec<_> = other.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["event_id", "groups", "n", "tid"]);
    }
}
