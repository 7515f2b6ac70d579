//! Operator commands that work on the database directly: `purge`, `audit verify|export` and
//! `users link`.
//!
//! They open the database named by the configuration (the standard profile, like `migrate`)
//! and never change its schema: a database that was never migrated is an error that says to
//! run `portcullis migrate`, not something these commands fix behind the operator's back.

pub mod audit;
pub mod purge;
pub mod users;

use crate::config::Config;
use crate::database::Database;
use anyhow::{Context, bail};
use portcullis_store::StoreError;
use std::time::Duration;

/// `--older-than`: the forms `portcullis token --ttl` accepts (`90s`, `15m`, `8h`, `30d`, or
/// plain seconds), and small enough that "now minus it" is a date.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let d = crate::dev_tokens::parse_ttl(s)?;
    chrono::TimeDelta::from_std(d)
        .ok()
        .and_then(|delta| chrono::Utc::now().checked_sub_signed(delta))
        .map(|_| d)
        .ok_or_else(|| format!("invalid duration {s:?}: too long"))
}

/// Opens the configured database and checks that its schema exists, without migrating it.
pub async fn open(config: &Config) -> anyhow::Result<Database> {
    let url = &config.database_url.0;
    // Opening a SQLite file creates it: a mistyped path would leave an empty database behind
    // and then fail anyway, so a missing file is reported first.
    if url.scheme() == "sqlite"
        && let Some(path) = sqlite_path(url.expose())
        && !path.exists()
    {
        bail!(
            "database file {} does not exist (run `portcullis migrate` to create it)",
            path.display()
        );
    }
    let db = Database::connect(&config.database_url, &config.connect_options())
        .await
        .context("opening the database")?;
    let probe = "SELECT version FROM portcullis_migrations WHERE 1 = 0";
    let checked = match &db {
        Database::Sqlite(s) => s.execute_raw_sql(probe).await,
        Database::Postgres(s) => s.execute_raw_sql(probe).await,
    };
    match checked {
        Ok(_) => Ok(db),
        Err(e @ StoreError::Unavailable(_)) => {
            Err(anyhow::Error::new(e).context("connecting to the database"))
        }
        Err(_) => {
            bail!("the database {url} has no Portcullis schema (run `portcullis migrate` first)",)
        }
    }
}

/// The file a `sqlite:` URL names, if it names one (best effort: `sqlite://path?opts`).
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    (!path.is_empty()).then(|| std::path::PathBuf::from(path))
}

/// The request id that ties an operator run's audit rows together.
pub fn request_id(command: &str) -> String {
    format!("{command}-{}", uuid::Uuid::now_v7())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age("90s"), Ok(Duration::from_secs(90)));
        for bad in ["", "0d", "30x", "-1d", "1.5d", "9999999999999d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite:///tmp/p.db?mode=rwc"),
            Some("/tmp/p.db".into())
        );
        assert_eq!(
            sqlite_path("sqlite://./.portcullis/p.db"),
            Some("./.portcullis/p.db".into())
        );
        assert_eq!(sqlite_path("sqlite:p.db"), Some("p.db".into()));
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
