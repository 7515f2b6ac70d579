//! Shared strings for the values most verified tokens repeat (issuer, client, key id, scopes,
//! roles, claim names): one allocation per distinct value instead of one per cached token.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

/// An immutable string shared by every cached token that holds it. Reads as a `str`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interned(Arc<str>);

impl Interned {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Heap bytes of one copy, for a cache that counts what it holds (an `Arc<str>` allocation:
    /// two counters and the bytes).
    pub fn heap_bytes(&self) -> usize {
        16 + self.0.len()
    }
}

impl From<&str> for Interned {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl From<String> for Interned {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

impl From<Interned> for String {
    fn from(s: Interned) -> Self {
        s.0.as_ref().to_owned()
    }
}

impl Deref for Interned {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Interned {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Interned {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Interned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Interned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl PartialEq<str> for Interned {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Interned {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Interned {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Interned> for str {
    fn eq(&self, other: &Interned) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Interned> for &str {
    fn eq(&self, other: &Interned) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Interned> for String {
    fn eq(&self, other: &Interned) -> bool {
        **self == *other.0
    }
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for Interned {
    fn into_response(self) -> axum::response::Response {
        String::from(self).into_response()
    }
}

impl serde::Serialize for Interned {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A bounded set of [`Interned`] strings. Values come from verified tokens, so their variety
/// is the issuers': still, past `max` distinct values a string is no longer shared but copied,
/// so that an issuer minting a new value per token cannot grow the set without end.
#[derive(Debug)]
pub struct Interner {
    set: Mutex<HashSet<Interned>>,
    max: usize,
}

impl Interner {
    /// An interner that shares at most `max` distinct values (beyond it, values are copied).
    pub fn new(max: usize) -> Self {
        Self {
            set: Mutex::new(HashSet::new()),
            max,
        }
    }

    /// The shared copy of `s`.
    pub fn intern(&self, s: &str) -> Interned {
        self.intern_counted(s, &std::cell::Cell::new(0))
    }

    /// Like [`intern`](Self::intern), adding to `own` the heap bytes of a copy that is not
    /// shared (the set is full), which then belong to whoever holds it.
    pub fn intern_counted(&self, s: &str, own: &std::cell::Cell<usize>) -> Interned {
        let mut set = self.set.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = set.get(s) {
            return found.clone();
        }
        let new = Interned::from(s);
        if set.len() < self.max {
            set.insert(new.clone());
        } else {
            own.set(own.get() + new.heap_bytes());
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_allocation_up_to_the_bound() {
        let i = Interner::new(2);
        let a = i.intern("https://issuer.test");
        let b = i.intern("https://issuer.test");
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(a, "https://issuer.test");
        let _ = i.intern("second");
        let own = std::cell::Cell::new(0);
        let over1 = i.intern_counted("third", &own);
        let over2 = i.intern("third");
        assert_eq!(over1, over2);
        assert!(!Arc::ptr_eq(&over1.0, &over2.0), "past the bound, copies");
        assert_eq!(own.get(), 16 + 5, "a copy's bytes are its holder's");
        let _ = i.intern_counted("second", &own);
        assert_eq!(own.get(), 21, "a shared value costs its holder nothing");
    }
}
