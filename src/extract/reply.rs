//! The new text of an email reply, apart from quoted history and signatures.
//!
//! Takes a plain-text body (`ParsedMessage::body_text`); gives [`ReplyParts`]: what the sender
//! wrote now (`new_text`), the quoted history (reply headers of Gmail, Outlook desktop/web/mobile,
//! Apple Mail, Thunderbird, Yahoo, Samsung Email, and `>` quote blocks) and the signature (after
//! an RFC 3676 `-- ` line, and "Sent from my iPhone" / "Dikirim dari iPhone saya" footers).
//! Classification, status questions and the desk's thread view read `new_text`, so a reply that
//! quotes our acknowledgement is not re-read as a new application; the full body stays with the
//! message.
//!
//! A forward the sender made on purpose ("---------- Forwarded message ---------", "Pesan
//! terusan", "Begin forwarded message:") is content, not history: [`split`] returns it whole as
//! `new_text`. Outlook writes forwards like replies, so [`split_with_subject`] also keeps the body
//! whole when the subject says "Fwd:"/"FW:"/"TR:".
//!
//! Recognition is by shape (see [`patterns`]); when in doubt the text is kept, because cutting a
//! real application is worse than showing an officer some quoted lines. Interleaved answers
//! (the sender's lines between `>` blocks) and answers below a quote are new text.
//!
//! CONTRACT: never panics; `new_text` is trimmed and made only of lines of the body, in order
//! (blocks separated by one blank line); when nothing is recognised `new_text == body.trim()`.

mod patterns;

use patterns::{
    attribution_at, is_blank, is_forward_marker, is_header_block, is_mobile_footer, is_quote_line,
    is_separator_line, signature_delimiter, Delimiter, LOOSE_SIGNATURE_MAX_LINES,
};

/// One body, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyParts {
    /// What the sender wrote in this message, trimmed; may be empty (a reply with only a quote).
    pub new_text: String,
    /// Quoted history: reply headers, `>` blocks and everything below a reply header.
    pub quoted: Option<String>,
    /// Signature and client footers.
    pub signature: Option<String>,
}

impl ReplyParts {
    pub fn has_quote(&self) -> bool {
        self.quoted.is_some()
    }

    fn whole(body: &str) -> Self {
        Self {
            new_text: body.trim().to_string(),
            quoted: None,
            signature: None,
        }
    }
}

/// What a line of the body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    New,
    Quote,
    Signature,
}

/// Split a body into new text, quoted history and signature. Never panics; `new_text` is
/// trimmed; when nothing is recognised `new_text == body.trim()`. A deliberate forward is
/// returned whole as `new_text`.
pub fn split(body: &str) -> ReplyParts {
    let raw: Vec<&str> = body.split_inclusive('\n').collect();
    let lines: Vec<&str> = raw
        .iter()
        .map(|l| l.trim_end_matches(['\n', '\r']))
        .collect();
    let Some(mut roles) = mark_quotes(&lines) else {
        return ReplyParts::whole(body);
    };
    mark_signature(&lines, &mut roles);
    if roles.iter().all(|r| *r == Role::New) {
        return ReplyParts::whole(body);
    }
    let separator = if body.contains("\r\n") {
        "\r\n\r\n"
    } else {
        "\n\n"
    };
    let text = |role| {
        let joined = join_blocks(&raw, &lines, &roles, role, separator);
        (!joined.is_empty()).then_some(joined)
    };
    ReplyParts {
        new_text: text(Role::New).unwrap_or_default(),
        quoted: text(Role::Quote),
        signature: text(Role::Signature),
    }
}

/// [`split`], except that a message whose subject marks it as a forward ("Fwd:", "FW:", "TR:",
/// "Terusan:", "WG:", "RV:") is content as a whole: Outlook forwards with the same
/// "-----Original Message-----" block as it replies.
pub fn split_with_subject(subject: Option<&str>, body: &str) -> ReplyParts {
    if subject.is_some_and(is_forward_subject) {
        return ReplyParts::whole(body);
    }
    split(body)
}

fn is_forward_subject(subject: &str) -> bool {
    let first = subject
        .trim_start()
        .trim_start_matches('[')
        .split(':')
        .next()
        .unwrap_or("")
        .trim()
        .to_lowercase();
    subject.contains(':')
        && matches!(
            first.as_str(),
            "fwd" | "fw" | "tr" | "terusan" | "wg" | "rv" | "enc" | "doorst"
        )
}

