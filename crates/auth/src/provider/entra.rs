//! Microsoft Entra ID, one tenant per provider.
//!
//! A tenant's tokens carry the v2 issuer `https://login.microsoftonline.com/{tid}/v2.0` or the
//! v1 issuer `https://sts.windows.net/{tid}/`, whichever the API's
//! `accessTokenAcceptedVersion` asks for, and both are signed by the tenant's keys
//! (`https://login.microsoftonline.com/{tid}/discovery/v2.0/keys`). The `tid` claim must name
//! the same tenant. `aud` is the API's client id (v2) or its App ID URI (`api://...`, v1).
//! Roles are the app roles in `roles`; delegated scopes are the space-separated `scp`.
//! Tokens for Microsoft Graph carry a `nonce` in their header and cannot be verified by anyone
//! but Graph: they are refused on sight.

use crate::jwt::{Claims, Header};
use crate::provider::settings::looks_like_id_token;
use crate::provider::{Provider, Settings, check_audience};
use crate::rejection::Rejection;
use std::collections::HashSet;

/// Microsoft Graph as an audience: its App ID URI and its application id.
const GRAPH_AUDIENCES: [&str; 3] = [
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    "00000003-0000-0000-c000-000000000000",
];

#[derive(Debug)]
/// One Entra ID tenant: its v1 and v2 issuers, `tid` checked, Graph tokens refused.
pub struct Entra {
    settings: Settings,
    tenant: String,
    audiences: HashSet<String>,
}

impl Entra {
    /// App roles.
    pub const ROLES_CLAIM: &'static str = "roles";

    /// The v2.0 issuer of a tenant.
    pub fn v2_issuer(tenant_id: &str) -> String {
        format!("https://login.microsoftonline.com/{tenant_id}/v2.0")
    }

    /// The v1.0 issuer of a tenant.
    pub fn v1_issuer(tenant_id: &str) -> String {
        format!("https://sts.windows.net/{tenant_id}/")
    }

    /// The tenant's keys, shared by its v1 and v2 tokens.
    pub fn jwks_url(tenant_id: &str) -> String {
        format!("https://login.microsoftonline.com/{tenant_id}/discovery/v2.0/keys")
    }

    /// Whether `tenant_id` is a tenant id (a GUID), not a domain or one of the multi-tenant
    /// placeholders (`common`, `organizations`, `consumers`, `{tenantid}`), whose issuers are
    /// templates rather than anything a token carries.
    pub fn is_tenant_id(tenant_id: &str) -> bool {
        let groups: Vec<&str> = tenant_id.split('-').collect();
        groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    /// `settings` names this tenant's issuers (the v2 one first, as keys come from it).
    pub fn with_settings(
        settings: Settings,
        tenant_id: impl Into<String>,
        audiences: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            settings,
            tenant: tenant_id.into().to_ascii_lowercase(),
            audiences: audiences.into_iter().collect(),
        }
    }

    /// The tenant this provider accepts.
    pub fn tenant_id(&self) -> &str {
        &self.tenant
    }
}

impl Provider for Entra {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn check_header(&self, header: &Header) -> Result<(), Rejection> {
        if header.nonce {
            return Err(Rejection::GraphToken);
        }
        Ok(())
    }

    fn check_token_type(&self, claims: &Claims) -> Result<(), Rejection> {
        if claims
            .aud
            .iter()
            .any(|a| GRAPH_AUDIENCES.contains(&a.to_ascii_lowercase().as_str()))
        {
            return Err(Rejection::GraphToken);
        }
        // The issuer chose this tenant's keys; a token naming another tenant in `tid` was
        // issued for that tenant, whatever its `iss` says.
        match claims.raw.get("tid").and_then(|t| t.as_str()) {
            Some(tid) if tid.eq_ignore_ascii_case(&self.tenant) => {}
            _ => return Err(Rejection::WrongTenant),
        }
        if looks_like_id_token(claims) {
            return Err(Rejection::WrongTokenUse);
        }
        check_audience(claims, &self.audiences)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_guids() {
        assert!(Entra::is_tenant_id("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        for t in [
            "common",
            "organizations",
            "consumers",
            "{tenantid}",
            "contoso.onmicrosoft.com",
            "72f988bf-86f1-41af-91ab-2d7cd011db4",
            "72f988bf-86f1-41af-91ab-2d7cd011db47-",
            "72f988bg-86f1-41af-91ab-2d7cd011db47",
        ] {
            assert!(!Entra::is_tenant_id(t), "{t}");
        }
    }
}
