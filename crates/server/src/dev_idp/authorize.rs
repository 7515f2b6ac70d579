//! `GET /oauth2/authorize` renders the sign-in page for a validated request; `POST` takes the
//! choice made on it (a persona, another sub, a TOTP code, or cancel) and redirects back to the
//! client with a code.
//!
//! Until `client_id` and `redirect_uri` are known good, errors are pages and never redirects
//! (no open redirect); after that they go back to the client (RFC 6749 §4.1.2.1).

use super::codes::Grant;
use super::cookies;
use super::form::Params;
use super::page::{self, SignInPage, TotpPage};
use super::pending::{AuthRequest, MAX_FAILURES, Pending};
use super::signin::SignIn;
use super::{Idp, pkce, totp};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Scopes a client may ask for (Cognito's standard ones, and `offline_access`).
const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "aws.cognito.signin.user.admin",
    "offline_access",
];
const DEFAULT_SCOPES: &[&str] = &["openid", "profile", "email"];

/// Where to send an error once the redirect URI is trusted.
struct Back<'a> {
    idp: &'a Idp,
    redirect_uri: &'a str,
    state: Option<&'a str>,
}

impl Back<'_> {
    fn error(&self, code: &str, description: &str, status: StatusCode) -> Response {
        let mut pairs = vec![("error", code), ("error_description", description)];
        if let Some(state) = self.state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", &self.idp.base));
        redirect(self.redirect_uri, &pairs, status)
    }
}

/// `uri` with `pairs` added to its query, as a redirect with `status` (302 or 303).
fn redirect(uri: &str, pairs: &[(&str, &str)], status: StatusCode) -> Response {
    let Ok(mut url) = url::Url::parse(uri) else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "The redirect URI is not a valid URI.",
        );
    };
    url.query_pairs_mut().extend_pairs(pairs.iter().copied());
    let mut res = status.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

fn origin_of(uri: &str) -> String {
    url::Url::parse(uri)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

fn bad_request_page(message: &str) -> Response {
    page::error(StatusCode::BAD_REQUEST, "Invalid sign-in request", message)
}

pub async fn show(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match Params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(name) => {
            return bad_request_page(&format!("The parameter {name} is given more than once."));
        }
    };
    let Some(client) = params.get("client_id").and_then(|id| idp.clients.get(id)) else {
        return bad_request_page("The client_id is missing or names no registered client.");
    };
    let Some(redirect_uri) = params
        .get("redirect_uri")
        .filter(|uri| idp.clients.redirect_allowed(client, uri))
    else {
        return bad_request_page(
            "The redirect_uri is missing or not registered for this client; the browser is not sent back to it.",
        );
    };
    let back = Back {
        idp: &idp,
        redirect_uri,
        state: params.get("state"),
    };
    let found = StatusCode::FOUND;
    match params.get("response_type") {
        Some("code") => {}
        None => return back.error("invalid_request", "response_type is required", found),
        Some(_) => {
            return back.error(
                "unsupported_response_type",
                "only the authorization code flow (response_type=code) is supported",
                found,
            );
        }
    }
    if params.get("response_mode").is_some_and(|m| m != "query") {
        return back.error("invalid_request", "response_mode must be query", found);
    }
    let Some(challenge) = params.get("code_challenge") else {
        return back.error(
            "invalid_request",
            "code_challenge is required: PKCE with S256",
            found,
        );
    };
    if params.get("code_challenge_method") != Some("S256") {
        return back.error(
            "invalid_request",
            "code_challenge_method must be S256 (plain is not supported)",
            found,
        );
    }
    if !pkce::valid_challenge(challenge) {
        return back.error(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the code verifier",
            found,
        );
    }
    let scopes: Vec<String> = match params.get("scope") {
        None => DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        Some(s) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    if let Some(unknown) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return back.error(
            "invalid_scope",
            &format!(
                "unknown scope {}",
                unknown.chars().take(64).collect::<String>()
            ),
            found,
        );
    }
    if let Some(max_age) = params.get("max_age")
        && max_age.parse::<u64>().is_err()
    {
        return back.error(
            "invalid_request",
            "max_age must be a number of seconds",
            found,
        );
    }
    // There is no remembered sign-in: every request shows the page, so `max_age` and
    // `prompt=login` are always satisfied, and `prompt=none` never can be.
    if params
        .get("prompt")
        .is_some_and(|p| p.split(' ').any(|v| v == "none"))
    {
        return back.error(
            "login_required",
            "the dev issuer always asks which persona signs in",
            found,
        );
    }
    let mfa = params.get("acr_values").and_then(|values| {
        values
            .split(' ')
            .find(|v| idp.mfa.acr_values.iter().any(|a| a == v))
            .map(str::to_owned)
    });
    let request = AuthRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        state: params.get("state").map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        challenge: challenge.to_owned(),
        scopes,
        mfa,
    };
    let binding = match cookies::read(&headers, cookies::BINDING) {
        Some(b) => b,
        None => match super::random::token() {
            Some(b) => b,
            None => return unavailable(),
        },
    };
    let Some(id) = idp.pending.add(request.clone(), &binding, idp.now_ms()) else {
        return unavailable();
    };
    let mut res = sign_in_page(&idp, &id, &request, None, StatusCode::OK);
    set_cookie(
        &mut res,
        &cookies::set(
            cookies::BINDING,
            &binding,
            &idp.endpoint_path(super::AUTHORIZE_PATH),
            "Strict",
        ),
    );
    res
}

