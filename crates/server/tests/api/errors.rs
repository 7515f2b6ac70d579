use crate::helpers::{assert_problem, spawn_sqlite};

#[tokio::test]
async fn unknown_route_is_a_problem_document() {
    let t = spawn_sqlite().await;
    let res = t.client.get(t.url("/nope")).send().await.expect("request");
    let body = assert_problem(res, 404).await;
    assert_eq!(body["title"], "Not Found");
}

#[tokio::test]
async fn wrong_method_is_a_problem_document_and_keeps_allow() {
    let t = spawn_sqlite().await;
    let res = t
        .client
        .delete(t.url("/healthz"))
        .send()
        .await
        .expect("request");
    let allow = res
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .expect("405 keeps Allow");
    assert!(allow.contains("GET"), "{allow}");
    assert_problem(res, 405).await;
}
