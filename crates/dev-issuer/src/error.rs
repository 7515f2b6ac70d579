use std::path::PathBuf;

/// Everything that can go wrong opening, rotating or persisting the dev issuer's keys.
///
/// Messages name the file and the problem but never include key material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the dev issuer key file {path} is unusable ({reason}); \
         delete it to generate a new key (tokens signed by the old key stop verifying)"
    )]
    CorruptKeyFile { path: PathBuf, reason: String },

    #[error("the crypto library could not {0}")]
    Crypto(&'static str),

    #[error("invalid claim `{input}`: expected `name=value` with a non-empty name")]
    InvalidClaimArg { input: String },
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::CorruptKeyFile {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
