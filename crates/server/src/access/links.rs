//! Org memberships taken from the provider's claims (org links, docs/providers.md): applied
//! when a caller's identity is loaded from the database, never on a cache hit.

use crate::principal::Identity;
use crate::state::AppState;
use crate::telemetry::request_id::RequestId;
use portcullis_auth::Verified;
use portcullis_store::{ChangeContext, StoreError};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The (claim, value) pairs of a token that a link can name: each top-level string claim, and
/// each string of a top-level array claim (groups). Nested claims are not matched: a link names
/// a claim by its top-level name only.
pub fn claim_values(raw: &Map<String, Value>) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for (name, value) in raw {
        match value {
            Value::String(s) => out.push((name.as_str(), s.as_str())),
            Value::Array(items) => {
                out.extend(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|s| (name.as_str(), s)),
                );
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
    pub fn of(names: Vec<String>, raw: &Map<String, Value>) -> Self {
        let names: Arc<[String]> = names.into();
        let digest = digest(&names, raw);
        Self { names, digest }
    }

    /// Whether a token with these claims would get the same link-made memberships. No I/O: it
    /// runs on every cache hit.
    pub fn holds_for(&self, raw: &Map<String, Value>) -> bool {
        self.names.is_empty() || digest(&self.names, raw) == self.digest
    }
}

fn digest(names: &[String], raw: &Map<String, Value>) -> u64 {
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

/// Applies the org links of the token's issuer to the caller; `true` when a membership was
/// made, changed or removed, after the change has been announced (so the caller's cached
/// identity is gone and the next load reads the new memberships).
pub async fn apply(
    state: &AppState,
    token: &Verified,
    identity: &Identity,
) -> Result<bool, StoreError> {
    let request_id = RequestId::current()
        .map(|id| id.to_string())
        .unwrap_or_default();
    let user = identity.user.id;
    let ctx = ChangeContext::new(Some(user), request_id, state.clock.now());
    let claims = claim_values(&token.claims.raw);
    let changed = state
        .store
        .apply_links(&ctx, user, &token.claims.iss, &claims)
        .await?;
    if changed.is_empty() {
        return Ok(false);
    }
    for c in &changed {
        tracing::info!(user = %user, org = %c.org_id, role = ?c.role, "membership from an org link");
    }
    state.changes.committed().await;
    Ok(true)
}

/// The identity to serve, with links applied: reloaded when applying them changed something.
pub async fn with_links(
    state: &AppState,
    token: &Verified,
    identity: Arc<Identity>,
    reload: impl AsyncFnOnce() -> Result<Arc<Identity>, Arc<StoreError>>,
) -> Result<Arc<Identity>, Arc<StoreError>> {
    if identity.user.disabled_at.is_some() {
        return Ok(identity);
    }
    match apply(state, token, &identity).await {
        Ok(false) => Ok(identity),
        Ok(true) => reload().await,
        Err(e) => Err(Arc::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_basis_holds_for_tokens_that_differ_only_in_unlinked_claims() {
        let basis = LinkBasis::of(
            vec!["tid".into()],
            &claims(json!({ "tid": "T1", "jti": "a" })),
        );
        assert!(basis.holds_for(&claims(json!({ "tid": "T1", "jti": "b" }))));
        assert!(!basis.holds_for(&claims(json!({ "jti": "b" }))));
        assert!(!basis.holds_for(&claims(json!({ "tid": "T2" }))));
        assert!(LinkBasis::default().holds_for(&claims(json!({ "tid": "T2" }))));
    }

    #[test]
    fn strings_and_string_arrays_are_matched_nested_claims_are_not() {
        let raw = json!({
            "tid": "T1",
            "groups": ["a", 7, "b"],
            "realm_access": { "roles": ["admin"] },
            "exp": 17,
        });
        let Value::Object(raw) = raw else {
            panic!("an object")
        };
        let mut got = claim_values(&raw);
        got.sort_unstable();
        assert_eq!(got, [("groups", "a"), ("groups", "b"), ("tid", "T1")]);
    }
}
