// Shared by both backends (see README.md beside this file).

/// A resource as its audit rows show it; `data` is compacted (a large value is kept as its
/// digest and size, `portcullis_store::diff::compact`).
fn resource_json(r: &Resource) -> serde_json::Value {
    json!({
        "kind": r.kind,
        "name": r.name,
        "data": portcullis_store::diff::compact(&r.data),
        "version": r.version,
        "deleted_at": r.deleted_at,
        "deleted_by": r.deleted_by,
    })
}

/// What an update, delete or restore changed: the fields around `data` that differ, and for
/// `data` only its changed top-level fields (`portcullis_store::diff::data_changes`).
fn resource_changes(before: &Resource, after: &Resource) -> serde_json::Value {
    let meta = |r: &Resource| {
        json!({
            "kind": r.kind,
            "name": r.name,
            "version": r.version,
            "deleted_at": r.deleted_at,
            "deleted_by": r.deleted_by,
        })
    };
    let mut changes = portcullis_store::diff::changed_fields(&meta(before), &meta(after));
    if let (Some(map), Some(data)) = (
        changes.as_object_mut(),
        portcullis_store::diff::data_changes(&before.data, &after.data),
    ) {
        map.insert("data".into(), data);
    }
    changes
}

fn resource_event(
    r: &Resource,
    action: &'static str,
    changes: serde_json::Value,
) -> Event<'static> {
    Event {
        org_id: Some(r.org_id),
        action,
        resource_type: "resource",
        resource_id: Some(r.id.to_string()),
        changes,
    }
}

async fn resource_in(tx: &mut Tx, org: OrgId, id: ResourceId) -> StoreResult<Option<Resource>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        resource_cols!(),
        " FROM resources WHERE id = $1 AND org_id = $2"
    ))
    .bind(id.0)
    .bind(org.0)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    row.as_ref().map(resource_from).transpose()
}

