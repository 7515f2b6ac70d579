//! One security change read back from the audit log: what an instance must apply to its
//! in-memory view and caches to decide as the database would.

use chrono::{DateTime, Utc};
use portcullis_store::{AuditEntry, OrgId, RevocationKind, RevokedToken, UserId};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum SecurityChange {
    TokenRevoked(RevokedToken),
    /// Every session of the user that started up to `before` is revoked.
    UserCutoff {
        user: UserId,
        before: DateTime<Utc>,
    },
    /// The user's status (disable, enable) or memberships changed.
    UserChanged(UserId),
    /// An org was deleted, restored or purged: the memberships of many users changed.
    OrgChanged(OrgId),
    FlagChanged {
        name: String,
        org: Option<OrgId>,
    },
}

/// A row the feed selected but cannot read: written by hand or by a newer version. The caller
/// reloads everything from the tables themselves rather than skip it.
#[derive(Debug, thiserror::Error)]
#[error("audit row {seq} ({action}) cannot be read as a security change: {why}")]
pub struct Unreadable {
    pub seq: i64,
    pub action: String,
    pub why: &'static str,
}

impl SecurityChange {
    /// The change an audit row records; `Ok(None)` for rows that change nothing an instance
    /// keeps in memory.
    pub fn from_audit(row: &AuditEntry) -> Result<Option<Self>, Unreadable> {
        let fail = |why| Unreadable {
            seq: row.seq,
            action: row.action.clone(),
            why,
        };
        let id = || {
            row.resource_id
                .as_deref()
                .ok_or_else(|| fail("no resource id"))
        };
        let user = || -> Result<UserId, Unreadable> {
            id()?
                .parse()
                .map_err(|_| fail("resource id is not a user id"))
        };
        let time = |field: &str| -> Result<DateTime<Utc>, Unreadable> {
            row.changes
                .get(field)
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| fail("missing or malformed time"))
        };
        let change = match (row.action.as_str(), row.resource_type.as_str()) {
            ("session.revoke", kind) => {
                let kind = RevocationKind::parse(kind).ok_or_else(|| fail("unknown kind"))?;
                SecurityChange::TokenRevoked(RevokedToken {
                    kind,
                    value: id()?.to_owned(),
                    expires_at: time("expires_at")?,
                })
            }
            ("session.revoke_all", _) => SecurityChange::UserCutoff {
                user: user()?,
                before: time("revoked_before")?,
            },
            (_, "user") | (_, "membership") => SecurityChange::UserChanged(user()?),
            ("org.delete" | "org.restore" | "org.purge" | "org.link", _) => {
                SecurityChange::OrgChanged(
                    id()?
                        .parse()
                        .map_err(|_| fail("resource id is not an org id"))?,
                )
            }
            ("flag.set", _) => SecurityChange::FlagChanged {
                name: id()?.to_owned(),
                org: row.org_id,
            },
            _ => return Ok(None),
        };
        Ok(Some(change))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_store::AuditId;
    use serde_json::json;

    fn row(action: &str, kind: &str, id: Option<&str>, changes: Value) -> AuditEntry {
        AuditEntry {
            seq: 7,
            id: AuditId::new(),
            occurred_at: Utc::now(),
            actor_id: None,
            org_id: None,
            action: action.into(),
            resource_type: kind.into(),
            resource_id: id.map(str::to_owned),
            changes,
            request_id: "r".into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn audit_rows_read_back_as_changes() {
        let user = UserId::new();
        let t = "2026-11-29T12:00:00Z";
        let at: DateTime<Utc> = t.parse().expect("time");
        let got = SecurityChange::from_audit(&row(
            "session.revoke",
            "origin_jti",
            Some("abc"),
            json!({ "expires_at": t }),
        ))
        .expect("readable");
        assert_eq!(
            got,
            Some(SecurityChange::TokenRevoked(RevokedToken {
                kind: RevocationKind::OriginJti,
                value: "abc".into(),
                expires_at: at,
            }))
        );
        let id = user.to_string();
        let got = SecurityChange::from_audit(&row(
            "session.revoke_all",
            "user",
            Some(&id),
            json!({ "revoked_before": t }),
        ))
        .expect("readable");
        assert_eq!(got, Some(SecurityChange::UserCutoff { user, before: at }));
        let got = SecurityChange::from_audit(&row(
            "membership.remove",
            "membership",
            Some(&id),
            json!({}),
        ))
        .expect("readable");
        assert_eq!(got, Some(SecurityChange::UserChanged(user)));
        let got =
            SecurityChange::from_audit(&row("resource.update", "resource", Some(&id), json!({})))
                .expect("readable");
        assert_eq!(got, None);
    }

    #[test]
    fn a_row_that_cannot_be_read_is_an_error_not_a_skip() {
        for bad in [
            row("session.revoke", "jti", Some("x"), json!({})),
            row(
                "session.revoke",
                "nonsense",
                Some("x"),
                json!({ "expires_at": "2026-11-29T12:00:00Z" }),
            ),
            row(
                "session.revoke_all",
                "user",
                Some("not-a-uuid"),
                json!({ "revoked_before": "2026-11-29T12:00:00Z" }),
            ),
            row("user.disable", "user", None, json!({})),
        ] {
            assert!(SecurityChange::from_audit(&bad).is_err(), "{}", bad.action);
        }
    }
}
