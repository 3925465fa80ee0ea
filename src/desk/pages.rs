//! The officers' pages: the queue (`/`), the case page, its forms, document downloads and page
//! previews. Server-rendered, usable without JavaScript, readable at 360 px.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actions;
use super::api::{dispatch, log_view};
use super::auth::{Caller, PageCaller};
use super::error::{DeskError, PageError};
use super::policy;
use super::queries::{self, ListParams};
use super::render::{mask_nik, page};
use super::state::{AppState, Desk};
use crate::domain::deadline::{local_date, urgency, Urgency};
use crate::domain::status_words::status_label;
use crate::domain::{Kind, Status};
use crate::filing::desk as repo;
use crate::filing::now_ms;
use crate::filing::views::CaseView;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(queue))
        .route("/cases/{code}", get(case_page))
        .route("/cases/{code}/{action}", post(form_action))
        .route("/cases/{code}/documents/{n}", get(download))
        .route("/cases/{code}/documents/{n}/pages/{p}", get(preview))
}

/// What every desk page's layout needs.
pub fn base(desk: &Desk, caller: &Caller, title: &str) -> Value {
    let u = &caller.user;
    context! {
        title => title,
        office_name => &desk.cfg.office.name,
        csrf => caller.csrf(),
        me => context! {
            username => &u.username,
            name => &u.name,
            role => u.role.as_str(),
            role_label => u.role.label_id(),
            department => &u.department,
            department_name => u.department.as_deref().and_then(|d| desk.catalogue.department_name(d)),
        },
        nav => context! {
            cases => policy::works_cases(u),
            dashboard => policy::sees_dashboard(u),
            mailroom => policy::works_mailroom(u),
        },
    }
}

fn today(desk: &Desk) -> time::Date {
    local_date(now_ms(), desk.cfg.office.utc_offset_hours)
}

/// How near the deadline is: `overdue`, `soon`, `ok` (or None without a deadline).
fn urgency_of(desk: &Desk, due: Option<&str>, status: &str) -> Option<&'static str> {
    if matches!(status, "approved" | "rejected" | "closed") {
        return None;
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let due = time::Date::parse(due?, &fmt).ok()?;
    Some(match urgency(&desk.calendar, due, today(desk)) {
        Urgency::Overdue => "overdue",
        Urgency::DueSoon => "soon",
        Urgency::OnTime => "ok",
    })
}

fn age_days(received_at: &str) -> i64 {
    time::OffsetDateTime::parse(received_at, &time::format_description::well_known::Rfc3339)
        .map(|t| (time::OffsetDateTime::now_utc() - t).whole_days())
        .unwrap_or(0)
}

#[derive(Serialize)]
struct Row {
    code: String,
    applicant: String,
    subject: String,
    kind_label: &'static str,
    permit_type_name: Option<String>,
    department_name: Option<String>,
    status: String,
    status_label: &'static str,
    age_days: i64,
    received: usize,
    missing: usize,
    due_date: Option<String>,
    urgency: Option<&'static str>,
    assignee: Option<String>,
    snippet: Option<Value>,
    channel: String,
    /// The applicant wrote again since an officer last opened the case.
    news: bool,
}

fn row(desk: &Desk, c: &CaseView, snippet: Option<Value>) -> Row {
    let status = Status::parse(&c.status).unwrap_or(Status::Received);
    Row {
        applicant: c
            .applicant
            .name
            .clone()
            .or_else(|| c.applicant.email.clone())
            .unwrap_or_else(|| "—".into()),
        subject: c.subject.clone().unwrap_or_default(),
        kind_label: Kind::parse(&c.kind).unwrap_or_default().label_id(),
        permit_type_name: c.permit_type_name.clone(),
        department_name: c.department_name.clone(),
        status_label: status_label(status),
        age_days: age_days(&c.received_at),
        received: c.documents.len(),
        missing: c.missing.len(),
        urgency: urgency_of(desk, c.due_date.as_deref(), &c.status),
        due_date: c.due_date.clone(),
        assignee: c.assignee.clone(),
        code: c.tracking_code.clone(),
        status: c.status.clone(),
        channel: c.channel.clone(),
        news: c.news,
        snippet,
    }
}

