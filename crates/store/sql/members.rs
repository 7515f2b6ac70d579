// Shared by both backends (see README.md beside this file).

async fn membership_in(tx: &mut Tx, org: OrgId, user: UserId) -> StoreResult<Option<Membership>> {
    let row = sqlx::query(
        "SELECT org_id, user_id, role, created_at FROM memberships WHERE org_id = $1 AND user_id = $2",
    )
    .bind(org.0)
    .bind(user.0)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    row.as_ref().map(membership_from).transpose()
}

/// Opens a membership change: locks the org row (PostgreSQL; SQLite's write transaction is
/// exclusive already) before anything is read, so every role read below, and the decision
/// taken on it, holds until the change commits. Concurrent changes to the org wait in line.
async fn lock_live_org(tx: &mut Tx, org: OrgId) -> StoreResult<()> {
    sqlx::query(Backend::LOCK_ORG)
        .bind(org.0)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    require_live_org(tx, org).await
}

/// The role `by` holds, read under the org lock (`None`: a platform admin). A caller who is no
/// longer a member is answered as if the org did not exist, as the HTTP guard would.
async fn manager_role(tx: &mut Tx, org: OrgId, by: MemberManager) -> StoreResult<Option<Role>> {
    match by {
        MemberManager::PlatformAdmin => Ok(None),
        MemberManager::Member(user) => match membership_in(tx, org, user).await? {
            Some(m) => Ok(Some(m.role)),
            None => Err(StoreError::NotFound),
        },
    }
}

/// Whether a manager with `role` (`None`: a platform admin) may grant, change or take away
/// `held`.
fn may_assign(role: Option<Role>, held: Role) -> StoreResult<()> {
    match role {
        Some(r) if !r.may_assign(held) => Err(StoreError::Forbidden(
            "the caller's role does not allow managing this role",
        )),
        _ => Ok(()),
    }
}

/// Refuses to leave an org without an owner. Runs after [`lock_live_org`], so two owners
/// demoting each other at once cannot both win, and `before` is the role as it is now.
async fn keep_an_owner(
    tx: &mut Tx,
    org: OrgId,
    before: Role,
    after: Option<Role>,
) -> StoreResult<()> {
    if before != Role::Owner || after == Some(Role::Owner) {
        return Ok(());
    }
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE org_id = $1 AND role = 'owner'")
            .bind(org.0)
            .fetch_one(&mut **tx)
            .await
            .map_err(db_err)?;
    if get::<i64>(&row, "n")? <= 1 {
        return Err(StoreError::Conflict("an org must keep at least one owner"));
    }
    Ok(())
}

/// Locks the org, reads the manager's role and the target's membership, then checks that the
/// manager may change the target's current role (and grant `after`, if given) and that the
/// org keeps an owner. Returns the target's membership as it was.
async fn authorize_change(
    tx: &mut Tx,
    by: MemberManager,
    org: OrgId,
    user: UserId,
    after: Option<Role>,
) -> StoreResult<Membership> {
    lock_live_org(tx, org).await?;
    let manager = manager_role(tx, org, by).await?;
    let before = membership_in(tx, org, user)
        .await?
        .ok_or(StoreError::NotFound)?;
    may_assign(manager, before.role)?;
    if let Some(role) = after {
        may_assign(manager, role)?;
    }
    keep_an_owner(tx, org, before.role, after).await?;
    Ok(before)
}

/// Membership changes are only made in live orgs.
async fn require_live_org(tx: &mut Tx, org: OrgId) -> StoreResult<()> {
    match org_in(tx, org).await? {
        Some(o) if o.deleted_at.is_none() => Ok(()),
        _ => Err(StoreError::NotFound),
    }
}

fn membership_event(
    org: OrgId,
    user: UserId,
    action: &'static str,
    changes: serde_json::Value,
) -> Event<'static> {
    Event {
        org_id: Some(org),
        action,
        resource_type: "membership",
        resource_id: Some(user.to_string()),
        changes,
    }
}

