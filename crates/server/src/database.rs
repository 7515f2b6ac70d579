//! Choosing and opening the store from the database URL's scheme.

use crate::config::DatabaseUrl;
use portcullis_store::{ConnectOptions, Store, StoreResult};
use portcullis_store_postgres::PgStore;
use portcullis_store_sqlite::SqliteStore;
use std::sync::Arc;

/// The concrete backend, kept next to the `dyn Store` because schema migration is not part of
/// the `Store` trait.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

impl Database {
    /// SQLite opens (and creates) its file here; PostgreSQL connects lazily and only fails on a
    /// malformed URL, so an unreachable server does not stop start-up.
    pub async fn connect(url: &DatabaseUrl, opts: &ConnectOptions) -> StoreResult<Self> {
        let raw = url.0.expose();
        match url.0.scheme().as_str() {
            "postgres" | "postgresql" => Ok(Self::Postgres(Arc::new(PgStore::connect(raw, opts)?))),
            // The only other scheme `DatabaseUrl` accepts.
            _ => Ok(Self::Sqlite(Arc::new(
                SqliteStore::connect(raw, opts).await?,
            ))),
        }
    }

    /// Idempotent.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Self::Sqlite(s) => s.migrate().await,
            Self::Postgres(s) => s.migrate().await,
        }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(s) => s.clone(),
            Self::Postgres(s) => s.clone(),
        }
    }

    /// A remote database may come up after us; a local file that cannot be migrated will not
    /// fix itself.
    pub fn is_remote(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}
