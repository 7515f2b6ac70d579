//! Orgs and members: the orgs (all of them for platform admins, one's own for org admins and
//! owners), an org's members with their roles, and adding (by `sub`), changing roles and
//! removing, through the API's member handlers. The last-owner rule is shown before the click:
//! the only owner's row offers no demotion or removal.

use crate::console::ConsoleState;
use crate::console::access::{OrgPage, admin_orgs, has_access};
use crate::console::caller::{Signed, api_error};
use crate::console::form::Form;
use crate::console::html::{self, E, q, time};
use crate::http::cursor::Scope;
use crate::http::guard::CanManageMembers;
use crate::http::input::{Body, UserPath};
use crate::http::page::id_page;
use crate::http::routes::members::{self, AddMember, ChangeRole};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portcullis_store::{Member, OrgId, PageRequest, Role};
use serde::Deserialize;
use std::fmt::Write;

#[derive(Debug, Default, Deserialize)]
pub struct After {
    #[serde(default)]
    after: String,
    #[serde(default)]
    done: String,
}

pub async fn list(
    State(cs): State<ConsoleState>,
    signed: Signed,
    Query(a): Query<After>,
) -> Response {
    let p = &signed.principal;
    if !has_access(p) {
        return super::home::no_access(&signed);
    }
    let frame = signed.frame("/console/orgs");
    let mut b = String::from(
        "<table><thead><tr><th scope=\"col\">Org</th><th scope=\"col\">Your role</th><th scope=\"col\">Pages</th></tr></thead><tbody>",
    );
    let row = |b: &mut String, id: OrgId, name: &str, role: Option<Role>| {
        let _ = write!(
            b,
            "<tr><td>{} <span class=\"mono muted\">{id}</span></td><td>{}</td><td><a href=\"/console/orgs/{id}/members\">Members</a> · \
             <a href=\"/console/orgs/{id}/audit\">Audit</a> · <a href=\"/console/orgs/{id}/flags\">Flags</a></td></tr>",
            E(name),
            role.map(|r| r.as_str()).unwrap_or("platform admin"),
        );
    };
    let mut next = None;
    if p.platform_admin {
        let after = a.after.parse::<OrgId>().ok().map(|o| o.0);
        let req = match PageRequest::new(100, after) {
            Ok(r) => r,
            Err(_) => return api_error(&frame, crate::http::error::ApiError::NotFound),
        };
        match cs.app.store.list_orgs(&req).await {
            Ok(page) => {
                for o in &page.items {
                    row(&mut b, o.id, &o.name, p.role_in(o.id));
                }
                next = page.next;
            }
            Err(e) => return api_error(&frame, e.into()),
        }
    } else {
        for m in admin_orgs(p) {
            row(&mut b, m.org_id, &m.org_name, Some(m.role));
        }
    }
    b.push_str("</tbody></table>");
    if let Some(n) = next {
        let _ = write!(
            b,
            "<nav class=\"pager\"><a rel=\"next\" href=\"/console/orgs?after={n}\">More orgs</a></nav>"
        );
    }
    html::page(StatusCode::OK, "Orgs", &frame, &b)
}

/// Every member, for the owner count the last-owner rule needs (bounded: 1,000 shown).
async fn all_members(
    cs: &ConsoleState,
    org: OrgId,
) -> Result<(Vec<Member>, bool), crate::http::error::ApiError> {
    let scope = Scope::members(org);
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let req = id_page(Some(100), cursor.as_deref(), &scope)?;
        let page = cs.app.store.list_members(org, &req).await?;
        let list = crate::http::page::id_list(page, &scope, |m| m);
        out.extend(list.items);
        match list.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok((out, false)),
        }
    }
    Ok((out, true))
}

fn role_options(selected: Role, may: impl Fn(Role) -> bool) -> String {
    let mut s = String::new();
    for r in Role::ALL {
        if may(r) || r == selected {
            let _ = write!(
                s,
                "<option value=\"{r}\"{}{}>{r}</option>",
                if r == selected { " selected" } else { "" },
                if may(r) { "" } else { " disabled" }
            );
        }
    }
    s
}

