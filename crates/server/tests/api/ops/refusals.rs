//! What the commands refuse: malformed arguments (exit 2), and a database they would have to
//! create or migrate (exit 1).

use super::{assert_exit, run};
use crate::support::binary::stderr;

#[test]
fn invalid_durations_exit_2() {
    let url = "sqlite://never-opened.db";
    for bad in ["30x", "0d", "", "-1d", "1.5h", "99999999999999d"] {
        let o = run(&["purge", "--older-than", bad], url);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains("--older-than"), "{bad}: {}", stderr(&o));
    }
    let o = run(&["purge"], url);
    assert_exit(&o, 2);
    let o = run(&["audit", "verify", "--expect-head", "3:nothex"], url);
    assert_exit(&o, 2);
    let o = run(&["audit", "export", "--since", "yesterday"], url);
    assert_exit(&o, 2);
}

#[test]
fn commands_do_not_create_or_migrate_a_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.db");
    let url = format!("sqlite://{}", missing.display());
    for args in [
        &["purge", "--older-than", "30d"][..],
        &["audit", "verify"],
        &["audit", "export"],
    ] {
        let o = run(args, &url);
        assert_exit(&o, 1);
        assert!(stderr(&o).contains("portcullis migrate"), "{}", stderr(&o));
        assert!(!missing.exists(), "{args:?} created the file");
    }
    // An existing file without the schema.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("touch");
    let url = format!("sqlite://{}", empty.display());
    for args in [
        &["purge", "--older-than", "30d"][..],
        &["audit", "verify"],
        &["audit", "export"],
    ] {
        let o = run(args, &url);
        assert_exit(&o, 1);
        assert!(
            stderr(&o).contains("no Portcullis schema"),
            "{}",
            stderr(&o)
        );
    }
}
