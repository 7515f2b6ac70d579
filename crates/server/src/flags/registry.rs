//! Every runtime flag the server knows: its name, type, scope and meaning. A flag not listed
//! here cannot be set (404), and a value is checked against its flag's type before it reaches
//! the database (422).

use crate::config::MfaRole;
use serde::Serialize;
use serde_json::Value;

pub const MFA_REQUIRED: &str = "mfa.required";
pub const MFA_REQUIRED_ROLES: &str = "mfa.required_roles";
pub const REVOCATION_CHECK_READS: &str = "revocation.check_reads";
pub const JIT_PROVISIONING: &str = "jit.provisioning";
pub const WS_REVALIDATE_SECS: &str = "ws.revalidate_secs";
pub const AUTH_CLIENT_IDS: &str = "auth.client_ids";

/// Inclusive bounds of `ws.revalidate_secs`; defined with the configured default they bound.
pub use crate::config::WS_REVALIDATE_SECS_RANGE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagType {
    Bool,
    Integer,
    /// A JSON array of strings.
    StringList,
    /// A JSON array of role names: `viewer`, `member`, `admin`, `owner`, `platform_admin`.
    RoleList,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagScope {
    /// One value for the whole platform.
    Global,
    /// A global value, and optional per-org values that override it for one org.
    GlobalAndOrg,
}

#[derive(Debug, Clone, Copy)]
pub struct FlagDef {
    pub name: &'static str,
    pub ty: FlagType,
    pub scope: FlagScope,
    /// Inclusive bounds of an integer flag.
    pub range: Option<(i64, i64)>,
    pub description: &'static str,
}

pub const REGISTRY: &[FlagDef] = &[
    FlagDef {
        name: AUTH_CLIENT_IDS,
        ty: FlagType::StringList,
        scope: FlagScope::Global,
        range: None,
        description: "Cognito app client ids accepted at request time: a non-empty subset of \
                      the configured auth.client_ids (narrows, never widens). Default: all of them.",
    },
    FlagDef {
        name: JIT_PROVISIONING,
        ty: FlagType::Bool,
        scope: FlagScope::Global,
        range: None,
        description: "When false, a valid token of a user not yet in the database gets 403 \
                      instead of being provisioned (pre-provisioned members still sign in).",
    },
    FlagDef {
        name: MFA_REQUIRED,
        ty: FlagType::Bool,
        scope: FlagScope::GlobalAndOrg,
        range: None,
        description: "Require MFA proof: globally (every authenticated route), or for one org's \
                      routes (a per-org value overrides the global one for that org).",
    },
    FlagDef {
        name: MFA_REQUIRED_ROLES,
        ty: FlagType::RoleList,
        scope: FlagScope::Global,
        range: None,
        description: "Callers holding one of these roles in the org of the route (or \
                      platform_admin, on every route) need MFA proof.",
    },
    FlagDef {
        name: REVOCATION_CHECK_READS,
        ty: FlagType::Bool,
        scope: FlagScope::Global,
        range: None,
        description: "When false, GET and HEAD requests skip the revocation check (a revoked \
                      token can read until it expires; writes are always checked).",
    },
    FlagDef {
        name: WS_REVALIDATE_SECS,
        ty: FlagType::Integer,
        scope: FlagScope::Global,
        range: Some(WS_REVALIDATE_SECS_RANGE),
        description: "How often each WebSocket re-validates its token, in seconds.",
    },
];

pub fn lookup(name: &str) -> Option<&'static FlagDef> {
    REGISTRY.iter().find(|d| d.name == name)
}

/// Why a value does not fit its flag; the text is for the log, the client gets a generic 422.
pub type Invalid = &'static str;

/// At most this many items in a list flag, each at most this long.
const MAX_ITEMS: usize = 64;
const MAX_ITEM_LEN: usize = 256;

