//! `PORTCULLIS_DATABASE_URL_FILE`, `PORTCULLIS_REDIS_URL_FILE` and
//! `PORTCULLIS_CLUSTER_SECRET_FILE`: the secret settings read from a file, the way container
//! platforms mount secrets, so the value never sits in the process environment. A file value
//! stands in the environment layer: it overrides the TOML file, and setting both the variable
//! and its `_FILE` is an error.

use super::{ConfigError, ENV_PREFIX};
use figment::providers::Env;
use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider, Source};
use std::collections::HashSet;

/// The settings that may come from a file.
const SECRETS: [&str; 3] = ["database_url", "redis_url", "cluster_secret"];

/// The figment metadata name of a file value; `ConfigError` names its `_FILE` variable.
pub(super) const METADATA_NAME: &str = "secret file";

/// One setting's value, read from the file its `_FILE` variable names.
pub struct SecretFile {
    setting: &'static str,
    variable: String,
    value: String,
}

impl Provider for SecretFile {
    fn metadata(&self) -> Metadata {
        Metadata::named(METADATA_NAME).source(Source::Custom(self.variable.clone()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        // Always a string: figment would read an all-digit secret from the environment as a
        // number, but a file holds text.
        dict.insert(self.setting.to_owned(), Value::from(self.value.clone()));
        Ok(Profile::Default.collect(dict))
    }
}

impl std::fmt::Debug for SecretFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretFile")
            .field("variable", &self.variable)
            .finish_non_exhaustive()
    }
}

fn variable(setting: &str) -> String {
    format!("{ENV_PREFIX}{}", setting.to_ascii_uppercase())
}

/// Reads every secret whose `_FILE` variable is set. The errors name the variables, never
/// what the file holds.
pub fn secret_files() -> Result<Vec<SecretFile>, ConfigError> {
    // Names as figment's own environment provider sees them: prefix stripped, lower case.
    let env: Vec<(String, String)> = Env::prefixed(ENV_PREFIX)
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .collect();
    let set: HashSet<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    let mut out = Vec::new();
    for setting in SECRETS {
        let file_key = format!("{setting}_file");
        let Some((_, path)) = env.iter().find(|(k, _)| *k == file_key) else {
            continue;
        };
        let direct = variable(setting);
        let variable = format!("{direct}_FILE");
        if set.contains(setting) {
            return Err(ConfigError::new(
                format!("{direct} and {variable}"),
                "set one or the other, not both",
            ));
        }
        out.push(SecretFile {
            setting,
            value: read(path).map_err(|why| ConfigError::new(&variable, why))?,
            variable,
        });
    }
    Ok(out)
}

fn read(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {}", e.kind()))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text"))?;
    // `echo secret > file` and most editors end the file with a newline that is no part of
    // the secret.
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

