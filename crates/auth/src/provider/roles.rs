//! Roles read from a token: which claim holds them (a path into nested objects), how its value
//! is read, and which roles make a platform admin.

use crate::jwt::Claims;
use crate::rejection::Rejection;
use serde_json::{Map, Value};

/// The role that makes a platform admin unless a profile is told otherwise.
pub const DEFAULT_ADMIN_ROLE: &str = "portcullis-admin";

/// Where a token keeps its roles: `cognito:groups`, `realm_access.roles`,
/// `resource_access.my.app.roles` or `https://example.com/roles`.
///
/// Dots step into nested objects, but claim names may contain dots themselves (URLs, client ids
/// such as `my.app`). So at each level the longest dot-joined prefix of what is left of the path
/// that names a member is taken, and the rest is looked up inside that member: a claim named
/// `https://example.com/roles` is found whole before `https://example` is tried, and
/// `resource_access.my.app.roles` finds a client named `my.app`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath(String);

impl ClaimPath {
    /// A path is non-empty and has no empty step (`a..b`, a leading or trailing dot).
    pub fn new(path: impl Into<String>) -> Result<Self, &'static str> {
        let path = path.into();
        if path.is_empty() {
            return Err("roles_claim must not be empty");
        }
        if path.split('.').any(str::is_empty) {
            return Err("roles_claim must not have an empty step (`..`, or a dot at either end)");
        }
        Ok(Self(path))
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value at this path, if the token has one. A member on the way that is not an
    /// object makes the claims invalid rather than the roles empty: the issuer sent a shape
    /// nobody configured for.
    pub fn find<'a>(&self, claims: &'a Map<String, Value>) -> Result<Option<&'a Value>, Rejection> {
        find(claims, &self.0)
    }
}

fn find<'a>(obj: &'a Map<String, Value>, rest: &str) -> Result<Option<&'a Value>, Rejection> {
    if let Some(v) = obj.get(rest) {
        return Ok(Some(v));
    }
    for (at, _) in rest.rmatch_indices('.') {
        if let Some(v) = obj.get(&rest[..at]) {
            return match v {
                Value::Object(inner) => find(inner, &rest[at + 1..]),
                _ => Err(Rejection::BadClaims),
            };
        }
    }
    Ok(None)
}

/// The roles in a claim's value: an array of strings, a single string, or a comma-joined
/// string (Cognito groups as API Gateway passes them on). Anything else is an invalid token.
pub fn role_values(value: &Value) -> Result<Vec<String>, Rejection> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or(Rejection::BadClaims))
            .collect(),
        Value::String(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect()),
        _ => Err(Rejection::BadClaims),
    }
}

/// A profile's role rule: where roles are read from, and which make a platform admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    claim: Option<ClaimPath>,
    admin: Vec<String>,
}

impl Roles {
    /// Roles from `claim` (none at all when `None`), admin by [`DEFAULT_ADMIN_ROLE`].
    pub fn new(claim: Option<ClaimPath>) -> Self {
        Self {
            claim,
            admin: vec![DEFAULT_ADMIN_ROLE.to_owned()],
        }
    }

    /// Reads roles from `path` (a static default of a profile).
    pub(crate) fn at(path: &'static str) -> Self {
        Self::new(Some(ClaimPath(path.to_owned())))
    }

    /// Reads roles from `claim` (none when `None`).
    pub fn with_claim(mut self, claim: Option<ClaimPath>) -> Self {
        self.claim = claim;
        self
    }

    /// The roles that make a platform admin.
    pub fn with_admin_roles(mut self, admin: Vec<String>) -> Self {
        self.admin = admin;
        self
    }

    /// Where roles are read, if anywhere.
    pub fn claim(&self) -> Option<&ClaimPath> {
        self.claim.as_ref()
    }

    /// The roles in `claims`; a roles claim of the wrong type is an invalid token.
    pub fn read(&self, claims: &Claims) -> Result<Vec<String>, Rejection> {
        match &self.claim {
            None => Ok(Vec::new()),
            Some(path) => path.find(&claims.raw)?.map_or(Ok(Vec::new()), role_values),
        }
    }

    /// Whether one of `roles` is an admin role.
    pub fn is_admin(&self, roles: &[String]) -> bool {
        roles.iter().any(|r| self.admin.contains(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn roles(path: &str, claims: Value) -> Result<Vec<String>, Rejection> {
        let path = ClaimPath::new(path).expect("path");
        match path.find(&map(claims))? {
            None => Ok(Vec::new()),
            Some(v) => role_values(v),
        }
    }

    #[test]
    fn dotted_paths_step_into_objects() {
        let c = json!({"realm_access": {"roles": ["a", "b"]}});
        assert_eq!(
            roles("realm_access.roles", c),
            Ok(vec!["a".into(), "b".into()])
        );
        let c = json!({"resource_access": {"my.app": {"roles": ["x"]}, "my": {"other": 1}}});
        assert_eq!(
            roles("resource_access.my.app.roles", c),
            Ok(vec!["x".into()])
        );
    }

    #[test]
    fn names_with_dots_and_colons_are_found_whole() {
        let c = json!({"https://example.com/roles": ["r"], "cognito:groups": ["g"]});
        assert_eq!(
            roles("https://example.com/roles", c.clone()),
            Ok(vec!["r".into()])
        );
        assert_eq!(roles("cognito:groups", c), Ok(vec!["g".into()]));
    }

    #[test]
    fn strings_and_comma_joined_strings_are_roles() {
        assert_eq!(roles("g", json!({"g": "admin"})), Ok(vec!["admin".into()]));
        assert_eq!(
            roles("g", json!({"g": "admin, dev,,ops"})),
            Ok(vec!["admin".into(), "dev".into(), "ops".into()])
        );
        assert_eq!(roles("g", json!({})), Ok(vec![]));
        assert_eq!(roles("a.b", json!({"a": {}})), Ok(vec![]));
    }

    #[test]
    fn other_shapes_are_invalid() {
        for c in [
            json!({"g": 1}),
            json!({"g": [1]}),
            json!({"g": {"x": "y"}}),
            json!({"g": null}),
        ] {
            assert_eq!(roles("g", c.clone()), Err(Rejection::BadClaims), "{c}");
        }
        assert_eq!(roles("a.b", json!({"a": "b"})), Err(Rejection::BadClaims));
    }

    #[test]
    fn empty_steps_are_refused() {
        for p in ["", ".", "a.", ".a", "a..b"] {
            assert!(ClaimPath::new(p).is_err(), "{p}");
        }
    }
}
