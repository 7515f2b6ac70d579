//! Deserializes a request type from query-string pairs with [`Fault`] as the error type, as
//! `serde_urlencoded` would (each value is text, parsed as the field's type asks), so that a
//! failure names the parameter and never carries a library message.

use super::fault::{Fault, Segment};
use serde::de::value::{MapDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Unexpected, Visitor};

/// `pairs` are the decoded `name=value` pairs in the order sent.
pub fn from_pairs<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, Fault> {
    T::deserialize(Pairs(pairs))
}

struct Pairs<'a>(&'a [(String, String)]);

impl<'de> de::Deserializer<'de> for Pairs<'_> {
    type Error = Fault;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        let entries = self
            .0
            .iter()
            .map(|(name, value)| (name.as_str(), Text { name, value }));
        visitor.visit_map(MapDeserializer::new(entries))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// One parameter's value.
#[derive(Debug, Clone, Copy)]
struct Text<'a> {
    name: &'a str,
    value: &'a str,
}

impl Text<'_> {
    fn locate<T>(&self, r: Result<T, Fault>) -> Result<T, Fault> {
        r.map_err(|f| f.under(Segment::Key(self.name.to_owned())))
    }

    fn parsed<T: std::str::FromStr>(&self, exp: &dyn de::Expected) -> Result<T, Fault> {
        self.value
            .parse()
            .map_err(|_| de::Error::invalid_value(Unexpected::Other("text"), exp))
    }
}

impl<'de> IntoDeserializer<'de, Fault> for Text<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parse_as {
    ($($method:ident => $visit:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
                let r = self.parsed(&visitor).and_then(|v| visitor.$visit(v));
                self.locate(r)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Text<'_> {
    type Error = Fault;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        let r = visitor.visit_str(self.value);
        self.locate(r)
    }

    parse_as! {
        deserialize_bool => visit_bool,
        deserialize_i8 => visit_i8,
        deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32,
        deserialize_i64 => visit_i64,
        deserialize_u8 => visit_u8,
        deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32,
        deserialize_u64 => visit_u64,
        deserialize_f32 => visit_f32,
        deserialize_f64 => visit_f64,
    }

    /// A parameter that is present has a value, even an empty one (`?cursor=`).
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        visitor.visit_some(self)
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
        let r = visitor.visit_enum(StrDeserializer::<Fault>::new(self.value));
        self.locate(r)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::input::fault::Kind;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Params {
        page_size: Option<u32>,
        cursor: Option<String>,
        #[serde(default)]
        include_deleted: bool,
        since: Option<chrono::DateTime<chrono::Utc>>,
        actor: Option<uuid::Uuid>,
    }

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn fault(q: &[(&str, &str)]) -> Fault {
        match from_pairs::<Params>(&pairs(q)) {
            Ok(p) => panic!("accepted {p:?}"),
            Err(f) => f,
        }
    }

    fn field(f: &Fault) -> Option<&str> {
        f.field()
    }

    #[test]
    fn reads_typed_values() {
        let p: Params = from_pairs(&pairs(&[
            ("page_size", "5"),
            ("cursor", ""),
            ("include_deleted", "true"),
            ("since", "2026-01-02T03:04:05Z"),
            ("actor", "0190b9c0-0000-7000-8000-000000000000"),
        ]))
        .expect("fits");
        assert_eq!(p.page_size, Some(5));
        assert_eq!(p.cursor.as_deref(), Some(""));
        assert!(p.include_deleted);
        assert!(p.since.is_some() && p.actor.is_some());
        let none: Params = from_pairs(&[]).expect("all optional");
        assert_eq!(none.page_size, None);
    }

    #[test]
    fn each_fault_names_its_parameter() {
        for (q, name) in [
            (("page_size", "ten"), "page_size"),
            (("page_size", "-1"), "page_size"),
            (("page_size", ""), "page_size"),
            (("include_deleted", "yes"), "include_deleted"),
            (("since", "yesterday"), "since"),
            (("actor", "me"), "actor"),
        ] {
            let f = fault(&[q]);
            assert_eq!(f.kind, Kind::Invalid { variants: None }, "{q:?}");
            assert_eq!(field(&f), Some(name), "{q:?}");
        }
        let f = fault(&[("page_sise", "1")]);
        assert!(matches!(f.kind, Kind::Unknown { accepted } if accepted.contains(&"page_size")));
        assert_eq!(field(&f), Some("page_sise"));
        let f = fault(&[("cursor", "a"), ("cursor", "b")]);
        assert_eq!((f.kind, field(&f)), (Kind::Duplicate, Some("cursor")));
    }
}
