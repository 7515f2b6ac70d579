//! The form a verified token takes inside the cache: its shared part, its times and its ids,
//! a UUID as its 16 bytes. Kept in the cache's own slot (no allocation of its own) and made
//! back into a [`Verified`] on each hit.

use super::{SharedClaims, TokenId, Verified, VerifiedClaims};
use std::sync::Arc;

/// One cached verification.
#[derive(Debug, Clone)]
pub struct Stored {
    shared: Arc<SharedClaims>,
    /// `exp`, `nbf`, `iat`, `auth_time`; those absent are marked in `present`.
    times: [i64; 4],
    /// `jti` and `origin_jti` when both are UUIDs (or absent), as marked in `uuids_present`.
    uuids: [[u8; 16]; 2],
    /// Both ids, when one is not a UUID in its canonical lowercase text.
    texts: Option<Box<[Option<TokenId>; 2]>>,
    present: u8,
}

const NBF: u8 = 1;
const IAT: u8 = 1 << 1;
const AUTH_TIME: u8 = 1 << 2;
const JTI: u8 = 1 << 3;
const ORIGIN_JTI: u8 = 1 << 4;

impl Stored {
    /// The cached form of `v`.
    pub fn new(v: &Verified) -> Self {
        let c = &v.claims;
        let mut present = 0;
        let mut time = |t: Option<i64>, bit: u8| {
            t.map_or(0, |t| {
                present |= bit;
                t
            })
        };
        let times = [
            c.exp,
            time(c.nbf, NBF),
            time(c.iat, IAT),
            time(c.auth_time, AUTH_TIME),
        ];
        let as_uuid = |id: &Option<TokenId>| id.as_deref().map(parse_uuid);
        let (mut uuids, mut texts) = ([[0; 16]; 2], None);
        match (as_uuid(&c.jti), as_uuid(&c.origin_jti)) {
            (Some(None), _) | (_, Some(None)) => {
                texts = Some(Box::new([c.jti.clone(), c.origin_jti.clone()]));
            }
            (jti, origin) => {
                for (i, (id, bit)) in [(jti, JTI), (origin, ORIGIN_JTI)].into_iter().enumerate() {
                    if let Some(Some(bytes)) = id {
                        uuids[i] = bytes;
                        present |= bit;
                    }
                }
            }
        }
        Self {
            shared: Arc::clone(c.shared()),
            times,
            uuids,
            texts,
            present,
        }
    }

    /// The shared part.
    pub fn shared(&self) -> &Arc<SharedClaims> {
        &self.shared
    }

    /// `exp`, `nbf`, `iat`: what a hit re-checks.
    pub fn times(&self) -> (i64, Option<i64>, Option<i64>) {
        (self.times[0], self.time(1, NBF), self.time(2, IAT))
    }

    fn time(&self, i: usize, bit: u8) -> Option<i64> {
        (self.present & bit != 0).then_some(self.times[i])
    }

    fn id(&self, i: usize, bit: u8) -> Option<TokenId> {
        match &self.texts {
            Some(ids) => ids[i].clone(),
            None => (self.present & bit != 0).then(|| format_uuid(&self.uuids[i])),
        }
    }

    /// The verification again, as it was stored.
    pub fn verified(&self) -> Verified {
        Verified {
            claims: VerifiedClaims {
                exp: self.times[0],
                nbf: self.time(1, NBF),
                iat: self.time(2, IAT),
                auth_time: self.time(3, AUTH_TIME),
                jti: self.id(0, JTI),
                origin_jti: self.id(1, ORIGIN_JTI),
                shared: Arc::clone(&self.shared),
            },
        }
    }

    /// Heap bytes this value owns (the shared part is counted by whoever made it).
    pub fn heap_bytes(&self) -> usize {
        self.texts.as_ref().map_or(0, |ids| {
            super::allocation(std::mem::size_of_val::<[Option<TokenId>; 2]>(ids))
                + ids
                    .iter()
                    .flatten()
                    .map(|id| super::allocation(id.heap_bytes()))
                    .sum::<usize>()
        })
    }
}

