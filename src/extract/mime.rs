//! Parse one raw email with mail-parser into what the counter needs.
//!
//! Takes the raw bytes of one message (RFC 5322, MIME); gives a [`ParsedMessage`]: ids for
//! threading, sender and Reply-To, subject, date, the body as plain text (HTML-only mail is
//! converted), every attachment with a safe filename, and whether the message must not be
//! answered automatically ([`NoReply`], RFC 3834).
//!
//! Attachments include inline images and PDFs, and the attachments of forwarded
//! `message/rfc822` parts, followed up to [`MimeLimits::max_depth`] levels. A forwarded message
//! that has no attachments of its own is kept whole as an `.eml` attachment instead (its text is
//! then the content: a forwarded letter, a notary's note); one that has attachments is
//! represented by those, so the officer does not see every file twice.
//!
//! CONTRACT: never panics on any input; problems that do not stop parsing are listed in
//! `ParsedMessage::problems`; only input that is not an email at all is an `Err`.

use mail_parser::{
    Address, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};

use super::html;

mod attachments;
mod filename;
mod no_reply;
mod thread;

pub use thread::{sender_check, SenderCheck};

/// Limits that protect the worker from hostile mail.
#[derive(Debug, Clone)]
pub struct MimeLimits {
    /// Attachments beyond this count are not extracted (recorded as a problem).
    pub max_attachments: usize,
    /// Nesting depth of message/rfc822 parts to follow.
    pub max_depth: usize,
}

impl Default for MimeLimits {
    fn default() -> Self {
        Self {
            max_attachments: 50,
            max_depth: 5,
        }
    }
}

/// One address with its optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    /// Lower-cased address (`local@domain`).
    pub email: String,
}

/// An attachment, inline or not, including those inside forwarded message/rfc822 parts.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// Safe filename: no path separators, no control chars, no leading dots, at most 120 chars,
    /// never empty (a name is invented from the content type when missing).
    pub filename: String,
    /// The name as decoded from the message (RFC 2047/2231), if any, for display and records.
    pub original_filename: Option<String>,
    /// The declared content type (`type/subtype`, lower-case), `application/octet-stream` if none.
    pub content_type: String,
    pub data: Vec<u8>,
}

/// Why a message must never be answered automatically (RFC 3834 and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoReply {
    /// `Auto-Submitted` other than `no`, or `X-Auto-Response-Suppress`.
    AutoSubmitted(String),
    /// `Precedence: bulk/junk/list`.
    Precedence(String),
    /// `List-Id` or `List-Unsubscribe`.
    MailingList,
    /// `multipart/report`, MAILER-DAEMON, postmaster, empty return path.
    Bounce,
    /// From the office's own address.
    OwnAddress,
    /// No usable sender address.
    NoSender,
}

#[derive(Debug, Clone)]
pub struct ParsedMessage {
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To and References ids, without angle brackets.
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub subject: Option<String>,
    /// The Date header, if present and valid.
    pub date: Option<time::OffsetDateTime>,
    /// The text body; HTML-only mail converted to text. May be empty.
    pub body_text: String,
    pub attachments: Vec<Attachment>,
    /// Why not to answer, if any (office addresses are checked by [`no_reply_reason`]).
    pub no_reply: Option<NoReply>,
    /// Non-fatal problems met while parsing (human-readable English).
    pub problems: Vec<String>,
    /// The sender of a forwarded original (an attached message, or an inline "Forwarded
    /// message" block), when the message forwards one.
    pub forwarded_from: Option<Mailbox>,
    /// Raw values of the `Authentication-Results` headers, top first (see [`sender_check`]).
    pub authentication_results: Vec<String>,
}

impl ParsedMessage {
    /// Where an acknowledgement goes: Reply-To, else From.
    pub fn reply_address(&self) -> Option<&Mailbox> {
        self.reply_to.as_ref().or(self.from.as_ref())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MimeError {
    #[error("not an email message: {0}")]
    NotAMessage(String),
}

impl MimeError {
    /// Whether trying again could help. Never: the same bytes parse the same way.
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// Parse raw message bytes.
pub fn parse(raw: &[u8], limits: &MimeLimits) -> Result<ParsedMessage, MimeError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(MimeError::NotAMessage("no data".into()));
    }
    // mail-parser promises not to panic; the worker must not die if that promise is broken.
    let parsed = std::panic::catch_unwind(|| {
        let msg = MessageParser::default().parse(raw)?;
        Some(from_message(&msg, limits))
    });
    match parsed {
        Ok(Some(parsed)) => Ok(parsed),
        Ok(None) => Err(MimeError::NotAMessage("no header fields found".into())),
        Err(_) => Err(MimeError::NotAMessage(
            "the MIME parser crashed on this input".into(),
        )),
    }
}

/// The reason not to answer `msg`, also checking the office's own addresses (lower-case).
pub fn no_reply_reason(msg: &ParsedMessage, office_addresses: &[String]) -> Option<NoReply> {
    if let Some(reason) = &msg.no_reply {
        return Some(reason.clone());
    }
    match msg.reply_address() {
        None => Some(NoReply::NoSender),
        Some(mailbox)
            if office_addresses
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&mailbox.email)) =>
        {
            Some(NoReply::OwnAddress)
        }
        Some(_) => None,
    }
}

