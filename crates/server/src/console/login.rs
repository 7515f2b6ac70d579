//! Signing in and out: the redirect to the issuer's authorization endpoint (state, nonce and a
//! PKCE S256 challenge; the verifier stays here), the callback that exchanges the code, the
//! refresh of an expired access token, and sign-out, which ends the session here, in the API's
//! revocation list, and at the issuer.

use super::caller::{cookie, off_page};
use super::form::{Form, refused, same_origin};
use super::html::{self, Frame};
use super::session::{Pending, Session, pkce_challenge, random_token};
use super::{Console, ConsoleState, oidc};
use crate::access::{Door, Presented, authenticate};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

/// The route the console's token checks are made as (for `mfa.routes` and metrics labels).
const CONSOLE_ROUTE: &str = "/console";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartQuery {
    return_to: Option<String>,
}

/// Only console paths: never another site, never a scheme-relative `//host`.
fn safe_return(path: Option<&str>) -> String {
    match path {
        Some(p)
            if p.starts_with("/console")
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/console".to_owned(),
    }
}

fn unavailable(why: &str) -> Response {
    html::page(
        StatusCode::BAD_GATEWAY,
        "Sign-in unavailable",
        &Frame::default(),
        &html::notice("error", why),
    )
}

#[allow(clippy::result_large_err)] // the refusal is the page to answer with
fn console_of(cs: &ConsoleState) -> Result<Arc<Console>, Response> {
    cs.console.clone().map_err(|off| off_page(off.0))
}

