//! Runtime feature flags for auth settings (docs/sessions.md, "Feature flags").
//!
//! The database is the source of truth (`feature_flags`, written by `PUT /v1/admin/flags/{name}`
//! with its audit row). Every instance keeps a typed snapshot of the effective values in memory,
//! loaded at start-up and reloaded by the cluster sync whenever it reads a `flag.set` audit row
//! (`crate::cluster::sync`), so a change is in force everywhere within one sync interval.
//! Reads on the request path use each thread's copy of the snapshot (`per_thread`): no
//! database round trip, and no write to memory the other cores read.
//!
//! Values: the built-in default comes from the configuration (`[flags]`, `[mfa]`,
//! `auth.client_ids`); a global row overrides it; for per-org flags an org row overrides the
//! global value for that org. A stored `null` removes an override. Rows that no longer fit the
//! registry (a flag since removed, a value edited by hand) are ignored with a warning.

mod per_thread;
pub mod registry;

use crate::config::{Config, MfaRole};
use portcullis_store::{Flag, OrgId, Store, StoreError};
use registry::FlagDef;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The effective values, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub mfa_required: bool,
    pub mfa_required_orgs: HashMap<OrgId, bool>,
    pub mfa_required_roles: Vec<MfaRole>,
    pub revocation_check_reads: bool,
    pub jit_provisioning: bool,
    pub ws_revalidate_secs: u64,
    /// The accepted client ids; equal to the configured list unless narrowed.
    pub auth_client_ids: Vec<String>,
}

impl Snapshot {
    fn defaults(config: &Config, configured_clients: &[String]) -> Self {
        Self {
            mfa_required: config.mfa.required,
            mfa_required_orgs: HashMap::new(),
            mfa_required_roles: config.mfa.required_roles.clone(),
            revocation_check_reads: config.flags.revocation_check_reads,
            jit_provisioning: config.flags.jit_provisioning,
            ws_revalidate_secs: config.flags.ws_revalidate_secs,
            auth_client_ids: configured_clients.to_vec(),
        }
    }

    /// The value of a global flag as JSON (for the admin listing).
    pub fn global_json(&self, name: &str) -> Value {
        match name {
            registry::MFA_REQUIRED => Value::Bool(self.mfa_required),
            registry::MFA_REQUIRED_ROLES => Value::from(
                self.mfa_required_roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>(),
            ),
            registry::REVOCATION_CHECK_READS => Value::Bool(self.revocation_check_reads),
            registry::JIT_PROVISIONING => Value::Bool(self.jit_provisioning),
            registry::WS_REVALIDATE_SECS => Value::from(self.ws_revalidate_secs),
            registry::AUTH_CLIENT_IDS => Value::from(self.auth_client_ids.clone()),
            _ => Value::Null,
        }
    }

    /// Applies one valid, non-null, normalized value.
    fn apply(&mut self, name: &str, org: Option<OrgId>, value: &Value) {
        match (name, org) {
            (registry::MFA_REQUIRED, Some(org)) => {
                if let Some(b) = value.as_bool() {
                    self.mfa_required_orgs.insert(org, b);
                }
            }
            (_, Some(_)) => {}
            (registry::MFA_REQUIRED, None) => {
                self.mfa_required = value.as_bool().unwrap_or(self.mfa_required);
            }
            (registry::MFA_REQUIRED_ROLES, None) => {
                // All or nothing: a list with one role this build does not know is not the
                // list that was set.
                if let Ok(roles) = strings(value).map(str::parse).collect() {
                    self.mfa_required_roles = roles;
                }
            }
            (registry::REVOCATION_CHECK_READS, None) => {
                self.revocation_check_reads =
                    value.as_bool().unwrap_or(self.revocation_check_reads);
            }
            (registry::JIT_PROVISIONING, None) => {
                self.jit_provisioning = value.as_bool().unwrap_or(self.jit_provisioning);
            }
            (registry::WS_REVALIDATE_SECS, None) => {
                self.ws_revalidate_secs = value.as_u64().unwrap_or(self.ws_revalidate_secs);
            }
            (registry::AUTH_CLIENT_IDS, None) => {
                self.auth_client_ids = strings(value).map(str::to_owned).collect();
            }
            _ => {}
        }
    }
}

fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// This instance's view of the flags. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Flags {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    defaults: Snapshot,
    configured_clients: Vec<String>,
    current: RwLock<Arc<Snapshot>>,
    /// Bumped after `current` is replaced, so that threads refresh their copies.
    version: per_thread::Versioned,
    /// Serializes reloads, so that the last one to finish read the newest rows.
    reloading: tokio::sync::Mutex<()>,
}

impl Flags {
    /// Defaults only, until [`Flags::reload`] has read the database. `accepted_clients` are
    /// those of the resolved auth settings, which the `auth.client_ids` flag may narrow.
    pub fn new(config: &Config, accepted_clients: &[String]) -> Self {
        let configured_clients = accepted_clients.to_vec();
        let defaults = Snapshot::defaults(config, &configured_clients);
        Self {
            inner: Arc::new(Inner {
                current: RwLock::new(Arc::new(defaults.clone())),
                version: per_thread::Versioned::new(),
                defaults,
                configured_clients,
                reloading: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The effective values now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.inner.current.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Reads the current values through this thread's copy of them.
    fn read<R>(&self, read: impl Fn(&Snapshot) -> R) -> R {
        self.inner.version.read(|| self.snapshot(), read)
    }

    /// Makes `next` the current snapshot.
    fn replace(&self, next: Arc<Snapshot>) {
        let mut current = match self.inner.current.write() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if **current != *next {
            tracing::info!("feature flags loaded");
        }
        *current = next;
        drop(current);
        self.inner.version.bump();
    }

    /// The built-in defaults (configuration), before any database override.
    pub fn defaults(&self) -> &Snapshot {
        &self.inner.defaults
    }

    /// The client ids the configuration accepts: `auth.client_ids` may only narrow these.
    pub fn configured_clients(&self) -> &[String] {
        &self.inner.configured_clients
    }

    /// Whether MFA proof is required on the routes of `org` (`None`: routes outside any org).
    pub fn mfa_required(&self, org: Option<OrgId>) -> bool {
        self.read(|s| {
            org.and_then(|o| s.mfa_required_orgs.get(&o).copied())
                .unwrap_or(s.mfa_required)
        })
    }

    /// Whether holding `role` requires MFA proof.
    pub fn mfa_required_for_role(&self, role: MfaRole) -> bool {
        self.read(|s| s.mfa_required_roles.contains(&role))
    }

    pub fn revocation_check_reads(&self) -> bool {
        self.read(|s| s.revocation_check_reads)
    }

    pub fn jit_provisioning(&self) -> bool {
        self.read(|s| s.jit_provisioning)
    }

    /// How often a WebSocket re-validates its token (`ws.revalidate_secs`).
    pub fn ws_revalidate_interval(&self) -> Duration {
        Duration::from_secs(self.snapshot().ws_revalidate_secs)
    }

    /// Whether a token of this app client is accepted now (`auth.client_ids`). A token without
    /// `client_id` (OIDC) is only affected once the list is narrowed, and then refused.
    pub fn client_accepted(&self, client_id: Option<&str>) -> bool {
        self.read(|s| {
            self.inner
                .configured_clients
                .iter()
                .all(|c| s.auth_client_ids.contains(c))
                || client_id.is_some_and(|c| s.auth_client_ids.iter().any(|a| a == c))
        })
    }

    /// Builds the snapshot of `rows` over the defaults.
    pub fn effective(&self, rows: &[Flag]) -> Snapshot {
        let mut s = self.inner.defaults.clone();
        for row in rows {
            match self.valid_value(row) {
                Some(Value::Null) | None => {}
                Some(v) => s.apply(&row.name, row.org_id, &v),
            }
        }
        s
    }

    /// A stored row's value if it still fits the registry.
    fn valid_value(&self, row: &Flag) -> Option<Value> {
        let Some(def) = registry::lookup(&row.name) else {
            tracing::warn!(flag = %row.name, "ignoring a stored flag the server does not know");
            return None;
        };
        if row.org_id.is_some() && def.scope == registry::FlagScope::Global {
            tracing::warn!(flag = %row.name, "ignoring a per-org value of a global flag");
            return None;
        }
        match def.check(&row.value, &self.inner.configured_clients) {
            Ok(v) => Some(v),
            Err(why) => {
                tracing::warn!(flag = %row.name, why, "ignoring a stored flag value that does not fit its type");
                None
            }
        }
    }

    /// Validates a value for `def` (and `org`) before it is stored.
    pub fn check(
        &self,
        def: &FlagDef,
        org: Option<OrgId>,
        value: &Value,
    ) -> Result<Value, registry::Invalid> {
        if org.is_some() && def.scope == registry::FlagScope::Global {
            return Err("the flag has no per-org values");
        }
        def.check(value, &self.inner.configured_clients)
    }

    /// Reads every flag from the database and makes it the current snapshot.
    pub async fn reload(&self, store: &dyn Store) -> Result<(), StoreError> {
        let _one_at_a_time = self.inner.reloading.lock().await;
        let rows = store.list_flags().await?;
        self.replace(Arc::new(self.effective(&rows)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;

    fn row(name: &str, org: Option<OrgId>, value: Value) -> Flag {
        Flag {
            name: name.into(),
            org_id: org,
            value,
            updated_by: None,
            updated_at: Utc::now(),
        }
    }

    fn flags() -> Flags {
        Flags::new(&Config::default(), &["a".into(), "b".into()])
    }

    #[test]
    fn overrides_apply_over_defaults_and_bad_rows_are_ignored() {
        let f = flags();
        let org = OrgId::new();
        let other = OrgId::new();
        let s = f.effective(&[
            row("mfa.required", None, json!(true)),
            row("mfa.required", Some(org), json!(false)),
            row("jit.provisioning", Some(org), json!(false)),
            row("ws.revalidate_secs", None, json!("60")),
            row("nope", None, json!(true)),
            row("revocation.check_reads", None, json!(null)),
            row("auth.client_ids", None, json!(["b"])),
            row(
                "mfa.required_roles",
                None,
                json!(["owner", "platform_admin"]),
            ),
        ]);
        assert!(s.mfa_required);
        assert_eq!(s.mfa_required_orgs.get(&org), Some(&false));
        assert!(!s.mfa_required_orgs.contains_key(&other));
        assert!(
            s.jit_provisioning,
            "a per-org value of a global flag is ignored"
        );
        assert_eq!(s.ws_revalidate_secs, 30, "a mistyped value is ignored");
        assert!(s.revocation_check_reads, "null is the default");
        assert_eq!(s.auth_client_ids, ["b"]);
        assert_eq!(
            s.mfa_required_roles,
            [
                MfaRole::Org(portcullis_store::Role::Owner),
                MfaRole::PlatformAdmin
            ]
        );
        // Read once before the change, so that this thread holds a copy to be replaced.
        assert!(!f.mfa_required(None));
        f.replace(Arc::new(s));
        assert!(f.mfa_required(None) && f.mfa_required(Some(other)));
        assert!(!f.mfa_required(Some(org)));
        assert!(f.client_accepted(Some("b")) && !f.client_accepted(Some("a")));
        assert!(!f.client_accepted(None));
    }

    #[test]
    fn oidc_has_no_client_ids_to_narrow() {
        let mut c = Config::default();
        c.auth.provider = Some(crate::config::AuthProvider::Oidc);
        c.auth.issuer = Some("https://idp.example".into());
        c.auth.audiences = vec!["api".into()];
        c.auth.client_ids = vec!["a".into()];
        let settings = c.auth.resolve().expect("valid");
        let f = Flags::new(&c, &settings.accepted_clients());
        let def = registry::lookup(registry::AUTH_CLIENT_IDS).expect("registered");
        assert!(f.check(def, None, &json!(["a"])).is_err());
        assert!(f.client_accepted(None), "OIDC tokens carry no client id");
    }

    #[test]
    fn defaults_accept_every_configured_client() {
        let f = flags();
        assert!(f.client_accepted(Some("a")) && f.client_accepted(None));
        assert_eq!(f.ws_revalidate_interval(), Duration::from_secs(30));
        assert!(f.jit_provisioning() && f.revocation_check_reads());
    }
}
