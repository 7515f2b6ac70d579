//! Accepting TCP connections and serving HTTP/1.1 on them, with the slow-client defence and
//! the graceful drain.
//!
//! This replaces `axum::serve` because that one exposes no read timeout: a client that opens a
//! connection and sends its request head one byte a minute (slowloris) would hold a socket and
//! a task for ever. Here every connection gets hyper's header-read timeout: the head of each
//! request must arrive in full within `header_read_timeout` of the server starting to wait for
//! it, or the connection is closed. hyper starts that clock whenever it waits for a request
//! head, including between requests on a kept-alive connection, so the same setting is also
//! the idle keep-alive timeout (see `header_read_timeout_secs` in docs/configuration.md for the
//! load-balancer consequence). Reading the body and producing the response are bounded by the
//! request timeout layer (`request_timeout_secs`), and sending it by [`send_timeout`]: a client
//! that stops reading (for example after pipelining many requests) is disconnected once no
//! write has made progress for `send_timeout_secs`. At most `max_connections` connections are
//! open at once per listener (`max_client_connections`): past that, the loop stops accepting
//! and new connections wait in the kernel's accept queue, so a flood of idle or stalled
//! connections costs bounded memory, and the metrics listener, which has its own limit, stays
//! reachable. A connection upgraded to a WebSocket counts until the socket closes
//! ([`ConnectionSlot`]).

mod send_timeout;

use crate::shutdown::Shutdown;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use send_timeout::SendTimeout;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tower::ServiceExt;

/// A connection's place under `max_client_connections`, shared by the connection's task and
/// each of its requests (an extension). hyper lets go of a connection at its upgrade, ending
/// the task's share, so the WebSocket takes the upgrade request's share and the place stays
/// taken until the socket closes.
#[derive(Debug, Clone)]
pub struct ConnectionSlot {
    _permit: Arc<OwnedSemaphorePermit>,
}

/// What a request knows of its connection, as one extension: the peer's address (what the
/// per-IP rate limit keys on) and the connection's [`ConnectionSlot`]. One rather than two: a
/// request's extensions are a small map, and each entry more is work on every request.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    pub slot: ConnectionSlot,
}

/// How [`serve`] treats connections.
#[derive(Debug, Clone, Copy)]
pub struct ServeSettings {
    /// After shutdown is triggered, how long in-flight requests may still run.
    pub grace: Duration,
    /// The longest wait for a complete request head (also the keep-alive idle limit).
    pub header_read_timeout: Duration,
    /// The longest a write to the client may make no progress.
    pub send_timeout: Duration,
    /// Connections open at once; the next is accepted when one closes.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` is triggered, then stops accepting, lets each
/// connection finish the request it is on (kept-alive connections are then closed), and returns
/// once all have, or after `settings.grace`, whichever is first. Connections still open at that
/// point run on their own tasks and are cut when the runtime shuts down, which in the binary is
/// right after `run` returns. Upgraded connections (WebSockets) leave hyper at the upgrade and
/// are not waited for; the WebSocket module closes them on shutdown itself. They keep their
/// place under `max_connections` until they close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: Shutdown,
    settings: ServeSettings,
) -> anyhow::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    // Every connection task holds a clone; `recv` returns `None` once all are gone.
    let (alive, mut all_closed) = mpsc::channel::<()>(1);
    let slots = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                // Never closed while the loop runs.
                Err(_) => break,
            },
            () = shutdown.wait() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tokio::select! {
                        () = pause_after_accept_error(&e) => continue,
                        () = shutdown.wait() => break,
                    }
                }
            },
            () = shutdown.wait() => break,
        };
        tokio::spawn(connection(
            stream,
            peer,
            router.clone(),
            http.clone(),
            settings.send_timeout,
            shutdown.clone(),
            (
                alive.clone(),
                ConnectionSlot {
                    _permit: Arc::new(slot),
                },
            ),
        ));
    }
    drop(listener);
    drop(alive);
    tokio::select! {
        _ = all_closed.recv() => Ok(()),
        () = tokio::time::sleep(settings.grace) => {
            tracing::warn!(grace_secs = settings.grace.as_secs(), "shutdown grace period elapsed; dropping remaining connections");
            Ok(())
        }
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    http: hyper::server::conn::http1::Builder,
    send_timeout: Duration,
    shutdown: Shutdown,
    // Both released when the connection ends (the slot is shared with its requests, see
    // `ConnectionSlot`).
    (_alive, slot): (mpsc::Sender<()>, ConnectionSlot),
) {
    // Responses are written in one go; Nagle would only hold back the last segment.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY not set");
    }
    let service = router.map_request(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(Peer {
            addr: peer,
            slot: slot.clone(),
        });
        req
    });
    let conn = http
        .serve_connection(
            TokioIo::new(SendTimeout::new(stream, send_timeout)),
            TowerToHyperService::new(service),
        )
        .with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = shutdown.wait() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // Client-side trouble (a reset, a header-read timeout, garbage instead of HTTP) ends
        // that connection only; it is not the server's error.
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Errors that concern one connection are skipped at once. Others (out of file descriptors)
/// would repeat immediately in a tight loop, so the loop pauses before accepting again.
async fn pause_after_accept_error(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
