//! Org links (platform admins only): an org's members taken from a claim of the provider's
//! tokens, such as Entra's `tid` or a group. Applied when a caller's identity is loaded
//! (`crate::access`); see docs/providers.md, "Org roles from the provider".

use crate::http::change::context;
use crate::http::error::ApiError;
use crate::http::guard::PlatformAdmin;
use crate::http::input::{Body, invalid_field, rules};
use crate::http::openapi as doc;
use crate::http::routes::orgs::OrgPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use portcullis_store::{NewOrgLink, OrgLink, Role};
use serde::{Deserialize, Serialize};

/// A link, named by (`issuer`, `claim`, `value`) within the org: a token of `issuer` whose
/// top-level claim `claim` is `value`, or an array holding it, makes its user a member with
/// `role`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLink {
    /// The tokens' `iss`, exactly; at most 1024 bytes.
    #[schema(min_length = 1)]
    pub issuer: String,
    /// A top-level claim name; at most 255 bytes.
    #[schema(min_length = 1)]
    pub claim: String,
    /// At most 255 bytes.
    #[schema(min_length = 1)]
    pub value: String,
    pub role: Role,
}

rules!(SetLink {
    issuer: rules::ISSUER,
    claim: "must be a top-level claim name of 1 to 255 bytes without NUL characters",
    value: "must be a string of 1 to 255 bytes without NUL characters",
    role: LINK_ROLE,
});

const LINK_ROLE: &str = "must be one of admin, member, viewer (ownership is only given by hand)";

/// The org's links, by issuer, claim, value.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LinkList {
    pub items: Vec<OrgLink>,
    /// Always null: an org's links are one page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/admin/orgs/{org_id}/links", tag = "links", params(doc::OrgParams),
    responses(
        (status = 200, description = "The org's links (platform admins only).", body = LinkList),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ))]
pub async fn list(
    State(state): State<AppState>,
    PlatformAdmin(_): PlatformAdmin,
    OrgPath(org): OrgPath,
) -> Result<Json<LinkList>, ApiError> {
    state
        .store
        .get_org(org, false)
        .await?
        .ok_or(ApiError::NotFound)?;
    let items = state.store.list_org_links(org).await?;
    Ok(Json(LinkList {
        items,
        next_cursor: None,
    }))
}

/// Creates one link, or changes the role of the link with the same issuer, claim and value;
/// the org's other links stay as they are.
#[utoipa::path(put, path = "/v1/admin/orgs/{org_id}/links", tag = "links", params(doc::OrgParams), request_body = SetLink,
    responses(
        (status = 200, description = "Set (platform admins only); applied to each user at their next request. The link as stored.", body = OrgLink),
        (status = 400, response = doc::BadRequest),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 422, response = doc::UnprocessableContent),
    ))]
pub async fn set(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    OrgPath(org): OrgPath,
    Body(body): Body<SetLink>,
) -> Result<Json<OrgLink>, ApiError> {
    if !rules::issuer_ok(&body.issuer) {
        return Err(invalid_field("/issuer", rules::ISSUER));
    }
    if portcullis_store::validate::sub(&body.claim).is_err() {
        return Err(invalid_field(
            "/claim",
            "must be a top-level claim name of 1 to 255 bytes without NUL characters",
        ));
    }
    if portcullis_store::validate::sub(&body.value).is_err() {
        return Err(invalid_field(
            "/value",
            "must be a string of 1 to 255 bytes without NUL characters",
        ));
    }
    if !NewOrgLink::role_allowed(body.role) {
        return Err(invalid_field("/role", LINK_ROLE));
    }
    let link = NewOrgLink {
        org_id: org,
        issuer: body.issuer,
        claim: body.claim,
        value: body.value,
        role: body.role,
    };
    let saved = state
        .store
        .set_org_link(&context(&state, &admin), &link)
        .await?;
    // Every instance drops its cached identities, so the link applies at each user's next
    // request rather than when their cached identity expires.
    state.changes.committed().await;
    Ok(Json(saved))
}