/// Roles of the lines by quotes and reply headers, or `None` when the sender forwards a
/// message on purpose (a forward marker before any quote).
fn mark_quotes(lines: &[&str]) -> Option<Vec<Role>> {
    let mut roles = vec![Role::New; lines.len()];
    let mut marked: Vec<usize> = Vec::new();
    let (mut attributed, mut text_above) = (false, false);
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let previous = i.checked_sub(1).and_then(|p| lines.get(p).copied());
        if is_blank(line) {
            i += 1;
            continue;
        }
        if is_quote_line(line, previous) {
            marked.push(i);
            i += 1;
            continue;
        }
        if marked.is_empty() && !attributed && is_forward_marker(line) {
            return None;
        }
        // A header block with nothing above it is a forward or a letter: keep it.
        if is_separator_line(lines, i) || (text_above && is_header_block(lines, i)) {
            mark_rest(&mut roles, i);
            break;
        }
        if let Some(found) = attribution_at(lines, i) {
            let after = i + found.lines;
            let next = (after..lines.len()).find(|&j| !is_blank(lines[j]));
            let quote_below =
                next.is_some_and(|j| is_quote_line(lines[j], j.checked_sub(1).map(|p| lines[p])));
            if quote_below {
                roles[i..after].fill(Role::Quote);
                attributed = true;
                i = after;
                continue;
            }
            // "On ... <address> wrote:" above unmarked text (Yahoo, Outlook on the web): history.
            if found.has_address {
                mark_rest(&mut roles, i);
                break;
            }
        }
        text_above = true;
        i += 1;
    }
    // One stray ">" line ("> 500 m2") is content; a quote needs two lines or a reply header.
    if attributed || marked.len() >= 2 {
        for &j in &marked {
            roles[j] = Role::Quote;
        }
    }
    mark_quote_gaps(lines, &mut roles);
    Some(roles)
}

fn mark_rest(roles: &mut [Role], from: usize) {
    if let Some(rest) = roles.get_mut(from..) {
        rest.fill(Role::Quote);
    }
}

/// Blank lines between two quote lines belong to the quote.
fn mark_quote_gaps(lines: &[&str], roles: &mut [Role]) {
    let mut last_quote: Option<usize> = None;
    for i in 0..lines.len() {
        if is_blank(lines[i]) {
            continue;
        }
        if roles[i] == Role::Quote {
            if let Some(start) = last_quote {
                roles[start..i].fill(Role::Quote);
            }
            last_quote = Some(i);
        } else {
            last_quote = None;
        }
    }
}

/// Mark the signature (from a `-- ` line to the next quote) and client footers at the end of a
/// run of new text. A body that starts with `--` has no text to sign: it is left alone.
fn mark_signature(lines: &[&str], roles: &mut [Role]) {
    let first_text = (0..lines.len()).find(|&i| roles[i] == Role::New && !is_blank(lines[i]));
    if let Some(first) = first_text {
        let ends = run_ends(roles);
        for i in first + 1..lines.len() {
            let Some(kind) = (roles[i] == Role::New)
                .then(|| signature_delimiter(lines[i]))
                .flatten()
            else {
                continue;
            };
            let end = ends[i];
            // Counting stops past the limit, so a body of a thousand `--` lines stays linear.
            let short = (i..end)
                .filter(|&j| !is_blank(lines[j]))
                .nth(LOOSE_SIGNATURE_MAX_LINES + 1)
                .is_none();
            if kind == Delimiter::Strict || short {
                roles[i..end].fill(Role::Signature);
                break;
            }
        }
    }
    let mut at_boundary = true;
    for i in (0..lines.len()).rev() {
        if is_blank(lines[i]) {
            continue;
        }
        if roles[i] != Role::New {
            at_boundary = true;
        } else if at_boundary && is_mobile_footer(lines[i]) {
            roles[i] = Role::Signature;
        } else {
            at_boundary = false;
        }
    }
}

/// For each line, where its run of new text ends (the next line that is not new, or the end),
/// in one pass.
fn run_ends(roles: &[Role]) -> Vec<usize> {
    let mut ends = vec![roles.len(); roles.len()];
    for i in (0..roles.len()).rev() {
        ends[i] = if roles[i] != Role::New {
            i
        } else {
            ends.get(i + 1).copied().unwrap_or(roles.len())
        };
    }
    ends
}

/// The lines of one role, runs trimmed and joined by one blank line.
fn join_blocks(
    raw: &[&str],
    lines: &[&str],
    roles: &[Role],
    role: Role,
    separator: &str,
) -> String {
    let mut blocks: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, part) in raw.iter().enumerate() {
        if roles[i] == role {
            current.push_str(part);
        } else if !is_blank(lines[i]) {
            push_block(&mut blocks, &mut current);
        }
    }
    push_block(&mut blocks, &mut current);
    blocks.join(separator)
}

fn push_block(blocks: &mut Vec<String>, current: &mut String) {
    let block = current.trim();
    if !block.is_empty() {
        blocks.push(block.to_string());
    }
    current.clear();
}

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;
