// Shared by both backends (see README.md beside this file).

fn identity_from(row: &DbRow) -> StoreResult<Identity> {
    Ok(Identity {
        issuer: get(row, "issuer")?,
        sub: get(row, "sub")?,
        user_id: get::<Uuid>(row, "user_id")?.into(),
        created_at: get(row, "created_at")?,
    })
}

fn org_link_from(row: &DbRow) -> StoreResult<OrgLink> {
    Ok(OrgLink {
        org_id: get::<Uuid>(row, "org_id")?.into(),
        issuer: get(row, "issuer")?,
        claim: get(row, "claim")?,
        value: get(row, "value")?,
        role: role(row)?,
        updated_at: get(row, "updated_at")?,
    })
}

fn check_issuer(issuer: &str) -> StoreResult<()> {
    portcullis_store::validate::text(issuer)?;
    if issuer.is_empty() {
        return Err(StoreError::Invalid("issuer must not be empty"));
    }
    Ok(())
}

#[async_trait::async_trait]
impl IdentityStore for Backend {
    async fn link_identity(
        &self,
        ctx: &ChangeContext,
        user: UserId,
        issuer: &str,
        sub: &str,
    ) -> StoreResult<Identity> {
        check_issuer(issuer)?;
        portcullis_store::validate::sub(sub)?;
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let known = sqlx::query("SELECT id FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if known.is_none() {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(
            "INSERT INTO identities (issuer, sub, user_id, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING issuer, sub, user_id, created_at",
        )
        .bind(issuer)
        .bind(sub)
        .bind(user.0)
        .bind(ctx.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict_or("the identity already belongs to a user"))?;
        let identity = identity_from(&row)?;
        let ev = Event {
            org_id: None,
            action: "identity.link",
            resource_type: "user",
            resource_id: Some(user.to_string()),
            changes: portcullis_store::diff::created(&json!({ "issuer": issuer, "sub": sub })),
        };
        append_in(&mut tx, ctx, ev).await?;
        commit(tx).await?;
        Ok(identity)
    }

    async fn identities_of_user(&self, user: UserId) -> StoreResult<Vec<Identity>> {
        let rows = sqlx::query(
            "SELECT issuer, sub, user_id, created_at FROM identities WHERE user_id = $1 \
             ORDER BY issuer, sub",
        )
        .bind(user.0)
        .read_all(self)
        .await
        .map_err(db_err)?;
        all(&rows, identity_from)
    }
}

/// The user's memberships in live orgs, with who made each and whether the org has links of
/// the token's issuer (only those are judged by this token).
struct HeldMembership {
    org: OrgId,
    role: Role,
    by_link: bool,
    linked_here: bool,
}

