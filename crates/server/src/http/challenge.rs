//! The challenges of every refusal, completed in one place: a response marked
//! [`Challenged`](super::error::Challenged) gets the server's challenge set for its rejection
//! (`Bearer`, `DPoP algs=...` when some issuer accepts DPoP) with `resource_metadata` (RFC 9728
//! section 5.1) on each, and a `DPoP-Nonce` when server nonces are on.

use super::error::Challenged;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use std::future::Future;

/// The innermost step of every route (`super::stack`): completes the response of `next`.
pub async fn complete<F>(
    state: &AppState,
    req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response
where
    F: Future<Output = Response>,
{
    let mut res = next(req).await;
    let Some(Challenged(rejection)) = res.extensions().get::<Challenged>().copied() else {
        return res;
    };
    let challenges = &state.resource.challenges;
    let headers = res.headers_mut();
    match rejection {
        Some(r) => {
            headers.remove(header::WWW_AUTHENTICATE);
            for value in challenges.headers(r) {
                headers.append(header::WWW_AUTHENTICATE, value);
            }
        }
        None => {
            let completed: Vec<HeaderValue> = headers
                .get_all(header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(|v| HeaderValue::from_str(&challenges.with_metadata(v)).ok())
                .collect();
            headers.remove(header::WWW_AUTHENTICATE);
            for value in completed {
                headers.append(header::WWW_AUTHENTICATE, value);
            }
        }
    }
    if challenges.dpop()
        && let Some(nonce) = state.verifier.dpop().and_then(|d| d.nonce())
        && let Ok(value) = HeaderValue::from_str(&nonce)
    {
        headers.insert("dpop-nonce", value);
    }
    res
}
