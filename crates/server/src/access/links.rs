//! Org memberships taken from the provider's claims (org links, docs/providers.md): applied
//! when a caller's identity is loaded from the database, never on a cache hit.

use crate::link_claims::claim_values;
use crate::principal::Identity;
use crate::state::AppState;
use crate::telemetry::request_id::RequestId;
use portcullis_auth::Verified;
use portcullis_store::{ChangeContext, StoreError};
use std::sync::Arc;

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
    use crate::link_claims::LinkBasis;
    use serde_json::json;
    use serde_json::{Map, Value};

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
