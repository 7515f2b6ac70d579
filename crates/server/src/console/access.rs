//! Who sees which console pages: platform admins everything; admins and owners of an org its
//! Audit, Members and Flags pages; anyone else no page at all. These only choose what to show:
//! every page's data and action still goes through the API's guards (`crate::http::guard`).

use super::caller::Signed;
use super::html::NavItem;
use super::{ConsoleState, caller};
use crate::http::guard::{OrgAccess, Permission, PlatformAdmin};
use crate::principal::Principal;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use portcullis_store::{MembershipSummary, Role};

/// The orgs whose console pages a member may see.
pub fn admin_orgs(p: &Principal) -> Vec<&MembershipSummary> {
    p.identity
        .memberships
        .iter()
        .filter(|m| m.role >= Role::Admin)
        .collect()
}

/// Whether the console has anything for this user.
pub fn has_access(p: &Principal) -> bool {
    p.platform_admin || !admin_orgs(p).is_empty()
}

pub fn nav(p: &Principal) -> Vec<NavItem> {
    let item = |label: &str, href: &str| NavItem {
        label: label.to_owned(),
        href: href.to_owned(),
    };
    if p.platform_admin {
        vec![
            item("Audit", "/console/audit"),
            item("Users", "/console/users"),
            item("Orgs", "/console/orgs"),
            item("Flags", "/console/flags"),
            item("Auth health", "/console/health"),
        ]
    } else if has_access(p) {
        vec![item("My orgs", "/console/orgs")]
    } else {
        Vec::new()
    }
}

/// A platform admin, as the API's `PlatformAdmin` guard decides it; others see a 404 page
/// (pages they cannot use do not exist for them).
#[derive(Debug)]
pub struct Admin {
    pub signed: Signed,
    pub admin: PlatformAdmin,
}

impl FromRequestParts<ConsoleState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, cs: &ConsoleState) -> Result<Self, Response> {
        let signed = Signed::from_request_parts(parts, cs).await?;
        if !has_access(&signed.principal) {
            return Err(super::pages::home::no_access(&signed));
        }
        match PlatformAdmin::from_request_parts(parts, &cs.app).await {
            Ok(admin) => Ok(Self { signed, admin }),
            Err(crate::http::error::ApiError::Forbidden) => Err(caller::api_error(
                &signed.frame(parts.uri.path()),
                crate::http::error::ApiError::NotFound,
            )),
            Err(e) => Err(caller::api_error(&signed.frame(parts.uri.path()), e)),
        }
    }
}

/// The org of the path, with the caller allowed `P` there by the API's org guard; 404 for an
/// org the caller cannot see or may not do `P` in (another org's page does not exist for them).
#[derive(Debug)]
pub struct OrgPage<P> {
    pub signed: Signed,
    pub access: OrgAccess<P>,
}

impl<P: Permission> FromRequestParts<ConsoleState> for OrgPage<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, cs: &ConsoleState) -> Result<Self, Response> {
        let signed = Signed::from_request_parts(parts, cs).await?;
        if !has_access(&signed.principal) {
            return Err(super::pages::home::no_access(&signed));
        }
        match OrgAccess::<P>::from_request_parts(parts, &cs.app).await {
            Ok(access) => Ok(Self { signed, access }),
            Err(crate::http::error::ApiError::Forbidden) => Err(caller::api_error(
                &signed.frame(parts.uri.path()),
                crate::http::error::ApiError::NotFound,
            )),
            Err(e) => Err(caller::api_error(&signed.frame(parts.uri.path()), e)),
        }
    }
}