pub async fn members(
    State(cs): State<ConsoleState>,
    page: OrgPage<CanManageMembers>,
    Query(a): Query<After>,
) -> Response {
    let org = page.access.org;
    let base = format!("/console/orgs/{org}/members");
    let frame = page.signed.frame("/console/orgs");
    let name = match cs.app.store.get_org(org, false).await {
        Ok(Some(o)) => o.name,
        Ok(None) => return api_error(&frame, crate::http::error::ApiError::NotFound),
        Err(e) => return api_error(&frame, e.into()),
    };
    let (list, truncated) = match all_members(&cs, org).await {
        Ok(x) => x,
        Err(e) => return api_error(&frame, e),
    };
    let owners = list.iter().filter(|m| m.role == Role::Owner).count();
    let csrf = E(&page.signed.csrf).to_string();
    let access = &page.access;
    let mut b = String::new();
    match a.done.as_str() {
        "added" => b.push_str(&html::notice("ok", "Member added.")),
        "role" => b.push_str(&html::notice("ok", "Role changed.")),
        "removed" => b.push_str(&html::notice("ok", "Member removed.")),
        _ => {}
    }
    let _ = write!(
        b,
        "<p><a href=\"/console/orgs/{org}/audit\">Audit of this org</a> · <a href=\"/console/orgs/{org}/flags\">Flags</a></p>\
         <p class=\"muted\">An org always keeps at least one owner: the only owner can be neither demoted nor removed (make someone else owner first).</p>"
    );
    if truncated {
        b.push_str(&html::notice(
            "warn",
            "Only the first 1,000 members are shown.",
        ));
    }
    b.push_str(
        "<table><thead><tr><th scope=\"col\">Member</th><th scope=\"col\">Sub</th><th scope=\"col\">Since</th>\
         <th scope=\"col\">Role</th><th scope=\"col\">Remove</th></tr></thead><tbody>",
    );
    for m in &list {
        let who = m
            .username
            .clone()
            .or_else(|| m.email.clone())
            .unwrap_or_else(|| m.sub.clone());
        let last_owner = m.role == Role::Owner && owners == 1;
        let may_manage = access.may_assign(m.role);
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>",
            E(&who),
            E(&m.sub),
            time(m.created_at)
        );
        if last_owner {
            b.push_str("owner <span class=\"muted\">(last owner: cannot be demoted)</span>");
        } else if may_manage {
            let _ = write!(
                b,
                "<form class=\"row-actions\" method=\"post\" action=\"{base}/{}/role\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <label class=\"skip\" for=\"role-{}\">Role of {}</label>\
                 <select id=\"role-{}\" name=\"role\">{}</select>\
                 <button class=\"secondary\" type=\"submit\">Change role<span class=\"skip\"> of {}</span></button></form>",
                m.user_id,
                m.user_id,
                E(&who),
                m.user_id,
                role_options(m.role, |r| access.may_assign(r)),
                E(&who),
            );
        } else {
            let _ = write!(
                b,
                "{} <span class=\"muted\">(above what you may change)</span>",
                m.role
            );
        }
        b.push_str("</td><td>");
        if last_owner {
            b.push_str("<span class=\"muted\">last owner</span>");
        } else if may_manage {
            let _ = write!(
                b,
                "<details class=\"confirm\"><summary>Remove…</summary><form method=\"post\" action=\"{base}/{}/remove\">\
                 <p>Remove {} from {}?</p><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <button class=\"danger\" type=\"submit\">Remove {}</button></form></details>",
                m.user_id,
                E(&who),
                E(&name),
                E(&who)
            );
        }
        b.push_str("</td></tr>");
    }
    b.push_str("</tbody></table>");
    let _ = write!(
        b,
        "<h2>Add a member</h2><form class=\"filters\" method=\"post\" action=\"{base}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"add-sub\">Sub (of your issuer)<input id=\"add-sub\" name=\"sub\" required maxlength=\"255\"></label>\
         <label for=\"add-role\">Role<select id=\"add-role\" name=\"role\">{}</select></label>\
         <button type=\"submit\">Add member</button></form>",
        role_options(Role::Member, |r| access.may_assign(r))
    );
    html::page(StatusCode::OK, &format!("Members · {name}"), &frame, &b)
}

fn role_field(f: &crate::console::form::Fields) -> Option<Role> {
    f.get("role").and_then(|r| r.parse().ok())
}

fn done(org: OrgId, what: &str) -> Response {
    Redirect::to(&format!("/console/orgs/{org}/members?done={}", q(what))).into_response()
}

pub async fn add_member(
    State(cs): State<ConsoleState>,
    page: OrgPage<CanManageMembers>,
    form: Form,
) -> Response {
    let fields = match form.checked(&page.signed) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let frame = page.signed.frame("/console/orgs");
    let org = page.access.org;
    let (Some(role), Some(sub)) = (role_field(&fields), fields.get("sub")) else {
        return api_error(
            &frame,
            crate::http::input::invalid_field("/role", "must be a role"),
        );
    };
    let body = AddMember {
        sub: Some(sub.trim().to_owned()),
        user_id: None,
        role,
    };
    match members::add(State(cs.app.clone()), page.access, Body(body)).await {
        Ok(_) => done(org, "added"),
        Err(e) => api_error(&frame, e),
    }
}

pub async fn change_role(
    State(cs): State<ConsoleState>,
    page: OrgPage<CanManageMembers>,
    UserPath(user): UserPath,
    form: Form,
) -> Response {
    let fields = match form.checked(&page.signed) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let frame = page.signed.frame("/console/orgs");
    let org = page.access.org;
    let Some(role) = role_field(&fields) else {
        return api_error(
            &frame,
            crate::http::input::invalid_field("/role", "must be a role"),
        );
    };
    match members::change_role(
        State(cs.app.clone()),
        page.access,
        UserPath(user),
        Body(ChangeRole { role }),
    )
    .await
    {
        Ok(_) => done(org, "role"),
        Err(e) => api_error(&frame, e),
    }
}

pub async fn remove_member(
    State(cs): State<ConsoleState>,
    page: OrgPage<CanManageMembers>,
    UserPath(user): UserPath,
    form: Form,
) -> Response {
    if let Err(r) = form.checked(&page.signed) {
        return r;
    }
    let frame = page.signed.frame("/console/orgs");
    let org = page.access.org;
    match members::remove(State(cs.app.clone()), page.access, UserPath(user)).await {
        Ok(_) => done(org, "removed"),
        Err(e) => api_error(&frame, e),
    }
}
