//! The public router and the layers every route gets.

use super::error::ApiError;
use super::openapi;
use super::routes::{
    audit, flags, health, identities, links, me, members, orgs, resources, sessions,
};
use super::stack::Steps;
use crate::state::AppState;
use axum::Router;
use axum::routing::{get, patch, post, put};
use std::time::Duration;

/// Request bodies over 1 MiB are refused with 413 (README, "Errors").
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub request_timeout: Duration,
}

/// The public API. `/metrics` is deliberately absent: it has its own listener.
/// `extra` is merged in before the common layers (the dev issuer's endpoints under `dev`).
pub fn router(state: AppState, settings: &HttpSettings, extra: Option<Router>) -> Router {
    let mut routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(openapi::openapi_json))
        .route(
            crate::protected_resource::METADATA_PATH,
            get(super::routes::resource_metadata::metadata),
        )
        .route("/docs", get(openapi::docs))
        .route("/v1/me", get(me::me))
        .route("/v1/orgs", get(orgs::list_mine).post(orgs::create))
        .route("/v1/orgs/{org_id}", get(orgs::get).delete(orgs::delete))
        .route("/v1/orgs/{org_id}/restore", post(orgs::restore))
        .route(
            "/v1/orgs/{org_id}/members",
            get(members::list).post(members::add),
        )
        .route(
            "/v1/orgs/{org_id}/members/{user_id}",
            patch(members::change_role).delete(members::remove),
        )
        .route(
            "/v1/orgs/{org_id}/resources",
            get(resources::list).post(resources::create),
        )
        .route(
            "/v1/orgs/{org_id}/resources/{id}",
            get(resources::get)
                .patch(resources::patch)
                .delete(resources::delete),
        )
        .route(
            "/v1/orgs/{org_id}/resources/{id}/restore",
            post(resources::restore),
        )
        .route("/v1/orgs/{org_id}/audit", get(audit::for_org))
        .route("/v1/admin/audit", get(audit::global))
        .route("/v1/auth/logout", post(sessions::logout))
        .route("/v1/auth/logout-all", post(sessions::logout_all))
        .route(
            "/v1/admin/users/{user_id}/revoke-sessions",
            post(sessions::revoke_sessions),
        )
        .route("/v1/admin/users/{user_id}/disable", post(sessions::disable))
        .route("/v1/admin/users/{user_id}/enable", post(sessions::enable))
        .route(
            "/v1/admin/users/{user_id}/identities",
            post(identities::link),
        )
        .route(
            "/v1/admin/orgs/{org_id}/links",
            get(links::list).put(links::set),
        )
        .route("/v1/admin/flags", get(flags::list))
        .route("/v1/admin/flags/{name}", put(flags::set))
        .route("/v1/ws", get(super::routes::ws::upgrade))
        .fallback(not_found)
        .with_state(state.clone());
    if let Some(extra) = extra {
        routes = routes.merge(extra);
    }
    // The common steps, then the head-size cap, the per-IP limit and the challenges
    // (`super::stack`), in one layer.
    routes.layer(Steps::public(settings.request_timeout, state))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Public so that tests can put the exact production layer stack around test-only routes.
/// Outermost first: request id and the request's log span (so every response has an id,
/// including those produced by the layers below), metrics and the access-log line
/// (`crate::metrics::track`), problem rewriting, timeout, body limit (`super::stack`).
pub fn with_common_layers(router: Router, settings: &HttpSettings) -> Router {
    router.layer(Steps::common(settings.request_timeout))
}
