//! Text matching that tolerates informal Indonesian: lower case, punctuation and spacing ignored,
//! abbreviations mapped to words (`rules/normalize.toml`), `word*` prefixes, and one typo per
//! long word ("permohnan" matches "permohonan").
//!
//! Takes compiled patterns and a field's text, gives the first hit with a snippet. Pure.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::identifiers;

/// Where a pattern looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Subject,
    Body,
    Filename,
    Document,
}

impl Field {
    pub const ALL: [Field; 4] = [
        Field::Subject,
        Field::Body,
        Field::Document,
        Field::Filename,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Subject => "subject",
            Field::Body => "body",
            Field::Filename => "filename",
            Field::Document => "document",
        }
    }
}

/// One word of the text, normalised, with its byte range in the original.
#[derive(Debug, Clone)]
pub struct Token {
    pub word: String,
    /// The word is itself in some rule, so it is not read as a typo of another.
    pub known: bool,
    pub start: usize,
    pub end: usize,
}

/// A field's text, prepared once per case.
#[derive(Debug)]
pub struct FieldText<'a> {
    pub field: Field,
    pub text: &'a str,
    pub tokens: Vec<Token>,
    pub identifiers: Vec<super::Identifier>,
}

impl<'a> FieldText<'a> {
    pub fn new(field: Field, text: &'a str, lexicon: &Lexicon) -> Self {
        let mut tokens = tokenize(text, &lexicon.synonyms);
        for t in &mut tokens {
            t.known = lexicon.vocabulary.contains(&t.word);
        }
        FieldText {
            field,
            text,
            tokens,
            identifiers: identifiers::extract(text),
        }
    }
}

/// Spelling variants and the words the rules use.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    /// variant -> word
    pub synonyms: HashMap<String, String>,
    pub vocabulary: HashSet<String>,
}

/// Split into lower-case alphanumeric words; map known variants ("ijin", "izn") to their word.
pub fn tokenize(text: &str, synonyms: &HashMap<String, String>) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let word = text[s..i].to_lowercase();
                let word = synonyms.get(&word).cloned().unwrap_or(word);
                out.push(Token {
                    word,
                    known: false,
                    start: s,
                    end: i,
                });
                start = None;
            }
            _ => {}
        }
    }
    out
}

#[derive(Debug, Clone)]
pub struct PhraseWord {
    word: String,
    prefix: bool,
    fuzzy: bool,
}

/// What a pattern looks for.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Any of these phrases (each a sequence of words).
    Phrases(Vec<(String, Vec<PhraseWord>)>),
    Regex(Regex),
    /// A valid identifier of this kind (`nik`, `npwp`, `nib`, `phone`, `email`).
    Identifier(String),
}

/// A compiled `[[...match]]` entry.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub pattern: Pattern,
    pub weight: f64,
    pub fields: Vec<Field>,
    /// When not empty, the matcher reads only documents typed as one of these (see
    /// [`Matcher::find_in_typed`]), never the subject, body or other documents.
    pub doc_types: Vec<String>,
}

/// A typed document's text, for matchers that read documents of given types.
#[derive(Debug, Clone, Copy)]
pub struct TypedText<'t, 'a> {
    pub doc_type: &'t str,
    pub filename: &'t str,
    pub text: &'t FieldText<'a>,
}

/// A hit: where and what.
#[derive(Debug, Clone)]
pub struct Hit {
    pub field: Field,
    pub snippet: String,
}

impl Pattern {
    pub fn phrases(list: &[String], synonyms: &HashMap<String, String>, fuzzy_min: usize) -> Self {
        let compiled = list
            .iter()
            .map(|p| {
                let words = tokenize(p, synonyms)
                    .into_iter()
                    .map(|t| {
                        let prefix = p[t.end..].starts_with('*');
                        let word = t.word;
                        let fuzzy = !prefix && word.chars().count() >= fuzzy_min;
                        PhraseWord {
                            word,
                            prefix,
                            fuzzy,
                        }
                    })
                    .collect();
                (p.clone(), words)
            })
            .collect();
        Pattern::Phrases(compiled)
    }
}

impl Matcher {
    /// The literal words of this matcher's phrases.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        let list = match &self.pattern {
            Pattern::Phrases(l) => l.as_slice(),
            _ => &[],
        };
        list.iter()
            .flat_map(|(_, ws)| ws.iter().filter(|w| !w.prefix).map(|w| w.word.as_str()))
    }

    /// The first hit in the first field (in `fields` order) that has one.
    pub fn find(&self, texts: &[&FieldText<'_>]) -> Option<Hit> {
        if !self.doc_types.is_empty() {
            return None;
        }
        for ft in texts.iter().filter(|t| self.fields.contains(&t.field)) {
            if let Some(snippet) = self.find_in(ft) {
                return Some(Hit {
                    field: ft.field,
                    snippet,
                });
            }
        }
        None
    }

    /// The first hit in a typed document whose type this matcher reads; the snippet names the
    /// document (`str.pdf: …KONSIL KEDOKTERAN…`).
    pub fn find_in_typed(&self, docs: &[TypedText<'_, '_>]) -> Option<Hit> {
        docs.iter()
            .filter(|d| self.doc_types.iter().any(|t| t == d.doc_type))
            .find_map(|d| {
                self.find_in(d.text).map(|s| Hit {
                    field: Field::Document,
                    snippet: format!("{}: {s}", d.filename),
                })
            })
    }

    fn find_in(&self, ft: &FieldText<'_>) -> Option<String> {
        match &self.pattern {
            Pattern::Phrases(list) => list.iter().find_map(|(_, words)| {
                find_phrase(&ft.tokens, words)
                    .map(|(a, b)| snippet(ft.text, ft.tokens[a].start, ft.tokens[b].end))
            }),
            Pattern::Regex(re) => re
                .find(ft.text)
                .map(|m| snippet(ft.text, m.start(), m.end())),
            Pattern::Identifier(kind) => ft
                .identifiers
                .iter()
                .find(|i| &i.kind == kind)
                .map(|i| format!("{}: {}", i.kind, i.value)),
        }
    }
}