impl FlagDef {
    /// Checks `value` against the flag's type and returns it normalized (lists without
    /// duplicates). `null` is always accepted: it removes the override (see `Flags`).
    /// `configured_clients` bounds `auth.client_ids`.
    pub fn check(&self, value: &Value, configured_clients: &[String]) -> Result<Value, Invalid> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        match self.ty {
            FlagType::Bool => value
                .as_bool()
                .map(Value::Bool)
                .ok_or("the flag takes true or false"),
            FlagType::Integer => {
                let n = value.as_i64().ok_or("the flag takes an integer")?;
                match self.range {
                    Some((lo, hi)) if !(lo..=hi).contains(&n) => {
                        Err("the value is outside the flag's range")
                    }
                    _ => Ok(Value::from(n)),
                }
            }
            FlagType::StringList => {
                let items = string_list(value)?;
                if self.name == AUTH_CLIENT_IDS {
                    if items.is_empty() {
                        return Err(
                            "auth.client_ids cannot be empty (that would refuse every token)",
                        );
                    }
                    if !items.iter().all(|i| configured_clients.contains(i)) {
                        return Err("auth.client_ids can only narrow the configured client ids");
                    }
                }
                Ok(Value::from(items))
            }
            FlagType::RoleList => {
                let items = string_list(value)?;
                if items.iter().any(|r| r.parse::<MfaRole>().is_err()) {
                    return Err("unknown role");
                }
                Ok(Value::from(items))
            }
        }
    }
}

fn string_list(value: &Value) -> Result<Vec<String>, Invalid> {
    let arr = value
        .as_array()
        .ok_or("the flag takes an array of strings")?;
    if arr.len() > MAX_ITEMS {
        return Err("too many items");
    }
    let mut out: Vec<String> = Vec::with_capacity(arr.len());
    for v in arr {
        let s = v.as_str().ok_or("the flag takes an array of strings")?;
        if s.is_empty() || s.len() > MAX_ITEM_LEN || s.chars().any(char::is_control) {
            return Err("list items must be 1 to 256 printable characters");
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(name: &str) -> &'static FlagDef {
        lookup(name).expect("registered")
    }

    #[test]
    fn values_are_typed() {
        let clients = ["a".to_owned(), "b".to_owned()];
        assert_eq!(
            def(MFA_REQUIRED).check(&json!(true), &clients),
            Ok(json!(true))
        );
        assert!(def(MFA_REQUIRED).check(&json!("true"), &clients).is_err());
        assert!(def(MFA_REQUIRED).check(&json!(1), &clients).is_err());
        assert_eq!(
            def(WS_REVALIDATE_SECS).check(&json!(5), &clients),
            Ok(json!(5))
        );
        assert!(def(WS_REVALIDATE_SECS).check(&json!(4), &clients).is_err());
        assert!(
            def(WS_REVALIDATE_SECS)
                .check(&json!(3601), &clients)
                .is_err()
        );
        assert!(
            def(WS_REVALIDATE_SECS)
                .check(&json!(30.5), &clients)
                .is_err()
        );
        assert_eq!(
            def(MFA_REQUIRED_ROLES).check(&json!(["owner", "owner", "platform_admin"]), &clients),
            Ok(json!(["owner", "platform_admin"]))
        );
        assert!(
            def(MFA_REQUIRED_ROLES)
                .check(&json!(["root"]), &clients)
                .is_err()
        );
        assert!(
            def(MFA_REQUIRED_ROLES)
                .check(&json!("owner"), &clients)
                .is_err()
        );
        assert_eq!(
            def(AUTH_CLIENT_IDS).check(&json!(["a"]), &clients),
            Ok(json!(["a"]))
        );
        assert!(def(AUTH_CLIENT_IDS).check(&json!(["c"]), &clients).is_err());
        assert!(def(AUTH_CLIENT_IDS).check(&json!([]), &clients).is_err());
        assert!(def(AUTH_CLIENT_IDS).check(&json!([1]), &clients).is_err());
        assert_eq!(
            def(JIT_PROVISIONING).check(&json!(null), &clients),
            Ok(json!(null))
        );
    }

    #[test]
    fn names_are_unique_and_valid_store_names() {
        for (i, d) in REGISTRY.iter().enumerate() {
            assert!(REGISTRY[i + 1..].iter().all(|o| o.name != d.name));
            assert!(
                portcullis_store::validate::kind(d.name).is_ok(),
                "{}",
                d.name
            );
        }
    }
}
