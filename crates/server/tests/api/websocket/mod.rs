//! `GET /v1/ws` with a real client (tokio-tungstenite): authentication by header and by first
//! message, the 5 s authentication deadline, tokens in the query string refused before any
//! upgrade, refresh (same subject only), `token_expiring` and the close at `exp`, events for
//! subscribed orgs only, pushed closes on logout, member removal and disable (also across two
//! instances on PostgreSQL and Redis), rate limiting, exports, the caps on sockets and exports,
//! and 1001 on shutdown.

mod export;
mod handshake;
mod limits;
mod revocation;
mod session;
mod subscribe;

use crate::support::Caller;

/// An org of `owner`'s with `n` resources named `r0`, `r1`, ...
async fn org_with_resources(owner: &Caller, n: usize) -> String {
    let org = owner.create_org("Exported").await;
    for i in 0..n {
        owner.create_resource(&org, &format!("r{i}")).await;
    }
    org
}