#[async_trait::async_trait]
impl MembershipStore for Backend {
    async fn add_member(
        &self,
        ctx: &ChangeContext,
        by: MemberManager,
        org: OrgId,
        user: UserId,
        role: Role,
    ) -> StoreResult<Membership> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        lock_live_org(&mut tx, org).await?;
        let manager = manager_role(&mut tx, org, by).await?;
        may_assign(manager, role)?;
        let row = sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING org_id, user_id, role, created_at",
        )
        .bind(org.0)
        .bind(user.0)
        .bind(role.as_str())
        .bind(ctx.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict_or("already a member"))?;
        let m = membership_from(&row)?;
        let changes = portcullis_store::diff::created(&json!({ "role": role }));
        append_in(
            &mut tx,
            ctx,
            membership_event(org, user, "membership.add", changes),
        )
        .await?;
        commit(tx).await?;
        Ok(m)
    }

    async fn set_member_role(
        &self,
        ctx: &ChangeContext,
        by: MemberManager,
        org: OrgId,
        user: UserId,
        role: Role,
    ) -> StoreResult<Membership> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let before = authorize_change(&mut tx, by, org, user, Some(role)).await?;
        let row = sqlx::query(
            "UPDATE memberships SET role = $3, source = 'manual' \
             WHERE org_id = $1 AND user_id = $2 \
             RETURNING org_id, user_id, role, created_at",
        )
        .bind(org.0)
        .bind(user.0)
        .bind(role.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let after = membership_from(&row)?;
        let changes = portcullis_store::diff::changed_fields(
            &json!({ "role": before.role }),
            &json!({ "role": after.role }),
        );
        append_in(
            &mut tx,
            ctx,
            membership_event(org, user, "membership.role", changes),
        )
        .await?;
        commit(tx).await?;
        Ok(after)
    }

    async fn remove_member(
        &self,
        ctx: &ChangeContext,
        by: MemberManager,
        org: OrgId,
        user: UserId,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let before = authorize_change(&mut tx, by, org, user, None).await?;
        sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let changes =
            portcullis_store::diff::changed_fields(&json!({ "role": before.role }), &json!({}));
        append_in(
            &mut tx,
            ctx,
            membership_event(org, user, "membership.remove", changes),
        )
        .await?;
        commit(tx).await
    }

    async fn get_membership(&self, org: OrgId, user: UserId) -> StoreResult<Option<Membership>> {
        let row = sqlx::query(
            "SELECT memberships.org_id, memberships.user_id, memberships.role, memberships.created_at \
             FROM memberships JOIN organizations ON organizations.id = memberships.org_id \
             WHERE memberships.org_id = $1 AND memberships.user_id = $2 \
               AND organizations.deleted_at IS NULL",
        )
        .bind(org.0)
        .bind(user.0)
        .read_optional(self)
        .await
        .map_err(db_err)?;
        row.as_ref().map(membership_from).transpose()
    }

    async fn list_members(&self, org: OrgId, page: &PageRequest) -> StoreResult<Page<Member>> {
        let rows = sqlx::query(
            "SELECT memberships.user_id, users.sub, users.username, users.email, memberships.role, \
                    memberships.created_at \
             FROM memberships JOIN users ON users.id = memberships.user_id \
             WHERE memberships.org_id = $1 AND ($2 IS NULL OR memberships.user_id > $2) \
             ORDER BY memberships.user_id LIMIT $3",
        )
        .bind(org.0)
        .bind(page.after)
        .bind(page.fetch_limit())
        .read_all(self)
        .await
        .map_err(db_err)?;
        Ok(Page::from_rows(all(&rows, member_from)?, page, |m| {
            m.user_id.0
        }))
    }

    async fn memberships_of_user(&self, user: UserId) -> StoreResult<Vec<MembershipSummary>> {
        let rows = sqlx::query(
            "SELECT memberships.org_id, organizations.name AS org_name, memberships.role \
             FROM memberships JOIN organizations ON organizations.id = memberships.org_id \
             WHERE memberships.user_id = $1 AND organizations.deleted_at IS NULL \
             ORDER BY memberships.org_id",
        )
        .bind(user.0)
        .read_all(self)
        .await
        .map_err(db_err)?;
        all(&rows, summary_from)
    }
}
