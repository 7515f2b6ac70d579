//! The embedded dev issuer's keys as the verifier reads them: in process, but through the same
//! JWKS faults the issuer's HTTP endpoint shows, so an outage switched on at
//! `/dev-issuer/faults` is one the server's own key cache lives through.

use async_trait::async_trait;
use portcullis_auth::jwks::{FetchError, FetchReason, Fetched, KeySource, StaticJwks, Validators};
use portcullis_dev_issuer::{DevIssuer, Mode};
use std::sync::Arc;

#[derive(Debug)]
pub struct DevIssuerKeys {
    issuer: Arc<DevIssuer>,
    published: StaticJwks,
}

impl DevIssuerKeys {
    pub fn new(issuer: Arc<DevIssuer>) -> Self {
        let source = Arc::clone(&issuer);
        Self {
            issuer,
            published: StaticJwks::new("embedded dev issuer", move || {
                source.jwks().to_string().into_bytes()
            }),
        }
    }
}

#[async_trait]
impl KeySource for DevIssuerKeys {
    async fn fetch(
        &self,
        validators: &Validators,
        reason: FetchReason,
    ) -> Result<Fetched, FetchError> {
        match self.issuer.faults().jwks_mode() {
            Mode::Fail => return Err(FetchError::Status(503)),
            // The cache's fetch timeout ends the wait first when the hang is longer.
            Mode::Hang => self.issuer.faults().wait_while_hanging().await,
            Mode::Answer => {}
        }
        self.published.fetch(validators, reason).await
    }

    fn describe(&self) -> String {
        self.published.describe()
    }
}
