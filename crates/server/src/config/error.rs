//! A configuration error names the one setting at fault, in the form the operator used to set
//! it (an environment variable, or a key in the TOML file), and never repeats its value: the
//! value may be a password.

use figment::Source;
use figment::error::Kind;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// `PORTCULLIS_LISTEN`, `auth.provider in ./portcullis.toml`, `--config`,
    /// `PORTCULLIS_DATABASE_URL_FILE`, ...
    pub setting: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration: {}: {}",
            self.setting, self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub fn new(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            reason: reason.into(),
        }
    }

    /// For checks made after extraction, where the source is no longer known: named by its
    /// environment variable, the form the documentation uses.
    pub fn setting(dotted: &str, reason: impl Into<String>) -> Self {
        Self::new(env_name(&dotted.split('.').collect::<Vec<_>>()), reason)
    }

    pub fn from_figment(e: figment::Error) -> Self {
        // figment chains errors; the first one is enough to fix and keeps the message one line.
        let mut path: Vec<&str> = e.path.iter().map(String::as_str).collect();
        // figment usually puts the unknown key at the end of the path already.
        if let Kind::UnknownField(field, _) = &e.kind
            && path.last() != Some(&field.as_str())
        {
            path.push(field);
        }
        let setting = match e.metadata.as_ref() {
            Some(md) => match &md.source {
                Some(Source::File(file)) => format!("{} in {}", dotted(&path), file.display()),
                Some(Source::Custom(variable)) if md.name == super::secret_file::METADATA_NAME => {
                    variable.clone()
                }
                _ if md.name.contains("environment") => env_name(&path),
                _ => dotted(&path),
            },
            None => dotted(&path),
        };
        let setting = if setting.is_empty() {
            "configuration".to_owned()
        } else {
            setting
        };
        Self::new(setting, reason(&e.kind))
    }
}

/// `auth.issuers[2].tenant_id`: an index into a list of tables as the TOML reader writes it.
fn dotted(path: &[&str]) -> String {
    let mut out = String::new();
    for part in path {
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

fn env_name(path: &[&str]) -> String {
    format!(
        "{}{}",
        super::ENV_PREFIX,
        path.join("__").to_ascii_uppercase()
    )
}

/// figment's own messages quote the offending value (`found string "..."`), which may be a
/// secret, so each kind is reworded without it.
fn reason(kind: &Kind) -> String {
    match kind {
        Kind::Message(m) => m.clone(),
        Kind::InvalidType(_, expected) => format!("invalid type: expected {expected}"),
        Kind::InvalidValue(_, expected) => format!("invalid value: expected {expected}"),
        Kind::InvalidLength(_, expected) => format!("invalid length: expected {expected}"),
        Kind::UnknownVariant(_, expected) => {
            format!("unknown value, expected one of: {}", expected.join(", "))
        }
        Kind::UnknownField(_, _) => "unknown setting".to_owned(),
        Kind::MissingField(f) => format!("missing setting {f}"),
        Kind::DuplicateField(f) => format!("{f} is set twice"),
        Kind::ISizeOutOfRange(_) | Kind::USizeOutOfRange(_) => "number out of range".to_owned(),
        Kind::Unsupported(_) | Kind::UnsupportedKey(_, _) => "unsupported value".to_owned(),
    }
}
