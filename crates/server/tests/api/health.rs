//! The probes and the request id every answer carries.

use crate::support::{TestApp, request_id};

#[tokio::test]
async fn healthz_is_ok_with_a_request_id() {
    let mut app = TestApp::sqlite().start().await;
    let res = app.anonymous().get("/healthz").send().await;
    assert_eq!(res.status(), 200);
    let id = request_id(&res);
    let uuid = uuid::Uuid::parse_str(&id).expect("request id is a UUID");
    assert_eq!(uuid.get_version_num(), 7);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body, serde_json::json!({"status": "ok"}));
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn readyz_is_ok_once_migrated() {
    let app = TestApp::sqlite().start().await;
    let res = app.anonymous().get("/readyz").send().await;
    assert_eq!(res.status(), 200);
    request_id(&res);
}

#[tokio::test]
async fn client_request_id_is_ignored() {
    let app = TestApp::sqlite().start().await;
    let res = app
        .anonymous()
        .get("/healthz")
        .header("x-request-id", "forged-id")
        .send()
        .await;
    let id = request_id(&res);
    assert_ne!(id, "forged-id");
    uuid::Uuid::parse_str(&id).expect("server-generated UUID");
}

#[tokio::test]
async fn metrics_are_served_only_on_the_metrics_listener() {
    let app = TestApp::sqlite().start().await;
    let res = app.anonymous().get("/metrics").send().await;
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .get(app.metrics_url("/metrics"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
}