fn unavailable() -> Response {
    page::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Sign-in unavailable",
        "No random value could be drawn; try again.",
    )
}

fn set_cookie(res: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn sign_in_page(
    idp: &Idp,
    id: &str,
    request: &AuthRequest,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    page::sign_in(
        &SignInPage {
            action: &idp.endpoint_path(super::AUTHORIZE_PATH),
            request_id: id,
            client_id: &request.client_id,
            personas: &idp.personas,
            mfa_requested: request.mfa.is_some(),
            error,
            redirect_origin: &origin_of(&request.redirect_uri),
        },
        status,
    )
}

fn totp_page(
    idp: &Idp,
    id: &str,
    pending: &Pending,
    username: &str,
    error: Option<&str>,
) -> Response {
    page::totp(
        &TotpPage {
            action: &idp.endpoint_path(super::AUTHORIZE_PATH),
            request_id: id,
            username,
            error,
            redirect_origin: &origin_of(&pending.request.redirect_uri),
        },
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
    )
}

pub async fn choose(State(idp): State<Arc<Idp>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return bad_request_page("A form field is given more than once.");
    };
    let now_ms = idp.now_ms();
    let binding = cookies::read(&headers, cookies::BINDING).unwrap_or_default();
    let Some(id) = params.get("request") else {
        return bad_request_page("The form does not name a sign-in request.");
    };
    let Some(pending) = idp.pending.get(id, &binding, now_ms) else {
        return bad_request_page(
            "This sign-in request is unknown, has expired, or was started in another browser. Start again from the application.",
        );
    };
    let request = &pending.request;
    let back = Back {
        idp: &idp,
        redirect_uri: &request.redirect_uri,
        state: request.state.as_deref(),
    };
    let see_other = StatusCode::SEE_OTHER;
    if params.get("action") == Some("cancel") {
        idp.pending.take(id);
        return back.error("access_denied", "the user cancelled the sign-in", see_other);
    }
    if let Some(sub) = pending.totp_for.clone() {
        return check_totp(&idp, id, &pending, &sub, params.get("totp"), &headers);
    }
    let (sub, persona) = match (
        params.get("persona"),
        params.get("action"),
        params.get("sub"),
    ) {
        (Some(sub), _, _) => match idp.persona(sub) {
            Some(p) => (sub.to_owned(), Some(p)),
            None => {
                return sign_in_page(
                    &idp,
                    id,
                    request,
                    Some("There is no such persona."),
                    StatusCode::BAD_REQUEST,
                );
            }
        },
        (None, Some("other"), Some(sub)) => {
            let sub = sub.trim();
            if sub.is_empty() || sub.len() > 255 || sub.chars().any(char::is_control) {
                return sign_in_page(
                    &idp,
                    id,
                    request,
                    Some("A sub is 1 to 255 characters without control characters."),
                    StatusCode::BAD_REQUEST,
                );
            }
            (sub.to_owned(), idp.persona(sub))
        }
        _ => {
            return sign_in_page(
                &idp,
                id,
                request,
                Some("Choose a persona or enter a sub."),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    if request.mfa.is_some() {
        if persona.is_some_and(|p| p.has_totp()) {
            idp.pending.await_totp(id, &sub);
            let username = persona.map_or(sub.as_str(), |p| p.username());
            return totp_page(&idp, id, &pending, username, None);
        }
        return sign_in_page(
            &idp,
            id,
            request,
            Some(
                "This application asks for MFA, and that user has no authenticator: choose a persona marked TOTP.",
            ),
            StatusCode::BAD_REQUEST,
        );
    }
    complete(&idp, id, &sub, false, &headers)
}

fn check_totp(
    idp: &Idp,
    id: &str,
    pending: &Pending,
    sub: &str,
    code: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let Some(persona) = idp.persona(sub) else {
        return bad_request_page("The persona is no longer configured.");
    };
    let secret = persona
        .totp_secret
        .as_ref()
        .and_then(|s| totp::decode_secret(s.expose()));
    let now = idp.now_ms().div_euclid(1000);
    let accepted = {
        let mut used = idp
            .totp_used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let step = match (secret, code) {
            (Some(secret), Some(code)) => totp::verify(&secret, code, now, used.get(sub).copied()),
            _ => None,
        };
        if let Some(step) = step {
            used.insert(sub.to_owned(), step);
        }
        step.is_some()
    };
    if accepted {
        return complete(idp, id, sub, true, headers);
    }
    if idp.pending.fail(id) >= MAX_FAILURES {
        return page::error(
            StatusCode::BAD_REQUEST,
            "Too many wrong codes",
            "This sign-in request is over. Start again from the application.",
        );
    }
    totp_page(
        idp,
        id,
        pending,
        persona.username(),
        Some("That code is not valid. Codes change every 30 seconds and each can be used once."),
    )
}

/// The sign-in succeeded: a code, and back to the client.
fn complete(idp: &Idp, id: &str, sub: &str, mfa: bool, headers: &HeaderMap) -> Response {
    let Some(pending) = idp.pending.take(id) else {
        return bad_request_page("This sign-in request was already completed.");
    };
    let request = pending.request;
    let persona = idp.persona(sub);
    let (browser, new_cookie) = match cookies::read(headers, cookies::SESSION) {
        Some(b) => (b, false),
        None => match super::random::token() {
            Some(b) => (b, true),
            None => return unavailable(),
        },
    };
    idp.browsers.open(&browser);
    let sign_in = SignIn {
        sub: sub.to_owned(),
        username: persona.map_or(sub, |p| p.username()).to_owned(),
        email: persona.map_or_else(|| format!("{sub}@example.com"), |p| p.email()),
        groups: persona.map(|p| p.groups.clone()).unwrap_or_default(),
        auth_time: idp.now_ms().div_euclid(1000),
        mfa,
        acr: if mfa { request.mfa.clone() } else { None },
        browser: Some(browser.clone()),
    };
    let grant = Grant {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        challenge: request.challenge.clone(),
        nonce: request.nonce.clone(),
        scopes: request.scopes.clone(),
        sign_in,
    };
    let Some(code) = idp.codes.issue(grant, idp.now_ms()) else {
        return unavailable();
    };
    tracing::info!(client_id = %request.client_id, sub, mfa, "dev issuer sign-in");
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = request.state.as_deref() {
        pairs.push(("state", state));
    }
    pairs.push(("iss", &idp.base));
    let mut res = redirect(&request.redirect_uri, &pairs, StatusCode::SEE_OTHER);
    if new_cookie {
        set_cookie(
            &mut res,
            &cookies::set(cookies::SESSION, &browser, &idp.cookie_path(), "Lax"),
        );
    }
    res
}
