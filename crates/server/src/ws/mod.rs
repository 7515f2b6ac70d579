//! `GET /v1/ws`: long-lived sockets that stay as honest as HTTP requests (DESIGN.md P1-7).
//!
//! - [`upgrade`] (this file): the handshake. A token in the query string is refused with 401
//!   before any upgrade; a token in the `Authorization` header is checked like any request's
//!   (401 before the upgrade if refused); without one the socket must send
//!   `{"type":"auth","token":...}` within [`AUTH_TIMEOUT`] or is closed with 4408. The caps of
//!   [`caps`] are applied here too: a user with `ws.max_sockets_per_user` sockets open gets
//!   429, and past `ws.max_unauthenticated` sockets waiting for their `auth`, a header-less
//!   upgrade gets 503.
//! - [`session`]: the socket's loop: client messages, pushed events from the bus, periodic
//!   re-validation, `token_expiring` and the close at `exp`.
//! - [`auth`]: the checks, shared with HTTP.
//! - [`caps`]: sockets per user, sockets waiting to authenticate, and exports per user.
//! - [`export`]: an org export streamed with progress, re-checked between pages.
//! - [`operations`]: which HTTP routes' data each socket operation exposes (for `mfa.routes`).
//! - [`messages`]: the JSON messages.
//!
//! `docs/sessions.md` ("WebSockets") describes the protocol for clients.

pub mod auth;
pub mod caps;
pub mod export;
pub mod messages;
pub mod operations;
pub mod session;

use crate::events::ResourceAction;
use crate::http::extract::CallerPrincipal;
use crate::http::problem::Problem;
use crate::http::{ApiError, AppState};
use crate::listen::ConnectionSlot;
use crate::sessions::Refusal;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portcullis_auth::Rejection;
use portcullis_auth::bearer::bearer_token;
use portcullis_store::Resource;
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
/// How often each socket is re-validated by default (the `ws.revalidate_secs` flag's own
/// default comes from the configuration; this is the documented value).
pub const DEFAULT_REVALIDATE: Duration = Duration::from_secs(30);
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

/// `GET /v1/ws`.
pub async fn upgrade(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, _body) = req.into_parts();
    let authority = match bearer_token(&parts.headers, parts.uri.query()) {
        // The URL ends up in logs and browser history; nothing is upgraded.
        Err(Rejection::TokenInQuery) => {
            crate::metrics::http::note_auth(&parts.extensions, Err(Rejection::TokenInQuery));
            return ApiError::Unauthorized(Rejection::TokenInQuery).into_response();
        }
        // No header: the token comes as the first message.
        Err(Rejection::Missing) => None,
        Ok(token) => {
            let token = token.to_owned();
            // Exactly the checks of an HTTP request, with their metrics and 401/403 answers.
            let principal = match CallerPrincipal::from_request_parts(&mut parts, &state).await {
                Ok(CallerPrincipal(p)) => p,
                Err(e) => return e.into_response(),
            };
            if principal.token.claims.exp <= state.clock.now().timestamp() {
                // Within the verifier's leeway, but a socket would close at once.
                return ApiError::Unauthorized(Rejection::Expired).into_response();
            }
            // A socket is never a cheap read: the session check runs whatever a request
            // would skip.
            match state.sessions.check(&principal).await {
                Ok(()) => {}
                Err(Refusal::Rejected(r)) => {
                    crate::metrics::http::note_auth(&parts.extensions, Err(r));
                    return ApiError::Unauthorized(r).into_response();
                }
                Err(Refusal::Unavailable(e)) => return ApiError::unavailable(e).into_response(),
            }
            Some(auth::from_http(&token, principal))
        }
        Err(other) => {
            crate::metrics::http::note_auth(&parts.extensions, Err(other));
            return ApiError::Unauthorized(other).into_response();
        }
    };
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(ws) => ws,
        Err(e) => return e.into_response(),
    };
    // Counted from before the 101, so that no number of concurrent upgrades gets past a cap.
    let opening = match authority {
        Some(authority) => match state.ws_caps.socket(authority.principal.user_id()) {
            Some(seat) => session::Opening::Authenticated(authority, seat),
            None => return refused(StatusCode::TOO_MANY_REQUESTS, TOO_MANY_SOCKETS),
        },
        None => match state.ws_caps.unauthenticated() {
            Some(seat) => session::Opening::Pending(seat),
            None => return refused(StatusCode::SERVICE_UNAVAILABLE, TOO_MANY_WAITING),
        },
    };
    // Taken from before the 101 is sent: the HTTP drain stops counting this connection at the
    // upgrade, and a shutdown in between must still wait for the socket's 1001; hyper also
    // drops the connection's own share of its `max_client_connections` place then. If the
    // upgrade fails, the closure and what it holds are dropped.
    let holds = session::Holds {
        shutdown: state.shutdown.hold(),
        connection: parts.extensions.get::<ConnectionSlot>().cloned(),
    };
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| session::run(state, socket, opening, holds))
}

const TOO_MANY_SOCKETS: &str =
    "Too many WebSockets are open for this user. Close one, or reuse an open one.";
const TOO_MANY_WAITING: &str = "Too many WebSockets are waiting to authenticate. Retry later, or send the token in the Authorization header.";

/// An upgrade refused by a cap: a problem document with a fixed sentence, as any refusal.
fn refused(status: StatusCode, detail: &'static str) -> Response {
    tracing::info!(
        status = status.as_u16(),
        "websocket upgrade refused: socket cap reached"
    );
    Problem::new(status).with_detail(detail).into_response()
}

/// Tells every instance's subscribers of the resource's org that it changed.
pub async fn publish_resource_change(state: &AppState, r: &Resource, action: ResourceAction) {
    state
        .sessions
        .bus()
        .resource_changed(r.org_id, r.id, action, r.version)
        .await;
}

/// How often sockets are re-validated: the `ws.revalidate_secs` flag (5 to 3600 s), read anew
/// after every check and on every flag change.
pub fn revalidate_interval(state: &AppState) -> Duration {
    state
        .flags
        .ws_revalidate_interval()
        .max(Duration::from_secs(1))
}
