//! `[mfa]`: the MFA step-up policy (RFC 9470). Which tokens count as MFA-proven, which routes
//! always need that proof, and the defaults of the `mfa.*` runtime flags. See docs/sessions.md,
//! "MFA step-up".

use super::ConfigError;
use super::list;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaConfig {
    /// Default of the `mfa.required` flag: every org (and every route) needs MFA proof.
    pub required: bool,
    /// Default of the `mfa.required_roles` flag: `viewer`, `member`, `admin`, `owner`,
    /// `platform_admin`.
    #[serde(deserialize_with = "list::comma_list")]
    pub required_roles: Vec<String>,
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
            .required_roles
            .iter()
            .any(|r| r.parse::<crate::mfa::MfaRole>().is_err())
        {
            return Err(ConfigError::setting(
                "mfa.required_roles",
                "roles are viewer, member, admin, owner and platform_admin",
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

/// `[flags]`: defaults of the runtime flags that are not MFA settings. The database overrides
/// them at run time (`PUT /v1/admin/flags/{name}`); see docs/sessions.md, "Feature flags".
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlagsConfig {
    /// Default of `revocation.check_reads`.
    pub revocation_check_reads: bool,
    /// Default of `jit.provisioning`.
    pub jit_provisioning: bool,
    /// Default of `ws.revalidate_secs` (5 to 3600).
    pub ws_revalidate_secs: u64,
}

impl Default for FlagsConfig {
    fn default() -> Self {
        Self {
            revocation_check_reads: true,
            jit_provisioning: true,
            ws_revalidate_secs: 30,
        }
    }
}

impl FlagsConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(5..=3600).contains(&self.ws_revalidate_secs) {
            return Err(ConfigError::setting(
                "flags.ws_revalidate_secs",
                "must be between 5 and 3600",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::super::{Profile, load};
    use figment::Jail;

    #[test]
    fn mfa_and_flags_settings_come_from_the_environment() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_MFA__REQUIRED", "true");
            jail.set_env("PORTCULLIS_MFA__REQUIRED_ROLES", "owner,platform_admin");
            jail.set_env("PORTCULLIS_MFA__ROUTES", "/v1/orgs/{org_id}/members");
            jail.set_env("PORTCULLIS_MFA__CLAIM", "custom:mfa");
            jail.set_env("PORTCULLIS_MFA__VALUES", "true");
            jail.set_env("PORTCULLIS_MFA__ACR_VALUES", "mfa");
            jail.set_env("PORTCULLIS_MFA__MAX_AGE_SECS", "300");
            jail.set_env("PORTCULLIS_FLAGS__JIT_PROVISIONING", "false");
            jail.set_env("PORTCULLIS_FLAGS__WS_REVALIDATE_SECS", "60");
            let c = load(Profile::Standard, None).expect("valid");
            assert!(c.mfa.required);
            assert_eq!(c.mfa.required_roles, ["owner", "platform_admin"]);
            assert_eq!(c.mfa.routes, ["/v1/orgs/{org_id}/members"]);
            assert_eq!(c.mfa.claim, "custom:mfa");
            assert_eq!(c.mfa.values, ["true"]);
            assert_eq!(c.mfa.acr_values, ["mfa"]);
            assert_eq!(c.mfa.max_age_secs, Some(300));
            assert!(!c.flags.jit_provisioning);
            assert_eq!(c.flags.ws_revalidate_secs, 60);
            Ok(())
        });
    }

    #[test]
    fn invalid_mfa_and_flags_settings_are_named() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "PORTCULLIS_MFA__REQUIRED_ROLES",
                "root",
                "PORTCULLIS_MFA__REQUIRED_ROLES",
            ),
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
            (
                "PORTCULLIS_FLAGS__WS_REVALIDATE_SECS",
                "4",
                "PORTCULLIS_FLAGS__WS_REVALIDATE_SECS",
            ),
            (
                "PORTCULLIS_FLAGS__WS_REVALIDATE_SECS",
                "3601",
                "PORTCULLIS_FLAGS__WS_REVALIDATE_SECS",
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
