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
    let (userinfo, after) = match userinfo_end(rest) {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _password)) => (format!("{user}:{REDACTED}@"), &rest[at + 1..]),
            None => (String::new(), rest),
        },
        None => (String::new(), rest),
    };
    format!("{scheme}://{userinfo}{}", redact_query(after))
}

/// Where the userinfo ends: the last `@` before the first `/`, `?` or `#` that follows the first
/// `@`. Passwords are often written unescaped, and then `/`, `?`, `#` and `@` may all stand in
/// them, so the authority cannot end at the first `/`, `?` or `#` of the URL (it may be in the
/// password), nor at the last `@` (it may be in the query, and the host and path would be
/// hidden with the password). The first `@` ends the userinfo or is inside it, and the host has
/// no `@`, so the first delimiter after it ends the host, unless the password has one of
/// `/?#` somewhere after an `@`, which this does not untangle. A URL with no userinfo but an
/// `@` after a `:` (`db:5432/x?o=a@b`) reads like a password holding a `/` (`u:12/x@db`) and
/// is redacted as one: showing too little is the safe mistake.
fn userinfo_end(rest: &str) -> Option<usize> {
    let first_at = rest.find('@')?;
    let path_start = rest[first_at..]
        .find(['/', '?', '#'])
        .map_or(rest.len(), |i| first_at + i);
    rest[..path_start].rfind('@')
}

/// libpq and sqlx also take the password as a query parameter. Parameters are taken to start
/// after any `?` or `&` (not only after the first `?`, which may have been inside a password
/// that was already hidden), and a password value runs to the next `&`, over any `?` or `#`
/// that an unescaped password may hold.
fn redact_query(after_userinfo: &str) -> String {
    let s = after_userinfo;
    let mut out = String::with_capacity(s.len());
    let mut start = 0;
    loop {
        let end = s[start..].find(['?', '&']).map_or(s.len(), |i| start + i);
        let param = &s[start..end];
        let end = match param.split_once('=') {
            // The text before the first `?` or `&` is the host and path, not a parameter.
            Some((key, _)) if start > 0 && key.eq_ignore_ascii_case("password") => {
                out.push_str(key);
                out.push('=');
                out.push_str(REDACTED);
                s[start..].find('&').map_or(s.len(), |i| start + i)
            }
            _ => {
                out.push_str(param);
                end
            }
        };
        let Some(separator) = s[end..].chars().next() else {
            return out;
        };
        out.push(separator);
        start = end + separator.len_utf8();
    }
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
        // The `#` might be part of an unescaped password, so the value is hidden up to the next
        // `&`, fragment included.
        assert_eq!(r, "postgresql://app:***@db/x?sslmode=require&password=***");
    }

    #[test]
    fn unescaped_delimiters_in_the_password_are_redacted() {
        for (raw, password, redacted) in [
            ("postgres://u:pa#ss@db/x", "pa#ss", "postgres://u:***@db/x"),
            ("postgres://u:pa/ss@db/x", "pa/ss", "postgres://u:***@db/x"),
            ("redis://:p?w@h:6379/0", "p?w", "redis://:***@h:6379/0"),
            ("postgres://u:p@ss@db/x", "p@ss", "postgres://u:***@db/x"),
            (
                "postgres://u:a/b?c#d@e@db:5432/x?sslmode=require",
                "a/b?c#d@e",
                "postgres://u:***@db:5432/x?sslmode=require",
            ),
            (
                "postgresql://u:pa?ss@db/x?password=hunter2",
                "pa?ss",
                "postgresql://u:***@db/x?password=***",
            ),
            (
                "postgres://u:s3cr3t@db/x?application_name=me@host",
                "s3cr3t",
                "postgres://u:***@db/x?application_name=me@host",
            ),
        ] {
            let u = SecretUrl::parse(raw, &["postgres", "postgresql", "redis"]).expect("valid");
            let r = u.redacted();
            assert!(!r.contains(password), "{raw} -> {r}");
            assert_eq!(r, redacted, "{raw}");
            assert!(!format!("{u:?}").contains(password), "{raw}");
            assert_eq!(u.expose(), raw);
        }
    }

    #[test]
    fn query_passwords_are_redacted_whatever_precedes_them() {
        for (raw, password) in [
            ("postgres://db/x?password=hun#ter2", "ter2"),
            ("postgres://db/x?password=a?b&sslmode=require", "a?b"),
            // Read as a userinfo `db:5432/x?o=a` (see `userinfo_end`); the query password
            // after it is still found.
            ("postgres://db:5432/x?o=a@b&password=hunter2", "hunter2"),
            ("postgres://u@db/x?PASSWORD=p@ss", "p@ss"),
        ] {
            let r = SecretUrl::parse(raw, DATABASE_SCHEMES)
                .expect("valid")
                .redacted();
            assert!(!r.contains(password), "{raw} -> {r}");
        }
    }

    #[test]
    fn urls_without_password_are_unchanged() {
        for raw in [
            "sqlite://./.portcullis/portcullis.db",
            "sqlite://./data@v2/portcullis.db",
            "postgres://postgres@127.0.0.1/test",
            "postgres://postgres@127.0.0.1/test?application_name=me@host",
            "postgres://db:5432/x?sslmode=require&passwordless=1",
            "postgresql://u%40corp@db/x",
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
