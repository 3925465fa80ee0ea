//! `loket rules suggest`: phrase and weight changes proposed from the officers' corrections,
//! each measured by running the rules with the change applied in memory over the corrections
//! and the committed sets, so the reviewer sees what it would fix and what it would break.
//!
//! Takes a catalogue, the corrected cases and the committed cases; gives proposals. Pure: no
//! rule file is read or written here (the command renders the snippets for a person to paste).
//!
//! Two kinds of proposal:
//! - a phrase found in at least `min_cases` corrected cases of a permit type (or documents of a
//!   document type) that the rules get wrong, and in no case (document) labelled otherwise,
//!   added as a new match entry;
//! - a lower weight for a match entry that scored a corrected case the rules get wrong for a
//!   permit type other than the officer's.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::labelled::{judge, CaseOutcome, LabelledCase, LabelledSet, Score, Verdict};
use super::matcher::{tokenize, Field, Matcher, Pattern};
use super::Catalogue;

/// What a proposal changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Permit(String),
    DocType(String),
}

impl Target {
    /// The rule section, as in the rule files (`permit`, `doctype`).
    pub fn section(&self) -> &'static str {
        match self {
            Target::Permit(_) => "permit",
            Target::DocType(_) => "doctype",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Target::Permit(id) | Target::DocType(id) => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new `[[<section>.match]]` entry with one phrase.
    AddPhrase {
        target: Target,
        phrase: String,
        weight: f64,
    },
    /// The weight of the target's match entry at `index` (0-based, in file order).
    SetWeight {
        target: Target,
        index: usize,
        from: f64,
        to: f64,
    },
}

/// One case (or one document of a case) that a change turns right or wrong.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Affected {
    /// The set's file.
    pub set: String,
    pub case: String,
    /// The document's file name, for document-type changes.
    pub document: Option<String>,
    pub correction: bool,
}

#[derive(Debug, Clone)]
pub struct Proposal {
    pub change: Change,
    pub fixes: Vec<Affected>,
    pub breaks: Vec<Affected>,
    /// Scores with the change applied: corrections, committed sets.
    pub after: (Score, Score),
    /// Other phrases for the same target that fix and break exactly the same cases, for the
    /// reviewer to choose from (a longer phrase is more specific).
    pub alternatives: Vec<String>,
}

/// Everything measured: the scores now and the proposals, best first.
#[derive(Debug, Clone)]
pub struct Suggestions {
    pub before: (Score, Score),
    pub proposals: Vec<Proposal>,
}

/// Knobs of the search.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// A new phrase must be in at least this many corrected cases (documents) it would fix.
    pub min_cases: usize,
    /// At most this many proposals.
    pub max_proposals: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_cases: 2,
            max_proposals: 10,
        }
    }
}

/// Phrases tried per target (the most frequent first).
const PHRASES_PER_TARGET: usize = 12;
const MAX_WORDS: usize = 3;

struct Item<'a> {
    set: String,
    case: &'a LabelledCase,
    correction: bool,
}

impl Item<'_> {
    fn affected(&self, document: Option<usize>) -> Affected {
        Affected {
            set: self.set.clone(),
            case: self.case.name.clone(),
            document: document.map(|i| self.case.document[i].filename.clone()),
            correction: self.correction,
        }
    }
}

/// Propose changes from `corrections`, checked against them and `committed`.
pub fn suggest(
    cat: &Catalogue,
    corrections: &[LabelledSet],
    committed: &[LabelledSet],
    opts: Options,
) -> Suggestions {
    let items: Vec<Item<'_>> = (corrections.iter().map(|s| (s, true)))
        .chain(committed.iter().map(|s| (s, false)))
        .flat_map(|(s, correction)| {
            s.cases.iter().map(move |case| Item {
                set: s.label(),
                case,
                correction,
            })
        })
        .collect();
    let base: Vec<CaseOutcome> = items.iter().map(|i| judge(cat, i.case)).collect();
    let before = totals(&items, &base);
    let mut proposals = Vec::new();
    for change in candidates(cat, &items, &base, opts) {
        if let Some(p) = measure(cat, &items, &base, change) {
            proposals.push(p);
        }
    }
    Suggestions {
        before,
        proposals: select(proposals, opts.max_proposals),
    }
}

