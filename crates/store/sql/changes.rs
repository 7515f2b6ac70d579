// Shared by both backends (see README.md beside this file).

#[async_trait::async_trait]
impl ChangeFeed for Backend {
    async fn audit_head(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS head FROM audit_log")
            .read_one(self)
            .await
            .map_err(db_err)?;
        get::<i64>(&row, "head")
    }

    async fn security_changes(
        &self,
        after: i64,
        up_to: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        // The range scan on the primary key reads only rows newer than the caller's position;
        // resource and org-create rows in that range are skipped by the filter.
        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_cols!(),
            " FROM audit_log WHERE seq > $1 AND seq <= $2 \
             AND resource_type IN ('jti', 'origin_jti', 'user', 'membership', 'org', 'flag') \
             AND action <> 'org.create' ORDER BY seq LIMIT $3"
        ))
        .bind(after)
        .bind(up_to)
        .bind(i64::from(limit))
        .read_all(self)
        .await
        .map_err(db_err)?;
        all(&rows, audit_from)
    }
}
