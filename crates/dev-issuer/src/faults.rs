//! Faults switched on at run time to see how clients and verifiers cope: a JWKS outage (503 or
//! a hang), the next tokens issued broken, and a log of every fault applied.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::controlled::Mode;
use crate::issuer::unix_now;

/// How many applied faults the log keeps.
const LOG_LEN: usize = 50;

/// What is wrong with the next tokens the issuer mints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFault {
    /// `exp` an hour ago (far outside any verifier's leeway).
    Expired,
    /// `iat` and `nbf` an hour ahead.
    NotYetValid,
    /// Issued to [`WRONG_AUDIENCE`]: `client_id` and `aud` name another app.
    WrongAudience,
}

/// The `client_id`/`aud` of a token under [`TokenFault::WrongAudience`].
pub const WRONG_AUDIENCE: &str = "someone-elses-app";

/// How far in the past or future a broken token's times lie.
pub(crate) const SKEW_SECS: i64 = 3600;

impl TokenFault {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::NotYetValid => "not-yet-valid",
            Self::WrongAudience => "wrong-audience",
        }
    }
}

impl fmt::Display for TokenFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`TokenFault`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token faults are expired, not-yet-valid and wrong-audience")]
pub struct UnknownTokenFault;

impl FromStr for TokenFault {
    type Err = UnknownTokenFault;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "expired" => Ok(Self::Expired),
            "not-yet-valid" | "not_yet_valid" => Ok(Self::NotYetValid),
            "wrong-audience" | "wrong_audience" => Ok(Self::WrongAudience),
            _ => Err(UnknownTokenFault),
        }
    }
}

/// One fault applied, as the faults page lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FaultEvent {
    /// Unix seconds.
    pub at: i64,
    pub what: String,
}

/// The JWKS outage in force: `mode` until `until` (or until cleared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksOutage {
    pub mode: Mode,
    pub until: Option<Instant>,
}

#[derive(Debug, Default)]
struct State {
    jwks: Option<JwksOutage>,
    tokens: Option<(TokenFault, u32)>,
    log: VecDeque<FaultEvent>,
}

