//! `GET /v1/ws`: the handshake. A token in the query string is refused with 401 before any
//! upgrade; a token in the `Authorization` header is checked like any request's (401 before the
//! upgrade if refused); without one the socket must send `{"type":"auth","token":...}` within
//! `crate::ws::AUTH_TIMEOUT` or is closed with 4408. The socket caps
//! (`crate::limits::sockets`) apply here too: a user with `ws.max_sockets_per_user` sockets open
//! gets 429, and past `ws.max_unauthenticated` sockets waiting for their `auth`, a header-less
//! upgrade gets 503. What follows the upgrade is `crate::ws`.

use crate::access::{Door, Freshness, Presented, authenticate};
use crate::http::ApiError;
use crate::http::problem::Problem;
use crate::listen::Peer;
use crate::state::AppState;
use crate::ws::{MAX_MESSAGE_BYTES, auth, session};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portcullis_auth::Rejection;

const SOCKET: Door<'static> = Door::Socket {
    freshness: Freshness::Cached,
    subject: None,
};

/// `GET /v1/ws`.
pub async fn upgrade(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, _body) = req.into_parts();
    let presented = Presented::from_request(&parts);
    let authority = match presented {
        // No header: the token comes as the first message.
        Err(Rejection::Missing) => None,
        // A header token gets every check of a socket, answered as HTTP (401/403 before any
        // upgrade), its DPoP proof included (`htm` GET, `htu` the http(s) URL of `/v1/ws`);
        // so does a token in the query string, which is always refused (the URL ends up in
        // logs and browser history).
        presented => {
            let token = presented
                .as_ref()
                .map(|p| p.token.to_owned())
                .unwrap_or_default();
            let principal = match authenticate(&state, presented, SOCKET, &parts.extensions).await {
                Ok(p) => p,
                Err(denied) => return ApiError::from(denied).into_response(),
            };
            if let Err(retry_after_secs) = state
                .limits
                .check_user(&parts.extensions, principal.user_id().0)
            {
                return ApiError::RateLimited { retry_after_secs }.into_response();
            }
            Some(auth::from_http(&token, principal))
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
        connection: parts.extensions.get::<Peer>().map(|p| p.slot.clone()),
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
