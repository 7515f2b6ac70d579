//! Property tests: no input makes the verifier panic, and nothing but a byte-identical valid
//! token is ever accepted.

use chrono::Utc;
use portcullis_auth::clock::ManualClock;
use portcullis_auth::jwks::{JwksCache, JwksConfig, StaticJwks};
use portcullis_auth::policy::Policy;
use portcullis_auth::provider::{Cognito, Provider};
use portcullis_auth::{Rejection, Verifier};
use portcullis_dev_issuer::{DevIssuer, TokenSpec};
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};

struct Fixture {
    rt: tokio::runtime::Runtime,
    verifier: Verifier,
    valid: String,
}

/// One issuer, verifier and valid token shared by all cases (RSA key generation is slow).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let issuer = Arc::new(DevIssuer::ephemeral("https://issuer.test"));
        let jwks_issuer = Arc::clone(&issuer);
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let keys = Arc::new(JwksCache::new(
            "https://issuer.test",
            Box::new(StaticJwks::new("dev", move || {
                jwks_issuer.jwks().to_string().into_bytes()
            })),
            clock.clone(),
            JwksConfig::default(),
        ));
        rt.block_on(keys.refresh()).expect("load keys");
        let provider: Arc<dyn Provider> = Arc::new(Cognito::new(
            "https://issuer.test",
            ["portcullis-dev".to_owned()],
            keys,
        ));
        let verifier = Verifier::new(vec![provider], clock, Policy::default()).expect("verifier");
        let valid = issuer.mint_access(&TokenSpec::default());
        assert!(rt.block_on(verifier.verify(&valid)).is_ok());
        Fixture {
            rt,
            verifier,
            valid,
        }
    })
}

fn verify(token: &str) -> Result<(), Rejection> {
    let f = fixture();
    f.rt.block_on(f.verifier.verify(token)).map(|_| ())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
    Truncate { len: usize },
    Swap { a: usize, b: usize },
}

fn apply(token: &str, m: &Mutation) -> Vec<u8> {
    let mut b = token.as_bytes().to_vec();
    let n = b.len();
    match *m {
        Mutation::Flip { at, bit } => b[at % n] ^= 1 << (bit % 8),
        Mutation::Insert { at, byte } => b.insert(at % (n + 1), byte),
        Mutation::Remove { at } => {
            b.remove(at % n);
        }
        Mutation::Truncate { len } => b.truncate(len % n),
        Mutation::Swap { a, b: c } => b.swap(a % n, c % n),
    }
    b
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap { a, b }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_is_never_accepted(s in ".{0,600}") {
        prop_assert!(verify(&s).is_err());
    }

    #[test]
    fn arbitrary_token_shaped_text_is_never_accepted(
        h in "[A-Za-z0-9_-]{0,80}", p in "[A-Za-z0-9_-]{0,200}", sig in "[A-Za-z0-9_-]{0,400}"
    ) {
        let token = format!("{h}.{p}.{sig}");
        prop_assert!(verify(&token).is_err());
    }

    #[test]
    fn mutated_valid_tokens_are_accepted_only_when_identical(ms in prop::collection::vec(mutation(), 1..4)) {
        let valid = &fixture().valid;
        let mut bytes = valid.as_bytes().to_vec();
        for m in &ms {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if text.is_empty() { break; }
            bytes = apply(&text, m);
        }
        let text = String::from_utf8_lossy(&bytes);
        let accepted = verify(&text).is_ok();
        prop_assert_eq!(accepted, text.as_ref() == valid.as_str());
    }
}
