//! `portcullis dev-fault`: the same faults from a shell, against a running `portcullis dev`.

use crate::support::TestApp;
use crate::support::binary::{portcullis, stderr, stdout};
use serde_json::Value;

async fn run(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        portcullis(&args, &[])
    })
    .await
    .expect("the command ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_applies_a_fault_and_prints_the_state() {
    let app = TestApp::sqlite().dev_mode().start().await;
    let url = app.url("");
    let out = run(vec![
        "dev-fault".into(),
        "--url".into(),
        url.clone(),
        "tokens".into(),
        "not-yet-valid".into(),
        "--count".into(),
        "3".into(),
    ])
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let state: Value = serde_json::from_str(&stdout(&out)).expect("JSON state");
    assert_eq!(state["tokens"]["kind"], "not-yet-valid");
    assert_eq!(state["tokens"]["remaining"], 3);
    assert_eq!(super::state(&app).await["tokens"]["remaining"], 3);

    let out = run(vec![
        "dev-fault".into(),
        "--url".into(),
        url.clone(),
        "status".into(),
    ])
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"signing_kid\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_fault_or_no_dev_server_fails_with_a_message() {
    let app = TestApp::sqlite().dev_mode().start().await;
    let out = run(vec![
        "dev-fault".into(),
        "--url".into(),
        app.url(""),
        "jwks".into(),
        "sideways".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/kind is unavailable, hang or ok"),
        "{}",
        stderr(&out)
    );

    // A server without the faults endpoint (serve mode).
    let serve = TestApp::sqlite().start().await;
    let out = run(vec![
        "dev-fault".into(),
        "--url".into(),
        serve.url(""),
        "clear".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));
}