/// `GET /`: the caller's queue (`?q=` searches).
async fn queue(
    State(desk): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    if !policy::works_cases(&caller.user) {
        return Ok(Redirect::to("/mailroom").into_response());
    }
    let listing = queries::list(&desk, &caller, &p, queries::Want::Page).await?;
    let mask = !policy::sees_identifiers(&caller.user);
    let rows: Vec<Row> = listing
        .cases
        .iter()
        .map(|c| {
            let snippet = listing
                .snippets
                .get(&c.tracking_code)
                .map(|s| Value::from_safe_string(queries::snippet_html(s, mask)));
            row(&desk, c, snippet)
        })
        .collect();
    let counts: Vec<Value> = listing
        .counts
        .iter()
        .map(|(s, n)| {
            let label = Status::parse(s).map(status_label).unwrap_or("?");
            context! { status => s, label => label, count => n }
        })
        .collect();
    let page_no = listing.offset / listing.limit + 1;
    let pages = (listing.total + listing.limit - 1) / listing.limit;
    let cat = &desk.catalogue;
    let permit_types: Vec<Value> = cat
        .permit_types()
        .filter(|(_, _, d)| policy::scope(&caller.user).is_none_or(|s| s.iter().any(|x| x == d)))
        .map(|(id, name, _)| context! { id => id, name => name })
        .collect();
    let statuses: Vec<Value> = Status::ALL
        .into_iter()
        .map(|s| context! { id => s.as_str(), label => status_label(s) })
        .collect();
    let mut base = base(&desk, &caller, "Antrean");
    let scope_name = match (&listing.filter.department, &caller.user.department) {
        (Some(d), _) | (None, Some(d)) => cat.department_name(d).map(String::from),
        _ => None,
    };
    let qs = |page: i64| {
        let mut q = url_params(&p);
        q.retain(|(k, _)| k != "page" && k != "offset");
        q.push(("page".into(), page.to_string()));
        encode_query(&q)
    };
    let ctx = context! {
        rows => rows,
        counts => counts,
        total => listing.total,
        page => page_no,
        pages => pages,
        prev_href => (page_no > 1).then(|| qs(page_no - 1)),
        next_href => (page_no < pages).then(|| qs(page_no + 1)),
        q => p.q,
        f => context! {
            status => p.status, kind => p.kind, permit_type => p.permit_type,
            assignee => p.assignee, triage => listing.filter.triage, show => p.show,
            department => p.department,
        },
        permit_types => permit_types,
        statuses => statuses,
        kinds => kinds(),
        departments => departments(&desk, &caller),
        scope_name => scope_name,
        triage_view => listing.filter.triage,
        searching => listing.filter.ids.is_some(),
    };
    base = Value::from_iter(merge_values(base, ctx));
    Ok(page("queue.html", base)?.into_response())
}

fn kinds() -> Vec<Value> {
    [
        Kind::Application,
        Kind::Complaint,
        Kind::Consultation,
        Kind::Other,
    ]
    .into_iter()
    .map(|k| context! { id => k.as_str(), label => k.label_id() })
    .collect()
}

fn departments(desk: &Desk, caller: &Caller) -> Vec<Value> {
    departments_within(desk, policy::scope(&caller.user))
}

/// The departments of the rules (for routing: every one), optionally within a scope.
fn departments_within(desk: &Desk, scope: Option<Vec<String>>) -> Vec<Value> {
    let mut seen = Vec::new();
    for (_, _, d) in desk.catalogue.permit_types() {
        if !seen.contains(&d.to_string()) {
            seen.push(d.to_string());
        }
    }
    for id in desk.catalogue.department_ids() {
        if !seen.contains(&id.to_string()) {
            seen.push(id.to_string());
        }
    }
    seen.into_iter()
        .filter(|d| scope.as_ref().is_none_or(|s| s.contains(d)))
        .map(|d| {
            let name = desk.catalogue.department_name(&d).unwrap_or(&d).to_string();
            context! { id => d, name => name }
        })
        .collect()
}

/// Merge two maps of template values (later wins).
pub fn merge_values(a: Value, b: Value) -> Vec<(String, Value)> {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    for v in [a, b] {
        if let Ok(keys) = v.try_iter() {
            for k in keys {
                if let (Some(name), Ok(val)) = (k.as_str(), v.get_item(&k)) {
                    out.insert(name.to_string(), val);
                }
            }
        }
    }
    out.into_iter().collect()
}

