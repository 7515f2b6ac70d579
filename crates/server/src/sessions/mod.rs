//! What keeps a session honest after its token was issued: revocation per token, per refresh
//! session and per user, and disabled users, checked on every request, on every instance.
//!
//! The check answers from [`RevocationView`] while the event bus is in sync; when it is not
//! (Redis unreachable, subscription lost) it asks the database instead: slower, never open.
//! If the database cannot answer either, the request is refused with 503.

mod applier;
mod view;

pub use applier::spawn_applier;
pub use view::RevocationView;

use crate::events::{Bus, Event};
use crate::principal::Principal;
use chrono::{DateTime, Duration, Utc};
use portcullis_auth::Rejection;
use portcullis_auth::clock::Clock;
use portcullis_store::{
    ChangeContext, RevocationKind, RevokedToken, Store, StoreError, User, UserId,
};
use std::sync::Arc;

/// How long a refresh session's revocation is kept: Cognito refresh tokens live 30 days by
/// default, and every access token minted from one carries its `origin_jti`.
pub const SESSION_REVOCATION_TTL: Duration = Duration::days(30);

#[derive(Debug, Clone)]
pub struct Sessions {
    store: Arc<dyn Store>,
    bus: Bus,
    clock: Arc<dyn Clock>,
    view: Arc<RevocationView>,
}

/// Why a session check could not let a request through.
#[derive(Debug)]
pub enum Refusal {
    Rejected(Rejection),
    /// Neither the view nor the database could answer.
    Unavailable(StoreError),
}

impl Sessions {
    pub fn new(store: Arc<dyn Store>, bus: Bus, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            bus,
            clock,
            view: Arc::new(RevocationView::default()),
        }
    }

    pub fn view(&self) -> &Arc<RevocationView> {
        &self.view
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Whether the in-memory view can be trusted right now.
    pub fn answering_from_memory(&self) -> bool {
        self.bus.in_sync() && self.view.is_loaded()
    }

    /// Refuses a revoked token, a token of a revoked session or user, and a disabled user.
    pub async fn check(&self, principal: &Principal) -> Result<(), Refusal> {
        let claims = &principal.token.claims;
        let mut ids: Vec<(RevocationKind, &str)> = Vec::with_capacity(2);
        if let Some(jti) = &claims.jti {
            ids.push((RevocationKind::Jti, jti));
        }
        if let Some(origin) = &claims.origin_jti {
            ids.push((RevocationKind::OriginJti, origin));
        }
        let user = principal.user_id();
        let now = self.clock.now();
        let (revoked, cutoff) = if self.answering_from_memory() {
            (
                self.view.token_revoked(&ids, now),
                self.view.user_cutoff(user),
            )
        } else {
            crate::metrics::revocation_backend_error();
            let revoked = self
                .store
                .is_revoked(&ids, now)
                .await
                .map_err(Refusal::Unavailable)?;
            let cutoff = self
                .store
                .user_revoked_before(user)
                .await
                .map_err(Refusal::Unavailable)?;
            (revoked, cutoff)
        };
        if revoked || cutoff.is_some_and(|t| session_started_before(claims, t)) {
            return Err(Refusal::Rejected(Rejection::Revoked));
        }
        if principal.identity.user.disabled_at.is_some() {
            return Err(Refusal::Rejected(Rejection::UserDisabled));
        }
        Ok(())
    }

    /// `POST /v1/auth/logout`: the caller's refresh session (`origin_jti`) if the token names
    /// one, else the token itself (`jti`).
    pub async fn logout(
        &self,
        ctx: &ChangeContext,
        principal: &Principal,
    ) -> Result<(), StoreError> {
        let claims = &principal.token.claims;
        let token = match (&claims.origin_jti, &claims.jti) {
            (Some(origin), _) => RevokedToken {
                kind: RevocationKind::OriginJti,
                value: origin.clone(),
                expires_at: self.clock.now() + SESSION_REVOCATION_TTL,
            },
            (None, Some(jti)) => RevokedToken {
                kind: RevocationKind::Jti,
                value: jti.clone(),
                expires_at: DateTime::from_timestamp(claims.exp, 0)
                    .unwrap_or_else(|| self.clock.now()),
            },
            // Nothing names this token alone: end every session of the user instead.
            (None, None) => return self.revoke_user(ctx, &principal.identity.user).await,
        };
        self.store.revoke_token(ctx, &token).await?;
        self.view.add_token(&token);
        self.bus
            .publish(Event::TokenRevoked {
                kind: token.kind,
                value: token.value,
                expires_at: token.expires_at,
            })
            .await;
        Ok(())
    }

    /// `logout-all` and the admin's `revoke-sessions`: every token of the user issued (or
    /// whose session started) up to now.
    pub async fn revoke_user(&self, ctx: &ChangeContext, user: &User) -> Result<(), StoreError> {
        let before = self
            .store
            .revoke_user_sessions(ctx, user.id, self.clock.now())
            .await?;
        self.view.add_user_cutoff(user.id, before);
        self.bus
            .publish(Event::UserSessionsRevoked {
                user_id: user.id,
                before,
            })
            .await;
        Ok(())
    }

    /// Disables or enables a user, and tells every instance to forget what it knew of them.
    pub async fn set_disabled(
        &self,
        ctx: &ChangeContext,
        user: UserId,
        disabled: bool,
    ) -> Result<User, StoreError> {
        let user = self.store.set_user_disabled(ctx, user, disabled).await?;
        self.bus
            .publish(Event::UserChanged {
                user_id: user.id,
                issuer: user.issuer.clone(),
                sub: user.sub.clone(),
            })
            .await;
        Ok(user)
    }
}

/// A session started before the cutoff is revoked. The session's start is `auth_time` when
/// the token has it (a token refreshed after the cutoff still belongs to the old sign-in), else
/// `iat`; a token with neither cannot show it is newer, so it is refused. Times in tokens have
/// whole seconds: a token from the cutoff's own second is refused too, erring on the safe side.
fn session_started_before(claims: &portcullis_auth::jwt::Claims, cutoff: DateTime<Utc>) -> bool {
    match claims.auth_time.or(claims.iat) {
        Some(start) => start <= cutoff.timestamp(),
        None => true,
    }
}
