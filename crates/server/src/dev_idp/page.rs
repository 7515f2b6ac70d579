//! The sign-in pages: plain server-rendered HTML, no script, no external resource, one inline
//! style allowed by its hash. `form-action` names the client's origin too, because browsers
//! apply it to the redirect that follows the form post.

use crate::config::Persona;
use crate::http::problem::OwnErrorFormat;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::sync::LazyLock;

const CSS: &str = "\
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b6470;--bg:#f4f5f7;--card:#fff;--line:#d9dde3;--accent:#2f5bd3;--bad:#b42318}\
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--muted:#9aa3ad;--bg:#15171a;--card:#1f2226;--line:#343941;--accent:#7aa2ff;--bad:#ff8a80}}\
*{box-sizing:border-box}\
body{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}\
main{max-width:34rem;margin:3rem auto;padding:0 1rem}\
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.5rem}\
h1{font-size:1.35rem;margin:0 0 .25rem}\
p{margin:.25rem 0 1rem;color:var(--muted)}\
.tag{display:inline-block;font-size:.75rem;border:1px solid var(--line);border-radius:999px;padding:0 .5rem;margin:.15rem .25rem 0 0;color:var(--muted)}\
ul{list-style:none;margin:0 0 1rem;padding:0}\
li{margin:0 0 .5rem}\
button{font:inherit;cursor:pointer;border-radius:8px}\
.persona{width:100%;text-align:left;background:var(--card);color:var(--fg);border:1px solid var(--line);padding:.7rem .9rem}\
.persona:hover,.persona:focus-visible{border-color:var(--accent)}\
.persona strong{display:block}\
.persona small{color:var(--muted)}\
button:focus-visible,input:focus-visible{outline:3px solid var(--accent);outline-offset:2px}\
label{display:block;font-weight:600;margin:1rem 0 .25rem}\
input{font:inherit;width:100%;padding:.55rem .7rem;border:1px solid var(--line);border-radius:8px;background:var(--bg);color:var(--fg)}\
.row{display:flex;gap:.5rem;margin-top:.5rem}\
.row input{flex:1}\
.primary{background:var(--accent);color:#fff;border:0;padding:.55rem 1rem}\
.link{background:none;border:0;color:var(--muted);text-decoration:underline;padding:.5rem 0}\
.error{color:var(--bad);font-weight:600}\
footer{margin-top:1rem;font-size:.8rem;color:var(--muted)}\
code{font-size:.9em}";

static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()))
    )
});

pub use crate::http::html::escape;

/// What the sign-in page shows.
pub struct SignInPage<'a> {
    pub action: &'a str,
    pub request_id: &'a str,
    pub client_id: &'a str,
    pub personas: &'a [Persona],
    pub mfa_requested: bool,
    pub error: Option<&'a str>,
    /// The origin the browser will be redirected to.
    pub redirect_origin: &'a str,
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{CSS}</style></head><body><main><div class=\"card\">{body}</div>\
         <footer>Portcullis dev issuer: a local identity provider for development. Never use it in production.</footer>\
         </main></body></html>",
        title = escape(title),
    )
}

fn respond(status: StatusCode, html: String, form_target: Option<&str>) -> Response {
    let mut form_action = String::from("'self'");
    if let Some(origin) = form_target.filter(|o| o.starts_with("http")) {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    let csp = format!(
        "default-src 'none'; style-src {}; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        *STYLE_HASH
    );
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res.extensions_mut().insert(OwnErrorFormat);
    res
}

fn hidden(request_id: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"request\" value=\"{}\">",
        escape(request_id)
    )
}

fn cancel_form(action: &str, request_id: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\">{}<button class=\"link\" name=\"action\" value=\"cancel\">Cancel and return to the application</button></form>",
        escape(action),
        hidden(request_id)
    )
}

pub fn sign_in(page: &SignInPage<'_>, status: StatusCode) -> Response {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Sign in</h1><p>to <code>{}</code> as one of the personas of this development server.</p>",
        escape(page.client_id)
    );
    if page.mfa_requested {
        body.push_str("<p>This application asks for multi-factor authentication: personas with an authenticator will be asked for their code.</p>");
    }
    if let Some(error) = page.error {
        let _ = write!(
            body,
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{}\">{}<ul>",
        escape(page.action),
        hidden(page.request_id)
    );
    for p in page.personas {
        let mut tags = String::new();
        for m in &p.memberships {
            let _ = write!(
                tags,
                "<span class=\"tag\">{} in {}</span>",
                escape(&m.role),
                escape(&m.org)
            );
        }
        for g in &p.groups {
            let _ = write!(tags, "<span class=\"tag\">group {}</span>", escape(g));
        }
        if p.has_totp() {
            tags.push_str("<span class=\"tag\">TOTP</span>");
        }
        let _ = write!(
            body,
            "<li><button class=\"persona\" type=\"submit\" name=\"persona\" value=\"{sub}\">\
             <strong>{name}</strong><small>{email} &middot; sub <code>{sub}</code></small><br>{tags}</button></li>",
            sub = escape(&p.sub),
            name = escape(p.username()),
            email = escape(&p.email()),
        );
    }
    body.push_str("</ul></form>");
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{}\">{}<label for=\"sub\">Or any other user (sub)</label>\
         <div class=\"row\"><input id=\"sub\" name=\"sub\" autocomplete=\"username\" maxlength=\"255\" required>\
         <button class=\"primary\" name=\"action\" value=\"other\">Sign in</button></div></form>",
        escape(page.action),
        hidden(page.request_id)
    );
    body.push_str(&cancel_form(page.action, page.request_id));
    respond(
        status,
        document("Sign in", &body),
        Some(page.redirect_origin),
    )
}

pub struct TotpPage<'a> {
    pub action: &'a str,
    pub request_id: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub redirect_origin: &'a str,
}

pub fn totp(page: &TotpPage<'_>, status: StatusCode) -> Response {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Authenticator code</h1><p>Enter the 6-digit code of <strong>{}</strong>'s authenticator app.</p>",
        escape(page.username)
    );
    if let Some(error) = page.error {
        let _ = write!(
            body,
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{}\">{}<label for=\"totp\">Code</label>\
         <div class=\"row\"><input id=\"totp\" name=\"totp\" inputmode=\"numeric\" pattern=\"[0-9]{{6}}\" \
         maxlength=\"6\" autocomplete=\"one-time-code\" autofocus required>\
         <button class=\"primary\" name=\"action\" value=\"totp\">Verify</button></div></form>",
        escape(page.action),
        hidden(page.request_id)
    );
    body.push_str(&cancel_form(page.action, page.request_id));
    respond(
        status,
        document("Authenticator code", &body),
        Some(page.redirect_origin),
    )
}

/// A page for a request that cannot be answered with a redirect (unknown client, redirect URI
/// not registered, expired request): the browser stays here.
pub fn error(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p>",
        escape(title),
        escape(message)
    );
    respond(status, document(title, &body), None)
}

/// After `/logout` without a URI to return to.
pub fn signed_out() -> Response {
    respond(
        StatusCode::OK,
        document(
            "Signed out",
            "<h1>Signed out</h1><p>The session of this browser is over; its tokens are revoked.</p>",
        ),
        None,
    )
}
