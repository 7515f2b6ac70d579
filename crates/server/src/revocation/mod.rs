//! What keeps a session honest after its token was issued: revocation per token, per refresh
//! session and per user, and disabled users, checked on every request, on every instance.
//!
//! The check answers from [`RevocationView`] while the cluster sync vouches that it is current
//! (`crate::cluster::ClusterSync::trusted`); otherwise it asks the database: slower, never open.
//! If the database cannot answer either, the request is refused with 503.

mod skew;

use crate::cluster::ClusterSync;
use crate::cluster::view::RevocationView;
use crate::principal::Principal;
use chrono::{DateTime, Duration, Utc};
use portcullis_auth::Rejection;
use portcullis_auth::VerifiedClaims as Claims;
use portcullis_auth::clock::Clock;
use portcullis_store::{ChangeContext, RevocationKind, RevokedToken, Store, StoreError, User};
use skew::IssuerLead;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Revocations {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    sync: Arc<ClusterSync>,
    changes: crate::changes::Changes,
    clock: Arc<dyn Clock>,
    view: Arc<RevocationView>,
    /// The verifier's leeway: a token is accepted until `exp + leeway`, so its revocation
    /// must last as long.
    leeway: Duration,
    /// How long a refresh session's revocation is kept (`auth.session_revocation_days`).
    session_ttl: Duration,
    lead: IssuerLead,
}

/// Why a session check could not let a request through.
#[derive(Debug)]
pub enum Refusal {
    Rejected(Rejection),
    /// Neither the view nor the database could answer.
    Unavailable(StoreError),
}

/// What [`Revocations::new`] needs besides the shared parts.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    pub leeway: std::time::Duration,
    pub session_revocation_days: u32,
}

impl Revocations {
    pub fn new(
        store: Arc<dyn Store>,
        sync: Arc<ClusterSync>,
        changes: crate::changes::Changes,
        view: Arc<RevocationView>,
        clock: Arc<dyn Clock>,
        settings: SessionSettings,
    ) -> Self {
        let leeway = Duration::from_std(settings.leeway).unwrap_or(Duration::zero());
        Self {
            inner: Arc::new(Inner {
                store,
                sync,
                changes,
                clock,
                view,
                leeway,
                session_ttl: Duration::days(i64::from(settings.session_revocation_days)),
                lead: IssuerLead::new(leeway.num_seconds()),
            }),
        }
    }

    /// Whether the in-memory view (and the caches it keeps current) can be trusted right now.
    pub fn trusted(&self) -> bool {
        self.inner.sync.trusted()
    }

    /// Refuses a revoked token, a token of a revoked session or user, and a disabled user.
    pub async fn check(&self, principal: &Principal) -> Result<(), Refusal> {
        let claims = &principal.token.claims;
        // One clock reading and one trust decision for both halves.
        let now = self.inner.clock.now();
        let trusted = self.trusted();
        self.check_token_at(claims, now, trusted).await?;
        self.check_user_at(&principal.identity.user, claims, now, trusted)
            .await
    }

    /// The token's own revocations (`jti`, `origin_jti`): needs no user, so it can run before
    /// anything is written for the request.
    pub async fn check_token(&self, claims: &Claims) -> Result<(), Refusal> {
        self.check_token_at(claims, self.inner.clock.now(), self.trusted())
            .await
    }

    async fn check_token_at(
        &self,
        claims: &Claims,
        now: DateTime<Utc>,
        trusted: bool,
    ) -> Result<(), Refusal> {
        // On the stack: this runs on every checked request.
        let mut both = [(RevocationKind::Jti, ""); 2];
        let mut n = 0;
        for (kind, id) in [
            (RevocationKind::Jti, claims.jti.as_deref()),
            (RevocationKind::OriginJti, claims.origin_jti.as_deref()),
        ] {
            if let Some(id) = id {
                both[n] = (kind, id);
                n += 1;
            }
        }
        let ids = &both[..n];
        if ids.is_empty() {
            return Ok(());
        }
        let revoked = if trusted {
            self.inner.view.token_revoked(ids, now)
        } else {
            crate::metrics::revocation_backend_error();
            self.inner
                .store
                .is_revoked(ids, now)
                .await
                .map_err(Refusal::Unavailable)?
        };
        if revoked {
            return Err(Refusal::Rejected(Rejection::Revoked));
        }
        Ok(())
    }

    /// The user's side: every session cut off before a logout-all, and a disabled user.
    pub async fn check_user(&self, user: &User, claims: &Claims) -> Result<(), Refusal> {
        self.check_user_at(user, claims, self.inner.clock.now(), self.trusted())
            .await
    }

