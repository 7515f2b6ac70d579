//! Audit: the log newest first with filters in the query string (actor by username, e-mail,
//! sub or id; action; object; org; time range), keyset pages, a detail panel with the row's
//! before/after, export of the filtered rows (NDJSON, CSV), and the chain's status from the code
//! of `portcullis audit verify`. Rows are read by calling the API's audit handlers, so the
//! same guard, filters, cursor and page limits apply.

use crate::console::ConsoleState;
use crate::console::access::{Admin, OrgPage};
use crate::console::caller::{Signed, api_error};
use crate::console::html::{self, E, Frame, q, time};
use crate::http::error::ApiError;
use crate::http::guard::{CanModerate, OrgAccess, PlatformAdmin};
use crate::http::input::Query as ApiQuery;
use crate::http::routes::audit::{AuditQuery, for_org, global};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use portcullis_store::{AuditEntry, OrgId, User, UserId};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;

/// Rows per page on screen.
const PAGE_SIZE: u32 = 50;

/// The page's filters, as typed into its form (all text; checked in [`Filters::to_api`]).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filters {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    format: String,
}

/// The filters as a query string (without `cursor` and `detail`), for links.
impl Filters {
    fn query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("resource", &self.resource),
            ("org", &self.org),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

/// `2026-11-29T15:04:05Z` (RFC 3339) or what `<input type="datetime-local">` sends
/// (`2026-11-29T15:04`, read as UTC).
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
                .ok()
                .map(|n| n.and_utc())
        })
}

/// What the filters mean, or what is wrong with them (said on the page).
enum Resolved {
    /// The query, and the actor's user when the filter named one by text (so the page need not
    /// look them up again to show their name).
    Query(Box<AuditQuery>, Option<User>),
    /// The actor text names several users: the page lists them to pick one.
    Ambiguous(Vec<User>),
    /// No user has that name: no row can match.
    NoActor,
    Invalid(&'static str),
}

async fn resolve(app: &AppState, f: &Filters, global: bool, page_size: u32) -> Resolved {
    let actor = f.actor.trim();
    let (actor_id, actor_user) = if actor.is_empty() {
        (None, None)
    } else if let Ok(id) = actor.parse::<UserId>() {
        (Some(id), None)
    } else {
        match app.store.search_users(actor, true, 10).await {
            Ok(mut users) if users.len() == 1 => {
                let user = users.pop();
                (user.as_ref().map(|u| u.id), user)
            }
            Ok(users) if users.is_empty() => return Resolved::NoActor,
            Ok(users) => return Resolved::Ambiguous(users),
            Err(_) => return Resolved::Invalid("The actor could not be looked up."),
        }
    };
    let since = match f.since.trim() {
        "" => None,
        s => match parse_time(s) {
            Some(t) => Some(t),
            None => return Resolved::Invalid("From must be a date and time (RFC 3339)."),
        },
    };
    let until = match f.until.trim() {
        "" => None,
        s => match parse_time(s) {
            Some(t) => Some(t),
            None => return Resolved::Invalid("Until must be a date and time (RFC 3339)."),
        },
    };
    let org_id = match (f.org.trim(), global) {
        ("", _) | (_, false) => None,
        (s, true) => match s.parse::<OrgId>() {
            Ok(o) => Some(o),
            Err(_) => return Resolved::Invalid("Org must be an org id (a UUID)."),
        },
    };
    let text = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    Resolved::Query(
        Box::new(AuditQuery {
            action: text(&f.action),
            resource_id: text(&f.resource),
            actor: actor_id,
            since,
            until,
            page_size: Some(page_size),
            cursor: text(&f.cursor),
            org_id,
        }),
        actor_user,
    )
}

/// Whose log: the whole (platform admins) or one org's (its admins and owners).
#[derive(Clone)]
enum Scope {
    Global(PlatformAdmin),
    Org(OrgAccess<CanModerate>),
}

impl Scope {
    /// One page through the API's handler.
    async fn page(
        &self,
        app: &AppState,
        aq: AuditQuery,
    ) -> Result<crate::http::page::List<AuditEntry>, ApiError> {
        let json = match self {
            Scope::Global(a) => global(State(app.clone()), a.clone(), ApiQuery(aq)).await?,
            Scope::Org(a) => for_org(State(app.clone()), a.clone(), ApiQuery(aq)).await?,
        };
        Ok(json.0)
    }

