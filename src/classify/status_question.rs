//! Status questions: "Cek status PSR-7K3M9-QXD2F", "sdh smpai mana ya permohonan sy", "Any update
//! on my application?". Such a message is answered automatically with the case's status and
//! files no new case (SPEC "Conversations by email").
//!
//! Takes the subject, the new text of the body (quotes and signatures already removed) and the
//! number of attachments; gives the tracking codes named and the phrase that made it a question,
//! or the reason it is not one. Pure and total: any input gives an answer, never a panic.
//!
//! A small, explainable matcher rather than a model, because an officer must be able to see why a
//! message was answered instead of filed. A false positive is the expensive mistake (an
//! application taken for a question is answered and never filed), so the blockers are checked
//! first and any one of them wins:
//! - machine mail (auto-replies, bounces, newsletters, invitations, offers);
//! - a filled-in form (three or more `Label: value` lines; "status perkawinan: kawin");
//! - complaint and frustration words ("kecewa", "pelayanan buruk", "kenapa belum", "tidak ada
//!   kabar"): the boundary is that **frustration wins**, so "sudah 3 bulan, kecewa, bagaimana
//!   status izin saya?" goes to the complaints desk, where a person reads it. A mere duration
//!   ("sudah 3 minggu") is not frustration;
//! - sending or applying now ("terlampir", "berikut saya kirimkan", "dengan ini mengajukan");
//!   past sending is fine ("sudah saya kirim berkasnya, sampai mana ya?"); with files attached,
//!   naming a document ("KTP", "sertifikat") also counts as sending;
//! - asking for something else too (requirements, procedure, costs, office hours, a change of
//!   data, a cancellation, where to check);
//! - more than [`MAX_CHARS`] characters of new text: a long letter is not dominated by a question.
//!
//! Then a cue must be found: a check verb before "status"/"progres"/"perkembangan" ("cek status",
//! "mohon info perkembangan"), such a word next to what it is about ("status permohonan", "kabar
//! permohonan saya") or to a question word ("statusnya gimana?"), a "how far" phrase ("sudah
//! sampai mana", "sejauh mana", "any update"), an "is it done" question about the sender's own
//! case ("apakah izin saya sudah jadi?", "kapan PBG saya keluar", "is my permit approved yet?"),
//! or a subject that is nothing but "status".

mod cues;
#[rustfmt::skip]
mod lists;
mod words;

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::TrackingCode;
use words::Token;

/// New text longer than this is a letter, not a status question.
pub const MAX_CHARS: usize = 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusQuestion {
    /// Tracking codes named in subject or text (normalised, deduplicated, in order), possibly empty.
    pub codes: Vec<TrackingCode>,
    /// The phrase that made it a question (for the case history / logs), e.g. "cek status".
    pub cue: String,
    /// Strings shaped like this office's codes whose check symbol is wrong ("PSR-7K3M9-QXD2F"),
    /// as written: the answer can say the code was mistyped instead of "no code given".
    pub unreadable_codes: Vec<String>,
}

/// Why a message is not a status question (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotStatus {
    /// Nothing in it asks how far a case is.
    NoQuestion,
    /// More than [`MAX_CHARS`] characters of new text.
    TooLong,
    /// Machine mail: an auto-reply, a bounce, a newsletter, an invitation, an offer.
    Automated(String),
    /// A filled-in form.
    Form,
    /// Complaint or frustration words win over a question.
    Complaint(String),
    /// It sends documents or applies: an application, or a reply bringing what was missing.
    Sends(String),
    /// It asks for something else as well (requirements, costs, a change, a cancellation).
    OtherRequest(String),
}

/// `subject` and `new_text` (the body with quotes and signatures already removed), `attachments`:
/// how many files came with it. Some when the message asks how far a case is and asks for nothing
/// else; None for an application, complaint, consultation or a reply that sends documents.
pub fn detect(
    office_code: &str,
    subject: Option<&str>,
    new_text: &str,
    attachments: usize,
) -> Option<StatusQuestion> {
    explain(office_code, subject, new_text, attachments).ok()
}

/// [`detect`] with the reason when the answer is no.
pub fn explain(
    office_code: &str,
    subject: Option<&str>,
    new_text: &str,
    attachments: usize,
) -> Result<StatusQuestion, NotStatus> {
    let subject = subject.unwrap_or("");
    if new_text.chars().count() > MAX_CHARS {
        return Err(NotStatus::TooLong);
    }
    // Hostile mail can carry a megabyte subject; a question fits in the first few hundred chars.
    let head = subject
        .get(..floor_char_boundary(subject, 4 * MAX_CHARS))
        .unwrap_or("");
    let subj = words::tokens(office_code, head);
    let body = words::tokens(office_code, new_text);
    blockers(&subj, &body, new_text, attachments)?;
    let cue = cue(&subj, head, &body, new_text).ok_or(NotStatus::NoQuestion)?;
    let text = format!("{subject}\n{new_text}");
    Ok(StatusQuestion {
        codes: codes_in(office_code, &text),
        cue,
        unreadable_codes: unreadable_codes(office_code, &text),
    })
}

