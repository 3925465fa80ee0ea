//! Conversations by email: where a message belongs in the exchange with an applicant.
//!
//! A message joins a case when it answers mail loket sent about that case (`In-Reply-To`,
//! `References`), or names the case's code and comes from the applicant's address (unless the
//! office's own mail server says that From is forged), or carries exactly the files the same
//! sender sent for a case in the last 30 days. Anything else is a new case; codes of other
//! cases it quotes are recorded as its `mentions`, for triage. Mail that the office's own staff
//! forward into the mailbox is the forwarded applicant's.

use crate::classify::status_question;
use crate::extract::mime::{sender_check, Mailbox, ParsedMessage, SenderCheck};
use crate::filing::{cases, conversations, CaseId, Conn, StoreError};

use super::Context;

/// How long the same files sent again still belong to the case they were first sent for.
const SAME_FILES_DAYS: i64 = 30;

/// Addresses of the office and of its departments (lower-case): mail from them is staff mail.
pub(crate) fn staff_addresses(ctx: &Context) -> Vec<String> {
    let mut out = ctx.cfg.office_addresses();
    out.extend(
        ctx.catalogue()
            .departments()
            .map(|d| d.email.trim().to_lowercase())
            .filter(|e| e.contains('@')),
    );
    out.sort();
    out.dedup();
    out
}

/// Why an address read from a scanned form must not be written to, if so: it is the office's
/// or a department's own, or a machine's (no-reply, mailer-daemon...).
pub(crate) fn unusable_applicant_address(ctx: &Context, email: &str) -> Option<&'static str> {
    let email = email.trim().to_lowercase();
    if staff_addresses(ctx).contains(&email) {
        return Some("the office's own address");
    }
    crate::extract::mime::is_machine_address(&email).then_some("a machine's address")
}

/// The applicant a message speaks for: its sender, except when the office's own staff forward
/// an applicant's mail into the mailbox (the forwarded original's sender, if not staff too).
pub(crate) fn forwarded_applicant<'p>(
    p: &'p ParsedMessage,
    staff: &[String],
) -> Option<&'p Mailbox> {
    let sender = p.reply_address()?;
    if !staff.contains(&sender.email) {
        return None;
    }
    p.forwarded_from
        .as_ref()
        .filter(|orig| !staff.contains(&orig.email))
}

/// Tracking codes of this office named in the subject or the body, in order, deduplicated.
pub(crate) fn codes_named(office: &str, p: &ParsedMessage) -> Vec<String> {
    let subject = p.subject.as_deref().unwrap_or("");
    let mut out: Vec<String> = Vec::new();
    for text in [subject, p.body_text.as_str()] {
        for code in all_codes(office, text) {
            if !out.contains(&code) {
                out.push(code);
            }
        }
    }
    out
}

/// Every code of `office` in `text`, in its normal form.
fn all_codes(office: &str, text: &str) -> Vec<String> {
    status_question::codes_in(office, text)
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// Why a message joins an existing case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Join {
    /// It answers mail loket sent about the case.
    Reference,
    /// It names the case's code and comes from the applicant's address.
    CodeFromApplicant,
    /// The same files the same sender sent for the case in the last 30 days.
    SameFiles,
}

impl Join {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Join::Reference => "a reply to mail loket sent about this case",
            Join::CodeFromApplicant => {
                "names the tracking code and comes from the applicant's address"
            }
            Join::SameFiles => "the same files the applicant sent before",
        }
    }
}

/// What is known about a message for finding its case.
pub(crate) struct Clues<'a> {
    pub sender: &'a str,
    pub parsed: &'a ParsedMessage,
    pub codes: &'a [String],
    /// Content hashes of its attachments.
    pub hashes: &'a [String],
    pub trusted_authserv_id: Option<&'a str>,
}

/// The existing case a message belongs to, and why; `None`: a new case.
pub(crate) async fn find_case(
    conn: &mut Conn,
    c: &Clues<'_>,
) -> Result<Option<(CaseId, Join)>, StoreError> {
    let p = c.parsed;
    let mut refs: Vec<String> = p.in_reply_to.clone();
    refs.extend(p.references.iter().rev().cloned());
    let sent = conversations::sent_mails(conn, &refs).await?;
    if let Some(case_id) = sent.iter().find_map(|s| s.case_id) {
        let case_id = conversations::surviving_case(conn, case_id).await?;
        return Ok(Some((case_id, Join::Reference)));
    }
    if let SenderCheck::Fail(_) = sender_check(&p.authentication_results, c.trusted_authserv_id) {
        // A forged From must not add to someone's case by naming its code.
        return Ok(None);
    }
    for code in c.codes {
        if let Some(id) = cases::by_code_and_sender(conn, code, c.sender).await? {
            let id = conversations::surviving_case(conn, id).await?;
            return Ok(Some((id, Join::CodeFromApplicant)));
        }
    }
    if !c.hashes.is_empty() {
        let since = crate::filing::now_ms() - SAME_FILES_DAYS * 24 * 3600 * 1000;
        if let Some(id) =
            conversations::case_with_same_files(conn, c.sender, c.hashes, since).await?
        {
            return Ok(Some((id, Join::SameFiles)));
        }
    }
    Ok(None)
}

/// The codes of existing cases among `codes` (a stranger quoting them), except `own`.
pub(crate) async fn mentioned(
    conn: &mut Conn,
    codes: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for code in codes {
        if cases::by_code(conn, code).await?.is_some() {
            out.push(code.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TrackingCode;

    #[test]
    fn every_code_in_a_text_is_found() {
        let code = |s: &str| TrackingCode::parse_for("PSR", s).unwrap().to_string();
        let a = TrackingCode::generate("PSR").unwrap().to_string();
        let b = TrackingCode::generate("PSR").unwrap().to_string();
        let text = format!(
            "Mohon cek {a} dan juga {} ya",
            b.to_lowercase().replace('-', "")
        );
        assert_eq!(all_codes("PSR", &text), vec![code(&a), code(&b)]);
        assert!(all_codes("PSR", "tidak ada nomor").is_empty());
    }
}
