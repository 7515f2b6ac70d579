//! `portcullis dev` and `portcullis token` as a newcomer uses them: the real binary, its printed
//! tokens, and a request made with one of them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago (the binary must listen on a port known in advance,
/// because the dev issuer's URL, and so every token's `iss`, names it).
///
/// Chosen below Linux's ephemeral range (32768 and up), where the in-process test servers get
/// their port-0 listeners: asking the OS for a port 0 here could hand out a port that another
/// test's server takes before the binary binds it.
pub fn free_port() -> u16 {
    for _ in 0..1000 {
        let port = 20_000 + (uuid::Uuid::now_v7().as_u128() % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000");
}

pub fn command(dir: &std::path::Path, port: u16, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("PORTCULLIS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("PORTCULLIS_LISTEN", format!("127.0.0.1:{port}"))
        .env("PORTCULLIS_METRICS_LISTEN", "127.0.0.1:0");
    cmd
}

/// Runs a `portcullis token` command, which must succeed; its output, the token.
pub fn minted(cmd: &mut Command) -> String {
    let out = cmd.output().expect("token runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads the child's stdout until both printed tokens appear.
pub fn printed_tokens(child: &mut Child) -> (String, String) {
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining after the tokens are found: closing the pipe early would make the
        // child's next write fail.
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut admin, mut member) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while admin.is_none() || member.is_none() {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("dev prints its tokens");
        let line = line.trim();
        if let Some(t) = line.strip_prefix("ADMIN_TOKEN=") {
            admin = Some(t.to_owned());
        }
        if let Some(t) = line.strip_prefix("MEMBER_TOKEN=") {
            member = Some(t.to_owned());
        }
    }
    (admin.unwrap_or_default(), member.unwrap_or_default())
}

async fn me(port: u16, token: &str) -> reqwest::Response {
    crate::helpers::client()
        .get(format!("http://127.0.0.1:{port}/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

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

    let res = me(port, &member).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["sub"], "dev-member");
    assert_eq!(
        body["issuer"],
        format!("http://127.0.0.1:{port}/dev-issuer")
    );
    assert_eq!(me(port, &admin).await.status(), 200);
    for probe in ["/healthz", "/readyz"] {
        let res = crate::helpers::client()
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
    let res = me(port, &token).await;
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
