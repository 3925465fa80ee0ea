//! The machine-readable parts of RFC 3464 delivery reports (`message/delivery-status`) and
//! RFC 8098 read receipts (`message/disposition-notification`).
//!
//! Both are groups of header-like fields: one per-message group, then one group per
//! recipient. Real reports bend this: no blank line between groups, several blank lines,
//! `Action` before `Final-Recipient`, MIME headers inside the groups (AOL), or the recipient
//! groups base64-encoded after a stray `Content-Transfer-Encoding: base64` (Proofpoint).
//! A new recipient starts where a recipient field follows fields that already belong to
//! one, so all of these read the same.

use data_encoding::BASE64;

use super::codes::{enhanced_status, severity_of};
use super::{clean_address, collapse, FailedRecipient, Severity};

/// One field, name lower-cased, value unfolded.
type Field = (String, String);

/// The recipients of a delivery-status body.
pub(super) fn recipients(body: &str) -> Vec<FailedRecipient> {
    let mut out = Vec::new();
    let mut current = Record::default();
    for group in groups(&expand_base64(body)) {
        for (name, value) in group {
            if current.starts_new(&name) {
                out.extend(current.finish());
                current = Record::default();
            }
            current.take(&name, value);
        }
        out.extend(std::mem::take(&mut current).finish());
    }
    out
}

/// The read receipt's recipient (who displayed or deleted our message) and the id of our
/// message, from a disposition-notification body.
pub(super) fn disposition(body: &str) -> (Vec<FailedRecipient>, Option<String>) {
    let fields: Vec<Field> = groups(body).into_iter().flatten().collect();
    let value = |wanted: &str| {
        fields
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, v)| v.as_str())
    };
    let address = value("original-recipient")
        .and_then(clean_address)
        .or_else(|| value("final-recipient").and_then(clean_address));
    let recipients = address
        .map(|address| FailedRecipient {
            address,
            status: None,
            severity: Severity::NotAFailure,
            diagnostic: value("disposition").map(collapse),
        })
        .into_iter()
        .collect();
    (
        recipients,
        value("original-message-id").and_then(super::clean_id),
    )
}

#[derive(Default)]
struct Record {
    original: Option<String>,
    fin: Option<String>,
    action: Option<String>,
    status: Option<String>,
    diagnostic: Option<String>,
}

impl Record {
    fn has_address(&self) -> bool {
        self.original.is_some() || self.fin.is_some()
    }

    fn has_details(&self) -> bool {
        self.action.is_some() || self.status.is_some() || self.diagnostic.is_some()
    }

    /// Whether field `name` belongs to the next recipient rather than this one.
    fn starts_new(&self, name: &str) -> bool {
        let repeated = match name {
            "final-recipient" => self.fin.is_some(),
            "original-recipient" => self.original.is_some(),
            _ => return false,
        };
        self.has_address() && (repeated || self.has_details())
    }

    fn take(&mut self, name: &str, value: String) {
        let slot = match name {
            "final-recipient" => &mut self.fin,
            "original-recipient" => &mut self.original,
            "action" => &mut self.action,
            "status" => &mut self.status,
            "diagnostic-code" => &mut self.diagnostic,
            _ => return,
        };
        slot.get_or_insert(value);
    }

    /// The recipient, addressed as we sent it (Original-Recipient is the address given at
    /// submission, Final-Recipient may be where an alias led), if it has a usable address.
    fn finish(self) -> Option<FailedRecipient> {
        let address = self
            .original
            .as_deref()
            .and_then(clean_address)
            .or_else(|| self.fin.as_deref().and_then(clean_address))?;
        let diagnostic = self.diagnostic.as_deref().map(diagnostic_text);
        let status = self
            .status
            .as_deref()
            .and_then(enhanced_status)
            .or_else(|| diagnostic.as_deref().and_then(enhanced_status));
        let action = self
            .action
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let severity = match action.as_str() {
            "delivered" | "relayed" | "expanded" => Severity::NotAFailure,
            "delayed" => Severity::Delayed,
            // "failed", or a report that forgot to say: the code decides, and a failure
            // report that gives none means what it says.
            _ => {
                severity_of(status.as_deref(), diagnostic.as_deref()).unwrap_or(Severity::Permanent)
            }
        };
        Some(FailedRecipient {
            address,
            status,
            severity,
            diagnostic,
        })
    }
}

