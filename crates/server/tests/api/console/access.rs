//! Who sees what: platform admins everything, an org's admins their org's pages only (another
//! org's page is a 404), members nothing.

use super::{acme, app, signed_in};

#[tokio::test]
async fn an_org_admin_sees_only_their_org() {
    let app = app().await;
    let acme = acme(&app).await;
    let globex = app.caller("wile").create_org("Globex").await;
    let b = signed_in(&app, "ops").await;

    let orgs = b.open("/console/orgs").await;
    assert_eq!(orgs.status, 200, "{}", orgs.body);
    assert!(
        orgs.body.contains("Acme") && !orgs.body.contains("Globex"),
        "{}",
        orgs.body
    );
    for page in ["members", "audit", "flags"] {
        let own = b.get(&format!("/console/orgs/{acme}/{page}")).await;
        assert_eq!(own.status, 200, "own org's {page}: {}", own.body);
        let other = b.get(&format!("/console/orgs/{globex}/{page}")).await;
        assert_eq!(other.status, 404, "another org's {page}");
        assert!(!other.body.contains("Globex"));
    }
    assert_eq!(
        b.get(&format!("/console/orgs/{globex}/audit/export?format=csv"))
            .await
            .status,
        404
    );
    // The platform pages do not exist for them.
    for path in [
        "/console/audit",
        "/console/users",
        "/console/flags",
        "/console/health",
        "/console/audit/chain",
    ] {
        assert_eq!(b.get(path).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn a_member_is_told_they_have_no_console_access() {
    let app = app().await;
    let acme = acme(&app).await;
    let b = super::browser::Browser::new(&app);
    let page = b.sign_in("dev-member").await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("no console access"), "{}", page.body);
    for path in [
        "/console/audit".to_owned(),
        "/console/orgs".into(),
        format!("/console/orgs/{acme}/members"),
        format!("/console/orgs/{acme}/audit"),
    ] {
        let p = b.get(&path).await;
        assert_eq!(p.status, 403, "{path}: {}", p.body);
    }
}
