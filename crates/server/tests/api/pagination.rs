//! Pagination through the API: page size limits, an opaque cursor that survives a round trip
//! over hundreds of rows while rows are being added, and tampered cursors refused.

use crate::support::{Caller, TestApp, assert_problem};
use serde_json::{Value, json};
use std::collections::HashSet;

async fn org_with_resources(owner: &Caller, n: usize) -> String {
    let org = owner.create_org("Paged").await;
    for i in 0..n {
        owner.create_resource(&org, &format!("r{i}")).await;
    }
    org
}

#[tokio::test]
async fn page_size_limits() {
    let app = TestApp::sqlite().start().await;
    let owner = app.caller("owner");
    let org = org_with_resources(&owner, 25).await;
    let list = |q: &str| format!("/v1/orgs/{org}/resources{q}");
    let default = owner.get(&list("")).expect(200).await;
    assert_eq!(
        default["items"].as_array().map(Vec::len),
        Some(20),
        "default page size"
    );
    assert!(default["next_cursor"].is_string());
    let one = owner.get(&list("?page_size=1")).expect(200).await;
    assert_eq!(one["items"].as_array().map(Vec::len), Some(1));
    let all = owner.get(&list("?page_size=100")).expect(200).await;
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
        let res = owner.get(&list(bad)).send().await;
        assert_problem(res, 422).await;
    }
    // Every list endpoint has the same limits.
    for path in [
        "/v1/orgs?page_size=101".to_owned(),
        format!("/v1/orgs/{org}/members?page_size=0"),
        format!("/v1/orgs/{org}/audit?page_size=101"),
    ] {
        assert_eq!(owner.get(&path).status().await, 422, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursor_round_trip_has_no_gaps_or_duplicates_under_concurrent_inserts() {
    let app = TestApp::sqlite().start().await;
    let owner = app.caller("owner");
    let org = org_with_resources(&owner, 300).await;
    let path = format!("/v1/orgs/{org}/resources");
    let before: HashSet<String> = owner
        .all_pages(&path, 100)
        .await
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(before.len(), 300);

    // Page through in small pages while a writer keeps adding rows.
    let writer = {
        let (owner, org) = (owner.clone(), org.clone());
        tokio::spawn(async move {
            for i in 0..60 {
                owner.create_resource(&org, &format!("late{i}")).await;
            }
        })
    };
    let seen: Vec<String> = owner
        .all_pages(&path, 7)
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
    let app = TestApp::sqlite().start().await;
    let owner = app.caller("owner");
    let org = org_with_resources(&owner, 5).await;
    let other = org_with_resources(&owner, 5).await;
    let page = owner
        .get(&format!("/v1/orgs/{org}/resources?page_size=2"))
        .expect(200)
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
        assert_eq!(owner.get(&path).status().await, 422, "{why} cursor");
    }
    let ok = owner
        .get(&format!(
            "/v1/orgs/{org}/resources?page_size=2&cursor={cursor}"
        ))
        .status()
        .await;
    assert_eq!(ok, 200);
}

/// Pages of `path` with `page_size=100`, following `next_cursor`: each page's raw `items` text
/// length and its items.
async fn byte_bounded_pages(caller: &Caller, path: &str) -> Vec<(usize, Vec<Value>)> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?page_size=100&cursor={c}"),
            None => format!("{path}?page_size=100"),
        };
        let page = caller.get(&url).expect(200).await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        let bytes = serde_json::to_string(&page["items"]).map_or(0, |s| s.len());
        pages.push((bytes, items));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return pages,
        }
    }
}

const BUDGET: usize = 32 * 1024;

/// An org with 20 resources of about 4 KiB each: about 80 KiB, far fewer than 100 items; and
/// the app it is on, whose pages stop at `BUDGET` bytes.
async fn big_org() -> (TestApp, String, HashSet<String>) {
    let app = TestApp::sqlite()
        .with_config(|c| c.http.page_max_bytes = BUDGET)
        .start()
        .await;
    let owner = app.caller("owner");
    let org = owner.create_org("Big").await;
    let mut created = HashSet::new();
    for i in 0..20 {
        let body =
            json!({"kind": "doc", "name": format!("r{i}"), "data": {"text": "x".repeat(3900)}});
        let r = owner
            .post(&format!("/v1/orgs/{org}/resources"))
            .json(body)
            .expect(201)
            .await;
        created.insert(r["id"].as_str().expect("id").to_owned());
    }
    (app, org, created)
}

#[tokio::test]
async fn pages_stop_at_the_byte_budget_and_the_cursor_continues() {
    let (app, org, created) = big_org().await;
    let owner = app.caller("owner");
    let pages = byte_bounded_pages(&owner, &format!("/v1/orgs/{org}/resources")).await;
    assert!(
        pages.len() >= 3,
        "cut by bytes, not by count: {}",
        pages.len()
    );
    for (bytes, items) in &pages {
        assert!(!items.is_empty());
        assert!(*bytes <= BUDGET, "a page of {bytes} bytes");
    }
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|(_, items)| {
            items
                .iter()
                .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    assert_eq!(ids.len(), created.len(), "no duplicates");
    assert_eq!(
        ids.iter().cloned().collect::<HashSet<_>>(),
        created,
        "no loss"
    );
}

#[tokio::test]
async fn audit_pages_stop_at_the_byte_budget_newest_first() {
    let (app, org, _) = big_org().await;
    let owner = app.caller("owner");
    let pages = byte_bounded_pages(&owner, &format!("/v1/orgs/{org}/audit")).await;
    assert!(pages.len() >= 3, "{}", pages.len());
    let seqs: Vec<i64> = pages
        .iter()
        .flat_map(|(_, items)| items.iter().map(|e| e["seq"].as_i64().unwrap_or_default()))
        .collect();
    for (bytes, _) in &pages {
        assert!(*bytes <= BUDGET, "a page of {bytes} bytes");
    }
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first"
    );
    let creations = pages
        .iter()
        .flat_map(|(_, items)| items.iter())
        .filter(|e| e["action"] == "resource.create")
        .count();
    assert_eq!(creations, 20);
}

#[tokio::test]
async fn one_item_over_the_byte_budget_comes_alone_with_a_cursor_past_it() {
    let (app, org, _) = big_org().await;
    let owner = app.caller("owner");
    let huge = json!({"kind": "doc", "name": "huge", "data": {"text": "y".repeat(BUDGET)}});
    owner
        .post(&format!("/v1/orgs/{org}/resources"))
        .json(huge)
        .expect(201)
        .await;
    let pages = byte_bounded_pages(&owner, &format!("/v1/orgs/{org}/resources")).await;
    let total: usize = pages.iter().map(|(_, items)| items.len()).sum();
    assert_eq!(total, 21);
    assert!(
        pages
            .iter()
            .any(|(bytes, items)| items.len() == 1 && *bytes > BUDGET)
    );
}