fn set_cookie(res: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `GET /console/login`: to the issuer.
pub async fn start(State(cs): State<ConsoleState>, Query(q): Query<StartQuery>) -> Response {
    let console = match console_of(&cs) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let endpoints = match console.endpoints().await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "console: the issuer's endpoints could not be read");
            return unavailable("The identity provider cannot be reached. Retry later.");
        }
    };
    let (Some(state), Some(nonce), Some(verifier), Some(browser)) = (
        random_token(),
        random_token(),
        random_token(),
        random_token(),
    ) else {
        return unavailable("Sign-in is unavailable. Retry later.");
    };
    let now = cs.app.clock.unix_seconds();
    let return_to = safe_return(q.return_to.as_deref());
    let pending = Pending {
        code_verifier: verifier.clone(),
        nonce: nonce.clone(),
        browser: super::session::key(&browser),
        return_to,
        started_at: now,
    };
    if console.sessions.start_login(&state, pending, now).is_err() {
        return refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many sign-ins are in progress. Retry in a few minutes.",
        );
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &console.client.id)
        .append_pair("redirect_uri", &console.redirect_uri)
        .append_pair("scope", "openid email profile")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &pkce_challenge(&verifier))
        .append_pair("code_challenge_method", "S256")
        .finish();
    let sep = if endpoints.authorize.contains('?') {
        '&'
    } else {
        '?'
    };
    let mut res = Redirect::to(&format!("{}{sep}{query}", endpoints.authorize)).into_response();
    set_cookie(
        &mut res,
        &console.cookie(
            console.login_cookie_name(),
            &browser,
            super::session::PENDING_TTL_SECS,
        ),
    );
    res
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /console/callback`: the code for tokens, the tokens through the API's checks, a session.
pub async fn callback(
    State(cs): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let console = match console_of(&cs) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if q.error.is_some() {
        return refused(
            StatusCode::UNAUTHORIZED,
            "The identity provider did not sign you in.",
        );
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return refused(StatusCode::BAD_REQUEST, "This sign-in link is malformed.");
    };
    let now = cs.app.clock.unix_seconds();
    let browser = cookie(&headers, console.login_cookie_name()).unwrap_or_default();
    let Some(pending) = console.sessions.finish_login(&state, &browser, now) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired, was already used, or was started in another browser. Sign in again.",
        );
    };
    let endpoints = match console.endpoints().await {
        Ok(e) => e,
        Err(_) => return unavailable("The identity provider cannot be reached. Retry later."),
    };
    let tokens = match console
        .client
        .exchange_code(
            &console.http,
            endpoints,
            &code,
            &console.redirect_uri,
            &pending.code_verifier,
        )
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "console: code exchange failed");
            return unavailable("The identity provider refused the sign-in. Sign in again.");
        }
    };
    if let Some(id_token) = &tokens.id_token
        && oidc::id_token_nonce(id_token)
            .is_none_or(|n| !super::session::same_secret(&n, &pending.nonce))
    {
        tracing::warn!("console: ID token nonce does not match the login");
        return refused(
            StatusCode::BAD_REQUEST,
            "The sign-in answer does not belong to this sign-in.",
        );
    }
    let door = Door::Request {
        method: &Method::GET,
        route: Some(CONSOLE_ROUTE),
    };
    let principal = match authenticate(
        &cs.app,
        Ok(Presented::held(&tokens.access_token, "GET", CONSOLE_ROUTE)),
        door,
        &Extensions::new(),
    )
    .await
    {
        Ok(p) => p,
        Err(_) => {
            return refused(
                StatusCode::UNAUTHORIZED,
                "Portcullis does not accept this account's token (disabled, revoked or not allowed).",
            );
        }
    };
    let Some(csrf) = random_token() else {
        return unavailable("Sign-in is unavailable. Retry later.");
    };
    let session = Session {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        id_token: tokens.id_token,
        expires_at: principal.token.claims.exp,
        csrf,
    };
    let Ok(sid) = console.sessions.create(session, now) else {
        return refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many console sessions are open. Retry later.",
        );
    };
    let mut res = Redirect::to(&pending.return_to).into_response();
    // No Max-Age: the cookie lasts the browser session; the server ends it at the token's expiry.
    let mut c = console.cookie(console.cookie_name(), &sid, 0);
    if let Some(i) = c.find("; Max-Age=0") {
        c.replace_range(i..i + "; Max-Age=0".len(), "");
    }
    set_cookie(&mut res, &c);
    set_cookie(
        &mut res,
        &console.cookie(console.login_cookie_name(), "", 0),
    );
    res
}

/// A session's access token has expired: a new one from the refresh token, if there is one and
/// the issuer still honours it.
pub async fn refresh(app: &AppState, console: &Console, session: &Session) -> Option<Session> {
    let refresh_token = session.refresh_token.as_deref()?;
    let endpoints = console.endpoints().await.ok()?;
    let tokens = match console
        .client
        .refresh(&console.http, endpoints, refresh_token)
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::info!(error = %e, "console: refresh refused; the session ends");
            return None;
        }
    };
    let door = Door::Request {
        method: &Method::GET,
        route: Some(CONSOLE_ROUTE),
    };
    let verified = crate::access::verify(
        app,
        &Presented::held(&tokens.access_token, "GET", CONSOLE_ROUTE),
        door,
    )
    .await
    .ok()?;
    Some(Session {
        access_token: tokens.access_token,
        refresh_token: tokens
            .refresh_token
            .or_else(|| session.refresh_token.clone()),
        id_token: tokens.id_token.or_else(|| session.id_token.clone()),
        expires_at: verified.claims.exp,
        csrf: session.csrf.clone(),
    })
}

/// `POST /console/logout`: the session ends here; its access token's session is revoked in
/// Portcullis (as `POST /v1/auth/logout`), its refresh token at the issuer, and the browser is
/// sent to the issuer's logout so the issuer's own session ends too.
pub async fn logout(State(cs): State<ConsoleState>, headers: HeaderMap, form: Form) -> Response {
    let console = match console_of(&cs) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !same_origin(&console, &headers) {
        return refused(
            StatusCode::FORBIDDEN,
            "This request did not come from the console's own pages.",
        );
    }
    let Some(sid) = cookie(&headers, console.cookie_name()) else {
        return Redirect::to("/console/signed-out").into_response();
    };
    let Some(session) = console.sessions.get(&sid) else {
        return Redirect::to("/console/signed-out").into_response();
    };
    let csrf_ok = form
        .0
        .get("csrf")
        .is_some_and(|t| super::session::same_secret(t, &session.csrf));
    if !csrf_ok {
        return refused(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from the console. Reload the page and try again.",
        );
    }
    console.sessions.end(&sid);
    let door = Door::Request {
        method: &Method::POST,
        route: Some(CONSOLE_ROUTE),
    };
    if let Ok(me) = authenticate(
        &cs.app,
        Ok(Presented::held(
            &session.access_token,
            "POST",
            CONSOLE_ROUTE,
        )),
        door,
        &Extensions::new(),
    )
    .await
    {
        let ctx = crate::http::change::context(&cs.app, &me);
        if let Err(e) = cs.app.revocations.logout(&ctx, &me).await {
            tracing::warn!(error = %e, "console: revoking the session's token failed");
        }
    }
    let endpoints = console.endpoints().await.ok();
    if let (Some(refresh), Some(rev)) = (
        session.refresh_token.as_deref(),
        endpoints.and_then(|e| e.revocation.as_deref()),
    ) && let Err(e) = console.client.revoke(&console.http, rev, refresh).await
    {
        tracing::info!(error = %e, "console: the issuer did not revoke the refresh token");
    }
    let back = format!("{}/console/signed-out", console.origin);
    let target = match endpoints.and_then(|e| e.logout.as_ref()) {
        Some(oidc::Logout::Cognito(url)) => {
            let q = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", &console.client.id)
                .append_pair("logout_uri", &back)
                .finish();
            format!("{url}?{q}")
        }
        Some(oidc::Logout::Oidc(url)) => {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            s.append_pair("client_id", &console.client.id)
                .append_pair("post_logout_redirect_uri", &back);
            if let Some(id) = &session.id_token {
                s.append_pair("id_token_hint", id);
            }
            format!("{url}?{}", s.finish())
        }
        None => "/console/signed-out".to_owned(),
    };
    let mut res = Redirect::to(&target).into_response();
    set_cookie(&mut res, &console.cookie(console.cookie_name(), "", 0));
    res
}

/// `GET /console/signed-out`.
pub async fn signed_out() -> Response {
    html::page(
        StatusCode::OK,
        "Signed out",
        &Frame::default(),
        "<p>You are signed out of the console.</p><p><a href=\"/console/login\">Sign in</a></p>",
    )
}

#[cfg(test)]
mod tests {
    use super::safe_return;

    #[test]
    fn return_paths_stay_in_the_console() {
        assert_eq!(
            safe_return(Some("/console/audit?x=1")),
            "/console/audit?x=1"
        );
        assert_eq!(safe_return(Some("https://evil.example/")), "/console");
        assert_eq!(safe_return(Some("//evil.example/console")), "/console");
        assert_eq!(safe_return(Some("/console\\@evil")), "/console");
        assert_eq!(safe_return(None), "/console");
    }
}
