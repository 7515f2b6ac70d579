//! RFC 9728: `GET /.well-known/oauth-protected-resource`, and the `resource_metadata`
//! parameter on every 401 challenge (missing token, bad token, the WebSocket handshake).

use super::{app_with, challenges};
use crate::support::TestApp;
use crate::support::ws::try_connect;
use portcullis_auth::dpop::DpopMode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Error as WsError;

async fn metadata(app: &TestApp) -> Value {
    let res = app
        .anonymous()
        .get("/.well-known/oauth-protected-resource")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"))
    );
    res.json().await.expect("json")
}

#[tokio::test]
async fn the_document_describes_the_resource() {
    let app = TestApp::sqlite().start().await;
    let doc = metadata(&app).await;
    let resource = app.url("");
    assert_eq!(doc["resource"], resource.as_str());
    assert_eq!(
        doc["authorization_servers"],
        json!([app.issuer().issuer_url()])
    );
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    assert_eq!(doc["scopes_supported"], json!([]));
    assert!(doc.get("dpop_signing_alg_values_supported").is_none());
    assert!(doc.get("dpop_bound_access_tokens_required").is_none());

    let allowed = app_with(DpopMode::Allowed, |c| {
        c.resource_scopes = vec!["openid".into(), "profile".into()];
    })
    .await;
    let doc = metadata(&allowed).await;
    assert_eq!(
        doc["dpop_signing_alg_values_supported"],
        json!(["ES256", "RS256", "PS256", "EdDSA"])
    );
    assert!(doc.get("dpop_bound_access_tokens_required").is_none());
    assert_eq!(doc["scopes_supported"], json!(["openid", "profile"]));

    let required = super::app(DpopMode::Required).await;
    assert_eq!(
        metadata(&required).await["dpop_bound_access_tokens_required"],
        true
    );
}

#[tokio::test]
async fn every_401_names_the_document() {
    let app = TestApp::sqlite()
        .with_config(|c| c.resource = Some("https://api.example.com/".into()))
        .start()
        .await;
    app.wait_ready().await;
    assert_eq!(metadata(&app).await["resource"], "https://api.example.com");
    let want =
        r#"resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#;
    // No token.
    let res = app.anonymous().get("/v1/me").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(challenges(&res), [format!("Bearer {want}")]);
    // A refused token.
    let res = app.bearer("garbage").get("/v1/orgs").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        challenges(&res),
        [format!(r#"Bearer error="invalid_token", {want}"#)]
    );
    // The WebSocket handshake's refusal (a token in the query string).
    match try_connect(&app, "?access_token=x", None).await {
        Err(WsError::Http(res)) => {
            assert_eq!(res.status().as_u16(), 401);
            let got = res
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(got.ends_with(want), "{got}");
        }
        Ok(_) => panic!("the upgrade was accepted"),
        Err(e) => panic!("expected HTTP 401, got {e}"),
    }
    // And the refused handshake of a bad header token.
    let res = app
        .bearer("garbage")
        .get("/v1/ws")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        challenges(&res),
        [format!(r#"Bearer error="invalid_token", {want}"#)]
    );
}

#[tokio::test]
async fn the_openapi_document_lists_the_endpoint_and_the_challenge() {
    let app = TestApp::sqlite().start().await;
    let doc: Value = app.anonymous().get("/openapi.json").expect(200).await;
    let op = &doc["paths"]["/.well-known/oauth-protected-resource"]["get"];
    assert!(op.is_object(), "{op}");
    assert!(
        op["security"].is_null() || op["security"] == json!([]),
        "public: {op}"
    );
    let unauthorized = &doc["components"]["responses"]["Unauthorized"]["headers"];
    let text = unauthorized["WWW-Authenticate"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("resource_metadata"), "{text}");
    assert!(unauthorized["DPoP-Nonce"].is_object());
}