fn url_params(p: &ListParams) -> Vec<(String, String)> {
    let mut q = Vec::new();
    let mut add = |k: &str, v: &Option<String>| {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            q.push((k.to_string(), v.to_string()));
        }
    };
    add("q", &p.q);
    add("status", &p.status);
    add("kind", &p.kind);
    add("permit_type", &p.permit_type);
    add("assignee", &p.assignee);
    add("department", &p.department);
    add("triage", &p.triage);
    add("show", &p.show);
    q
}

fn encode_query(q: &[(String, String)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let parts: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    format!("/?{}", parts.join("&"))
}

#[derive(Debug, Deserialize)]
struct CaseQuery {
    /// A canned reply to start the reply box from.
    reply: Option<String>,
    /// What the last action did (shown once).
    done: Option<String>,
}

/// `GET /cases/CODE`: everything about a case, with its forms.
async fn case_page(
    State(desk): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(code): Path<String>,
    Query(cq): Query<CaseQuery>,
) -> Result<Response, PageError> {
    let (case, view) = queries::show_with_ref(&desk, &caller, &code).await?;
    log_view(&desk, &caller, &view.tracking_code, "page").await?;
    let mask = !policy::sees_identifiers(&caller.user);
    let cat = &desk.catalogue;
    let thread = desk.store.thread(case.id).await?;
    let audit = if policy::sees_audit(&caller.user) {
        Some(desk.store.access_log(case.id).await?)
    } else {
        None
    };
    let details = view.details.clone();
    let decision = details.as_ref().and_then(|d| d.decision.clone());
    let identifiers: Vec<Value> = decision
        .as_ref()
        .and_then(|d| d.get("identifiers"))
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|i| {
                    let kind = i.get("kind").and_then(|v| v.as_str()).unwrap_or("");
                    let value = i.get("value").and_then(|v| v.as_str()).unwrap_or("");
                    let shown = if mask {
                        mask_nik(value)
                    } else {
                        value.to_string()
                    };
                    context! { kind => kind, value => shown }
                })
                .collect()
        })
        .unwrap_or_default();
    let reasons: Vec<Value> = decision
        .as_ref()
        .and_then(|d| d.get("reasons"))
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|r| {
                    let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    let snippet = if mask {
                        mask_nik(&s("snippet"))
                    } else {
                        s("snippet")
                    };
                    context! { rule => s("rule"), field => s("field"), snippet => snippet,
                    weight => r.get("weight").and_then(|v| v.as_f64()).unwrap_or(0.0) }
                })
                .collect()
        })
        .unwrap_or_default();
    let documents: Vec<Value> = view
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let text = d.text.clone().unwrap_or_default();
            let pages: Vec<Value> = text
                .split('\u{c}')
                .enumerate()
                .map(|(p, t)| {
                    let handwritten = d.handwritten_pages.contains(&(p as u32 + 1));
                    context! { number => p + 1, index => p, text => t, handwritten => handwritten }
                })
                .collect();
            context! {
                index => i,
                filename => &d.filename,
                content_type => &d.content_type,
                size => d.size,
                doc_type => &d.doc_type,
                doc_type_name => d.doc_type.as_deref().and_then(|t| cat.document_type_name(t)),
                error => &d.error,
                pages => pages,
                previewable => d.content_type.starts_with("image/") || d.content_type == "application/pdf",
            }
        })
        .collect();
    let requirements: Vec<Value> = view
        .requirements
        .iter()
        .map(|r| {
            let by: Vec<String> = view
                .documents
                .iter()
                .filter(|d| {
                    d.doc_type
                        .as_deref()
                        .is_some_and(|t| cat.requirement_doc_types(&r.id).iter().any(|x| x == t))
                })
                .map(|d| d.filename.clone())
                .collect();
            context! { id => &r.id, name => &r.name, required => r.required,
            satisfied => r.satisfied, by => by,
            missing => view.missing.contains(&r.id) }
        })
        .collect();
    let reply_text = match cq.reply.as_deref() {
        Some(id) => desk
            .templates
            .render_reply(id, &reply_context(&desk, &view))
            .transpose()
            .map_err(|e| DeskError::Internal(crate::pipeline::error_chain(&e)))?,
        None => None,
    };
    // The history came with the case (already masked for officers).
    let history = view.history.clone().unwrap_or_default();
    let thread: Vec<Value> = thread
        .into_iter()
        .map(|t| {
            let body = t.body.map(|b| if mask { mask_nik(&b) } else { b });
            // What the applicant wrote this time; quoted history and signature stay one
            // click away.
            let (body, full) = match (t.direction, body) {
                ("in", Some(b)) => {
                    let parts = crate::extract::reply::split_with_subject(t.subject.as_deref(), &b);
                    let full = (parts.new_text != b.trim()).then_some(b);
                    (Some(parts.new_text), full)
                }
                (_, b) => (b, None),
            };
            context! { at => t.at, direction => t.direction, who => t.who, subject => t.subject,
            body => body, full => full, state => t.state, purpose => t.purpose }
        })
        .collect();
    let status = Status::parse(&view.status).unwrap_or(Status::Received);
    let statuses: Vec<Value> = policy::settable_statuses(&caller.user)
        .into_iter()
        .map(|s| context! { id => s.as_str(), label => status_label(s) })
        .collect();
    let all_requirements: Vec<Value> = match &view.permit_type {
        Some(_) => view
            .requirements
            .iter()
            .map(|r| context! { id => &r.id, name => &r.name, missing => view.missing.contains(&r.id) })
            .collect(),
        None => Vec::new(),
    };
    let permit_types: Vec<Value> = cat
        .permit_types()
        .map(|(id, name, dept)| context! { id => id, name => name, department => dept })
        .collect();
    let doc_types: Vec<Value> = cat
        .document_types()
        .map(|(id, name)| context! { id => id, name => name })
        .collect();
    let assignees = desk.store.usernames_of(view.department.as_deref()).await?;
    let body = details
        .as_ref()
        .and_then(|d| d.body.clone())
        .map(|b| crate::extract::reply::split_with_subject(view.subject.as_deref(), &b).new_text);
    if policy::works_cases(&caller.user) {
        // An officer has looked: the case's news is seen.
        desk.store.news_seen(case.id).await?;
    }
    let ctx = context! {
        case => &view,
        status_label => status_label(status),
        kind_label => Kind::parse(&view.kind).unwrap_or_default().label_id(),
        urgency => urgency_of(&desk, view.due_date.as_deref(), &view.status),
        body => body,
        error => details.as_ref().and_then(|d| d.error.clone()),
        no_reply => details.as_ref().and_then(|d| d.no_reply.clone()),
        triage => details.as_ref().map(|d| d.triage),
        confidence => details.as_ref().and_then(|d| d.confidence),
        identifiers => identifiers,
        reasons => reasons,
        documents => documents,
        requirements => requirements,
        thread => thread,
        history => history,
        audit => audit,
        statuses => statuses,
        request_options => all_requirements,
        permit_types => permit_types,
        departments => departments_within(&desk, None),
        kinds => kinds(),
        doc_types => doc_types,
        assignees => assignees,
        replies => desk.templates.replies(),
        reply_text => reply_text,
        done => cq.done,
        status_url => desk.cfg.status_url_for(&view.tracking_code),
    };
    let title = format!("Berkas {}", view.tracking_code);
    let ctx = Value::from_iter(merge_values(base(&desk, &caller, &title), ctx));
    Ok(page("case.html", ctx)?.into_response())
}

