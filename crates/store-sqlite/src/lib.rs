//! SQLite backend of the Portcullis store: the embedded default for one instance.
//!
//! SQLite allows one writer at a time. Rather than let several pooled connections race for the
//! write lock (and fail with `SQLITE_BUSY` when a deferred transaction tries to upgrade), all
//! writes go through a pool of exactly one connection that opens `BEGIN IMMEDIATE`
//! transactions; reads use a separate pool of read-only connections, which WAL mode lets run
//! alongside the writer.
#![forbid(unsafe_code)]

use portcullis_store::{ConnectOptions, StoreError, StoreResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

const MIGRATIONS: &[portable::Migration] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "identities_and_links",
        include_str!("../migrations/0002_identities_and_links.sql"),
    ),
    (
        3,
        "users_lookup",
        include_str!("../migrations/0003_users_lookup.sql"),
    ),
];

#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    lane: std::sync::Arc<portable::Lane>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    pub const NAME: &'static str = "sqlite";
    const AUDIT_CHAIN_LOCK: Option<&'static str> = None;
    /// Locks one org row for the rest of the transaction.
    const LOCK_ORG: &'static str = "SELECT id FROM organizations WHERE id = $1";
    const MIGRATION_LOCK: Option<&'static str> = None;

    /// Opens (creating if needed) the database file named by a `sqlite://path` URL, and its
    /// directory. In-memory databases are refused: the two pools would see two databases.
    pub async fn connect(url: &str, opts: &ConnectOptions) -> StoreResult<Self> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::Invalid(
                "in-memory SQLite databases are not supported",
            ));
        }
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|_| StoreError::Invalid("not a valid sqlite:// URL"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(dir) = base.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(StoreError::unavailable)?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(base.clone())
            .await
            .map_err(portable::db_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(base.read_only(true))
            .await
            .map_err(portable::db_err)?;
        let lane = portable::Lane::beside(opts.max_connections.max(1));
        Ok(Self {
            writer,
            reader,
            lane: std::sync::Arc::new(lane),
        })
    }

    /// Brings the schema up to date; safe to run at every start.
    pub async fn migrate(&self) -> StoreResult<()> {
        portable::run_migrations(self, MIGRATIONS).await
    }

    /// Runs one statement outside every rule the store keeps (audit rows, validation). For tests
    /// that must tamper with the database the way an intruder would, and for repair scripts.
    pub async fn execute_raw_sql(&self, sql: &str) -> StoreResult<u64> {
        let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(self.write_pool())
            .await
            .map_err(portable::db_err)?;
        Ok(done.rows_affected())
    }

    fn read(&self) -> &SqlitePool {
        &self.reader
    }

    fn lane(&self) -> &portable::Lane {
        &self.lane
    }

    /// How many connections the read lane holds right now (for tests and diagnostics).
    pub fn lane_held(&self) -> usize {
        self.lane.held()
    }

    fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }
}

/// The SQL implementation shared with the PostgreSQL backend (`crates/store/sql/README.md`).
mod portable {
    use super::SqliteStore as Backend;
    type Db = sqlx::Sqlite;

    include!("../../store/sql/errors.rs");
    include!("../../store/sql/rows.rs");
    include!("../../store/sql/lane.rs");
    include!("../../store/sql/audit.rs");
    include!("../../store/sql/migrate.rs");
    include!("../../store/sql/users.rs");
    include!("../../store/sql/orgs.rs");
    include!("../../store/sql/members.rs");
    include!("../../store/sql/links.rs");
    include!("../../store/sql/resources.rs");
    include!("../../store/sql/revocations.rs");
    include!("../../store/sql/flags.rs");
    include!("../../store/sql/changes.rs");
    include!("../../store/sql/health.rs");
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_store::{NewUser, UserStore};

    /// Users provisioned before identities existed keep signing in as themselves: the
    /// migration gives each their identity.
    #[tokio::test]
    async fn users_from_before_identities_keep_their_identity() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/m.db", dir.path().display());
        let store = SqliteStore::connect(&url, &ConnectOptions::default())
            .await
            .expect("open");
        portable::run_migrations(&store, &MIGRATIONS[..1])
            .await
            .expect("the first schema");
        let id = portcullis_store::UserId::new();
        store
            .execute_raw_sql(&format!(
                "INSERT INTO users (id, issuer, sub, created_at) \
                 VALUES (X'{}', 'https://old.test', 'alice', '2026-01-01T00:00:00Z')",
                id.0.simple()
            ))
            .await
            .expect("a user of the first schema");
        store.migrate().await.expect("the rest");
        let found = store
            .find_user("https://old.test", "alice")
            .await
            .expect("find");
        assert_eq!(found.map(|u| u.id), Some(id));
        let again = store
            .upsert_user(
                &NewUser {
                    issuer: "https://old.test".into(),
                    sub: "alice".into(),
                    username: None,
                    email: None,
                    seen: true,
                },
                chrono::Utc::now(),
            )
            .await
            .expect("sign in");
        assert!(!again.created);
        assert_eq!(again.user.id, id);
    }
}
