//! Flags: every runtime flag with its default, global value and per-org values, who last
//! changed it (from the audit log), and changing a value behind a confirmation, through the
//! API's flag handlers (platform admins). Org admins and owners see their org's values.

use crate::console::ConsoleState;
use crate::console::access::{Admin, OrgPage};
use crate::console::caller::api_error;
use crate::console::form::Form;
use crate::console::html::{self, E, q, time};
use crate::flags::registry::{self, FlagScope};
use crate::http::guard::CanModerate;
use crate::http::input::{Body, Query as ApiQuery};
use crate::http::routes::audit::{AuditQuery, global};
use crate::http::routes::flags::{self, FlagName, SetFlag};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portcullis_store::{OrgId, UserId};
use serde::Deserialize;
use serde_json::Value;
use std::fmt::Write;

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

async fn user_name(app: &AppState, id: Option<UserId>) -> String {
    match id {
        Some(id) => match app.store.get_user(id).await {
            Ok(Some(u)) => u.username.or(u.email).unwrap_or(u.sub),
            _ => id.to_string(),
        },
        None => "configuration".to_owned(),
    }
}

pub async fn list(
    State(cs): State<ConsoleState>,
    admin: Admin,
    Query(done): Query<Done>,
) -> Response {
    let frame = admin.signed.frame("/console/flags");
    let app = &cs.app;
    let flags = match flags::list(State(app.clone()), admin.admin.clone()).await {
        Ok(l) => l.0.items,
        Err(e) => return api_error(&frame, e),
    };
    let mut b = String::new();
    if !done.done.is_empty() {
        b.push_str(&html::notice("ok", &format!("Flag {} changed.", done.done)));
    }
    let csrf = E(&admin.signed.csrf).to_string();
    for f in &flags {
        let _ = write!(
            b,
            "<section class=\"panel\" aria-labelledby=\"flag-{0}\"><h2 id=\"flag-{0}\" class=\"mono\">{0}</h2><p>{1}</p>\
             <table><tbody><tr><th scope=\"row\">Default</th><td class=\"mono\">{2}</td></tr>\
             <tr><th scope=\"row\">Global value</th><td class=\"mono\">{3}</td></tr>\
             <tr><th scope=\"row\">In force</th><td class=\"mono\">{4}</td></tr>",
            E(&f.name),
            E(&f.description),
            E(&f.default.to_string()),
            E(&f.global
                .as_ref()
                .map(|g| g.value.to_string())
                .unwrap_or_else(|| "(default)".into())),
            E(&f.effective.to_string()),
        );
        for o in &f.orgs {
            let _ = write!(
                b,
                "<tr><th scope=\"row\">Org <span class=\"mono\">{}</span></th><td class=\"mono\">{}</td></tr>",
                o.org_id.map(|o| o.to_string()).unwrap_or_default(),
                E(&o.value.to_string())
            );
        }
        b.push_str("</tbody></table>");
        // Who changed it last, from the audit log (the same rows as the Audit page).
        let aq = AuditQuery {
            action: Some("flag.set".into()),
            resource_id: Some(f.name.clone()),
            actor: None,
            since: None,
            until: None,
            page_size: Some(1),
            cursor: None,
            org_id: None,
        };
        if let Ok(last) = global(State(app.clone()), admin.admin.clone(), ApiQuery(aq)).await
            && let Some(row) = last.0.items.first()
        {
            let _ = write!(
                b,
                "<p class=\"muted\">Last changed by {} at {} (<a href=\"/console/audit?action=flag.set&resource={}\">history</a>).</p>",
                E(&user_name(app, row.actor_id).await),
                time(row.occurred_at),
                E(&q(&f.name))
            );
        } else {
            b.push_str("<p class=\"muted\">Never changed.</p>");
        }
        let org_field = if f.scope == FlagScope::GlobalAndOrg {
            format!(
                "<label for=\"org-{0}\">Org id (empty: global)<input id=\"org-{0}\" name=\"org_id\"></label>",
                E(&f.name)
            )
        } else {
            String::new()
        };
        let _ = write!(
            b,
            "<form class=\"filters\" method=\"post\" action=\"/console/flags/{0}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"value-{0}\">New value (JSON; null removes the override)<input id=\"value-{0}\" name=\"value\" class=\"mono\" value=\"{1}\" required></label>{2}\
             <details class=\"confirm\"><summary>Change…</summary><p>Change {0} on every instance?</p>\
             <button class=\"danger\" type=\"submit\">Change {0}</button></details></form></section>",
            E(&f.name),
            E(&f.effective.to_string()),
            org_field
        );
    }
    html::page(StatusCode::OK, "Flags", &frame, &b)
}

