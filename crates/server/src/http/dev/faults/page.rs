//! The faults page: plain HTML forms, no script, every value escaped.

use super::apply::Status;
use super::request::{MAX_COUNT, MAX_SECONDS};
use super::{PATH, STYLE_PATH};
use std::fmt::Write as _;

pub use crate::http::html::escape;

fn form(csrf: &str, fault: &str, fields: &str, button: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{PATH}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"fault\" value=\"{fault}\">{fields}\
         <button type=\"submit\">{button}</button></form>",
        csrf = escape(csrf),
    )
}

fn utc(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

pub fn render(status: &Status, csrf: &str, personas: &[String]) -> String {
    let mut kids = String::new();
    for kid in &status.published_kids {
        let role = if *kid == status.signing_kid {
            " (signing)"
        } else {
            ""
        };
        let _ = write!(kids, "<li><code>{}</code>{role}</li>", escape(kid));
    }
    let jwks = match (status.jwks.mode, status.jwks.seconds_left) {
        ("answer", _) => "answering".to_owned(),
        (mode, Some(left)) => format!("{} for {left} more s", describe_mode(mode)),
        (mode, None) => format!("{} until cleared", describe_mode(mode)),
    };
    let tokens = status.tokens.as_ref().map_or_else(
        || "issued normally".to_owned(),
        |t| format!("the next {} token(s) are {}", t.remaining, t.kind),
    );
    let mut log = String::new();
    for event in &status.events {
        let _ = write!(
            log,
            "<tr><td>{}</td><td>{}</td></tr>",
            utc(event.at),
            escape(&event.what)
        );
    }
    if log.is_empty() {
        log.push_str("<tr><td colspan=\"2\">No fault applied yet.</td></tr>");
    }
    let rotate = form(csrf, "rotate-key", "", "Rotate the signing key now");
    let publish = form(csrf, "publish-key", "", "Publish a second key");
    let token_fields = format!(
        "<label for=\"token-kind\">Next tokens are</label>\
         <select id=\"token-kind\" name=\"kind\">\
         <option value=\"expired\">expired</option>\
         <option value=\"not-yet-valid\">not yet valid</option>\
         <option value=\"wrong-audience\">for the wrong audience</option></select>\
         <label for=\"token-count\">how many</label>\
         <input id=\"token-count\" name=\"count\" type=\"number\" min=\"1\" max=\"{MAX_COUNT}\" value=\"1\" required>"
    );
    let tokens_form = form(csrf, "tokens", &token_fields, "Break the next tokens");
    let jwks_fields = format!(
        "<label for=\"jwks-kind\">The JWKS</label>\
         <select id=\"jwks-kind\" name=\"kind\">\
         <option value=\"unavailable\">answers 503</option>\
         <option value=\"hang\">hangs</option></select>\
         <label for=\"jwks-seconds\">for seconds</label>\
         <input id=\"jwks-seconds\" name=\"seconds\" type=\"number\" min=\"1\" max=\"{MAX_SECONDS}\" value=\"30\" required>"
    );
    let jwks_form = form(csrf, "jwks", &jwks_fields, "Take the JWKS down");
    let jwks_ok = form(
        csrf,
        "jwks",
        "<input type=\"hidden\" name=\"kind\" value=\"ok\">",
        "JWKS answers again",
    );
    let mut options = String::new();
    for sub in personas {
        let _ = write!(options, "<option value=\"{}\"></option>", escape(sub));
    }
    let first = personas.first().map(|s| escape(s)).unwrap_or_default();
    let revoke_fields = format!(
        "<label for=\"persona-sub\">Persona sub</label>\
         <input id=\"persona-sub\" name=\"sub\" list=\"personas\" required maxlength=\"256\" value=\"{first}\">\
         <datalist id=\"personas\">{options}</datalist>"
    );
    let revoke = form(
        csrf,
        "revoke-persona",
        &revoke_fields,
        "Revoke their sessions",
    );
    let clear = form(csrf, "clear", "", "Clear JWKS and token faults");
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Dev issuer faults · Portcullis</title>\
         <link rel=\"stylesheet\" href=\"{STYLE_PATH}\"></head><body><main>\
         <h1>Dev issuer faults</h1>\
         <p>Break the local issuer on purpose to see what your client and the API do. \
         Also from a shell: <code>portcullis dev-fault --help</code>.</p>\
         <section class=\"wide\" aria-labelledby=\"now\"><h2 id=\"now\">Now</h2><dl>\
         <dt>Keys in the JWKS</dt><dd><ul>{kids}</ul></dd>\
         <dt>JWKS</dt><dd>{jwks}</dd><dt>Tokens</dt><dd>{tokens}</dd></dl></section>\
         <section aria-labelledby=\"keys\"><h2 id=\"keys\">Signing keys</h2>{publish}{rotate}</section>\
         <section aria-labelledby=\"tokens\"><h2 id=\"tokens\">Tokens</h2>{tokens_form}</section>\
         <section aria-labelledby=\"jwks\"><h2 id=\"jwks\">JWKS outage</h2>{jwks_form}{jwks_ok}</section>\
         <section aria-labelledby=\"sessions\"><h2 id=\"sessions\">Sessions</h2>{revoke}</section>\
         <section class=\"wide\" aria-labelledby=\"log\"><h2 id=\"log\">Applied</h2>{clear}\
         <table><thead><tr><th scope=\"col\">When</th><th scope=\"col\">What</th></tr></thead>\
         <tbody>{log}</tbody></table></section>\
         </main></body></html>\n"
    )
}

fn describe_mode(mode: &str) -> &'static str {
    match mode {
        "unavailable" => "answering 503",
        "hang" => "hanging",
        _ => "answering",
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
