// Shared by both backends (see README.md beside this file).

/// One schema change, embedded in the binary: (version, name, SQL).
pub(crate) type Migration = (i64, &'static str, &'static str);

/// Applies the migrations that are not yet recorded, in one write transaction taken under the
/// backend's migration lock, so two instances starting at once cannot both apply a version.
/// Running it again is a no-op.
pub(crate) async fn run_migrations(store: &Backend, migrations: &[Migration]) -> StoreResult<()> {
    let mut tx = store.begin_write().await.map_err(db_err)?;
    if let Some(lock) = Backend::MIGRATION_LOCK {
        sqlx::query(lock).execute(&mut *tx).await.map_err(db_err)?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS portcullis_migrations \
         (version BIGINT PRIMARY KEY NOT NULL, name TEXT NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM portcullis_migrations")
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get::<i64>(r, "version"))
        .collect::<StoreResult<_>>()?;
    for (version, name, sql) in migrations {
        if applied.contains(version) {
            continue;
        }
        tracing::info!(version, name, backend = Backend::NAME, "applying migration");
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("INSERT INTO portcullis_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    commit(tx).await
}