/// The faults of one issuer. Every change is logged (`tracing`, target `portcullis::dev_fault`)
/// and kept in [`Faults::events`].
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<State>,
    /// Wakes held JWKS requests when an outage is changed or cleared.
    changed: Notify,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is plain data, consistent after any panic.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a fault applied elsewhere (a key rotation, a revocation) in the log.
    pub fn record(&self, what: impl Into<String>) {
        let what = what.into();
        tracing::warn!(target: "portcullis::dev_fault", fault = %what, "dev issuer fault applied");
        let mut state = self.lock();
        if state.log.len() == LOG_LEN {
            state.log.pop_back();
        }
        state.log.push_front(FaultEvent {
            at: unix_now(),
            what,
        });
    }

    /// Newest first.
    #[must_use]
    pub fn events(&self) -> Vec<FaultEvent> {
        self.lock().log.iter().cloned().collect()
    }

    /// The JWKS answers per `mode` for `duration` (until cleared when `None`);
    /// [`Mode::Answer`] ends an outage.
    pub fn set_jwks(&self, mode: Mode, duration: Option<Duration>) {
        let outage = (mode != Mode::Answer).then(|| JwksOutage {
            mode,
            until: duration.map(|d| Instant::now() + d),
        });
        self.lock().jwks = outage;
        self.changed.notify_waiters();
        let secs = duration.map_or_else(
            || "until cleared".to_owned(),
            |d| format!("for {} s", d.as_secs()),
        );
        match mode {
            Mode::Answer => self.record("JWKS answers again"),
            Mode::Fail => self.record(format!("JWKS answers 503 {secs}")),
            Mode::Hang => self.record(format!("JWKS hangs {secs}")),
        }
    }

    /// The outage in force now, if any.
    #[must_use]
    pub fn jwks_outage(&self) -> Option<JwksOutage> {
        let mut state = self.lock();
        match state.jwks {
            Some(o) if o.until.is_some_and(|t| Instant::now() >= t) => {
                state.jwks = None;
                None
            }
            other => other,
        }
    }

    /// The mode the JWKS answers in right now.
    #[must_use]
    pub fn jwks_mode(&self) -> Mode {
        self.jwks_outage().map_or(Mode::Answer, |o| o.mode)
    }

    /// Returns once no hang is in force: at the hang's end, or when it is changed or cleared.
    pub async fn wait_while_hanging(&self) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Registered before the state is read, so a clear in between is not missed.
            notified.as_mut().enable();
            let until = match self.jwks_outage() {
                Some(JwksOutage {
                    mode: Mode::Hang,
                    until,
                }) => until,
                _ => return,
            };
            match until {
                Some(t) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(tokio::time::Instant::from_std(t)) => {}
                        () = &mut notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// The next `count` tokens minted carry `fault` (replacing any token fault pending).
    pub fn break_next_tokens(&self, fault: TokenFault, count: u32) {
        self.lock().tokens = (count > 0).then_some((fault, count));
        self.record(format!("the next {count} token(s) are {fault}"));
    }

    /// The token fault pending and how many tokens it still applies to.
    #[must_use]
    pub fn pending_tokens(&self) -> Option<(TokenFault, u32)> {
        self.lock().tokens
    }

    /// Takes one token's worth of the pending fault.
    pub(crate) fn take_token_fault(&self) -> Option<TokenFault> {
        let mut state = self.lock();
        let (fault, left) = state.tokens?;
        state.tokens = (left > 1).then(|| (fault, left - 1));
        drop(state);
        tracing::warn!(target: "portcullis::dev_fault", fault = %fault, "dev issuer minted a broken token on request");
        Some(fault)
    }

    /// Ends the JWKS outage and drops pending token faults.
    pub fn clear(&self) {
        {
            let mut state = self.lock();
            state.jwks = None;
            state.tokens = None;
        }
        self.changed.notify_waiters();
        self.record("faults cleared");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DevIssuer, TokenSpec};
    use serde_json::Value;

    fn claims(token: &str) -> Value {
        use base64::Engine as _;
        let payload = token.split('.').nth(1).expect("payload");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[test]
    fn the_next_tokens_are_broken_then_whole_again() {
        let issuer = DevIssuer::ephemeral("http://127.0.0.1:1/dev-issuer");
        let now = unix_now();
        issuer.faults().break_next_tokens(TokenFault::Expired, 1);
        let expired = claims(&issuer.mint_access(&TokenSpec::new("a")));
        assert!(expired["exp"].as_i64().expect("exp") <= now - SKEW_SECS);

        issuer
            .faults()
            .break_next_tokens(TokenFault::NotYetValid, 1);
        let early = claims(&issuer.mint_access(&TokenSpec::new("a")));
        assert!(early["iat"].as_i64().expect("iat") >= now + SKEW_SECS);
        assert_eq!(early["nbf"], early["iat"]);

        issuer
            .faults()
            .break_next_tokens(TokenFault::WrongAudience, 1);
        let pair = issuer.mint_pair(&TokenSpec::new("a"));
        assert_eq!(claims(&pair.access_token)["client_id"], WRONG_AUDIENCE);
        assert_eq!(
            claims(&pair.id_token)["aud"],
            WRONG_AUDIENCE,
            "one fault, both tokens"
        );

        let whole = claims(&issuer.mint_access(&TokenSpec::new("a")));
        assert_eq!(whole["client_id"], crate::DEFAULT_CLIENT_ID);
        assert!(whole["exp"].as_i64().expect("exp") > now);
        assert!(issuer.faults().pending_tokens().is_none());
        assert_eq!(issuer.faults().events().len(), 3);
    }

    #[test]
    fn a_published_key_is_kept_in_the_file_and_becomes_the_signing_key_on_rotation() {
        let dir = tempfile::tempdir().expect("dir");
        let url = "http://127.0.0.1:1/dev-issuer".to_owned();
        let issuer = DevIssuer::open(dir.path(), url.clone()).expect("issuer");
        let first = issuer.current_kid();
        let second = issuer
            .publish_next_key(crate::Algorithm::Rs256)
            .expect("publish");
        assert_eq!(issuer.kids(), [first.clone(), second.clone()]);
        assert_eq!(issuer.current_kid(), first, "published, not signing");
        // Not retired as old: it never signed.
        assert_eq!(
            issuer
                .retire_keys_older_than(std::time::Duration::ZERO)
                .expect("retire"),
            0
        );
        let reopened = DevIssuer::open(dir.path(), url).expect("reopened");
        assert_eq!(reopened.kids(), [first.clone(), second.clone()]);
        assert_eq!(reopened.rotate_to_published().expect("rotate"), second);
        assert_eq!(reopened.kids(), [second, first]);
        // With nothing published ahead, a rotation makes a new key.
        let third = reopened.rotate_to_published().expect("rotate");
        assert_eq!(reopened.kids().len(), 3);
        assert_eq!(reopened.current_kid(), third);
    }

    #[tokio::test]
    async fn a_hang_holds_until_it_is_cleared() {
        let faults = std::sync::Arc::new(Faults::default());
        faults.set_jwks(Mode::Hang, None);
        let waiting = {
            let faults = std::sync::Arc::clone(&faults);
            tokio::spawn(async move { faults.wait_while_hanging().await })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        faults.clear();
        waiting.await.expect("released");
        assert_eq!(faults.jwks_mode(), Mode::Answer);
    }
}
