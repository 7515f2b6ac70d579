//! The local OAuth 2.0 / OpenID Connect identity provider of `portcullis dev`: a sign-in page
//! with the configured personas, the authorization code flow with PKCE, rotating refresh
//! tokens, revocation, userInfo and logout, under the dev issuer's path, shaped like a Cognito
//! user pool domain. Mounted only by `portcullis dev` (docs/dev-issuer.md).

mod authorize;
mod client_auth;
mod clients;
mod codes;
mod cookies;
mod cors;
mod discovery;
mod form;
mod logout;
mod oauth_error;
mod page;
mod pending;
mod random;
mod refresh;
mod revoke;
pub mod seed;
mod signin;
mod token;
mod userinfo;

use crate::config::{Config, Persona};
use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};
use portcullis_dev_issuer::DevIssuer;
use portcullis_dev_issuer::{pkce, totp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const REVOKE_PATH: &str = "/oauth2/revoke";
pub const USERINFO_PATH: &str = "/oauth2/userInfo";
pub const LOGOUT_PATH: &str = "/logout";

/// How a TOTP sign-in is shown to the server's MFA check (`[mfa]`).
#[derive(Debug, Clone)]
struct MfaShape {
    /// `mfa.claim` when it is not `amr` (which the sign-in always sets), with the first of
    /// `mfa.values`.
    extra_claim: Option<(String, String)>,
    /// `acr_values` that ask for MFA: the configured `mfa.acr_values`, `mfa.values`, and the
    /// usual names.
    acr_values: Vec<String>,
}

#[derive(Debug)]
pub struct Idp {
    issuer: Arc<DevIssuer>,
    /// The issuer URL without a trailing slash; endpoints hang below it.
    base: String,
    /// The path the routes are mounted at on this server, for cookies and form actions.
    base_path: String,
    clients: clients::Clients,
    personas: Vec<Persona>,
    codes: codes::Codes,
    refresh: refresh::Refresh,
    pending: pending::Pendings,
    browsers: pending::Browsers,
    /// The last TOTP step each persona used: a code is accepted once.
    totp_used: Mutex<HashMap<String, i64>>,
    app: AppState,
    access_ttl_secs: u64,
    refresh_ttl_ms: i64,
    mfa: MfaShape,
}

impl Idp {
    pub fn new(config: &Config, issuer: Arc<DevIssuer>, admin_group: &str, app: AppState) -> Self {
        let base = issuer.issuer_url().trim_end_matches('/').to_owned();
        // Where the routes are mounted, whatever URL the issuer is known by outside.
        let base_path = crate::verifier::DEV_ISSUER_PATH.to_owned();
        let mut acr_values: Vec<String> = config.mfa.acr_values.clone();
        acr_values.extend(config.mfa.values.iter().cloned());
        acr_values.extend(
            [
                "mfa",
                "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
            ]
            .map(str::to_owned),
        );
        let mut seen = Vec::new();
        acr_values.retain(|v| {
            let first = !seen.contains(v);
            seen.push(v.clone());
            first
        });
        let extra_claim = (config.mfa.claim != "amr")
            .then(|| {
                config
                    .mfa
                    .values
                    .first()
                    .map(|v| (config.mfa.claim.clone(), v.clone()))
            })
            .flatten();
        Self {
            clients: clients::Clients::new(&config.dev, &base),
            personas: config.dev.effective_personas(admin_group),
            codes: codes::Codes::new(config.dev.code_ttl_secs),
            refresh: refresh::Refresh::default(),
            pending: pending::Pendings::default(),
            browsers: pending::Browsers::default(),
            totp_used: Mutex::new(HashMap::new()),
            access_ttl_secs: config.dev.access_token_ttl_secs,
            refresh_ttl_ms: i64::try_from(config.dev.refresh_token_ttl_secs)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000),
            mfa: MfaShape {
                extra_claim,
                acr_values,
            },
            issuer,
            base,
            base_path,
            app,
        }
    }

    /// The app client ids whose tokens the verifier must accept.
    pub fn client_ids(&self) -> Vec<String> {
        self.clients.ids().map(str::to_owned).collect()
    }

    fn persona(&self, sub: &str) -> Option<&Persona> {
        self.personas.iter().find(|p| p.sub == sub)
    }

    fn now_ms(&self) -> i64 {
        self.app.clock.now().timestamp_millis()
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The path of an endpoint on this origin, for form actions and cookies.
    fn endpoint_path(&self, path: &str) -> String {
        format!("{}{path}", self.base_path)
    }

    /// Where the browser-session cookie is sent: every endpoint of the provider.
    fn cookie_path(&self) -> String {
        self.base_path.clone()
    }
}

/// The group that makes the default `dev-admin` persona a platform admin: the dev issuer
/// entry's first admin role, else `auth.admin_group`.
pub fn admin_group(config: &Config, settings: &crate::config::AuthSettings) -> String {
    match settings.dev() {
        Some(crate::config::IssuerSettings::Dev { admin_roles, .. }) => {
            admin_roles.first().cloned()
        }
        _ => None,
    }
    .unwrap_or_else(|| config.auth.admin_group.clone())
}

/// The provider's routes, relative to the issuer URL (nest them under its path). The discovery
/// document here replaces the issuer's minimal one.
pub fn routes(idp: Arc<Idp>) -> Router {
    let fetched = Router::new()
        .route(TOKEN_PATH, post(token::exchange).options(cors::preflight))
        .route(REVOKE_PATH, post(revoke::revoke).options(cors::preflight))
        .route(
            USERINFO_PATH,
            get(userinfo::userinfo)
                .post(userinfo::userinfo)
                .options(cors::preflight),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&idp),
            cors::layer,
        ));
    Router::new()
        .route(
            portcullis_dev_issuer::DISCOVERY_PATH,
            get(discovery::document),
        )
        .route(AUTHORIZE_PATH, get(authorize::show).post(authorize::choose))
        .route(LOGOUT_PATH, get(logout::logout))
        .merge(fetched)
        .with_state(idp)
}
