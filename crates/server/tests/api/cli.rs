//! The built binary: exit codes and messages an operator sees.

use crate::support::binary::{portcullis, stderr};

#[test]
fn serve_without_provider_exits_2_naming_the_variable() {
    let o = portcullis(&["serve"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("PORTCULLIS_AUTH__PROVIDER"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn invalid_listen_exits_2_naming_the_variable() {
    let o = portcullis(&["serve"], &[("PORTCULLIS_LISTEN", "nonsense")]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("invalid configuration: PORTCULLIS_LISTEN: invalid socket address"),
        "{err}"
    );
}

#[test]
fn check_config_prints_redacted_config() {
    let env = [
        ("PORTCULLIS_AUTH__PROVIDER", "oidc"),
        ("PORTCULLIS_AUTH__ISSUER", "https://idp.example.com"),
        ("PORTCULLIS_AUTH__AUDIENCES", "api,other"),
        (
            "PORTCULLIS_DATABASE_URL",
            "postgres://app:hunter2@db/portcullis",
        ),
        ("PORTCULLIS_REDIS_URL", "redis://:redispw@cache:6379"),
        (
            "PORTCULLIS_CLUSTER_SECRET",
            "clusterpw-clusterpw-clusterpw-clusterpw",
        ),
    ];
    for format in ["toml", "json"] {
        let o = portcullis(&["check-config", "--format", format], &env);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            !out.contains("hunter2") && !out.contains("redispw") && !out.contains("clusterpw"),
            "{out}"
        );
        assert!(out.contains("postgres://app:***@db/portcullis"), "{out}");
        assert!(out.contains("other"), "{out}");
    }
}

#[test]
fn check_config_exits_2_on_unknown_toml_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("p.toml");
    std::fs::write(&file, "lisen = \"127.0.0.1:1\"\n").expect("write");
    let path = file.to_str().expect("utf-8 path");
    let o = portcullis(&["--config", path, "check-config", "--dev"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("lisen"), "{}", stderr(&o));
}

#[test]
fn migrate_is_idempotent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/m.db", dir.path().display());
    for _ in 0..2 {
        let o = portcullis(&["migrate"], &[("PORTCULLIS_DATABASE_URL", &url)]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}

#[test]
fn check_config_warns_when_reads_skip_the_revocation_check() {
    let env = [("PORTCULLIS_FLAGS__REVOCATION_CHECK_READS", "false")];
    let o = portcullis(&["check-config", "--dev"], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: flags.revocation_check_reads is false"),
        "{}",
        stderr(&o)
    );
    let o = portcullis(&["check-config", "--dev"], &[]);
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));
}

#[test]
fn secrets_come_from_files_and_a_bad_file_exits_2_naming_the_variable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    std::fs::write(&db, "postgres://app:hunter2@db/portcullis\n").expect("write");
    let db = db.to_str().expect("utf-8 path");
    let o = portcullis(
        &["check-config", "--dev", "--format", "json"],
        &[("PORTCULLIS_DATABASE_URL_FILE", db)],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("postgres://app:***@db/portcullis"), "{out}");
    assert!(!out.contains("hunter2"), "{out}");

    let missing = dir.path().join("missing");
    let missing = missing.to_str().expect("utf-8 path");
    let o = portcullis(
        &["check-config", "--dev"],
        &[("PORTCULLIS_DATABASE_URL_FILE", missing)],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with("invalid configuration: PORTCULLIS_DATABASE_URL_FILE: cannot read"),
        "{err}"
    );

    let o = portcullis(
        &["check-config", "--dev"],
        &[
            ("PORTCULLIS_DATABASE_URL_FILE", db),
            ("PORTCULLIS_DATABASE_URL", "sqlite:///srv/other.db"),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("PORTCULLIS_DATABASE_URL and PORTCULLIS_DATABASE_URL_FILE"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}
