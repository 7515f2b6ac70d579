// Shared by both backends (see README.md beside this file).

#[async_trait::async_trait]
impl RevocationStore for Backend {
    async fn revoke_token(&self, ctx: &ChangeContext, token: &RevokedToken) -> StoreResult<()> {
        portcullis_store::validate::text(&token.value)?;
        if token.value.is_empty() || token.value.len() > 256 {
            return Err(StoreError::Invalid("token id must be 1 to 256 bytes"));
        }
        let mut tx = self.begin_write().await.map_err(db_err)?;
        // Revoking twice keeps the later expiry, so the row outlives every token it names.
        sqlx::query(
            "INSERT INTO revoked_tokens (kind, value, expires_at, revoked_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, value) DO UPDATE SET expires_at = \
               CASE WHEN excluded.expires_at > revoked_tokens.expires_at \
                    THEN excluded.expires_at ELSE revoked_tokens.expires_at END",
        )
        .bind(token.kind.as_str())
        .bind(&token.value)
        .bind(token.expires_at)
        .bind(ctx.at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let ev = Event {
            org_id: None,
            action: "session.revoke",
            resource_type: token.kind.as_str(),
            resource_id: Some(token.value.clone()),
            changes: json!({ "expires_at": token.expires_at }),
        };
        append_in(&mut tx, ctx, ev).await?;
        commit(tx).await
    }

    async fn is_revoked(
        &self,
        ids: &[(RevocationKind, &str)],
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        if ids.is_empty() {
            return Ok(false);
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT COUNT(*) AS n FROM revoked_tokens WHERE expires_at > ",
        );
        q.push_bind(now).push(" AND (");
        for (i, (kind, value)) in ids.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(kind = ")
                .push_bind(kind.as_str())
                .push(" AND value = ")
                .push_bind(value.to_string())
                .push(")");
        }
        q.push(")");
        let row = q.build().read_one(self).await.map_err(db_err)?;
        Ok(get::<i64>(&row, "n")? > 0)
    }

    async fn revoke_user_sessions(
        &self,
        ctx: &ChangeContext,
        user: UserId,
        before: DateTime<Utc>,
    ) -> StoreResult<DateTime<Utc>> {
        let before = portcullis_store::context::truncate_to_micros(before);
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let row = sqlx::query(
            "INSERT INTO user_revocations (user_id, revoked_before, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET \
               revoked_before = CASE WHEN excluded.revoked_before > user_revocations.revoked_before \
                                     THEN excluded.revoked_before ELSE user_revocations.revoked_before END, \
               updated_at = excluded.updated_at \
             RETURNING revoked_before",
        )
        .bind(user.0)
        .bind(before)
        .bind(ctx.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict_or("unknown user"))?;
        let effective: DateTime<Utc> = get(&row, "revoked_before")?;
        let ev = Event {
            org_id: None,
            action: "session.revoke_all",
            resource_type: "user",
            resource_id: Some(user.to_string()),
            changes: json!({ "revoked_before": effective }),
        };
        append_in(&mut tx, ctx, ev).await?;
        commit(tx).await?;
        Ok(effective)
    }

    async fn user_revoked_before(&self, user: UserId) -> StoreResult<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT revoked_before FROM user_revocations WHERE user_id = $1")
            .bind(user.0)
            .read_optional(self)
            .await
            .map_err(db_err)?;
        row.as_ref().map(|r| get(r, "revoked_before")).transpose()
    }

    async fn purge_expired_revocations(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(self.write_pool())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn active_revocations(&self, now: DateTime<Utc>) -> StoreResult<Vec<RevokedToken>> {
        let rows = sqlx::query(
            "SELECT kind, value, expires_at FROM revoked_tokens WHERE expires_at > $1 \
             ORDER BY kind, value",
        )
        .bind(now)
        .read_all(self)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let kind: String = get(r, "kind")?;
                Ok(RevokedToken {
                    kind: RevocationKind::parse(&kind)
                        .ok_or_else(|| StoreError::internal(format!("revocation kind {kind:?}")))?,
                    value: get(r, "value")?,
                    expires_at: get(r, "expires_at")?,
                })
            })
            .collect()
    }

    async fn user_revocations(&self) -> StoreResult<Vec<(UserId, DateTime<Utc>)>> {
        let rows =
            sqlx::query("SELECT user_id, revoked_before FROM user_revocations ORDER BY user_id")
                .read_all(self)
                .await
                .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((get::<Uuid>(r, "user_id")?.into(), get(r, "revoked_before")?)))
            .collect()
    }
}