/// Soft-deletes (`delete == true`) or restores a resource that is in the other state, bumping
/// its version so that an `If-Match` taken before the change no longer matches.
async fn set_resource_deleted(
    store: &Backend,
    ctx: &ChangeContext,
    org: OrgId,
    id: ResourceId,
    delete: bool,
) -> StoreResult<Resource> {
    let mut tx = store.begin_write().await.map_err(db_err)?;
    let before = resource_in(&mut tx, org, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if before.deleted_at.is_some() == delete {
        return Err(StoreError::NotFound);
    }
    let (at, by) = if delete {
        (Some(ctx.at), ctx.actor.map(|u| u.0))
    } else {
        (None, None)
    };
    let row = sqlx::query(concat!(
        "UPDATE resources SET deleted_at = $3, deleted_by = $4, version = version + 1, updated_at = $5 \
         WHERE id = $1 AND org_id = $2 RETURNING ",
        resource_cols!()
    ))
    .bind(id.0)
    .bind(org.0)
    .bind(at)
    .bind(by)
    .bind(ctx.at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let after = resource_from(&row)?;
    let changes = resource_changes(&before, &after);
    let action = if delete {
        "resource.delete"
    } else {
        "resource.restore"
    };
    append_in(&mut tx, ctx, resource_event(&after, action, changes)).await?;
    commit(tx).await?;
    Ok(after)
}

#[async_trait::async_trait]
impl ResourceStore for Backend {
    async fn create_resource(
        &self,
        ctx: &ChangeContext,
        new: &NewResource,
    ) -> StoreResult<Resource> {
        portcullis_store::validate::kind(&new.kind)?;
        portcullis_store::validate::name(&new.name)?;
        portcullis_store::validate::data(&new.data)?;
        let mut tx = self.begin_write().await.map_err(db_err)?;
        require_live_org(&mut tx, new.org_id).await?;
        let row = sqlx::query(concat!(
            "INSERT INTO resources (id, org_id, owner_id, kind, name, data, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING ",
            resource_cols!()
        ))
        .bind(ResourceId::new().0)
        .bind(new.org_id.0)
        .bind(new.owner_id.0)
        .bind(&new.kind)
        .bind(&new.name)
        .bind(&new.data)
        .bind(ctx.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let r = resource_from(&row)?;
        let changes = portcullis_store::diff::created(&json!({
            "kind": r.kind,
            "name": r.name,
            "data": portcullis_store::diff::compact(&r.data),
            "owner_id": r.owner_id,
        }));
        append_in(&mut tx, ctx, resource_event(&r, "resource.create", changes)).await?;
        commit(tx).await?;
        Ok(r)
    }

    async fn get_resource(
        &self,
        org: OrgId,
        id: ResourceId,
        include_deleted: bool,
    ) -> StoreResult<Option<Resource>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            resource_cols!(),
            " FROM resources WHERE id = $1 AND org_id = $2 AND ($3 OR deleted_at IS NULL)"
        ))
        .bind(id.0)
        .bind(org.0)
        .bind(include_deleted)
        .read_optional(self)
        .await
        .map_err(db_err)?;
        row.as_ref().map(resource_from).transpose()
    }

    async fn list_resources(
        &self,
        org: OrgId,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Resource>> {
        // Built per filter combination rather than with `($n IS NULL OR ...)`, so that each
        // shape gets a plan that uses its (partial) index.
        let mut q = sqlx::QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            resource_cols!(),
            " FROM resources WHERE org_id = "
        ));
        q.push_bind(org.0);
        if !filter.include_deleted {
            q.push(" AND deleted_at IS NULL");
        }
        if let Some(kind) = &filter.kind {
            q.push(" AND kind = ").push_bind(kind.clone());
        }
        if let Some(owner) = filter.owner_id {
            q.push(" AND owner_id = ").push_bind(owner.0);
        }
        if let Some(after) = page.after {
            q.push(" AND id > ").push_bind(after);
        }
        q.push(" ORDER BY id LIMIT ").push_bind(page.fetch_limit());
        fill_page(self, q.build(), page, resource_from, |r| r.id.0).await
    }

    async fn update_resource(
        &self,
        ctx: &ChangeContext,
        org: OrgId,
        id: ResourceId,
        patch: &ResourcePatch,
        expected_version: Option<i64>,
    ) -> StoreResult<Resource> {
        if let Some(name) = &patch.name {
            portcullis_store::validate::name(name)?;
        }
        if let Some(data) = &patch.data {
            portcullis_store::validate::data(data)?;
        }
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let before = match resource_in(&mut tx, org, id).await? {
            Some(r) if r.deleted_at.is_none() => r,
            _ => return Err(StoreError::NotFound),
        };
        if let Some(expected) = expected_version
            && expected != before.version
        {
            return Err(StoreError::VersionMismatch {
                current: before.version,
            });
        }
        // The version in the WHERE clause makes the write conditional on what was read above,
        // so a concurrent writer that committed in between turns this into a mismatch rather
        // than a lost update.
        let row = sqlx::query(concat!(
            "UPDATE resources SET name = $4, data = $5, version = version + 1, updated_at = $6 \
             WHERE id = $1 AND org_id = $2 AND version = $3 AND deleted_at IS NULL RETURNING ",
            resource_cols!()
        ))
        .bind(id.0)
        .bind(org.0)
        .bind(before.version)
        .bind(patch.name.as_ref().unwrap_or(&before.name))
        .bind(patch.data.as_ref().unwrap_or(&before.data))
        .bind(ctx.at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Err(match resource_in(&mut tx, org, id).await? {
                Some(r) if r.deleted_at.is_none() => {
                    StoreError::VersionMismatch { current: r.version }
                }
                _ => StoreError::NotFound,
            });
        };
        let after = resource_from(&row)?;
        let changes = resource_changes(&before, &after);
        append_in(
            &mut tx,
            ctx,
            resource_event(&after, "resource.update", changes),
        )
        .await?;
        commit(tx).await?;
        Ok(after)
    }

    async fn soft_delete_resource(
        &self,
        ctx: &ChangeContext,
        org: OrgId,
        id: ResourceId,
    ) -> StoreResult<Resource> {
        set_resource_deleted(self, ctx, org, id, true).await
    }

    async fn restore_resource(
        &self,
        ctx: &ChangeContext,
        org: OrgId,
        id: ResourceId,
    ) -> StoreResult<Resource> {
        set_resource_deleted(self, ctx, org, id, false).await
    }

    async fn purge_resources(
        &self,
        ctx: &ChangeContext,
        before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let rows = sqlx::query(concat!(
            "DELETE FROM resources WHERE deleted_at IS NOT NULL AND deleted_at < $1 RETURNING ",
            resource_cols!()
        ))
        .bind(before)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let purged = all(&rows, resource_from)?;
        for r in &purged {
            let changes = portcullis_store::diff::changed_fields(&resource_json(r), &json!({}));
            append_in(&mut tx, ctx, resource_event(r, "resource.purge", changes)).await?;
        }
        commit(tx).await?;
        Ok(purged.len() as u64)
    }
}