    async fn check_user_at(
        &self,
        user: &User,
        claims: &Claims,
        now: DateTime<Utc>,
        trusted: bool,
    ) -> Result<(), Refusal> {
        self.inner.lead.observe(claims.iat, now.timestamp());
        let cutoff = if trusted {
            self.inner.view.user_cutoff(user.id)
        } else {
            crate::metrics::revocation_backend_error();
            self.inner
                .store
                .user_revoked_before(user.id)
                .await
                .map_err(Refusal::Unavailable)?
        };
        if cutoff.is_some_and(|t| self.started_before(claims, t)) {
            return Err(Refusal::Rejected(Rejection::Revoked));
        }
        refuse_disabled(user).map_err(Refusal::Rejected)
    }

    /// Whether the token's session started before `cutoff`, allowing for an issuer whose clock
    /// runs ahead of ours (see `skew`).
    pub fn started_before(&self, claims: &Claims, cutoff: DateTime<Utc>) -> bool {
        session_started_before(claims, cutoff + Duration::seconds(self.inner.lead.secs()))
    }

    /// `POST /v1/auth/logout`: the caller's refresh session (`origin_jti`) if the token names
    /// one, else the token itself (`jti`).
    pub async fn logout(
        &self,
        ctx: &ChangeContext,
        principal: &Principal,
    ) -> Result<(), StoreError> {
        let claims = &principal.token.claims;
        let now = self.inner.clock.now();
        let token = match (&claims.origin_jti, &claims.jti) {
            (Some(origin), _) => return self.revoke_session(ctx, origin).await,
            // Kept until the verifier stops accepting the token anyway.
            (None, Some(jti)) => RevokedToken {
                kind: RevocationKind::Jti,
                value: jti.to_string(),
                expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or(now)
                    + self.inner.leeway,
            },
            // Nothing names this token alone: end every session of the user instead.
            (None, None) => return self.revoke_user(ctx, &principal.identity.user).await,
        };
        self.inner.store.revoke_token(ctx, &token).await?;
        self.inner.changes.committed().await;
        Ok(())
    }

    /// Ends one refresh session: every token naming `origin_jti` is refused from now on, for
    /// `auth.session_revocation_days`. The dev identity provider's refresh-token revocation and
    /// reuse detection go through here too, so they end a session exactly as logout does.
    pub async fn revoke_session(
        &self,
        ctx: &ChangeContext,
        origin_jti: &str,
    ) -> Result<(), StoreError> {
        let token = RevokedToken {
            kind: RevocationKind::OriginJti,
            value: origin_jti.to_owned(),
            expires_at: self.inner.clock.now() + self.inner.session_ttl,
        };
        self.inner.store.revoke_token(ctx, &token).await?;
        self.inner.changes.committed().await;
        Ok(())
    }

    /// `logout-all` and the admin's `revoke-sessions`: every token of the user issued (or
    /// whose session started) up to now.
    pub async fn revoke_user(&self, ctx: &ChangeContext, user: &User) -> Result<(), StoreError> {
        self.inner
            .store
            .revoke_user_sessions(ctx, user.id, self.inner.clock.now())
            .await?;
        self.inner.changes.committed().await;
        Ok(())
    }

    /// Disables or enables a user; every instance forgets what it knew of them.
    pub async fn set_disabled(
        &self,
        ctx: &ChangeContext,
        user: portcullis_store::UserId,
        disabled: bool,
    ) -> Result<User, StoreError> {
        let user = self
            .inner
            .store
            .set_user_disabled(ctx, user, disabled)
            .await?;
        self.inner.changes.committed().await;
        Ok(user)
    }
}

/// A disabled user is refused on every route, whatever their tokens say.
pub fn refuse_disabled(user: &User) -> Result<(), Rejection> {
    match user.disabled_at {
        Some(_) => Err(Rejection::UserDisabled),
        None => Ok(()),
    }
}

/// A session started before the cutoff is revoked. The session's start is `auth_time` when
/// the token has it (a token refreshed after the cutoff still belongs to the old sign-in), else
/// `iat`; a token with neither cannot show it is newer, so it is refused. Times in tokens have
/// whole seconds: a token from the cutoff's own second is refused too, erring on the safe side.
pub fn session_started_before(claims: &Claims, cutoff: DateTime<Utc>) -> bool {
    match claims.auth_time.or(claims.iat) {
        Some(start) => start <= cutoff.timestamp(),
        None => true,
    }
}
