//! One person, several identities: a platform admin links an identity at another issuer to an
//! existing user, and that identity's tokens are the user's from then on, orgs included. Here
//! the server trusts two real issuers on loopback (two instances on one database, one per
//! issuer), as an operator moving users off one provider runs both for a while.

use crate::support::{TestApp, assert_problem};
use portcullis_dev_issuer::{LoopbackIssuer, TokenSpec};
use serde_json::json;

struct Migration {
    old: LoopbackIssuer,
    new: LoopbackIssuer,
    old_app: TestApp,
    new_app: TestApp,
}

async fn two_issuers() -> Migration {
    let old = LoopbackIssuer::start().await.expect("old issuer");
    let new = LoopbackIssuer::start().await.expect("new issuer");
    let old_app = TestApp::sqlite().cognito(&old.issuer).start().await;
    let mut config = old_app.config().clone();
    config.auth.issuer = Some(new.issuer.issuer_url().to_owned());
    let new_app = old_app.instance(&config).await;
    old_app.wait_ready().await;
    new_app.wait_ready().await;
    Migration {
        old,
        new,
        old_app,
        new_app,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_issuers_user_keeps_their_orgs_through_the_new_issuer_once_linked() {
    let m = two_issuers().await;
    let alice_old = m.old_app.caller("alice");
    let alice_id = alice_old.id().await;
    let org = alice_old.create_org("Alice's").await;
    let root = m.old_app.admin("root");

    let new_iss = m.new.issuer.issuer_url().to_owned();
    let linked = root
        .post(&format!("/v1/admin/users/{alice_id}/identities"))
        .json(json!({"issuer": new_iss, "sub": "alice-at-new"}))
        .expect(201)
        .await;
    assert_eq!(linked["user_id"], alice_id.as_str());
    assert_eq!(linked["issuer"], new_iss.as_str());
    assert_eq!(linked["sub"], "alice-at-new");

    let alice_new = m
        .new_app
        .bearer(&m.new.issuer.mint_access(&TokenSpec::new("alice-at-new")));
    let me = alice_new.get("/v1/me").expect(200).await;
    assert_eq!(me["id"], alice_id.as_str(), "the same user");
    assert_eq!(
        me["issuer"],
        new_iss.as_str(),
        "the identity of the token used"
    );
    assert_eq!(me["sub"], "alice-at-new");
    assert_eq!(me["memberships"][0]["org_id"], org.as_str());
    assert_eq!(me["memberships"][0]["role"], "owner");
    alice_new.get(&format!("/v1/orgs/{org}")).expect(200).await;

    // The old identity still works while both issuers run.
    let me = alice_old.get("/v1/me").expect(200).await;
    assert_eq!(me["sub"], "alice");
    assert_eq!(me["id"], alice_id.as_str());

    let audit = root
        .get("/v1/admin/audit?action=identity.link")
        .expect(200)
        .await;
    let rows = audit["items"].as_array().expect("items");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["resource_id"], alice_id.as_str());
    assert_eq!(rows[0]["changes"]["sub"]["after"], "alice-at-new");
    drop(m.old);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_identity_is_409_and_an_unknown_user_404() {
    let m = two_issuers().await;
    let root = m.old_app.admin("root");
    let alice = m.old_app.caller("alice").id().await;
    let bob = m.old_app.caller("bob").id().await;
    let new_iss = m.new.issuer.issuer_url().to_owned();

    // Signed in through the new issuer before anyone linked it: that identity is a user of
    // its own, and is not taken over.
    let carol_new = m
        .new_app
        .bearer(&m.new.issuer.mint_access(&TokenSpec::new("carol-at-new")));
    let carol_new_id = carol_new.id().await;
    let res = root
        .post(&format!("/v1/admin/users/{alice}/identities"))
        .json(json!({"issuer": new_iss, "sub": "carol-at-new"}))
        .send()
        .await;
    assert_problem(res, 409).await;

    root.post(&format!("/v1/admin/users/{alice}/identities"))
        .json(json!({"issuer": new_iss, "sub": "alice-at-new"}))
        .expect(201)
        .await;
    for user in [&alice, &bob] {
        let res = root
            .post(&format!("/v1/admin/users/{user}/identities"))
            .json(json!({"issuer": new_iss, "sub": "alice-at-new"}))
            .send()
            .await;
        assert_problem(res, 409).await;
    }
    let res = root
        .post("/v1/admin/users/0191d1a0-0000-7000-8000-000000000000/identities")
        .json(json!({"issuer": new_iss, "sub": "nobody"}))
        .send()
        .await;
    assert_problem(res, 404).await;

    // Field errors, and platform admins only.
    let res = root
        .post(&format!("/v1/admin/users/{bob}/identities"))
        .json(json!({"issuer": "", "sub": "x"}))
        .send()
        .await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(problem["errors"][0]["pointer"], "/issuer");
    let res = root
        .post(&format!("/v1/admin/users/{bob}/identities"))
        .json(json!({"issuer": new_iss}))
        .send()
        .await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(problem["errors"][0]["pointer"], "/sub");
    let res = m
        .old_app
        .caller("bob")
        .post(&format!("/v1/admin/users/{bob}/identities"))
        .json(json!({"issuer": new_iss, "sub": "bob-at-new"}))
        .send()
        .await;
    assert_problem(res, 403).await;

    // Carol's own user is still hers; only the one link happened.
    let me = carol_new.get("/v1/me").expect(200).await;
    assert_eq!(me["id"], carol_new_id.as_str());
    let audit = root
        .get("/v1/admin/audit?action=identity.link")
        .expect(200)
        .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1));
}

