//! `export`: an org's resources streamed in pages with progress, pages cut at the byte budget,
//! and an export stopped by a revocation.

use super::org_with_resources;
use crate::support::TestApp;
use crate::support::ws::{Frame, connect};
use serde_json::json;
use std::time::{Duration, Instant};

/// An export page stops at `http.page_max_bytes` like an HTTP list page, and the export goes on
/// from where it stopped: every resource once, in pages of what fits.
#[tokio::test]
async fn export_pages_stop_at_the_byte_budget() {
    let app = TestApp::sqlite()
        .with_config(|c| c.http.page_max_bytes = 10 * 1024)
        .start()
        .await;
    let alice = app.caller("alice");
    let org = alice.create_org("Big").await;
    let blob = "x".repeat(4000);
    for i in 0..6 {
        alice
            .post(&format!("/v1/orgs/{org}/resources"))
            .json(json!({ "kind": "doc", "name": format!("r{i}"), "data": { "blob": blob } }))
            .expect(201)
            .await;
    }
    let (mut ws, _) = connect(&app, alice.token()).await;
    ws.send(json!({"type": "export", "org_id": org, "page_size": 100}))
        .await;
    ws.expect("export_started").await;
    let mut pages = Vec::new();
    loop {
        let v = match ws.next().await {
            Frame::Json(v) => v,
            Frame::Closed(code) => panic!("closed with {code}"),
        };
        match v["type"].as_str() {
            Some("export_items") => pages.push(v["items"].as_array().expect("items").len()),
            Some("export_progress") => {}
            Some("export_done") => {
                assert_eq!(v["exported"], 6);
                break;
            }
            _ => panic!("unexpected {v}"),
        }
    }
    assert_eq!(pages.iter().sum::<usize>(), 6, "{pages:?}");
    assert!(
        pages.iter().all(|n| *n <= 2),
        "two 4 KB resources fit in 10 KiB, three do not: {pages:?}"
    );
}

#[tokio::test]
async fn export_streams_every_resource_with_progress() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let org = org_with_resources(&alice, 7).await;
    let (mut ws, _) = connect(&app, alice.token()).await;
    ws.send(json!({"type": "export", "org_id": org, "page_size": 3}))
        .await;
    ws.expect("export_started").await;
    let mut names = Vec::new();
    let mut progress = Vec::new();
    loop {
        let v = match ws.next().await {
            Frame::Json(v) => v,
            Frame::Closed(code) => panic!("closed with {code}"),
        };
        match v["type"].as_str() {
            Some("export_items") => names.extend(
                v["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|r| r["name"].as_str().expect("name").to_owned()),
            ),
            Some("export_progress") => progress.push(v["exported"].as_u64().expect("n")),
            Some("export_done") => {
                assert_eq!(v["exported"], 7);
                break;
            }
            _ => panic!("unexpected {v}"),
        }
    }
    assert_eq!(names.len(), 7);
    assert_eq!(progress, [3, 6, 7]);
    // Another org's export is refused as not found.
    let bobs = app.caller("bob").create_org("Bob's").await;
    ws.send(json!({"type": "export", "org_id": bobs})).await;
    assert_eq!(ws.expect("error").await["code"], "not_found");
}

#[tokio::test]
async fn export_stops_when_its_token_is_revoked() {
    let app = TestApp::sqlite().start().await;
    let alice = app.caller("alice");
    let org = org_with_resources(&alice, 60).await;
    let (mut ws, _) = connect(&app, alice.token()).await;
    // One resource a page: the pacing between pages makes this take well over a second.
    ws.send(json!({"type": "export", "org_id": org, "page_size": 1}))
        .await;
    ws.expect("export_started").await;
    ws.expect("export_items").await;
    let first = ws.expect("export_progress").await;
    assert_eq!(first["exported"], 1);
    alice.post("/v1/auth/logout").expect(204).await;
    let start = Instant::now();
    let mut last = 1;
    let code = loop {
        match ws.next().await {
            Frame::Closed(code) => break code,
            Frame::Json(v) => match v["type"].as_str() {
                Some("export_progress") => last = v["exported"].as_u64().expect("n"),
                Some("export_items") => {}
                Some("error") => assert_eq!(v["code"], "export_stopped"),
                _ => panic!("unexpected {v}"),
            },
        }
    };
    assert_eq!(code, 4401);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(
        last < 60,
        "the export ran to its end ({last}) despite the logout"
    );
}
