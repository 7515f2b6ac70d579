//! An org export streamed over the socket: `export_started`, then per page `export_items` and
//! `export_progress`, then `export_done`. It runs on a task of its own and hands its messages
//! to the socket's loop, which stays free to act on revocations while a page is read.
//!
//! Before every page the export checks again the token that started it (revoked, or its user
//! disabled: the export stops and the socket closes with 4401 / 4403) and the socket's
//! current token (the same one, or its refreshed replacement) with every check of a request,
//! including read permission in the org. Pages are paced ([`PAGE_PAUSE`]) so that one export
//! shares the database with live traffic instead of monopolising a connection.

use super::auth::{self, Authority, Denied, Identity};
use super::messages::{ErrorCode, ServerMessage};
use super::operations::Operation;
use crate::limits::sockets::Seat;
use crate::state::AppState;
use portcullis_store::{OrgId, PageRequest, ResourceFilter};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 100;
/// The pause between two pages: at most 40 pages (4,000 resources) a second per export.
pub const PAGE_PAUSE: Duration = Duration::from_millis(25);

/// What the export hands to the socket's loop.
#[derive(Debug)]
pub enum ExportOut {
    Send(ServerMessage),
    /// A check failed: the socket closes with the refusal's code.
    Denied(Denied),
    /// Done, or stopped with an `export_stopped` error already sent.
    Finished,
}

/// A running export; dropping it stops the task.
#[derive(Debug)]
pub struct Export {
    org: OrgId,
    out: mpsc::Receiver<ExportOut>,
    current: watch::Sender<Authority>,
    task: JoinHandle<()>,
}

impl Drop for Export {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Export {
    pub fn org(&self) -> OrgId {
        self.org
    }

    pub async fn recv(&mut self) -> Option<ExportOut> {
        self.out.recv().await
    }

    /// The socket's token was refreshed or its identity reloaded.
    pub fn update(&self, authority: &Authority) {
        self.current.send_replace(authority.clone());
    }
}

/// Starts the export; `seat` is its place under `ws.max_exports_per_user`, given back as soon
/// as it has read its last page (before `export_done`), or when it is stopped or dropped.
pub fn start(
    state: AppState,
    initiating: Authority,
    org: OrgId,
    page_size: u32,
    seat: Seat,
) -> Export {
    // Small: the export runs at most a couple of pages ahead of what the socket has sent.
    let (tx, out) = mpsc::channel(2);
    let (current, current_rx) = watch::channel(initiating.clone());
    let task = tokio::spawn(run(state, initiating, current_rx, org, page_size, tx, seat));
    Export {
        org,
        out,
        current,
        task,
    }
}

async fn run(
    state: AppState,
    initiating: Authority,
    current: watch::Receiver<Authority>,
    org: OrgId,
    page_size: u32,
    tx: mpsc::Sender<ExportOut>,
    seat: Seat,
) {
    let stopped = |tx: mpsc::Sender<ExportOut>| async move {
        let _ = tx
            .send(ExportOut::Send(ServerMessage::org_error(
                ErrorCode::ExportStopped,
                org,
            )))
            .await;
        let _ = tx.send(ExportOut::Finished).await;
    };
    let filter = ResourceFilter::default();
    let mut after = None;
    let mut exported: u64 = 0;
    loop {
        if let Err(denied) = check(&state, &initiating, &current, org).await {
            tracing::info!(
                reason = denied.reason(),
                "websocket export stopped: its token was refused"
            );
            let _ = tx
                .send(ExportOut::Send(ServerMessage::org_error(
                    ErrorCode::ExportStopped,
                    org,
                )))
                .await;
            let _ = tx.send(ExportOut::Denied(denied)).await;
            return;
        }
        // The same byte budget as an HTTP list page: with two pages queued and one being sent,
        // an export holds at most three budgets of resources in memory.
        let page = match PageRequest::new(page_size, after) {
            Ok(req) => {
                let req = req.with_max_bytes(state.page_max_bytes);
                state.store.list_resources(org, &filter, &req).await
            }
            Err(e) => Err(e),
        };
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "websocket export failed reading a page");
                // The socket stays open, and the client may retry at once.
                drop(seat);
                return stopped(tx).await;
            }
        };
        exported += page.items.len() as u64;
        let items = ServerMessage::ExportItems {
            org_id: org,
            items: page.items,
        };
        let progress = ServerMessage::ExportProgress {
            org_id: org,
            exported,
        };
        for msg in [items, progress] {
            if tx.send(ExportOut::Send(msg)).await.is_err() {
                return;
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => {
                // A client that reads `export_done` may start its next export at once.
                drop(seat);
                let done = ServerMessage::ExportDone {
                    org_id: org,
                    exported,
                };
                let _ = tx.send(ExportOut::Send(done)).await;
                let _ = tx.send(ExportOut::Finished).await;
                return;
            }
        }
        tokio::time::sleep(PAGE_PAUSE).await;
    }
}

/// The initiating token still stands (not revoked, its user not disabled or signed out), and
/// the socket's current token passes every check, with read permission in the org and the MFA
/// proof an export needs.
async fn check(
    state: &AppState,
    initiating: &Authority,
    current: &watch::Receiver<Authority>,
    org: OrgId,
) -> Result<(), Denied> {
    state
        .revocations
        .check(&initiating.principal)
        .await
        .map_err(crate::access::Denied::from)?;
    let current = current.borrow().clone();
    auth::recheck(state, &current, Identity::Cached, Operation::Export, [org]).await?;
    Ok(())
}
