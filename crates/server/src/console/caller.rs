//! Who is using the console: the session of the cookie, its access token refreshed when it
//! has expired, then put through the API's own extractor (`CallerPrincipal`: verification,
//! revocation, disabled users, provisioning, rate limit) exactly as if the browser had sent it
//! as a bearer token. A token the API refuses ends the session on the spot.

use super::html::{self, Frame};
use super::{Console, ConsoleState};
use crate::http::error::ApiError;
use crate::http::extract::CallerPrincipal;
use crate::principal::Principal;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// A signed-in console user whose token the API accepts right now.
#[derive(Debug, Clone)]
pub struct Signed {
    pub principal: Principal,
    pub csrf: String,
    pub console: Arc<Console>,
}

impl Signed {
    /// The page frame for this user on `current`.
    pub fn frame(&self, current: &str) -> Frame {
        let user = &self.principal.identity.user;
        Frame {
            nav: super::access::nav(&self.principal),
            who: Some(
                user.username
                    .clone()
                    .or_else(|| user.email.clone())
                    .unwrap_or_else(|| user.sub.clone()),
            ),
            csrf: Some(self.csrf.clone()),
            current: current.to_owned(),
        }
    }
}

pub use crate::http::cookie::value as cookie;

/// The console is off: say why (no settings to show, nothing to sign in to).
pub fn off_page(why: &str) -> Response {
    let body = html::notice(
        "error",
        &format!("The console is not configured on this server: {why}. See docs/console.md."),
    );
    html::page(
        StatusCode::NOT_FOUND,
        "Console unavailable",
        &Frame::default(),
        &body,
    )
}

/// Not signed in: a GET goes to the sign-in (and back here after); anything else is refused.
fn to_login(parts: &Parts) -> Response {
    if parts.method == Method::GET {
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/console");
        Redirect::to(&format!("/console/login?return_to={}", html::q(back))).into_response()
    } else {
        super::form::refused(
            StatusCode::UNAUTHORIZED,
            "You are not signed in to the console (or your session has ended).",
        )
    }
}

/// The session is over (expired without refresh, revoked, user disabled): the cookie is
/// cleared and the user is told, with a way to sign in again.
pub fn ended(console: &Console) -> Response {
    let body = html::notice(
        "error",
        "Your console session has ended: it expired, was signed out or revoked, or your account was disabled.",
    ) + "<p><a href=\"/console/login\">Sign in again</a></p>";
    let mut res = html::page(
        StatusCode::UNAUTHORIZED,
        "Session ended",
        &Frame::default(),
        &body,
    );
    if let Ok(v) = HeaderValue::from_str(&console.cookie(console.cookie_name(), "", 0)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// An API refusal, as a console page. 404 stays 404: another org's page looks like no page.
pub fn api_error(frame: &Frame, e: ApiError) -> Response {
    let (status, text) = match &e {
        ApiError::NotFound => (StatusCode::NOT_FOUND, "There is no such page.".to_owned()),
        ApiError::Forbidden | ApiError::InsufficientScope => (
            StatusCode::FORBIDDEN,
            "You are not allowed to do this.".to_owned(),
        ),
        ApiError::ForbiddenBy(why) => (StatusCode::FORBIDDEN, (*why).to_owned()),
        ApiError::Conflict(_) => (
            StatusCode::CONFLICT,
            "This change conflicts with the current state (for example: an org must keep at least one owner).".to_owned(),
        ),
        ApiError::Invalid(errors) | ApiError::Malformed(errors) => {
            let mut t = String::from("The input is invalid:");
            for f in errors {
                t.push(' ');
                t.push_str(&f.detail);
                t.push('.');
            }
            (StatusCode::UNPROCESSABLE_ENTITY, t)
        }
        ApiError::RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests. Slow down and retry later.".to_owned(),
        ),
        ApiError::Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is temporarily unavailable. Retry later.".to_owned(),
        ),
        _ => (e.status(), "The request could not be completed.".to_owned()),
    };
    // Logged with its cause under the request id, as the API logs it.
    e.log();
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        _ => "Could not complete",
    };
    html::page(status, title, frame, &html::notice("error", &text))
}

impl FromRequestParts<ConsoleState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, cs: &ConsoleState) -> Result<Self, Response> {
        let console = match &cs.console {
            Ok(c) => Arc::clone(c),
            Err(off) => return Err(off_page(off.0)),
        };
        let state_changing = !matches!(parts.method, Method::GET | Method::HEAD);
        if state_changing && !super::form::same_origin(&console, &parts.headers) {
            return Err(super::form::refused(
                StatusCode::FORBIDDEN,
                "This request did not come from the console's own pages.",
            ));
        }
        let Some(sid) = cookie(&parts.headers, console.cookie_name()) else {
            return Err(to_login(parts));
        };
        let Some(mut session) = console.sessions.get(&sid) else {
            return Err(to_login(parts));
        };
        let now = cs.app.clock.unix_seconds();
        if session.expires_at <= now {
            match super::login::refresh(&cs.app, &console, &session).await {
                Some(fresh) => {
                    console.sessions.replace(&sid, fresh.clone());
                    session = fresh;
                }
                None => {
                    console.sessions.end(&sid);
                    return Err(ended(&console));
                }
            }
        }
        // The browser's own Authorization header, if any, is replaced: the session decides.
        let bearer = HeaderValue::from_str(&format!("Bearer {}", session.access_token))
            .map_err(|_| ended(&console))?;
        parts.headers.insert(header::AUTHORIZATION, bearer);
        match CallerPrincipal::from_request_parts(parts, &cs.app).await {
            Ok(CallerPrincipal(principal)) => Ok(Signed {
                principal,
                csrf: session.csrf,
                console,
            }),
            Err(ApiError::Unauthorized(_) | ApiError::StepUp(_)) => {
                console.sessions.end(&sid);
                Err(ended(&console))
            }
            Err(e) => Err(api_error(&Frame::default(), e)),
        }
    }
}
