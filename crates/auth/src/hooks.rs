//! Checks that belong to the application, run on every request after the token itself is
//! known good (cache hit or not): revocation and the user's status. They are traits so the
//! library carries no opinion on where revocations or users are stored.

use crate::rejection::Rejection;
use crate::verifier::Verified;
use async_trait::async_trait;

#[async_trait]
pub trait TokenCheck: Send + Sync + std::fmt::Debug {
    /// `Err(Rejection::Revoked)`, `Err(Rejection::UserDisabled)`, or `Ok(())`. An
    /// implementation that cannot decide (its store is down) must refuse, never allow.
    async fn check(&self, token: &Verified) -> Result<(), Rejection>;
}
