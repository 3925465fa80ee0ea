//! Delivery failure reports (bounces): which of our messages could not be delivered, to which
//! address, and whether the address is bad for good.
//!
//! Takes the raw bytes of one incoming message; gives a [`Bounce`] when it is a delivery
//! report of any kind, `None` for every other message. Pure: no I/O, never panics.
//!
//! Recognised, in this order:
//! - RFC 3464 reports (`multipart/report; report-type=delivery-status`, or any message with a
//!   `message/delivery-status` part): one [`FailedRecipient`] per recipient group
//!   ([`dsn`]). Postfix, Exim, Exchange/Office 365, Gmail and most others send these; the
//!   human-readable part then only names the format.
//! - RFC 8098 read receipts (`disposition-notification`): `Some`, with format `"mdn"` and the
//!   reader as a [`Severity::NotAFailure`] recipient. They are machine mail that must never
//!   be answered and they name our message, but they say nothing bad about the address.
//! - Amazon SES notifications (JSON, raw or inside an SNS envelope), in the body or as the
//!   whole input ([`ses`]).
//! - Reports in prose only, from a machine sender ([`vendor`]): Exchange, Gmail, qmail, Exim,
//!   Yahoo, Postfix, and a generic reader for the rest. Prose alone never makes a bounce: an
//!   applicant writing "email saya sebelumnya undeliverable" is not one.
//!
//! Severity follows the status class (RFC 3463): 5.x.x is [`Severity::Permanent`], 4.x.x is
//! [`Severity::Delayed`] even when the sender has given up, 2.x.x is not a failure. Without
//! an enhanced status the SMTP reply code (5xx/4xx) decides, then the wording ("will be
//! retried", "THIS IS A WARNING ONLY"), then the kind of report (a failure notice that says
//! nothing more is permanent). Where the report gives no status, a few well-known causes are
//! given theirs from the wording (unknown user 5.1.1, unknown domain 5.1.2, mailbox full
//! 5.2.2/4.2.2), as sisimai does.

use mail_parser::MessageParser;

mod codes;
mod dsn;
mod ses;
mod vendor;
mod view;

use view::View;

/// How final a failure is for one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The address does not work (5.x.x): stop mailing it.
    Permanent,
    /// Not delivered yet or for a passing reason (4.x.x): the address may well work.
    Delayed,
    /// A report that is no failure: delivered, relayed or expanded DSNs, read receipts.
    NotAFailure,
}

/// One recipient named in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecipient {
    /// Lower-case `local@domain`, as we addressed it where the report says so
    /// (Original-Recipient), else where it ended up (Final-Recipient).
    pub address: String,
    /// Enhanced status code, e.g. "5.1.1".
    pub status: Option<String>,
    pub severity: Severity,
    /// The remote server's words, on one line, e.g. "550 5.1.1 User unknown".
    pub diagnostic: Option<String>,
}

/// A recognised delivery report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// Message-IDs (no angle brackets) of the message that could not be delivered, best
    /// first: from the returned message/rfc822 or text/rfc822-headers part, quoted original
    /// headers in the text, the bounce's own In-Reply-To/References, SES's
    /// mail.commonHeaders.messageId.
    pub original_message_ids: Vec<String>,
    /// May be empty when the report names nobody readable (anonymised or mangled reports);
    /// the original message then tells whom it was for.
    pub recipients: Vec<FailedRecipient>,
    /// Which format was recognised: "rfc3464", "mdn", "exchange", "gmail", "ses", "qmail",
    /// "exim", "postfix", "yahoo" or "generic". For RFC 3464 reports whose prose shows who
    /// wrote them, that writer's name.
    pub format: &'static str,
}

impl Bounce {
    /// Whether any recipient failed permanently (the address should be marked).
    pub fn is_permanent(&self) -> bool {
        self.recipients
            .iter()
            .any(|r| r.severity == Severity::Permanent)
    }

    /// The recipients whose address failed permanently.
    pub fn permanent_addresses(&self) -> impl Iterator<Item = &str> {
        self.recipients
            .iter()
            .filter(|r| r.severity == Severity::Permanent)
            .map(|r| r.address.as_str())
    }
}

/// Some(..) when the message is a delivery report (of any severity), None for any other
/// mail (including ordinary mail that merely talks about "undeliverable"). Never panics.
pub fn parse(raw: &[u8]) -> Option<Bounce> {
    // mail-parser promises not to panic; the worker must not die if that promise is broken.
    std::panic::catch_unwind(|| recognise(raw)).ok().flatten()
}

