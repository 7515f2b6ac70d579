//! The operator console at `/console`: server-rendered pages for platform admins and for the
//! admins and owners of each org (docs/console.md).
//!
//! It is a backend-for-frontend: it signs in with the authorization code flow and PKCE
//! ([`login`], [`oidc`]), keeps the tokens on the server ([`session`]) and gives the browser an
//! opaque cookie. Each request puts the session's access token through the API's own
//! extractors and guards ([`caller`]), and each action calls the API's own handler functions,
//! so the console has no access path the API does not have.

pub mod access;
pub mod caller;
pub mod form;
pub mod html;
pub mod login;
pub mod oidc;
pub mod pages;
pub mod session;

use crate::config::{AuthSettings, Config, IssuerSettings};
use crate::state::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;

/// The session cookie where `__Host-` can be used (https), and on loopback plain http.
pub const COOKIE_SECURE: &str = "__Host-portcullis_console";
pub const COOKIE_PLAIN: &str = "portcullis_console";
/// The cookie binding a login in flight to the browser that started it.
pub const LOGIN_COOKIE_SECURE: &str = "__Host-portcullis_console_login";
pub const LOGIN_COOKIE_PLAIN: &str = "portcullis_console_login";

/// The console's settings and sessions.
#[derive(Debug)]
pub struct Console {
    pub client: oidc::Client,
    pub redirect_uri: String,
    /// `scheme://host[:port]` of `redirect_uri`: the only `Origin` a form may come from.
    pub origin: String,
    /// https: `Secure` cookies with the `__Host-` prefix.
    pub secure: bool,
    pub source: oidc::Source,
    endpoints: tokio::sync::OnceCell<oidc::Endpoints>,
    pub http: reqwest::Client,
    pub sessions: session::Sessions,
    csp: HeaderValue,
}

impl Console {
    pub fn cookie_name(&self) -> &'static str {
        if self.secure {
            COOKIE_SECURE
        } else {
            COOKIE_PLAIN
        }
    }

    pub fn login_cookie_name(&self) -> &'static str {
        if self.secure {
            LOGIN_COOKIE_SECURE
        } else {
            LOGIN_COOKIE_PLAIN
        }
    }

    /// The issuer's endpoints, looked up once (discovery is fetched on the first sign-in, so
    /// the server starts while the issuer is down).
    pub async fn endpoints(&self) -> Result<&oidc::Endpoints, oidc::IssuerError> {
        self.endpoints
            .get_or_try_init(|| self.source.resolve(&self.http))
            .await
    }

    /// `Set-Cookie` for a value; `max_age` 0 deletes it.
    pub fn cookie(&self, name: &str, value: &str, max_age: i64) -> String {
        format!(
            "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
            if self.secure { "; Secure" } else { "" }
        )
    }
}

/// Why the console is off, shown on its pages.
#[derive(Debug, Clone)]
pub struct Off(pub &'static str);

/// Builds the console from `[console]` and the issuers, or says why it is off.
pub fn build(
    config: &Config,
    auth: &AuthSettings,
    addr: SocketAddr,
    first_issuer: Option<String>,
    dev_idp: bool,
) -> anyhow::Result<Result<Console, Off>> {
    let c = &config.console;
    // The dev issuer signs browsers in only under `portcullis dev`; elsewhere it just publishes
    // keys, and the console needs settings of its own like with any other issuer.
    let dev = auth.dev().filter(|_| dev_idp).and_then(|d| match d {
        IssuerSettings::Dev { issuer, .. } => Some(
            issuer
                .clone()
                .unwrap_or_else(|| crate::verifier::dev_issuer_url(addr)),
        ),
        IssuerSettings::Profile(_) => None,
    });
    let source = match (&c.cognito_domain, &dev) {
        (Some(domain), _) => oidc::Source::CognitoShaped {
            base: format!("https://{domain}"),
        },
        (None, Some(dev)) => oidc::Source::CognitoShaped { base: dev.clone() },
        (None, None) => match first_issuer {
            Some(issuer) => oidc::Source::Discovery { issuer },
            None => return Ok(Err(Off("no issuer is configured"))),
        },
    };
    let client_id = match (&c.client_id, &dev) {
        (Some(id), _) => id.clone(),
        (None, Some(_)) => "portcullis-dev".to_owned(),
        (None, None) => return Ok(Err(Off("console.client_id is not set"))),
    };
    let redirect_uri = c
        .redirect_uri
        .clone()
        .unwrap_or_else(|| format!("http://{addr}/console/callback"));
    let parsed = url::Url::parse(&redirect_uri)?;
    let secure = parsed.scheme() == "https";
    if !secure && !oidc::acceptable_url(&redirect_uri) {
        anyhow::bail!(
            "console.redirect_uri: plain http is only allowed on a loopback address; use https"
        );
    }
    let origin = parsed.origin().ascii_serialization();
    let issuer_origin = match &source {
        oidc::Source::CognitoShaped { base } => base.clone(),
        oidc::Source::Discovery { issuer } => issuer.clone(),
    };
    let issuer_origin = url::Url::parse(&issuer_origin)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    // form-action names the issuer: signing out posts to the console, which answers with a
    // redirect to the issuer's logout endpoint, and browsers check form-action on redirects.
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' {issuer_origin}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    Ok(Ok(Console {
        client: oidc::Client {
            id: client_id,
            secret: c.client_secret.clone(),
        },
        redirect_uri,
        origin,
        secure,
        source,
        endpoints: tokio::sync::OnceCell::new(),
        http: oidc::client(),
        sessions: session::Sessions::default(),
        csp: HeaderValue::from_str(&csp)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
    }))
}

