//! TOTP (RFC 6238 over RFC 4226) for the dev issuer's personas: HMAC-SHA-1, 6 digits,
//! 30-second steps, one step of drift either way, each step usable once.

use aws_lc_rs::hmac;

pub const DIGITS: u32 = 6;
pub const STEP_SECS: i64 = 30;
/// How many steps before and after the current one are accepted (clock drift, slow typing).
pub const WINDOW: i64 = 1;

/// Decodes a base32 secret (RFC 4648 alphabet, case-insensitive, spaces and `=` ignored); at
/// least 80 bits, as RFC 4226 asks (160 recommended).
pub fn decode_secret(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u64, 0u32);
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = match c.to_ascii_uppercase() {
            u @ 'A'..='Z' => u as u64 - 'A' as u64,
            d @ '2'..='7' => d as u64 - '2' as u64 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    (out.len() >= 10).then_some(out)
}

/// The code of one time step (RFC 4226 §5.3 dynamic truncation).
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = (u32::from(mac[offset]) & 0x7f) << 24
        | u32::from(mac[offset + 1]) << 16
        | u32::from(mac[offset + 2]) << 8
        | u32::from(mac[offset + 3]);
    binary % 10u32.pow(DIGITS)
}

/// The time step of a Unix time.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The step `code` belongs to, if it is the code of a step within the window around
/// `unix_secs` and later than `last_used` (a code is never accepted twice).
pub fn verify(secret: &[u8], code: &str, unix_secs: i64, last_used: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let given: u32 = code.parse().ok()?;
    let now = step_of(unix_secs);
    let mut matched = None;
    // Every candidate is computed, so the time taken does not say which one matched.
    for step in now - WINDOW..=now + WINDOW {
        let expected = code_at(secret, step);
        if constant_eq(expected, given) && matched.is_none() {
            matched = Some(step);
        }
    }
    matched.filter(|step| last_used.is_none_or(|used| *step > used))
}

fn constant_eq(a: u32, b: u32) -> bool {
    (a ^ b) == 0
}

/// Formats a code with its leading zeros.
pub fn format_code(code: u32) -> String {
    format!("{code:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (the key is the ASCII "12345678901234567890"; the
    /// appendix lists 8 digits, whose last 6 are the 6-digit code).
    #[test]
    fn rfc_6238_vectors() {
        let key = b"12345678901234567890";
        for (time, eight) in [
            (59, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(code_at(key, step_of(time)), eight % 1_000_000, "{time}");
        }
    }

    #[test]
    fn base32_and_window() {
        // "12345678901234567890" in base32.
        let secret = decode_secret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").expect("valid");
        assert_eq!(secret, b"12345678901234567890");
        assert_eq!(
            decode_secret("gezdgnbv gy3tqojq gezdgnbvgy3tqojq"),
            Some(secret.clone())
        );
        assert!(decode_secret("GEZDGNBV1").is_none(), "1 is not base32");
        assert!(decode_secret("GEZDGNBV").is_none(), "too short");
        let t = 1_111_111_111;
        let code = |step| format_code(code_at(&secret, step));
        let now = step_of(t);
        assert_eq!(verify(&secret, &code(now), t, None), Some(now));
        assert_eq!(verify(&secret, &code(now - 1), t, None), Some(now - 1));
        assert_eq!(verify(&secret, &code(now + 1), t, None), Some(now + 1));
        assert_eq!(verify(&secret, &code(now - 2), t, None), None);
        assert_eq!(verify(&secret, &code(now + 2), t, None), None);
        assert_eq!(verify(&secret, &code(now), t, Some(now)), None, "replayed");
        assert_eq!(verify(&secret, "12345", t, None), None);
        assert_eq!(verify(&secret, "abcdef", t, None), None);
    }
}