/// What applying a token's claims would change, read in one consistent pass.
async fn link_plan(
    conn: &mut <Db as sqlx::Database>::Connection,
    user: UserId,
    issuer: &str,
    claims: &[(&str, &str)],
) -> StoreResult<Vec<LinkedChange>> {
    // Only the claims some link of this issuer names are worth sending back to the database.
    let names: Vec<String> = sqlx::query("SELECT DISTINCT claim FROM org_links WHERE issuer = $1")
        .bind(issuer)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get::<String>(r, "claim"))
        .collect::<StoreResult<_>>()?;
    let wanted: Vec<&(&str, &str)> = claims
        .iter()
        .filter(|(name, _)| names.iter().any(|n| n == name))
        .collect();
    let mut desired: std::collections::BTreeMap<OrgId, Role> = std::collections::BTreeMap::new();
    if !wanted.is_empty() {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT org_links.org_id, org_links.role FROM org_links \
             JOIN organizations ON organizations.id = org_links.org_id \
             WHERE organizations.deleted_at IS NULL AND org_links.issuer = ",
        );
        q.push_bind(issuer.to_owned()).push(" AND (");
        for (i, (name, value)) in wanted.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(org_links.claim = ")
                .push_bind((*name).to_owned())
                .push(" AND org_links.value = ")
                .push_bind((*value).to_owned())
                .push(")");
        }
        q.push(")");
        for row in q.build().fetch_all(&mut *conn).await.map_err(db_err)? {
            let org: OrgId = get::<Uuid>(&row, "org_id")?.into();
            let r = role(&row)?;
            let best = desired.entry(org).or_insert(r);
            *best = (*best).max(r);
        }
    }
    let held = sqlx::query(
        "SELECT memberships.org_id, memberships.role, memberships.source, \
                (SELECT COUNT(*) FROM org_links WHERE org_links.org_id = memberships.org_id \
                   AND org_links.issuer = $2) AS links_here \
         FROM memberships JOIN organizations ON organizations.id = memberships.org_id \
         WHERE memberships.user_id = $1 AND organizations.deleted_at IS NULL",
    )
    .bind(user.0)
    .bind(issuer)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?
    .iter()
    .map(|row| {
        Ok(HeldMembership {
            org: get::<Uuid>(row, "org_id")?.into(),
            role: role(row)?,
            by_link: get::<String>(row, "source")? == "link",
            linked_here: get::<i64>(row, "links_here")? > 0,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    let mut plan = Vec::new();
    for (org, r) in &desired {
        match held.iter().find(|m| m.org == *org) {
            None => plan.push(LinkedChange {
                org_id: *org,
                role: Some(*r),
            }),
            Some(m) if m.by_link && m.role != *r => plan.push(LinkedChange {
                org_id: *org,
                role: Some(*r),
            }),
            Some(_) => {}
        }
    }
    for m in &held {
        if m.by_link && m.linked_here && !desired.contains_key(&m.org) {
            plan.push(LinkedChange {
                org_id: m.org,
                role: None,
            });
        }
    }
    Ok(plan)
}

#[async_trait::async_trait]
impl LinkStore for Backend {
    async fn set_org_link(&self, ctx: &ChangeContext, link: &NewOrgLink) -> StoreResult<OrgLink> {
        check_issuer(&link.issuer)?;
        portcullis_store::validate::sub(&link.claim)?;
        portcullis_store::validate::sub(&link.value)?;
        if !NewOrgLink::role_allowed(link.role) {
            return Err(StoreError::Invalid("a link cannot make owners"));
        }
        let mut tx = self.begin_write().await.map_err(db_err)?;
        lock_live_org(&mut tx, link.org_id).await?;
        let before = sqlx::query(
            "SELECT role FROM org_links WHERE org_id = $1 AND issuer = $2 AND claim = $3 \
             AND value = $4",
        )
        .bind(link.org_id.0)
        .bind(&link.issuer)
        .bind(&link.claim)
        .bind(&link.value)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(role)
        .transpose()?;
        let row = sqlx::query(
            "INSERT INTO org_links (org_id, issuer, claim, value, role, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (org_id, issuer, claim, value) DO UPDATE SET \
               role = excluded.role, updated_at = excluded.updated_at \
             RETURNING org_id, issuer, claim, value, role, updated_at",
        )
        .bind(link.org_id.0)
        .bind(&link.issuer)
        .bind(&link.claim)
        .bind(&link.value)
        .bind(link.role.as_str())
        .bind(ctx.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let saved = org_link_from(&row)?;
        let name = json!({ "issuer": link.issuer, "claim": link.claim, "value": link.value });
        let changes = match before {
            None => portcullis_store::diff::created(&json!({ "link": name, "role": link.role })),
            Some(old) => json!({
                "link": name,
                "role": { "before": old, "after": link.role },
            }),
        };
        let ev = Event {
            org_id: Some(link.org_id),
            action: "org.link",
            // An org change, so the change feed carries it: instances drop cached identities
            // and the link applies at each user's next request.
            resource_type: "org",
            resource_id: Some(link.org_id.to_string()),
            changes,
        };
        append_in(&mut tx, ctx, ev).await?;
        commit(tx).await?;
        Ok(saved)
    }

    async fn link_claim_names(&self, issuer: &str) -> StoreResult<Vec<String>> {
        let rows =
            sqlx::query("SELECT DISTINCT claim FROM org_links WHERE issuer = $1 ORDER BY claim")
                .bind(issuer)
                .read_all(self)
                .await
                .map_err(db_err)?;
        rows.iter().map(|r| get::<String>(r, "claim")).collect()
    }

    async fn list_org_links(&self, org: OrgId) -> StoreResult<Vec<OrgLink>> {
        let rows = sqlx::query(
            "SELECT org_id, issuer, claim, value, role, updated_at FROM org_links \
             WHERE org_id = $1 ORDER BY issuer, claim, value",
        )
        .bind(org.0)
        .read_all(self)
        .await
        .map_err(db_err)?;
        all(&rows, org_link_from)
    }

    async fn apply_links(
        &self,
        ctx: &ChangeContext,
        user: UserId,
        issuer: &str,
        claims: &[(&str, &str)],
    ) -> StoreResult<Vec<LinkedChange>> {
        // Read first, outside a write transaction: almost every call finds nothing to change.
        let mut read = self.lane().take(self.read()).await.map_err(db_err)?;
        let nothing = link_plan(read.conn(), user, issuer, claims)
            .await?
            .is_empty();
        read.keep();
        if nothing {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let plan = link_plan(&mut tx, user, issuer, claims).await?;
        let mut done = Vec::new();
        for change in plan {
            let org = change.org_id;
            let applied = match change.role {
                Some(r) => {
                    let before = membership_in(&mut tx, org, user).await?;
                    // Only link-made rows are touched, whatever the plan read: a membership
                    // made by hand since then stays as it is, and one another instance has
                    // just made the same way is not written (or audited) twice.
                    let written = sqlx::query(
                        "INSERT INTO memberships (org_id, user_id, role, created_at, source) \
                         SELECT $1, $2, $3, $4, 'link' WHERE EXISTS \
                           (SELECT 1 FROM organizations WHERE id = $1 AND deleted_at IS NULL) \
                         ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role \
                           WHERE memberships.source = 'link' \
                             AND memberships.role <> excluded.role",
                    )
                    .bind(org.0)
                    .bind(user.0)
                    .bind(r.as_str())
                    .bind(ctx.at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                    let changes = match &before {
                        None => portcullis_store::diff::created(&json!({ "role": r })),
                        Some(m) => portcullis_store::diff::changed_fields(
                            &json!({ "role": m.role }),
                            &json!({ "role": r }),
                        ),
                    };
                    (written > 0).then_some(("membership.linked", changes))
                }
                None => {
                    let before = membership_in(&mut tx, org, user).await?;
                    let removed = sqlx::query(
                        "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2 \
                         AND source = 'link'",
                    )
                    .bind(org.0)
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                    let changes = portcullis_store::diff::changed_fields(
                        &json!({ "role": before.map(|m| m.role) }),
                        &json!({}),
                    );
                    (removed > 0).then_some(("membership.unlinked", changes))
                }
            };
            if let Some((action, changes)) = applied {
                append_in(&mut tx, ctx, membership_event(org, user, action, changes)).await?;
                done.push(change);
            }
        }
        commit(tx).await?;
        Ok(done)
    }
}
