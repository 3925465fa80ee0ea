//! Notice step and daily digests: departments hear of the new cases in their queue.
//!
//! A case routed to a department has a `notice` job ([`crate::filing::notices::case_routed`]).
//! The step mails it on its own (`notify.department_notices = "each"`, an outbox mail sent by a
//! `send` job), leaves it for the digest (`"digest"`), or records why it is not announced
//! (`"off"`, no usable address, or an address loket itself watches or sends from: such mail
//! would come straight back in). [`make_due_digests`] runs in `loket run`: once the office day
//! has reached `notify.digest_time`, it makes each department's digest of that day, exactly
//! once across all workers (a unique key), listing every case not announced yet.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use tracing::{info, warn};

use super::{Context, JobError};
use crate::classify::Catalogue;
use crate::config::{Config, DepartmentNotices};
use crate::domain::Kind;
use crate::filing::jobs::{enqueue, JobTarget};
use crate::filing::notices::{self, DigestMail, NoticeCase, Outcome};
use crate::filing::outbox::{self, NewOutbox};
use crate::filing::{now_ms, Job, NoticeId};
use crate::notify::notices::{render, NoticeContext, NoticeItem};

/// The desk's address for links in notices (`web.base_url`), if the office set one.
fn desk_base_url(cfg: &Config) -> Option<String> {
    cfg.desk_url("")
}

pub async fn run(ctx: &Context, job: &Job, id: NoticeId) -> Result<(), JobError> {
    let mut conn = ctx.store.conn().await?;
    let notice = notices::notice(&mut conn, id).await?;
    drop(conn);
    let mut tx = ctx.store.begin_step(&job.lease).await?;
    if notice.state == "new" {
        let catalogue = ctx.catalogue();
        let outcome = match ctx.cfg.notify.department_notices {
            DepartmentNotices::Off => Err("notify.department_notices is off".to_string()),
            mode => address(ctx, &catalogue, &notice.department).map(|to| (mode, to)),
        };
        match outcome {
            Err(why) => {
                notices::settle(&mut tx, id, Outcome::Skipped(&why)).await?;
            }
            Ok((DepartmentNotices::Each, (to, name))) => {
                mail_one(ctx, &mut tx, &catalogue, &notice, &to, &name).await?;
            }
            Ok(_) => {
                notices::settle(&mut tx, id, Outcome::Waiting).await?;
            }
        }
    }
    tx.commit().await?;
    ctx.wake.notify_waiters();
    Ok(())
}

/// The notice about one case, written to the outbox (sent by a `send` job).
async fn mail_one(
    ctx: &Context,
    conn: &mut crate::filing::Conn,
    catalogue: &Catalogue,
    notice: &NoticeCase,
    to: &str,
    department_name: &str,
) -> Result<(), JobError> {
    let context = NoticeContext {
        office_name: ctx.cfg.office.name.clone(),
        department_name: department_name.to_string(),
        digest: false,
        day: String::new(),
        cases: vec![item(&ctx.cfg, catalogue, notice)],
    };
    let (subject, body) = render(&ctx.templates, &context)?;
    let purpose = format!("notice:{}", notice.department);
    let message_id = format!(
        "notice.{}.{}@{}",
        notice.tracking_code.to_lowercase(),
        notice.department,
        mail_domain(ctx)
    );
    let mail = NewOutbox {
        case_id: Some(notice.case_id),
        purpose: &purpose,
        to_addr: to,
        subject: &subject,
        body: &body,
        message_id: &message_id,
        in_reply_to: None,
        references: "",
    };
    let outbox_id = outbox::insert(conn, &mail).await?;
    if let Some(outbox_id) = outbox_id {
        enqueue(conn, JobTarget::Send(outbox_id)).await?;
        notices::settle(conn, notice.notice, Outcome::Mailed(outbox_id)).await?;
    } else {
        let why = "a notice to this department was written before";
        notices::settle(conn, notice.notice, Outcome::Skipped(why)).await?;
    }
    info!(case = %notice.tracking_code, department = %notice.department, "department notice written");
    Ok(())
}

/// The domain of loket's own Message-IDs (the sender's).
fn mail_domain(ctx: &Context) -> String {
    ctx.mailer
        .as_ref()
        .map(|m| m.from_address().email.domain().to_string())
        .unwrap_or_else(|| "loket.invalid".into())
}

fn item(cfg: &Config, catalogue: &Catalogue, n: &NoticeCase) -> NoticeItem {
    let kind = Kind::parse(&n.kind).unwrap_or_default();
    NoticeItem {
        tracking_code: n.tracking_code.clone(),
        kind_label: kind.label_id().to_string(),
        permit_type_name: n
            .permit_type
            .as_deref()
            .and_then(|p| catalogue.permit_type_name(p))
            .map(String::from),
        subject: NoticeItem::plain_subject(n.subject.as_deref()),
        received_at: cfg.office.local_time(n.received_at),
        url: NoticeItem::desk_url(desk_base_url(cfg).as_deref(), &n.tracking_code),
    }
}

