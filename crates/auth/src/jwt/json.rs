//! JSON objects with unique member names. serde_json keeps the last of duplicate members
//! silently; a token whose header or claims name a member twice is ambiguous (two parsers may
//! read different values), so it is refused.

use crate::rejection::Rejection;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

#[derive(Debug, Clone, Default, PartialEq)]
/// A JSON object whose member names are unique; a duplicate makes it invalid.
pub struct UniqueMap(pub Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with unique member names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueMap, A::Error> {
                let mut map = Map::new();
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    match map.entry(k) {
                        serde_json::map::Entry::Vacant(slot) => {
                            slot.insert(v);
                        }
                        serde_json::map::Entry::Occupied(_) => {
                            return Err(serde::de::Error::custom("duplicate member"));
                        }
                    }
                }
                Ok(UniqueMap(map))
            }
        }
        d.deserialize_map(V)
    }
}

impl UniqueMap {
    /// Parses `bytes` as a JSON object with unique member names.
    pub fn parse(bytes: &[u8]) -> Result<Self, Rejection> {
        serde_json::from_slice(bytes).map_err(|_| Rejection::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_members_are_refused() {
        assert!(UniqueMap::parse(br#"{"alg":"RS256","kid":"k"}"#).is_ok());
        assert_eq!(
            UniqueMap::parse(br#"{"alg":"RS256","alg":"none"}"#),
            Err(Rejection::Malformed)
        );
        assert_eq!(UniqueMap::parse(b"[1]"), Err(Rejection::Malformed));
        assert_eq!(UniqueMap::parse(b"{} x"), Err(Rejection::Malformed));
    }
}
