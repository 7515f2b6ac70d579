//! A token's own ids (`jti`, `origin_jti`), kept inline: a UUID in text is 36 bytes, and an
//! allocation of its own would cost every cached token another 48 bytes and a pointer.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest id kept inline; a longer one is boxed.
const INLINE: usize = 38;

/// A token id. Reads as a `str`.
#[derive(Clone)]
pub struct TokenId(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<str>),
}

impl TokenId {
    /// The id.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always built from a whole `&str` of `len` bytes, so valid UTF-8.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Boxed(s) => s,
        }
    }

    /// Heap bytes this id owns (none when inline).
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Boxed(s) => s.len(),
        }
    }
}

impl From<&str> for TokenId {
    fn from(s: &str) -> Self {
        match u8::try_from(s.len()) {
            Ok(len) if s.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                Self(Repr::Inline { len, bytes })
            }
            _ => Self(Repr::Boxed(s.into())),
        }
    }
}

impl From<String> for TokenId {
    fn from(s: String) -> Self {
        if s.len() <= INLINE {
            Self::from(s.as_str())
        } else {
            Self(Repr::Boxed(s.into_boxed_str()))
        }
    }
}

impl From<TokenId> for String {
    fn from(id: TokenId) -> Self {
        id.as_str().to_owned()
    }
}

impl Deref for TokenId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for TokenId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for TokenId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for TokenId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for TokenId {}

impl Hash for TokenId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for TokenId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for TokenId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for TokenId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for TokenId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back_as_given_inline_or_boxed() {
        let uuid = "0192f3a4-5b6c-7d8e-9f01-23456789abcd";
        for s in [
            "",
            "j-1",
            uuid,
            &"x".repeat(INLINE),
            &"y".repeat(INLINE + 1),
        ] {
            let id = TokenId::from(s);
            assert_eq!(id.as_str(), s);
            assert_eq!(TokenId::from(s.to_owned()), id);
            assert_eq!(id.to_string(), s);
        }
        assert_eq!(TokenId::from(uuid).heap_bytes(), 0, "a UUID stays inline");
        assert_eq!(
            TokenId::from("y".repeat(INLINE + 1)).heap_bytes(),
            INLINE + 1
        );
        assert_ne!(TokenId::from("a"), TokenId::from("b"));
        assert!(std::mem::size_of::<Option<TokenId>>() <= 40);
    }
}
