use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a revoked token id names: one token (`jti`), or every token of one refresh session
/// (`origin_jti`, Cognito).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationKind {
    Jti,
    OriginJti,
}

impl RevocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationKind::Jti => "jti",
            RevocationKind::OriginJti => "origin_jti",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "jti" => Some(Self::Jti),
            "origin_jti" => Some(Self::OriginJti),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevokedToken {
    pub kind: RevocationKind,
    pub value: String,
    /// The token's own `exp`: after it the row can go, since the token is dead anyway.
    pub expires_at: DateTime<Utc>,
}
