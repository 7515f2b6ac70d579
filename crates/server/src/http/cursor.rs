//! Opaque, tamper-evident page cursors. A cursor carries the keyset position (an id or an audit
//! sequence number) and a checksum binding it to the list it came from; a cursor that was
//! edited, truncated or taken from another list is refused with 422.
//!
//! Cursors are not secret and need no key shared between instances: forging one only moves the
//! start of a page inside a list the caller is already allowed to read, since every query
//! filters by org and permission regardless of the cursor.

use super::error::ApiError;
use super::input::{invalid_parameter, rules};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_store::{AuditFilter, OrgId, UserId};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const VERSION: u8 = 1;
const CHECK_LEN: usize = 8;

/// Which list a cursor belongs to: the list, whose it is, and every filter that shapes it. A
/// cursor is refused under any other scope, so each list builds its scope here, from its
/// parameters, rather than in the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(String);

impl Scope {
    /// An org's resources, of one kind or all, with or without the soft-deleted ones.
    pub fn resources(org: OrgId, kind: Option<&str>, include_deleted: bool) -> Self {
        Self(format!(
            "resources:{org}:{}:{include_deleted}",
            kind.unwrap_or("")
        ))
    }

    pub fn members(org: OrgId) -> Self {
        Self(format!("members:{org}"))
    }

    /// The orgs `user` belongs to.
    pub fn orgs(user: UserId) -> Self {
        Self(format!("orgs:{user}"))
    }

    /// The audit log under `filter`. Every field is named here, so a filter field added later
    /// does not compile until it is part of the scope; the values are JSON-encoded, so free
    /// text (an action, a resource id) cannot run into the next field.
    pub fn audit(filter: &AuditFilter) -> Self {
        let AuditFilter {
            org_id,
            action,
            resource_id,
            actor_id,
            since,
            until,
        } = filter;
        let fields = serde_json::json!({
            "org_id": org_id,
            "action": action,
            "resource_id": resource_id,
            "actor_id": actor_id,
            "since": since,
            "until": until,
        });
        Self(format!("audit:{fields}"))
    }
}

/// The checksum over the version, the list's scope and the position.
fn check(scope: &Scope, position: &[u8]) -> [u8; CHECK_LEN] {
    let scope = scope.0.as_bytes();
    let mut h = Sha256::new();
    h.update([VERSION]);
    h.update((scope.len() as u64).to_be_bytes());
    h.update(scope);
    h.update(position);
    let digest = h.finalize();
    let mut out = [0u8; CHECK_LEN];
    out.copy_from_slice(&digest[..CHECK_LEN]);
    out
}

fn encode(scope: &Scope, position: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(1 + position.len() + CHECK_LEN);
    bytes.push(VERSION);
    bytes.extend_from_slice(position);
    bytes.extend_from_slice(&check(scope, position));
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode<const N: usize>(scope: &Scope, cursor: &str) -> Result<[u8; N], ApiError> {
    let bad = || invalid_parameter("cursor", rules::CURSOR);
    if cursor.len() > 64 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    if bytes.len() != 1 + N + CHECK_LEN || bytes[0] != VERSION {
        return Err(bad());
    }
    let (position, sum) = bytes[1..].split_at(N);
    if sum != check(scope, position) {
        return Err(bad());
    }
    let mut out = [0u8; N];
    out.copy_from_slice(position);
    Ok(out)
}

pub fn encode_id(scope: &Scope, id: Uuid) -> String {
    encode(scope, id.as_bytes())
}

pub fn decode_id(scope: &Scope, cursor: &str) -> Result<Uuid, ApiError> {
    decode::<16>(scope, cursor).map(Uuid::from_bytes)
}

pub fn encode_seq(scope: &Scope, seq: i64) -> String {
    encode(scope, &seq.to_be_bytes())
}

pub fn decode_seq(scope: &Scope, cursor: &str) -> Result<i64, ApiError> {
    decode::<8>(scope, cursor).map(i64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn audit() -> AuditFilter {
        AuditFilter {
            org_id: Some(OrgId::new()),
            action: Some("resource.update".into()),
            resource_id: None,
            actor_id: None,
            since: None,
            until: None,
        }
    }

    #[test]
    fn round_trip() {
        let id = Uuid::now_v7();
        let scope = Scope::members(OrgId::new());
        assert_eq!(decode_id(&scope, &encode_id(&scope, id)).ok(), Some(id));
        let scope = Scope::audit(&audit());
        assert_eq!(decode_seq(&scope, &encode_seq(&scope, 42)).ok(), Some(42));
    }

    #[test]
    fn tampered_or_foreign_cursors_are_refused() {
        let org = OrgId::new();
        let scope = Scope::resources(org, None, false);
        let c = encode_id(&scope, Uuid::now_v7());
        for other in [
            Scope::resources(OrgId::new(), None, false),
            Scope::resources(org, Some("note"), false),
            Scope::resources(org, None, true),
            Scope::members(org),
        ] {
            assert!(decode_id(&other, &c).is_err(), "{other:?}");
        }
        let mut bytes = URL_SAFE_NO_PAD.decode(&c).expect("b64");
        bytes[3] ^= 1;
        assert!(decode_id(&scope, &URL_SAFE_NO_PAD.encode(&bytes)).is_err());
        assert!(decode_id(&scope, &c[..c.len() - 2]).is_err());
        assert!(decode_id(&scope, "not base64!").is_err());
        assert!(decode_id(&scope, "").is_err());
        assert!(
            decode_seq(&scope, &c).is_err(),
            "an id cursor is no seq cursor"
        );
    }

    #[test]
    fn every_audit_filter_field_is_part_of_the_scope() {
        let base = audit();
        let at = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).single();
        let variants = [
            AuditFilter {
                org_id: None,
                ..base.clone()
            },
            AuditFilter {
                action: Some("resource.create".into()),
                ..base.clone()
            },
            AuditFilter {
                resource_id: Some("r1".into()),
                ..base.clone()
            },
            AuditFilter {
                actor_id: Some(UserId::new()),
                ..base.clone()
            },
            AuditFilter {
                since: at,
                ..base.clone()
            },
            AuditFilter {
                until: at,
                ..base.clone()
            },
        ];
        let c = encode_seq(&Scope::audit(&base), 7);
        assert_eq!(decode_seq(&Scope::audit(&base.clone()), &c).ok(), Some(7));
        for v in &variants {
            assert!(decode_seq(&Scope::audit(v), &c).is_err(), "{v:?}");
        }
        // `since` and `until` are told apart, whichever holds the time.
        assert_ne!(Scope::audit(&variants[4]), Scope::audit(&variants[5]));
    }

    #[test]
    fn audit_text_fields_cannot_run_into_each_other() {
        let split = |action: &str, resource_id: &str| {
            Scope::audit(&AuditFilter {
                action: Some(action.into()),
                resource_id: Some(resource_id.into()),
                ..audit()
            })
        };
        assert_ne!(split("a\",\"resource_id\":\"b", "c"), split("a", "b\",c"));
        assert_ne!(split("a,b", "c"), split("a", "b,c"));
        assert_ne!(
            Scope::audit(&AuditFilter {
                action: None,
                ..audit()
            }),
            Scope::audit(&AuditFilter {
                action: Some("null".into()),
                ..audit()
            })
        );
    }
}