fn recognise(raw: &[u8]) -> Option<Bounce> {
    if raw.trim_ascii_start().starts_with(b"{") {
        return ses::from_text(&String::from_utf8_lossy(raw));
    }
    let msg = MessageParser::default().parse(raw)?;
    let view = View::of(&msg);
    let mut bounce = report(&view, raw)
        .or_else(|| ses::from_text(&view.text))
        .or_else(|| vendor::from_prose(&view))?;
    let mut ids = view.returned_ids.clone();
    ids.extend(quoted_message_ids(&view.text));
    ids.append(&mut bounce.original_message_ids);
    ids.extend(view.thread_ids.iter().cloned());
    bounce.original_message_ids = dedup(ids);
    bounce.recipients = dedup_recipients(bounce.recipients);
    Some(bounce)
}

/// RFC 3464 and RFC 8098 reports, told by their structure.
fn report(view: &View, raw: &[u8]) -> Option<Bounce> {
    let report_type = view.report_type.as_deref();
    if !view.disposition.is_empty() || report_type == Some("disposition-notification") {
        let mut recipients = Vec::new();
        let mut ids = Vec::new();
        for body in &view.disposition {
            let (found, id) = dsn::disposition(body);
            recipients.extend(found);
            ids.extend(id);
        }
        return Some(Bounce {
            original_message_ids: ids,
            recipients,
            format: "mdn",
        });
    }
    if view.delivery_status.is_empty() && report_type != Some("delivery-status") {
        return None;
    }
    let mut recipients: Vec<FailedRecipient> = view
        .delivery_status
        .iter()
        .flat_map(|body| dsn::recipients(body))
        .collect();
    let prose = vendor::from_prose(view)
        .map(|b| b.recipients)
        .unwrap_or_default();
    if recipients.is_empty() {
        // A mangled status part: the prose may still name the recipients, or, when even
        // the MIME structure is broken, the status fields may still be in the raw text.
        recipients = prose;
        if recipients.is_empty() {
            recipients = dsn::recipients(&String::from_utf8_lossy(raw));
        }
    } else {
        // Exim's status part has no Diagnostic-Code; its prose says "Unknown user".
        for r in recipients.iter_mut().filter(|r| r.diagnostic.is_none()) {
            r.diagnostic = prose
                .iter()
                .find(|p| p.address == r.address)
                .and_then(|p| p.diagnostic.clone());
        }
    }
    Some(Bounce {
        original_message_ids: Vec::new(),
        recipients,
        format: vendor::writer(view).unwrap_or("rfc3464"),
    })
}

/// `Message-ID:` lines of original headers quoted in the notice.
fn quoted_message_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start_matches(['>', ' ', '\t']);
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("message-id")
                .then(|| value.trim())
                .filter(|v| v.starts_with('<') && v.contains('>'))
                .and_then(|v| clean_id(v.split('>').next().unwrap_or_default()))
        })
        .collect()
}

fn dedup(ids: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// One entry per address: the first, which comes from the most structured source.
fn dedup_recipients(recipients: Vec<FailedRecipient>) -> Vec<FailedRecipient> {
    let mut out: Vec<FailedRecipient> = Vec::with_capacity(recipients.len());
    for r in recipients {
        if !out.iter().any(|o| o.address == r.address) {
            out.push(r);
        }
    }
    out
}

/// A Message-ID without angle brackets, or None when empty or not id-like.
fn clean_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_string())
}

/// `rfc822; <Budi@Example.COM>` as `budi@example.com`; None unless it looks like an address.
fn clean_address(value: &str) -> Option<String> {
    let value = match value.split_once(';') {
        Some((kind, rest)) if !kind.contains('@') => rest,
        _ => value,
    };
    let address = value
        .trim()
        .trim_start_matches(['<', '"', '\''])
        .trim_end_matches(['>', '"', '\'', '.', ',', ':', ';'])
        .to_lowercase();
    let (local, domain) = address.rsplit_once('@')?;
    let valid = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !address.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')'))
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    valid.then_some(address)
}

/// Whitespace runs as single spaces, cut to a length an officer reads (whole characters).
fn collapse(text: &str) -> String {
    const MAX_CHARS: usize = 500;
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;
