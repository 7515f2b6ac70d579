//! One server trusting four issuers at once, each with its provider's token shape: every
//! issuer's tokens are accepted, each issuer's admin roles make a platform admin, and a token
//! naming one issuer but signed by another is refused. And `portcullis token --profile` mints
//! tokens of those shapes.

use crate::support::TestApp;
use crate::support::binary::{Killed, command, free_port, minted, printed_tokens};
use portcullis::config::{IssuerConfig, IssuerProfile};
use portcullis_dev_issuer::{
    ControlledIssuer, DEFAULT_AUDIENCE, DEFAULT_TENANT_ID, DevIssuer, LoopbackIssuer, Shape,
    TokenSpec,
};
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;

struct Issuers {
    cognito: LoopbackIssuer,
    entra: LoopbackIssuer,
    auth0: LoopbackIssuer,
    keycloak: ControlledIssuer,
}

impl Issuers {
    async fn start() -> Self {
        Self {
            cognito: LoopbackIssuer::start().await.expect("cognito"),
            entra: LoopbackIssuer::start_at(&format!("/{DEFAULT_TENANT_ID}/v2.0"))
                .await
                .expect("entra"),
            auth0: LoopbackIssuer::start_at("/").await.expect("auth0"),
            keycloak: ControlledIssuer::start_at("/realms/main")
                .await
                .expect("keycloak"),
        }
    }

    /// Each issuer, the shape of its tokens, and the role its entry makes a platform admin.
    fn each(&self) -> [(&'static str, &Arc<DevIssuer>, Shape, &'static str); 4] {
        [
            (
                "cognito",
                &self.cognito.issuer,
                Shape::Cognito,
                "portcullis-admin",
            ),
            (
                "entra",
                &self.entra.issuer,
                Shape::Entra,
                "Portcullis.Admin",
            ),
            ("auth0", &self.auth0.issuer, Shape::Auth0, "admin:platform"),
            (
                "keycloak",
                &self.keycloak.issuer,
                Shape::Keycloak,
                "platform-admin",
            ),
        ]
    }

    fn config(&self) -> Vec<IssuerConfig> {
        let entry = |profile, issuer: &DevIssuer| IssuerConfig {
            profile: Some(profile),
            issuer: Some(issuer.issuer_url().to_owned()),
            ..IssuerConfig::default()
        };
        vec![
            IssuerConfig {
                client_ids: vec!["portcullis-dev".into(), "mobile".into()],
                ..entry(IssuerProfile::Cognito, &self.cognito.issuer)
            },
            IssuerConfig {
                tenant_id: Some(DEFAULT_TENANT_ID.into()),
                audiences: vec![DEFAULT_AUDIENCE.into()],
                admin_roles: Some(vec!["Portcullis.Admin".into()]),
                ..entry(IssuerProfile::Entra, &self.entra.issuer)
            },
            IssuerConfig {
                audiences: vec![DEFAULT_AUDIENCE.into()],
                admin_roles: Some(vec!["admin:platform".into()]),
                ..entry(IssuerProfile::Auth0, &self.auth0.issuer)
            },
            IssuerConfig {
                audiences: vec![DEFAULT_AUDIENCE.into()],
                admin_roles: Some(vec!["platform-admin".into()]),
                ..entry(IssuerProfile::Keycloak, &self.keycloak.issuer)
            },
        ]
    }

    async fn app(&self) -> TestApp {
        let issuers = self.config();
        let app = TestApp::sqlite()
            .with_config(move |c| {
                c.auth.provider = None;
                c.auth.allow_http_issuer = true;
                c.auth.issuers = issuers;
            })
            .start()
            .await;
        app.wait_ready().await;
        app
    }
}

fn token(issuer: &DevIssuer, shape: Shape, sub: &str, roles: &[&str]) -> String {
    issuer.mint_access(
        &TokenSpec::new(sub)
            .username(sub)
            .shape(shape)
            .groups(roles.iter().copied()),
    )
}

#[tokio::test]
async fn every_issuer_is_accepted_with_its_own_admin_roles() {
    let idps = Issuers::start().await;
    let app = idps.app().await;
    for (name, issuer, shape, admin_role) in idps.each() {
        let user = app.bearer(&token(issuer, shape, &format!("{name}-user"), &[]));
        let me = user.get("/v1/me").expect(200).await;
        assert_eq!(me["issuer"], issuer.issuer_url(), "{name}");
        assert_eq!(user.get("/v1/admin/flags").status().await, 403, "{name}");
        // Another issuer's admin role is only a role name here.
        let foreign = if admin_role == "portcullis-admin" {
            "Portcullis.Admin"
        } else {
            "portcullis-admin"
        };
        let pretender = app.bearer(&token(issuer, shape, &format!("{name}-pre"), &[foreign]));
        assert_eq!(
            pretender.get("/v1/admin/flags").status().await,
            403,
            "{name}"
        );
        let admin = app.bearer(&token(
            issuer,
            shape,
            &format!("{name}-admin"),
            &[admin_role],
        ));
        assert_eq!(admin.get("/v1/admin/flags").status().await, 200, "{name}");
    }
}