/// Values a canned reply may use.
fn reply_context(desk: &Desk, v: &CaseView) -> serde_json::Value {
    let missing: Vec<String> = v
        .requirements
        .iter()
        .filter(|r| v.missing.contains(&r.id))
        .map(|r| r.name.clone())
        .collect();
    json!({
        "tracking_code": v.tracking_code,
        "applicant_name": v.applicant.name,
        "permit_type_name": v.permit_type_name,
        "status_label": Status::parse(&v.status).map(status_label),
        "missing": missing.join(", "),
        "status_url": desk.cfg.status_url_for(&v.tracking_code),
        "office_name": desk.cfg.office.name,
    })
}

/// `POST /cases/CODE/ACTION` from the case page's forms: the same actions as the API, then
/// back to the case page.
async fn form_action(
    State(desk): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((code, action)): Path<(String, String)>,
    raw: Bytes,
) -> Result<Response, PageError> {
    let pairs: Vec<(String, String)> = serde_html_form::from_bytes(&raw)
        .map_err(|e| DeskError::Invalid(format!("formulir tidak sah: {e}")))?;
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.as_str());
    caller.check_csrf(csrf)?;
    let body = form_to_json(&pairs);
    let raw = serde_json::to_vec(&body).map_err(|e| DeskError::Internal(e.to_string()))?;
    let done = dispatch(&desk, &caller, &code, &action, &raw).await?;
    Ok(Redirect::to(&format!("/cases/{done}?done={action}")).into_response())
}

