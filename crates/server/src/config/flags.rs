//! `[flags]`: defaults of the runtime flags that are not MFA settings. The database overrides
//! them at run time (`PUT /v1/admin/flags/{name}`); see docs/sessions.md, "Feature flags".

use super::ConfigError;
use serde::{Deserialize, Serialize};

/// Inclusive bounds of the `ws.revalidate_secs` flag, which also bound its configured default
/// (the flag registry uses the same pair).
pub const WS_REVALIDATE_SECS_RANGE: (i64, i64) = (5, 3600);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlagsConfig {
    /// Default of `revocation.check_reads`.
    pub revocation_check_reads: bool,
    /// Default of `jit.provisioning`.
    pub jit_provisioning: bool,
    /// Default of `ws.revalidate_secs`, within the flag's own range (5 to 3600).
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
        let (lo, hi) = WS_REVALIDATE_SECS_RANGE;
        if !i64::try_from(self.ws_revalidate_secs).is_ok_and(|s| (lo..=hi).contains(&s)) {
            return Err(ConfigError::setting(
                "flags.ws_revalidate_secs",
                format!("must be between {lo} and {hi}"),
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
    fn flags_settings_come_from_the_environment() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_FLAGS__JIT_PROVISIONING", "false");
            jail.set_env("PORTCULLIS_FLAGS__REVOCATION_CHECK_READS", "false");
            jail.set_env("PORTCULLIS_FLAGS__WS_REVALIDATE_SECS", "60");
            let c = load(Profile::Standard, None).expect("valid");
            assert!(!c.flags.jit_provisioning && !c.flags.revocation_check_reads);
            assert_eq!(c.flags.ws_revalidate_secs, 60);
            Ok(())
        });
    }

    #[test]
    fn ws_revalidate_secs_outside_the_flag_range_is_refused() {
        for value in ["4", "3601"] {
            Jail::expect_with(|jail| {
                jail.set_env("PORTCULLIS_FLAGS__WS_REVALIDATE_SECS", value);
                let e = load(Profile::Standard, None).expect_err("must be refused");
                assert_eq!(
                    e.to_string(),
                    "invalid configuration: PORTCULLIS_FLAGS__WS_REVALIDATE_SECS: must be \
                     between 5 and 3600"
                );
                Ok(())
            });
        }
        for value in ["5", "3600"] {
            Jail::expect_with(|jail| {
                jail.set_env("PORTCULLIS_FLAGS__WS_REVALIDATE_SECS", value);
                load(Profile::Standard, None).expect("the bounds are inclusive");
                Ok(())
            });
        }
    }
}
