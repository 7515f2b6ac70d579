//! DPoP (RFC 9449) end to end: bound tokens from the dev issuer, proofs signed with EC keys of
//! the test's, against a server with `auth.dpop` on; and the protected-resource metadata
//! (RFC 9728) every 401 names.

mod cluster;
mod metadata;
mod nonce;
mod proofs;
mod websocket;

use crate::support::dpop::DpopKey;
use crate::support::{TestApp, challenge};
use portcullis::config::Config;
use portcullis_auth::dpop::DpopMode;
use portcullis_dev_issuer::TokenSpec;
use reqwest::{Method, Response};

/// A server with DPoP in `mode` for its one (dev) issuer, ready.
pub async fn app(mode: DpopMode) -> TestApp {
    app_with(mode, |_| {}).await
}

pub async fn app_with(mode: DpopMode, f: impl FnOnce(&mut Config) + Send + 'static) -> TestApp {
    let app = TestApp::sqlite()
        .with_config(move |c| {
            c.auth.dpop = mode;
            f(c);
        })
        .start()
        .await;
    app.wait_ready().await;
    app
}

/// A token for `sub` bound to `key`.
pub fn bound_token(app: &TestApp, sub: &str, key: &DpopKey) -> String {
    app.issuer()
        .mint_access(&TokenSpec::new(sub).username(sub).dpop_bound(key.jkt()))
}

/// Sends `method path` with `Authorization: {scheme} {token}` and each of `proofs` as a `DPoP`
/// header.
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    scheme: &str,
    token: &str,
    proofs: &[&str],
) -> Response {
    let mut req = app
        .anonymous()
        .request(method, path)
        .header("authorization", &format!("{scheme} {token}"));
    for p in proofs {
        req = req.header("dpop", p);
    }
    req.send().await
}

/// `GET /v1/me` with the DPoP scheme and `proof`.
pub async fn me(app: &TestApp, token: &str, proof: &str) -> Response {
    send(app, Method::GET, "/v1/me", "DPoP", token, &[proof]).await
}

/// Every `WWW-Authenticate` value of `res`.
pub fn challenges(res: &Response) -> Vec<String> {
    let all: Vec<String> = res
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    assert_eq!(all.first().cloned(), challenge(res));
    all
}

/// Asserts a 401 whose DPoP challenge carries `error`.
pub fn assert_dpop_error(res: &Response, error: &str) {
    assert_eq!(res.status(), 401);
    let all = challenges(res);
    assert!(
        all.iter().any(|c| c.starts_with(&format!(
            r#"DPoP error="{error}", algs="ES256 RS256 PS256 EdDSA""#
        )) && c.contains("resource_metadata=")),
        "{all:?}"
    );
}
