//! DPoP on `/v1/ws`: the handshake's proof (`htm` GET, `htu` the http URL of `/v1/ws`), and
//! the proofs of the `auth` and `refresh` messages.

use super::{app, bound_token};
use crate::support::dpop::DpopKey;
use crate::support::ws::{Ws, try_connect_with};
use portcullis_auth::dpop::DpopMode;
use serde_json::json;
use tokio_tungstenite::tungstenite::Error as WsError;

fn refused_with_401(result: Result<Ws, WsError>) -> String {
    match result {
        Ok(_) => panic!("the upgrade was accepted"),
        Err(WsError::Http(res)) => {
            assert_eq!(res.status().as_u16(), 401);
            res.headers()
                .get_all("www-authenticate")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(" | ")
        }
        Err(e) => panic!("expected HTTP 401, got {e}"),
    }
}

#[tokio::test]
async fn the_handshake_takes_a_dpop_token_with_its_proof() {
    let app = app(DpopMode::Allowed).await;
    let key = DpopKey::generate();
    let token = bound_token(&app, "alice", &key);
    let url = app.url("/v1/ws");
    let auth = format!("DPoP {token}");
    let proof = key.proof("GET", &url, &token).sign();
    let mut ws = try_connect_with(&app, &[("authorization", &auth), ("dpop", &proof)])
        .await
        .expect("upgrade");
    ws.expect("ready").await;
    // The same proof again: a replay, refused before the upgrade.
    let challenge = refused_with_401(
        try_connect_with(&app, &[("authorization", &auth), ("dpop", &proof)]).await,
    );
    assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    // A ws:// htu is not the handshake's URL.
    let ws_url = url.replacen("http://", "ws://", 1);
    let proof = key.proof("GET", &ws_url, &token).sign();
    refused_with_401(try_connect_with(&app, &[("authorization", &auth), ("dpop", &proof)]).await);
    // Without a proof, and as a bearer token.
    refused_with_401(try_connect_with(&app, &[("authorization", &auth)]).await);
    let bearer = format!("Bearer {token}");
    refused_with_401(try_connect_with(&app, &[("authorization", &bearer)]).await);
}

#[tokio::test]
async fn auth_and_refresh_messages_carry_proofs() {
    let app = app(DpopMode::Allowed).await;
    let key = DpopKey::generate();
    let token = bound_token(&app, "alice", &key);
    let url = app.url("/v1/ws");

    // `auth` without a proof: closed 4401.
    let mut ws = try_connect_with(&app, &[]).await.expect("upgrade");
    ws.send(json!({"type": "auth", "token": token})).await;
    assert_eq!(ws.closed(&["ready"]).await.0, 4401);

    // With one: ready.
    let mut ws = try_connect_with(&app, &[]).await.expect("upgrade");
    let proof = key.proof("GET", &url, &token).sign();
    ws.send(json!({"type": "auth", "token": token, "dpop": proof}))
        .await;
    ws.expect("ready").await;

    // A refresh with a fresh bound token and its proof is taken; without the proof, or with
    // a proof of another key, it is refused and the socket stays on its token.
    let next = bound_token(&app, "alice", &key);
    ws.send(json!({"type": "refresh", "token": next})).await;
    assert_eq!(ws.expect("error").await["code"], "refresh_refused");
    let thief = DpopKey::generate();
    let wrong = thief.proof("GET", &url, &next).sign();
    ws.send(json!({"type": "refresh", "token": next, "dpop": wrong}))
        .await;
    assert_eq!(ws.expect("error").await["code"], "refresh_refused");
    let proof = key.proof("GET", &url, &next).sign();
    ws.send(json!({"type": "refresh", "token": next, "dpop": proof}))
        .await;
    ws.expect("refreshed").await;
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
}
