//! `GET /v1/ws`: long-lived sockets that stay as honest as HTTP requests. The handshake (the
//! HTTP request that becomes a socket) is a route, `crate::http::routes::ws`; this module is the
//! socket protocol that follows it.
//!
//! - [`session`]: the socket's loop: client messages, pushed events from the bus, periodic
//!   re-validation, `token_expiring` and the close at `exp`.
//! - [`auth`]: the socket's authority and its checks, through the same `crate::access` as HTTP.
//! - [`export`]: an org export streamed with progress, re-checked between pages.
//! - [`operations`]: which HTTP routes' data each socket operation exposes (for `mfa.routes`).
//! - [`messages`]: the JSON messages.
//!
//! `docs/sessions.md` ("WebSockets") describes the protocol for clients.

pub mod auth;
pub mod export;
pub mod messages;
pub mod operations;
pub mod session;

use crate::state::AppState;
use std::time::Duration;

/// Close codes (RFC 6455 leaves 4000-4999 to applications).
pub mod close {
    /// The client closed, or the server is done.
    pub const NORMAL: u16 = 1000;
    /// The server is stopping (shutdown was triggered, or its event bus ended).
    pub const GOING_AWAY: u16 = 1001;
    /// The connection ended without a close frame.
    pub const ABNORMAL: u16 = 1006;
    /// The database could not answer a check; reconnect later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// Token expired, revoked or invalid: refresh the token and reconnect.
    pub const UNAUTHORIZED: u16 = 4401;
    /// The user was disabled, or lost read permission in a subscribed org.
    pub const FORBIDDEN: u16 = 4403;
    /// No `auth` message within [`super::AUTH_TIMEOUT`].
    pub const AUTH_TIMEOUT: u16 = 4408;
    /// More than [`super::RATE_BURST`] messages at once, or a sustained
    /// [`super::RATE_PER_SEC`] per second; or, right after `auth`, the user has
    /// `ws.max_sockets_per_user` sockets open already.
    pub const RATE_LIMITED: u16 = 4429;

    /// A fixed, generic reason per code.
    pub fn reason(code: u16) -> &'static str {
        match code {
            UNAUTHORIZED => "unauthorized",
            FORBIDDEN => "forbidden",
            AUTH_TIMEOUT => "authentication timeout",
            RATE_LIMITED => "rate limited",
            TRY_AGAIN_LATER => "try again later",
            GOING_AWAY => "going away",
            _ => "",
        }
    }
}

/// How long a socket without an `Authorization` header has to send its `auth` message.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(5);
/// `token_expiring` is sent this long before `exp`, or at the token's half-life when it has
/// less than twice this left.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(60);
/// Client messages: a burst of this many, refilled at [`RATE_PER_SEC`]; beyond it, 4429.
pub const RATE_BURST: u32 = 20;
pub const RATE_PER_SEC: u32 = 10;
/// The largest client message (tokens are at most 8 KiB).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Orgs one socket may subscribe to.
pub const MAX_SUBSCRIPTIONS: usize = 100;
/// A send that cannot complete in this time (the client stopped reading) ends the socket.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How often sockets are re-validated: the `ws.revalidate_secs` flag (5 to 3600 s), read anew
/// after every check and on every flag change.
pub fn revalidate_interval(state: &AppState) -> Duration {
    state
        .flags
        .ws_revalidate_interval()
        .max(Duration::from_secs(1))
}
