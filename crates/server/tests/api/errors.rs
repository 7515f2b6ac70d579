//! Routing errors are problem documents too.

use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn unknown_route_is_a_problem_document() {
    let app = TestApp::sqlite().start().await;
    let res = app.anonymous().get("/nope").send().await;
    let body = assert_problem(res, 404).await;
    assert_eq!(body["title"], "Not Found");
}

#[tokio::test]
async fn wrong_method_is_a_problem_document_and_keeps_allow() {
    let app = TestApp::sqlite().start().await;
    let res = app.anonymous().delete("/healthz").send().await;
    let allow = res
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .expect("405 keeps Allow");
    assert!(allow.contains("GET"), "{allow}");
    assert_problem(res, 405).await;
}
