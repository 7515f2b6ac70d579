//! One shutdown signal shared by both listeners and the background tasks.

use std::sync::Arc;
use tokio::sync::watch;

/// Cloneable; `trigger` on any clone releases every `wait`.
///
/// It also counts work that outlives the HTTP drain and must be given the chance to end
/// cleanly before the process exits: upgraded connections (WebSockets) leave hyper at the
/// upgrade, so the accept loop cannot wait for them; each holds a [`Hold`] instead.
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
    holds: Arc<watch::Sender<usize>>,
}

/// Counted by [`Shutdown::released`] until dropped.
#[derive(Debug)]
pub struct Hold {
    holds: Arc<watch::Sender<usize>>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.holds.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::channel(false).0),
            holds: Arc::new(watch::channel(0).0),
        }
    }

    /// Registers work that [`Shutdown::released`] waits for.
    pub fn hold(&self) -> Hold {
        self.holds.send_modify(|n| *n += 1);
        Hold {
            holds: Arc::clone(&self.holds),
        }
    }

    /// Resolves once no [`Hold`] is left.
    pub async fn released(&self) {
        let mut rx = self.holds.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives as long as `self`, so this only returns once triggered.
        let _ = rx.wait_for(|triggered| *triggered).await;
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what orchestrators send).
pub async fn os_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = term => tracing::info!("SIGTERM received, shutting down"),
    }
}
