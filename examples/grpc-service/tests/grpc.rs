//! The gRPC example over loopback with a real gRPC client and tokens of a real issuer over
//! HTTP: an authenticated call is answered, the others get `UNAUTHENTICATED` or
//! `PERMISSION_DENIED` with generic messages.

use example_grpc_service::{GREETER_SCOPE, hello, serve, verifier};
use portcullis_dev_issuer::{DEFAULT_CLIENT_ID, LoopbackIssuer, TokenSpec};
use tonic::Code;
use tonic::transport::Endpoint;

#[tokio::test]
async fn authenticated_calls_are_answered_and_the_rest_refused() {
    let idp = LoopbackIssuer::start().await.expect("issuer");
    let verifier = verifier(idp.issuer_url(), DEFAULT_CLIENT_ID)
        .await
        .expect("verifier");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(serve(listener, verifier));
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");

    let good = idp
        .issuer
        .mint_access(&TokenSpec::new("alice").scopes([GREETER_SCOPE]));
    let reply = hello(channel.clone(), Some(&good), "world")
        .await
        .expect("authenticated call");
    assert_eq!(reply.message, "hello, world");
    assert_eq!(reply.subject, "alice");

    let refused = hello(channel.clone(), None, "world")
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(refused.message(), "authentication required");

    let mut forged = good.clone();
    forged.pop();
    let refused = hello(channel.clone(), Some(&forged), "world")
        .await
        .expect_err("bad signature");
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(
        refused.message(),
        "authentication required",
        "no reason given"
    );

    let other_client = idp.issuer.mint_access(
        &TokenSpec::new("alice")
            .scopes([GREETER_SCOPE])
            .client_id("another-app"),
    );
    let refused = hello(channel.clone(), Some(&other_client), "world").await;
    assert_eq!(
        refused.map_err(|s| s.code()).err(),
        Some(Code::Unauthenticated)
    );

    let unscoped = idp.issuer.mint_access(&TokenSpec::new("bob"));
    let refused = hello(channel.clone(), Some(&unscoped), "world")
        .await
        .expect_err("no scope");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(refused.message(), "permission denied");
    server.abort();
}
