//! Reading cases for the desk: the caller's scope applied to every list, search with
//! highlighted snippets, identifiers masked for officers.

use std::collections::HashMap;

use serde::Deserialize;

use super::auth::Caller;
use super::error::DeskError;
use super::policy;
use super::render::mask_nik;
use super::state::Desk;
use crate::domain::Role;
use crate::filing::search::{SearchQuery, Snippet};
use crate::filing::views::{CaseFilter, CaseView};
use crate::filing::CaseId;

/// Query parameters of `GET /` and `GET /api/cases`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    pub department: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub permit_type: Option<String>,
    /// A username, or `me`.
    pub assignee: Option<String>,
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// `1`: only cases waiting for triage (the triage desk's default).
    pub triage: Option<String>,
    /// `all` also shows approved, rejected and closed cases.
    pub show: Option<String>,
    pub page: Option<i64>,
}

/// Default and largest page sizes (SPEC: limit defaults to 50, at most 1000).
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 1000;

/// Most search hits considered before the queue's other filters narrow them.
const SEARCH_WINDOW: i64 = 1000;

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// One page of a list, with what the queue page shows beside it.
pub struct Listing {
    pub cases: Vec<CaseView>,
    pub total: i64,
    /// Cases per status in the page's scope (the queue's tabs); empty for search results.
    pub counts: Vec<(String, i64)>,
    pub snippets: HashMap<String, Snippet>,
    pub filter: CaseFilter,
    pub limit: i64,
    pub offset: i64,
}

/// The filter a caller's request means, within what the caller may see. Asking for another
/// department than one's own is refused (403), not silently narrowed.
pub fn filter_for(
    caller: &Caller,
    p: &ListParams,
    html_defaults: bool,
) -> Result<CaseFilter, DeskError> {
    let user = &caller.user;
    if !policy::works_cases(user) {
        return Err(DeskError::Forbidden);
    }
    let department = nonempty(&p.department);
    if let (Some(d), Some(scope)) = (&department, policy::scope(user)) {
        if !scope.contains(d) {
            return Err(DeskError::Forbidden);
        }
    }
    let assignee = nonempty(&p.assignee).map(|a| if a == "me" { user.username.clone() } else { a });
    let status = nonempty(&p.status);
    let triage = match p.triage.as_deref() {
        Some("1") | Some("true") => true,
        Some(_) => false,
        // The triage desk lands on the cases waiting for it.
        None => html_defaults && user.role == Role::Triage && department.is_none(),
    };
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = match (p.offset, p.page) {
        (Some(o), _) => o.max(0),
        (None, Some(page)) => (page.max(1) - 1) * limit,
        _ => 0,
    };
    Ok(CaseFilter {
        department,
        status: status.clone(),
        kind: nonempty(&p.kind),
        permit_type: nonempty(&p.permit_type),
        assignee,
        departments: policy::scope(user),
        triage,
        open: html_defaults && status.is_none() && p.show.as_deref() != Some("all"),
        limit: Some(limit),
        offset: Some(offset),
        ids: None,
    })
}

/// What a list request wants besides the cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// `GET /api/cases`: the cases only.
    Cases,
    /// The queue page: also the total and the counts per status.
    Page,
}

