//! The console's landing page, the "no access" page, and 404.

use crate::console::ConsoleState;
use crate::console::access::{admin_orgs, has_access};
use crate::console::caller::Signed;
use crate::console::html::{self, E, Frame};
use axum::extract::{FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::Response;
use std::fmt::Write;

/// Signed in, but neither a platform admin nor an admin or owner of any org.
pub fn no_access(signed: &Signed) -> Response {
    html::page(
        StatusCode::FORBIDDEN,
        "No console access",
        &signed.frame("/console"),
        &html::notice(
            "warn",
            "You are signed in, but you have no console access: the console is for platform admins and for the admins and owners of an org.",
        ),
    )
}

pub async fn home(signed: Signed) -> Response {
    let p = &signed.principal;
    if !has_access(p) {
        return no_access(&signed);
    }
    let mut b = String::new();
    if p.platform_admin {
        b.push_str(
            "<p>You are a platform admin.</p><ul>\
             <li><a href=\"/console/audit\">Audit</a>: who did what, with filters, export and the chain's status.</li>\
             <li><a href=\"/console/users\">Users and sessions</a>: find users, disable them, end their sessions.</li>\
             <li><a href=\"/console/orgs\">Orgs and members</a>: members and roles.</li>\
             <li><a href=\"/console/flags\">Flags</a>: runtime settings, global and per org.</li>\
             <li><a href=\"/console/health\">Auth health</a>: sign-ins, refusals, latency, new users, key age.</li></ul>",
        );
    } else {
        b.push_str("<p>Your orgs:</p><ul>");
        for m in admin_orgs(p) {
            let id = m.org_id.to_string();
            let _ = write!(
                b,
                "<li>{} ({}): <a href=\"/console/orgs/{id}/audit\">Audit</a> · \
                 <a href=\"/console/orgs/{id}/members\">Members</a> · \
                 <a href=\"/console/orgs/{id}/flags\">Flags</a></li>",
                E(&m.org_name),
                E(m.role.as_str()),
            );
        }
        b.push_str("</ul>");
    }
    html::page(StatusCode::OK, "Console", &signed.frame("/console"), &b)
}

/// Any other path under `/console`.
pub async fn not_found(
    axum::extract::State(cs): axum::extract::State<ConsoleState>,
    req: Request,
) -> Response {
    let (mut parts, _) = req.into_parts();
    let frame = match Signed::from_request_parts(&mut parts, &cs).await {
        Ok(s) => s.frame(""),
        Err(_) => Frame::default(),
    };
    html::page(
        StatusCode::NOT_FOUND,
        "Not found",
        &frame,
        &html::notice("error", "There is no such page."),
    )
}
