//! `/openapi.json` describes every route of the router, as OpenAPI 3.1, with the bearer scheme
//! on every `/v1` route; `/docs` is served without authentication.

use crate::support::TestApp;
use serde_json::Value;

/// Every (method, path) registered in `crates/server/src/http/router.rs`, except the documents
/// themselves. A route added there and not here (or not in the document) fails this test.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/.well-known/oauth-protected-resource"),
    ("get", "/v1/me"),
    ("get", "/v1/orgs"),
    ("post", "/v1/orgs"),
    ("get", "/v1/orgs/{org_id}"),
    ("delete", "/v1/orgs/{org_id}"),
    ("post", "/v1/orgs/{org_id}/restore"),
    ("get", "/v1/orgs/{org_id}/members"),
    ("post", "/v1/orgs/{org_id}/members"),
    ("patch", "/v1/orgs/{org_id}/members/{user_id}"),
    ("delete", "/v1/orgs/{org_id}/members/{user_id}"),
    ("get", "/v1/orgs/{org_id}/resources"),
    ("post", "/v1/orgs/{org_id}/resources"),
    ("get", "/v1/orgs/{org_id}/resources/{id}"),
    ("patch", "/v1/orgs/{org_id}/resources/{id}"),
    ("delete", "/v1/orgs/{org_id}/resources/{id}"),
    ("post", "/v1/orgs/{org_id}/resources/{id}/restore"),
    ("get", "/v1/orgs/{org_id}/audit"),
    ("get", "/v1/admin/audit"),
    ("post", "/v1/auth/logout"),
    ("post", "/v1/auth/logout-all"),
    ("post", "/v1/admin/users/{user_id}/revoke-sessions"),
    ("post", "/v1/admin/users/{user_id}/disable"),
    ("post", "/v1/admin/users/{user_id}/enable"),
    ("get", "/v1/admin/flags"),
    ("put", "/v1/admin/flags/{name}"),
    ("post", "/v1/admin/users/{user_id}/identities"),
    ("get", "/v1/admin/orgs/{org_id}/links"),
    ("put", "/v1/admin/orgs/{org_id}/links"),
    // `GET /v1/ws` is a WebSocket upgrade, which OpenAPI cannot describe; docs/sessions.md does.
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

#[tokio::test]
async fn the_document_describes_every_route() {
    let app = TestApp::sqlite().start().await;
    let res = app.anonymous().get("/openapi.json").send().await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("the document is JSON");
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "openapi: {version}");

    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http", "{scheme}");
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
    assert_eq!(scheme["bearerFormat"], "JWT", "{scheme}");

    for (method, path) in ROUTES {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not in the document");
        let security = op["security"].as_array();
        let bearer = security.is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        assert_eq!(
            bearer,
            path.starts_with("/v1/"),
            "{method} {path}: {security:?}"
        );
        let responses = op["responses"].as_object().expect("responses");
        assert!(responses.contains_key("500"), "{method} {path}: no 500");
        if path.starts_with("/v1/") {
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
        }
    }

    // Nothing in the document that the router does not serve.
    let mut documented = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(*method).is_some() {
                documented += 1;
                assert!(
                    ROUTES.contains(&(method, path.as_str())),
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }
    assert_eq!(documented, ROUTES.len());

    // Errors are problem documents, and 401 documents its challenge.
    let unauthorized = &doc["components"]["responses"]["Unauthorized"];
    assert!(unauthorized["content"]["application/problem+json"].is_object());
    assert!(unauthorized["headers"]["WWW-Authenticate"].is_object());
    let problem = &doc["components"]["schemas"]["Problem"]["required"];
    for field in ["type", "title", "status", "detail", "request_id"] {
        assert!(
            problem
                .as_array()
                .is_some_and(|r| r.iter().any(|f| f == field)),
            "{field}"
        );
    }
}

#[tokio::test]
async fn docs_page_is_public_html() {
    let app = TestApp::sqlite().start().await;
    let res = app.anonymous().get("/docs").send().await;
    assert_eq!(res.status(), 200);
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ct.starts_with("text/html"), "{ct}");
    let body = res.text().await.expect("body");
    assert!(body.contains("/openapi.json"));
}
