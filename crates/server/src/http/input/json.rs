//! Deserializes a request type from a parsed JSON body with [`Fault`] as the error type, so
//! that a failure says where (the path to the field) and how (the kind), never with serde_json's
//! message. Mirrors `serde_json::Value`'s own deserializer, except that a struct or map must be
//! a JSON object (serde would also take an array of the fields in order).

use super::fault::{Fault, Segment};
use serde::de::value::{MapDeserializer, SeqDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Unexpected, Visitor};
use serde_json::Value;

pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, Fault> {
    T::deserialize(Node {
        value,
        segment: None,
    })
}

/// One value of the body and where it sits in its container (`None` for the root).
#[derive(Debug, Clone, Copy)]
struct Node<'a> {
    value: &'a Value,
    segment: Option<Seg<'a>>,
}

#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

impl Node<'_> {
    /// Adds this value's place to a fault raised while reading it.
    fn locate<T>(&self, r: Result<T, Fault>) -> Result<T, Fault> {
        r.map_err(|f| match self.segment {
            Some(Seg::Key(k)) => f.under(Segment::Key(k.to_owned())),
            Some(Seg::Index(i)) => f.under(Segment::Index(i)),
            None => f,
        })
    }

    fn unexpected(&self) -> Unexpected<'_> {
        match self.value {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(_) => Unexpected::Other("number"),
            Value::String(_) => Unexpected::Other("string"),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        }
    }

    fn visit_object<'de, V: Visitor<'de>>(
        &self,
        map: &serde_json::Map<String, Value>,
        visitor: V,
    ) -> Result<V::Value, Fault> {
        let entries = map.iter().map(|(k, v)| {
            (
                k.as_str(),
                Node {
                    value: v,
                    segment: Some(Seg::Key(k)),
                },
            )
        });
        visitor.visit_map(MapDeserializer::new(entries))
    }
}

impl<'de> IntoDeserializer<'de, Fault> for Node<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Node<'_> {
    type Error = Fault;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        let r = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    match n.as_f64() {
                        Some(f) => visitor.visit_f64(f),
                        None => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
                    }
                }
            }
            Value::String(s) => visitor.visit_str(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.iter().enumerate().map(|(i, v)| Node {
                    value: v,
                    segment: Some(Seg::Index(i)),
                }));
                visitor
                    .visit_seq(&mut seq)
                    .and_then(|v| seq.end().map(|()| v))
            }
            Value::Object(map) => self.visit_object(map, visitor),
        };
        self.locate(r)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        match self.value {
            Value::Null => self.locate(visitor.visit_none()),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Fault> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fault> {
        // Every enum of the API is a plain name (a role); no variant carries data.
        let r = match self.value {
            Value::String(s) => visitor.visit_enum(StrDeserializer::<Fault>::new(s)),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        };
        self.locate(r)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        let r = match self.value {
            Value::Object(map) => self.visit_object(map, visitor),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        };
        self.locate(r)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fault> {
        self.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::input::fault::Kind;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Body {
        name: String,
        size: Option<u32>,
        #[serde(default)]
        data: Value,
        role: Option<Role>,
        id: Option<uuid::Uuid>,
        tags: Option<Vec<String>>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Role {
        Owner,
        Viewer,
    }

    fn fault(v: Value) -> Fault {
        match from_value::<Body>(&v) {
            Ok(b) => panic!("accepted {b:?}"),
            Err(f) => f,
        }
    }

    fn path(f: &Fault) -> Vec<Segment> {
        f.path().cloned().collect()
    }

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let v = json!({"name": "n", "size": 3, "data": {"a": [1, -2, 2.5, null, true, "s"]},
                       "role": "owner", "id": "0190b9c0-0000-7000-8000-000000000000",
                       "tags": ["x"]});
        let mine: Body = from_value(&v).expect("fits");
        let theirs: Body = serde_json::from_value(v).expect("fits");
        assert_eq!(mine, theirs);
    }

    #[test]
    fn each_kind_of_fault_is_named_with_its_path() {
        let f = fault(json!({"size": 1}));
        assert_eq!((f.kind, path(&f)), (Kind::Missing, vec![key("name")]));

        let f = fault(json!({"name": "n", "nmae": 1}));
        assert!(matches!(f.kind, Kind::Unknown { accepted } if accepted.contains(&"name")));
        assert_eq!(path(&f), vec![key("nmae")]);

        let f = fault(json!({"name": 5}));
        assert_eq!(f.kind, Kind::Invalid { variants: None });
        assert_eq!(path(&f), vec![key("name")]);

        let f = fault(json!({"name": "n", "size": -1}));
        assert_eq!(path(&f), vec![key("size")]);

        let f = fault(json!({"name": "n", "role": "god"}));
        assert!(matches!(f.kind, Kind::Invalid { variants: Some(v) } if v == ["owner", "viewer"]));
        assert_eq!(path(&f), vec![key("role")]);

        let f = fault(json!({"name": "n", "id": "not-a-uuid"}));
        assert_eq!(path(&f), vec![key("id")]);

        let f = fault(json!({"name": "n", "tags": ["a", 7]}));
        assert_eq!(path(&f), vec![key("tags"), Segment::Index(1)]);
    }

    #[test]
    fn a_struct_is_an_object_only() {
        for v in [
            json!(["n", null, null, null, null, null]),
            json!("n"),
            json!(null),
        ] {
            let f = fault(v);
            assert_eq!(f.kind, Kind::Invalid { variants: None });
            assert_eq!(path(&f), Vec::<Segment>::new());
        }
    }
}
