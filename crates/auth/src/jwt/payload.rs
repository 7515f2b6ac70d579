//! The claims set as sent, parsed in one pass: the registered and Cognito claims into slots
//! of their own, everything else into a map, and any member named twice refused.
//!
//! Nothing here is trusted yet: the signature has not been checked when this runs. So a claim
//! of the wrong type is not an error at this stage; its slot records that it was there and
//! unusable, and [`Claims::from_payload`](super::Claims::from_payload) refuses it once the
//! signature holds. Only malformed JSON and duplicate members (ambiguous to two parsers) are
//! refused here, as they were when the payload went through a [`UniqueMap`](super::UniqueMap):
//! values the typed claims do not keep are still read in full and checked (see [`Checked`]).
//!
//! Why slots rather than a JSON map: building a `serde_json::Value` per claim, inserting it
//! under an owned key and removing it again cost more than the rest of the claim handling
//! together (docs/benchmarks.md, token verification).

use crate::rejection::Rejection;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// A claim's value, as far as the typed claims care.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A number that is not an `i64` (fractional, or an integer beyond `i64::MAX`).
    Float(f64),
    /// An array whose members are all strings.
    Strings(Vec<String>),
    /// Anything else (`null`, a boolean, an object, an array with a non-string member).
    Other,
}

/// The claims the typed structure always takes out of the payload. `cognito:username` and
/// `scp` are only fallbacks, read when `username` or `scope` are absent, and otherwise stay in
/// `raw` as sent, so they are not listed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Payload {
    /// `iss`.
    pub iss: Option<Slot>,
    /// `sub`.
    pub sub: Option<Slot>,
    /// `exp`.
    pub exp: Option<Slot>,
    /// `nbf`.
    pub nbf: Option<Slot>,
    /// `iat`.
    pub iat: Option<Slot>,
    /// `auth_time`.
    pub auth_time: Option<Slot>,
    /// `token_use` (Cognito).
    pub token_use: Option<Slot>,
    /// `client_id`.
    pub client_id: Option<Slot>,
    /// `aud`.
    pub aud: Option<Slot>,
    /// `scope`.
    pub scope: Option<Slot>,
    /// `jti`.
    pub jti: Option<Slot>,
    /// `origin_jti` (Cognito).
    pub origin_jti: Option<Slot>,
    /// `username`.
    pub username: Option<Slot>,
    /// `email`.
    pub email: Option<Slot>,
    /// `amr`.
    pub amr: Option<Slot>,
    /// Every other member, as sent.
    pub raw: Map<String, Value>,
}

impl Payload {
    /// Parses a decoded payload; malformed JSON and duplicate members are refused.
    pub fn parse(bytes: &[u8]) -> Result<Self, Rejection> {
        serde_json::from_slice(bytes).map_err(|_| Rejection::Malformed)
    }

    /// The `iss` claim, read before the signature is checked: it only selects which provider's
    /// keys to use, and an unknown issuer is refused without any network call.
    pub fn issuer(&self) -> Result<&str, Rejection> {
        match &self.iss {
            Some(Slot::Str(s)) => Ok(s),
            Some(_) => Err(Rejection::BadClaims),
            None => Err(Rejection::UnknownIssuer),
        }
    }

    fn slot(&mut self, name: &str) -> Option<&mut Option<Slot>> {
        Some(match name {
            "iss" => &mut self.iss,
            "sub" => &mut self.sub,
            "exp" => &mut self.exp,
            "nbf" => &mut self.nbf,
            "iat" => &mut self.iat,
            "auth_time" => &mut self.auth_time,
            "token_use" => &mut self.token_use,
            "client_id" => &mut self.client_id,
            "aud" => &mut self.aud,
            "scope" => &mut self.scope,
            "jti" => &mut self.jti,
            "origin_jti" => &mut self.origin_jti,
            "username" => &mut self.username,
            "email" => &mut self.email,
            "amr" => &mut self.amr,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PayloadVisitor;
        impl<'de> Visitor<'de> for PayloadVisitor {
            type Value = Payload;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with unique member names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Payload, A::Error> {
                let mut p = Payload::default();
                while let Some(Name(name)) = access.next_key::<Name<'de>>()? {
                    if let Some(slot) = p.slot(&name) {
                        if slot.is_some() {
                            return Err(de::Error::custom("duplicate member"));
                        }
                        *slot = Some(access.next_value::<Slot>()?);
                    } else {
                        match p.raw.entry(name.into_owned()) {
                            serde_json::map::Entry::Vacant(v) => {
                                v.insert(access.next_value::<Value>()?);
                            }
                            serde_json::map::Entry::Occupied(_) => {
                                return Err(de::Error::custom("duplicate member"));
                            }
                        }
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(PayloadVisitor)
    }
}

impl<'de> Deserialize<'de> for Slot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SlotVisitor;
        impl<'de> Visitor<'de> for SlotVisitor {
            type Value = Slot;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Slot, E> {
                Ok(Slot::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Slot, E> {
                Ok(Slot::Str(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Slot, E> {
                Ok(Slot::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Slot, E> {
                Ok(i64::try_from(v).map_or(Slot::Float(v as f64), Slot::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Slot, E> {
                Ok(Slot::Float(v))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Slot, E> {
                Ok(Slot::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Slot, E> {
                Ok(Slot::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Slot, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Slot>()? {
                    match item {
                        Slot::Str(s) => items.push(s),
                        _ => {
                            // Read the rest (it must still be valid JSON), keep nothing.
                            while seq.next_element::<Checked>()?.is_some() {}
                            return Ok(Slot::Other);
                        }
                    }
                }
                Ok(Slot::Strings(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slot, A::Error> {
                // No typed claim is an object: read it (it must be valid JSON), keep nothing.
                while map.next_entry::<Checked, Checked>()?.is_some() {}
                Ok(Slot::Other)
            }
        }
        d.deserialize_any(SlotVisitor)
    }
}

/// A member name, borrowed from the input when it has no escapes (always, for real tokens).
struct Name<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(NameVisitor)
    }
}

/// A value that is read in full and checked as strictly as any other (UTF-8, escapes, number
/// range, nesting depth), then dropped. serde's `IgnoredAny` would not do: serde_json skips it
/// without those checks, so a payload the parser must refuse as malformed would get through.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CheckedVisitor;
        impl<'de> Visitor<'de> for CheckedVisitor {
            type Value = Checked;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
                while seq.next_element::<Checked>()?.is_some() {}
                Ok(Checked)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
                while map.next_entry::<Checked, Checked>()?.is_some() {}
                Ok(Checked)
            }
        }
        d.deserialize_any(CheckedVisitor)
    }
}
