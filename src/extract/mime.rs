//! Parse one raw email with mail-parser into what the counter needs.
//!
//! CONTRACT (filled in by the extraction work): never panics on any input; problems that do not stop
//! parsing are listed in `ParsedMessage::problems`; only input that is not an email at all is an
//! `Err`.

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

impl NoReply {
    /// Short English explanation for records and logs.
    pub fn describe(&self) -> String {
        todo!()
    }
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

/// Parse raw message bytes.
pub fn parse(raw: &[u8], limits: &MimeLimits) -> Result<ParsedMessage, MimeError> {
    let _ = (raw, limits);
    todo!()
}

/// The reason not to answer `msg`, also checking the office's own addresses (lower-case).
pub fn no_reply_reason(msg: &ParsedMessage, office_addresses: &[String]) -> Option<NoReply> {
    let _ = (msg, office_addresses);
    todo!()
}

/// A safe filename for `name` (see `Attachment::filename`); `index` numbers invented names.
pub fn safe_filename(name: &str, content_type: &str, index: usize) -> String {
    let _ = (name, content_type, index);
    todo!()
}
