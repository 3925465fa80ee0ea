//! Status codes and how bad they are: RFC 3463 enhanced status codes ("5.1.1"), RFC 5321
//! reply codes ("550"), and the words reports use when they give neither.
//!
//! The class decides (RFC 3463 section 3.1): 5 is a permanent failure, 4 a transient one,
//! 2 a success. A report whose Action says "failed" but whose status is 4.x.x (the sender
//! gave up retrying a mailbox that was full or a host that was down) is [`Severity::Delayed`]:
//! the address itself is not known to be bad, which is what `Permanent` promises.

use std::sync::LazyLock;

use regex::Regex;

use super::Severity;

/// Class, subject (RFC 3463 defines subjects 0 to 7, which keeps "Exim 4.96.2" out), detail.
static ENHANCED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[245]\.[0-7]\.[0-9]{1,3}").expect("static regex"));
static REPLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[245][0-9]{2}").expect("static regex"));

/// The first enhanced status code in `text` ("5.1.1"), not part of an IP address or version.
pub(super) fn enhanced_status(text: &str) -> Option<String> {
    ENHANCED
        .find_iter(text)
        .find(|m| standalone(text, m.start(), m.end()))
        .map(|m| m.as_str().to_string())
}

/// The first SMTP reply code in `text` (550, 452), as its class digit.
pub(super) fn reply_class(text: &str) -> Option<u8> {
    REPLY
        .find_iter(text)
        .find(|m| {
            standalone(text, m.start(), m.end())
                && text[m.end()..]
                    .chars()
                    .next()
                    .is_none_or(|c| matches!(c, ' ' | '-' | ':' | ')' | ']' | '\''))
        })
        .and_then(|m| m.as_str().bytes().next())
        .map(|b| b - b'0')
}

/// Not glued to other digits or dots: "10.5.1.1" and "5.1.1.2" are not status codes.
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let mut after = text[end..].chars();
    let next = after.next();
    let glued_before = before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.');
    let glued_after = match next {
        Some(c) if c.is_ascii_digit() => true,
        Some('.') => after.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    !glued_before && !glued_after
}

/// Severity from a status code's class digit.
pub(super) fn severity_of_class(class: u8) -> Option<Severity> {
    match class {
        5 => Some(Severity::Permanent),
        4 => Some(Severity::Delayed),
        2 => Some(Severity::NotAFailure),
        _ => None,
    }
}

/// Severity told by a status ("5.1.1"), else by a reply code in the diagnostic text.
pub(super) fn severity_of(status: Option<&str>, diagnostic: Option<&str>) -> Option<Severity> {
    let from_status = status
        .and_then(|s| s.bytes().next())
        .and_then(|b| severity_of_class(b.wrapping_sub(b'0')));
    from_status.or_else(|| diagnostic.and_then(reply_class).and_then(severity_of_class))
}

/// Phrases of warnings that the server is still trying (lower-case).
const DELAY_WORDS: &[&str] = &[
    "this is a warning only",
    "will be retried",
    "still being retried",
    "will retry",
    "will keep trying",
    "will continue to try",
    "delivery attempts will continue",
    "has been delayed",
    "delivery is delayed",
    "has not yet been delivered",
    "not been delivered yet",
    "temporary problem delivering",
    "technical details of temporary failure",
    "message still undelivered after",
];

/// Whether `text` (a subject or notice, any case) says the message is only delayed.
pub(super) fn says_delayed(text: &str) -> bool {
    let lower = text.to_lowercase();
    DELAY_WORDS.iter().any(|w| lower.contains(w))
        || lower.contains("(delay)")
        || lower.starts_with("delayed mail")
        || lower.starts_with("delivery delayed")
        || (lower.starts_with("warning:")
            && (lower.contains("delayed") || lower.contains("could not send")))
}

/// What a report that gives no code means by its words, as the usual enhanced status:
/// sisimai's reason tables reduced to the three causes that matter for an address.
const WORDING: &[(&str, &str)] = &[
    ("domain name not found", "1.2"),
    ("couldn't be found. check for typos", "1.1"),
    ("address couldn't be found", "1.1"),
    ("domain couldn't be found", "1.2"),
    ("nxdomain", "1.2"),
    ("no mx", "1.2"),
    ("host not found", "1.2"),
    ("unrouteable address", "1.2"),
    ("all host address lookups failed", "1.2"),
    ("couldn't find any host", "1.2"),
    ("no mailbox here by that name", "1.1"),
    ("user unknown", "1.1"),
    ("unknown user", "1.1"),
    ("no such user", "1.1"),
    ("nosuchuser", "1.1"),
    ("does not exist", "1.1"),
    ("doesn't have a", "1.1"),
    ("recipient not found", "1.1"),
    ("mailbox unavailable", "1.1"),
    ("mailbox full", "2.2"),
    ("mailbox is full", "2.2"),
    ("quota exceeded", "2.2"),
    ("over quota", "2.2"),
    ("disk quota", "2.2"),
    ("insufficient storage", "2.2"),
];

/// The status a report means by its words, with the class `severity` gives it.
pub(super) fn status_from_wording(text: &str, severity: Severity) -> Option<String> {
    let class = match severity {
        Severity::Permanent => '5',
        Severity::Delayed => '4',
        Severity::NotAFailure => return None,
    };
    let lower = text.to_lowercase();
    WORDING
        .iter()
        .find(|(words, _)| lower.contains(words))
        .map(|(_, rest)| format!("{class}.{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_found_but_not_inside_addresses_or_versions() {
        assert_eq!(
            enhanced_status("550-5.1.1 The email account").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            enhanced_status("Sorry, no mailbox here by that name. (#5.1.1)").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(enhanced_status("host 10.5.1.1 said no"), None);
        assert_eq!(enhanced_status("Exim 4.96.2 here"), None);
        assert_eq!(
            enhanced_status("550 5.1.10 RESOLVER").as_deref(),
            Some("5.1.10")
        );
        assert_eq!(reply_class("smtp; 452 mailbox full"), Some(4));
        assert_eq!(reply_class("X-LOCAL; 500 (err.nosuchuser)"), Some(5));
        assert_eq!(reply_class("delivery failed 10 attempts"), None);
    }

    #[test]
    fn delay_warnings_are_told_from_failures() {
        assert!(says_delayed("Delivery Status Notification (Delay)"));
        assert!(says_delayed(
            "Warning: could not send message for past 8 hours"
        ));
        assert!(says_delayed(
            "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND"
        ));
        assert!(!says_delayed("Delivery Status Notification (Failure)"));
        assert!(!says_delayed("This is a permanent error; I've given up."));
    }
}
