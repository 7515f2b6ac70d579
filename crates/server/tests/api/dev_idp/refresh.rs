//! Refresh tokens rotate; presenting a used one revokes the family, and the API refuses the
//! family's access tokens through `origin_jti`. Revocation (RFC 7009) and logout end sessions
//! the same way.

use super::*;

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = dev_app().await;
    let first = sign_in(&app, "dev-member").await;
    let r1 = first.str("refresh_token");
    let a1 = first.str("access_token");

    let second = refresh(&app, &r1).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let (a2, r2) = (second.str("access_token"), second.str("refresh_token"));
    assert_ne!(r1, r2, "rotated");
    assert_eq!(
        claims(&a2)["origin_jti"],
        claims(&a1)["origin_jti"],
        "same family"
    );
    assert_eq!(
        claims(&a2)["auth_time"],
        claims(&a1)["auth_time"],
        "same sign-in"
    );
    assert!(second.body["id_token"].is_string());

    let third = refresh(&app, &r2).await;
    assert_eq!(third.status, 200);
    let (a3, r3) = (third.str("access_token"), third.str("refresh_token"));
    for token in [&a1, &a2, &a3] {
        assert_eq!(me(&app, token).await, 200);
    }

    // r1 again: a replay (or a thief). The family ends, here and at the API.
    assert_oauth_error(&refresh(&app, &r1).await, 400, "invalid_grant");
    for token in [&a1, &a2, &a3] {
        assert_eq!(
            me(&app, token).await,
            401,
            "the family's access tokens are refused"
        );
    }
    assert_oauth_error(&refresh(&app, &r3).await, 400, "invalid_grant");

    // Another sign-in of the same persona is another family, untouched.
    let other = sign_in(&app, "dev-member").await;
    assert_eq!(me(&app, &other.str("access_token")).await, 200);
    assert_oauth_error(&refresh(&app, "made-up").await, 400, "invalid_grant");
}

#[tokio::test]
async fn revoking_a_refresh_or_access_token_ends_its_session() {
    let app = dev_app().await;
    let one = sign_in(&app, "dev-member").await;
    let revoke = |token: String| {
        let app = &app;
        async move {
            post_form(
                app,
                "/oauth2/revoke",
                &[("token", &token), ("client_id", CLIENT)],
                None,
            )
            .await
        }
    };
    let answer = revoke(one.str("refresh_token")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(me(&app, &one.str("access_token")).await, 401);
    assert_oauth_error(
        &refresh(&app, &one.str("refresh_token")).await,
        400,
        "invalid_grant",
    );

    let two = sign_in(&app, "dev-admin").await;
    assert_eq!(revoke(two.str("access_token")).await.status, 200);
    assert_eq!(me(&app, &two.str("access_token")).await, 401);
    assert_oauth_error(
        &refresh(&app, &two.str("refresh_token")).await,
        400,
        "invalid_grant",
    );

    // An unknown token is not an error (RFC 7009 §2.2); a missing one is.
    assert_eq!(revoke("whatever".into()).await.status, 200);
    let missing = post_form(&app, "/oauth2/revoke", &[("client_id", CLIENT)], None).await;
    assert_oauth_error(&missing, 400, "invalid_request");
}

#[tokio::test]
async fn logout_ends_the_browser_session_and_returns_to_a_registered_uri() {
    let app = dev_app().await;
    let mut browser = Browser::new();
    let p = pkce();
    let code = code_for(&app, &mut browser, "dev-member", CLIENT, SPA, &p.challenge).await;
    let tokens = exchange(&app, &code, &p.verifier).await;
    let access = tokens.str("access_token");
    assert_eq!(me(&app, &access).await, 200);

    // Not a registered URI: a page, no redirect, and the session lives on.
    let bad = browser
        .get(&format!(
            "{}?client_id={CLIENT}&logout_uri=https%3A%2F%2Fevil.example%2F",
            idp(&app, "/logout")
        ))
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.headers().get("location").is_none());
    assert_eq!(me(&app, &access).await, 200);

    let res = browser
        .get(&format!(
            "{}?{}",
            idp(&app, "/logout"),
            encode(&[
                ("client_id", CLIENT),
                ("logout_uri", "http://127.0.0.1:5173/signed-out"),
                ("state", "bye")
            ])
        ))
        .await;
    assert_eq!(res.status(), 302);
    let back = location(&res);
    assert!(
        back.as_str()
            .starts_with("http://127.0.0.1:5173/signed-out")
    );
    assert_eq!(param(&back, "state").as_deref(), Some("bye"));
    assert_eq!(
        me(&app, &access).await,
        401,
        "the session's tokens are revoked"
    );
    assert_oauth_error(
        &refresh(&app, &tokens.str("refresh_token")).await,
        400,
        "invalid_grant",
    );
}
