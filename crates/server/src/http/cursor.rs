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
use sha2::{Digest, Sha256};
use uuid::Uuid;

const VERSION: u8 = 1;
const CHECK_LEN: usize = 8;

/// The checksum over the version, the list's scope (which list, which org, which filters) and
/// the position.
fn check(scope: &str, position: &[u8]) -> [u8; CHECK_LEN] {
    let mut h = Sha256::new();
    h.update([VERSION]);
    h.update((scope.len() as u64).to_be_bytes());
    h.update(scope.as_bytes());
    h.update(position);
    let digest = h.finalize();
    let mut out = [0u8; CHECK_LEN];
    out.copy_from_slice(&digest[..CHECK_LEN]);
    out
}

fn encode(scope: &str, position: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(1 + position.len() + CHECK_LEN);
    bytes.push(VERSION);
    bytes.extend_from_slice(position);
    bytes.extend_from_slice(&check(scope, position));
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode<const N: usize>(scope: &str, cursor: &str) -> Result<[u8; N], ApiError> {
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

pub fn encode_id(scope: &str, id: Uuid) -> String {
    encode(scope, id.as_bytes())
}

pub fn decode_id(scope: &str, cursor: &str) -> Result<Uuid, ApiError> {
    decode::<16>(scope, cursor).map(Uuid::from_bytes)
}

pub fn encode_seq(scope: &str, seq: i64) -> String {
    encode(scope, &seq.to_be_bytes())
}

pub fn decode_seq(scope: &str, cursor: &str) -> Result<i64, ApiError> {
    decode::<8>(scope, cursor).map(i64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let id = Uuid::now_v7();
        assert_eq!(
            decode_id("resources:o1", &encode_id("resources:o1", id)).ok(),
            Some(id)
        );
        assert_eq!(decode_seq("audit", &encode_seq("audit", 42)).ok(), Some(42));
    }

    #[test]
    fn tampered_or_foreign_cursors_are_refused() {
        let c = encode_id("resources:o1", Uuid::now_v7());
        assert!(
            decode_id("resources:o2", &c).is_err(),
            "another list's cursor"
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&c).expect("b64");
        bytes[3] ^= 1;
        assert!(decode_id("resources:o1", &URL_SAFE_NO_PAD.encode(&bytes)).is_err());
        assert!(decode_id("resources:o1", &c[..c.len() - 2]).is_err());
        assert!(decode_id("resources:o1", "not base64!").is_err());
        assert!(decode_id("resources:o1", "").is_err());
        assert!(
            decode_seq("audit", &c).is_err(),
            "an id cursor is no seq cursor"
        );
    }
}