/// `smtp; 550 5.1.1 ...` without its type, on one line.
fn diagnostic_text(value: &str) -> String {
    let text = match value.split_once(';') {
        Some((kind, rest)) if !kind.trim().contains(' ') => rest,
        _ => value,
    };
    collapse(text)
}

/// Field groups: runs of `Name: value` lines (with folded continuations) between blank
/// lines. Lines that are not fields (prose in a mislabelled part) are skipped.
fn groups(body: &str) -> Vec<Vec<Field>> {
    let mut groups = Vec::new();
    let mut group: Vec<Field> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !group.is_empty() {
                groups.push(std::mem::take(&mut group));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = group.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some(field) = field(line) {
            group.push(field);
        }
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

fn field(line: &str) -> Option<Field> {
    let (name, value) = line.split_once(':')?;
    let valid = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| (name.to_ascii_lowercase(), value.trim().to_string()))
}

/// Replace a base64 run that follows a `Content-Transfer-Encoding: base64` line inside the
/// body with its decoded text (Proofpoint re-encodes the recipient groups that way).
fn expand_base64(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut armed = false;
    let mut run = String::new();
    for line in body.lines() {
        let trimmed = line.trim();
        if armed && is_base64_line(trimmed) {
            run.push_str(trimmed);
            continue;
        }
        if !run.is_empty() {
            flush_base64(&mut out, &mut run);
            armed = false;
        }
        if let Some((name, value)) = field(line) {
            if name == "content-transfer-encoding" && value.eq_ignore_ascii_case("base64") {
                armed = true;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    flush_base64(&mut out, &mut run);
    out
}

fn flush_base64(out: &mut String, run: &mut String) {
    if run.is_empty() {
        return;
    }
    match BASE64.decode(run.as_bytes()) {
        Ok(bytes) => {
            out.push('\n');
            out.push_str(&String::from_utf8_lossy(&bytes));
            out.push('\n');
        }
        Err(_) => {
            out.push_str(run);
            out.push('\n');
        }
    }
    run.clear();
}

fn is_base64_line(line: &str) -> bool {
    line.len() >= 4
        && !line.contains(':')
        && line
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_without_blank_lines_and_with_action_first_are_kept_apart() {
        let body = "Reporting-MTA: dns; mx.example.net\n\
                    Action: failed\nFinal-Recipient: rfc822; A@Example.net\nStatus: 5.1.1\n\
                    Final-Recipient: rfc822; <b@example.net>\nAction: delayed\nStatus: 4.2.2\n\
                    Original-Recipient: rfc822;c@example.net\nAction: delivered\nStatus: 2.0.0\n";
        let found = recipients(body);
        let summary: Vec<_> = found
            .iter()
            .map(|r| (r.address.as_str(), r.status.as_deref(), r.severity))
            .collect();
        assert_eq!(
            summary,
            [
                ("a@example.net", Some("5.1.1"), Severity::Permanent),
                ("b@example.net", Some("4.2.2"), Severity::Delayed),
                ("c@example.net", Some("2.0.0"), Severity::NotAFailure),
            ]
        );
    }

    #[test]
    fn a_failed_action_with_a_transient_status_does_not_condemn_the_address() {
        let found =
            recipients("Final-Recipient: rfc822; x@example.org\nAction: failed\nStatus: 4.4.7\n");
        assert_eq!(found[0].severity, Severity::Delayed);
    }
}
