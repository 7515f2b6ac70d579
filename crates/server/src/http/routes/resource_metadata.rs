//! `GET /.well-known/oauth-protected-resource`: this API's protected-resource metadata
//! (RFC 9728), public like the OpenAPI document.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde_json::Value;

/// RFC 9728 protected-resource metadata, as served.
#[derive(Debug, utoipa::ToSchema)]
pub struct ProtectedResourceMetadata {
    /// The resource identifier (`resource` setting, else `http://{listen}`).
    pub resource: String,
    /// Every configured issuer.
    pub authorization_servers: Vec<String>,
    /// The `resource_scopes` setting.
    pub scopes_supported: Vec<String>,
    /// Always `["header"]`: tokens travel in `Authorization` only.
    pub bearer_methods_supported: Vec<String>,
    pub resource_name: String,
    /// Present when some issuer accepts DPoP: the algorithms a proof may use.
    #[schema(required = false)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Present, `true`, when every issuer requires DPoP.
    #[schema(required = false)]
    pub dpop_bound_access_tokens_required: Option<bool>,
}

/// Which issuers this API accepts tokens from, how tokens are sent, and whether DPoP applies.
/// Every 401 names this document in its `WWW-Authenticate` challenges (`resource_metadata`).
#[utoipa::path(get, path = "/.well-known/oauth-protected-resource", tag = "health",
    responses((status = 200, description = "Protected-resource metadata (RFC 9728).",
        body = ProtectedResourceMetadata)))]
pub async fn metadata(State(state): State<AppState>) -> Json<Value> {
    Json(state.resource.document.clone())
}
