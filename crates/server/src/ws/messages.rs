//! What travels over `/v1/ws`: JSON text frames, each an object with a `type`.

use portcullis_store::{OrgId, Resource, ResourceId, UserId};
use serde::{Deserialize, Serialize};

/// A message from the client. Unknown types and unknown fields are refused (`bad_message`).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// The first message when no `Authorization` header came with the upgrade.
    Auth {
        token: String,
        /// A DPoP proof for a DPoP-bound token: `htm` `GET`, `htu` the http(s) URL of
        /// `/v1/ws`, `ath` the token's hash, a fresh `jti`.
        #[serde(default)]
        dpop: Option<String>,
    },
    /// Live resource events of an org (read permission in it required).
    Subscribe {
        org_id: OrgId,
    },
    Unsubscribe {
        org_id: OrgId,
    },
    /// Replaces the socket's token with a fresher one of the same issuer and subject.
    Refresh {
        token: String,
        /// A DPoP proof for a DPoP-bound token, as for `auth`.
        #[serde(default)]
        dpop: Option<String>,
    },
    Ping,
    /// Streams the org's live resources (read permission required); `page_size` 1..=100,
    /// default 100.
    Export {
        org_id: OrgId,
        #[serde(default)]
        page_size: Option<u32>,
    },
}

impl ClientMessage {
    /// For logs: the type only, never a token.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Auth { .. } => "auth",
            Self::Subscribe { .. } => "subscribe",
            Self::Unsubscribe { .. } => "unsubscribe",
            Self::Refresh { .. } => "refresh",
            Self::Ping => "ping",
            Self::Export { .. } => "export",
        }
    }
}

/// A message from the server.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Authenticated (by header or by `auth`); `expires_in` is the token's remaining lifetime
    /// in seconds.
    Ready {
        user_id: UserId,
        expires_in: i64,
    },
    Subscribed {
        org_id: OrgId,
    },
    Unsubscribed {
        org_id: OrgId,
    },
    /// A resource of a subscribed org was created, updated, deleted or restored.
    Event {
        org_id: OrgId,
        resource_id: ResourceId,
        action: crate::cluster::bus::ResourceAction,
        version: i64,
    },
    /// The token expires in `expires_in` seconds: send `refresh`, or the socket closes with
    /// 4401 at `exp`.
    TokenExpiring {
        expires_in: i64,
    },
    /// The `refresh` was accepted; the new token expires in `expires_in` seconds.
    Refreshed {
        expires_in: i64,
    },
    Pong,
    ExportStarted {
        org_id: OrgId,
    },
    /// One page of the export.
    ExportItems {
        org_id: OrgId,
        items: Vec<Resource>,
    },
    /// Resources sent so far.
    ExportProgress {
        org_id: OrgId,
        exported: u64,
    },
    ExportDone {
        org_id: OrgId,
        exported: u64,
    },
    /// A refused or failed request; the socket stays open unless a close frame follows.
    Error {
        code: ErrorCode,
        #[serde(skip_serializing_if = "Option::is_none")]
        org_id: Option<OrgId>,
    },
}

/// Stable, generic error codes: like HTTP problem documents they say what was refused, never
/// why a token was bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, an unknown type or field, or a binary frame.
    BadMessage,
    /// `auth` on a socket that is already authenticated.
    AlreadyAuthenticated,
    /// No such org, or no read permission in it (one answer for both, as HTTP's 404).
    NotFound,
    /// More than [`super::MAX_SUBSCRIPTIONS`] subscriptions.
    TooManySubscriptions,
    /// The refresh token was invalid, expired, revoked, of another issuer or subject; the
    /// socket keeps its current token.
    RefreshRefused,
    /// An export is already running on this socket.
    ExportBusy,
    /// The user has `ws.max_exports_per_user` exports running already, on any of their
    /// sockets on this instance; retry once one is done.
    TooManyExports,
    /// `page_size` outside 1..=100.
    InvalidPageSize,
    /// The export stopped before its end (its token was refused, or the database failed).
    ExportStopped,
    /// The operation exposes data of routes that need MFA proof (`mfa.routes`), and the
    /// token has none (or too old a one): sign in again with MFA, `refresh`, and retry. The
    /// error name of RFC 9470's step-up challenge.
    InsufficientUserAuthentication,
    /// The database could not answer; try again.
    Unavailable,
}

impl ServerMessage {
    pub fn error(code: ErrorCode) -> Self {
        Self::Error { code, org_id: None }
    }

    pub fn org_error(code: ErrorCode, org_id: OrgId) -> Self {
        Self::Error {
            code,
            org_id: Some(org_id),
        }
    }

    pub fn to_text(&self) -> String {
        // Plain data: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"type":"error"}"#.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse_strictly() {
        let m: ClientMessage = serde_json::from_str(r#"{"type":"ping"}"#).expect("ping");
        assert!(matches!(m, ClientMessage::Ping));
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"auth","token":"abc"}"#).expect("auth");
        assert!(matches!(m, ClientMessage::Auth { .. }));
        let org = OrgId::new();
        let m: ClientMessage =
            serde_json::from_str(&format!(r#"{{"type":"export","org_id":"{org}"}}"#))
                .expect("export");
        assert!(matches!(
            m,
            ClientMessage::Export {
                page_size: None,
                ..
            }
        ));
        for bad in [
            r#"{"type":"auth","token":"abc","extra":1}"#,
            r#"{"type":"nope"}"#,
            r#"{"token":"abc"}"#,
            r#"{"type":"subscribe","org_id":"not-a-uuid"}"#,
            "[]",
        ] {
            assert!(serde_json::from_str::<ClientMessage>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_messages_are_tagged() {
        let text = ServerMessage::TokenExpiring { expires_in: 42 }.to_text();
        assert_eq!(text, r#"{"type":"token_expiring","expires_in":42}"#);
        let text = ServerMessage::error(ErrorCode::RefreshRefused).to_text();
        assert_eq!(text, r#"{"type":"error","code":"refresh_refused"}"#);
        assert_eq!(ServerMessage::Pong.to_text(), r#"{"type":"pong"}"#);
    }
}
