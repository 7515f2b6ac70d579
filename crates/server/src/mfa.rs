//! MFA step-up (RFC 9470; docs/sessions.md, "MFA step-up").
//!
//! When MFA proof is required, and how it is proven:
//!
//! - required: on every authenticated route when the global `mfa.required` flag is on (org
//!   routes follow their org's value, which overrides the global one); on an org's routes when
//!   that org's `mfa.required` is on; for callers holding a role listed in
//!   `mfa.required_roles` (their role in the org of the route, or `platform_admin` anywhere);
//!   and on the route templates of `mfa.routes` (configuration) for everyone.
//! - proven: the configured claim (`mfa.claim`, default `amr`) is, or contains, one of
//!   `mfa.values`; with `mfa.max_age_secs`, `auth_time` must also be at most that old.
//!
//! A token without proof gets 401 with
//! `WWW-Authenticate: Bearer error="insufficient_user_authentication", ...` carrying
//! `acr_values` and `max_age` when configured, so the client knows to re-authenticate with
//! MFA and retry. Org routes are checked in the guard after the membership check, so the
//! challenge is no oracle for which orgs exist.

use crate::config::MfaConfig;
use axum::http::HeaderValue;
use portcullis_auth::VerifiedClaims;
use portcullis_auth::jwt::Claims;
use serde_json::Value;

/// What the policy reads of a token: its `amr` values, another claim by name and `auth_time`.
/// Both forms of a token's claims have them: the verified form requests carry, and the parsed
/// form.
pub trait MfaClaims {
    fn amr_has(&self, f: impl Fn(&str) -> bool) -> bool;
    fn claim(&self, name: &str) -> Option<&Value>;
    fn auth_time(&self) -> Option<i64>;
}

impl MfaClaims for VerifiedClaims {
    fn amr_has(&self, f: impl Fn(&str) -> bool) -> bool {
        self.amr.iter().any(|v| f(v))
    }
    fn claim(&self, name: &str) -> Option<&Value> {
        self.raw.get(name)
    }
    fn auth_time(&self) -> Option<i64> {
        self.auth_time
    }
}

impl MfaClaims for Claims {
    fn amr_has(&self, f: impl Fn(&str) -> bool) -> bool {
        self.amr.iter().any(|v| f(v))
    }
    fn claim(&self, name: &str) -> Option<&Value> {
        self.raw.get(name)
    }
    fn auth_time(&self) -> Option<i64> {
        self.auth_time
    }
}

pub const LEVEL_DESCRIPTION: &str = "A different authentication level is required";
pub const AGE_DESCRIPTION: &str = "More recent authentication is required";

/// A refusal for want of MFA proof, with the `WWW-Authenticate` challenge that tells the client
/// how to step up (HTTP answers it as 401; a socket closes or refuses the operation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUp(pub HeaderValue);

/// Why a token does not satisfy the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortfall {
    /// The claim is missing or carries no accepted value.
    NoProof,
    /// Proof is there but `auth_time` is missing or older than `max_age_secs`.
    TooOld,
}

/// The static part of the policy, from `[mfa]`; what is required when comes from the flags.
#[derive(Debug, Clone)]
pub struct MfaPolicy {
    claim: String,
    values: Vec<String>,
    routes: Vec<String>,
    max_age_secs: Option<i64>,
    acr_values: Option<String>,
}

impl MfaPolicy {
    pub fn from_config(config: &MfaConfig) -> Self {
        Self {
            claim: config.claim.clone(),
            values: config.values.clone(),
            routes: config.routes.clone(),
            max_age_secs: config
                .max_age_secs
                .map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
            acr_values: (!config.acr_values.is_empty()).then(|| config.acr_values.join(" ")),
        }
    }

    /// Whether the route template (as routed, e.g. `/v1/orgs/{org_id}/members`) always needs
    /// MFA proof.
    pub fn route_requires(&self, template: &str) -> bool {
        self.routes.iter().any(|r| r == template)
    }