fn from_message(msg: &Message<'_>, limits: &MimeLimits) -> ParsedMessage {
    let mut problems = Vec::new();
    let from = mailbox(msg.from());
    if from.is_none() {
        problems.push(if msg.from().is_some() {
            "From header has no usable address".to_string()
        } else {
            "message has no From header".to_string()
        });
    }
    if msg.date().is_none() && msg.header_raw("Date").is_some() {
        problems.push("Date header could not be read".to_string());
    }
    let mut body_text = body_text(msg, &mut problems);
    let (attachments, tnef_body) = attachments::collect(msg, limits, &mut problems);
    if body_text.trim().is_empty() {
        // Outlook's rich text mail: the body is only in winmail.dat.
        body_text = tnef_body.unwrap_or(body_text);
    }
    if body_text.trim().is_empty() && attachments.is_empty() {
        problems.push("message is empty: no text and no attachments".to_string());
    }
    let forwarded_from = thread::forwarded_from(msg, &body_text);
    ParsedMessage {
        message_id: msg.message_id().and_then(clean_id),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        from,
        reply_to: mailbox(msg.reply_to()),
        subject: msg
            .subject()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from),
        date: msg.date().and_then(to_offset_date_time),
        body_text,
        attachments,
        no_reply: no_reply::detect(msg),
        problems,
        forwarded_from,
        authentication_results: thread::authentication_results(msg),
    }
}

/// The first address of a From/Reply-To header, if it looks like one (`local@domain`).
fn mailbox(address: Option<&Address<'_>>) -> Option<Mailbox> {
    let addr = address?.first()?;
    let email = addr.address()?.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    if local.is_empty() || domain.is_empty() || email.contains(char::is_whitespace) {
        return None;
    }
    let name = addr
        .name()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(String::from);
    Some(Mailbox { name, email })
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => clean_id(id).into_iter().collect(),
        HeaderValue::TextList(list) => list.iter().filter_map(|id| clean_id(id)).collect(),
        _ => Vec::new(),
    }
}

fn clean_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty()).then(|| id.to_string())
}

fn to_offset_date_time(date: &mail_parser::DateTime) -> Option<time::OffsetDateTime> {
    if !date.is_valid() {
        return None;
    }
    let utc = time::OffsetDateTime::from_unix_timestamp(date.to_timestamp()).ok()?;
    let sign = if date.tz_before_gmt { -1 } else { 1 };
    let offset =
        time::UtcOffset::from_hms(sign * date.tz_hour as i8, sign * date.tz_minute as i8, 0)
            .ok()?;
    utc.checked_to_offset(offset)
}

/// The body as text. mail-parser lists an HTML part among the text bodies of an HTML-only
/// message (and would convert it itself, crudely), so look at what each part really is and
/// convert real HTML with html2text.
fn body_text(msg: &Message<'_>, problems: &mut Vec<String>) -> String {
    let mut texts = body_parts(msg.text_bodies(), problems);
    if texts.is_empty() {
        // multipart/alternative with only an HTML alternative leaves the text list empty.
        texts = body_parts(msg.html_bodies(), problems);
    }
    texts.join("\n\n")
}

fn body_parts<'a>(
    parts: impl Iterator<Item = &'a MessagePart<'a>>,
    problems: &mut Vec<String>,
) -> Vec<String> {
    parts
        .filter_map(|part| {
            note_decoding_problem(part, problems);
            match &part.body {
                PartType::Text(text) => Some(text.to_string()),
                PartType::Html(html) => Some(html::to_text(html)),
                _ => None,
            }
        })
        .filter(|text| !text.trim().is_empty())
        .collect()
}

/// mail-parser decodes unknown charsets and broken bytes lossily; say so, since the officer
/// may see odd characters.
fn note_decoding_problem(part: &MessagePart<'_>, problems: &mut Vec<String>) {
    let charset = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .unwrap_or("unspecified");
    let lossy = match &part.body {
        PartType::Text(text) | PartType::Html(text) => text.contains('\u{fffd}'),
        _ => false,
    };
    if lossy {
        problems.push(format!(
            "text with charset {charset} had bytes that could not be decoded"
        ));
    } else if part.is_encoding_problem {
        problems.push("a part could not be decoded cleanly".to_string());
    }
}

#[cfg(test)]
mod tests;

/// A safe filename for `name` (the rules of `Attachment::filename`), for files that arrive
/// without a message around them (the mail room's scans).
pub fn safe_filename(name: &str, content_type: &str, index: usize) -> String {
    filename::sanitize(Some(name), content_type, index)
}
