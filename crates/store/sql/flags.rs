// Shared by both backends (see README.md beside this file).

async fn flag_in<'e, E>(exec: E, key: &FlagKey) -> StoreResult<Option<Flag>>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        flag_cols!(),
        " FROM feature_flags WHERE name = $1 AND \
         ((org_id IS NULL AND $2 IS NULL) OR org_id = $2)"
    ))
    .bind(&key.name)
    .bind(key.org_id.map(|o| o.0))
    .fetch_optional(exec)
    .await
    .map_err(db_err)?;
    row.as_ref().map(flag_from).transpose()
}

#[async_trait::async_trait]
impl FlagStore for Backend {
    async fn set_flag(
        &self,
        ctx: &ChangeContext,
        key: &FlagKey,
        value: &serde_json::Value,
    ) -> StoreResult<Flag> {
        portcullis_store::validate::kind(&key.name).map_err(|_| {
            StoreError::Invalid("flag names are 1 to 64 of a-z, 0-9, '_', '.', '-'")
        })?;
        portcullis_store::validate::data(value)?;
        let mut tx = self.begin_write().await.map_err(db_err)?;
        if let Some(org) = key.org_id {
            require_live_org(&mut tx, org).await?;
        }
        let before = flag_in(&mut *tx, key).await?;
        // The conflict target must name the partial unique index that applies.
        let sql = if key.org_id.is_some() {
            concat!(
                "INSERT INTO feature_flags (name, org_id, value, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (name, org_id) WHERE org_id IS NOT NULL DO UPDATE SET \
                 value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at RETURNING ",
                flag_cols!()
            )
        } else {
            concat!(
                "INSERT INTO feature_flags (name, org_id, value, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (name) WHERE org_id IS NULL DO UPDATE SET \
                 value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at RETURNING ",
                flag_cols!()
            )
        };
        let row = sqlx::query(sql)
            .bind(&key.name)
            .bind(key.org_id.map(|o| o.0))
            .bind(value)
            .bind(ctx.actor.map(|u| u.0))
            .bind(ctx.at)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let after = flag_from(&row)?;
        let ev = Event {
            org_id: key.org_id,
            action: "flag.set",
            resource_type: "flag",
            resource_id: Some(key.name.clone()),
            changes: json!({ "value": { "before": before.map(|f| f.value), "after": after.value } }),
        };
        append_in(&mut tx, ctx, ev).await?;
        commit(tx).await?;
        Ok(after)
    }

    async fn get_flag(&self, key: &FlagKey) -> StoreResult<Option<Flag>> {
        let mut read = self.lane().take(self.read()).await.map_err(db_err)?;
        let flag = flag_in(read.conn(), key).await?;
        read.keep();
        Ok(flag)
    }

    async fn list_flags(&self) -> StoreResult<Vec<Flag>> {
        // Global values (NULL org) first within each name, on both backends.
        let rows = sqlx::query(concat!(
            "SELECT ",
            flag_cols!(),
            " FROM feature_flags ORDER BY name, CASE WHEN org_id IS NULL THEN 0 ELSE 1 END, org_id"
        ))
        .read_all(self)
        .await
        .map_err(db_err)?;
        all(&rows, flag_from)
    }
}