/// Form fields as the JSON the API takes: `requirements` repeated into a list, `satisfied` and
/// `document` typed, empty fields left out.
fn form_to_json(pairs: &[(String, String)]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    let mut requirements = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "csrf_token" => {}
            "requirements" => requirements.push(json!(v)),
            "satisfied" => {
                let b = match v.as_str() {
                    "true" | "1" | "ya" => json!(true),
                    "false" | "0" | "tidak" => json!(false),
                    _ => serde_json::Value::Null,
                };
                map.insert(k.clone(), b);
            }
            "document" => {
                map.insert(k.clone(), json!(v.parse::<usize>().unwrap_or(usize::MAX)));
            }
            _ if v.trim().is_empty() => {
                map.insert(k.clone(), serde_json::Value::Null);
            }
            _ => {
                map.insert(k.clone(), json!(v));
            }
        }
    }
    if !requirements.is_empty() || pairs.iter().any(|(k, _)| k == "requirements") {
        map.insert("requirements".into(), json!(requirements));
    } else if !map.contains_key("requirements") {
        map.insert("requirements".into(), json!([]));
    }
    serde_json::Value::Object(map)
}

/// The n-th document of a case the caller may see, with its bytes; the read is recorded in the
/// access log as `action` (download or preview).
async fn read_document(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    n: i64,
    action: &str,
) -> Result<(repo::DocumentFile, Vec<u8>), DeskError> {
    let case = actions::visible_case(desk, caller, code).await?;
    let mut conn = desk.store.conn().await?;
    let doc = repo::document_at(&mut conn, case.id, n)
        .await?
        .ok_or(DeskError::NotFound)?;
    let data = desk
        .blobs
        .get(&doc.sha256)
        .await
        .map_err(|e| DeskError::Internal(crate::pipeline::error_chain(&e)))?;
    repo::log_access(
        &mut conn,
        case.id,
        caller.username(),
        action,
        Some(doc.id),
        &caller.client,
    )
    .await?;
    Ok((doc, data))
}

/// `GET /cases/CODE/documents/N`: the file itself, always as a download (never rendered by the
/// browser: `attachment` and `nosniff`), recorded in the access log.
async fn download(
    State(desk): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((code, n)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let (doc, data) = read_document(&desk, &caller, &code, n, "download").await?;
    let mut r = data.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(&doc.filename))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

/// `attachment` with an ASCII fallback name and the RFC 5987 UTF-8 name.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Preview images are made this wide at most.
const PREVIEW_WIDTH: u32 = 900;

/// `GET /cases/CODE/documents/N/pages/P`: a PNG of one page, made by loket from the document
/// (so whatever the applicant sent, the browser only ever gets loket's own PNG).
async fn preview(
    State(desk): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((code, n, p)): Path<(String, i64, usize)>,
) -> Result<Response, PageError> {
    let (doc, data) = read_document(&desk, &caller, &code, n, "preview").await?;
    let content_type = doc.content_type.clone();
    let png = tokio::task::spawn_blocking(move || page_png(&data, &content_type, p))
        .await
        .map_err(|e| DeskError::Internal(format!("preview: {e}")))?
        .ok_or(DeskError::NotFound)?;
    let mut r = png.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(r)
}

fn page_png(data: &[u8], content_type: &str, page: usize) -> Option<Vec<u8>> {
    use crate::extract::ocr::{page_images, pdf_page_image, RasterLimits};
    let limits = RasterLimits::default();
    let img = if content_type == "application/pdf" {
        pdf_page_image(data, page, &limits).ok()?.image
    } else if content_type.starts_with("image/") {
        page_images(data, content_type, &limits)
            .ok()?
            .into_iter()
            .nth(page)?
            .image
    } else {
        return None;
    };
    let img = if img.width() > PREVIEW_WIDTH {
        let h = (img.height() as u64 * PREVIEW_WIDTH as u64 / img.width() as u64) as u32;
        image::imageops::resize(
            &img,
            PREVIEW_WIDTH,
            h.max(1),
            image::imageops::FilterType::Triangle,
        )
    } else {
        img
    };
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

/// Answer for the HTML pages of a missing route.
pub async fn not_found() -> impl IntoResponse {
    (
        axum::http::StatusCode::NOT_FOUND,
        super::render::error_page(
            axum::http::StatusCode::NOT_FOUND,
            "Halaman tidak ditemukan.",
        ),
    )
}
