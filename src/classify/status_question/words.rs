//! Words as people type them in a hurry, turned into the words the cue lists use.
//!
//! Takes a field's text, gives its tokens: lower case, letters repeated three times or more
//! collapsed ("statusss"), texting abbreviations and Javanese/informal forms mapped ("sdh",
//! "smpai", "gmn", "pripun", "dereng"), the suffixes "-nya"/"-kah" dropped when the stem is a
//! known word ("statusnya", "sudahkah"), and one slip of the finger forgiven in longer known
//! words ("sttus", "stauts", "permohonn"). A tracking code of any office becomes the single token
//! [`CODE`], and "?" is a token of its own because it is the plainest question mark there is.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::{cues, lists};

/// The token that stands for a tracking code (of this office or any other).
pub const CODE: &str = "#code";
/// The token a form label "Status:" or "status tanah" becomes, so it counts as no cue.
pub const FIELD: &str = "#field";

/// One word of a field, in canonical form, with its byte range in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub word: String,
    pub start: usize,
    pub end: usize,
}

struct Lexicon {
    synonyms: HashMap<&'static str, &'static str>,
    /// Every word some list uses, plus the protected ones: these are never fuzzed.
    known: HashSet<&'static str>,
    /// Known words long enough to forgive a typo in (six letters or more).
    fuzzy_targets: Vec<&'static str>,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let synonyms = lists::SYNONYMS
        .iter()
        .flat_map(|(word, variants)| variants.iter().map(move |v| (*v, *word)))
        .collect();
    let mut known: HashSet<&'static str> = cues::vocabulary().collect();
    known.extend(lists::PROTECTED);
    known.extend(lists::SYNONYMS.iter().map(|(w, _)| *w));
    let mut fuzzy_targets: Vec<&'static str> = cues::vocabulary()
        .filter(|w| w.chars().count() >= 6 && w.chars().all(char::is_alphabetic))
        .collect();
    fuzzy_targets.sort_unstable();
    fuzzy_targets.dedup();
    Lexicon {
        synonyms,
        known,
        fuzzy_targets,
    }
});

/// This office's code in any forgiving form, or any office's code written with dashes.
fn code_pattern(office_code: &str) -> Option<Regex> {
    let any_office = r"[a-z]{2,8}-[0-9a-z]{5}-[0-9a-z]{5}";
    let pattern = match super::own_code_pattern(office_code) {
        Some(own) => format!(r"(?i)\b(?:{own}|{any_office})\b"),
        None => format!(r"(?i)\b{any_office}\b"),
    };
    crate::domain::tracking::cached_regex(&pattern)
}

/// The canonical tokens of `text`.
pub fn tokens(office_code: &str, text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut at = 0;
    if let Some(re) = code_pattern(office_code) {
        for m in re.find_iter(text) {
            words_into(text, at, m.start(), &mut out);
            out.push(Token {
                word: CODE.to_string(),
                start: m.start(),
                end: m.end(),
            });
            at = m.end();
        }
    }
    words_into(text, at, text.len(), &mut out);
    mark_fields(text, &mut out);
    out
}

/// Split `text[from..to]` into words and "?" tokens.
fn words_into(text: &str, from: usize, to: usize, out: &mut Vec<Token>) {
    let part = &text[from..to];
    let mut start: Option<usize> = None;
    for (i, c) in part
        .char_indices()
        .chain(std::iter::once((part.len(), ' ')))
    {
        let in_word = c.is_alphanumeric() || (c == '\'' && start.is_some());
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let raw = part[s..i].trim_end_matches('\'');
                out.push(Token {
                    word: canonical(raw),
                    start: from + s,
                    end: from + s + raw.len(),
                });
                start = None;
            }
            _ => {}
        }
        if c == '?' {
            out.push(Token {
                word: "?".to_string(),
                start: from + i,
                end: from + i + 1,
            });
        }
    }
}

/// "Status:" as a form label, and "status tanah", "status perkawinan" and the like, name a fact
/// about the applicant, not a question about the case.
fn mark_fields(text: &str, toks: &mut [Token]) {
    for i in 0..toks.len() {
        if toks[i].word != "status" {
            continue;
        }
        let label = text[toks[i].end..]
            .trim_start_matches([' ', '\t'])
            .starts_with(':');
        let of_a_thing = toks
            .get(i + 1)
            .is_some_and(|t| lists::FIELD_NOUNS.contains(&t.word.as_str()));
        let thing_first = i > 0 && lists::FIELD_NOUNS_BEFORE.contains(&toks[i - 1].word.as_str());
        if label || of_a_thing || thing_first {
            toks[i].word = FIELD.to_string();
        }
    }
}

