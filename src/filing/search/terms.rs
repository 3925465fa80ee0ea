//! What an officer typed, as search terms: words cut out of the input (so no character of it can
//! reach the query syntax of FTS5 or `to_tsquery`), each with the Indonesian word forms it
//! should also find, and the engines' query strings built from nothing but those words.
//!
//! Indonesian builds words from a stem with prefixes and suffixes (`bangun` → `bangunan`,
//! `pembangunan`, `dibangunkan`; `izin` → `perizinan`). SQLite's tokenizer knows none of that,
//! so each word is searched as itself and as the stems left after stripping the usual affixes,
//! both as prefixes (`bangun*` also finds `bangunannya`). A prefix query cannot see through a
//! prefix in the document: "izin" does not find "perizinan" on SQLite. PostgreSQL's `indonesian`
//! configuration stems both sides, so there the word alone is enough.

/// Words beyond this are ignored: an officer's query, not a document pasted into the box.
const MAX_WORDS: usize = 8;
/// Stems shorter than this match too much as prefixes (`dinas` → `nas*` → `nasional`).
const MIN_STEM: usize = 4;
/// Words shorter than this are matched exactly, not as prefixes (`a*` would match half the text).
const MIN_PREFIX: usize = 3;
/// Forms searched per word, at most.
const MAX_FORMS: usize = 5;

/// One word of the query, lower case, with the prefixes to search for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub word: String,
    /// Prefix queries that find the word and the stems it may have come from: the fewest that
    /// cover them all (`bangun` covers `bangunan`), the one covering the word first. Empty for a
    /// word too short to search as a prefix: it is matched exactly.
    pub prefixes: Vec<String>,
}

/// The words of `input` (letters and digits; everything else separates them), at most
/// [`MAX_WORDS`], duplicates dropped. Empty when the input has no word at all.
pub fn terms(input: &str) -> Vec<Term> {
    let mut words: Vec<String> = Vec::new();
    for w in input.split(|c: char| !c.is_alphanumeric()) {
        let w = w.to_lowercase();
        if !w.is_empty() && !words.contains(&w) {
            words.push(w);
        }
    }
    words.truncate(MAX_WORDS);
    words
        .into_iter()
        .map(|word| Term {
            prefixes: prefixes(&word),
            word,
        })
        .collect()
}

/// The FTS5 query: every word (AND), each as any of its forms, as quoted strings. Inside double
/// quotes FTS5 reads no operators (`NEAR`, `AND`, `:`, `*`), and the words hold no quote.
pub fn fts5_query(terms: &[Term]) -> Option<String> {
    let groups: Vec<String> = terms
        .iter()
        .map(|t| {
            if t.prefixes.is_empty() {
                return format!("\"{}\"", t.word);
            }
            let forms: Vec<String> = t.prefixes.iter().map(|f| format!("\"{f}\"*")).collect();
            format!("({})", forms.join(" OR "))
        })
        .collect();
    (!groups.is_empty()).then(|| groups.join(" AND "))
}

/// The `to_tsquery` text: every word (AND) as a quoted lexeme, a prefix unless very short; the
/// configuration stems it (`'bangunan':*` becomes `'bangun':*`). Words hold only letters and
/// digits, so the quotes can't be broken out of.
pub fn tsquery(terms: &[Term]) -> Option<String> {
    let parts: Vec<String> = terms
        .iter()
        .map(|t| {
            let star = if t.prefixes.is_empty() { "" } else { ":*" };
            format!("'{}'{star}", t.word)
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" & "))
}

/// The prefixes to search for `word`: itself and the stems it may have been made from
/// ([`stems`]), without those another one already covers.
fn prefixes(word: &str) -> Vec<String> {
    if word.chars().count() < MIN_PREFIX {
        return Vec::new();
    }
    let mut candidates = stems(word);
    candidates.push(word.to_string());
    candidates.sort_by_key(|s| s.chars().count());
    let mut kept: Vec<String> = Vec::new();
    for c in candidates {
        if !kept.iter().any(|k| c.starts_with(k.as_str())) {
            kept.push(c);
        }
    }
    // The one that finds the word itself goes first, so the cap never drops it.
    if let Some(i) = kept.iter().position(|k| word.starts_with(k.as_str())) {
        let covering = kept.remove(i);
        kept.insert(0, covering);
    }
    kept.truncate(MAX_FORMS);
    kept
}