#[cfg(test)]
// `Jail`'s closures must return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::super::{Profile, load};
    use figment::Jail;
    use std::path::Path;

    const SECRET: &str = "file-secret-file-secret-file-secret-0123";

    #[test]
    fn secrets_are_read_from_the_files_named_without_the_trailing_newline() {
        Jail::expect_with(|jail| {
            jail.create_file("db", "postgres://app:dbpass@db/portcullis\n")?;
            jail.create_file("redis", "redis://:redispass@cache:6379\r\n")?;
            jail.create_file("cluster", &format!("{SECRET}\n"))?;
            jail.set_env("PORTCULLIS_DATABASE_URL_FILE", "db");
            jail.set_env("PORTCULLIS_REDIS_URL_FILE", "redis");
            jail.set_env("PORTCULLIS_CLUSTER_SECRET_FILE", "cluster");
            let c = load(Profile::Standard, None).expect("valid");
            assert_eq!(
                c.database_url.0.expose(),
                "postgres://app:dbpass@db/portcullis"
            );
            assert_eq!(
                c.redis_url.as_ref().map(|u| u.0.expose()),
                Some("redis://:redispass@cache:6379")
            );
            assert_eq!(
                c.cluster_secret.as_ref().map(|s| s.expose()),
                Some(SECRET.as_bytes())
            );
            Ok(())
        });
    }

    #[test]
    fn a_file_overrides_the_toml_file_like_the_variable_does() {
        Jail::expect_with(|jail| {
            jail.create_file("p.toml", "database_url = \"sqlite:///srv/from-toml.db\"\n")?;
            jail.create_file("db", "sqlite:///srv/from-file.db")?;
            jail.set_env("PORTCULLIS_DATABASE_URL_FILE", "db");
            let c = load(Profile::Standard, Some(Path::new("p.toml"))).expect("valid");
            assert_eq!(c.database_url.0.expose(), "sqlite:///srv/from-file.db");
            Ok(())
        });
    }

    #[test]
    fn a_variable_and_its_file_together_are_refused_naming_both() {
        for (var, value) in [
            ("PORTCULLIS_DATABASE_URL", "sqlite:///srv/a.db"),
            ("PORTCULLIS_REDIS_URL", "redis://cache:6379"),
            ("PORTCULLIS_CLUSTER_SECRET", SECRET),
        ] {
            Jail::expect_with(|jail| {
                jail.create_file("f", value)?;
                jail.set_env(var, value);
                jail.set_env(format!("{var}_FILE"), "f");
                let e = load(Profile::Standard, None).expect_err("both set");
                assert_eq!(e.setting, format!("{var} and {var}_FILE"));
                assert!(!e.to_string().contains(value), "{e}");
                Ok(())
            });
        }
    }

    #[test]
    fn an_unreadable_file_names_the_variable_and_not_the_content() {
        Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_CLUSTER_SECRET_FILE", "missing");
            let e = load(Profile::Standard, None).expect_err("no such file");
            assert_eq!(e.setting, "PORTCULLIS_CLUSTER_SECRET_FILE");
            assert!(e.reason.contains("cannot read missing"), "{e}");
            jail.create_binary("latin1", b"caf\xe9-password")?;
            jail.set_env("PORTCULLIS_CLUSTER_SECRET_FILE", "latin1");
            let e = load(Profile::Standard, None).expect_err("not UTF-8");
            assert_eq!(e.setting, "PORTCULLIS_CLUSTER_SECRET_FILE");
            assert!(!e.to_string().contains("password"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_in_a_file_names_the_file_variable_and_not_the_value() {
        Jail::expect_with(|jail| {
            jail.create_file("db", "mysql://root:topsecret@db/x\n")?;
            jail.set_env("PORTCULLIS_DATABASE_URL_FILE", "db");
            let e = load(Profile::Standard, None).expect_err("mysql refused");
            assert_eq!(e.setting, "PORTCULLIS_DATABASE_URL_FILE", "{e}");
            assert!(e.reason.contains("unsupported URL scheme"), "{e}");
            assert!(!e.to_string().contains("topsecret"), "{e}");
            jail.clear_env();
            jail.create_file("short", "too-short\n")?;
            jail.set_env("PORTCULLIS_CLUSTER_SECRET_FILE", "short");
            let e = load(Profile::Standard, None).expect_err("short secret");
            assert_eq!(e.setting, "PORTCULLIS_CLUSTER_SECRET_FILE", "{e}");
            assert!(!e.to_string().contains("too-short"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn an_all_digit_secret_from_a_file_stays_text() {
        Jail::expect_with(|jail| {
            let digits = "1".repeat(40);
            jail.create_file("cluster", &digits)?;
            jail.set_env("PORTCULLIS_CLUSTER_SECRET_FILE", "cluster");
            let c = load(Profile::Standard, None).expect("valid");
            assert_eq!(
                c.cluster_secret.as_ref().map(|s| s.expose()),
                Some(digits.as_bytes())
            );
            Ok(())
        });
    }
}
