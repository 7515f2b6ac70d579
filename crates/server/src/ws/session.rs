//! One socket's life: authentication (header or first message), then a loop over client
//! messages, the bus's events, the re-validation tick, the expiry warning and `exp`, and the
//! output of a running export. The loop owns the socket; nothing else writes to it.

use super::auth::{self, Authority, Denied, Identity};
use super::export::{self, Export, ExportOut};
use super::messages::{ClientMessage, ErrorCode, ServerMessage};
use super::operations::Operation;
use super::{
    AUTH_TIMEOUT, EXPIRY_WARNING, MAX_SUBSCRIPTIONS, RATE_BURST, RATE_PER_SEC, SEND_TIMEOUT, close,
};
use crate::cluster::bus::Event;
use crate::limits::bucket::TokenBucket;
use crate::limits::sockets::Seat;
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use portcullis_store::{OrgId, RevocationKind};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Instant, sleep_until, timeout};

/// How a socket ends.
#[derive(Debug, Clone, Copy)]
enum End {
    /// The server closes with this code; `why` is for the log only.
    Close { code: u16, why: &'static str },
    /// The client closed (its code) or the connection broke (1006).
    Gone(u16),
}

/// The server is stopping: 1001, so clients reconnect (to another instance).
const SHUTTING_DOWN: End = End::Close {
    code: close::GOING_AWAY,
    why: "shutdown",
};

impl End {
    fn denied(d: Denied) -> Self {
        Self::Close {
            code: d.close_code(),
            why: d.reason(),
        }
    }
}

/// What a socket keeps for as long as it is open.
#[derive(Debug)]
pub struct Holds {
    /// Shutdown waits until the socket has closed.
    pub shutdown: crate::shutdown::Hold,
    /// The connection's place under `max_client_connections` (none outside the server's own
    /// listener).
    pub connection: Option<crate::listen::ConnectionSlot>,
}

/// How a socket starts, with its place under the caps of [`crate::limits::sockets`].
#[derive(Debug)]
pub enum Opening {
    /// The upgrade carried a valid token: one of the user's sockets.
    Authenticated(Authority, Seat),
    /// No token yet: one of the sockets waiting for their `auth` message.
    Pending(Seat),
}

/// The user already has `ws.max_sockets_per_user` sockets open on this instance.
const TOO_MANY_SOCKETS: End = End::Close {
    code: close::RATE_LIMITED,
    why: "too_many_sockets",
};

/// Runs the socket until it ends.
pub async fn run(state: AppState, mut socket: WebSocket, opening: Opening, _holds: Holds) {
    crate::metrics::ws_opened();
    // Subscribed before anything is checked: no revocation can slip between the check and
    // the subscription.
    let events = state.changes.subscribe();
    let mut rate = message_bucket();
    let authenticated = match opening {
        Opening::Authenticated(authority, seat) => Ok((authority, seat)),
        Opening::Pending(waiting) => {
            let authority = handshake(&state, &mut socket, &mut rate).await;
            // No longer waiting, whatever the outcome.
            drop(waiting);
            authority.and_then(|a| match state.ws_caps.socket(a.principal.user_id()) {
                Some(seat) => Ok((a, seat)),
                None => Err(TOO_MANY_SOCKETS),
            })
        }
    };
    let end = match authenticated {
        // The user's seat is given back when the loop ends, before the close handshake.
        Ok((authority, _seat)) => {
            let mut live = Live::new(state.clone(), authority, events, rate);
            live.run(&mut socket).await
        }
        Err(end) => end,
    };
    let code = match end {
        End::Close { code, why } => {
            tracing::info!(code, reason = why, "websocket closed by the server");
            finish(&mut socket, code).await;
            code
        }
        End::Gone(code) => {
            tracing::debug!(code, "websocket closed by the client");
            code
        }
    };
    crate::metrics::ws_closed(code);
}

/// Sends the close frame, then reads (and drops) what the client still sends until its close
/// reply, so that unread input does not turn the close into a TCP reset that would hide the
/// code from the client.
async fn finish(socket: &mut WebSocket, code: u16) {
    let frame = CloseFrame {
        code,
        reason: close::reason(code).into(),
    };
    if timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame))))
        .await
        .is_err()
    {
        return;
    }
    let _ = timeout(Duration::from_secs(2), async {
        while let Some(Ok(msg)) = socket.recv().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

async fn send(socket: &mut WebSocket, msg: &ServerMessage) -> Result<(), End> {
    match timeout(
        SEND_TIMEOUT,
        socket.send(Message::Text(msg.to_text().into())),
    )
    .await
    {
        Ok(Ok(())) => Ok(()),
        _ => Err(End::Gone(close::ABNORMAL)),
    }
}

/// A frame from the client, sorted: `Ok(Some(text))` for a text message, `Ok(None)` for
/// anything to ignore (pings, pongs), `Err` when the socket ended or the client is too fast.
fn sort(
    frame: Option<Result<Message, axum::Error>>,
    rate: &mut TokenBucket,
) -> Result<Option<Result<String, ()>>, End> {
    let msg = match frame {
        Some(Ok(Message::Close(frame))) => {
            return Err(End::Gone(frame.map_or(close::NORMAL, |f| f.code)));
        }
        Some(Ok(msg)) => msg,
        None | Some(Err(_)) => return Err(End::Gone(close::ABNORMAL)),
    };
    if rate.take_at(std::time::Instant::now()).is_err() {
        return Err(End::Close {
            code: close::RATE_LIMITED,
            why: "rate_limited",
        });
    }
    Ok(match msg {
        Message::Text(text) => Some(Ok(text.as_str().to_owned())),
        Message::Binary(_) => Some(Err(())),
        _ => None,
    })
}

/// Waits for `{"type":"auth","token":...}`. Anything else first, or a refused token, closes
/// the socket (4401, or 4403 for a disabled user); nothing within the timeout, 4408.
async fn handshake(
    state: &AppState,
    socket: &mut WebSocket,
    rate: &mut TokenBucket,
) -> Result<Authority, End> {
    let deadline = Instant::now() + AUTH_TIMEOUT;
    loop {
        let frame = tokio::select! {
            frame = socket.recv() => frame,
            () = sleep_until(deadline) => {
                return Err(End::Close { code: close::AUTH_TIMEOUT, why: "auth_timeout" });
            }
            () = state.shutdown.wait() => return Err(SHUTTING_DOWN),
        };
        let Some(text) = sort(frame, rate)? else {
            continue;
        };
        let unauthenticated = End::Close {
            code: close::UNAUTHORIZED,
            why: "not_authenticated",
        };
        let Ok(text) = text else {
            return Err(unauthenticated);
        };
        return match serde_json::from_str::<ClientMessage>(&text) {
            Ok(ClientMessage::Auth { token, dpop }) => {
                auth::authorize(state, &token, dpop.as_deref())
                    .await
                    .map_err(End::denied)
            }
            _ => Err(unauthenticated),
        };
    }
}

/// An authenticated socket.
struct Live {
    state: AppState,
    authority: Authority,
    events: broadcast::Receiver<Event>,
    rate: TokenBucket,
    subscriptions: BTreeSet<OrgId>,
    export: Option<Export>,
    revalidate_at: Instant,
    /// `None` once `token_expiring` was sent for the current token.
    warn_at: Option<Instant>,
    expires_at: Instant,
}

impl Live {
    fn new(
        state: AppState,
        authority: Authority,
        events: broadcast::Receiver<Event>,
        rate: TokenBucket,
    ) -> Self {
        let revalidate_at = Instant::now() + super::revalidate_interval(&state);
        let mut live = Self {
            state,
            authority,
            events,
            rate,
            subscriptions: BTreeSet::new(),
            export: None,
            revalidate_at,
            warn_at: None,
            expires_at: Instant::now(),
        };
        live.schedule_expiry();
        live
    }

    /// `exp` as an instant, and the warning ahead of it: [`EXPIRY_WARNING`] before, or at the
    /// half-life of what is left for a short token.
    fn schedule_expiry(&mut self) {
        let exp_ms = self.authority.claims().exp.saturating_mul(1000);
        let left_ms = exp_ms.saturating_sub(self.state.clock.now().timestamp_millis());
        let left = Duration::from_millis(u64::try_from(left_ms).unwrap_or(0));
        let now = Instant::now();
        self.expires_at = now + left;
        let ahead = EXPIRY_WARNING.min(left / 2);
        self.warn_at = Some(self.expires_at - ahead);
    }

    async fn run(&mut self, socket: &mut WebSocket) -> End {
        let ready = ServerMessage::Ready {
            user_id: self.authority.principal.user_id(),
            expires_in: self.authority.expires_in(&self.state),
        };
        if let Err(end) = send(socket, &ready).await {
            return end;
        }
        loop {
            let step = tokio::select! {
                frame = socket.recv() => self.on_frame(socket, frame).await,
                event = self.events.recv() => self.on_event(socket, event).await,
                out = next_export(&mut self.export) => self.on_export(socket, out).await,
                () = sleep_until(self.revalidate_at) => {
                    self.revalidate_at = Instant::now() + super::revalidate_interval(&self.state);
                    self.recheck(Identity::Cached).await
                }
                () = sleep_until(self.warn_at.unwrap_or(self.expires_at)), if self.warn_at.is_some() => {
                    self.warn_at = None;
                    let expires_in = self.authority.expires_in(&self.state).max(0);
                    send(socket, &ServerMessage::TokenExpiring { expires_in }).await
                }
                () = sleep_until(self.expires_at) => Err(End::Close {
                    code: close::UNAUTHORIZED,
                    why: "expired",
                }),
                () = self.state.shutdown.wait() => Err(SHUTTING_DOWN),
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    /// Checks the current token again and, if it still holds, keeps the reloaded identity.
    async fn recheck(&mut self, source: Identity) -> Result<(), End> {
        let orgs = self.subscriptions.iter().copied().collect::<Vec<_>>();
        let authority = auth::recheck(
            &self.state,
            &self.authority,
            source,
            Operation::Subscribe,
            orgs,
        )
        .await
        .map_err(End::denied)?;
        self.set_authority(authority);
        Ok(())
    }

    fn set_authority(&mut self, authority: Authority) {
        if let Some(export) = &self.export {
            export.update(&authority);
        }
        self.authority = authority;
    }

    async fn on_frame(
        &mut self,
        socket: &mut WebSocket,
        frame: Option<Result<Message, axum::Error>>,
    ) -> Result<(), End> {
        let Some(text) = sort(frame, &mut self.rate)? else {
            return Ok(());
        };
        let Ok(msg) = text.and_then(|t| serde_json::from_str::<ClientMessage>(&t).map_err(|_| ()))
        else {
            return send(socket, &ServerMessage::error(ErrorCode::BadMessage)).await;
        };
        tracing::debug!(kind = msg.kind(), "websocket message");
        let reply = match msg {
            ClientMessage::Ping => ServerMessage::Pong,
            ClientMessage::Auth { .. } => ServerMessage::error(ErrorCode::AlreadyAuthenticated),
            ClientMessage::Subscribe { org_id } => self.subscribe(org_id).await,
            ClientMessage::Unsubscribe { org_id } => {
                self.subscriptions.remove(&org_id);
                ServerMessage::Unsubscribed { org_id }
            }
            ClientMessage::Refresh { token, dpop } => self.refresh(&token, dpop.as_deref()).await?,
            ClientMessage::Export { org_id, page_size } => self.export(org_id, page_size).await,
        };
        send(socket, &reply).await
    }

    async fn subscribe(&mut self, org_id: OrgId) -> ServerMessage {
        if self.subscriptions.contains(&org_id) {
            return ServerMessage::Subscribed { org_id };
        }
        if self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            return ServerMessage::org_error(ErrorCode::TooManySubscriptions, org_id);
        }
        let principal = &self.authority.principal;
        match auth::may_use(&self.state, principal, org_id, Operation::Subscribe).await {
            Ok(()) => {
                self.subscriptions.insert(org_id);
                ServerMessage::Subscribed { org_id }
            }
            Err(code) => ServerMessage::org_error(code, org_id),
        }
    }

    /// A refused refresh leaves the socket on its current token (which still closes at its
    /// own `exp`); a token of another subject never switches the socket's identity, nor does
    /// one without the MFA proof that the open subscriptions or the running export need. A
    /// refresh that loses read permission in a subscribed org (platform admin group dropped)
    /// closes with 4403, as a re-validation would.
    async fn refresh(&mut self, token: &str, proof: Option<&str>) -> Result<ServerMessage, End> {
        let authority = match self.authorize_refresh(token, proof).await {
            Ok(a) => a,
            Err(d) => {
                tracing::info!(reason = d.reason(), "websocket refresh refused");
                return Ok(ServerMessage::error(ErrorCode::RefreshRefused));
            }
        };
        for org in self.subscriptions.iter().copied() {
            match auth::may_read(&self.state, &authority.principal, org).await {
                Ok(true) => {}
                Ok(false) => return Err(End::denied(Denied::Forbidden)),
                Err(_) => return Ok(ServerMessage::error(ErrorCode::Unavailable)),
            }
        }
        self.set_authority(authority);
        self.schedule_expiry();
        Ok(ServerMessage::Refreshed {
            expires_in: self.authority.expires_in(&self.state),
        })
    }

    async fn authorize_refresh(
        &self,
        token: &str,
        proof: Option<&str>,
    ) -> Result<Authority, Denied> {
        let authority = auth::authorize_as(&self.state, token, proof, &self.authority).await?;
        let principal = &authority.principal;
        if !self.subscriptions.is_empty() {
            auth::require_mfa_for(&self.state, principal, Operation::Subscribe)?;
        }
        if self.export.is_some() {
            auth::require_mfa_for(&self.state, principal, Operation::Export)?;
        }
        Ok(authority)
    }

    async fn export(&mut self, org_id: OrgId, page_size: Option<u32>) -> ServerMessage {
        if self.export.is_some() {
            return ServerMessage::org_error(ErrorCode::ExportBusy, org_id);
        }
        let page_size = page_size.unwrap_or(export::DEFAULT_PAGE_SIZE);
        if !(1..=export::MAX_PAGE_SIZE).contains(&page_size) {
            return ServerMessage::org_error(ErrorCode::InvalidPageSize, org_id);
        }
        let principal = &self.authority.principal;
        if let Err(code) = auth::may_use(&self.state, principal, org_id, Operation::Export).await {
            return ServerMessage::org_error(code, org_id);
        }
        let Some(seat) = self.state.ws_caps.export(principal.user_id()) else {
            return ServerMessage::org_error(ErrorCode::TooManyExports, org_id);
        };
        self.export = Some(export::start(
            self.state.clone(),
            self.authority.clone(),
            org_id,
            page_size,
            seat,
        ));
        ServerMessage::ExportStarted { org_id }
    }

    async fn on_export(
        &mut self,
        socket: &mut WebSocket,
        out: Option<ExportOut>,
    ) -> Result<(), End> {
        match out {
            Some(ExportOut::Send(msg)) => send(socket, &msg).await,
            Some(ExportOut::Denied(d)) => Err(End::denied(d)),
            // Done, failed (its error was sent), or gone.
            Some(ExportOut::Finished) | None => {
                self.export = None;
                Ok(())
            }
        }
    }

    async fn on_event(
        &mut self,
        socket: &mut WebSocket,
        event: Result<Event, RecvError>,
    ) -> Result<(), End> {
        let me = self.authority.principal.user_id();
        match event {
            Ok(Event::ResourceChanged {
                org_id,
                resource_id,
                action,
                version,
            }) => {
                if self.subscriptions.contains(&org_id) {
                    let msg = ServerMessage::Event {
                        org_id,
                        resource_id,
                        action,
                        version,
                    };
                    send(socket, &msg).await?;
                }
                Ok(())
            }
            // Decided from the event itself: this instance's revocation view is updated by
            // another task, possibly after this one runs.
            Ok(Event::TokenRevoked { kind, value, .. }) => {
                let claims = self.authority.claims();
                let id = match kind {
                    RevocationKind::Jti => claims.jti.as_deref(),
                    RevocationKind::OriginJti => claims.origin_jti.as_deref(),
                };
                if id == Some(value.as_str()) {
                    return Err(End::Close {
                        code: close::UNAUTHORIZED,
                        why: "revoked",
                    });
                }
                Ok(())
            }
            Ok(Event::UserSessionsRevoked { user_id, before }) => {
                if user_id == me
                    && self
                        .state
                        .revocations
                        .started_before(self.authority.claims(), before)
                {
                    return Err(End::Close {
                        code: close::UNAUTHORIZED,
                        why: "revoked",
                    });
                }
                Ok(())
            }
            // Status or memberships changed: read them from the database, not from a cache
            // that may not have heard yet.
            Ok(Event::UserChanged { user_id, .. }) if user_id == me => {
                self.recheck(Identity::Fresh).await
            }
            Ok(Event::OrgChanged { org_id })
                if self.subscriptions.contains(&org_id)
                    || self.export.as_ref().is_some_and(|e| e.org() == org_id) =>
            {
                self.recheck(Identity::Fresh).await
            }
            Ok(Event::FlagChanged { .. }) => {
                let next = Instant::now() + super::revalidate_interval(&self.state);
                self.revalidate_at = self.revalidate_at.min(next);
                Ok(())
            }
            // Events may have been missed: check now from the database, and again shortly,
            // once this instance has reloaded its revocation view.
            Ok(Event::Resync) | Err(RecvError::Lagged(_)) => {
                self.revalidate_at = Instant::now() + Duration::from_secs(1);
                self.recheck(Identity::Fresh).await
            }
            Ok(_) => Ok(()),
            Err(RecvError::Closed) => Err(End::Close {
                code: close::GOING_AWAY,
                why: "shutting_down",
            }),
        }
    }
}

async fn next_export(export: &mut Option<Export>) -> Option<ExportOut> {
    match export {
        Some(e) => e.recv().await,
        None => std::future::pending().await,
    }
}

/// A socket's message budget: [`RATE_BURST`] at once, refilled at [`RATE_PER_SEC`].
fn message_bucket() -> TokenBucket {
    TokenBucket::new(
        f64::from(RATE_PER_SEC),
        f64::from(RATE_BURST),
        std::time::Instant::now(),
    )
}
