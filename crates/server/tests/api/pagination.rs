//! Pagination through the API: page size limits, an opaque cursor that survives a round trip
//! over hundreds of rows while rows are being added, and tampered cursors refused.

use crate::tenant::{Tenant, start};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;

async fn org_with_resources(t: &Tenant, owner: &str, n: usize) -> String {
    let org = t.create_org(owner, "Paged").await;
    for i in 0..n {
        let body = json!({"kind": "doc", "name": format!("r{i}")});
        t.ok(
            owner,
            Method::POST,
            &format!("/v1/orgs/{org}/resources"),
            Some(body),
            201,
        )
        .await;
    }
    org
}

#[tokio::test]
async fn page_size_limits() {
    let t = start().await;
    let owner = t.token("owner");
    let org = org_with_resources(&t, &owner, 25).await;
    let list = |q: &str| format!("/v1/orgs/{org}/resources{q}");
    let default = t.ok(&owner, Method::GET, &list(""), None, 200).await;
    assert_eq!(
        default["items"].as_array().map(Vec::len),
        Some(20),
        "default page size"
    );
    assert!(default["next_cursor"].is_string());
    let one = t
        .ok(&owner, Method::GET, &list("?page_size=1"), None, 200)
        .await;
    assert_eq!(one["items"].as_array().map(Vec::len), Some(1));
    let all = t
        .ok(&owner, Method::GET, &list("?page_size=100"), None, 200)
        .await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(25));
    assert_eq!(all["next_cursor"], Value::Null);
    for bad in [
        "?page_size=0",
        "?page_size=101",
        "?page_size=-1",
        "?page_size=abc",
        "?page_size=1e3",
        "?bogus=1",
    ] {
        let res = t.call(Some(&owner), Method::GET, &list(bad), None).await;
        crate::helpers::assert_problem(res, 422).await;
    }
    // Every list endpoint has the same limits.
    for path in [
        "/v1/orgs?page_size=101".to_owned(),
        format!("/v1/orgs/{org}/members?page_size=0"),
        format!("/v1/orgs/{org}/audit?page_size=101"),
    ] {
        let res = t.call(Some(&owner), Method::GET, &path, None).await;
        assert_eq!(res.status(), 422, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursor_round_trip_has_no_gaps_or_duplicates_under_concurrent_inserts() {
    let t = start().await;
    let owner = t.token("owner");
    let org = org_with_resources(&t, &owner, 300).await;
    let path = format!("/v1/orgs/{org}/resources");
    let before: HashSet<String> = t
        .all_pages(&owner, &path, 100)
        .await
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(before.len(), 300);

    // Page through in small pages while a writer keeps adding rows.
    let writer = {
        let (client, url, token) = (
            t.app.client.clone(),
            t.app.url(&format!("/v1/orgs/{org}/resources")),
            owner.clone(),
        );
        tokio::spawn(async move {
            for i in 0..60 {
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"kind": "doc", "name": format!("late{i}")}))
                    .send()
                    .await
                    .expect("insert");
                assert_eq!(res.status(), 201);
            }
        })
    };
    let seen: Vec<String> = t
        .all_pages(&owner, &path, 7)
        .await
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    writer.await.expect("writer");
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates");
    assert!(
        before.is_subset(&unique),
        "no row that existed before is skipped"
    );
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "one stable order");
}

#[tokio::test]
async fn tampered_or_foreign_cursors_are_refused() {
    let t = start().await;
    let owner = t.token("owner");
    let org = org_with_resources(&t, &owner, 5).await;
    let other = org_with_resources(&t, &owner, 5).await;
    let page = t
        .ok(
            &owner,
            Method::GET,
            &format!("/v1/orgs/{org}/resources?page_size=2"),
            None,
            200,
        )
        .await;
    let cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
    let mut flipped = cursor.clone().into_bytes();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).expect("ascii");
    for (path, why) in [
        (
            format!("/v1/orgs/{org}/resources?cursor={flipped}"),
            "edited",
        ),
        (
            format!(
                "/v1/orgs/{org}/resources?cursor={}",
                &cursor[..cursor.len() - 3]
            ),
            "truncated",
        ),
        (format!("/v1/orgs/{org}/resources?cursor=%00%01"), "garbage"),
        (
            format!("/v1/orgs/{other}/resources?cursor={cursor}"),
            "another org's",
        ),
        (
            format!("/v1/orgs/{org}/resources?kind=doc&cursor={cursor}"),
            "another filter's",
        ),
        (
            format!("/v1/orgs/{org}/audit?cursor={cursor}"),
            "another list's",
        ),
    ] {
        let res = t.call(Some(&owner), Method::GET, &path, None).await;
        assert_eq!(res.status(), 422, "{why} cursor");
    }
    let ok = t
        .call(
            Some(&owner),
            Method::GET,
            &format!("/v1/orgs/{org}/resources?page_size=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(ok.status(), 200);
}