    fn base(&self) -> String {
        match self {
            Scope::Global(_) => "/console/audit".to_owned(),
            Scope::Org(a) => format!("/console/orgs/{}/audit", a.org),
        }
    }

    fn org(&self) -> Option<OrgId> {
        match self {
            Scope::Global(_) => None,
            Scope::Org(a) => Some(a.org),
        }
    }
}

pub async fn global_page(
    State(cs): State<ConsoleState>,
    admin: Admin,
    Query(f): Query<Filters>,
) -> Response {
    render(&cs.app, &admin.signed, Scope::Global(admin.admin), f).await
}

pub async fn org_page(
    State(cs): State<ConsoleState>,
    page: OrgPage<CanModerate>,
    Query(f): Query<Filters>,
) -> Response {
    render(&cs.app, &page.signed, Scope::Org(page.access), f).await
}

/// Display names of the actors of a page: the filter's own actor is already known, the others
/// come from one lookup for the page (not one per row).
async fn actor_names(
    app: &AppState,
    rows: &[AuditEntry],
    known: Option<User>,
) -> HashMap<UserId, String> {
    let name = |u: User| u.username.or(u.email).unwrap_or(u.sub);
    let mut names = HashMap::new();
    if let Some(u) = known {
        names.insert(u.id, name(u));
    }
    let mut missing: Vec<UserId> = rows
        .iter()
        .filter_map(|r| r.actor_id)
        .filter(|id| !names.contains_key(id))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return names;
    }
    // A failed lookup shows ids instead of names: the rows themselves are still right.
    if let Ok(users) = app.store.get_users(&missing).await {
        for u in users {
            names.insert(u.id, name(u));
        }
    }
    names
}

fn filter_form(b: &mut String, scope: &Scope, f: &Filters) {
    let field = |b: &mut String, name: &str, label: &str, value: &str, kind: &str, hint: &str| {
        let _ = write!(
            b,
            "<label for=\"f-{name}\">{label}<input id=\"f-{name}\" name=\"{name}\" type=\"{kind}\" value=\"{}\" placeholder=\"{hint}\"></label>",
            E(value)
        );
    };
    let _ = write!(
        b,
        "<form class=\"filters\" method=\"get\" action=\"{}\" role=\"search\" aria-label=\"Filter the audit log\">",
        E(&scope.base())
    );
    field(
        b,
        "actor",
        "Actor",
        &f.actor,
        "search",
        "username, e-mail, sub or id",
    );
    field(
        b,
        "action",
        "Action",
        &f.action,
        "text",
        "e.g. membership.role",
    );
    field(b, "resource", "Object id", &f.resource, "text", "");
    if matches!(scope, Scope::Global(_)) {
        field(b, "org", "Org id", &f.org, "text", "");
    }
    field(
        b,
        "since",
        "From (UTC)",
        &f.since,
        "text",
        "2026-11-29T00:00:00Z",
    );
    field(b, "until", "Until (UTC)", &f.until, "text", "");
    b.push_str("<button type=\"submit\">Filter</button>");
    let _ = write!(b, " <a href=\"{}\">Clear</a></form>", E(&scope.base()));
}

