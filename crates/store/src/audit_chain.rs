//! Tamper evidence for the audit log: every row carries the SHA-256 of its own fields and of the
//! row before it. Editing, removing or reordering rows directly in the database breaks the chain
//! at each affected row, and `verify` reports every such row.

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

/// Why the chain breaks at a row.
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

impl ChainBreak {
    /// The first row that is not what it should be.
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Altered { seq } | ChainBreak::Unlinked { seq } => *seq,
            ChainBreak::Gap { expected_seq, .. } => *expected_seq,
        }
    }
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

/// A point in the chain: a row's `seq` and stored hash, written `<seq>:<hash>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Head {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid head {s:?}: expected <seq>:<64 hex digits>, as `audit verify` prints it"
            )
        };
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        if seq < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Self {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// What a walk over the whole log found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainReport {
    /// Rows read.
    pub rows: i64,
    /// The last row read; `None` for an empty log.
    pub head: Option<Head>,
    /// Every break, oldest row first. One row may break in two ways (re-linked and edited).
    pub breaks: Vec<ChainBreak>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.breaks.is_empty()
    }

    /// The last `seq` of the unbroken prefix of the log (0 when the first row is broken or the
    /// log is empty): everything up to it is vouched for by the chain.
    pub fn verified_up_to(&self) -> i64 {
        match self.breaks.first() {
            Some(b) => b.seq() - 1,
            None => self.head.as_ref().map_or(0, |h| h.seq),
        }
    }
}

/// Walks the log in `seq` order, one page at a time, remembering only the previous row.
///
/// A break does not stop the walk: each later row is still checked against its own stored
/// `prev_hash` and `hash`, so tampering further on is reported too instead of hiding behind
/// the first break.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    report: ChainReport,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            report: ChainReport::default(),
        }
    }
}

impl ChainVerifier {
    /// Checks the next row and returns what is wrong with it (nothing for an intact row).
    pub fn check(&mut self, e: &AuditEntry) -> Vec<ChainBreak> {
        let mut found = Vec::new();
        if e.seq != self.expected_seq {
            found.push(ChainBreak::Gap {
                expected_seq: self.expected_seq,
                found_seq: e.seq,
            });
        } else if e.prev_hash != self.prev_hash {
            // After a gap the predecessor is gone, so its link cannot be judged: the gap is
            // the finding.
            found.push(ChainBreak::Unlinked { seq: e.seq });
        }
        if row_hash(&e.prev_hash, &ChainFields::from(e)) != e.hash {
            found.push(ChainBreak::Altered { seq: e.seq });
        }
        self.expected_seq = e.seq.saturating_add(1);
        self.prev_hash.clone_from(&e.hash);
        self.report.rows += 1;
        self.report.head = Some(Head {
            seq: e.seq,
            hash: e.hash.clone(),
        });
        self.report.breaks.extend(found.iter().cloned());
        found
    }

    /// Everything found so far.
    pub fn report(&self) -> &ChainReport {
        &self.report
    }

    pub fn finish(self) -> ChainReport {
        self.report
    }
}

/// Reads the whole log in `seq` order, a page at a time, and reports every break in it.
pub async fn verify_log<S: crate::AuditStore + ?Sized>(
    store: &S,
) -> crate::StoreResult<ChainReport> {
    const BATCH: u32 = 500;
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    loop {
        let rows = store.audit_after(after, BATCH).await?;
        for row in &rows {
            verifier.check(row);
        }
        match rows.last() {
            Some(last) if rows.len() == BATCH as usize => after = last.seq,
            _ => return Ok(verifier.finish()),
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

    fn breaks(rows: &[AuditEntry]) -> Vec<ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in rows {
            v.check(e);
        }
        v.finish().breaks
    }

    fn first_break(rows: &[AuditEntry]) -> Option<ChainBreak> {
        breaks(rows).into_iter().next()
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
    fn every_break_is_reported_not_only_the_first() {
        let mut rows = chain(8);
        rows[1].action = "resource.delete".into();
        rows[5].request_id = "forged".into();
        rows.remove(6);
        assert_eq!(
            breaks(&rows),
            [
                ChainBreak::Altered { seq: 2 },
                ChainBreak::Altered { seq: 6 },
                ChainBreak::Gap {
                    expected_seq: 7,
                    found_seq: 8
                },
            ]
        );
    }

    #[test]
    fn the_report_names_the_verified_prefix_and_the_head() {
        let mut v = ChainVerifier::default();
        let mut rows = chain(4);
        for e in &rows {
            v.check(e);
        }
        let report = v.finish();
        assert!(report.is_intact());
        assert_eq!(report.verified_up_to(), 4);
        assert_eq!(
            report.head,
            Some(Head {
                seq: 4,
                hash: rows[3].hash.clone()
            })
        );
        rows[2].action = "x".into();
        let mut v = ChainVerifier::default();
        for e in &rows {
            v.check(e);
        }
        let report = v.finish();
        assert_eq!(report.verified_up_to(), 2);
        assert_eq!(report.rows, 4);
    }

    #[test]
    fn heads_round_trip_and_reject_garbage() {
        let hash = "ab".repeat(32);
        let head: Head = format!("12:{}", hash.to_uppercase()).parse().expect("head");
        assert_eq!(
            head,
            Head {
                seq: 12,
                hash: hash.clone()
            }
        );
        assert_eq!(head.to_string(), format!("12:{hash}"));
        for bad in [
            "",
            "12",
            "12:",
            "x:ab",
            "0:ab",
            &format!("-1:{hash}"),
            &format!("3:{}", &hash[1..]),
            &format!("3:{}zz", &hash[2..]),
        ] {
            assert!(bad.parse::<Head>().is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_json_ignores_key_order_and_number_spelling() {
        let a: Value = serde_json::from_str(r#"{"b": 1e2, "a": [1.0, "x"]}"#).expect("json");
        let b: Value = serde_json::from_str(r#"{"a":[1,"x"],"b":100}"#).expect("json");
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&b), r#"{"a":[1,"x"],"b":100}"#);
    }
}
