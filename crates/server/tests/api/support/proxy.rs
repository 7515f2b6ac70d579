//! A TCP proxy a test can cut, which is what a crashed database or a lost Redis link looks like
//! from the app.

use std::net::SocketAddr;

/// Forwards connections to `upstream`. Dropping it (or `stop`) closes the listener and every
/// proxied connection.
pub struct Proxy {
    tasks: tokio::task::JoinSet<()>,
}

impl Proxy {
    pub async fn start(bind: SocketAddr, upstream: SocketAddr) -> (Self, SocketAddr) {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .expect("proxy binds");
        let addr = listener.local_addr().expect("addr");
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                conns.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        (Self { tasks }, addr)
    }

    /// On a port of its own, chosen by the OS.
    pub async fn to(upstream: SocketAddr) -> (Self, SocketAddr) {
        Self::start("127.0.0.1:0".parse().expect("addr"), upstream).await
    }

    /// Aborting the accept task drops the listener and its `JoinSet`, which aborts every
    /// connection task and closes their sockets.
    pub async fn stop(mut self) {
        self.tasks.shutdown().await;
    }
}
