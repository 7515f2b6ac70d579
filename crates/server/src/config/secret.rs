//! Connection URLs that may carry a password. The password must never reach a log line, a
//! `Debug` dump or `check-config` output, so the only way to see it is `expose()`, called where
//! the URL is handed to a driver.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A URL whose password (in the userinfo or a `password=` query parameter) is redacted whenever
/// it is displayed, debugged or serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

const REDACTED: &str = "***";

impl SecretUrl {
    /// Accepts the URL if its scheme is one of `schemes`; the error names the accepted schemes
    /// and never repeats the input, which may hold a password.
    pub fn parse(raw: &str, schemes: &[&str]) -> Result<Self, String> {
        let scheme = raw.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        match scheme {
            Some(s) if schemes.contains(&s.as_str()) => Ok(Self(raw.to_owned())),
            _ => Err(format!(
                "unsupported URL scheme (expected {})",
                schemes
                    .iter()
                    .map(|s| format!("{s}://"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// The real URL, for the database or Redis driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The scheme, lower-cased (`sqlite`, `postgres`, ...).
    pub fn scheme(&self) -> String {
        self.0
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// The URL with every password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // The password is whatever follows the first ':' of the userinfo, which ends at the last '@'
    // (an unescaped '@' in a password is invalid but common; this still hides it).
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:{REDACTED}@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{}", redact_query(tail))
}

/// libpq and sqlx also take the password as a query parameter.
fn redact_query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}={REDACTED}"),
            _ => p.to_owned(),
        })
        .collect();
    let mut out = format!("{path}?{}", params.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Serialization exists only for `check-config`, so it is redacted too.
impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

/// A database URL: `sqlite:`, `postgres://` or `postgresql://`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub SecretUrl);

/// A Redis URL: `redis://` or `rediss://`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(transparent)]
pub struct RedisUrl(pub SecretUrl);

pub const DATABASE_SCHEMES: &[&str] = &["sqlite", "postgres", "postgresql"];
pub const REDIS_SCHEMES: &[&str] = &["redis", "rediss"];

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        SecretUrl::parse(raw, DATABASE_SCHEMES).map(Self)
    }
}

impl DatabaseUrl {
    /// `sqlite://{dir}/portcullis.db`. A directory whose name the URL cannot carry as a plain
    /// path (`?` starts the options, `#` a fragment, and a path that is not UTF-8 cannot be
    /// written at all) is refused: name the file with `database_url` instead.
    pub fn sqlite_in(dir: &std::path::Path) -> Result<Self, String> {
        let path = dir.join("portcullis.db");
        match path.to_str() {
            Some(p) if !p.contains(['?', '#']) => Self::parse(&format!("sqlite://{p}")),
            _ => Err(
                "cannot hold the default SQLite database (a `?` or `#` in the path, or not UTF-8); set database_url".into(),
            ),
        }
    }
}

impl RedisUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        SecretUrl::parse(raw, REDIS_SCHEMES).map(Self)
    }
}

// Deserialized through `String` and checked right away, so a bad scheme is reported against the
// setting that holds it. The error text never includes the value.
impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for RedisUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_password_is_redacted() {
        let u = SecretUrl::parse("postgres://app:s3cr3t@db:5432/portcullis", DATABASE_SCHEMES)
            .expect("valid");
        assert_eq!(u.redacted(), "postgres://app:***@db:5432/portcullis");
        assert!(!format!("{u:?}").contains("s3cr3t"));
        assert!(!format!("{u}").contains("s3cr3t"));
        assert_eq!(u.expose(), "postgres://app:s3cr3t@db:5432/portcullis");
    }

    #[test]
    fn password_with_at_sign_and_query_password_are_redacted() {
        let u = SecretUrl::parse(
            "postgresql://app:p@ss@db/x?sslmode=require&password=hunter2#frag",
            DATABASE_SCHEMES,
        )
        .expect("valid");
        let r = u.redacted();
        assert!(!r.contains("p@ss") && !r.contains("hunter2"), "{r}");
        assert_eq!(
            r,
            "postgresql://app:***@db/x?sslmode=require&password=***#frag"
        );
    }

    #[test]
    fn urls_without_password_are_unchanged() {
        for raw in [
            "sqlite://./.portcullis/portcullis.db",
            "postgres://postgres@127.0.0.1/test",
        ] {
            let u = SecretUrl::parse(raw, DATABASE_SCHEMES).expect("valid");
            assert_eq!(u.redacted(), raw);
        }
        let r = SecretUrl::parse("redis://:pw@localhost:6379/0", REDIS_SCHEMES).expect("valid");
        assert_eq!(r.redacted(), "redis://:***@localhost:6379/0");
    }

    #[test]
    fn wrong_scheme_is_refused_without_echoing_the_value() {
        let e = DatabaseUrl::parse("mysql://root:topsecret@db/x").expect_err("mysql refused");
        assert!(e.contains("postgres://") && !e.contains("topsecret"), "{e}");
    }
}
