//! The verifier under test, pointed at a real HTTP issuer whose JWKS endpoint the test
//! controls (`portcullis_dev_issuer::ControlledIssuer`), on a manual clock.

use chrono::Utc;
use portcullis_auth::Verifier;
use portcullis_auth::clock::ManualClock;
use portcullis_auth::jwks::{HttpJwks, JwksCache, JwksConfig, http_client};
use portcullis_auth::policy::Policy;
use portcullis_auth::provider::{Cognito, Provider};
use portcullis_dev_issuer::ControlledIssuer;
pub use portcullis_dev_issuer::Mode;
use std::sync::Arc;
use std::time::Duration;

/// A verifier for one Cognito-shaped issuer served by a controlled endpoint, on a manual clock.
pub struct Setup {
    pub control: ControlledIssuer,
    pub clock: ManualClock,
    pub verifier: Arc<Verifier>,
    pub cache_config: JwksConfig,
    pub provider: Arc<Cognito>,
}

pub async fn setup() -> Setup {
    let control = ControlledIssuer::start().await.expect("issuer");
    let url = control.issuer_url().to_owned();
    let clock = ManualClock::new(Utc::now());
    let cache_config = JwksConfig {
        fetch_timeout: Duration::from_millis(500),
        ..JwksConfig::default()
    };
    let client = http_client(cache_config.fetch_timeout).expect("client");
    let keys = Arc::new(JwksCache::new(
        url.clone(),
        Box::new(HttpJwks::new(client, Cognito::jwks_url(&url))),
        Arc::new(clock.clone()),
        cache_config.clone(),
    ));
    let provider = Arc::new(Cognito::new(url, ["portcullis-dev".to_owned()], keys));
    let verifier = Verifier::new(
        vec![Arc::clone(&provider) as Arc<dyn Provider>],
        Arc::new(clock.clone()),
        Policy::default(),
    )
    .expect("verifier");
    Setup {
        control,
        clock,
        verifier: Arc::new(verifier),
        cache_config,
        provider,
    }
}

impl Setup {
    /// Loads the keys once, as start-up does.
    pub async fn load(&self) {
        self.provider.keys().refresh().await.expect("first load");
    }

    pub fn past_cooldown(&self) {
        let step = self.cache_config.unknown_kid_cooldown + Duration::from_secs(1);
        self.clock
            .advance(chrono::Duration::from_std(step).expect("duration"));
    }
}