/// The largest char boundary of `s` at or below `max`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The first blocker that applies to subject or body.
fn blockers(
    subj: &[Token],
    body: &[Token],
    new_text: &str,
    attachments: usize,
) -> Result<(), NotStatus> {
    for toks in [subj, body] {
        if let Some((_, p)) = cues::find_phrase(toks, lists::AUTOMATED) {
            return Err(NotStatus::Automated(p.to_string()));
        }
    }
    if is_form(new_text) {
        return Err(NotStatus::Form);
    }
    for toks in [subj, body] {
        if let Some((_, p)) = cues::find_phrase(toks, lists::COMPLAINT) {
            return Err(NotStatus::Complaint(p.to_string()));
        }
    }
    for toks in [subj, body] {
        if let Some((_, p)) = cues::find_phrase(toks, lists::SENDS) {
            return Err(NotStatus::Sends(p.to_string()));
        }
        if let Some(i) = cues::sends_now(toks) {
            return Err(NotStatus::Sends(toks[i].word.clone()));
        }
        if attachments > 0 {
            if let Some(i) = cues::any_word(toks, lists::DOCUMENT_NOUNS) {
                return Err(NotStatus::Sends(toks[i].word.clone()));
            }
        }
    }
    for toks in [subj, body] {
        if let Some(p) = cues::other_ask(toks) {
            return Err(NotStatus::OtherRequest(p.to_string()));
        }
    }
    Ok(())
}

static FORM_LINE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*\p{L}[\p{L} ./()]{1,30}:[ \t]*\S").ok());

/// Three or more `Label: value` lines: a form someone filled in.
fn is_form(text: &str) -> bool {
    FORM_LINE
        .as_ref()
        .is_some_and(|re| re.find_iter(text).count() >= 3)
}

/// The cue, as written (lower case, one line), looked for in the body, then the subject.
fn cue(subj: &[Token], subject: &str, body: &[Token], new_text: &str) -> Option<String> {
    let names_a_case = |toks: &[Token]| {
        toks.iter().any(|t| {
            t.word == words::CODE || ["permohonan", "pengajuan"].contains(&t.word.as_str())
        })
    };
    if let Some(s) = cues::find_cue(body, names_a_case(subj)) {
        return Some(quote(new_text, body, s));
    }
    let s = cues::find_cue(subj, names_a_case(body)).or_else(|| cues::bare_status_subject(subj))?;
    Some(quote(subject, subj, s))
}

fn quote(text: &str, toks: &[Token], (a, b): cues::Span) -> String {
    let (start, end) = (toks[a].start, toks[b].end);
    let s: String = text
        .get(start..end)
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    s.chars().take(80).collect()
}

/// The pattern (without flags or anchors) of this office's code in any forgiving form: any
/// case, I/L for 1, O for 0, dashes, spaces or dots between the parts or none at all. Groups 1
/// and 2 are the two halves. None for an invalid office code (an empty one would make every
/// ten-letter word a candidate).
fn own_code_pattern(office_code: &str) -> Option<String> {
    crate::domain::tracking::valid_office(office_code).then(|| {
        format!(
            r"{}[\s\-–—_.:#]*([0-9a-z]{{5}})[\s\-–—_.]?([0-9a-z]{{5}})",
            regex::escape(office_code)
        )
    })
}

fn code_pattern(office_code: &str) -> Option<Regex> {
    crate::domain::tracking::cached_regex(&format!(r"(?i)\b{}\b", own_code_pattern(office_code)?))
}

/// All tracking codes of this office named in `text` (any forgiving form: case-insensitive,
/// I/L->1, O->0, missing dashes; see TrackingCode in src/domain/tracking.rs).
pub fn codes_in(office_code: &str, text: &str) -> Vec<TrackingCode> {
    let Some(re) = code_pattern(office_code) else {
        return Vec::new();
    };
    let mut out: Vec<TrackingCode> = Vec::new();
    for c in re.captures_iter(text) {
        let symbols = format!("{}{}", &c[1], &c[2]);
        if let Ok(code) = TrackingCode::parse_for(office_code, &symbols) {
            if !out.contains(&code) {
                out.push(code);
            }
        }
    }
    out
}

/// Code-shaped strings of this office that fail the check symbol, as written.
fn unreadable_codes(office_code: &str, text: &str) -> Vec<String> {
    let Some(re) = code_pattern(office_code) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for c in re.captures_iter(text) {
        let symbols = format!("{}{}", &c[1], &c[2]);
        let written = c[0].to_string();
        // A word after the office code ("PSR layanannya") is not a code; real codes nearly
        // always carry a digit.
        let code_like = symbols.chars().any(|ch| ch.is_ascii_digit());
        if code_like
            && TrackingCode::parse_for(office_code, &symbols).is_err()
            && !out.contains(&written)
        {
            out.push(written);
        }
    }
    out
}

#[cfg(test)]
mod tests;
