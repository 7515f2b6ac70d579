//! PostgreSQL backend of the Portcullis store: for N stateless instances sharing one database.
#![forbid(unsafe_code)]

pub mod testdb;

use portcullis_store::{ConnectOptions, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;

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
pub struct PgStore {
    pool: PgPool,
    lane: std::sync::Arc<portable::Lane>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    pub const NAME: &'static str = "postgres";
    /// Appends to the audit hash chain are serialized by a transaction-scoped advisory lock:
    /// two transactions reading the same chain head would otherwise fork the chain.
    const AUDIT_CHAIN_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7041990001)");
    /// Locks one org row for the rest of the transaction.
    const LOCK_ORG: &'static str = "SELECT id FROM organizations WHERE id = $1 FOR UPDATE";
    const MIGRATION_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7041990002)");

    /// Builds the pool without connecting: the server starts even while the database is down,
    /// and reports not-ready until it answers. Only a malformed URL fails here.
    pub fn connect(url: &str, opts: &ConnectOptions) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Invalid("not a valid postgres:// URL"))?
            .application_name("portcullis");
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(opts.acquire_timeout)
            // No ping before every checkout: it doubles the round trips of every query. A
            // connection that died with the server fails its next query instead (one 503), and
            // the pool replaces it.
            .test_before_acquire(false)
            .connect_lazy_with(options);
        let lane = portable::Lane::beside(opts.max_connections);
        Ok(Self {
            pool,
            lane: std::sync::Arc::new(lane),
        })
    }

    /// Brings the schema up to date; safe to run at every start, from several instances at once.
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

    fn read(&self) -> &PgPool {
        &self.pool
    }

    fn lane(&self) -> &portable::Lane {
        &self.lane
    }

    /// How many connections the read lane holds right now (for tests and diagnostics).
    pub fn lane_held(&self) -> usize {
        self.lane.held()
    }

    fn write_pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

/// The SQL implementation shared with the SQLite backend (`crates/store/sql/README.md`).
mod portable {
    use super::PgStore as Backend;
    type Db = sqlx::Postgres;

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
