//! The three base64url parts of a compact JWS.

use crate::rejection::Rejection;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Tokens larger than this are refused before any decoding: Cognito access tokens are about
/// 1 KiB, and a cap keeps hostile inputs from costing memory or CPU.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A token split into its parts. `signing_input` borrows the original text, so the signature
/// is checked over exactly the bytes that were sent.
#[derive(Debug)]
pub struct Compact<'a> {
    /// Header and payload as sent, the bytes the signature covers.
    pub signing_input: &'a [u8],
    /// The decoded header.
    pub header: Vec<u8>,
    /// The decoded payload.
    pub payload: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// Splits and decodes a compact JWS. Refuses anything but three non-empty parts of the
/// base64url alphabet without padding; the decoder also refuses non-canonical encodings
/// (stray trailing bits), so no two different strings decode to the same token.
pub fn split(token: &str) -> Result<Compact<'_>, Rejection> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Rejection::Oversized);
    }
    let bytes = token.as_bytes();
    // No separate alphabet scan: the decoder refuses any byte outside the base64url alphabet
    // (whitespace, `+`, `/`, `=` included), so each part is checked exactly once.
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    if h.is_empty() || p.is_empty() || s.is_empty() {
        return Err(Rejection::Malformed);
    }
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| Rejection::Malformed)
    };
    Ok(Compact {
        signing_input: &bytes[..h.len() + 1 + p.len()],
        header: decode(h)?,
        payload: decode(p)?,
        signature: decode(s)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn three_parts_decode() {
        let t = format!("{}.{}.{}", b64("{}"), b64("{\"a\":1}"), b64("sig"));
        let c = split(&t).expect("valid shape");
        assert_eq!(c.header, b"{}");
        assert_eq!(c.payload, b"{\"a\":1}");
        assert_eq!(c.signature, b"sig");
        assert_eq!(
            c.signing_input,
            t.rsplit_once('.')
                .map(|(a, _)| a.as_bytes())
                .unwrap_or_default()
        );
    }

    #[test]
    fn bad_shapes_are_malformed() {
        let h = b64("{}");
        for bad in [
            String::new(),
            format!("{h}.{h}"),
            format!("{h}.{h}."),
            format!("{h}..{h}"),
            format!("{h}.{h}.{h}.{h}"),
            format!("{h}.{h}.{h}="),
            format!("{h}.{h}.{h} "),
            format!(" {h}.{h}.{h}"),
            format!("{h}.{h}.a+b/"),
            format!("{h}.{h}.\u{e9}"),
        ] {
            assert_eq!(
                split(&bad).map(|_| ()),
                Err(Rejection::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn non_canonical_base64_is_refused() {
        // "QQ" is the canonical encoding of "A"; "QR" differs only in unused trailing bits.
        let h = b64("{}");
        assert!(split(&format!("{h}.{h}.QQ")).is_ok());
        assert_eq!(
            split(&format!("{h}.{h}.QR")).map(|_| ()),
            Err(Rejection::Malformed)
        );
    }

    #[test]
    fn oversized_is_refused_before_decoding() {
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(split(&big).map(|_| ()), Err(Rejection::Oversized));
    }
}
