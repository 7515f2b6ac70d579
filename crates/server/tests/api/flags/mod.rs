//! Runtime feature flags: the admin API (platform admins only, typed validation, audited), a
//! change on instance A in force on instance B within a second (PostgreSQL and Redis shared),
//! the same on one instance without Redis, values surviving a restart, and what the auth flags
//! do: `jit.provisioning`, `revocation.check_reads`, `auth.client_ids`.

mod admin_api;
mod policies;
mod propagation;

use crate::support::Caller;
use serde_json::Value;

/// The status of `PUT /v1/admin/flags/{name}` with `body`.
async fn put_flag(caller: &Caller, name: &str, body: Value) -> u16 {
    caller
        .put(&format!("/v1/admin/flags/{name}"))
        .json(body)
        .status()
        .await
}

/// The flag `name` as `GET /v1/admin/flags` lists it.
async fn listed(admin: &Caller, name: &str) -> Value {
    let list = admin.get("/v1/admin/flags").expect(200).await;
    list["items"]
        .as_array()
        .and_then(|i| i.iter().find(|i| i["name"] == name))
        .cloned()
        .expect("listed")
}