/// One word in canonical form.
pub fn canonical(raw: &str) -> String {
    let lex = &*LEXICON;
    let word = collapse_runs(&raw.to_lowercase());
    if let Some(known) = lookup(lex, &word) {
        return known.to_string();
    }
    for suffix in ["nya", "kah"] {
        if let Some(stem) = word.strip_suffix(suffix).filter(|s| s.chars().count() >= 3) {
            if let Some(known) = lookup(lex, stem) {
                return known.to_string();
            }
        }
    }
    fuzzy(lex, &word).map_or(word, str::to_string)
}

fn lookup(lex: &Lexicon, word: &str) -> Option<&'static str> {
    if let Some(w) = lex.synonyms.get(word) {
        return Some(w);
    }
    lex.known.get(word).copied()
}

/// "statusss" -> "status": a letter typed three or more times in a row counts once.
fn collapse_runs(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|&&c| c == chars[i]).count();
        let keep = if run >= 3 { 1 } else { run };
        out.extend(std::iter::repeat_n(chars[i], keep));
        i += run;
    }
    out
}

/// The known word `word` is a slip away from: one edit (a transposition counts as one) for words
/// of six letters or more, two for nine or more, the first letter right.
fn fuzzy(lex: &Lexicon, word: &str) -> Option<&'static str> {
    let len = word.chars().count();
    if !(4..=20).contains(&len) || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    let first = word.chars().next()?;
    lex.fuzzy_targets
        .iter()
        .filter(|t| t.starts_with(first))
        .filter_map(|t| {
            let target_len = t.chars().count();
            let allowed = if target_len >= 9 { 2 } else { 1 };
            // Lengths further apart than the edits allowed cannot match: skip the distance.
            if len.abs_diff(target_len) > allowed {
                return None;
            }
            let d = strsim::osa_distance(word, t);
            (d <= allowed).then_some((d, *t))
        })
        .min()
        .map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokens("PSR", text).into_iter().map(|t| t.word).collect()
    }

    #[test]
    fn hurried_spelling_becomes_the_listed_words() {
        assert_eq!(words("sdh smpai mn"), ["sudah", "sampai", "mana"]);
        assert_eq!(words("Cek sttus"), ["cek", "status"]);
        assert_eq!(
            words("stauts statsu STATUSSS"),
            ["status", "status", "status"]
        );
        assert_eq!(words("permohonn"), ["permohonan"]);
        assert_eq!(words("statusnya gimana?"), ["status", "bagaimana", "?"]);
        assert_eq!(words("sampun terbit dereng"), ["sudah", "terbit", "belum"]);
    }

    #[test]
    fn common_words_are_not_taken_for_typos() {
        assert_eq!(words("Permisi"), ["permisi"]);
        assert_eq!(words("semoga berkah"), ["semoga", "berkah"]);
        assert_eq!(words("pengaduan"), ["pengaduan"]);
    }

    #[test]
    fn codes_and_form_labels_become_markers() {
        assert_eq!(words("cek psr 7k3m9 qxd2f ya"), ["cek", CODE, "ya"]);
        assert_eq!(words("KDR-7K3M9-QXD2F"), [CODE]);
        assert_eq!(words("Status: kawin"), [FIELD, "kawin"]);
        assert_eq!(words("status tanah"), [FIELD, "tanah"]);
    }

    #[test]
    fn every_listed_word_is_already_canonical() {
        let lost: Vec<(&str, String)> = cues::vocabulary()
            .filter(|w| w.chars().all(char::is_alphanumeric))
            .map(|w| (w, canonical(w)))
            .filter(|(w, c)| w != c)
            .collect();
        assert!(
            lost.is_empty(),
            "list words that would never match: {lost:?}"
        );
    }

    #[test]
    fn hostile_text_never_panics() {
        for text in [
            "",
            "?",
            "ä́́́́",
            "'''",
            "statussss\u{0}",
            "PSR-",
            &"a".repeat(10_000),
        ] {
            let _ = tokens("PSR", text);
        }
        let _ = tokens("(", "(x");
    }
}
