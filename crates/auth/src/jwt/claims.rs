//! The claims of a verified token, typed strictly: a claim of the wrong JSON type makes the
//! whole token invalid rather than being read as absent.

use crate::jwt::json::UniqueMap;
use crate::rejection::Rejection;
use serde_json::{Map, Value};

/// Seconds since the epoch. RFC 7519 allows fractions; they are truncated.
pub type NumericDate = i64;

#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub exp: NumericDate,
    pub nbf: Option<NumericDate>,
    pub iat: Option<NumericDate>,
    pub auth_time: Option<NumericDate>,
    /// Cognito: `access` or `id`.
    pub token_use: Option<String>,
    /// Cognito access tokens name their app client here.
    pub client_id: Option<String>,
    /// A string or an array of strings in the token; always a list here.
    pub aud: Vec<String>,
    /// From the space-separated `scope` string (or an `scp` array, as some issuers send).
    pub scopes: Vec<String>,
    pub jti: Option<String>,
    /// Cognito: the id shared by every token of one refresh session.
    pub origin_jti: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    /// Authentication methods (`amr`, RFC 8176), for MFA policy.
    pub amr: Vec<String>,
    /// The claims not typed above, as sent: provider-specific ones (groups, custom MFA claims).
    pub raw: Map<String, Value>,
}

impl Claims {
    /// Types the registered and Cognito claims, taking them out of the map (no copies); what
    /// is left stays in `raw`.
    pub fn from_map(map: UniqueMap) -> Result<Self, Rejection> {
        let mut m = map.0;
        let exp = match m.remove("exp") {
            None => return Err(Rejection::MissingExp),
            Some(v) => date(&v)?,
        };
        let username = match take(&mut m, "username", string)? {
            Some(u) => Some(u),
            None => take(&mut m, "cognito:username", string)?,
        };
        let scopes = match take(&mut m, "scope", string)? {
            Some(s) => s
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            None => take(&mut m, "scp", string_list)?.unwrap_or_default(),
        };
        Ok(Claims {
            iss: required_string(&mut m, "iss")?,
            sub: required_string(&mut m, "sub")?,
            exp,
            nbf: take(&mut m, "nbf", |v| date(&v))?,
            iat: take(&mut m, "iat", |v| date(&v))?,
            auth_time: take(&mut m, "auth_time", |v| date(&v))?,
            token_use: take(&mut m, "token_use", string)?,
            client_id: take(&mut m, "client_id", string)?,
            aud: take(&mut m, "aud", string_or_list)?.unwrap_or_default(),
            scopes,
            jti: take(&mut m, "jti", string)?,
            origin_jti: take(&mut m, "origin_jti", string)?,
            username,
            email: take(&mut m, "email", string)?,
            amr: take(&mut m, "amr", string_list)?.unwrap_or_default(),
            raw: m,
        })
    }

    /// A list-of-strings claim by name (such as `cognito:groups`); absent is empty, any other
    /// type is an invalid token.
    pub fn string_list(&self, name: &str) -> Result<Vec<String>, Rejection> {
        match self.raw.get(name) {
            None => Ok(Vec::new()),
            Some(v) => string_list(v.clone()),
        }
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

fn take<T>(
    m: &mut Map<String, Value>,
    name: &str,
    f: impl Fn(Value) -> Result<T, Rejection>,
) -> Result<Option<T>, Rejection> {
    m.remove(name).map(f).transpose()
}

fn required_string(m: &mut Map<String, Value>, name: &str) -> Result<String, Rejection> {
    match take(m, name, string)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(Rejection::BadClaims),
    }
}

fn string(v: Value) -> Result<String, Rejection> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(Rejection::BadClaims),
    }
}

fn string_list(v: Value) -> Result<Vec<String>, Rejection> {
    match v {
        Value::Array(items) => items.into_iter().map(string).collect(),
        _ => Err(Rejection::BadClaims),
    }
}

fn string_or_list(v: Value) -> Result<Vec<String>, Rejection> {
    match v {
        Value::String(s) => Ok(vec![s]),
        other => string_list(other),
    }
}

/// A NumericDate: a JSON number (not a string, not a bool) within a sane range.
fn date(v: &Value) -> Result<NumericDate, Rejection> {
    const MAX: f64 = 253_402_300_799.0; // 9999-12-31T23:59:59Z
    if let Some(i) = v.as_i64() {
        return if (0..=MAX as i64).contains(&i) {
            Ok(i)
        } else {
            Err(Rejection::BadClaims)
        };
    }
    match v.as_f64() {
        Some(f) if f.is_finite() && (0.0..=MAX).contains(&f) => Ok(f.trunc() as i64),
        _ => Err(Rejection::BadClaims),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Claims, Rejection> {
        Claims::from_map(UniqueMap::parse(s.as_bytes())?)
    }

    #[test]
    fn cognito_access_token_claims() {
        let c = parse(
            r#"{"iss":"https://i","sub":"s","exp":2000000000,"iat":1999999000.5,"token_use":"access",
               "client_id":"c","scope":"openid  read","cognito:groups":["g1"],"username":"u","jti":"j"}"#,
        )
        .expect("valid");
        assert_eq!((c.exp, c.iat), (2_000_000_000, Some(1_999_999_000)));
        assert_eq!(c.scopes, ["openid", "read"]);
        assert_eq!(c.string_list("cognito:groups"), Ok(vec!["g1".to_owned()]));
        assert_eq!(c.username.as_deref(), Some("u"));
        assert!(c.aud.is_empty());
    }

    #[test]
    fn missing_and_mistyped_claims() {
        assert_eq!(
            parse(r#"{"iss":"i","sub":"s"}"#),
            Err(Rejection::MissingExp)
        );
        for bad in [
            r#"{"iss":"i","sub":"s","exp":"2000000000"}"#,
            r#"{"iss":"i","sub":"s","exp":true}"#,
            r#"{"iss":"i","sub":"s","exp":-1}"#,
            r#"{"iss":"i","sub":"s","exp":1e300}"#,
            r#"{"iss":"i","sub":"s","exp":1,"nbf":"0"}"#,
            r#"{"iss":"i","sub":"s","exp":1,"aud":[1]}"#,
            r#"{"iss":"i","sub":"s","exp":1,"token_use":["access"]}"#,
            r#"{"iss":"i","sub":"s","exp":1,"scope":["a"]}"#,
            r#"{"iss":"i","sub":5,"exp":1}"#,
            r#"{"iss":"i","sub":"","exp":1}"#,
            r#"{"iss":"i","exp":1}"#,
        ] {
            assert_eq!(parse(bad).map(|_| ()), Err(Rejection::BadClaims), "{bad}");
        }
        let c = parse(r#"{"iss":"i","sub":"s","exp":1,"cognito:groups":"admin"}"#).expect("parses");
        assert_eq!(c.string_list("cognito:groups"), Err(Rejection::BadClaims));
    }

    #[test]
    fn aud_string_or_list() {
        let c = parse(r#"{"iss":"i","sub":"s","exp":1,"aud":"api"}"#).expect("valid");
        assert_eq!(c.aud, ["api"]);
        let c = parse(r#"{"iss":"i","sub":"s","exp":1,"aud":["a","b"]}"#).expect("valid");
        assert_eq!(c.aud, ["a", "b"]);
    }
}
