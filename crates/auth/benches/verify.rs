//! Token verification cost: a full RS256 verification (cache miss) against a bare RS256
//! signature check with the same crypto library, and a verified-token cache hit.
//!
//! `cargo bench -p portcullis-auth --bench verify`; results in docs/benchmarks.md.

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_auth::clock::SystemClock;
use portcullis_auth::jwks::{JwksCache, JwksConfig, StaticJwks};
use portcullis_auth::policy::Policy;
use portcullis_auth::provider::{Cognito, Provider};
use portcullis_auth::{CacheUse, Verifier};
use portcullis_dev_issuer::{DevIssuer, TokenSpec};
use std::hint::black_box;
use std::sync::Arc;

const ISSUER: &str = "https://issuer.bench";

fn verifier(
    issuer: &Arc<DevIssuer>,
    rt: &tokio::runtime::Runtime,
    cache_capacity: u64,
) -> Verifier {
    let jwks_issuer = Arc::clone(issuer);
    let keys = Arc::new(JwksCache::new(
        ISSUER,
        Box::new(StaticJwks::new("bench", move || {
            jwks_issuer.jwks().to_string().into_bytes()
        })),
        Arc::new(SystemClock),
        JwksConfig::default(),
    ));
    rt.block_on(keys.refresh()).expect("keys");
    let provider: Arc<dyn Provider> =
        Arc::new(Cognito::new(ISSUER, ["portcullis-dev".to_owned()], keys));
    let policy = Policy {
        cache_capacity,
        ..Policy::default()
    };
    Verifier::new(vec![provider], Arc::new(SystemClock), policy).expect("verifier")
}

fn bare_key(issuer: &DevIssuer) -> ParsedPublicKey {
    let jwk = &issuer.jwks()["keys"][0];
    let b64 = |f: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[f].as_str().expect("field"))
            .expect("b64")
    };
    let (n, e) = (b64("n"), b64("e"));
    RsaPublicKeyComponents {
        n: &n[..],
        e: &e[..],
    }
    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
    .expect("key")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let issuer = Arc::new(DevIssuer::ephemeral(ISSUER));
    let token = issuer.mint_access(&TokenSpec::new("bench-user").groups(["portcullis-admin"]));

    let key = bare_key(&issuer);
    let (input, sig) = token.rsplit_once('.').expect("token");
    let sig = URL_SAFE_NO_PAD.decode(sig).expect("sig");
    c.bench_function("bare_rs256_signature_verify", |b| {
        b.iter(|| {
            key.verify_sig(black_box(input.as_bytes()), black_box(&sig))
                .expect("valid")
        })
    });

    // Capacity 0: nothing is kept, so every call takes the full path (hash, cache miss,
    // parse, key lookup, signature, claims).
    let uncached = verifier(&issuer, &rt, 0);
    c.bench_function("full_verify_cache_miss", |b| {
        b.iter(|| {
            let (_, used) = rt
                .block_on(uncached.verify_traced(black_box(&token)))
                .expect("valid");
            assert_eq!(
                used,
                CacheUse::Miss,
                "the miss benchmark must not be served from the cache"
            );
        })
    });

    let cached = verifier(&issuer, &rt, 10_000);
    rt.block_on(cached.verify(&token)).expect("warm");
    c.bench_function("full_verify_cache_hit", |b| {
        b.iter(|| {
            rt.block_on(cached.verify(black_box(&token)))
                .expect("valid")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
