//! Subjects that auto-responders and bounce generators write, in Bahasa Indonesia and English
//! (and the German and French Outlook ones that reach Indonesian offices from partners abroad).
//!
//! A phrase counts only at the start of the subject, after reply and forward prefixes and
//! bracketed tags: an out-of-office reply is "Automatic reply: [PSR-...] Tanda terima ...",
//! while an applicant who writes "Permohonan izin usaha (balasan otomatis tidak saya terima)"
//! is a person talking about one.

/// Phrases, lower-case, as they start the subject. Each must be followed by the end of the
/// subject or a character that is not a letter or digit ("Autoreply:" yes, "Autoreplying" no).
const PHRASES: &[&str] = &[
    // Out of office, vacation and other automatic replies.
    "balasan otomatis",
    "jawaban otomatis",
    "tanggapan otomatis",
    "pesan otomatis",
    "otomatis:",
    "sedang di luar kantor",
    "di luar kantor",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "autoresponse",
    "out of office",
    "out of the office",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
    // Delivery reports (Postfix, Exim, Sendmail, qmail, Exchange, Gmail, Lotus Notes).
    "undeliverable",
    "undelivered mail returned to sender",
    "undelivered mail",
    "delivery status notification",
    "delivery failure",
    "delivery has failed",
    "delayed mail",
    "returned mail",
    "mail delivery failed",
    "mail delivery failure",
    "mail system error",
    "failure notice",
    "nondeliverable mail",
    "non-deliverable mail",
    "warning: could not send message",
    "tidak dapat dikirim",
    "tidak terkirim:",
    "pesan tidak terkirim",
    "pemberitahuan status pengiriman",
];

/// Reply and forward prefixes of common clients, lower-case, without the colon.
const PREFIXES: &[&str] = &["re", "fwd", "fw", "aw", "wg", "tr", "balas", "bls", "trs"];

/// The auto-reply phrase `subject` starts with, as written in the subject.
pub(super) fn auto_phrase(subject: &str) -> Option<String> {
    let rest = strip_prefixes(subject);
    let lower = rest.to_lowercase();
    PHRASES.iter().find_map(|phrase| {
        let after = lower.strip_prefix(phrase)?;
        let ends_word =
            phrase.ends_with(':') || after.chars().next().is_none_or(|c| !c.is_alphanumeric());
        // `to_lowercase` keeps these phrases' lengths (ASCII and "é"), so the prefix of `rest`
        // is the same text as written.
        ends_word.then(|| rest.chars().take(phrase.chars().count()).collect())
    })
}

/// `subject` without leading "Re:", "Fwd:", "AW:" prefixes and short "[tag]"s, in any order.
fn strip_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim_start();
    loop {
        let before = rest;
        if let Some(tagged) = rest.strip_prefix('[') {
            match tagged.find(']') {
                Some(end) if end <= 40 => rest = tagged[end + 1..].trim_start(),
                _ => {}
            }
        }
        if let Some((word, after)) = rest.split_once(':') {
            if PREFIXES.iter().any(|p| word.trim().eq_ignore_ascii_case(p)) {
                rest = after.trim_start();
            }
        }
        if rest.len() == before.len() {
            return rest;
        }
    }
}
