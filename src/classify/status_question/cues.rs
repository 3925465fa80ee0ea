//! Finding the phrases of `lists.rs` in a field's tokens: the cue that asks how far a case is,
//! and the blockers that show a message is something else.

use super::lists::*;
use super::words::{Token, CODE};

/// Every word the lists use (for the lexicon: known words are never fuzzed into others).
pub fn vocabulary() -> impl Iterator<Item = &'static str> {
    ALL.iter()
        .flat_map(|list| list.iter())
        .flat_map(|p| p.split(' '))
        .filter(|w| !w.starts_with('#'))
}

/// Where a cue was found: token indices, first and last.
pub type Span = (usize, usize);

fn is(list: &[&str], t: &Token) -> bool {
    list.contains(&t.word.as_str())
}

/// The first of `phrases` found in `toks`, as a span and the phrase. (Called about ten times
/// per message: a phrase whose first word differs is passed over without walking the rest.)
pub fn find_phrase(toks: &[Token], phrases: &[&'static str]) -> Option<(Span, &'static str)> {
    for i in 0..toks.len() {
        for p in phrases {
            let mut words = p.split(' ');
            if words.next() != Some(toks[i].word.as_str()) {
                continue;
            }
            let mut last = i;
            let whole = words.all(|w| {
                last += 1;
                toks.get(last).is_some_and(|t| t.word == w)
            });
            if whole {
                return Some(((i, last), p));
            }
        }
    }
    None
}

/// Every word a cue can start from ([`cue_at`]): any other token is passed over at once.
static CUE_WORDS: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| {
        [STATUS, PROGRESS, WEAK_PROGRESS, DONE, &["how"]]
            .into_iter()
            .flatten()
            .copied()
            .collect()
    });

/// A word of `list` within `window` tokens of `i`, either side.
fn near(toks: &[Token], i: usize, window: usize, list: &[&str]) -> Option<usize> {
    let lo = i.saturating_sub(window);
    let hi = (i + window).min(toks.len().saturating_sub(1));
    (lo..=hi).find(|&j| j != i && is(list, &toks[j]))
}

fn span(a: usize, b: usize) -> Span {
    (a.min(b), a.max(b))
}

/// A phrase that asks how far the case is, if the field has one.
/// `context` is true when the other field (the subject) names a case or an application.
pub fn find_cue(toks: &[Token], context: bool) -> Option<Span> {
    if let Some((s, _)) = find_phrase(toks, WHERE) {
        return Some(s);
    }
    toks.iter()
        .enumerate()
        .find_map(|(i, t)| cue_at(toks, i, t, context))
}

fn cue_at(toks: &[Token], i: usize, t: &Token, context: bool) -> Option<Span> {
    if !CUE_WORDS.contains(t.word.as_str()) {
        return None;
    }
    let strong = is(STATUS, t) || is(PROGRESS, t);
    if strong {
        // "cek status", "mohon info perkembangan", "may I know the progress"
        if let Some(j) = (i.saturating_sub(4)..i).find(|&j| is(CHECK, &toks[j])) {
            return Some(span(j, i));
        }
    }
    if strong {
        // "status permohonan", "progress izin klinik kami", "perkembangan SIP saya";
        // "bagaimana statusnya", "status?". The tighter of the two is the cue.
        let about = near(toks, i, 6, OBJECTS).map(|j| span(i, j));
        let asked = near(toks, i, 3, QUESTION).map(|j| span(i, j));
        if let Some(s) = [about, asked]
            .into_iter()
            .flatten()
            .min_by_key(|(a, b)| b - a)
        {
            return Some(s);
        }
    }
    if is(WEAK_PROGRESS, t) {
        // "kabar permohonan saya", "proses izin klinik kami", "the result of my application"
        let object = near(toks, i, 4, OBJECTS)?;
        let own = owner_of(toks, object).or_else(|| near(toks, i, 6, &[CODE]))?;
        return Some(span(i.min(object), own.max(object)));
    }
    if is(DONE, t) {
        return done_question(toks, i, context);
    }
    // "how is my application going"
    if t.word == "how" && toks.get(i + 1).is_some_and(|n| n.word == "is") {
        let j = (i + 2..(i + 5).min(toks.len())).find(|&j| is(OBJECTS, &toks[j]))?;
        return Some((i, j));
    }
    None
}

/// The possessive that belongs to the thing at `object`: after it in Indonesian ("permohonan
/// SPPL saya"), before it in English ("my permit"). Not any "saya" nearby: in "saya dapat kabar
/// bahwa izin PBG..." the news is not about the sender's case.
fn owner_of(toks: &[Token], object: usize) -> Option<usize> {
    let after = (object + 1..(object + 4).min(toks.len())).find(|&j| is(POSSESSIVE, &toks[j]));
    let before =
        (object.saturating_sub(2)..object).find(|&j| matches!(toks[j].word.as_str(), "my" | "our"));
    after.or(before)
}

/// "apakah izin saya sudah jadi?", "kapan PBG saya keluar", "is my permit approved yet?"
fn done_question(toks: &[Token], i: usize, context: bool) -> Option<Span> {
    let q = near(toks, i, 6, QUESTION)?;
    let own = near(toks, i, 6, OWN)?;
    // The thing can come well before: "SIP bidan atas nama Ratna yang diajukan tanggal 2 itu
    // kapan terbitnya?"; the field is short (MAX_CHARS), so anywhere in it will do.
    let object = near(toks, i, toks.len(), OBJECTS);
    if object.is_none() && !context {
        return None;
    }
    let ends = [Some(q), Some(own), object, Some(i)];
    let lo = ends.iter().flatten().min().copied().unwrap_or(i);
    let hi = ends.iter().flatten().max().copied().unwrap_or(i);
    Some((lo, hi))
}

/// The subject is nothing but "status" (with a code, a "re:", a "pak").
pub fn bare_status_subject(toks: &[Token]) -> Option<Span> {
    let filler = [
        "re", "fw", "fwd", "aw", "tr", "pak", "bu", "mohon", "ya", "?", "saya", CODE,
    ];
    let i = toks.iter().position(|t| is(STATUS, t))?;
    toks.iter()
        .all(|t| is(STATUS, t) || filler.contains(&t.word.as_str()))
        .then_some((i, i))
}

/// A sending verb not marked as past ("berikut saya kirimkan", not "sudah saya kirim").
pub fn sends_now(toks: &[Token]) -> Option<usize> {
    (0..toks.len()).find(|&i| {
        is(SEND_VERBS, &toks[i]) && !(i.saturating_sub(3)..i).any(|j| is(PAST, &toks[j]))
    })
}

/// Something else asked for. "berapa lama" asks about permits in general, "berapa lama lagi"
/// about this case, so that one does not count (and the search goes on after it).
pub fn other_ask(toks: &[Token]) -> Option<&'static str> {
    let ((_, last), p) = find_phrase(toks, OTHER_ASKS)?;
    let lagi = toks.get(last + 1).is_some_and(|t| t.word == "lagi");
    if lagi && p.starts_with("berapa") {
        return other_ask(&toks[last + 1..]);
    }
    Some(p)
}

/// A word of `list` anywhere.
pub fn any_word(toks: &[Token], list: &[&str]) -> Option<usize> {
    toks.iter().position(|t| is(list, t))
}
