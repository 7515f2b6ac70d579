//! From a verified token to a [`Principal`], in an order that lets nothing a revoked token
//! sends cause a write: the token's own revocations, then (before the first-sight upsert) the
//! user's cutoff and status, then the user row, the memberships org links make, and the
//! memberships.

use super::Denied;
use crate::principal::{Identity, Principal};
use crate::state::AppState;
use portcullis_auth::Verified;
use std::sync::Arc;

/// Whether the caller's identity may come from the principal cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// The cache, while the cluster sync vouches for it.
    Cached,
    /// The database: the caller's status or memberships may just have changed.
    Fresh,
}

/// The principal of `token`. `check_revocation` false (the `revocation.check_reads` flag, for a
/// read) skips the revocation checks on a cached identity only: loading one writes (the
/// first-sight upsert, `last_seen_at`), so then every check runs first, whatever the flag says.
pub async fn resolve_principal(
    state: &AppState,
    token: Arc<Verified>,
    freshness: Freshness,
    check_revocation: bool,
) -> Result<Principal, Denied> {
    let claims = &token.claims;
    let trusted = freshness == Freshness::Cached && state.revocations.trusted();
    let cached = match trusted {
        true => state.principals.cached_for(&token).await,
        false => None,
    };
    let cached = match cached {
        Some(identity) if !identity.links.holds_for(&claims.raw) => {
            // Loaded for a token whose linked claims differ: its link-made memberships may not
            // be this token's.
            state
                .principals
                .forget_subject(&claims.iss, &claims.sub)
                .await;
            None
        }
        other => other,
    };
    let (identity, checked) = match cached {
        Some(identity) => (identity, false),
        // Boxed: a load's state (the store's futures, the links) is kilobytes, and a future
        // that held it inline would be copied whole at every step of every request, hits too.
        None => (Box::pin(load(state, &token, trusted)).await?, true),
    };
    let platform_admin = token.platform_admin;
    let principal = Principal {
        identity,
        token,
        platform_admin,
    };
    crate::revocation::refuse_disabled(&principal.identity.user)?;
    if check_revocation && !checked {
        state.revocations.check(&principal).await?;
    }
    Ok(principal)
}

/// The identity from the database, after every revocation check that needs no user row and
/// the user's own; the first-sight upsert and the link-made memberships are the writes.
async fn load(
    state: &AppState,
    token: &Arc<Verified>,
    trusted: bool,
) -> Result<Arc<Identity>, Denied> {
    let claims = &token.claims;
    state.revocations.check_token(claims).await?;
    let existing = state.store.find_user(&claims.iss, &claims.sub).await?;
    match &existing {
        Some(user) => state.revocations.check_user(user, claims).await?,
        None if !state.flags.jit_provisioning() => {
            return Err(Denied::NotProvisioned);
        }
        None => {}
    }
    let load = async || {
        state
            .principals
            .identity(&state.store, token, state.clock.now(), trusted)
            .await
    };
    let identity = load().await.map_err(Denied::Unavailable)?;
    // A write, so after every revocation check above; and only here, on a load from the
    // database, so a cache hit stays free of it.
    super::links::with_links(state, token, identity, load)
        .await
        .map_err(Denied::Unavailable)
}
