//! `portcullis dev` and `portcullis token` as a newcomer uses them: the real binary, its printed
//! tokens, and a request made with one of them.

use crate::support::binary::{Killed, command, free_port, get_with, minted, printed_tokens};
use crate::support::client;
use std::process::Stdio;

#[tokio::test]
async fn dev_prints_working_tokens_and_keeps_state_under_dot_portcullis() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let child = command(dir.path(), port, &["dev"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dev starts");
    let mut child = Killed(child);
    let (admin, member) = printed_tokens(&mut child.0);

    let res = get_with(port, "/v1/me", &member).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["sub"], "dev-member");
    assert_eq!(
        body["issuer"],
        format!("http://127.0.0.1:{port}/dev-issuer")
    );
    assert_eq!(get_with(port, "/v1/me", &admin).await.status(), 200);
    for probe in ["/healthz", "/readyz"] {
        let res = client()
            .get(format!("http://127.0.0.1:{port}{probe}"))
            .send()
            .await
            .expect("probe");
        assert_eq!(res.status(), 200, "{probe}");
    }
    // The embedded default keeps everything in ./.portcullis/.
    assert!(dir.path().join(".portcullis/portcullis.db").exists());
    assert!(dir.path().join(".portcullis/dev-issuer-keys.json").exists());

    // A token minted by `portcullis token` with the same configuration is accepted too, and
    // its --groups, --ttl and --claim arguments land in it.
    let token = minted(&mut command(
        dir.path(),
        port,
        &[
            "token",
            "--sub",
            "carol",
            "--groups",
            "a,b",
            "--ttl",
            "10m",
            "--claim",
            "email=c@x.test",
        ],
    ));
    let res = get_with(port, "/v1/me", &token).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(
        (body["sub"].as_str(), body["email"].as_str()),
        (Some("carol"), Some("c@x.test"))
    );
}

#[test]
fn token_refuses_bad_arguments_with_exit_2() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    for args in [
        &["token", "--ttl", "2d"][..],
        &["token", "--ttl", "soon"][..],
        &["token", "--claim", "no-equals-sign"][..],
    ] {
        let out = command(dir.path(), port, args).output().expect("runs");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "no token is printed on error");
    }
}
