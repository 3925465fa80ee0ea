//! What officers do to a case, shared by the HTML forms and the JSON API.
//!
//! Each action checks the caller may do it, then writes its effects in one transaction: the
//! change, a history event naming the officer, and the mail to the applicant (an outbox row
//! with a `send` job, sent by `loket run`) or, for postal applicants and undeliverable
//! addresses, a letter queued for `loket letters`. The event's id keys the mail, so a repeated
//! request can't send it twice.

use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::error::DeskError;
use super::policy;
use super::state::Desk;
use crate::classify::Overrides;
use crate::domain::status_words::{next_step, status_label};
use crate::domain::{Channel, Kind, Status, TrackingCode};
use crate::filing::desk::{self as repo, CaseRef, Example};
use crate::filing::jobs::enqueue;
use crate::filing::outbox::{self, NewOutbox};
use crate::filing::store::commit;
use crate::filing::{notices, Conn, JobTarget};

#[derive(Debug, Deserialize)]
pub struct StatusInput {
    pub status: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ReplyInput {
    pub text: String,
}

#[derive(Debug, Deserialize)]
pub struct RequestInput {
    #[serde(default)]
    pub requirements: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct ClassifyInput {
    #[serde(default)]
    pub permit_type: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AssignInput {
    /// Username; null or empty to unassign.
    #[serde(default)]
    pub user: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NoteInput {
    pub text: String,
}

#[derive(Debug, Deserialize)]
pub struct MergeInput {
    /// The tracking code of the case this one duplicates.
    pub into: String,
}

#[derive(Debug, Deserialize)]
pub struct RequirementInput {
    pub requirement: String,
    /// true: satisfied, false: not satisfied, null: as the documents show.
    pub satisfied: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct DocTypeInput {
    /// 0-based position of the document in the case.
    pub document: usize,
    /// Document type id; null or empty: as loket reads it.
    pub doc_type: Option<String>,
}

/// Longest note or reply accepted (characters).
const MAX_TEXT: usize = 20_000;

fn text_ok(t: &str, what: &str) -> Result<String, DeskError> {
    let t = t.trim();
    if t.is_empty() {
        return Err(DeskError::Invalid(format!("{what} kosong (empty)")));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(DeskError::Invalid(format!(
            "{what} terlalu panjang (max {MAX_TEXT})"
        )));
    }
    Ok(t.to_string())
}

fn note_ok(n: &Option<String>) -> Result<Option<String>, DeskError> {
    match n.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => text_ok(t, "catatan").map(Some),
    }
}

/// The normalised tracking code for any way a person types it; None if it isn't one.
pub fn normal_code(desk: &Desk, input: &str) -> Option<String> {
    TrackingCode::parse_for(&desk.cfg.office.code, input)
        .ok()
        .map(|c| c.to_string())
}

/// The case behind a code, if the caller may see it (403 otherwise, 404 if unknown).
pub async fn visible_case(desk: &Desk, caller: &Caller, code: &str) -> Result<CaseRef, DeskError> {
    if !policy::works_cases(&caller.user) {
        return Err(DeskError::Forbidden);
    }
    let code = normal_code(desk, code).ok_or(DeskError::NotFound)?;
    let mut conn = desk.store.conn().await?;
    let case = repo::case_ref(&mut conn, &code)
        .await?
        .ok_or(DeskError::NotFound)?;
    if !policy::may_see(&caller.user, case.department.as_deref()) {
        return Err(DeskError::Forbidden);
    }
    Ok(case)
}

/// Values every mail template gets.
fn mail_context(desk: &Desk, case: &CaseRef, caller: &Caller) -> serde_json::Value {
    let catalogue = &desk.catalogue;
    let missing: Vec<String> = case
        .missing
        .iter()
        .map(|m| catalogue.requirement_name(m).unwrap_or(m).to_string())
        .collect();
    json!({
        "tracking_code": case.code,
        "applicant_name": case.applicant_name,
        "subject": case.subject,
        "kind": case.kind.as_str(),
        "kind_label": case.kind.label_id(),
        "permit_type_name": case.permit_type.as_deref().and_then(|p| catalogue.permit_type_name(p)),
        "status": case.status.as_str(),
        "status_label": status_label(case.status),
        "missing": missing.join(", "),
        "missing_list": missing,
        "office_name": desk.cfg.office.name,
        "officer_name": caller.user.name.clone().unwrap_or_else(|| caller.user.username.clone()),
        "status_url": desk.cfg.status_url_for(&case.code),
    })
}

/// Can the applicant be written to by email?
fn email_of(case: &CaseRef) -> Option<&str> {
    if case.channel == Channel::Postal && case.applicant_email.is_none() {
        return None;
    }
    if case.no_reply.is_some() {
        return None;
    }
    case.applicant_email.as_deref().filter(|e| e.contains('@'))
}

/// Mail for the applicant, threaded to their last message.
struct Mail {
    purpose: String,
    subject: String,
    body: String,
}

/// Queue a mail to the applicant, or a letter when there is no address to write to. Returns
/// how the applicant is told: `email`, `letter` or `none`.
async fn tell_applicant(
    desk: &Desk,
    conn: &mut Conn,
    case: &CaseRef,
    mail: Mail,
    letter: Option<(&str, &str)>,
) -> Result<&'static str, DeskError> {
    // An address a permanent bounce marked is written to by post when a postal address is known.
    let bounced = crate::filing::conversations::letters_instead(conn, case.id).await?;
    let Some(to) = email_of(case).filter(|_| !bounced) else {
        if let Some((status, note)) = letter {
            // Event ids are unique: the part after `status:`/`reply:`/`request:` keys the letter.
            let key = mail.purpose.rsplit(':').next().unwrap_or(&mail.purpose);
            notices::queue_status_notice(conn, case.id, key, status, note).await?;
            return Ok("letter");
        }
        return Ok("none");
    };
    let anchor = repo::thread_anchor(conn, case.id).await?;
    let domain = desk.cfg.message_id_domain();
    let message_id = format!(
        "{}.{}@{domain}",
        case.code.to_lowercase(),
        mail.purpose.replace(':', "-")
    );
    let references = anchor
        .as_ref()
        .map(|a| {
            let refs = a.references_ids.as_deref().unwrap_or("");
            if refs.contains(&a.message_id) {
                refs.to_string()
            } else {
                format!("{refs} {}", a.message_id).trim().to_string()
            }
        })
        .unwrap_or_default();
    let row = NewOutbox {
        case_id: Some(case.id),
        purpose: &mail.purpose,
        to_addr: to,
        subject: &mail.subject,
        body: &mail.body,
        message_id: &message_id,
        in_reply_to: anchor.as_ref().map(|a| a.message_id.as_str()),
        references: &references,
    };
    if let Some(id) = outbox::insert(conn, &row).await? {
        enqueue(conn, JobTarget::Send(id)).await?;
    }
    Ok("email")
}

fn render(desk: &Desk, name: &str, ctx: &serde_json::Value) -> Result<String, DeskError> {
    desk.templates
        .render(name, ctx)
        .map_err(|e| DeskError::Internal(crate::pipeline::error_chain(&e)))
}

/// Recompute the deadline after a change.
async fn refresh_deadline(desk: &Desk, conn: &mut Conn, case: &CaseRef) -> Result<(), DeskError> {
    crate::pipeline::deadline::refresh(
        conn,
        case.id,
        &desk.catalogue,
        &desk.calendar,
        desk.cfg.office.utc_offset_hours,
    )
    .await?;
    Ok(())
}

/// `status`: put the case in a new status; the applicant is told, the note quoted verbatim.
pub async fn set_status(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    input: &StatusInput,
) -> Result<String, DeskError> {
    let case = visible_case(desk, caller, code).await?;
    let status = Status::parse(input.status.trim())
        .ok_or_else(|| DeskError::Invalid(format!("unknown status {:?}", input.status)))?;
    if !policy::may_set_status(&caller.user, status) {
        return Err(DeskError::Forbidden);
    }
    let note = note_ok(&input.note)?;
    let mut tx = desk.store.begin_write().await?;
    repo::set_status(&mut tx, case.id, status, Some(caller.username())).await?;
    let detail = match &note {
        Some(n) => format!("{} → {}: {n}", case.status, status),
        None => format!("{} → {}", case.status, status),
    };
    let event = repo::add_event_by(
        &mut tx,
        case.id,
        "status_changed",
        &detail,
        Some(caller.username()),
    )
    .await?;
    let told = CaseRef {
        status,
        ..case.clone()
    };
    let mut ctx = mail_context(desk, &told, caller);
    let missing: Vec<String> = ctx["missing_list"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    ctx["purpose"] = json!("status");
    ctx["note"] = json!(note);
    ctx["missing"] = json!(missing);
    ctx["next_step"] = json!(next_step(
        status,
        case.kind,
        &missing,
        &desk.cfg.office.name
    ));
    let mail = Mail {
        purpose: format!("status:{event}"),
        subject: render(desk, "desk_subject.txt", &ctx)?,
        body: render(desk, "status_body.txt", &ctx)?,
    };
    let how = tell_applicant(
        desk,
        &mut tx,
        &told,
        mail,
        Some((status.as_str(), note.as_deref().unwrap_or(""))),
    )
    .await?;
    repo::add_event_by(
        &mut tx,
        case.id,
        "applicant_notified",
        &format!("status {status} by {how}"),
        Some(caller.username()),
    )
    .await?;
    refresh_deadline(desk, &mut tx, &case).await?;
    commit(tx).await?;
    Ok(case.code)
}

/// `reply`: an officer's answer to the applicant, in the case's thread.
pub async fn reply(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    input: &ReplyInput,
) -> Result<String, DeskError> {
    let case = visible_case(desk, caller, code).await?;
    let text = text_ok(&input.text, "balasan")?;
    let mut tx = desk.store.begin_write().await?;
    let event =
        repo::add_event_by(&mut tx, case.id, "reply", &text, Some(caller.username())).await?;
    let mut ctx = mail_context(desk, &case, caller);
    ctx["purpose"] = json!("reply");
    ctx["text"] = json!(text);
    let mail = Mail {
        purpose: format!("reply:{event}"),
        subject: render(desk, "desk_subject.txt", &ctx)?,
        body: render(desk, "reply_body.txt", &ctx)?,
    };
    let how = tell_applicant(
        desk,
        &mut tx,
        &case,
        mail,
        Some((case.status.as_str(), &text)),
    )
    .await?;
    if how == "none" {
        return Err(DeskError::Invalid(
            "pemohon tidak dapat dihubungi: tidak ada alamat email maupun alamat pos (no address)"
                .into(),
        ));
    }
    commit(tx).await?;
    Ok(case.code)
}

/// `request-documents`: ask for these requirements; the case becomes `needs_correction`.
pub async fn request_documents(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    input: &RequestInput,
) -> Result<String, DeskError> {
    let case = visible_case(desk, caller, code).await?;
    if !policy::may_set_status(&caller.user, Status::NeedsCorrection) {
        return Err(DeskError::Forbidden);
    }
    if input.requirements.is_empty() {
        return Err(DeskError::Invalid(
            "pilih minimal satu berkas (requirements is empty)".into(),
        ));
    }
    let mut names = Vec::new();
    for r in &input.requirements {
        let name = desk
            .catalogue
            .requirement_name(r)
            .ok_or_else(|| DeskError::Invalid(format!("unknown requirement {r:?}")))?;
        names.push(name.to_string());
    }
    let note = note_ok(&input.note)?;
    let mut tx = desk.store.begin_write().await?;
    repo::set_status(
        &mut tx,
        case.id,
        Status::NeedsCorrection,
        Some(caller.username()),
    )
    .await?;
    let detail = format!(
        "{}{}",
        input.requirements.join(", "),
        note.as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default()
    );
    let event = repo::add_event_by(
        &mut tx,
        case.id,
        "documents_requested",
        &detail,
        Some(caller.username()),
    )
    .await?;
    let told = CaseRef {
        status: Status::NeedsCorrection,
        ..case.clone()
    };
    let mut ctx = mail_context(desk, &told, caller);
    ctx["purpose"] = json!("request");
    ctx["requested"] = json!(names);
    ctx["note"] = json!(note);
    let mail = Mail {
        purpose: format!("request:{event}"),
        subject: render(desk, "desk_subject.txt", &ctx)?,
        body: render(desk, "request_body.txt", &ctx)?,
    };
    let letter_note = format!(
        "Mohon lengkapi: {}.{}",
        names.join(", "),
        note.as_deref().map(|n| format!(" {n}")).unwrap_or_default()
    );
    tell_applicant(
        desk,
        &mut tx,
        &told,
        mail,
        Some((Status::NeedsCorrection.as_str(), &letter_note)),
    )
    .await?;
    refresh_deadline(desk, &mut tx, &case).await?;
    commit(tx).await?;
    Ok(case.code)
}

fn overrides_of(case: &CaseRef) -> Overrides {
    case.overrides
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default()
}

fn empty_to_none(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// `classify`: an officer's correction of the sorting. The checklist follows at once; each
/// changed field is kept as a labelled example.
pub async fn classify(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    input: &ClassifyInput,
) -> Result<String, DeskError> {
    let case = visible_case(desk, caller, code).await?;
    let cat = &desk.catalogue;
    let permit = empty_to_none(&input.permit_type);
    let mut department = empty_to_none(&input.department);
    let kind = match empty_to_none(&input.kind) {
        Some(k) => {
            Some(Kind::parse(&k).ok_or_else(|| DeskError::Invalid(format!("unknown kind {k:?}")))?)
        }
        None => None,
    };
    if let Some(p) = &permit {
        let permit = cat
            .permit(p)
            .ok_or_else(|| DeskError::Invalid(format!("unknown permit type {p:?}")))?;
        if department.is_none() {
            department = Some(permit.department.clone());
        }
    }
    if let Some(d) = &department {
        if cat.department(d).is_none() {
            return Err(DeskError::Invalid(format!("unknown department {d:?}")));
        }
    }
    if permit.is_none() && department.is_none() && kind.is_none() {
        return Err(DeskError::Invalid(
            "nothing to change: give permit_type, department or kind".into(),
        ));
    }
    let mut ov = overrides_of(&case);
    let mut examples: Vec<(&str, Option<String>, Option<String>)> = Vec::new();
    if let Some(p) = &permit {
        examples.push(("permit_type", case.permit_type.clone(), Some(p.clone())));
        ov.permit_type = Some(p.clone());
    }
    if let Some(d) = &department {
        examples.push(("department", case.department.clone(), Some(d.clone())));
        ov.department = Some(d.clone());
    }
    if let Some(k) = kind {
        examples.push((
            "kind",
            Some(case.kind.as_str().into()),
            Some(k.as_str().into()),
        ));
        ov.kind = Some(k);
    }
    let mut tx = desk.store.begin_write().await?;
    save_and_resort(desk, &mut tx, &case, &ov).await?;
    for (field, old, new) in &examples {
        repo::add_example(
            &mut tx,
            &Example {
                case_id: case.id,
                document_id: None,
                field,
                old_value: old.as_deref(),
                new_value: new.as_deref(),
                actor: caller.username(),
            },
        )
        .await?;
    }
    let detail = examples
        .iter()
        .map(|(f, o, n)| {
            format!(
                "{f}: {} → {}",
                o.as_deref().unwrap_or("-"),
                n.as_deref().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    repo::add_event_by(
        &mut tx,
        case.id,
        "reclassified",
        &detail,
        Some(caller.username()),
    )
    .await?;
    if department.is_some() && department != case.department {
        notices::case_routed(&mut tx, case.id, department.as_deref().unwrap_or("")).await?;
    }
    commit(tx).await?;
    Ok(case.code)
}

/// Keep the corrections and sort the case again with them, now.
async fn save_and_resort(
    desk: &Desk,
    conn: &mut Conn,
    case: &CaseRef,
    ov: &Overrides,
) -> Result<(), DeskError> {
    let json = serde_json::to_string(ov).map_err(|e| DeskError::Internal(e.to_string()))?;
    repo::save_overrides(conn, case.id, &json).await?;
    crate::pipeline::classify::resort(conn, &desk.catalogue, case.id)
        .await
        .map_err(|e| DeskError::Internal(crate::pipeline::error_chain(&e)))?;
    refresh_deadline(desk, conn, case).await
}

/// Mark a requirement satisfied or not by hand (or back to what the documents show).
pub async fn mark_requirement(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    input: &RequirementInput,
) -> Result<String, DeskError> {
    let case = visible_case(desk, caller, code).await?;
    if desk
        .catalogue
        .requirement_name(&input.requirement)
        .is_none()
    {
        return Err(DeskError::Invalid(format!(
            "unknown requirement {:?}",
            input.requirement
        )));
    }
    let mut ov = overrides_of(&case);
    match input.satisfied {
        Some(s) => ov.requirements.insert(input.requirement.clone(), s),
        None => ov.requirements.remove(&input.requirement),
    };
    let mut tx = desk.store.begin_write().await?;
    save_and_resort(desk, &mut tx, &case, &ov).await?;
    let how = match input.satisfied {
        Some(true) => "satisfied",
        Some(false) => "not satisfied",
        None => "as the documents show",
    };
    repo::add_event_by(
        &mut tx,
        case.id,
        "requirement_marked",
        &format!("{}: {how}", input.requirement),
        Some(caller.username()),
    )
    .await?;
    commit(tx).await?;
    Ok(case.code)
}

/// Correct a document's type (the checklist follows; kept as a labelled example).
pub async fn set_doc_type(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    input: &DocTypeInput,
) -> Result<String, DeskError> {
    let case = visible_case(desk, caller, code).await?;
    let new = empty_to_none(&input.doc_type);
    if let Some(t) = &new {
        if desk.catalogue.document_type_name(t).is_none() {
            return Err(DeskError::Invalid(format!("unknown document type {t:?}")));
        }
    }
    let mut tx = desk.store.begin_write().await?;
    let ids = repo::document_ids(&mut tx, case.id).await?;
    let Some(&doc_id) = ids.get(input.document) else {
        return Err(DeskError::Invalid(format!(
            "no document {} in this case",
            input.document
        )));
    };
    let doc = repo::document_at(&mut tx, case.id, input.document as i64).await?;
    let old = doc.as_ref().and_then(|d| d.doc_type.clone());
    let mut ov = overrides_of(&case);
    match &new {
        Some(t) => ov.doc_types.insert(input.document, t.clone()),
        None => ov.doc_types.remove(&input.document),
    };
    save_and_resort(desk, &mut tx, &case, &ov).await?;
    repo::add_example(
        &mut tx,
        &Example {
            case_id: case.id,
            document_id: Some(doc_id),
            field: "doc_type",
            old_value: old.as_deref(),
            new_value: new.as_deref(),
            actor: caller.username(),
        },
    )
    .await?;
    repo::add_event_by(
        &mut tx,
        case.id,
        "document_type_corrected",
        &format!(
            "{}: {}",
            doc.map(|d| d.filename).unwrap_or_default(),
            new.as_deref().unwrap_or("(otomatis)")
        ),
        Some(caller.username()),
    )
    .await?;
    commit(tx).await?;
    Ok(case.code)
}

/// `assign`: give the case to an officer who may see it (or nobody).
pub async fn assign(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    input: &AssignInput,
) -> Result<String, DeskError> {
    let case = visible_case(desk, caller, code).await?;
    let target = empty_to_none(&input.user);
    if let Some(name) = &target {
        let user = desk
            .store
            .user(name)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(|| DeskError::Invalid(format!("unknown user {name:?}")))?;
        if !policy::may_see(&user, case.department.as_deref()) {
            return Err(DeskError::Invalid(format!(
                "{name} cannot see this department's cases"
            )));
        }
    }
    let mut tx = desk.store.begin_write().await?;
    repo::set_assignee(&mut tx, case.id, target.as_deref()).await?;
    repo::add_event_by(
        &mut tx,
        case.id,
        "assigned",
        target.as_deref().unwrap_or("(unassigned)"),
        Some(caller.username()),
    )
    .await?;
    commit(tx).await?;
    Ok(case.code)
}

/// `notes`: an internal note, never sent to the applicant.
pub async fn note(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    input: &NoteInput,
) -> Result<String, DeskError> {
    let case = visible_case(desk, caller, code).await?;
    let text = text_ok(&input.text, "catatan")?;
    let mut tx = desk.store.begin_write().await?;
    repo::add_event_by(&mut tx, case.id, "note", &text, Some(caller.username())).await?;
    commit(tx).await?;
    Ok(case.code)
}

/// `merge`: this case duplicates another; its messages and documents move there, it closes,
/// and the other case is sorted again with everything.
pub async fn merge(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    input: &MergeInput,
) -> Result<String, DeskError> {
    let case = visible_case(desk, caller, code).await?;
    let into = visible_case(desk, caller, &input.into)
        .await
        .map_err(|e| match e {
            DeskError::NotFound => DeskError::Invalid(format!("unknown case {:?}", input.into)),
            e => e,
        })?;
    if into.id == case.id || case.merged_into.is_some() {
        return Err(DeskError::Invalid(
            "a case cannot be merged into itself or twice".into(),
        ));
    }
    let mut tx = desk.store.begin_write().await?;
    repo::merge_into(&mut tx, case.id, into.id).await?;
    repo::set_status(&mut tx, case.id, Status::Closed, Some(caller.username())).await?;
    repo::add_event_by(
        &mut tx,
        case.id,
        "merged",
        &format!("into {}", into.code),
        Some(caller.username()),
    )
    .await?;
    repo::add_event_by(
        &mut tx,
        into.id,
        "merged",
        &format!("from {}", case.code),
        Some(caller.username()),
    )
    .await?;
    crate::pipeline::classify::resort(&mut tx, &desk.catalogue, into.id)
        .await
        .map_err(|e| DeskError::Internal(crate::pipeline::error_chain(&e)))?;
    refresh_deadline(desk, &mut tx, &into).await?;
    commit(tx).await?;
    Ok(into.code)
}
