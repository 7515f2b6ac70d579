// Shared by both backends (see README.md beside this file).

#[async_trait::async_trait]
impl UserStore for Backend {
    async fn upsert_user(&self, user: &NewUser, at: DateTime<Utc>) -> StoreResult<Upserted> {
        portcullis_store::validate::text(&user.issuer)?;
        if user.issuer.is_empty() {
            return Err(StoreError::Invalid("issuer must not be empty"));
        }
        portcullis_store::validate::sub(&user.sub)?;
        if let Some(username) = &user.username {
            portcullis_store::validate::username(username)?;
        }
        if let Some(email) = &user.email {
            portcullis_store::validate::email(email)?;
        }
        let at = portcullis_store::context::truncate_to_micros(at);
        let seen = user.seen.then_some(at);
        // A known identity, the common case: one statement, no transaction.
        let known = sqlx::query(concat!(
            "UPDATE users SET \
               username = COALESCE($3, users.username), \
               email = COALESCE($4, users.email), \
               last_seen_at = COALESCE($5, users.last_seen_at) \
             WHERE users.id = \
               (SELECT user_id FROM identities WHERE issuer = $1 AND sub = $2) \
             RETURNING ",
            user_cols!()
        ))
        .bind(&user.issuer)
        .bind(&user.sub)
        .bind(&user.username)
        .bind(&user.email)
        .bind(seen)
        .fetch_optional(self.write_pool())
        .await
        .map_err(db_err)?;
        if let Some(row) = known {
            return Ok(Upserted {
                user: user_from(&row)?,
                created: false,
            });
        }
        let id = UserId::new();
        let mut tx = self.begin_write().await.map_err(db_err)?;
        // One upsert, so concurrent first sightings of the same (issuer, sub) all land on the
        // one row: the loser of the race takes the DO UPDATE branch instead of failing. Whether
        // this call created the row is read off the id: only the insert carries ours.
        let row = sqlx::query(concat!(
            "INSERT INTO users (id, issuer, sub, username, email, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (issuer, sub) DO UPDATE SET \
               username = COALESCE(excluded.username, users.username), \
               email = COALESCE(excluded.email, users.email), \
               last_seen_at = COALESCE(excluded.last_seen_at, users.last_seen_at) \
             RETURNING ",
            user_cols!()
        ))
        .bind(id.0)
        .bind(&user.issuer)
        .bind(&user.sub)
        .bind(&user.username)
        .bind(&user.email)
        .bind(at)
        .bind(seen)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let created = user_from(&row)?;
        // The identity row of the user just upserted; the no-op update makes RETURNING name
        // the owner when the identity is already there.
        let owner = sqlx::query(
            "INSERT INTO identities (issuer, sub, user_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (issuer, sub) DO UPDATE SET user_id = identities.user_id \
             RETURNING user_id",
        )
        .bind(&user.issuer)
        .bind(&user.sub)
        .bind(created.id.0)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let owner: UserId = get::<Uuid>(&owner, "user_id")?.into();
        if owner != created.id {
            // The identity was linked to another user between the first statement and this
            // transaction: it is theirs, and the row upserted here is not kept.
            tx.rollback().await.map_err(db_err)?;
            let user = self.get_user(owner).await?.ok_or(StoreError::NotFound)?;
            return Ok(Upserted {
                user,
                created: false,
            });
        }
        commit(tx).await?;
        Ok(Upserted {
            created: created.id == id,
            user: created,
        })
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id.0)
        .read_optional(self)
        .await
        .map_err(db_err)?;
        row.as_ref().map(user_from).transpose()
    }

    async fn get_users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.len() > portcullis_store::MAX_USERS_PER_LOOKUP {
            return Err(StoreError::Invalid("too many user ids in one lookup"));
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id IN ("
        ));
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.0);
        }
        q.push(")");
        let rows = q.build().read_all(self).await.map_err(db_err)?;
        rows.iter().map(user_from).collect()
    }

    async fn search_users(&self, text: &str, exact: bool, limit: u32) -> StoreResult<Vec<User>> {
        portcullis_store::validate::text(text)?;
        let limit = i64::from(limit.clamp(1, 100));
        let rows = if text.is_empty() {
            sqlx::query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM users ORDER BY users.created_at DESC, users.id DESC LIMIT $1"
            ))
            .bind(limit)
            .read_all(self)
            .await
        } else if exact {
            sqlx::query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM users WHERE users.username = $1 OR users.email = $1 OR users.sub = $1 \
                 ORDER BY users.created_at DESC, users.id DESC LIMIT $2"
            ))
            .bind(text)
            .bind(limit)
            .read_all(self)
            .await
        } else {
            // LIKE's own wildcards in the text are matched literally.
            let mut pattern = String::with_capacity(text.len() + 1);
            for c in text.to_ascii_lowercase().chars() {
                if matches!(c, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            pattern.push('%');
            sqlx::query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM users WHERE lower(users.username) LIKE $1 ESCAPE '\\' \
                   OR lower(users.email) LIKE $1 ESCAPE '\\' OR users.sub = $2 \
                 ORDER BY users.created_at DESC, users.id DESC LIMIT $3"
            ))
            .bind(pattern)
            .bind(text)
            .bind(limit)
            .read_all(self)
            .await
        }
        .map_err(db_err)?;
        all(&rows, user_from)
    }

    async fn find_user(&self, issuer: &str, sub: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM identities JOIN users ON users.id = identities.user_id \
             WHERE identities.issuer = $1 AND identities.sub = $2"
        ))
        .bind(issuer)
        .bind(sub)
        .read_optional(self)
        .await
        .map_err(db_err)?;
        row.as_ref().map(user_from).transpose()
    }

    async fn set_user_disabled(
        &self,
        ctx: &ChangeContext,
        id: UserId,
        disabled: bool,
    ) -> StoreResult<User> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let before = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let before = user_from(&before)?;
        let disabled_at = if disabled {
            before.disabled_at.or(Some(ctx.at))
        } else {
            None
        };
        let row = sqlx::query(concat!(
            "UPDATE users SET disabled_at = $2 WHERE id = $1 RETURNING ",
            user_cols!()
        ))
        .bind(id.0)
        .bind(disabled_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let after = user_from(&row)?;
        let ev = Event {
            org_id: None,
            action: if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            resource_type: "user",
            resource_id: Some(id.to_string()),
            changes: portcullis_store::diff::changed_fields(
                &json!({ "disabled_at": before.disabled_at }),
                &json!({ "disabled_at": after.disabled_at }),
            ),
        };
        append_in(&mut tx, ctx, ev).await?;
        commit(tx).await?;
        Ok(after)
    }
}
