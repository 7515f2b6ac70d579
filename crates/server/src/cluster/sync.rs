//! This instance's position in the change feed, and the catch-up that moves it.
//!
//! Every security change (revocation, session cutoff, disable, membership, org deletion, flag)
//! is an audit row written in the same transaction as the change, numbered without gaps in
//! commit order. This instance remembers the highest number it has applied and reads what
//! follows: at once after a change made here, when another instance nudges through Redis,
//! after the Redis subscription comes back, and on a timer (`cluster.sync_interval_ms`)
//! whatever Redis does. So a change reaches every instance within one interval even when a
//! nudge is lost.
//!
//! The in-memory view is trusted only while it is known to be that fresh: the last catch-up
//! succeeded and started less than an interval plus one second ago, and, with Redis, after the
//! current subscription came up. Otherwise every revocation check asks the database.

use super::bus::{Bus, Event};
use super::change::SecurityChange;
use super::view::RevocationView;
use crate::flags::Flags;
use crate::principal::PrincipalCache;
use portcullis_auth::Verifier;
use portcullis_auth::clock::Clock;
use portcullis_store::{RevocationKind, Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Rows read per query; a longer backlog takes several.
const PAGE: u32 = 500;
/// Slack on top of the interval before the view counts as stale: a tick late by a scheduling
/// hiccup or a slow query should not send every request to the database. It is also the
/// worst case past the interval: a change committed just after a successful catch-up that
/// began at T is enforced by T + interval + MARGIN at the latest, by a later catch-up or by
/// the database. Hence the documented bound, `sync_interval_ms` + 1 s.
const MARGIN: Duration = Duration::from_secs(1);
/// Expired revocations are dropped from memory this often.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct ClusterSync {
    store: Arc<dyn Store>,
    bus: Bus,
    view: Arc<RevocationView>,
    principals: PrincipalCache,
    verifier: Arc<Verifier>,
    flags: Flags,
    clock: Arc<dyn Clock>,
    interval: Duration,
    /// Highest audit `seq` applied; -1 until the first full load.
    applied: AtomicI64,
    /// Milliseconds since `epoch` until which the view may be trusted; 0: not trusted.
    fresh_until: AtomicU64,
    /// The Redis link generation the last successful catch-up started under.
    caught_up_link: AtomicU64,
    epoch: Instant,
    running: tokio::sync::Mutex<()>,
    /// Set by the first catch-up that made the view trusted; readiness waits for it.
    live_once: std::sync::atomic::AtomicBool,
}

