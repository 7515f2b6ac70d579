//! Okta custom authorization servers (`https://{org}/oauth2/{server id}`, the default one being
//! `.../oauth2/default` with audience `api://default`).
//!
//! The org authorization server (`https://{org}`) signs access tokens that only Okta itself can
//! validate, so an issuer without an `/oauth2/{id}` path is a configuration error. `cid` names
//! the client the token was issued to; `scp` is an array of scopes; `groups` is present when a
//! groups claim is configured on the server.

use crate::jwt::Claims;
use crate::provider::settings::looks_like_id_token;
use crate::provider::{Provider, Settings, check_audience};
use crate::rejection::Rejection;
use std::collections::HashSet;

#[derive(Debug)]
/// An Okta custom authorization server: `aud`, and `cid` when client ids are given.
pub struct Okta {
    settings: Settings,
    audiences: HashSet<String>,
    client_ids: HashSet<String>,
}

impl Okta {
    /// Where Okta puts groups.
    pub const ROLES_CLAIM: &'static str = "groups";

    /// Whether `issuer` names a custom authorization server: a path of exactly
    /// `/oauth2/{id}`. Checked on the parsed URL so that a query or fragment cannot pass.
    pub fn is_custom_server(issuer: &str) -> bool {
        let Ok(url) = url::Url::parse(issuer) else {
            return false;
        };
        if url.query().is_some() || url.fragment().is_some() {
            return false;
        }
        let mut steps = url.path().trim_start_matches('/').split('/');
        matches!(
            (steps.next(), steps.next(), steps.next()),
            (Some("oauth2"), Some(id), None) if !id.is_empty()
        )
    }

    /// `client_ids` empty: any client of the server; otherwise `cid` must be one of them.
    pub fn with_settings(
        settings: Settings,
        audiences: impl IntoIterator<Item = String>,
        client_ids: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            settings,
            audiences: audiences.into_iter().collect(),
            client_ids: client_ids.into_iter().collect(),
        }
    }
}

impl Provider for Okta {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn check_token_type(&self, claims: &Claims) -> Result<(), Rejection> {
        if looks_like_id_token(claims) {
            return Err(Rejection::WrongTokenUse);
        }
        check_audience(claims, &self.audiences)?;
        if self.client_ids.is_empty() {
            return Ok(());
        }
        match claims.raw.get("cid") {
            Some(serde_json::Value::String(cid)) if self.client_ids.contains(cid) => Ok(()),
            Some(serde_json::Value::String(_)) | None => Err(Rejection::WrongClient),
            Some(_) => Err(Rejection::BadClaims),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_custom_authorization_servers() {
        for ok in [
            "https://example.okta.com/oauth2/default",
            "https://example.okta.com/oauth2/aus1a2b3c4D5e6F7g8h9",
            "http://127.0.0.1:9000/oauth2/default",
        ] {
            assert!(Okta::is_custom_server(ok), "{ok}");
        }
        for bad in [
            "https://example.okta.com",
            "https://example.okta.com/",
            "https://example.okta.com/oauth2",
            "https://example.okta.com/oauth2/",
            "https://example.okta.com/oauth2/default/v1",
            "https://example.okta.com/other/default",
            "https://example.okta.com/oauth2/default?x=1",
        ] {
            assert!(!Okta::is_custom_server(bad), "{bad}");
        }
    }
}
