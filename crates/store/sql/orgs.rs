// Shared by both backends (see README.md beside this file).

fn org_json(o: &Org) -> serde_json::Value {
    json!({ "name": o.name, "deleted_at": o.deleted_at, "deleted_by": o.deleted_by })
}

async fn org_in(tx: &mut Tx, id: OrgId) -> StoreResult<Option<Org>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        org_cols!(),
        " FROM organizations WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    row.as_ref().map(org_from).transpose()
}

/// Sets or clears `deleted_at`/`deleted_by` on an org that is currently in the other state.
async fn set_org_deleted(
    store: &Backend,
    ctx: &ChangeContext,
    id: OrgId,
    delete: bool,
) -> StoreResult<Org> {
    let mut tx = store.begin_write().await.map_err(db_err)?;
    let before = org_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    if before.deleted_at.is_some() == delete {
        return Err(StoreError::NotFound);
    }
    let (at, by) = if delete {
        (Some(ctx.at), ctx.actor.map(|u| u.0))
    } else {
        (None, None)
    };
    let row = sqlx::query(concat!(
        "UPDATE organizations SET deleted_at = $2, deleted_by = $3 WHERE id = $1 RETURNING ",
        org_cols!()
    ))
    .bind(id.0)
    .bind(at)
    .bind(by)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let after = org_from(&row)?;
    let ev = Event {
        org_id: Some(id),
        action: if delete { "org.delete" } else { "org.restore" },
        resource_type: "org",
        resource_id: Some(id.to_string()),
        changes: portcullis_store::diff::changed_fields(&org_json(&before), &org_json(&after)),
    };
    append_in(&mut tx, ctx, ev).await?;
    commit(tx).await?;
    Ok(after)
}

#[async_trait::async_trait]
impl OrgStore for Backend {
    async fn create_org(&self, ctx: &ChangeContext, owner: UserId, name: &str) -> StoreResult<Org> {
        portcullis_store::validate::name(name)?;
        let id = OrgId::new();
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let row = sqlx::query(concat!(
            "INSERT INTO organizations (id, name, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING ",
            org_cols!()
        ))
        .bind(id.0)
        .bind(name)
        .bind(owner.0)
        .bind(ctx.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let org = org_from(&row)?;
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.0)
        .bind(owner.0)
        .bind(Role::Owner.as_str())
        .bind(ctx.at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let created = Event {
            org_id: Some(id),
            action: "org.create",
            resource_type: "org",
            resource_id: Some(id.to_string()),
            changes: portcullis_store::diff::created(&json!({ "name": org.name })),
        };
        append_in(&mut tx, ctx, created).await?;
        let owner_added = Event {
            org_id: Some(id),
            action: "membership.add",
            resource_type: "membership",
            resource_id: Some(owner.to_string()),
            changes: portcullis_store::diff::created(&json!({ "role": Role::Owner })),
        };
        append_in(&mut tx, ctx, owner_added).await?;
        commit(tx).await?;
        Ok(org)
    }

    async fn get_org(&self, id: OrgId, include_deleted: bool) -> StoreResult<Option<Org>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            org_cols!(),
            " FROM organizations WHERE id = $1 AND ($2 OR deleted_at IS NULL)"
        ))
        .bind(id.0)
        .bind(include_deleted)
        .read_optional(self)
        .await
        .map_err(db_err)?;
        row.as_ref().map(org_from).transpose()
    }

    async fn list_orgs_for_user(
        &self,
        user: UserId,
        page: &PageRequest,
    ) -> StoreResult<Page<OrgWithRole>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            org_cols!(),
            ", memberships.role FROM memberships \
             JOIN organizations ON organizations.id = memberships.org_id \
             WHERE memberships.user_id = $1 AND organizations.deleted_at IS NULL \
               AND ($2 IS NULL OR memberships.org_id > $2) \
             ORDER BY memberships.org_id LIMIT $3"
        ))
        .bind(user.0)
        .bind(page.after)
        .bind(page.fetch_limit())
        .read_all(self)
        .await
        .map_err(db_err)?;
        Ok(Page::from_rows(
            all(&rows, org_with_role_from)?,
            page,
            |o| o.org.id.0,
        ))
    }

    async fn list_orgs(&self, page: &PageRequest) -> StoreResult<Page<Org>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            org_cols!(),
            " FROM organizations WHERE deleted_at IS NULL \
               AND ($1 IS NULL OR organizations.id > $1) \
             ORDER BY organizations.id LIMIT $2"
        ))
        .bind(page.after)
        .bind(page.fetch_limit())
        .read_all(self)
        .await
        .map_err(db_err)?;
        Ok(Page::from_rows(all(&rows, org_from)?, page, |o| o.id.0))
    }

    async fn soft_delete_org(&self, ctx: &ChangeContext, id: OrgId) -> StoreResult<Org> {
        set_org_deleted(self, ctx, id, true).await
    }

    async fn restore_org(&self, ctx: &ChangeContext, id: OrgId) -> StoreResult<Org> {
        set_org_deleted(self, ctx, id, false).await
    }

    async fn purge_orgs(&self, ctx: &ChangeContext, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        // Memberships, resources and per-org flags go with the org (ON DELETE CASCADE); the
        // audit rows stay, since the audit log has no foreign keys.
        let rows = sqlx::query(concat!(
            "DELETE FROM organizations WHERE deleted_at IS NOT NULL AND deleted_at < $1 RETURNING ",
            org_cols!()
        ))
        .bind(before)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let purged = all(&rows, org_from)?;
        for org in &purged {
            let ev = Event {
                org_id: Some(org.id),
                action: "org.purge",
                resource_type: "org",
                resource_id: Some(org.id.to_string()),
                changes: portcullis_store::diff::changed_fields(&org_json(org), &json!({})),
            };
            append_in(&mut tx, ctx, ev).await?;
        }
        commit(tx).await?;
        Ok(purged.len() as u64)
    }
}
