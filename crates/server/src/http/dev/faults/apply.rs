//! Carrying out a fault: on the issuer (keys, JWKS, tokens) or, for a persona's sessions,
//! through the server's own revocation, the way `revoke-sessions` does it.

use super::Dev;
use super::request::Fault;
use crate::http::error::ApiError;
use crate::telemetry::request_id::RequestId;
use portcullis_dev_issuer::{JwksOutage, Mode, TokenFault};
use portcullis_store::ChangeContext;
use serde::Serialize;
use std::time::Instant;

/// What the faults page and `portcullis dev-fault status` show.
#[derive(Debug, Serialize)]
pub struct Status {
    pub signing_kid: String,
    /// Every key in the JWKS, the signing one first.
    pub published_kids: Vec<String>,
    pub jwks: JwksStatus,
    pub tokens: Option<TokensStatus>,
    /// Newest first.
    pub events: Vec<portcullis_dev_issuer::FaultEvent>,
}

#[derive(Debug, Serialize)]
pub struct JwksStatus {
    /// `answer`, `unavailable` (503) or `hang`.
    pub mode: &'static str,
    pub seconds_left: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct TokensStatus {
    pub kind: &'static str,
    pub remaining: u32,
}

pub fn status(dev: &Dev) -> Status {
    let faults = dev.issuer.faults();
    let jwks = match faults.jwks_outage() {
        None => JwksStatus {
            mode: "answer",
            seconds_left: None,
        },
        Some(JwksOutage { mode, until }) => JwksStatus {
            mode: match mode {
                Mode::Answer => "answer",
                Mode::Fail => "unavailable",
                Mode::Hang => "hang",
            },
            seconds_left: until.map(|t| t.saturating_duration_since(Instant::now()).as_secs()),
        },
    };
    Status {
        signing_kid: dev.issuer.current_kid(),
        published_kids: dev.issuer.kids(),
        jwks,
        tokens: faults
            .pending_tokens()
            .map(|(fault, remaining): (TokenFault, u32)| TokensStatus {
                kind: fault.as_str(),
                remaining,
            }),
        events: faults.events(),
    }
}

pub async fn apply(dev: &Dev, fault: Fault) -> Result<(), ApiError> {
    let faults = dev.issuer.faults();
    match fault {
        Fault::RotateKey => {
            let kid = dev
                .issuer
                .rotate_to_published()
                .map_err(ApiError::internal)?;
            faults.record(format!("rotated the signing key; new kid {kid}"));
        }
        Fault::PublishKey => {
            let kid = dev
                .issuer
                .publish_next_key(dev.issuer.current_alg())
                .map_err(ApiError::internal)?;
            faults.record(format!(
                "published a second key, kid {kid} (not signing yet)"
            ));
        }
        Fault::Tokens { fault, count } => faults.break_next_tokens(fault, count),
        Fault::Jwks { mode, duration } => faults.set_jwks(mode, Some(duration)),
        Fault::JwksRestore => faults.set_jwks(Mode::Answer, None),
        Fault::RevokePersona { sub } => {
            let state = &dev.state;
            let user = state
                .store
                .find_user(dev.issuer.issuer_url(), &sub)
                .await?
                .ok_or(ApiError::NotFound)?;
            let request_id = RequestId::current()
                .map(|id| id.to_string())
                .unwrap_or_default();
            let ctx = ChangeContext::new(None, request_id, state.clock.now());
            state.revocations.revoke_user(&ctx, &user).await?;
            faults.record(format!("revoked every session of {sub} issued until now"));
        }
        Fault::Clear => faults.clear(),
    }
    Ok(())
}