/// The department's address and name, or why notices can't go there.
fn address(
    ctx: &Context,
    catalogue: &Catalogue,
    department: &str,
) -> Result<(String, String), String> {
    let d = catalogue
        .department(department)
        .ok_or_else(|| format!("department {department} is not in the rules"))?;
    let email = d.email.trim();
    if email.parse::<lettre::Address>().is_err() {
        return Err(format!("department {department} has no usable email"));
    }
    if is_own_address(&ctx.cfg, email) {
        warn_own_address_once(department, email);
        return Err(format!(
            "{email} is an address loket itself watches or sends from"
        ));
    }
    Ok((email.to_string(), d.name.clone()))
}

/// Does loket watch this address, or send from it? Mail to it would come back in.
pub fn is_own_address(cfg: &Config, email: &str) -> bool {
    cfg.office_addresses()
        .contains(&email.trim().to_lowercase())
}

/// Said once per process and department, not for every case.
fn warn_own_address_once(department: &str, email: &str) {
    static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut warned = match WARNED.get_or_init(Default::default).lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if warned.insert(department.to_string()) {
        warn!(%department, %email,
            "department notices are not sent: the department's email is an address loket itself watches or sends from (fix rules/departments.toml)");
    }
}

/// The office's day (`YYYY-MM-DD`) and the minutes since its midnight, at `ms`.
fn office_day(cfg: &Config, ms: i64) -> (String, u32) {
    let offset = time::UtcOffset::from_hms(cfg.office.utc_offset_hours, 0, 0)
        .unwrap_or(time::UtcOffset::UTC);
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    let day = format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day());
    (day, u32::from(t.hour()) * 60 + u32::from(t.minute()))
}

/// Make today's digests that are due and not made yet; returns how many will be sent. Every
/// department gets its day's row, also without new cases (then nothing is sent), so a case
/// that arrives after the digest time waits for the next day's digest.
pub async fn make_due_digests(ctx: &Context) -> Result<usize, JobError> {
    let notify = &ctx.cfg.notify;
    let Some(at) = notify.digest_minutes() else {
        return Ok(0);
    };
    if notify.department_notices != DepartmentNotices::Digest {
        return Ok(0);
    }
    let now = now_ms();
    let (day, minute) = office_day(&ctx.cfg, now);
    if minute < at {
        return Ok(0);
    }
    let catalogue = ctx.catalogue();
    let mut conn = ctx.store.conn().await?;
    let made = notices::digests_made(&mut conn, &day).await?;
    let mut departments: Vec<String> = catalogue.departments().map(|d| d.id.clone()).collect();
    departments.extend(notices::waiting_departments(&mut conn).await?);
    drop(conn);
    departments.sort();
    departments.dedup();
    departments.retain(|d| !made.contains(d));
    let mut sent = 0;
    for department in &departments {
        sent += make_digest(ctx, &catalogue, department, &day, now).await? as usize;
    }
    if sent > 0 {
        ctx.wake.notify_waiters();
    }
    Ok(sent)
}

/// One department's digest of `day`; true when it has a mail to send. Another worker making it
/// at the same moment makes this one a no-op (the unique key).
async fn make_digest(
    ctx: &Context,
    catalogue: &Catalogue,
    department: &str,
    day: &str,
    now: i64,
) -> Result<bool, JobError> {
    let mut tx = ctx.store.begin_write().await?;
    let Some((id, cases)) = notices::open_digest(&mut tx, department, day).await? else {
        return Ok(false);
    };
    let rendered = if cases.is_empty() {
        Err("no new cases".to_string())
    } else {
        address(ctx, catalogue, department)
    };
    let sending = rendered.is_ok();
    match rendered {
        Ok((to, name)) => {
            let context = NoticeContext {
                office_name: ctx.cfg.office.name.clone(),
                department_name: name,
                digest: true,
                day: crate::printing::tanggal(&ctx.cfg, now),
                cases: cases.iter().map(|n| item(&ctx.cfg, catalogue, n)).collect(),
            };
            let (subject, body) = render(&ctx.templates, &context)?;
            let message_id = format!("digest.{department}.{day}.{id}@{}", mail_domain(ctx));
            let mail = DigestMail {
                to_addr: &to,
                subject: &subject,
                body: &body,
                message_id: &message_id,
            };
            notices::fill_digest(&mut tx, id, cases.len(), Ok(mail)).await?;
        }
        Err(why) => notices::fill_digest(&mut tx, id, cases.len(), Err(&why)).await?,
    }
    crate::filing::store::commit(tx).await?;
    if !cases.is_empty() {
        info!(%department, %day, cases = cases.len(), sending, "daily digest made");
    }
    Ok(sending)
}