/// What console handlers share: the API's state (its checks and store) and the console.
#[derive(Debug, Clone)]
pub struct ConsoleState {
    pub app: AppState,
    pub console: Result<Arc<Console>, Off>,
}

const STRICT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers on every console response, errors included: the CSP (no inline script or style
/// anywhere), no framing, no sniffing, no referrer to other sites (the callback URL holds a
/// code), no caching. Not `no-referrer`: under it browsers send `Origin: null` on form posts,
/// and the `Origin` check is what refuses cross-site posts.
async fn security_headers(
    axum::extract::State(cs): axum::extract::State<ConsoleState>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let csp = match &cs.console {
        Ok(c) => c.csp.clone(),
        Err(_) => HeaderValue::from_static(STRICT_CSP),
    };
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Every console route, under `/console`.
pub fn router(state: ConsoleState) -> Router {
    Router::new()
        .route("/console", get(pages::home::home))
        .route("/console/", get(pages::home::home))
        .route("/console/assets/console.css", get(pages::assets::css))
        .route("/console/login", get(login::start))
        .route("/console/callback", get(login::callback))
        .route("/console/logout", post(login::logout))
        .route("/console/signed-out", get(login::signed_out))
        .route("/console/audit", get(pages::audit::global_page))
        .route("/console/audit/export", get(pages::audit::export_global))
        .route("/console/audit/chain", get(pages::audit::chain))
        .route("/console/orgs", get(pages::orgs::list))
        .route("/console/orgs/{org_id}/audit", get(pages::audit::org_page))
        .route(
            "/console/orgs/{org_id}/audit/export",
            get(pages::audit::export_org),
        )
        .route(
            "/console/orgs/{org_id}/members",
            get(pages::orgs::members).post(pages::orgs::add_member),
        )
        .route(
            "/console/orgs/{org_id}/members/{user_id}/role",
            post(pages::orgs::change_role),
        )
        .route(
            "/console/orgs/{org_id}/members/{user_id}/remove",
            post(pages::orgs::remove_member),
        )
        .route("/console/orgs/{org_id}/flags", get(pages::flags::for_org))
        .route("/console/users", get(pages::users::search))
        .route("/console/users/{user_id}", get(pages::users::detail))
        .route(
            "/console/users/{user_id}/revoke-sessions",
            post(pages::users::revoke_sessions),
        )
        .route(
            "/console/users/{user_id}/disable",
            post(pages::users::disable),
        )
        .route(
            "/console/users/{user_id}/enable",
            post(pages::users::enable),
        )
        .route("/console/flags", get(pages::flags::list))
        .route("/console/flags/{name}", post(pages::flags::set))
        .route("/console/health", get(pages::health::page))
        .route("/console/{*rest}", get(pages::home::not_found))
        .layer(from_fn_with_state(state.clone(), security_headers))
        .with_state(state)
}
