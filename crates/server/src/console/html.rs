//! The console's HTML: one escaping wrapper for every value that reaches a page, and the page
//! frame (head, navigation, sign-out form). Pages are built with `write!` into a `String`;
//! anything not a literal of this crate goes through [`E`].

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;

pub use crate::http::html::E;

/// Percent-encodes a query parameter value (then [`E`] for the attribute it goes in).
pub fn q(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// One navigation entry: label and path.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: String,
    pub href: String,
}

/// What every page shows around its content.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub nav: Vec<NavItem>,
    /// Who is signed in (username, e-mail or sub).
    pub who: Option<String>,
    /// The session's CSRF token, for the sign-out form.
    pub csrf: Option<String>,
    /// The path of the page, to mark its navigation entry.
    pub current: String,
}

/// A complete page: `status`, `<title>`, and `body` (already escaped markup).
pub fn page(status: StatusCode, title: &str, frame: &Frame, body: &str) -> Response {
    let mut h = String::with_capacity(body.len() + 2048);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Portcullis console</title>\
         <link rel=\"stylesheet\" href=\"/console/assets/console.css\"></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a>\
         <header><a class=\"brand\" href=\"/console\">Portcullis</a><nav aria-label=\"Console\"><ul>",
        E(title)
    );
    for item in &frame.nav {
        let here = frame.current == item.href
            || (item.href != "/console" && frame.current.starts_with(&item.href));
        let _ = write!(
            h,
            "<li><a href=\"{}\"{}>{}</a></li>",
            E(&item.href),
            if here { " aria-current=\"page\"" } else { "" },
            E(&item.label)
        );
    }
    h.push_str("</ul></nav>");
    if let (Some(who), Some(csrf)) = (&frame.who, &frame.csrf) {
        let _ = write!(
            h,
            "<form class=\"signout\" method=\"post\" action=\"/console/logout\">\
             <span>{}</span><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            E(who),
            E(csrf)
        );
    }
    let _ = write!(
        h,
        "</header><main id=\"main\" tabindex=\"-1\"><h1>{}</h1>{}</main></body></html>",
        E(title),
        body
    );
    let mut res = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        h,
    )
        .into_response();
    if status.is_client_error() || status.is_server_error() {
        res.extensions_mut()
            .insert(crate::http::problem::OwnErrorFormat);
    }
    res
}

/// A `<p>` with a message.
pub fn notice(kind: &str, text: &str) -> String {
    format!(
        "<p class=\"notice {}\" role=\"status\">{}</p>",
        E(kind),
        E(text)
    )
}

/// `2026-11-29 15:04:05Z`
pub fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            E("<a href=\"x\" onclick='y'>&</a>").to_string(),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(E("plain é").to_string(), "plain é");
    }
}