fn totals(items: &[Item<'_>], outcomes: &[CaseOutcome]) -> (Score, Score) {
    let (mut corr, mut comm) = (Score::default(), Score::default());
    for (i, o) in items.iter().zip(outcomes) {
        if i.correction {
            corr.add(o);
        } else {
            comm.add(o);
        }
    }
    (corr, comm)
}

/// Run the rules with `change` applied; a proposal when it fixes anything.
fn measure(
    cat: &Catalogue,
    items: &[Item<'_>],
    base: &[CaseOutcome],
    change: Change,
) -> Option<Proposal> {
    let changed = apply(cat, &change)?;
    // Only a case (or document) that is wrong now can be fixed: run those first; most
    // candidates fix none of them and need not run on the rest.
    let mut after: Vec<Option<CaseOutcome>> = vec![None; items.len()];
    let mut fixes = Vec::new();
    let wrong_now =
        |n: usize| base[n].verdict != Verdict::Right || base[n].docs_right.iter().any(|r| !r);
    for (n, item) in items.iter().enumerate().filter(|(n, _)| wrong_now(*n)) {
        let o = judge(&changed, item.case);
        fixes.extend(diff(item, &base[n], &o).0);
        after[n] = Some(o);
    }
    if fixes.is_empty() {
        return None;
    }
    let mut breaks = Vec::new();
    let mut all = Vec::with_capacity(items.len());
    fixes.clear();
    for (n, item) in items.iter().enumerate() {
        let o = after[n]
            .take()
            .unwrap_or_else(|| judge(&changed, item.case));
        let (f, b) = diff(item, &base[n], &o);
        fixes.extend(f);
        breaks.extend(b);
        all.push(o);
    }
    Some(Proposal {
        change,
        fixes,
        breaks,
        after: totals(items, &all),
        alternatives: Vec::new(),
    })
}

/// The case and documents that went from wrong to right, and from right to wrong.
fn diff(item: &Item<'_>, was: &CaseOutcome, now: &CaseOutcome) -> (Vec<Affected>, Vec<Affected>) {
    let (mut fixed, mut broken) = (Vec::new(), Vec::new());
    let right = |o: &CaseOutcome| o.verdict == Verdict::Right;
    if right(was) != right(now) {
        let list = if right(now) { &mut fixed } else { &mut broken };
        list.push(item.affected(None));
    }
    for (i, (w, n)) in was.docs_right.iter().zip(&now.docs_right).enumerate() {
        if w != n {
            let list = if *n { &mut fixed } else { &mut broken };
            list.push(item.affected(Some(i)));
        }
    }
    (fixed, broken)
}

/// A copy of the rules with the change made, as loading a rule file with it would; None when
/// the target does not exist.
pub fn apply(cat: &Catalogue, change: &Change) -> Option<Catalogue> {
    let mut c = cat.clone();
    let target = match change {
        Change::AddPhrase { target, .. } | Change::SetWeight { target, .. } => target,
    };
    let (matchers, fields): (&mut Vec<Matcher>, &[Field]) = match target {
        Target::Permit(id) => (
            &mut c.permits.iter_mut().find(|p| &p.id == id)?.matchers,
            &Field::ALL,
        ),
        Target::DocType(id) => (
            &mut c.doctypes.iter_mut().find(|d| &d.id == id)?.matchers,
            &[Field::Filename, Field::Document],
        ),
    };
    match change {
        Change::AddPhrase { phrase, weight, .. } => {
            let m = Matcher {
                pattern: Pattern::phrases(
                    std::slice::from_ref(phrase),
                    &cat.lexicon.synonyms,
                    cat.engine.fuzzy_min_len,
                ),
                weight: *weight,
                fields: fields.to_vec(),
                doc_types: Vec::new(),
            };
            // A word some rule uses is never read as a typo of another (see the matcher).
            let words: Vec<String> = m.words().map(str::to_string).collect();
            matchers.push(m);
            c.lexicon.vocabulary.extend(words);
        }
        Change::SetWeight { index, to, .. } => matchers.get_mut(*index)?.weight = *to,
    }
    Some(c)
}

fn candidates(
    cat: &Catalogue,
    items: &[Item<'_>],
    base: &[CaseOutcome],
    opts: Options,
) -> Vec<Change> {
    let mut out = Vec::new();
    out.extend(permit_phrases(cat, items, base, opts));
    out.extend(doc_type_phrases(cat, items, base, opts));
    out.extend(lower_weights(cat, items, base));
    out
}

/// Words and runs of up to three words of a text, as the matcher reads them (synonyms
/// mapped), without numbers and masked identifiers.
fn ngrams(cat: &Catalogue, text: &str, into: &mut HashSet<String>) {
    let words: Vec<String> = tokenize(text, &cat.lexicon.synonyms)
        .into_iter()
        .map(|t| t.word)
        .collect();
    for start in 0..words.len() {
        for n in 1..=MAX_WORDS.min(words.len() - start) {
            let run = &words[start..start + n];
            if run.iter().any(|w| w.chars().any(|c| c.is_numeric())) {
                break;
            }
            if run.iter().map(|w| w.chars().count()).sum::<usize>() >= 5 {
                into.insert(run.join(" "));
            }
        }
    }
}

fn case_ngrams(cat: &Catalogue, case: &LabelledCase) -> HashSet<String> {
    let mut set = HashSet::new();
    ngrams(cat, &case.subject, &mut set);
    ngrams(cat, &case.body, &mut set);
    for d in &case.document {
        ngrams(cat, &d.text, &mut set);
    }
    set
}

/// Phrases shared by the corrected cases of a permit type the rules get wrong and absent from
/// every case labelled otherwise.
fn permit_phrases(
    cat: &Catalogue,
    items: &[Item<'_>],
    base: &[CaseOutcome],
    opts: Options,
) -> Vec<Change> {
    let mut wanted: BTreeMap<&str, Vec<HashSet<String>>> = BTreeMap::new();
    let mut by_label: BTreeMap<&str, HashSet<String>> = BTreeMap::new();
    for (n, item) in items.iter().enumerate() {
        let label = item.case.permit_type.as_deref().unwrap_or("");
        let grams = case_ngrams(cat, item.case);
        let known = cat.permit(label).is_some();
        if item.correction && known && base[n].verdict != Verdict::Right {
            wanted.entry(label).or_default().push(grams.clone());
        }
        by_label.entry(label).or_default().extend(grams);
    }
    let weights = phrase_weights(&cat.engine);
    let mut out = Vec::new();
    for (permit, cases) in wanted {
        let taken: HashSet<String> = (by_label.iter())
            .filter(|(label, _)| *label != &permit)
            .flat_map(|(_, g)| g.iter().cloned())
            .collect();
        for phrase in frequent(&cases, &taken, opts.min_cases) {
            for &weight in &weights {
                out.push(Change::AddPhrase {
                    target: Target::Permit(permit.to_string()),
                    phrase: phrase.clone(),
                    weight,
                });
            }
        }
    }
    out
}

/// The weights a new permit phrase is tried at: the margin, the confident score, and the
/// weight that alone reaches the calibrated triage threshold (rounded up to a half), since a
/// phrase that only reaches `confident_score` may still leave its cases in triage.
fn phrase_weights(e: &super::format::EngineRaw) -> Vec<f64> {
    let alone = super::calibration::raw_for(e.triage_confidence, e) * e.confident_score;
    let mut w = vec![e.margin, e.confident_score];
    if alone.is_finite() && alone > e.confident_score {
        w.push((alone * 2.0).ceil() / 2.0);
    }
    w
}

/// Phrases shared by the corrected documents of a type the rules miss, absent from every
/// document labelled otherwise.
fn doc_type_phrases(
    cat: &Catalogue,
    items: &[Item<'_>],
    base: &[CaseOutcome],
    opts: Options,
) -> Vec<Change> {
    let mut wanted: BTreeMap<&str, Vec<HashSet<String>>> = BTreeMap::new();
    let mut seen: Vec<(&str, HashSet<String>)> = Vec::new();
    for (n, item) in items.iter().enumerate() {
        for (i, d) in item.case.document.iter().enumerate() {
            let mut g = HashSet::new();
            ngrams(cat, &d.text, &mut g);
            let label = d.doc_type.as_deref().unwrap_or("");
            let wrong = base[n].docs_right.get(i) == Some(&false);
            if item.correction && wrong && cat.document_type_name(label).is_some() {
                wanted.entry(label).or_default().push(g.clone());
            }
            seen.push((label, g));
        }
    }
    let mut out = Vec::new();
    for (doc_type, docs) in wanted {
        let taken: HashSet<String> = seen
            .iter()
            .filter(|(l, _)| *l != doc_type)
            .flat_map(|(_, g)| g.iter().cloned())
            .collect();
        let threshold = cat
            .doctypes
            .iter()
            .find(|d| d.id == doc_type)
            .map_or(cat.engine.doc_threshold, |d| d.threshold);
        for phrase in frequent(&docs, &taken, opts.min_cases) {
            for weight in [threshold / 2.0, threshold] {
                out.push(Change::AddPhrase {
                    target: Target::DocType(doc_type.to_string()),
                    phrase: phrase.clone(),
                    weight,
                });
            }
        }
    }
    out
}

/// The phrases in at least `min` of `groups` and not in `taken`, most frequent first, then the
/// shortest (the more general).
fn frequent(groups: &[HashSet<String>], taken: &HashSet<String>, min: usize) -> Vec<String> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for g in groups {
        for p in g.iter().filter(|p| !taken.contains(*p)) {
            *count.entry(p).or_default() += 1;
        }
    }
    let mut list: Vec<(&str, usize)> = count.into_iter().filter(|(_, n)| *n >= min).collect();
    list.sort_by(|a, b| {
        (b.1, a.0.split(' ').count(), a.0).cmp(&(a.1, b.0.split(' ').count(), b.0))
    });
    list.into_iter()
        .take(PHRASES_PER_TARGET)
        .map(|(p, _)| p.to_string())
        .collect()
}

/// For each corrected case the rules get wrong: the positive entries that scored on it for a
/// permit type other than the officer's (the one it was filed under, or the front runners that
/// sent it to triage), at half their weight and at none.
fn lower_weights(cat: &Catalogue, items: &[Item<'_>], base: &[CaseOutcome]) -> Vec<Change> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (n, item) in items.iter().enumerate() {
        if !item.correction || base[n].verdict == Verdict::Right {
            continue;
        }
        let d = super::labelled::classify(cat, item.case);
        let label = item.case.permit_type.as_deref().unwrap_or("");
        for permit in cat.permits.iter().filter(|p| p.id != label) {
            let rule = format!("permit:{}", permit.id);
            for (index, m) in permit.matchers.iter().enumerate() {
                let fired = d
                    .reasons
                    .iter()
                    .any(|r| r.rule == rule && (r.weight - m.weight).abs() < 1e-9);
                if m.weight <= 0.0 || !fired || !seen.insert((permit.id.clone(), index)) {
                    continue;
                }
                for to in [m.weight / 2.0, 0.0] {
                    out.push(Change::SetWeight {
                        target: Target::Permit(permit.id.clone()),
                        index,
                        from: m.weight,
                        to,
                    });
                }
            }
        }
    }
    out
}

/// The best proposals: most fixed for fewest broken; one that fixes nothing a better one does
/// not already fix is left out.
fn select(mut all: Vec<Proposal>, max: usize) -> Vec<Proposal> {
    let net = |p: &Proposal| p.fixes.len() as i64 - 2 * p.breaks.len() as i64;
    // Ties: the smaller change (lower new weight for a phrase, higher kept weight) first.
    let size = |p: &Proposal| match &p.change {
        Change::AddPhrase { weight, .. } => *weight,
        Change::SetWeight { from, to, .. } => from - to,
    };
    all.sort_by(|a, b| {
        net(b)
            .cmp(&net(a))
            .then(a.breaks.len().cmp(&b.breaks.len()))
            .then(size(a).total_cmp(&size(b)))
    });
    let mut covered: HashSet<Affected> = HashSet::new();
    let mut out: Vec<Proposal> = Vec::new();
    for p in all {
        if p.fixes.iter().all(|f| covered.contains(f)) {
            if let Some(kept) = out.iter_mut().find(|k| same_effect(k, &p)) {
                if let Change::AddPhrase { phrase, .. } = &p.change {
                    if kept.alternatives.len() < MAX_ALTERNATIVES
                        && !kept.alternatives.contains(phrase)
                    {
                        kept.alternatives.push(phrase.clone());
                    }
                }
            }
            continue;
        }
        if out.len() == max {
            break;
        }
        covered.extend(p.fixes.iter().cloned());
        out.push(p);
    }
    out
}

const MAX_ALTERNATIVES: usize = 5;

/// Both add a phrase to the same target with the same weight, fixing and breaking the same.
fn same_effect(a: &Proposal, b: &Proposal) -> bool {
    match (&a.change, &b.change) {
        (
            Change::AddPhrase {
                target: t1,
                weight: w1,
                phrase: p1,
            },
            Change::AddPhrase {
                target: t2,
                weight: w2,
                phrase: p2,
            },
        ) => t1 == t2 && w1 == w2 && p1 != p2 && a.fixes == b.fixes && a.breaks == b.breaks,
        _ => false,
    }
}
