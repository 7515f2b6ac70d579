//! `serve` logs one JSON line per request with its id, route, status, latency, user and
//! rejection reason, and no token, however it was sent.

use super::bad_signature;
use crate::support::binary::{free_port, mint, serve_binary};
use crate::support::client;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

const SECRET_GARBAGE: &str = "not-a-jwt-SECRET-VALUE-4f1c";

/// What a `serve` process logged for a few requests, and what those requests were.
struct Logged {
    /// Every line, up to the process's exit.
    lines: Vec<String>,
    /// The token of the successful request.
    valid: String,
    /// The token sent in the query string, and with a broken signature.
    other: String,
    /// The successful request's id and user.
    ok_id: String,
    user_id: String,
}

/// Runs `serve`, makes one successful request and three refused ones (a token in the query
/// string, a garbage token, a token with a bad signature; the last two also as a cookie), then
/// stops it with SIGTERM and reads its log.
async fn serve_and_log() -> Logged {
    let dir = tempfile::tempdir().expect("dir");
    let (port, metrics_port) = (free_port(), free_port());
    let valid = mint(dir.path(), port, "log-alice");
    let other = mint(dir.path(), port, "log-bob");
    let mut child = serve_binary(dir.path(), port, metrics_port, Stdio::piped()).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = client();

    let ok = http
        .get(format!("{base}/v1/me"))
        .bearer_auth(&valid)
        .send()
        .await
        .expect("me");
    assert_eq!(ok.status(), 200);
    let ok_id = ok.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    let user_id = ok.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("user id")
        .to_owned();
    let in_query = http
        .get(format!("{base}/v1/me?access_token={other}&x=1"))
        .send()
        .await
        .expect("query");
    assert_eq!(in_query.status(), 401);
    for t in [SECRET_GARBAGE.to_owned(), bad_signature(&other)] {
        let res = http
            .get(format!("{base}/v1/me"))
            .bearer_auth(&t)
            .header("cookie", format!("session={t}"))
            .send()
            .await
            .expect("me");
        assert_eq!(res.status(), 401);
    }

    // SIGTERM, as an orchestrator stops it: the log is written in batches, and a graceful stop
    // must write every pending line before the process exits.
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let status = child.0.wait().expect("wait");
    assert!(status.success(), "serve exited with {status}");
    let err = child.0.stderr.take().expect("stderr");
    let lines = BufReader::new(err).lines().map_while(Result::ok).collect();
    Logged {
        lines,
        valid,
        other,
        ok_id,
        user_id,
    }
}

fn json_lines(log: &[String]) -> Vec<Value> {
    log.iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[tokio::test]
async fn serve_access_log_never_has_a_token_and_is_complete_at_exit() {
    let logged = serve_and_log().await;
    let all = logged.lines.join("\n");
    for (what, secret) in [
        ("the valid token", logged.valid.as_str()),
        ("the query-string token", logged.other.as_str()),
        ("the garbage token", SECRET_GARBAGE),
    ] {
        assert!(!all.contains(secret), "{what} is in the log:\n{all}");
        // Nor any of its parts (a signature alone is still a piece of the token).
        for part in secret.split('.').filter(|p| p.len() > 16) {
            assert!(!all.contains(part), "part of {what} is in the log:\n{all}");
        }
    }
    let lines = json_lines(&logged.lines);
    assert_eq!(
        lines.last().map(|l| l["fields"]["message"].clone()),
        Some(serde_json::json!("stopped")),
        "the last line logged before exit was not written"
    );
}

#[tokio::test]
async fn serve_access_log_has_request_id_route_status_latency_user_and_reason() {
    let logged = serve_and_log().await;
    let all = logged.lines.join("\n");
    let lines = json_lines(&logged.lines);
    let access: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    let ok_id = &logged.ok_id;
    let line = access
        .iter()
        .find(|l| l["fields"]["request_id"] == ok_id.as_str())
        .unwrap_or_else(|| panic!("no access line for {ok_id}:\n{all}"));
    let f = &line["fields"];
    assert_eq!(f["route"], "/v1/me");
    assert_eq!(f["method"], "GET");
    assert_eq!(f["status"], 200);
    assert_eq!(f["user_id"], logged.user_id.as_str());
    assert!(f["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{f}");
    let reasons: Vec<&str> = access
        .iter()
        .filter_map(|l| l["fields"]["reason"].as_str())
        .collect();
    for r in ["token_in_query", "malformed", "bad_signature"] {
        assert!(reasons.contains(&r), "{r} not logged: {reasons:?}");
    }
}