/// A change to a user's memberships drops what an instance cached for them under every
/// identity, not only the one they were created with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_is_refused_at_once_under_a_linked_identity() {
    let m = two_issuers().await;
    let root = m.old_app.admin("root");
    let new_iss = m.new.issuer.issuer_url().to_owned();
    let alice_id = m.old_app.caller("alice").id().await;
    let bob_id = m.old_app.caller("bob").id().await;
    for (user, sub) in [(&alice_id, "alice-at-new"), (&bob_id, "bob-at-new")] {
        root.post(&format!("/v1/admin/users/{user}/identities"))
            .json(json!({"issuer": new_iss, "sub": sub}))
            .expect(201)
            .await;
    }
    let at_new = |sub: &str| {
        m.new_app
            .bearer(&m.new.issuer.mint_access(&TokenSpec::new(sub)))
    };
    let alice = at_new("alice-at-new");
    let bob = at_new("bob-at-new");
    let org = alice.create_org("Alice's").await;
    alice
        .post(&format!("/v1/orgs/{org}/members"))
        .json(json!({"user_id": bob_id, "role": "member"}))
        .expect(201)
        .await;
    // Cached on this instance under Bob's new identity.
    bob.get(&format!("/v1/orgs/{org}")).expect(200).await;
    bob.get(&format!("/v1/orgs/{org}")).expect(200).await;
    alice
        .delete(&format!("/v1/orgs/{org}/members/{bob_id}"))
        .expect(204)
        .await;
    bob.get(&format!("/v1/orgs/{org}")).expect(404).await;
}

/// `portcullis users link` does what the admin route does, on the configured database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_link_command_links_and_refuses_a_taken_identity() {
    use crate::support::binary::{portcullis, stderr, stdout};
    let m = two_issuers().await;
    let dave_id = m.old_app.caller("dave").id().await;
    let new_iss = m.new.issuer.issuer_url().to_owned();
    let env = [("PORTCULLIS_DATABASE_URL", m.old_app.database_url())];
    let args = [
        "users",
        "link",
        "--user",
        &dave_id,
        "--issuer",
        &new_iss,
        "--sub",
        "dave-at-new",
    ];
    let o = portcullis(&args, &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(&dave_id), "{}", stdout(&o));

    let dave_new = m
        .new_app
        .bearer(&m.new.issuer.mint_access(&TokenSpec::new("dave-at-new")));
    assert_eq!(dave_new.id().await, dave_id);

    let again = portcullis(&args, &env);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already belongs"),
        "{}",
        stderr(&again)
    );
    let bad = portcullis(
        &[
            "users", "link", "--user", "nope", "--issuer", &new_iss, "--sub", "x",
        ],
        &env,
    );
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
