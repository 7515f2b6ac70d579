//! The identity provider exists only under `portcullis dev`: `serve` with the dev provider
//! keeps its warning and publishes the keys alone; with a real provider there is no dev issuer
//! at all. `portcullis dev` itself prints where to sign in.

use super::*;
use crate::support::binary::{Killed, command, free_port, serve_binary};
use portcullis_dev_issuer::LoopbackIssuer;
use std::io::Read;
use std::process::Stdio;

async fn status(method: reqwest::Method, url: &str) -> u16 {
    no_redirects()
        .request(method, url)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn assert_no_provider(app: &TestApp) {
    use reqwest::Method;
    for path in ["/oauth2/token", "/oauth2/revoke"] {
        assert_eq!(status(Method::POST, &idp(app, path)).await, 404, "{path}");
    }
    for path in ["/oauth2/userInfo", "/logout"] {
        assert_eq!(status(Method::GET, &idp(app, path)).await, 404, "{path}");
    }
    let p = pkce();
    let res = no_redirects()
        .get(authorize_url(app, CLIENT, SPA, &p.challenge, &[]))
        .send()
        .await
        .expect("authorize");
    assert_ne!(res.status(), 200, "no sign-in page");
    assert!(res.headers().get("location").is_none());
}

#[tokio::test]
async fn serve_with_the_dev_provider_publishes_keys_and_no_sign_in() {
    let app = TestApp::sqlite().start().await;
    assert_no_provider(&app).await;
    let doc: Value = no_redirects()
        .get(idp(&app, "/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert!(doc.get("token_endpoint").is_none(), "{doc}");
    let jwks = status(reqwest::Method::GET, &idp(&app, "/.well-known/jwks.json")).await;
    assert_eq!(jwks, 200);
}

#[tokio::test]
async fn a_real_provider_serves_no_dev_issuer_even_started_as_dev() {
    let issuer = LoopbackIssuer::start().await.expect("issuer");
    let app = TestApp::sqlite()
        .cognito(&issuer.issuer)
        .dev_mode()
        .start()
        .await;
    assert_no_provider(&app).await;
    let discovery = status(
        reqwest::Method::GET,
        &idp(&app, "/.well-known/openid-configuration"),
    )
    .await;
    assert_eq!(discovery, 404);
}

#[tokio::test]
async fn the_serve_binary_warns_and_the_dev_binary_offers_sign_in() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut serve = serve_binary(dir.path(), port, free_port(), Stdio::piped()).await;
    let token = no_redirects()
        .post(format!("http://127.0.0.1:{port}/dev-issuer/oauth2/token"))
        .send()
        .await
        .expect("token endpoint");
    assert_eq!(token.status(), 404);
    let _ = serve.0.kill();
    let mut stderr = String::new();
    serve
        .0
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    drop(serve);
    assert!(
        stderr.contains("serve is running with the dev issuer"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let child = command(dir.path(), port, &["dev"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dev starts");
    let mut child = Killed(child);
    let out = child.0.stdout.take().expect("stdout");
    let banner = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let done = line.contains("Stop with Ctrl-C");
            lines.push(line);
            if done {
                break;
            }
        }
        lines.join("\n")
    })
    .join()
    .expect("banner");
    assert!(
        banner.contains(&format!(
            "http://127.0.0.1:{port}/dev-issuer/.well-known/openid-configuration"
        )),
        "{banner}"
    );
    assert!(banner.contains("dev-mfa"), "{banner}");
    assert!(
        banner.contains(portcullis::config::DEFAULT_TOTP_SECRET),
        "{banner}"
    );
    let doc: Value = no_redirects()
        .get(format!(
            "http://127.0.0.1:{port}/dev-issuer/.well-known/openid-configuration"
        ))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(
        doc["token_endpoint"],
        format!("http://127.0.0.1:{port}/dev-issuer/oauth2/token")
    );
}
