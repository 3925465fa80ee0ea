//! Reports written for people: the MTA-specific notices that come without (or beside) an
//! RFC 3464 status part. The markers are the fixed sentences each MTA prints, as collected
//! in sisimai's `Lhost` modules (qmail-send.c, Exim's deliver.c, Postfix's bounce templates,
//! Exchange and Gmail NDR texts).
//!
//! Prose is only believed from a machine: the sender must be a mail system (MAILER-DAEMON,
//! postmaster, "Mail Delivery System", the null return path, X-Failed-Recipients, Exchange's
//! NDR header, Auto-Submitted) or the subject must be a bounce's. The generic reader, for
//! MTAs without a marker here, needs a machine sender *and* failure wording, and at least
//! one address.

use super::codes::{enhanced_status, says_delayed, severity_of, status_from_wording};
use super::view::View;
use super::{clean_address, collapse, Bounce, FailedRecipient, Severity};

mod prose;

/// Fixed sentences, lower-case, that name the writer of a notice. First match wins, so the
/// more specific come first (Postfix and Exim texts are quoted by relays).
const WRITERS: &[(&str, &[&str])] = &[
    (
        "qmail",
        &["this is the qmail-send program at", "hi. this is the qmail"],
    ),
    (
        "yahoo",
        &["sorry, we were unable to deliver your message to the following address"],
    ),
    (
        "exim",
        &["this message was created automatically by mail delivery software"],
    ),
    (
        "postfix",
        &[
            "this is the mail system at host",
            "this is the postfix program at host",
        ],
    ),
    (
        "gmail",
        &[
            "delivery to the following recipient",
            "your message wasn't delivered to",
            "there was a temporary problem delivering your message",
            "the response from the remote server was:",
            "the error that the other server returned was:",
        ],
    ),
    (
        "exchange",
        &[
            "delivery has failed to these recipients or groups",
            "delivery is delayed to these recipients or groups",
            "diagnostic information for administrators",
            "remote server returned '",
            "couldn't be delivered.",
        ],
    ),
];

/// Where the returned message starts in a notice (lower-case line prefixes).
const CUTS: &[&str] = &[
    "--- below this line is a copy of the message",
    "------ this is a copy of the message",
    "----- original message -----",
    "----- message header follows -----",
    "-----original message-----",
    "original message headers:",
    "original message follows",
    "----- the header of the original message is following",
];

/// Local parts of mail systems' own addresses.
const DAEMONS: &[&str] = &[
    "mailer-daemon",
    "mailerdaemon",
    "mail-daemon",
    "maildaemon",
    "postmaster",
    "mdaemon",
];

const DAEMON_NAMES: &[&str] = &[
    "mail delivery",
    "mailer-daemon",
    "mailer daemon",
    "postmaster",
    "mail administrator",
    "post office",
    "delivery subsystem",
];

const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "mail delivery failed",
    "returned mail",
    "failure notice",
    "delivery failure",
    "delivery failed",
    "message delivery failure",
    "mail system error",
    "non-delivery",
    "nondeliverable",
    "delayed mail",
    "delivery delayed",
    "warning: could not send",
    "warning: message",
    "address not found",
    "message not delivered",
    "delivery incomplete",
    "tidak terkirim",
    "tidak dapat dikirim",
    "unzustellbar",
    "non remis",
];

/// Wording of failure for the generic reader (lower-case).
const FAILURE_WORDS: &[&str] = &[
    "undeliverable",
    "undelivered",
    "could not be delivered",
    "couldn't be delivered",
    "delivery failed",
    "delivery has failed",
    "failed permanently",
    "permanent error",
    "permanent fatal error",
    "user unknown",
    "no such user",
    "unable to deliver",
    "could not deliver",
    "delivery problems",
    "tidak dapat dikirim",
    "gagal dikirim",
];

