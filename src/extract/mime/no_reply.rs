//! Messages that must never get an automatic acknowledgement: answering an out-of-office
//! reply, a bounce or a mailing list starts mail loops and annoys strangers. The rules follow
//! RFC 3834 (Auto-Submitted), RFC 2369/2919 (list headers), RFC 3464/6522 (bounces) and what
//! helpdesk software (Zammad, osTicket, Request Tracker) checks in practice.

use mail_parser::{Message, MimeHeaders};

use super::NoReply;

impl NoReply {
    /// Short English explanation for records and logs.
    pub fn describe(&self) -> String {
        match self {
            Self::AutoSubmitted(value) => format!("automatic message ({value})"),
            Self::Precedence(value) => format!("bulk or list mail (Precedence: {value})"),
            Self::MailingList => "mailing-list message".to_string(),
            Self::Bounce => "delivery report (bounce)".to_string(),
            Self::OwnAddress => "sent from the office's own address".to_string(),
            Self::NoSender => "no usable sender address".to_string(),
        }
    }
}

/// The header-based reason not to answer `msg`, if any. Bounces are checked first: they are
/// the most specific (and often also carry Auto-Submitted).
pub(super) fn detect(msg: &Message<'_>) -> Option<NoReply> {
    bounce(msg)
        .or_else(|| auto_submitted(msg))
        .or_else(|| precedence(msg))
        .or_else(|| list(msg))
}

fn bounce(msg: &Message<'_>) -> Option<NoReply> {
    let report = msg.is_content_type("multipart", "report");
    let daemon_sender = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .and_then(|a| a.split('@').next())
        .is_some_and(|local| {
            local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
        });
    // The null reverse-path is how MTAs mark their own reports (RFC 5321 section 4.5.5).
    let null_return_path =
        header(msg, "Return-Path").is_some_and(|v| v.trim_matches(['<', '>', ' ']).is_empty());
    (report || daemon_sender || null_return_path).then_some(NoReply::Bounce)
}

fn auto_submitted(msg: &Message<'_>) -> Option<NoReply> {
    if let Some(value) = header(msg, "Auto-Submitted") {
        let token = value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !token.is_empty() && token != "no" {
            return Some(NoReply::AutoSubmitted(token));
        }
    }
    // Exchange marks its own automatic mail this way; X-Autoreply/X-Autorespond come from
    // vacation programs and older autoresponders.
    ["X-Auto-Response-Suppress", "X-Autoreply", "X-Autorespond"]
        .into_iter()
        .find(|name| header(msg, name).is_some())
        .map(|name| NoReply::AutoSubmitted(name.to_ascii_lowercase()))
}

fn precedence(msg: &Message<'_>) -> Option<NoReply> {
    let value = header(msg, "Precedence")?.trim().to_ascii_lowercase();
    matches!(value.as_str(), "bulk" | "junk" | "list" | "auto_reply")
        .then_some(NoReply::Precedence(value))
}

fn list(msg: &Message<'_>) -> Option<NoReply> {
    (header(msg, "List-Id").is_some() || header(msg, "List-Unsubscribe").is_some())
        .then_some(NoReply::MailingList)
}

/// A top-level header's raw value, trimmed; `None` when absent. Raw, because mail-parser
/// parses unknown headers loosely and we only need simple tokens.
fn header<'m>(msg: &'m Message<'_>, name: &'static str) -> Option<&'m str> {
    msg.header_raw(name).map(str::trim)
}
