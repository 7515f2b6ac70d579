//! Running the built `portcullis` binary, as an operator or a newcomer does: no `PORTCULLIS_*`
//! variable inherited from the test's environment, in a directory of the test's.

use super::app::client;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary in `dir`, with nothing of the test's environment that would configure it.
fn bare(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("PORTCULLIS_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs `portcullis {args}` with `env` in a fresh temporary directory, so nothing is written
/// into the repository.
pub fn portcullis(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    bare(dir.path())
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

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

/// `portcullis {args}` in `dir`, listening on `port` (metrics on a port of the OS's).
pub fn command(dir: &Path, port: u16, args: &[&str]) -> Command {
    let mut cmd = bare(dir);
    cmd.args(args)
        .env("PORTCULLIS_LISTEN", format!("127.0.0.1:{port}"))
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

/// A token from `portcullis token` with the dev issuer's key in `dir`.
pub fn mint(dir: &Path, port: u16, sub: &str) -> String {
    minted(command(dir, port, &["token", "--sub", sub]).env("PORTCULLIS_AUTH__PROVIDER", "dev"))
}

/// A child process killed (and reaped) when dropped, whatever the test's outcome.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `portcullis serve` with the dev issuer in `dir`, logging at `info` to `stderr`, once ready.
pub async fn serve_binary(dir: &Path, port: u16, metrics_port: u16, stderr: Stdio) -> Killed {
    let child = command(dir, port, &["serve"])
        .env("PORTCULLIS_AUTH__PROVIDER", "dev")
        .env("PORTCULLIS_LOG", "info")
        .env(
            "PORTCULLIS_METRICS_LISTEN",
            format!("127.0.0.1:{metrics_port}"),
        )
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("serve starts");
    let child = Killed(child);
    let http = client();
    for _ in 0..200 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status() == 200
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("serve did not become ready");
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

/// A process's own HTTP API (one started with [`command`]), with `token`.
pub async fn get_with(port: u16, path: &str, token: &str) -> reqwest::Response {
    client()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}