    /// Whether the token proves MFA (and, with `max_age_secs`, recently enough) at `now`
    /// (Unix seconds).
    pub fn satisfied(&self, claims: &impl MfaClaims, now: i64) -> Result<(), Shortfall> {
        let proven = if self.claim == "amr" {
            claims.amr_has(|v| self.accepts(v))
        } else {
            match claims.claim(&self.claim) {
                Some(Value::String(s)) => self.accepts(s),
                Some(Value::Array(items)) => items
                    .iter()
                    .any(|v| v.as_str().is_some_and(|s| self.accepts(s))),
                // Pre token generation triggers may add a JSON boolean or number.
                Some(Value::Bool(b)) => self.accepts(if *b { "true" } else { "false" }),
                Some(Value::Number(n)) => self.accepts(&n.to_string()),
                _ => false,
            }
        };
        if !proven {
            return Err(Shortfall::NoProof);
        }
        match self.max_age_secs {
            None => Ok(()),
            Some(max) => match claims.auth_time() {
                Some(t) if now.saturating_sub(t) <= max => Ok(()),
                _ => Err(Shortfall::TooOld),
            },
        }
    }

    fn accepts(&self, v: &str) -> bool {
        self.values.iter().any(|a| a == v)
    }

    /// The RFC 9470 challenge for a shortfall.
    pub fn challenge(&self, why: Shortfall) -> HeaderValue {
        let description = match why {
            Shortfall::NoProof => LEVEL_DESCRIPTION,
            Shortfall::TooOld => AGE_DESCRIPTION,
        };
        let mut v = format!(
            "Bearer error=\"insufficient_user_authentication\", error_description=\"{description}\""
        );
        if let Some(acr) = &self.acr_values {
            v.push_str(&format!(", acr_values=\"{acr}\""));
        }
        if let Some(max) = self.max_age_secs {
            v.push_str(&format!(", max_age=\"{max}\""));
        }
        // The configuration is validated to be header-safe; this cannot fail.
        HeaderValue::from_str(&v).unwrap_or_else(|_| {
            HeaderValue::from_static("Bearer error=\"insufficient_user_authentication\"")
        })
    }

    /// `Ok` if the token proves MFA, else the step-up challenge.
    pub fn require(&self, claims: &impl MfaClaims, now: i64) -> Result<(), StepUp> {
        self.satisfied(claims, now)
            .map_err(|why| StepUp(self.challenge(why)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_auth::jwt::Payload;

    fn claims(json: &str) -> Claims {
        Claims::from_payload(Payload::parse(json.as_bytes()).expect("json")).expect("claims")
    }

    #[test]
    fn amr_proof_and_challenges() {
        let p = MfaPolicy::from_config(&MfaConfig::default());
        let now = 2_000_000_000;
        assert_eq!(
            p.satisfied(&claims(r#"{"iss":"i","sub":"s","exp":1}"#), now),
            Err(Shortfall::NoProof)
        );
        assert_eq!(
            p.satisfied(
                &claims(r#"{"iss":"i","sub":"s","exp":1,"amr":["pwd"]}"#),
                now
            ),
            Err(Shortfall::NoProof)
        );
        assert_eq!(
            p.satisfied(
                &claims(r#"{"iss":"i","sub":"s","exp":1,"amr":["pwd","otp"]}"#),
                now
            ),
            Ok(())
        );
        assert_eq!(
            p.challenge(Shortfall::NoProof).to_str().expect("ascii"),
            r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required""#
        );
    }

    #[test]
    fn custom_claim_and_max_age() {
        let p = MfaPolicy::from_config(&MfaConfig {
            claim: "custom:mfa".into(),
            values: vec!["true".into()],
            acr_values: vec!["urn:mfa".into(), "phr".into()],
            max_age_secs: Some(300),
            ..MfaConfig::default()
        });
        let now = 2_000_000_000;
        let c = |extra: &str| claims(&format!(r#"{{"iss":"i","sub":"s","exp":1{extra}}}"#));
        assert_eq!(
            p.satisfied(&c(r#","custom:mfa":"true","auth_time":1999999900"#), now),
            Ok(())
        );
        assert_eq!(
            p.satisfied(&c(r#","custom:mfa":true,"auth_time":1999999900"#), now),
            Ok(())
        );
        assert_eq!(
            p.satisfied(&c(r#","amr":["mfa"],"auth_time":1999999900"#), now),
            Err(Shortfall::NoProof),
            "only the configured claim counts"
        );
        assert_eq!(
            p.satisfied(&c(r#","custom:mfa":"true","auth_time":1999999000"#), now),
            Err(Shortfall::TooOld)
        );
        assert_eq!(
            p.satisfied(&c(r#","custom:mfa":"true""#), now),
            Err(Shortfall::TooOld),
            "no auth_time: cannot show it is recent"
        );
        assert_eq!(
            p.challenge(Shortfall::TooOld).to_str().expect("ascii"),
            r#"Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", acr_values="urn:mfa phr", max_age="300""#
        );
    }
}
