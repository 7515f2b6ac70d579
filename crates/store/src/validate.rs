//! Input rules checked before any SQL runs, identical on both backends. PostgreSQL refuses NUL
//! characters in TEXT and JSONB where SQLite would store them; refusing them here keeps the two
//! backends equal and turns what would be a database error into a clear `Invalid`.

use crate::error::{StoreError, StoreResult};
use serde_json::Value;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_KIND_CHARS: usize = 64;
/// OpenID Connect Core 1.0, section 2: `sub` "MUST NOT exceed 255 ASCII characters".
pub const MAX_SUB_BYTES: usize = 255;
pub const MAX_USERNAME_BYTES: usize = 128;
/// A 64-byte local part, `@` and a 255-byte domain (RFC 3696, errata 1690).
pub const MAX_EMAIL_BYTES: usize = 320;
/// Serialized size cap for a resource's `data`; the HTTP body cap (1 MiB) bounds it first.
pub const MAX_DATA_BYTES: usize = 512 * 1024;

pub fn name(s: &str) -> StoreResult<()> {
    let n = s.chars().count();
    if n == 0 || n > MAX_NAME_CHARS || s.trim().is_empty() {
        return Err(StoreError::Invalid("name must be 1 to 200 characters"));
    }
    text(s)
}

/// Kinds are identifiers chosen by the application: lower-case letters, digits, `_ . -`.
pub fn kind(s: &str) -> StoreResult<()> {
    let ok = !s.is_empty()
        && s.len() <= MAX_KIND_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "kind must be 1 to 64 of a-z, 0-9, '_', '.', '-'",
        ))
    }
}

/// A user's `sub`: 1 to 255 bytes, no NUL.
pub fn sub(s: &str) -> StoreResult<()> {
    if s.is_empty() || s.len() > MAX_SUB_BYTES {
        return Err(StoreError::Invalid("sub must be 1 to 255 bytes"));
    }
    text(s)
}

/// A user's `username`: at most 128 bytes, no NUL.
pub fn username(s: &str) -> StoreResult<()> {
    if s.len() > MAX_USERNAME_BYTES {
        return Err(StoreError::Invalid("username must be at most 128 bytes"));
    }
    text(s)
}

/// A user's `email`: at most 320 bytes, no NUL. The address itself is the IdP's business.
pub fn email(s: &str) -> StoreResult<()> {
    if s.len() > MAX_EMAIL_BYTES {
        return Err(StoreError::Invalid("email must be at most 320 bytes"));
    }
    text(s)
}

pub fn text(s: &str) -> StoreResult<()> {
    if s.contains('\0') {
        Err(StoreError::Invalid("text must not contain NUL characters"))
    } else {
        Ok(())
    }
}

pub fn data(v: &Value) -> StoreResult<()> {
    json_text(v)?;
    let size = serde_json::to_vec(v).map(|b| b.len()).unwrap_or(usize::MAX);
    if size > MAX_DATA_BYTES {
        return Err(StoreError::Invalid("data is larger than 512 KiB"));
    }
    Ok(())
}

/// No NUL in any string or key, at any depth.
pub fn json_text(v: &Value) -> StoreResult<()> {
    match v {
        Value::String(s) => text(s),
        Value::Array(items) => items.iter().try_for_each(json_text),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            text(k)?;
            json_text(v)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_kinds() {
        assert!(name("Acme").is_ok());
        assert!(name("").is_err());
        assert!(name("   ").is_err());
        assert!(name(&"x".repeat(201)).is_err());
        assert!(name("a\0b").is_err());
        assert!(kind("doc.v1").is_ok());
        assert!(kind("Doc").is_err());
        assert!(kind("a b").is_err());
    }

    #[test]
    fn user_fields_are_bounded() {
        assert!(sub(&"s".repeat(255)).is_ok());
        assert!(sub(&"s".repeat(256)).is_err());
        assert!(sub("").is_err());
        assert!(username(&"u".repeat(128)).is_ok());
        assert!(username(&"u".repeat(129)).is_err());
        assert!(email(&"e".repeat(320)).is_ok());
        assert!(email(&"e".repeat(321)).is_err());
    }

    #[test]
    fn nul_is_refused_at_any_depth() {
        assert!(data(&json!({"a": [{"b": "ok"}]})).is_ok());
        assert!(data(&json!({"a": [{"b": "x\u{0}"}]})).is_err());
        assert!(data(&json!({"k\u{0}": 1})).is_err());
    }
}
