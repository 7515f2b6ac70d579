//! What the console changes goes through the API's handlers: audited, with request ids, under
//! the same rules (roles, the last owner).

use super::{acme, app, persona, signed_in};

#[tokio::test]
async fn revoking_a_users_sessions_refuses_their_token() {
    let app = app().await;
    let member = persona(&app, "dev-member");
    let id = member.id().await;
    let b = signed_in(&app, "dev-admin").await;
    let page = b.open(&format!("/console/users/{id}")).await;
    let csrf = page.input("csrf").expect("csrf");
    let done = b
        .submit(
            &format!("/console/users/{id}/revoke-sessions"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(
        member.me().await,
        401,
        "the member's token is refused by the API"
    );
    let audit = b
        .open(&format!(
            "/console/audit?action=session.revoke_user&resource={id}"
        ))
        .await;
    assert!(
        audit.body.contains("session.revoke_user") || audit.body.contains("revoke"),
        "{}",
        audit.body
    );

    let disable = b
        .submit(&format!("/console/users/{id}/disable"), &[("csrf", &csrf)])
        .await;
    assert!(disable.body.contains("disabled"), "{}", disable.body);
    let enable = b
        .submit(&format!("/console/users/{id}/enable"), &[("csrf", &csrf)])
        .await;
    assert!(enable.body.contains("enabled again"), "{}", enable.body);
}

#[tokio::test]
async fn changing_a_role_is_audited_and_the_last_owner_is_kept() {
    let app = app().await;
    let acme = acme(&app).await;
    let member_id = persona(&app, "dev-member").id().await;
    let b = signed_in(&app, "ops").await;
    let members = b.open(&format!("/console/orgs/{acme}/members")).await;
    assert_eq!(members.status, 200, "{}", members.body);
    // The only owner (dev-admin) has no controls: the rule is shown, not only enforced.
    assert!(
        members.body.contains("last owner: cannot be demoted"),
        "{}",
        members.body
    );
    let csrf = members.input("csrf").expect("csrf");
    let done = b
        .submit(
            &format!("/console/orgs/{acme}/members/{member_id}/role"),
            &[("csrf", &csrf), ("role", "viewer")],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Role changed"));
    let row = app
        .admin("root")
        .get(&format!(
            "/v1/orgs/{acme}/audit?action=membership.role&resource_id={member_id}"
        ))
        .expect(200)
        .await;
    let row = &row["items"][0];
    assert_eq!(row["changes"]["role"]["after"], "viewer", "{row}");
    assert!(!row["request_id"].as_str().unwrap_or("").is_empty());
    let audit = b
        .open(&format!(
            "/console/orgs/{acme}/audit?action=membership.role"
        ))
        .await;
    assert!(audit.body.contains("membership.role"), "{}", audit.body);

    // An admin may not grant owner: the API's rule, seen through the console.
    let refused = b
        .submit(
            &format!("/console/orgs/{acme}/members/{member_id}/role"),
            &[("csrf", &csrf), ("role", "owner")],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    // Add by sub, then remove.
    let added = b
        .submit(
            &format!("/console/orgs/{acme}/members"),
            &[("csrf", &csrf), ("sub", "newcomer"), ("role", "member")],
        )
        .await;
    assert!(added.body.contains("newcomer"), "{}", added.body);
}

#[tokio::test]
async fn a_flag_change_shows_who_made_it() {
    let app = app().await;
    let b = signed_in(&app, "dev-admin").await;
    let flags = b.open("/console/flags").await;
    let csrf = flags.input("csrf").expect("csrf");
    let done = b
        .submit(
            "/console/flags/revocation.check_reads",
            &[("csrf", &csrf), ("value", "false")],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("Last changed by dev-admin"),
        "{}",
        done.body
    );
    let api = app.admin("root").get("/v1/admin/flags").expect(200).await;
    let flag = api["items"]
        .as_array()
        .expect("flags")
        .iter()
        .find(|f| f["name"] == "revocation.check_reads")
        .expect("the flag")
        .clone();
    assert_eq!(flag["effective"], false);
    let bad = b
        .submit(
            "/console/flags/ws.revalidate_secs",
            &[("csrf", &csrf), ("value", "\"x\"")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
}

#[tokio::test]
async fn auth_health_draws_a_burst_of_failed_requests() {
    let app = app().await;
    let anon = app.bearer("not-a-token");
    for _ in 0..20 {
        assert_eq!(anon.get("/v1/me").status().await, 401);
    }
    let b = signed_in(&app, "dev-admin").await;
    let page = b.open("/console/health").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("failed: malformed"), "{}", page.body);
    assert!(page.body.contains("/v1/me"), "{}", page.body);
    assert!(page.body.contains("class=\"threshold\""));
    assert!(page.body.contains("<path class=\"series"));
}
