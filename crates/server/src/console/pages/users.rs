//! Users and sessions (platform admins): search; a user's identities, orgs and roles and recent
//! activity; disable, enable and revoke all sessions, each behind a confirmation that names the
//! user. The actions call the API's own handlers (`http::routes::sessions`).

use crate::console::ConsoleState;
use crate::console::access::Admin;
use crate::console::caller::api_error;
use crate::console::form::Form;
use crate::console::html::{self, E, time};
use crate::http::input::UserPath;
use crate::http::routes::audit::{AuditQuery, global};
use crate::http::routes::sessions;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portcullis_store::{User, UserId};
use serde::Deserialize;
use std::fmt::Write;

#[derive(Debug, Default, Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
}

fn display(u: &User) -> String {
    u.username
        .clone()
        .or_else(|| u.email.clone())
        .unwrap_or_else(|| u.sub.clone())
}

pub async fn search(
    State(cs): State<ConsoleState>,
    admin: Admin,
    Query(s): Query<Search>,
) -> Response {
    let frame = admin.signed.frame("/console/users");
    let text = s.q.trim();
    let mut b = format!(
        "<form class=\"filters\" method=\"get\" action=\"/console/users\" role=\"search\">\
         <label for=\"q\">Username, e-mail (prefix) or sub<input id=\"q\" name=\"q\" type=\"search\" value=\"{}\"></label>\
         <button type=\"submit\">Search</button></form>",
        E(text)
    );
    if portcullis_store::validate::text(text).is_err() {
        b.push_str(&html::notice("error", "The search text is invalid."));
        return html::page(StatusCode::UNPROCESSABLE_ENTITY, "Users", &frame, &b);
    }
    let users = match cs.app.store.search_users(text, false, 50).await {
        Ok(u) => u,
        Err(e) => return api_error(&frame, e.into()),
    };
    if users.is_empty() {
        b.push_str(&html::notice("", "No user matches."));
    } else {
        b.push_str(
            "<table><thead><tr><th scope=\"col\">User</th><th scope=\"col\">E-mail</th><th scope=\"col\">Sub</th>\
             <th scope=\"col\">Status</th><th scope=\"col\">Created</th><th scope=\"col\">Last seen</th></tr></thead><tbody>",
        );
        for u in &users {
            let _ = write!(
                b,
                "<tr><td><a href=\"/console/users/{}\">{}</a></td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                u.id,
                E(&display(u)),
                E(u.email.as_deref().unwrap_or("")),
                E(&u.sub),
                if u.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                },
                time(u.created_at),
                u.last_seen_at.map(time).unwrap_or_else(|| "never".into()),
            );
        }
        b.push_str("</tbody></table>");
    }
    html::page(StatusCode::OK, "Users and sessions", &frame, &b)
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

