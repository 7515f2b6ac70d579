//! The task that applies the bus's events to this instance's caches.

use super::Sessions;
use crate::events::Event;
use crate::principal::PrincipalCache;
use portcullis_auth::Verifier;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

pub fn spawn_applier(
    sessions: Sessions,
    principals: PrincipalCache,
    verifier: Arc<Verifier>,
) -> tokio::task::JoinHandle<()> {
    let mut events = sessions.bus().subscribe();
    tokio::spawn(async move {
        resync(&sessions, &principals).await;
        loop {
            match events.recv().await {
                Ok(event) => apply(&sessions, &principals, &verifier, event).await,
                // Too slow to keep up: we no longer know what we missed.
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "event consumer lagged; reloading");
                    resync(&sessions, &principals).await;
                }
                Err(RecvError::Closed) => return,
            }
        }
    })
}

async fn resync(sessions: &Sessions, principals: &PrincipalCache) {
    principals.forget_all();
    let now = sessions.clock.now();
    if let Err(e) = sessions.view.reload(&*sessions.store, now).await {
        tracing::warn!(error = %e, "could not load revocations; checking the database per request until it works");
    }
}

async fn apply(
    sessions: &Sessions,
    principals: &PrincipalCache,
    verifier: &Verifier,
    event: Event,
) {
    match event {
        Event::TokenRevoked {
            kind,
            value,
            expires_at,
        } => {
            sessions.view.add_token(&portcullis_store::RevokedToken {
                kind,
                value: value.clone(),
                expires_at,
            });
            verifier.forget_where(|v| match kind {
                portcullis_store::RevocationKind::Jti => v.claims.jti.as_deref() == Some(&value),
                portcullis_store::RevocationKind::OriginJti => {
                    v.claims.origin_jti.as_deref() == Some(&value)
                }
            });
        }
        Event::UserSessionsRevoked { user_id, before } => {
            sessions.view.add_user_cutoff(user_id, before);
        }
        Event::UserChanged { issuer, sub, .. } => principals.forget_subject(&issuer, &sub).await,
        Event::OrgChanged { .. } => principals.forget_all(),
        Event::Resync => resync(sessions, principals).await,
        Event::FlagChanged { .. } | Event::ResourceChanged { .. } => {}
    }
}
