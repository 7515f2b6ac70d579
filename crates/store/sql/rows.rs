// Shared by both backends (see README.md beside this file).
// Column lists are macros so that they can be spliced into `concat!`ed, 'static SQL.

use chrono::{DateTime, Utc};
use portcullis_store::audit_chain::{ChainFields, GENESIS_HASH, row_hash};
use portcullis_store::*;
use serde_json::json;
use sqlx::Row as _;
use uuid::Uuid;

type DbRow = <Db as sqlx::Database>::Row;

macro_rules! user_cols {
    () => {
        "users.id, users.issuer, users.sub, users.username, users.email, users.disabled_at, users.created_at, users.last_seen_at"
    };
}
macro_rules! org_cols {
    () => {
        "organizations.id, organizations.name, organizations.created_by, organizations.created_at, organizations.deleted_at, organizations.deleted_by"
    };
}
macro_rules! resource_cols {
    () => {
        "resources.id, resources.org_id, resources.owner_id, resources.kind, resources.name, resources.data, resources.version, resources.created_at, resources.updated_at, resources.deleted_at, resources.deleted_by"
    };
}
macro_rules! audit_cols {
    () => {
        "audit_log.seq, audit_log.id, audit_log.occurred_at, audit_log.actor_id, audit_log.org_id, audit_log.action, audit_log.resource_type, audit_log.resource_id, audit_log.changes, audit_log.request_id, audit_log.prev_hash, audit_log.hash"
    };
}
macro_rules! flag_cols {
    () => {
        "feature_flags.name, feature_flags.org_id, feature_flags.value, feature_flags.updated_by, feature_flags.updated_at"
    };
}

/// Reads a page's rows through the read lane as they arrive, keeping rows only until the page
/// is complete (by count, or by the request's byte budget), so that a page of large rows is
/// never held whole beyond its budget. The rest of the statement's rows (at most the page's
/// fetch limit) are read and dropped, so that the connection ends the statement cleanly and
/// stays in the lane.
async fn fill_page<'q, A, T, K, R>(
    b: &Backend,
    q: sqlx::query::Query<'q, Db, A>,
    req: &PageRequest<R>,
    from: impl Fn(&DbRow) -> StoreResult<T>,
    key: impl Fn(&T) -> K,
) -> StoreResult<Page<T, K>>
where
    A: 'q + sqlx::IntoArguments<Db> + Send,
    T: serde::Serialize,
{
    use futures_util::TryStreamExt as _;
    let mut ticket = b.lane().take(b.read()).await.map_err(db_err)?;
    let mut page = portcullis_store::page::PageBuilder::new(req);
    {
        let mut rows = q.fetch(ticket.conn());
        let mut complete = false;
        while let Some(row) = rows.try_next().await.map_err(db_err)? {
            if complete {
                continue;
            }
            if page.is_full() {
                // The look-ahead row: it says there is a next page, and is not decoded.
                page.more();
                complete = true;
            } else if !page.push(from(&row)?) {
                complete = true;
            }
        }
    }
    ticket.keep();
    Ok(page.finish(key))
}

fn get<'r, T>(row: &'r DbRow, col: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    row.try_get(col).map_err(db_err)
}

/// Column `i` of a row whose query selected one of the `*_cols!()` lists first: read by
/// position, since a lookup by name hashes the name, for every column of every row of a page.
/// The name is checked in debug builds, where every test runs.
fn col<'r, T>(row: &'r DbRow, i: usize, name: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    debug_assert_eq!(
        row.columns().get(i).map(sqlx::Column::name),
        Some(name),
        "column {i} of the row"
    );
    row.try_get(i).map_err(db_err)
}

fn role(row: &DbRow) -> StoreResult<Role> {
    let s: String = get(row, "role")?;
    s.parse()
        .map_err(|_| StoreError::internal(format!("role column holds {s:?}")))
}

