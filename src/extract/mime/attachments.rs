//! Attachments of a message and of the messages forwarded inside it (see the parent module
//! for which forwarded messages are kept whole), with safe, unique filenames.

use std::collections::HashSet;

use mail_parser::{Encoding, Message, MessagePart, MimeHeaders, PartType};

use super::{filename, note_decoding_problem, Attachment, MimeLimits};
use crate::extract::archive::ArchiveLimits;
use crate::extract::tnef;

/// Every attachment of `msg`, up to the limits; what was left out is noted in `problems`.
/// Also the body of the first `winmail.dat`, if it has one (for mail with no other body).
pub(super) fn collect(
    msg: &Message<'_>,
    limits: &MimeLimits,
    problems: &mut Vec<String>,
) -> (Vec<Attachment>, Option<String>) {
    Attachments::collect(msg, limits, problems)
}

/// Gathers attachments across nesting levels, enforcing the limits.
struct Attachments<'l> {
    limits: &'l MimeLimits,
    found: Vec<Attachment>,
    used_names: HashSet<String>,
    skipped: usize,
    tnef_body: Option<String>,
}

impl<'l> Attachments<'l> {
    fn collect(
        msg: &Message<'_>,
        limits: &'l MimeLimits,
        problems: &mut Vec<String>,
    ) -> (Vec<Attachment>, Option<String>) {
        let mut this = Self {
            limits,
            found: Vec::new(),
            used_names: HashSet::new(),
            skipped: 0,
            tnef_body: None,
        };
        this.walk(msg, 0, problems);
        if this.skipped > 0 {
            problems.push(format!(
                "{} attachment(s) beyond the limit of {} were not extracted",
                this.skipped, limits.max_attachments
            ));
        }
        (this.found, this.tnef_body)
    }

    fn walk(&mut self, msg: &Message<'_>, depth: usize, problems: &mut Vec<String>) {
        for part in msg.attachments() {
            match &part.body {
                PartType::Message(inner) => self.forwarded(msg, part, inner, depth, problems),
                PartType::Multipart(_) => {}
                _ => {
                    note_decoding_problem(part, problems);
                    let name = part.attachment_name();
                    if tnef::is_tnef(part.contents()) {
                        self.winmail(name, part.contents(), problems);
                    } else {
                        self.push(name, declared_type(part), part.contents());
                    }
                }
            }
        }
    }

    /// A forwarded message: its attachments, or itself as `.eml` if it has none (module docs).
    fn forwarded(
        &mut self,
        parent: &Message<'_>,
        part: &MessagePart<'_>,
        inner: &Message<'_>,
        depth: usize,
        problems: &mut Vec<String>,
    ) {
        let before = self.found.len() + self.skipped;
        if depth < self.limits.max_depth {
            self.walk(inner, depth + 1, problems);
        } else {
            problems.push(format!(
                "forwarded message nested deeper than {} levels was kept whole",
                self.limits.max_depth
            ));
        }
        if self.found.len() + self.skipped == before {
            let name = part
                .attachment_name()
                .map(String::from)
                .or_else(|| inner.subject().map(|s| format!("{}.eml", s.trim())));
            self.push(
                name.as_deref(),
                "message/rfc822".to_string(),
                raw_part(parent, part, inner),
            );
        }
    }

    /// Outlook's `winmail.dat`: the files inside become attachments (as for a ZIP, with the
    /// same limits). One that can't be unpacked stays as it is; reading it records why.
    fn winmail(&mut self, name: Option<&str>, data: &[u8], problems: &mut Vec<String>) {
        let outer = name.unwrap_or("winmail.dat");
        match tnef::unpack(data, &ArchiveLimits::default()) {
            Ok(t) => {
                if self.tnef_body.is_none() {
                    self.tnef_body = t.body();
                }
                problems.extend(t.problems.iter().map(|p| format!("{outer}: {p}")));
                for file in t.files {
                    let declared = crate::extract::sniff::sniff(&file.data)
                        .unwrap_or("application/octet-stream");
                    let before = self.found.len();
                    self.push(Some(&file.name), declared.to_string(), &file.data);
                    if let Some(last) = self.found.get_mut(before) {
                        last.original_filename = Some(format!("{outer}/{}", file.name));
                    }
                }
            }
            Err(e) => {
                problems.push(format!("{outer}: {e}"));
                self.push(name, "application/vnd.ms-tnef".to_string(), data);
            }
        }
    }

    fn push(&mut self, original: Option<&str>, content_type: String, data: &[u8]) {
        if self.found.len() >= self.limits.max_attachments {
            self.skipped += 1;
            return;
        }
        let number = self.found.len() + 1;
        let safe = filename::sanitize(original, &content_type, number);
        let filename = filename::unique(safe, &mut self.used_names);
        self.found.push(Attachment {
            filename,
            original_filename: original.map(String::from).filter(|n| !n.trim().is_empty()),
            content_type,
            data: data.to_vec(),
        });
    }
}

/// The bytes of a message/rfc822 part. mail-parser parses an encoded (base64 or
/// quoted-printable) forwarded message from its own decoded copy, which is then exactly the
/// message. Otherwise the nested message shares the outer message's buffer (its copy may be
/// the whole outer message), and the part's offsets, relative to the buffer of the message
/// that contains it, cut it out.
fn raw_part<'a>(
    parent: &'a Message<'_>,
    part: &MessagePart<'_>,
    inner: &'a Message<'_>,
) -> &'a [u8] {
    if part.encoding != Encoding::None {
        return inner.raw_message();
    }
    let (start, end) = (
        part.raw_body_offset() as usize,
        part.raw_end_offset() as usize,
    );
    parent
        .raw_message()
        .get(start..end)
        .filter(|raw| !raw.is_empty())
        .unwrap_or(inner.raw_message())
}

fn declared_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match &ct.c_subtype {
            Some(sub) => format!("{}/{}", ct.c_type, sub).to_lowercase(),
            None => ct.c_type.to_lowercase(),
        },
        // RFC 2045 section 5.2: no Content-Type means text/plain.
        None => match part.body {
            PartType::Text(_) => "text/plain".to_string(),
            PartType::Html(_) => "text/html".to_string(),
            _ => "application/octet-stream".to_string(),
        },
    }
}
