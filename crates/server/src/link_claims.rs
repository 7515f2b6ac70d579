//! What a token's claims say for org links: the (claim, value) pairs a link can name, and the
//! basis a cached identity's link-made memberships were computed from. Pure functions over the
//! claims, shared by the principal cache and the access checks that apply links.

use serde_json::Value;
use std::sync::Arc;

/// The (claim, value) pairs of a token that a link can name: each top-level string claim, and
/// each string of a top-level array claim (groups). Nested claims are not matched: a link names
/// a claim by its top-level name only.
pub fn claim_values<'a, K: AsRef<str> + ?Sized + 'a>(
    raw: impl IntoIterator<Item = (&'a K, &'a Value)>,
) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    for (name, value) in raw {
        let name = name.as_ref();
        match value {
            Value::String(s) => out.push((name, s.as_str())),
            Value::Array(items) => {
                out.extend(items.iter().filter_map(Value::as_str).map(|s| (name, s)));
            }
            _ => {}
        }
    }
    out
}

/// The claims an identity's link-made memberships were computed from: the names the links of
/// the token's issuer match on, and a digest of the token's values of those claims. A cached
/// identity serves another token of the same subject only while that token carries the same
/// values, so a claim that went away takes its memberships with it at the next request
/// rather than when the cache entry expires. Tokens that differ only in other claims (two
/// devices, a refreshed token) share the entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkBasis {
    names: Arc<[String]>,
    digest: u64,
}

impl LinkBasis {
    pub fn of<'a, K: AsRef<str> + ?Sized + 'a>(
        names: Vec<String>,
        raw: impl IntoIterator<Item = (&'a K, &'a Value)>,
    ) -> Self {
        let names: Arc<[String]> = names.into();
        let digest = digest(&names, raw);
        Self { names, digest }
    }

    /// Heap bytes of the claim names, for the principal cache's weight.
    pub fn heap_bytes(&self) -> usize {
        self.names.len() * std::mem::size_of::<String>()
            + self.names.iter().map(String::capacity).sum::<usize>()
    }

    /// Whether a token with these claims would get the same link-made memberships. No I/O: it
    /// runs on every cache hit.
    pub fn holds_for<'a, K: AsRef<str> + ?Sized + 'a>(
        &self,
        raw: impl IntoIterator<Item = (&'a K, &'a Value)>,
    ) -> bool {
        self.names.is_empty() || digest(&self.names, raw) == self.digest
    }
}

fn digest<'a, K: AsRef<str> + ?Sized + 'a>(
    names: &[String],
    raw: impl IntoIterator<Item = (&'a K, &'a Value)>,
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut pairs: Vec<_> = claim_values(raw)
        .into_iter()
        .filter(|(name, _)| names.iter().any(|n| n == name))
        .collect();
    pairs.sort_unstable();
    pairs.hash(&mut h);
    h.finish()
}
