//! The axum example on a loopback port with tokens of a real issuer over HTTP.

use portcullis_dev_issuer::{DEFAULT_CLIENT_ID, LoopbackIssuer, TokenSpec};

#[tokio::test]
async fn the_layer_admits_valid_tokens_and_refuses_the_rest() {
    let idp = LoopbackIssuer::start().await.expect("issuer");
    let verifier = example_axum_service::verifier(idp.issuer_url(), DEFAULT_CLIENT_ID)
        .await
        .expect("verifier");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, example_axum_service::app(verifier)).await;
    });
    let client = reqwest::Client::new();
    let get = |path: &str, token: Option<String>| {
        let mut req = client.get(format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let plain = idp.issuer.mint_access(&TokenSpec::new("alice"));
    let reporter = idp
        .issuer
        .mint_access(&TokenSpec::new("bob").scopes([example_axum_service::REPORTS_SCOPE]));

    let res = get("/me", Some(plain.clone())).await.expect("me");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "hello, alice\n");

    let res = get("/me", None).await.expect("anonymous");
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers().get("www-authenticate").map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );
    let mut forged = plain.clone();
    forged.pop();
    let res = get("/me", Some(forged)).await.expect("forged");
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers().get("www-authenticate").map(|v| v.as_bytes()),
        Some(&br#"Bearer error="invalid_token""#[..])
    );

    assert_eq!(
        get("/reports", Some(plain))
            .await
            .expect("no scope")
            .status(),
        403
    );
    assert_eq!(
        get("/reports", Some(reporter))
            .await
            .expect("scope")
            .status(),
        200
    );
    assert_eq!(get("/healthz", None).await.expect("open").status(), 200);
    server.abort();
}