/// Stems `word` may have been made from, by stripping particles (-lah, -kah, -pun), possessives
/// (-nya, -ku, -mu), one derivational suffix (-kan, -an, -i) and up to two prefixes (me-, di-,
/// ber-, ter-, pe-, per-, ke-, se- and the nasal forms mem-/men-/meng-/meny-, pem-/pen-/peng-/
/// peny-, with the stem's first letter restored where the nasal replaced it: menulis → tulis).
/// Only stems of at least [`MIN_STEM`] letters.
fn stems(word: &str) -> Vec<String> {
    let base = strip_inflection(word);
    let mut bases = vec![base.to_string()];
    if let Some(s) = ["kan", "an", "i"].iter().find_map(|x| base.strip_suffix(x)) {
        bases.push(s.to_string());
    }
    let mut found: Vec<String> = Vec::new();
    for b in bases {
        for once in strip_prefix(&b) {
            found.extend(strip_prefix(&once));
            found.push(once);
        }
        found.push(b);
    }
    found.retain(|s| s != word && s.chars().count() >= MIN_STEM);
    found
}

fn strip_inflection(word: &str) -> &str {
    let mut w = word;
    for particle in ["lah", "kah", "pun"] {
        if let Some(s) = w.strip_suffix(particle) {
            if s.chars().count() >= MIN_STEM {
                w = s;
                break;
            }
        }
    }
    for possessive in ["nya", "ku", "mu"] {
        if let Some(s) = w.strip_suffix(possessive) {
            if s.chars().count() >= MIN_STEM {
                w = s;
                break;
            }
        }
    }
    w
}

/// The word without one prefix: every reading (a nasal prefix may have eaten the stem's first
/// letter, or not).
fn strip_prefix(word: &str) -> Vec<String> {
    const NASAL: [(&str, &str); 8] = [
        ("meny", "s"),
        ("peny", "s"),
        ("meng", "k"),
        ("peng", "k"),
        ("mem", "p"),
        ("pem", "p"),
        ("men", "t"),
        ("pen", "t"),
    ];
    const PLAIN: [&str; 9] = ["ber", "per", "ter", "di", "ke", "se", "be", "me", "pe"];
    let starts_vowel = |s: &str| s.starts_with(['a', 'e', 'i', 'o', 'u']);
    for (prefix, lost) in NASAL {
        if let Some(rest) = word.strip_prefix(prefix) {
            let mut out = vec![rest.to_string()];
            if starts_vowel(rest) {
                out.push(format!("{lost}{rest}"));
            }
            return out;
        }
    }
    PLAIN
        .iter()
        .find_map(|p| word.strip_prefix(p))
        .map(|rest| vec![rest.to_string()])
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems_of(word: &str) -> Vec<String> {
        terms(word).remove(0).prefixes
    }

    #[test]
    fn inflected_words_lead_back_to_their_stems() {
        assert!(stems_of("bangunan").contains(&"bangun".to_string()));
        assert!(stems_of("bangunannya").contains(&"bangun".to_string()));
        assert!(stems_of("perizinan").contains(&"izin".to_string()));
        assert!(stems_of("pembangunan").contains(&"bangun".to_string()));
        assert!(stems_of("menulis").contains(&"tulis".to_string()));
        assert!(stems_of("mengirimkan").contains(&"kirim".to_string()));
        assert!(stems_of("diperbaiki").contains(&"baik".to_string()));
        assert!(stems_of("penyampaian").contains(&"sampai".to_string()));
    }

    #[test]
    fn short_stems_are_not_searched_as_prefixes() {
        assert!(!stems_of("dinas").contains(&"nas".to_string()));
        assert_eq!(stems_of("izin"), ["izin"]);
        assert_eq!(stems_of("bangunannya")[0], "bangun");
    }

    #[test]
    fn hostile_input_is_only_words() {
        for hostile in ["\"", "*", "')--", "", "  ", "(((", ":"] {
            assert!(terms(hostile).is_empty(), "{hostile:?}");
            assert_eq!(fts5_query(&terms(hostile)), None);
            assert_eq!(tsquery(&terms(hostile)), None);
        }
        let q = fts5_query(&terms("NEAR(izin a:b \"x\" *")).unwrap();
        assert_eq!(
            q,
            "(\"near\"*) AND (\"izin\"*) AND \"a\" AND \"b\" AND \"x\""
        );
        assert_eq!(
            tsquery(&terms("izin & bangunan | !x")).unwrap(),
            "'izin':* & 'bangunan':* & 'x'"
        );
    }

    #[test]
    fn queries_are_bounded() {
        let long = "kata ".repeat(100) + &(0..100).map(|i| format!("w{i} ")).collect::<String>();
        assert_eq!(terms(&long).len(), MAX_WORDS);
    }
}