async fn render(app: &AppState, signed: &Signed, scope: Scope, f: Filters) -> Response {
    let base = scope.base();
    let frame = signed.frame(&base);
    let title = match scope.org() {
        Some(org) => match app.store.get_org(org, false).await {
            Ok(Some(o)) => format!("Audit · {}", o.name),
            _ => "Audit".to_owned(),
        },
        None => "Audit".to_owned(),
    };
    let mut b = String::new();
    filter_form(&mut b, &scope, &f);
    let filters = f.query();
    let amp = if filters.is_empty() { "" } else { "&" };
    let _ = write!(
        b,
        "<p class=\"row-actions\">Export these rows: <a href=\"{base}/export?format=ndjson{amp}{}\">NDJSON</a> \
         <a href=\"{base}/export?format=csv{amp}{}\">CSV</a>",
        E(&filters),
        E(&filters)
    );
    if matches!(scope, Scope::Global(_)) {
        b.push_str(" · <a href=\"/console/audit/chain\">Verify the hash chain</a>");
    }
    b.push_str("</p>");
    let (aq, actor_user) =
        match resolve(app, &f, matches!(scope, Scope::Global(_)), PAGE_SIZE).await {
            Resolved::Query(aq, actor_user) => (*aq, actor_user),
            Resolved::Ambiguous(users) => {
                b.push_str(&html::notice(
                    "warn",
                    "Several users have this name. Pick one:",
                ));
                b.push_str("<ul>");
                for u in users {
                    let mut pick = f.clone();
                    pick.actor = u.id.to_string();
                    let _ = write!(
                        b,
                        "<li><a href=\"{base}?{}\">{} · {} · {}</a></li>",
                        E(&pick.query()),
                        E(u.username.as_deref().unwrap_or("-")),
                        E(u.email.as_deref().unwrap_or("-")),
                        E(&u.issuer)
                    );
                }
                b.push_str("</ul>");
                return html::page(StatusCode::OK, &title, &frame, &b);
            }
            Resolved::NoActor => {
                b.push_str(&html::notice(
                    "warn",
                    "No user has this username, e-mail or sub.",
                ));
                return html::page(StatusCode::OK, &title, &frame, &b);
            }
            Resolved::Invalid(why) => {
                b.push_str(&html::notice("error", why));
                return html::page(StatusCode::UNPROCESSABLE_ENTITY, &title, &frame, &b);
            }
        };
    let list = match scope.page(app, aq).await {
        Ok(l) => l,
        Err(e) => return api_error(&frame, e),
    };
    if let Ok(seq) = f.detail.parse::<i64>() {
        detail_panel(app, &mut b, &scope, seq).await;
    }
    let names = actor_names(app, &list.items, actor_user).await;
    if list.items.is_empty() {
        b.push_str(&html::notice("", "No audit rows match these filters."));
    } else {
        b.push_str(
            "<table><caption class=\"muted\">Newest first</caption><thead><tr><th scope=\"col\">Seq</th><th scope=\"col\">Time</th>\
             <th scope=\"col\">Actor</th><th scope=\"col\">Action</th><th scope=\"col\">Object</th><th scope=\"col\">Org</th>\
             <th scope=\"col\">Request</th><th scope=\"col\"><span class=\"muted\">Details</span></th></tr></thead><tbody>",
        );
        // The link back to this very page, for each row's details.
        let mut qs = filters.clone();
        if !f.cursor.is_empty() {
            qs.push_str("&cursor=");
            qs.push_str(&q(&f.cursor));
        }
        for r in &list.items {
            let actor = r
                .actor_id
                .map(|id| names.get(&id).cloned().unwrap_or_else(|| id.to_string()))
                .unwrap_or_else(|| "system".to_owned());
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{} <span class=\"mono\">{}</span></td>\
                 <td class=\"mono\">{}</td><td class=\"mono\">{}</td><td><a href=\"{base}?{}&detail={}\">Details<span class=\"skip\"> of row {}</span></a></td></tr>",
                r.seq,
                time(r.occurred_at),
                E(&actor),
                E(&r.action),
                E(&r.resource_type),
                E(r.resource_id.as_deref().unwrap_or("")),
                r.org_id.map(|o| o.to_string()).unwrap_or_default(),
                E(&r.request_id),
                E(&qs),
                r.seq,
                r.seq,
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("<nav class=\"pager\" aria-label=\"Pages\">");
    if !f.cursor.is_empty() {
        let _ = write!(b, "<a href=\"{base}?{}\">Newest</a>", E(&filters));
    }
    if let Some(next) = &list.next_cursor {
        let _ = write!(
            b,
            "<a href=\"{base}?{}{amp}cursor={}\" rel=\"next\">Older rows</a>",
            E(&filters),
            E(&q(next))
        );
    }
    b.push_str("</nav>");
    html::page(StatusCode::OK, &title, &frame, &b)
}

/// Rows of a `changes` value: (field path, before, after) for every `{before, after}` pair,
/// (path, "", value) for anything else.
fn diff_rows(prefix: &str, v: &Value, out: &mut Vec<(String, String, String)>) {
    match v {
        Value::Object(m) if m.contains_key("before") || m.contains_key("after") => {
            let show = |x: Option<&Value>| x.map(|x| x.to_string()).unwrap_or_default();
            out.push((
                if prefix.is_empty() {
                    "(value)".into()
                } else {
                    prefix.to_owned()
                },
                show(m.get("before")),
                show(m.get("after")),
            ));
        }
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                diff_rows(&p, x, out);
            }
        }
        other => out.push((
            if prefix.is_empty() {
                "(value)".into()
            } else {
                prefix.to_owned()
            },
            String::new(),
            other.to_string(),
        )),
    }
}