pub async fn detail(
    State(cs): State<ConsoleState>,
    admin: Admin,
    UserPath(id): UserPath,
    Query(done): Query<Done>,
) -> Response {
    let frame = admin.signed.frame("/console/users");
    let app = &cs.app;
    let user = match app.store.get_user(id).await {
        Ok(Some(u)) => u,
        Ok(None) => return api_error(&frame, crate::http::error::ApiError::NotFound),
        Err(e) => return api_error(&frame, e.into()),
    };
    let name = display(&user);
    let mut b = String::new();
    let message = match done.done.as_str() {
        "revoked" => Some("Every session of this user started up to now is revoked."),
        "disabled" => Some("The user is disabled: every request of theirs is refused."),
        "enabled" => Some("The user is enabled again."),
        _ => None,
    };
    if let Some(m) = message {
        b.push_str(&html::notice("ok", m));
    }
    let _ = write!(
        b,
        "<dl class=\"panel\"><dt>Id</dt><dd class=\"mono\">{}</dd><dt>Issuer</dt><dd class=\"mono\">{}</dd>\
         <dt>Sub</dt><dd class=\"mono\">{}</dd><dt>E-mail</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd>\
         <dt>Created</dt><dd>{}</dd><dt>Last seen</dt><dd>{}</dd></dl>",
        user.id,
        E(&user.issuer),
        E(&user.sub),
        E(user.email.as_deref().unwrap_or("")),
        match user.disabled_at {
            Some(t) => format!("disabled since {}", time(t)),
            None => "active".into(),
        },
        time(user.created_at),
        user.last_seen_at
            .map(time)
            .unwrap_or_else(|| "never".into()),
    );
    // Actions, each behind a confirmation naming the user.
    let csrf = E(&admin.signed.csrf).to_string();
    let confirm = |b: &mut String, path: &str, label: &str, question: &str, button: &str| {
        let _ = write!(
            b,
            "<details class=\"confirm\"><summary>{label}</summary><form method=\"post\" action=\"/console/users/{}/{path}\">\
             <p>{}</p><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button class=\"danger\" type=\"submit\">{button}</button></form></details>",
            user.id,
            E(question),
        );
    };
    b.push_str("<div class=\"row-actions\">");
    confirm(
        &mut b,
        "revoke-sessions",
        "Revoke all sessions…",
        &format!(
            "Revoke every session of {name} ({})? Their current tokens stop working at once.",
            user.sub
        ),
        &format!("Revoke all sessions of {name}"),
    );
    if user.disabled_at.is_some() {
        confirm(
            &mut b,
            "enable",
            "Enable…",
            &format!("Enable {name} ({}) again?", user.sub),
            &format!("Enable {name}"),
        );
    } else {
        confirm(
            &mut b,
            "disable",
            "Disable…",
            &format!(
                "Disable {name} ({})? Every request of theirs is refused until enabled.",
                user.sub
            ),
            &format!("Disable {name}"),
        );
    }
    b.push_str("</div>");
    b.push_str("<h2>Identities</h2>");
    match app.store.identities_of_user(id).await {
        Ok(ids) if !ids.is_empty() => {
            b.push_str("<table><thead><tr><th scope=\"col\">Issuer</th><th scope=\"col\">Sub</th></tr></thead><tbody>");
            for i in ids {
                let _ = write!(
                    b,
                    "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
                    E(&i.issuer),
                    E(&i.sub)
                );
            }
            b.push_str("</tbody></table>");
        }
        Ok(_) => b.push_str("<p class=\"muted\">Only the identity it was created with.</p>"),
        Err(e) => return api_error(&frame, e.into()),
    }
    b.push_str("<h2>Orgs and roles</h2>");
    match app.store.memberships_of_user(id).await {
        Ok(ms) if !ms.is_empty() => {
            b.push_str("<table><thead><tr><th scope=\"col\">Org</th><th scope=\"col\">Role</th></tr></thead><tbody>");
            for m in ms {
                let _ = write!(
                    b,
                    "<tr><td><a href=\"/console/orgs/{}/members\">{}</a></td><td>{}</td></tr>",
                    m.org_id,
                    E(&m.org_name),
                    m.role
                );
            }
            b.push_str("</tbody></table>");
        }
        Ok(_) => b.push_str("<p class=\"muted\">No org.</p>"),
        Err(e) => return api_error(&frame, e.into()),
    }
    b.push_str("<h2>Recent activity</h2>");
    let aq = AuditQuery {
        action: None,
        resource_id: None,
        actor: Some(id),
        since: None,
        until: None,
        page_size: Some(20),
        cursor: None,
        org_id: None,
    };
    match global(
        State(app.clone()),
        admin.admin.clone(),
        crate::http::input::Query(aq),
    )
    .await
    {
        Ok(list) if !list.0.items.is_empty() => {
            b.push_str("<table><thead><tr><th scope=\"col\">Seq</th><th scope=\"col\">Time</th><th scope=\"col\">Action</th><th scope=\"col\">Object</th></tr></thead><tbody>");
            for r in &list.0.items {
                let _ = write!(
                    b,
                    "<tr><td><a href=\"/console/audit?actor={}&detail={}\">{}</a></td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
                    user.id,
                    r.seq,
                    r.seq,
                    time(r.occurred_at),
                    E(&r.action),
                    E(r.resource_id.as_deref().unwrap_or(""))
                );
            }
            let _ = write!(
                b,
                "</tbody></table><p><a href=\"/console/audit?actor={}\">All of this user's activity</a></p>",
                user.id
            );
        }
        Ok(_) => b.push_str("<p class=\"muted\">No recorded activity.</p>"),
        Err(e) => return api_error(&frame, e),
    }
    html::page(StatusCode::OK, &format!("User {name}"), &frame, &b)
}

async fn act(
    cs: &ConsoleState,
    admin: Admin,
    id: UserId,
    form: Form,
    what: &'static str,
) -> Response {
    if let Err(r) = form.checked(&admin.signed) {
        return r;
    }
    let frame = admin.signed.frame("/console/users");
    let app = cs.app.clone();
    let result = match what {
        "revoked" => sessions::revoke_sessions(State(app), admin.admin, UserPath(id))
            .await
            .map(|_| ()),
        "disabled" => sessions::disable(State(app), admin.admin, UserPath(id))
            .await
            .map(|_| ()),
        _ => sessions::enable(State(app), admin.admin, UserPath(id))
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/console/users/{id}?done={what}")).into_response(),
        Err(e) => api_error(&frame, e),
    }
}

pub async fn revoke_sessions(
    State(cs): State<ConsoleState>,
    admin: Admin,
    UserPath(id): UserPath,
    form: Form,
) -> Response {
    act(&cs, admin, id, form, "revoked").await
}

pub async fn disable(
    State(cs): State<ConsoleState>,
    admin: Admin,
    UserPath(id): UserPath,
    form: Form,
) -> Response {
    act(&cs, admin, id, form, "disabled").await
}

pub async fn enable(
    State(cs): State<ConsoleState>,
    admin: Admin,
    UserPath(id): UserPath,
    form: Form,
) -> Response {
    act(&cs, admin, id, form, "enabled").await
}