#[tokio::test]
async fn a_token_signed_by_another_issuers_key_is_refused() {
    let idps = Issuers::start().await;
    let app = idps.app().await;
    let keycloak = &idps.keycloak.issuer;
    let entra = &idps.entra.issuer;
    // Keycloak's claims, signed by Entra's key under Entra's kid: Keycloak has no such key.
    let spec = TokenSpec::new("mallory")
        .shape(Shape::Keycloak)
        .groups(["platform-admin"])
        .claim("iss", keycloak.issuer_url());
    assert_eq!(app.bearer(&entra.mint_access(&spec)).me().await, 401);
    // The same, borrowing Keycloak's kid: the signature does not verify with Keycloak's key.
    let claims = Value::Object(keycloak.access_claims(&spec));
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": keycloak.current_kid()});
    assert_eq!(
        app.bearer(&entra.sign_raw(&header, &claims)).me().await,
        401
    );
    // Signed by its own issuer, the same claims pass.
    assert_eq!(app.bearer(&keycloak.mint_access(&spec)).me().await, 200);
}

#[tokio::test]
async fn the_client_ids_flag_leaves_audience_matched_issuers_alone() {
    let idps = Issuers::start().await;
    let app = idps.app().await;
    let admin = app.bearer(&token(
        &idps.cognito.issuer,
        Shape::Cognito,
        "root",
        &["portcullis-admin"],
    ));
    admin
        .set_flag("auth.client_ids", json!({"value": ["mobile"]}))
        .await;
    // Cognito's tokens of the dropped client are refused; Entra's, which carry no
    // `client_id`, are matched by audience and still accepted.
    let web = token(&idps.cognito.issuer, Shape::Cognito, "web", &[]);
    assert_eq!(app.bearer(&web).me().await, 401);
    let entra = token(&idps.entra.issuer, Shape::Entra, "ella", &[]);
    assert_eq!(app.bearer(&entra).me().await, 200);
}

/// `portcullis token --profile entra` mints what Entra sends; a server trusting the dev issuer
/// as an Entra tenant accepts it, roles and all.
#[tokio::test]
async fn token_profile_mints_a_shape_another_profile_accepts() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let dev = command(dir.path(), port, &["dev"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dev starts");
    let mut dev = Killed(dev);
    let _ = printed_tokens(&mut dev.0);
    let dev_issuer = format!("http://127.0.0.1:{port}/dev-issuer");
    let app = TestApp::sqlite()
        .with_config(move |c| {
            c.auth.provider = None;
            c.auth.allow_http_issuer = true;
            c.auth.issuers = vec![IssuerConfig {
                profile: Some(IssuerProfile::Entra),
                issuer: Some(dev_issuer),
                tenant_id: Some(DEFAULT_TENANT_ID.into()),
                audiences: vec![DEFAULT_AUDIENCE.into()],
                admin_roles: Some(vec!["Portcullis.Admin".into()]),
                ..IssuerConfig::default()
            }];
        })
        .start()
        .await;
    app.wait_ready().await;
    let mint = |args: &[&str]| {
        let mut all = vec!["token", "--profile", "entra"];
        all.extend_from_slice(args);
        minted(&mut command(dir.path(), port, &all))
    };
    let admin = app.bearer(&mint(&["--sub", "ella", "--groups", "Portcullis.Admin"]));
    assert_eq!(admin.get("/v1/admin/flags").status().await, 200);
    // Cognito's shape, the default, has no `aud` and no `tid`: not an Entra token.
    let cognito = minted(&mut command(dir.path(), port, &["token", "--sub", "ella"]));
    assert_eq!(app.bearer(&cognito).me().await, 401);
    let other_tenant = mint(&["--tenant", "00000000-0000-4000-8000-000000000000"]);
    assert_eq!(app.bearer(&other_tenant).me().await, 401);
    let unknown = command(dir.path(), port, &["token", "--profile", "ping"])
        .output()
        .expect("runs");
    assert_eq!(unknown.status.code(), Some(2));
}

/// `portcullis dev` with a file listing the dev issuer among `[[auth.issuers]]` prints an
/// admin token that carries the dev entry's own admin role.
#[tokio::test]
async fn dev_prints_an_admin_token_with_the_dev_entrys_admin_role() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let file = dir.path().join("portcullis.toml");
    std::fs::write(
        &file,
        "[[auth.issuers]]\nprofile = \"dev\"\nadmin_roles = [\"ops\"]\n",
    )
    .expect("config file");
    let dev = command(
        dir.path(),
        port,
        &["--config", file.to_str().expect("utf-8 path"), "dev"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("dev starts");
    let mut dev = Killed(dev);
    let (admin, member) = printed_tokens(&mut dev.0);
    let flags = |token: String| async move {
        crate::support::binary::get_with(port, "/v1/admin/flags", &token)
            .await
            .status()
    };
    assert_eq!(flags(admin).await, 200);
    assert_eq!(flags(member).await, 403);
}