fn find_phrase(tokens: &[Token], words: &[PhraseWord]) -> Option<(usize, usize)> {
    if words.is_empty() || tokens.len() < words.len() {
        return None;
    }
    (0..=tokens.len() - words.len()).find_map(|i| {
        words
            .iter()
            .zip(&tokens[i..])
            .all(|(w, t)| word_matches(w, t))
            .then(|| (i, i + words.len() - 1))
    })
}

fn word_matches(w: &PhraseWord, t: &Token) -> bool {
    let token = t.word.as_str();
    if w.prefix {
        return token.starts_with(&w.word);
    }
    if token == w.word {
        return true;
    }
    w.fuzzy
        && !t.known
        && token.len().abs_diff(w.word.len()) <= 1
        && token.as_bytes().first() == w.word.as_bytes().first()
        && within_one_edit(token, &w.word)
}

/// Levenshtein distance <= 1, without building a matrix. Compared as bytes when both words are
/// ASCII (nearly every word: it is tried for every unknown word against every phrase's first
/// word, and collecting chars was most of the matcher's time), as chars otherwise.
fn within_one_edit(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return one_edit(a.as_bytes(), b.as_bytes());
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    one_edit(&a, &b)
}

fn one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if prefix == short.len() {
        return true;
    }
    if short.len() == long.len() {
        short[prefix + 1..] == long[prefix + 1..]
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

/// The matched text with up to 30 characters either side, on one line.
fn snippet(text: &str, start: usize, end: usize) -> String {
    let mut a = start.saturating_sub(30);
    while !text.is_char_boundary(a) {
        a -= 1;
    }
    let mut b = (end + 30).min(text.len());
    while !text.is_char_boundary(b) {
        b += 1;
    }
    let s: String = text[a..b].split_whitespace().collect::<Vec<_>>().join(" ");
    match (a > 0, b < text.len()) {
        (true, true) => format!("…{s}…"),
        (true, false) => format!("…{s}"),
        (false, true) => format!("{s}…"),
        (false, false) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(phrase: &str) -> Matcher {
        let syn = HashMap::from([("izn".to_string(), "izin".to_string())]);
        Matcher {
            pattern: Pattern::phrases(&[phrase.to_string()], &syn, 5),
            weight: 1.0,
            fields: vec![Field::Body],
            doc_types: Vec::new(),
        }
    }

    fn hit(phrase: &str, text: &str) -> Option<String> {
        let lex = Lexicon {
            synonyms: HashMap::from([("izn".to_string(), "izin".to_string())]),
            vocabulary: HashSet::from(["pengaduan".to_string()]),
        };
        m(phrase)
            .find(&[&FieldText::new(Field::Body, text, &lex)])
            .map(|h| h.snippet)
    }

    #[test]
    fn one_edit_is_the_same_for_ascii_and_other_letters() {
        for (a, b, want) in [
            ("permohonan", "permohnan", true),
            ("permohonan", "permohonam", true),
            ("permohonan", "permohonann", true),
            ("permohonan", "pemrohonan", false),
            ("reklame", "reklamasi", false),
            ("izin", "izin", true),
            ("sertifikat", "sertipikat", true),
        ] {
            assert_eq!(within_one_edit(a, b), want, "{a} / {b}");
            assert_eq!(within_one_edit(b, a), want, "{b} / {a}");
            // The same words in letters outside ASCII take the char path.
            let (x, y) = (a.replace('e', "é"), b.replace('e', "é"));
            assert_eq!(within_one_edit(&x, &y), want, "{x} / {y}");
        }
        assert!(!within_one_edit("ab", "abcd"));
    }

    #[test]
    fn phrases_tolerate_case_punctuation_typos_and_abbreviations() {
        assert!(hit("surat permohonan", "ini SURAT-permohnan saya").is_some());
        assert!(hit("izin reklame", "mau urus izn  reklame.").is_some());
        assert!(hit("mengaju*", "kami mengajukan").is_some());
        assert!(hit("izin reklame", "izin usaha reklamasi").is_none());
        assert!(hit("sertifikat", "sertipikat").is_some());
        // A word the rules know is not a typo of another: "pengaduan" is not "pengajuan".
        assert!(hit("pengajuan", "pengaduan").is_none());
    }
}