#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ClusterSync {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        bus: Bus,
        view: Arc<RevocationView>,
        principals: PrincipalCache,
        verifier: Arc<Verifier>,
        flags: Flags,
        clock: Arc<dyn Clock>,
        interval: Duration,
    ) -> Self {
        Self {
            store,
            bus,
            view,
            principals,
            verifier,
            flags,
            clock,
            interval,
            applied: AtomicI64::new(-1),
            fresh_until: AtomicU64::new(0),
            caught_up_link: AtomicU64::new(0),
            epoch: Instant::now(),
            running: tokio::sync::Mutex::new(()),
            live_once: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Whether the in-memory view (revocations, and the principal cache it keeps current) may
    /// answer for the database right now. On the request path: two atomic loads and a clock
    /// read.
    pub fn trusted(&self) -> bool {
        if self.elapsed_ms() >= self.fresh_until.load(Ordering::Acquire) {
            return false;
        }
        match self.bus.link_generation() {
            None => true,
            Some(0) => false,
            Some(generation) => self.caught_up_link.load(Ordering::Acquire) == generation,
        }
    }

    /// Whether the view has been current at least once (with Redis: caught up after the
    /// subscription came up). Until then the instance is not ready: it would send every check
    /// to the database. A later loss does not make it unready; it falls back instead.
    pub fn live_once(&self) -> bool {
        self.live_once.load(Ordering::Acquire)
    }

    /// The highest audit sequence applied here (-1 before the first load).
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::Acquire)
    }

    /// A change was just committed here: apply it (and anything before it) now, so this
    /// instance decides by it before the response leaves, then nudge the others. Failures are
    /// logged: the view is then distrusted and requests ask the database until a catch-up
    /// succeeds.
    pub async fn after_local_change(&self) {
        if self.catch_up().await.is_ok() {
            // In the background: the nudge only speeds the others up, and a Redis that hangs
            // must not hold the response for the publish timeout.
            let bus = self.bus.clone();
            let seq = self.applied();
            tokio::spawn(async move { bus.nudge(seq).await });
        }
    }

    /// Reads and applies every security change after the applied position. Serialized: one
    /// catch-up at a time, and the next starts where it ended.
    pub async fn catch_up(&self) -> Result<(), CatchUpError> {
        let _running = self.running.lock().await;
        let started = self.elapsed_ms();
        // Read before any query: a catch-up that began before a reconnect cannot vouch for
        // what the lost subscription missed.
        let link = self.bus.link_generation().unwrap_or(0);
        let result = self.catch_up_locked().await;
        match &result {
            Ok(()) => {
                self.caught_up_link.store(link, Ordering::Release);
                let until = started + (self.interval + MARGIN).as_millis() as u64;
                self.fresh_until.store(until, Ordering::Release);
                if self.trusted() {
                    self.live_once.store(true, Ordering::Release);
                }
                crate::metrics::cluster_synced(Some(self.applied()));
            }
            Err(e) => {
                self.fresh_until.store(0, Ordering::Release);
                crate::metrics::cluster_synced(None);
                tracing::warn!(error = %e, "catching up on security changes failed; checking the database per request until it works");
            }
        }
        result
    }

    async fn catch_up_locked(&self) -> Result<(), CatchUpError> {
        if self.applied() < 0 {
            return self.reload_all().await;
        }
        loop {
            let applied = self.applied();
            let head = self.store.audit_head().await?;
            if head <= applied {
                return Ok(());
            }
            let rows = self.store.security_changes(applied, head, PAGE).await?;
            let full = rows.len() == PAGE as usize;
            let upto = match rows.last() {
                Some(last) if full => last.seq,
                _ => head,
            };
            let mut changes = Vec::with_capacity(rows.len());
            for row in &rows {
                match SecurityChange::from_audit(row) {
                    Ok(Some(change)) => changes.push(change),
                    Ok(None) => {}
                    // Never skip a row we cannot read: reload from the tables themselves.
                    Err(e) => {
                        tracing::error!(error = %e, "reloading every revocation instead");
                        return self.reload_all().await;
                    }
                }
            }
            self.apply(changes).await?;
            self.applied.store(upto, Ordering::Release);
        }
    }

    /// Loads the whole view from the tables: at start-up and when a row cannot be read. The
    /// head is read first, so a change committed meanwhile is either in the tables or read
    /// again by the next catch-up.
    async fn reload_all(&self) -> Result<(), CatchUpError> {
        let head = self.store.audit_head().await?;
        self.view.reload(&*self.store, self.clock.now()).await?;
        self.flags.reload(&*self.store).await?;
        self.principals.forget_all();
        self.applied.store(head, Ordering::Release);
        self.bus.emit(Event::Resync);
        Ok(())
    }

    /// Applies changes in order. Each step is idempotent, so a batch that fails half-way is
    /// simply applied again by the next catch-up.
    async fn apply(&self, changes: Vec<SecurityChange>) -> Result<(), CatchUpError> {
        let mut flags = Vec::new();
        for change in changes {
            match change {
                SecurityChange::TokenRevoked(token) => {
                    self.view.add_token(&token);
                    self.verifier.forget_where(|v| match token.kind {
                        RevocationKind::Jti => v.claims.jti.as_deref() == Some(&token.value),
                        RevocationKind::OriginJti => {
                            v.claims.origin_jti.as_deref() == Some(&token.value)
                        }
                    });
                    self.bus.emit(Event::TokenRevoked {
                        kind: token.kind,
                        value: token.value,
                        expires_at: token.expires_at,
                    });
                }
                SecurityChange::UserCutoff { user, before } => {
                    self.view.add_user_cutoff(user, before);
                    self.bus.emit(Event::UserSessionsRevoked {
                        user_id: user,
                        before,
                    });
                }
                SecurityChange::UserChanged(id) => {
                    if let Some(user) = self.store.get_user(id).await? {
                        self.principals.forget_user(&user).await;
                        self.bus.emit(Event::UserChanged {
                            user_id: user.id,
                            issuer: user.issuer,
                            sub: user.sub,
                        });
                    }
                }
                SecurityChange::OrgChanged(org_id) => {
                    self.principals.forget_all();
                    self.bus.emit(Event::OrgChanged { org_id });
                }
                SecurityChange::FlagChanged { name, org } => flags.push((name, org)),
            }
        }
        if !flags.is_empty() {
            self.flags.reload(&*self.store).await?;
            for (name, org_id) in flags {
                self.bus.emit(Event::FlagChanged { name, org_id });
            }
        }
        Ok(())
    }

    /// Catches up on every tick of the interval and whenever the bus wakes it (a nudge newer
    /// than what is applied, or the Redis link going up or down); prunes expired revocations.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let nudges = Arc::clone(self.bus.nudges());
            let mut tick = tokio::time::interval(self.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_prune = Instant::now();
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = nudges.wake.notified() => {}
                }
                let _ = self.catch_up().await;
                if last_prune.elapsed() >= PRUNE_EVERY {
                    self.view.prune(self.clock.now());
                    last_prune = Instant::now();
                }
            }
        })
    }
}