async fn detail_panel(app: &AppState, b: &mut String, scope: &Scope, seq: i64) {
    let row = match app.store.audit_after(seq.saturating_sub(1), 1).await {
        Ok(rows) => rows.into_iter().find(|r| r.seq == seq),
        Err(_) => None,
    };
    // An org's admins see their org's rows only: another row is "not found", as in the API.
    let row = row.filter(|r| scope.org().is_none() || r.org_id == scope.org());
    let Some(r) = row else {
        b.push_str(&html::notice("error", "No such audit row."));
        return;
    };
    let _ = write!(
        b,
        "<section class=\"panel\" aria-labelledby=\"detail-h\"><h2 id=\"detail-h\">Row {} · <span class=\"mono\">{}</span></h2>\
         <p>{} · request <span class=\"mono\">{}</span> · object {} <span class=\"mono\">{}</span></p>",
        r.seq,
        E(&r.action),
        time(r.occurred_at),
        E(&r.request_id),
        E(&r.resource_type),
        E(r.resource_id.as_deref().unwrap_or("")),
    );
    let mut rows = Vec::new();
    diff_rows("", &r.changes, &mut rows);
    b.push_str("<table class=\"diff\"><thead><tr><th scope=\"col\">Field</th><th scope=\"col\">Before</th><th scope=\"col\">After</th></tr></thead><tbody>");
    for (field, before, after) in rows {
        let _ = write!(
            b,
            "<tr><td class=\"mono\">{}</td><td class=\"mono before\">{}</td><td class=\"mono after\">{}</td></tr>",
            E(&field),
            E(&before),
            E(&after)
        );
    }
    let _ = write!(
        b,
        "</tbody></table><p class=\"muted\">hash <span class=\"mono\">{}</span><br>previous <span class=\"mono\">{}</span></p></section>",
        E(&r.hash),
        E(&r.prev_hash)
    );
}

/// One export line.
fn csv_field(s: &str) -> String {
    // Cells starting with a formula character are prefixed so spreadsheets do not run them.
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn csv_line(r: &AuditEntry) -> String {
    let cols = [
        r.seq.to_string(),
        r.id.to_string(),
        r.occurred_at.to_rfc3339(),
        r.actor_id.map(|a| a.to_string()).unwrap_or_default(),
        r.org_id.map(|o| o.to_string()).unwrap_or_default(),
        r.action.clone(),
        r.resource_type.clone(),
        r.resource_id.clone().unwrap_or_default(),
        r.changes.to_string(),
        r.request_id.clone(),
        r.prev_hash.clone(),
        r.hash.clone(),
    ];
    let mut line = cols
        .iter()
        .map(|c| csv_field(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

const CSV_HEADER: &str = "seq,id,occurred_at,actor_id,org_id,action,resource_type,resource_id,changes,request_id,prev_hash,hash\r\n";

async fn export(app: AppState, frame: Frame, scope: Scope, f: Filters) -> Response {
    let csv = match f.format.as_str() {
        "csv" => true,
        "ndjson" | "" => false,
        _ => {
            return html::page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Export",
                &frame,
                &html::notice("error", "The format must be ndjson or csv."),
            );
        }
    };
    let mut f = f;
    f.cursor.clear();
    let aq = match resolve(&app, &f, matches!(scope, Scope::Global(_)), 100).await {
        Resolved::Query(aq, _) => *aq,
        // No user has that name: no row matches; the file has its header only.
        Resolved::NoActor => {
            let body = if csv { CSV_HEADER } else { "" };
            return export_response(csv, Body::from(body));
        }
        Resolved::Ambiguous(_) | Resolved::Invalid(_) => {
            return html::page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Export",
                &frame,
                &html::notice("error", "Fix the filters on the audit page first."),
            );
        }
    };
    // The first page is read before answering, so a refusal is a page rather than a cut stream.
    let first = match scope.page(&app, clone_query(&aq, None)).await {
        Ok(l) => l,
        Err(e) => return api_error(&frame, e),
    };
    let head = if csv {
        CSV_HEADER.to_owned()
    } else {
        String::new()
    };
    let format_rows = move |rows: &[AuditEntry]| -> String {
        let mut out = String::new();
        for r in rows {
            if csv {
                out.push_str(&csv_line(r));
            } else if let Ok(line) = serde_json::to_string(r) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    };
    let first_chunk = head + &format_rows(&first.items);
    // Each further page is read as the client takes the previous one.
    let stream =
        futures_util::stream::unfold((first.next_cursor, false), move |(cursor, failed)| {
            let app = app.clone();
            let scope = scope.clone();
            let aq = clone_query(&aq, cursor.clone());
            async move {
                let cursor = cursor?;
                if failed {
                    return None;
                }
                let _ = cursor;
                match scope.page(&app, aq).await {
                    Ok(l) => {
                        let chunk = format_rows(&l.items);
                        Some((
                            Ok::<_, std::io::Error>(Bytes::from(chunk)),
                            (l.next_cursor, false),
                        ))
                    }
                    Err(e) => {
                        e.log();
                        Some((
                            Err(std::io::Error::other("audit export interrupted")),
                            (None, true),
                        ))
                    }
                }
            }
        });
    let body = Body::from_stream(futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok(Bytes::from(first_chunk)) }),
        stream,
    ));
    export_response(csv, body)
}