/// The cases of a list request (searching when `q` is given), with the total and the counts
/// per status when the page wants them (one GROUP BY gives both).
pub async fn list(
    desk: &Desk,
    caller: &Caller,
    p: &ListParams,
    want: Want,
) -> Result<Listing, DeskError> {
    let html = want == Want::Page;
    let mut filter = filter_for(caller, p, html)?;
    let limit = filter.limit.unwrap_or(DEFAULT_LIMIT);
    let offset = filter.offset.unwrap_or(0);
    let mut snippets = HashMap::new();
    let mut total = None;
    if let Some(q) = nonempty(&p.q) {
        // Search results are everything that matches, open or not.
        filter.open = false;
        filter.triage = filter.triage && p.triage.is_some();
        // Filters the search itself can't apply are applied to a window of its best hits.
        let narrowed_after = filter.assignee.is_some() || filter.triage;
        let mut query = SearchQuery {
            text: q,
            departments: filter
                .departments
                .clone()
                .or_else(|| filter.department.clone().map(|d| vec![d])),
            status: filter.status.clone(),
            kind: filter.kind.clone(),
            permit_type: filter.permit_type.clone(),
            limit: SEARCH_WINDOW,
            offset: 0,
        };
        if !narrowed_after {
            query.limit = limit;
            query.offset = offset;
            if html {
                total = Some(desk.store.count_search(&query).await?);
            }
            filter.offset = Some(0);
        }
        let hits = desk.store.search_cases(&query).await?;
        let ids: Vec<CaseId> = hits.iter().map(|h| h.case_id).collect();
        for h in hits {
            snippets.insert(h.tracking_code, h.snippet);
        }
        filter.ids = Some(ids);
    }
    let mut cases = desk.store.list_cases(&filter).await?;
    if !policy::sees_identifiers(&caller.user) {
        cases.iter_mut().for_each(mask_view);
    }
    let counts = if html && filter.ids.is_none() {
        desk.store.count_by_status(&filter).await?
    } else {
        Vec::new()
    };
    let total = match total {
        Some(t) => t,
        None if !html => cases.len() as i64,
        None if filter.ids.is_some() => desk.store.count_cases(&filter).await?,
        // The counts per status cover the filter but for its status: add up the ones it keeps.
        None => counts
            .iter()
            .filter(|(s, _)| match &filter.status {
                Some(want) => s == want,
                None => !filter.open || !matches!(s.as_str(), "approved" | "rejected" | "closed"),
            })
            .map(|(_, n)| n)
            .sum(),
    };
    Ok(Listing {
        cases,
        total,
        counts,
        snippets,
        filter,
        limit,
        offset,
    })
}

/// One case as `cases show --json`, for a caller who may see it.
pub async fn show(desk: &Desk, caller: &Caller, code: &str) -> Result<CaseView, DeskError> {
    Ok(show_with_ref(desk, caller, code).await?.1)
}

/// [`show`], with the case as actions see it (one access check for the case page).
pub async fn show_with_ref(
    desk: &Desk,
    caller: &Caller,
    code: &str,
) -> Result<(crate::filing::desk::CaseRef, CaseView), DeskError> {
    let case = super::actions::visible_case(desk, caller, code).await?;
    let mut view = desk
        .store
        .show_case(&case.code)
        .await?
        .ok_or(DeskError::NotFound)?;
    if !policy::sees_identifiers(&caller.user) {
        mask_view(&mut view);
    }
    Ok((case, view))
}

/// Officers see identifiers masked: NIKs in document text, the body and the decision.
pub fn mask_view(v: &mut CaseView) {
    for d in &mut v.documents {
        if let Some(t) = &mut d.text {
            *t = mask_nik(t);
        }
    }
    v.subject = v.subject.as_deref().map(mask_nik);
    for e in v.history.iter_mut().flatten() {
        e.detail = mask_nik(&e.detail);
    }
    if let Some(det) = &mut v.details {
        det.body = det.body.as_deref().map(mask_nik);
        if let Some(dec) = &mut det.decision {
            mask_json(dec);
        }
    }
}

fn mask_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => *s = mask_nik(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(mask_json),
        serde_json::Value::Object(o) => o.values_mut().for_each(mask_json),
        _ => {}
    }
}

/// A snippet as HTML: every part escaped (and masked for officers) first, then hits marked.
pub fn snippet_html(s: &Snippet, mask: bool) -> String {
    let mut out = String::new();
    for part in &s.parts {
        let text = if mask {
            mask_nik(&part.text)
        } else {
            part.text.clone()
        };
        let escaped = escape_html(&text);
        if part.hit {
            out.push_str("<mark>");
            out.push_str(&escaped);
            out.push_str("</mark>");
        } else {
            out.push_str(&escaped);
        }
    }
    out
}

/// HTML-escape text (the same characters minijinja escapes).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filing::search::SnippetPart;

    #[test]
    fn snippets_escape_first_then_mark() {
        let s = Snippet {
            parts: vec![
                SnippetPart {
                    text: "<script>alert(1)</script> NIK 3514061203850002 ".into(),
                    hit: false,
                },
                SnippetPart {
                    text: "<b>bangunan</b>".into(),
                    hit: true,
                },
            ],
        };
        let html = snippet_html(&s, true);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            html.contains("<mark>&lt;b&gt;bangunan&lt;&#x2f;b&gt;</mark>"),
            "{html}"
        );
        assert!(html.contains("351406********02"), "{html}");
        assert!(snippet_html(&s, false).contains("3514061203850002"));
    }
}
