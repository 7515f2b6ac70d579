// Shared by both backends (see README.md beside this file).

type Tx = sqlx::Transaction<'static, Db>;

/// What one audited change says about itself; the context adds who, when and under which request.
struct Event<'a> {
    org_id: Option<OrgId>,
    action: &'a str,
    resource_type: &'a str,
    resource_id: Option<String>,
    changes: serde_json::Value,
}

/// Appends one row to the hash chain inside the caller's transaction, so the change and its
/// audit row commit or roll back together. The chain head is read under the backend's chain
/// lock (PostgreSQL) or the single write transaction (SQLite), so concurrent writers cannot fork it.
async fn append_in(tx: &mut Tx, ctx: &ChangeContext, ev: Event<'_>) -> StoreResult<()> {
    if let Some(lock) = Backend::AUDIT_CHAIN_LOCK {
        sqlx::query(lock).execute(&mut **tx).await.map_err(db_err)?;
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
    let (prev_seq, prev_hash) = match head {
        Some(row) => (get::<i64>(&row, "seq")?, get::<String>(&row, "hash")?),
        None => (0, GENESIS_HASH.to_owned()),
    };
    let fields = ChainFields {
        seq: prev_seq + 1,
        id: AuditId::new(),
        occurred_at: ctx.at,
        actor_id: ctx.actor,
        org_id: ev.org_id,
        action: ev.action,
        resource_type: ev.resource_type,
        resource_id: ev.resource_id.as_deref(),
        changes: &ev.changes,
        request_id: &ctx.request_id,
    };
    let hash = row_hash(&prev_hash, &fields);
    sqlx::query(
        "INSERT INTO audit_log (seq, id, occurred_at, actor_id, org_id, action, resource_type, \
         resource_id, changes, request_id, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(fields.seq)
    .bind(fields.id.0)
    .bind(fields.occurred_at)
    .bind(fields.actor_id.map(|u| u.0))
    .bind(fields.org_id.map(|o| o.0))
    .bind(fields.action)
    .bind(fields.resource_type)
    .bind(fields.resource_id)
    .bind(fields.changes)
    .bind(fields.request_id)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn commit(tx: Tx) -> StoreResult<()> {
    tx.commit().await.map_err(db_err)
}

#[async_trait::async_trait]
impl AuditStore for Backend {
    async fn append_audit(&self, ctx: &ChangeContext, entry: &NewAuditEntry) -> StoreResult<()> {
        portcullis_store::validate::json_text(&entry.changes)?;
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let ev = Event {
            org_id: entry.org_id,
            action: &entry.action,
            resource_type: &entry.resource_type,
            resource_id: entry.resource_id.clone(),
            changes: entry.changes.clone(),
        };
        append_in(&mut tx, ctx, ev).await?;
        commit(tx).await
    }

    async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: &PageRequest<i64>,
    ) -> StoreResult<Page<AuditEntry, i64>> {
        let mut q = sqlx::QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            audit_cols!(),
            " FROM audit_log WHERE 1 = 1"
        ));
        if let Some(org) = filter.org_id {
            q.push(" AND org_id = ").push_bind(org.0);
        }
        if let Some(action) = &filter.action {
            q.push(" AND action = ").push_bind(action.clone());
        }
        if let Some(rid) = &filter.resource_id {
            q.push(" AND resource_id = ").push_bind(rid.clone());
        }
        if let Some(actor) = filter.actor_id {
            q.push(" AND actor_id = ").push_bind(actor.0);
        }
        if let Some(since) = filter.since {
            q.push(" AND occurred_at >= ").push_bind(since);
        }
        if let Some(until) = filter.until {
            q.push(" AND occurred_at < ").push_bind(until);
        }
        if let Some(after) = page.after {
            q.push(" AND seq < ").push_bind(after);
        }
        q.push(" ORDER BY seq DESC LIMIT ")
            .push_bind(page.fetch_limit());
        fill_page(self, q.build(), page, audit_from, |e| e.seq).await
    }

    async fn audit_after(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_cols!(),
            " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after_seq)
        .bind(i64::from(limit))
        .read_all(self)
        .await
        .map_err(db_err)?;
        all(&rows, audit_from)
    }
}