fn export_response(csv: bool, body: Body) -> Response {
    let (ctype, name) = if csv {
        ("text/csv; charset=utf-8", "audit.csv")
    } else {
        ("application/x-ndjson", "audit.ndjson")
    };
    (
        [
            (header::CONTENT_TYPE, ctype.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn clone_query(aq: &AuditQuery, cursor: Option<String>) -> AuditQuery {
    AuditQuery {
        action: aq.action.clone(),
        resource_id: aq.resource_id.clone(),
        actor: aq.actor,
        since: aq.since,
        until: aq.until,
        page_size: aq.page_size,
        cursor,
        org_id: aq.org_id,
    }
}

pub async fn export_global(
    State(cs): State<ConsoleState>,
    admin: Admin,
    Query(f): Query<Filters>,
) -> Response {
    let frame = admin.signed.frame("/console/audit");
    export(cs.app.clone(), frame, Scope::Global(admin.admin), f).await
}

pub async fn export_org(
    State(cs): State<ConsoleState>,
    page: OrgPage<CanModerate>,
    Query(f): Query<Filters>,
) -> Response {
    let frame = page.signed.frame("/console/orgs");
    export(cs.app.clone(), frame, Scope::Org(page.access), f).await
}

/// The chain's status, from the same function as `portcullis audit verify`. It reads the whole
/// log, so it has its own page rather than slowing down the audit list.
pub async fn chain(State(cs): State<ConsoleState>, admin: Admin) -> Response {
    let frame = admin.signed.frame("/console/audit");
    let report = match crate::ops::audit::verify(cs.app.store.as_ref(), None).await {
        Ok(r) => r,
        Err(e) => return api_error(&frame, e.into()),
    };
    let mut b = String::new();
    if report.is_intact() {
        match report.head() {
            Some(head) => b.push_str(&html::notice(
                "ok",
                &format!(
                    "Verified up to seq {}, head hash {}. Record this head outside the database: only a recorded head shows rows removed from the end of the log.",
                    head.seq, head.hash
                ),
            )),
            None => b.push_str(&html::notice("ok", "The audit log is empty.")),
        }
        let _ = write!(b, "<p>{} rows read.</p>", report.rows());
    } else {
        let _ = write!(
            b,
            "{}<p>Rows up to seq {} verify.</p><ul>",
            html::notice(
                "error",
                &format!(
                    "The audit log does not verify: {} problem(s).",
                    report.problems.len()
                )
            ),
            report.verified_up_to()
        );
        for p in &report.problems {
            let _ = write!(b, "<li class=\"mono\">{}</li>", E(&p.to_string()));
        }
        b.push_str("</ul>");
    }
    html::page(StatusCode::OK, "Audit chain", &frame, &b)
}
