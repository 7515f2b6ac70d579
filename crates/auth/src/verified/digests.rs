//! The SHA-256 of the tokens a thread saw last, so that a token presented again is compared
//! instead of hashed again.
//!
//! The verified-token cache is keyed by the SHA-256 of the whole token, and on a cache hit that
//! digest was the largest single cost of the request: about half a microsecond for a 900-byte
//! token, with the CPU's SHA instructions. Clients send the same token for many requests in a
//! row, so each thread keeps the last tokens it hashed, with their digests. A token is found
//! again only if every byte matches, so the digest it gets is exactly the one hashing would
//! give: the cache is still keyed by the SHA-256 of the whole token.
//!
//! The comparison takes the same time wherever the bytes first differ: otherwise the time a
//! request takes would tell an attacker how much of their guess matched a token another client
//! sent on the same thread. The slot is picked by the token's last bytes (the signature's, for a
//! JWT), which tells nothing about a token the attacker does not already hold.
//!
//! Bounded: `SETS * WAYS` tokens of at most `MAX_TOKEN_BYTES` per thread (longer ones are
//! hashed every time, as are tokens on a thread whose memo is gone, at thread exit).

use crate::verifier::{TokenDigest, token_digest};
use std::cell::RefCell;

const SETS: usize = 128;
const WAYS: usize = 2;
/// Tokens longer than this are hashed each time rather than kept (a JWT from the usual issuers
/// is well under it).
const MAX_TOKEN_BYTES: usize = 2048;
/// Shorter tokens have too few signature bytes to spread over the sets; they are cheap to hash.
const MIN_TOKEN_BYTES: usize = 16;

#[derive(Default)]
struct Slot {
    token: Vec<u8>,
    digest: TokenDigest,
}

struct Recent {
    slots: Vec<Slot>,
    /// Per set, the way that was used last (the other one is replaced next).
    last_used: Vec<u8>,
}

impl Recent {
    fn new() -> Self {
        Self {
            slots: (0..SETS * WAYS).map(|_| Slot::default()).collect(),
            last_used: vec![0; SETS],
        }
    }

    fn digest(&mut self, token: &[u8]) -> TokenDigest {
        let set = set_of(token);
        for way in 0..WAYS {
            let slot = &self.slots[set * WAYS + way];
            if same_bytes(&slot.token, token) {
                self.last_used[set] = way as u8;
                return slot.digest;
            }
        }
        let digest = token_digest(token);
        let way = (usize::from(self.last_used[set]) + 1) % WAYS;
        let slot = &mut self.slots[set * WAYS + way];
        slot.token.clear();
        slot.token.extend_from_slice(token);
        slot.digest = digest;
        self.last_used[set] = way as u8;
        digest
    }
}

thread_local! {
    static RECENT: RefCell<Recent> = RefCell::new(Recent::new());
}

/// The SHA-256 of `token`, from this thread's memo when the same bytes were hashed lately.
pub fn digest(token: &[u8]) -> TokenDigest {
    if !(MIN_TOKEN_BYTES..=MAX_TOKEN_BYTES).contains(&token.len()) {
        return token_digest(token);
    }
    RECENT
        .try_with(|recent| match recent.try_borrow_mut() {
            Ok(mut recent) => recent.digest(token),
            // Not reachable (nothing here calls back into it); hashing is always right.
            Err(_) => token_digest(token),
        })
        .unwrap_or_else(|_| token_digest(token))
}

/// The set of a token: its last eight bytes, mixed (Fibonacci hashing) so that the base64
/// alphabet's few values per byte still spread over every set.
fn set_of(token: &[u8]) -> usize {
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&token[token.len() - 8..]);
    let mixed = u64::from_le_bytes(tail).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> (64 - SETS.trailing_zeros())) as usize
}

/// Whether `a` and `b` hold the same bytes, in a time that depends on their length only. The
/// differences are folded into one byte with no early exit, which compiles to a vector loop.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(body: &str, tail: &str) -> String {
        format!("{body}.{}{tail}", "s".repeat(40))
    }

    #[test]
    fn a_token_seen_again_gets_its_own_digest() {
        let t = token("header.payload", "TAILTAIL");
        assert_eq!(digest(t.as_bytes()), token_digest(t.as_bytes()));
        assert_eq!(digest(t.as_bytes()), token_digest(t.as_bytes()));
    }

    /// Tokens that share their last bytes (so their set) but differ anywhere else each get the
    /// digest of their own bytes, whichever was kept last.
    #[test]
    fn tokens_of_one_set_are_told_apart_by_every_byte() {
        let a = token("header.payload-a", "samesame");
        let b = token("header.payload-b", "samesame");
        let c = token("Header.payload-a", "samesame");
        let mut d = a.clone().into_bytes();
        let middle = d.len() / 2;
        d[middle] ^= 1;
        for _ in 0..3 {
            for t in [a.as_bytes(), b.as_bytes(), c.as_bytes(), &d] {
                assert_eq!(digest(t), token_digest(t));
            }
        }
        assert_ne!(digest(a.as_bytes()), digest(&d));
    }

    /// A token that is a prefix of a kept one, or extends it, is not taken for it.
    #[test]
    fn length_is_part_of_the_match() {
        let long = token("header.payload", "lengthXX");
        let short = &long.as_bytes()[..long.len() - 1];
        let longer = format!("{long}X");
        for t in [long.as_bytes(), short, longer.as_bytes(), long.as_bytes()] {
            assert_eq!(digest(t), token_digest(t));
        }
    }

    #[test]
    fn tokens_outside_the_kept_lengths_are_hashed() {
        let short = "a.b.c";
        let long = token(&"x".repeat(MAX_TOKEN_BYTES), "overlong");
        for t in [short.as_bytes(), long.as_bytes()] {
            assert_eq!(digest(t), token_digest(t));
            assert_eq!(digest(t), token_digest(t));
        }
    }

    /// More tokens than a set holds: each still gets its own digest after the others pushed it
    /// out.
    #[test]
    fn evicted_tokens_are_hashed_again() {
        let tokens: Vec<String> = (0..(WAYS + 2))
            .map(|i| token(&format!("payload-{i}"), "evictevi"))
            .collect();
        for _ in 0..3 {
            for t in &tokens {
                assert_eq!(digest(t.as_bytes()), token_digest(t.as_bytes()));
            }
        }
    }

    #[test]
    fn same_bytes_compares_every_byte() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"xbc"));
        assert!(!same_bytes(b"abc", b"ab"));
        assert!(same_bytes(b"", b""));
    }
}
