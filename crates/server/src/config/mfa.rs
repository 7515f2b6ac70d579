//! `[mfa]`: the MFA step-up policy (RFC 9470). Which tokens count as MFA-proven, which routes
//! always need that proof, and the defaults of the `mfa.*` runtime flags. See docs/sessions.md,
//! "MFA step-up".

use super::ConfigError;
use super::list;
use portcullis_store::Role;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::str::FromStr;

/// A role that `mfa.required_roles` can name: an org role, or platform admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MfaRole {
    Org(Role),
    PlatformAdmin,
}

impl MfaRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MfaRole::Org(r) => r.as_str(),
            MfaRole::PlatformAdmin => "platform_admin",
        }
    }
}

impl FromStr for MfaRole {
    type Err = portcullis_store::UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "platform_admin" {
            Ok(MfaRole::PlatformAdmin)
        } else {
            s.parse().map(MfaRole::Org)
        }
    }
}

impl Serialize for MfaRole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A list of roles, written like every other list setting; an unknown name is refused with
/// the names that are accepted.
fn role_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<MfaRole>, D::Error> {
    list::comma_list(d)?
        .iter()
        .map(|r| {
            r.parse().map_err(|_| {
                de::Error::custom("roles are viewer, member, admin, owner and platform_admin")
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaConfig {
    /// Default of the `mfa.required` flag: every org (and every route) needs MFA proof.
    pub required: bool,
    /// Default of the `mfa.required_roles` flag: `viewer`, `member`, `admin`, `owner`,
    /// `platform_admin`.
    #[serde(deserialize_with = "role_list")]
    pub required_roles: Vec<MfaRole>,
    /// Route templates, exactly as routed (`/v1/orgs/{org_id}/members`), that always need MFA
    /// proof, whoever calls them and whatever the flags say.
    #[serde(deserialize_with = "list::comma_list")]
    pub routes: Vec<String>,
    /// The claim that carries the proof: `amr` (RFC 8176), or a custom claim such as
    /// `custom:mfa` added by a Cognito pre token generation trigger.
    pub claim: String,
    /// The claim satisfies the policy when it is, or (for an array) contains, one of these.
    #[serde(deserialize_with = "list::comma_list")]
    pub values: Vec<String>,
    /// Sent as `acr_values` in the step-up challenge, space-separated; empty: not sent.
    #[serde(deserialize_with = "list::comma_list")]
    pub acr_values: Vec<String>,
    /// With a value, the proof must also be recent: `auth_time` at most this old. Sent as
    /// `max_age` in the challenge.
    pub max_age_secs: Option<u64>,
}

impl Default for MfaConfig {
    fn default() -> Self {
        Self {
            required: false,
            required_roles: Vec::new(),
            routes: Vec::new(),
            claim: "amr".into(),
            values: ["mfa", "otp", "hwk", "swk", "sms"]
                .map(str::to_owned)
                .to_vec(),
            acr_values: Vec::new(),
            max_age_secs: None,
        }
    }
}

/// What may appear inside a quoted `WWW-Authenticate` parameter without escaping.
fn header_safe(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

impl MfaConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.claim.trim().is_empty() {
            return Err(ConfigError::setting("mfa.claim", "must name a claim"));
        }
        if self.values.is_empty() {
            return Err(ConfigError::setting(
                "mfa.values",
                "must list at least one accepted value",
            ));
        }
        if self
            .routes
            .iter()
            .any(|r| !r.starts_with('/') || r.contains(char::is_whitespace))
        {
            return Err(ConfigError::setting(
                "mfa.routes",
                "must be route templates such as /v1/orgs/{org_id}/members",
            ));
        }
        if !self.acr_values.iter().all(|v| header_safe(v)) {
            return Err(ConfigError::setting(
                "mfa.acr_values",
                "values must be printable ASCII without spaces, quotes or backslashes",
            ));
        }
        if self.max_age_secs == Some(0) {
            return Err(ConfigError::setting(
                "mfa.max_age_secs",
                "must be at least 1 (leave it unset for no age limit)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::super::{Profile, load};
    use super::*;
    use figment::Jail;

    #[test]
    fn roles_parse() {
        assert_eq!("owner".parse::<MfaRole>(), Ok(MfaRole::Org(Role::Owner)));
        assert_eq!(
            "platform_admin".parse::<MfaRole>(),
            Ok(MfaRole::PlatformAdmin)
        );
        assert!("root".parse::<MfaRole>().is_err());
    }

    #[test]
    fn mfa_settings_come_from_the_environment() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_MFA__REQUIRED", "true");
            jail.set_env("PORTCULLIS_MFA__REQUIRED_ROLES", "owner,platform_admin");
            jail.set_env("PORTCULLIS_MFA__ROUTES", "/v1/orgs/{org_id}/members");
            jail.set_env("PORTCULLIS_MFA__CLAIM", "custom:mfa");
            jail.set_env("PORTCULLIS_MFA__VALUES", "true");
            jail.set_env("PORTCULLIS_MFA__ACR_VALUES", "mfa");
            jail.set_env("PORTCULLIS_MFA__MAX_AGE_SECS", "300");
            let c = load(Profile::Standard, None).expect("valid");
            assert!(c.mfa.required);
            assert_eq!(
                c.mfa.required_roles,
                [MfaRole::Org(Role::Owner), MfaRole::PlatformAdmin]
            );
            assert_eq!(c.mfa.routes, ["/v1/orgs/{org_id}/members"]);
            assert_eq!(c.mfa.claim, "custom:mfa");
            assert_eq!(c.mfa.values, ["true"]);
            assert_eq!(c.mfa.acr_values, ["mfa"]);
            assert_eq!(c.mfa.max_age_secs, Some(300));
            // `check-config` prints the roles as they were written.
            let shown = serde_json::to_value(&c.mfa).expect("serializes");
            assert_eq!(
                shown["required_roles"],
                serde_json::json!(["owner", "platform_admin"])
            );
            Ok(())
        });
    }

    #[test]
    fn an_unknown_role_is_refused_with_the_accepted_ones() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_MFA__REQUIRED_ROLES", "owner,root");
            let e = load(Profile::Standard, None).expect_err("root is no role");
            assert_eq!(
                e.to_string(),
                "invalid configuration: PORTCULLIS_MFA__REQUIRED_ROLES: roles are viewer, \
                 member, admin, owner and platform_admin"
            );
            jail.clear_env();
            jail.create_file("p.toml", "[mfa]\nrequired_roles = [\"admin\", \"root\"]\n")?;
            let e = load(Profile::Standard, Some(std::path::Path::new("p.toml")))
                .expect_err("root is no role");
            assert!(
                e.setting.starts_with("mfa.required_roles in ") && e.setting.ends_with("p.toml"),
                "{e}"
            );
            Ok(())
        });
    }

    #[test]
    fn invalid_mfa_settings_are_named() {
        let cases: &[(&str, &str, &str)] = &[
            ("PORTCULLIS_MFA__ROUTES", "v1/me", "PORTCULLIS_MFA__ROUTES"),
            ("PORTCULLIS_MFA__CLAIM", " ", "PORTCULLIS_MFA__CLAIM"),
            (
                "PORTCULLIS_MFA__ACR_VALUES",
                "a\"b",
                "PORTCULLIS_MFA__ACR_VALUES",
            ),
            (
                "PORTCULLIS_MFA__MAX_AGE_SECS",
                "0",
                "PORTCULLIS_MFA__MAX_AGE_SECS",
            ),
        ];
        for (var, value, expected) in cases {
            Jail::expect_with(|jail| {
                jail.set_env(var, value);
                let e = load(Profile::Standard, None).expect_err("must be refused");
                assert!(e.to_string().contains(expected), "{e}");
                Ok(())
            });
        }
    }
}