/// Which MTA wrote the notice, if its text or headers show it.
pub(super) fn writer(view: &View) -> Option<&'static str> {
    let lower = view.text.to_lowercase();
    WRITERS
        .iter()
        .find(|(_, markers)| markers.iter().any(|m| lower.contains(m)))
        .map(|(name, _)| *name)
        .or_else(|| {
            view.header("X-MS-Exchange-Message-Is-Ndr")
                .map(|_| "exchange")
        })
}

/// A report in prose from a machine, with the recipients it names.
pub(super) fn from_prose(view: &View) -> Option<Bounce> {
    if !(machine_sender(view) || bounce_subject(&view.subject)) {
        return None;
    }
    let section = notice_section(&view.text);
    let delayed = says_delayed(&view.subject) || says_delayed(section);
    let (format, found) = match writer(view) {
        Some(format) => (format, prose::recipients(format, section)),
        None if machine_sender(view) && failure_wording(view, section) => {
            ("generic", prose::generic(section))
        }
        None => return None,
    };
    let mut recipients: Vec<FailedRecipient> = found
        .into_iter()
        .filter(|(address, _)| !is_own_or_daemon(view, address))
        .map(|(address, diagnostic)| recipient(address, diagnostic, delayed))
        .collect();
    for address in failed_header(view) {
        if !recipients.iter().any(|r| r.address == address) {
            recipients.push(recipient(address, None, delayed));
        }
    }
    if format == "generic" && recipients.is_empty() {
        return None;
    }
    Some(Bounce {
        original_message_ids: Vec::new(),
        recipients,
        format,
    })
}

fn recipient(address: String, diagnostic: Option<String>, delayed: bool) -> FailedRecipient {
    let diagnostic = diagnostic.map(|d| collapse(&d)).filter(|d| !d.is_empty());
    let text = diagnostic.as_deref();
    let status = text.and_then(enhanced_status);
    let severity = severity_of(status.as_deref(), text).unwrap_or(if delayed {
        Severity::Delayed
    } else {
        Severity::Permanent
    });
    let status = status.or_else(|| text.and_then(|t| status_from_wording(t, severity)));
    FailedRecipient {
        address,
        status,
        severity,
        diagnostic,
    }
}

/// The notice up to where the returned message is quoted.
fn notice_section(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let lower = line.trim().to_lowercase();
        if CUTS.iter().any(|cut| lower.starts_with(cut)) {
            return &text[..offset];
        }
        offset += line.len();
    }
    text
}

fn machine_sender(view: &View) -> bool {
    let local = view.from_address.split('@').next().unwrap_or_default();
    let null_path = |name| {
        view.header(name)
            .is_some_and(|v| v.trim_matches(['<', '>', ' ']).is_empty())
    };
    DAEMONS.contains(&local)
        || local.starts_with("microsoftexchange")
        || DAEMON_NAMES.iter().any(|n| view.from_name.contains(n))
        || null_path("Return-Path")
        || null_path("X-Envelope-From")
        || view.header("X-Failed-Recipients").is_some()
        || view.header("X-MS-Exchange-Message-Is-Ndr").is_some()
        || view
            .header("Auto-Submitted")
            .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"))
}

/// A bounce's subject, not a reply to or forward of one.
fn bounce_subject(subject: &str) -> bool {
    let lower = subject.trim().to_lowercase();
    BOUNCE_SUBJECTS.iter().any(|s| lower.starts_with(s))
}

fn failure_wording(view: &View, section: &str) -> bool {
    let lower = section.to_lowercase();
    bounce_subject(&view.subject) || FAILURE_WORDS.iter().any(|w| lower.contains(w))
}

fn failed_header(view: &View) -> Vec<String> {
    view.header("X-Failed-Recipients")
        .map(|v| v.split(',').filter_map(clean_address).collect())
        .unwrap_or_default()
}

fn is_own_or_daemon(view: &View, address: &str) -> bool {
    let local = address.split('@').next().unwrap_or_default();
    view.own_addresses.iter().any(|a| a == address) || DAEMONS.contains(&local)
}
