//! Google sign-in. Google issues no JWT access tokens (its access tokens are opaque), so this
//! profile accepts Google ID tokens, and only where it was explicitly chosen: the token is
//! then proof of a Google sign-in for our client, not an access grant.
//!
//! `iss` is `https://accounts.google.com` or `accounts.google.com`, both accepted. `aud` must
//! be our OAuth client id, `email_verified` must be `true`, and when hosted domains are
//! configured, `hd` (the Workspace domain; absent for consumer accounts) must be one of them.
//! Google tokens carry no roles.

use crate::jwt::Claims;
use crate::provider::{Provider, Settings, check_audience};
use crate::rejection::Rejection;
use serde_json::Value;
use std::collections::HashSet;

#[derive(Debug)]
/// Google ID tokens (opt-in): `aud` a configured client id, `email_verified`, optional `hd` allow-list.
pub struct Google {
    settings: Settings,
    client_ids: HashSet<String>,
    hosted_domains: HashSet<String>,
}

impl Google {
    /// Google's issuer.
    pub const ISSUER: &'static str = "https://accounts.google.com";

    /// An issuer and the same without its scheme, as Google writes it in some tokens.
    pub fn issuer_forms(issuer: &str) -> [String; 2] {
        let bare = issuer
            .strip_prefix("https://")
            .or_else(|| issuer.strip_prefix("http://"))
            .unwrap_or(issuer);
        [issuer.to_owned(), bare.to_owned()]
    }

    /// `hosted_domains` empty: any account, consumer or Workspace.
    pub fn with_settings(
        settings: Settings,
        client_ids: impl IntoIterator<Item = String>,
        hosted_domains: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            settings,
            client_ids: client_ids.into_iter().collect(),
            hosted_domains: hosted_domains
                .into_iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
        }
    }
}

impl Provider for Google {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn check_token_type(&self, claims: &Claims) -> Result<(), Rejection> {
        check_audience(claims, &self.client_ids)?;
        match claims.raw.get("email_verified") {
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) | None => return Err(Rejection::EmailUnverified),
            Some(_) => return Err(Rejection::BadClaims),
        }
        if self.hosted_domains.is_empty() {
            return Ok(());
        }
        match claims.raw.get("hd") {
            Some(Value::String(hd)) if self.hosted_domains.contains(&hd.to_ascii_lowercase()) => {
                Ok(())
            }
            Some(Value::String(_)) | None => Err(Rejection::WrongTenant),
            Some(_) => Err(Rejection::BadClaims),
        }
    }
}
