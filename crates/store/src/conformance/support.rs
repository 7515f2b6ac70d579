use crate::{ChangeContext, NewUser, Store, StoreResult, User, UserId};
use chrono::{DateTime, Duration, Utc};
use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

type RawSql =
    Box<dyn Fn(String) -> Pin<Box<dyn Future<Output = StoreResult<u64>> + Send>> + Send + Sync>;

/// A backend under test: the store, a way to run SQL behind its back (as an intruder with
/// database access would), and whatever must live as long as the test (a temp dir, a database).
pub struct Harness<S> {
    pub store: Arc<S>,
    raw: RawSql,
    audit_guard_off: &'static str,
    _keep: Box<dyn Any + Send + Sync>,
}

impl<S> std::fmt::Debug for Harness<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").finish_non_exhaustive()
    }
}

impl<S: Store + 'static> Harness<S> {
    /// `audit_guard_off` is the backend's SQL to switch off the audit log's append-only guard,
    /// used only to prove that `verify` catches what the guard would otherwise have stopped.
    pub fn new<F, Fut>(
        store: Arc<S>,
        raw: F,
        audit_guard_off: &'static str,
        keep: impl Any + Send + Sync,
    ) -> Self
    where
        F: Fn(Arc<S>, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = StoreResult<u64>> + Send + 'static,
    {
        let s = store.clone();
        Self {
            store,
            raw: Box::new(move |sql| Box::pin(raw(s.clone(), sql))),
            audit_guard_off,
            _keep: Box::new(keep),
        }
    }

    pub async fn raw(&self, sql: &str) -> StoreResult<u64> {
        (self.raw)(sql.to_owned()).await
    }

    pub fn audit_guard_off(&self) -> &'static str {
        self.audit_guard_off
    }
}

/// A fixed instant with a sub-millisecond part, so a backend that drops microseconds is caught.
pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_893_456_000_123_456).unwrap_or_default()
}

pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

pub fn ctx(actor: Option<UserId>, secs: i64) -> ChangeContext {
    ChangeContext::new(actor, format!("req-{secs}"), at(secs))
}

pub async fn user<S: Store>(s: &S, sub: &str) -> User {
    s.upsert_user(
        &NewUser {
            issuer: "https://issuer.test".into(),
            sub: sub.into(),
            username: Some(format!("{sub}-name")),
            email: None,
            seen: true,
        },
        t0(),
    )
    .await
    .expect("upsert user")
    .user
}