fn user_from(row: &DbRow) -> StoreResult<User> {
    Ok(User {
        id: col::<Uuid>(row, 0, "id")?.into(),
        issuer: col(row, 1, "issuer")?,
        sub: col(row, 2, "sub")?,
        username: col(row, 3, "username")?,
        email: col(row, 4, "email")?,
        disabled_at: col(row, 5, "disabled_at")?,
        created_at: col(row, 6, "created_at")?,
        last_seen_at: col(row, 7, "last_seen_at")?,
    })
}

fn org_from(row: &DbRow) -> StoreResult<Org> {
    Ok(Org {
        id: get::<Uuid>(row, "id")?.into(),
        name: get(row, "name")?,
        created_by: get::<Uuid>(row, "created_by")?.into(),
        created_at: get(row, "created_at")?,
        deleted_at: get(row, "deleted_at")?,
        deleted_by: get::<Option<Uuid>>(row, "deleted_by")?.map(Into::into),
    })
}

fn org_with_role_from(row: &DbRow) -> StoreResult<OrgWithRole> {
    Ok(OrgWithRole {
        org: org_from(row)?,
        role: role(row)?,
    })
}

fn membership_from(row: &DbRow) -> StoreResult<Membership> {
    Ok(Membership {
        org_id: get::<Uuid>(row, "org_id")?.into(),
        user_id: get::<Uuid>(row, "user_id")?.into(),
        role: role(row)?,
        created_at: get(row, "created_at")?,
    })
}

fn member_from(row: &DbRow) -> StoreResult<Member> {
    Ok(Member {
        user_id: get::<Uuid>(row, "user_id")?.into(),
        sub: get(row, "sub")?,
        username: get(row, "username")?,
        email: get(row, "email")?,
        role: role(row)?,
        created_at: get(row, "created_at")?,
    })
}

fn summary_from(row: &DbRow) -> StoreResult<MembershipSummary> {
    Ok(MembershipSummary {
        org_id: get::<Uuid>(row, "org_id")?.into(),
        org_name: get(row, "org_name")?,
        role: role(row)?,
    })
}

fn resource_from(row: &DbRow) -> StoreResult<Resource> {
    Ok(Resource {
        id: col::<Uuid>(row, 0, "id")?.into(),
        org_id: col::<Uuid>(row, 1, "org_id")?.into(),
        owner_id: col::<Uuid>(row, 2, "owner_id")?.into(),
        kind: col(row, 3, "kind")?,
        name: col(row, 4, "name")?,
        data: col(row, 5, "data")?,
        version: col(row, 6, "version")?,
        created_at: col(row, 7, "created_at")?,
        updated_at: col(row, 8, "updated_at")?,
        deleted_at: col(row, 9, "deleted_at")?,
        deleted_by: col::<Option<Uuid>>(row, 10, "deleted_by")?.map(Into::into),
    })
}

fn audit_from(row: &DbRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        seq: col(row, 0, "seq")?,
        id: col::<Uuid>(row, 1, "id")?.into(),
        occurred_at: col(row, 2, "occurred_at")?,
        actor_id: col::<Option<Uuid>>(row, 3, "actor_id")?.map(Into::into),
        org_id: col::<Option<Uuid>>(row, 4, "org_id")?.map(Into::into),
        action: col(row, 5, "action")?,
        resource_type: col(row, 6, "resource_type")?,
        resource_id: col(row, 7, "resource_id")?,
        changes: col(row, 8, "changes")?,
        request_id: col(row, 9, "request_id")?,
        prev_hash: col(row, 10, "prev_hash")?,
        hash: col(row, 11, "hash")?,
    })
}

fn flag_from(row: &DbRow) -> StoreResult<Flag> {
    Ok(Flag {
        name: get(row, "name")?,
        org_id: get::<Option<Uuid>>(row, "org_id")?.map(Into::into),
        value: get(row, "value")?,
        updated_by: get::<Option<Uuid>>(row, "updated_by")?.map(Into::into),
        updated_at: get::<DateTime<Utc>>(row, "updated_at")?,
    })
}

fn all<T>(rows: &[DbRow], f: impl Fn(&DbRow) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}
