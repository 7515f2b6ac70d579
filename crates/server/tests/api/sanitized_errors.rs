//! A database failure in the middle of a request: the client gets a generic 500 problem
//! document with a request id and nothing else; the log line under that id has the cause.

use crate::support::binary::{Killed, command, free_port, get_with, printed_tokens};
use crate::support::{Caller, assert_problem};
use portcullis_store::ConnectOptions;
use std::io::Read;
use std::process::Stdio;

#[tokio::test]
async fn database_failure_is_a_generic_500_and_the_cause_is_logged_under_its_request_id() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let child = command(dir.path(), port, &["dev"])
        .env("PORTCULLIS_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dev starts");
    let mut child = Killed(child);
    let (owner, _) = printed_tokens(&mut child.0);
    let org = Caller::at(&format!("http://127.0.0.1:{port}"), &owner)
        .create_org("Acme")
        .await;

    // Break the schema behind the server's back.
    let url = format!(
        "sqlite://{}/.portcullis/portcullis.db",
        dir.path().display()
    );
    let store = portcullis_store_sqlite::SqliteStore::connect(&url, &ConnectOptions::default())
        .await
        .expect("open");
    store
        .execute_raw_sql("ALTER TABLE resources RENAME TO resources_gone")
        .await
        .expect("rename");

    let res = get_with(port, &format!("/v1/orgs/{org}/resources"), &owner).await;
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("request id")
        .to_owned();
    let body = assert_problem(res, 500).await;
    let text = body.to_string().to_lowercase();
    for leak in [
        "resources",
        "sqlite",
        "sqlx",
        "table",
        "select",
        "error returned",
        "no such",
    ] {
        assert!(!text.contains(leak), "the body leaks {leak:?}: {text}");
    }

    // Stop the server and read what it logged.
    let _ = child.0.kill();
    let mut log = String::new();
    if let Some(mut err) = child.0.stderr.take() {
        let _ = err.read_to_string(&mut log);
    }
    let line = log
        .lines()
        .find(|l| l.contains(&request_id) && l.contains("request failed"))
        .unwrap_or_else(|| panic!("no log line for {request_id} in:\n{log}"));
    assert!(
        line.contains("no such table"),
        "the cause is in the log: {line}"
    );
}
