//! Each page renders for a platform admin, with the data it is about.

use super::{acme, app, persona, signed_in};

#[tokio::test]
async fn every_page_renders_for_a_platform_admin() {
    let app = app().await;
    let acme = acme(&app).await;
    let member = persona(&app, "dev-member").id().await;
    // Something to find: a resource created through the API by a user with a username.
    let alice = app.caller("alice-audit");
    let org = alice.create_org("Alice's").await;
    alice.create_resource(&org, "findme").await;
    let bob = app.caller("bob-audit");
    let bobs = bob.create_org("Bob's").await;
    bob.create_resource(&bobs, "mine").await;
    let b = signed_in(&app, "dev-admin").await;

    let checks: Vec<(String, &str)> = vec![
        ("/console".into(), "platform admin"),
        ("/console/audit".into(), "resource.create"),
        // Each row names its actor, whoever they are, not only the filter's.
        ("/console/audit".into(), "<td>alice-audit</td>"),
        ("/console/audit".into(), "<td>bob-audit</td>"),
        (
            "/console/audit?actor=alice-audit".into(),
            "<td>alice-audit</td>",
        ),
        ("/console/audit?actor=alice-audit".into(), "resource.create"),
        (
            "/console/audit?actor=alice-audit&action=resource.create".into(),
            ">resource.create</td>",
        ),
        ("/console/audit/chain".into(), "Verified up to seq"),
        ("/console/users".into(), "dev-member"),
        ("/console/users?q=alice".into(), "alice-audit"),
        (
            format!("/console/users/{member}"),
            "Revoke all sessions of dev-member",
        ),
        ("/console/orgs".into(), "Acme"),
        (format!("/console/orgs/{acme}/members"), "last owner"),
        (format!("/console/orgs/{acme}/audit"), "membership.add"),
        (format!("/console/orgs/{acme}/flags"), "mfa.required"),
        ("/console/flags".into(), "revocation.check_reads"),
        ("/console/health".into(), "<svg"),
    ];
    for (path, needle) in checks {
        let page = b.open(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(
            page.body.contains(needle),
            "{path} shows {needle:?}: {}",
            page.body
        );
        assert!(
            page.header("content-type").starts_with("text/html"),
            "{path}"
        );
    }
    // The detail panel of an audit row.
    let list = b
        .open("/console/audit?actor=alice-audit&action=resource.create")
        .await;
    let at = list.body.find("detail=").expect("a details link") + "detail=".len();
    let seq: String = list.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let detail = b
        .open(&format!("/console/audit?actor=alice-audit&detail={seq}"))
        .await;
    assert!(
        detail.body.contains("Before") && detail.body.contains("findme"),
        "{}",
        detail.body
    );

    // Exports of the filtered rows.
    let csv = b
        .get("/console/audit/export?format=csv&actor=alice-audit&action=resource.create")
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 2, "header and the one row: {}", csv.body);
    assert!(lines[0].starts_with("seq,id,occurred_at,actor_id"));
    let nd = b
        .get("/console/audit/export?format=ndjson&actor=alice-audit")
        .await;
    assert_eq!(nd.status, 200);
    let rows: Vec<serde_json::Value> = nd
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(rows.iter().any(|r| r["action"] == "resource.create"));
    assert!(rows.iter().all(|r| r["actor_id"] == rows[0]["actor_id"]));
    assert_eq!(b.get("/console/audit/export?format=xml").await.status, 422);
    let empty = b
        .get("/console/audit/export?format=csv&actor=nobody-at-all")
        .await;
    assert_eq!(empty.status, 200);
    assert_eq!(
        empty.body.lines().count(),
        1,
        "the header only: {}",
        empty.body
    );
    // An unknown actor matches nothing rather than everything.
    let none = b.open("/console/audit?actor=nobody-at-all").await;
    assert!(none.body.contains("No user has this"), "{}", none.body);
}

#[tokio::test]
async fn the_audit_pages_follow_the_keyset_cursor() {
    let app = app().await;
    let alice = app.caller("pager");
    let org = alice.create_org("Paged").await;
    for i in 0..60 {
        alice.create_resource(&org, &format!("r{i}")).await;
    }
    let b = signed_in(&app, "dev-admin").await;
    let first = b
        .open("/console/audit?actor=pager&action=resource.create")
        .await;
    let rows = |body: &str| body.matches(">resource.create</td>").count();
    assert_eq!(rows(&first.body), 50, "a full first page");
    let at = first.body.find("cursor=").expect("a next page") + "cursor=".len();
    let cursor: String = first.body[at..].chars().take_while(|c| *c != '"').collect();
    let second = b
        .open(&format!(
            "/console/audit?actor=pager&action=resource.create&cursor={cursor}"
        ))
        .await;
    assert_eq!(second.status, 200);
    assert_eq!(rows(&second.body), 10, "the rest: {}", second.body);
    assert!(
        !second.body.contains("rel=\"next\""),
        "no page after the last"
    );
    // A tampered cursor is refused as by the API.
    let bad = b.get("/console/audit?cursor=AAAA").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
}
