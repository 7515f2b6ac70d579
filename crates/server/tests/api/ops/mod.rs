//! `portcullis purge` and `portcullis audit verify|export` through the real binary, on a
//! database prepared in-process with the store.

mod audit_export;
mod audit_verify;
mod fixture;
mod purge;
mod refusals;

use crate::support::binary::{portcullis, stderr, stdout};
use std::process::Output;

/// `portcullis {args}` on the database at `db_url`.
fn run(args: &[&str], db_url: &str) -> Output {
    portcullis(args, &[("PORTCULLIS_DATABASE_URL", db_url)])
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
}

/// The `head: <seq>:<hash>` line of a successful `audit verify`.
fn printed_head(o: &Output) -> String {
    stdout(o)
        .lines()
        .find_map(|l| l.strip_prefix("head: "))
        .expect("verify prints the head")
        .to_owned()
}

/// The `audit log broken at row ...` lines of a failed `audit verify`, without that prefix.
fn broken_rows(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter_map(|l| l.strip_prefix("audit log broken at row "))
        .map(str::to_owned)
        .collect()
}
