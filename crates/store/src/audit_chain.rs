//! Tamper evidence for the audit log: every row carries the SHA-256 of its own fields and of the
//! row before it. Editing, removing or reordering rows directly in the database breaks the chain
//! at the first affected row, which `verify` reports.

use crate::ids::{AuditId, OrgId, UserId};
use crate::model::AuditEntry;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields that are hashed, borrowed from whatever the backend is about to insert.
#[derive(Debug, Clone, Copy)]
pub struct ChainFields<'a> {
    pub seq: i64,
    pub id: AuditId,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    pub org_id: Option<OrgId>,
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Option<&'a str>,
    pub changes: &'a Value,
    pub request_id: &'a str,
}

impl<'a> From<&'a AuditEntry> for ChainFields<'a> {
    fn from(e: &'a AuditEntry) -> Self {
        Self {
            seq: e.seq,
            id: e.id,
            occurred_at: e.occurred_at,
            actor_id: e.actor_id,
            org_id: e.org_id,
            action: &e.action,
            resource_type: &e.resource_type,
            resource_id: e.resource_id.as_deref(),
            changes: &e.changes,
            request_id: &e.request_id,
        }
    }
}

/// Hex SHA-256 of `prev_hash` and the row's fields. Every field is length-prefixed so that no
/// two different rows share an input, and `changes` is written in a canonical form so that
/// PostgreSQL's JSONB normalisation does not change the hash.
pub fn row_hash(prev_hash: &str, f: &ChainFields<'_>) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(prev_hash.as_bytes());
    field(&f.seq.to_be_bytes());
    field(f.id.0.as_bytes());
    field(&f.occurred_at.timestamp_micros().to_be_bytes());
    field(f.actor_id.map(|u| u.0).unwrap_or_default().as_bytes());
    field(f.org_id.map(|o| o.0).unwrap_or_default().as_bytes());
    field(f.action.as_bytes());
    field(f.resource_type.as_bytes());
    field(f.resource_id.unwrap_or("").as_bytes());
    field(canonical_json(f.changes).as_bytes());
    field(f.request_id.as_bytes());
    hex::encode(h.finalize())
}

/// JSON with sorted keys, no whitespace, and numbers written by value (`100`, `100.0` and `1e2`
/// are one number), so the text is the same whichever backend stored the value.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    out.push_str(&(f as i64).to_string());
                } else {
                    out.push_str(&format!("{f:e}"));
                }
            }
        }
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
    }
}

/// Why the chain broke at a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The row's content no longer matches its hash: it was edited.
    Altered { seq: i64 },
    /// Rows are missing before this one (deleted), or it sits out of order.
    Gap { expected_seq: i64, found_seq: i64 },
    /// The row's `prev_hash` does not name the row before it: rows were removed or reordered
    /// and the survivors re-hashed by hand.
    Unlinked { seq: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Altered { seq } => write!(f, "row {seq} was altered"),
            ChainBreak::Gap {
                expected_seq,
                found_seq,
            } => write!(
                f,
                "row {expected_seq} is missing (next row found is {found_seq})"
            ),
            ChainBreak::Unlinked { seq } => {
                write!(f, "row {seq} does not follow the row before it")
            }
        }
    }
}

/// Walks the log in `seq` order, one page at a time, remembering only the previous hash.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainVerifier {
    /// Checks the next row; the first error is the first row that was tampered with.
    pub fn check(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        if e.seq != self.expected_seq {
            return Err(ChainBreak::Gap {
                expected_seq: self.expected_seq,
                found_seq: e.seq,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked { seq: e.seq });
        }
        if row_hash(&e.prev_hash, &ChainFields::from(e)) != e.hash {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        self.expected_seq += 1;
        self.prev_hash.clone_from(&e.hash);
        Ok(())
    }

    /// Number of rows checked so far.
    pub fn verified(&self) -> i64 {
        self.expected_seq - 1
    }
}

/// Reads the whole log in `seq` order, a page at a time, and returns how many rows verified,
/// or the first row where the chain breaks.
pub async fn verify_log<S: crate::AuditStore + ?Sized>(
    store: &S,
) -> crate::StoreResult<Result<i64, ChainBreak>> {
    const BATCH: u32 = 500;
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    loop {
        let rows = store.audit_after(after, BATCH).await?;
        for row in &rows {
            if let Err(b) = verifier.check(row) {
                return Ok(Err(b));
            }
        }
        match rows.last() {
            Some(last) if rows.len() == BATCH as usize => after = last.seq,
            _ => return Ok(Ok(verifier.verified())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(seq: i64, prev: &str, changes: Value) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            id: AuditId::new(),
            occurred_at: DateTime::from_timestamp_micros(1_700_000_000_000_000 + seq)
                .expect("valid time"),
            actor_id: None,
            org_id: None,
            action: "resource.create".into(),
            resource_type: "resource".into(),
            resource_id: Some("r".into()),
            changes,
            request_id: "req".into(),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        e.hash = row_hash(prev, &ChainFields::from(&e));
        e
    }

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut rows = Vec::new();
        let mut prev = GENESIS_HASH.to_owned();
        for seq in 1..=n {
            let e = entry(seq, &prev, json!({ "n": seq }));
            prev = e.hash.clone();
            rows.push(e);
        }
        rows
    }

    fn first_break(rows: &[AuditEntry]) -> Option<ChainBreak> {
        let mut v = ChainVerifier::default();
        rows.iter().find_map(|e| v.check(e).err())
    }

    #[test]
    fn untouched_chain_verifies() {
        assert_eq!(first_break(&chain(5)), None);
    }

    #[test]
    fn edited_row_is_named() {
        let mut rows = chain(5);
        rows[2].action = "resource.delete".into();
        assert_eq!(first_break(&rows), Some(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn removed_row_is_named() {
        let mut rows = chain(5);
        rows.remove(1);
        assert_eq!(
            first_break(&rows),
            Some(ChainBreak::Gap {
                expected_seq: 2,
                found_seq: 3
            })
        );
    }

    #[test]
    fn swapped_rows_are_detected() {
        let mut rows = chain(5);
        rows.swap(1, 2);
        rows[1].seq = 2;
        rows[2].seq = 3;
        assert!(matches!(
            first_break(&rows),
            Some(ChainBreak::Unlinked { seq: 2 })
        ));
    }

    #[test]
    fn canonical_json_ignores_key_order_and_number_spelling() {
        let a: Value = serde_json::from_str(r#"{"b": 1e2, "a": [1.0, "x"]}"#).expect("json");
        let b: Value = serde_json::from_str(r#"{"a":[1,"x"],"b":100}"#).expect("json");
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&b), r#"{"a":[1,"x"],"b":100}"#);
    }
}