pub async fn set(
    State(cs): State<ConsoleState>,
    admin: Admin,
    FlagName(name): FlagName,
    form: Form,
) -> Response {
    let fields = match form.checked(&admin.signed) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let frame = admin.signed.frame("/console/flags");
    let raw = fields.get("value").unwrap_or("").trim();
    // JSON, or else the text itself as a string (so `abc` needs no quotes).
    let value: Value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    let org_id = match fields.get("org_id").map(str::trim).unwrap_or("") {
        "" => None,
        s => match s.parse::<OrgId>() {
            Ok(o) => Some(o),
            Err(_) => {
                return api_error(
                    &frame,
                    crate::http::input::invalid_field("/org_id", "must be an org id (a UUID)"),
                );
            }
        },
    };
    match flags::set(
        State(cs.app.clone()),
        admin.admin,
        FlagName(name.clone()),
        Body(SetFlag { value, org_id }),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/console/flags?done={}", q(&name))).into_response(),
        Err(e) => api_error(&frame, e),
    }
}

/// One org's view: the values in force for it. Changing flags is for platform admins.
pub async fn for_org(State(cs): State<ConsoleState>, page: OrgPage<CanModerate>) -> Response {
    let org = page.access.org;
    let frame = page.signed.frame("/console/orgs");
    let app = &cs.app;
    let rows = match app.store.list_flags().await {
        Ok(r) => r,
        Err(e) => return api_error(&frame, e.into()),
    };
    let defaults = app.flags.defaults();
    let mut b = format!(
        "<p class=\"muted\">Values in force for this org. Platform admins change them.</p>\
         <p><a href=\"/console/orgs/{org}/members\">Members</a> · <a href=\"/console/orgs/{org}/audit\">Audit</a></p>\
         <table><thead><tr><th scope=\"col\">Flag</th><th scope=\"col\">Default</th><th scope=\"col\">Global</th>\
         <th scope=\"col\">This org</th><th scope=\"col\">Changed by</th></tr></thead><tbody>"
    );
    for def in registry::REGISTRY {
        let global_row = rows
            .iter()
            .find(|f| f.name == def.name && f.org_id.is_none() && !f.value.is_null());
        let org_row = rows
            .iter()
            .find(|f| f.name == def.name && f.org_id == Some(org) && !f.value.is_null());
        let changed = match org_row.or(global_row) {
            Some(f) => format!(
                "{} at {}",
                user_name(app, f.updated_by).await,
                time(f.updated_at)
            ),
            None => "-".to_owned(),
        };
        let _ = write!(
            b,
            "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            E(def.name),
            E(&defaults.global_json(def.name).to_string()),
            E(&global_row
                .map(|f| f.value.to_string())
                .unwrap_or_else(|| "(default)".into())),
            E(&match (def.scope, org_row) {
                (FlagScope::Global, _) => "(global only)".to_owned(),
                (_, Some(f)) => f.value.to_string(),
                (_, None) => "(global)".to_owned(),
            }),
            E(&changed),
        );
    }
    b.push_str("</tbody></table>");
    html::page(StatusCode::OK, "Flags of this org", &frame, &b)
}
