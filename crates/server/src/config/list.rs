//! Lists that arrive either as a TOML array or as one comma-separated environment variable
//! (`PORTCULLIS_AUTH__CLIENT_IDS=a,b`).

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::fmt;

/// Deserializes a list of strings from an array, a comma string, or a single scalar. Figment
/// parses an env value such as `12345` as a number, so numbers are accepted and kept as text.
/// Empty items (`a,,b`, a trailing comma) are dropped and whitespace around items is trimmed.
pub fn comma_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_any(CommaList)
}

struct CommaList;

fn split(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl<'de> Visitor<'de> for CommaList {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings or a comma-separated string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(split(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }

    /// `PORTCULLIS_MFA__VALUES=true` arrives as a boolean.
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<ListItem>()? {
            out.extend(split(&item.0));
        }
        Ok(out)
    }
}

/// One array element: a string, or a number written without quotes.
struct ListItem(String);

impl<'de> de::Deserialize<'de> for ListItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl Visitor<'_> for ItemVisitor {
            type Value = ListItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ListItem, E> {
                Ok(ListItem(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ListItem, E> {
                Ok(ListItem(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ListItem, E> {
                Ok(ListItem(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ListItem, E> {
                Ok(ListItem(v.to_string()))
            }
        }
        d.deserialize_any(ItemVisitor)
    }
}