/// The 16 bytes of a UUID written as 36 lowercase hex digits and hyphens, `None` for any
/// other text (which then is kept as text, so that it reads back exactly as sent).
fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let mut out = [0u8; 16];
    let mut digits = b.iter().filter(|&&c| c != b'-');
    for byte in &mut out {
        let hi = hex(*digits.next()?)?;
        let lo = hex(*digits.next()?)?;
        *byte = hi << 4 | lo;
    }
    digits.next().is_none().then_some(out)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn format_uuid(bytes: &[u8; 16]) -> TokenId {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    let mut pos = 0;
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            pos += 1;
        }
        out[pos] = DIGITS[usize::from(byte >> 4)];
        out[pos + 1] = DIGITS[usize::from(byte & 15)];
        pos += 2;
    }
    TokenId::from(std::str::from_utf8(&out).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_round_trip_and_other_text_is_not_one() {
        for s in [
            "0192f3a4-5b6c-7d8e-9f01-23456789abcd",
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
        ] {
            let bytes = parse_uuid(s).expect("a UUID");
            assert_eq!(format_uuid(&bytes).as_str(), s);
        }
        for s in [
            "0192F3A4-5B6C-7D8E-9F01-23456789ABCD",
            "0192f3a45b6c7d8e9f0123456789abcd",
            "0192f3a4-5b6c-7d8e-9f01-23456789abc",
            "0192f3a4-5b6c-7d8e-9f01-23456789abcde",
            "0192f3a4+5b6c-7d8e-9f01-23456789abcd",
            "0192f3a4-5b6c-7d8e-9f01-23456789abcg",
            "0192f3a4-5b6c-7d8e-9f01--3456789abcd",
            "j-1",
            "",
        ] {
            assert_eq!(parse_uuid(s), None, "{s}");
        }
    }

    fn verified(jti: Option<&str>, origin: Option<&str>, times: [Option<i64>; 3]) -> Verified {
        let shared = super::super::shared::sample("alice", Some("access"));
        Verified {
            claims: VerifiedClaims {
                exp: 2_000_000_000,
                nbf: times[0],
                iat: times[1],
                auth_time: times[2],
                jti: jti.map(TokenId::from),
                origin_jti: origin.map(TokenId::from),
                shared: Arc::new(shared),
            },
        }
    }

    #[test]
    fn a_cache_slot_stays_small() {
        // Key, stored form, `until`, weight and mark; the verified-token cache's bookkeeping
        // per entry is this and its share of the index.
        assert!(std::mem::size_of::<Stored>() <= 88);
        assert!(super::super::cache::entry_overhead::<Stored>() <= 136 + 8);
    }

    #[test]
    fn a_stored_token_reads_back_as_it_was() {
        let u = "0192f3a4-5b6c-7d8e-9f01-23456789abcd";
        let uuid = Some(u);
        let other = Some("session-1");
        let long = "x".repeat(100);
        for (jti, origin) in [
            (uuid, uuid),
            (uuid, None),
            (None, uuid),
            (None, None),
            (uuid, other),
            (other, None),
            (Some(long.as_str()), uuid),
        ] {
            for times in [
                [None, None, None],
                [Some(1), Some(-5), Some(i64::MIN)],
                [None, Some(1_700_000_000), None],
            ] {
                let v = verified(jti, origin, times);
                let stored = Stored::new(&v);
                assert_eq!(stored.verified(), v, "{jti:?} {origin:?} {times:?}");
                assert_eq!(stored.times(), (v.claims.exp, v.claims.nbf, v.claims.iat));
                let boxed = jti.is_some_and(|j| j != u) || origin.is_some_and(|o| o != u);
                assert_eq!(stored.heap_bytes() > 0, boxed, "{jti:?} {origin:?}");
            }
        }
    }
}
