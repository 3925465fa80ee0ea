//! The shipped rules against the behaviour cases in `rules/tests/*.toml`: every case is run, the
//! metrics table is printed, and the test fails on any confident wrong answer, on any wrong
//! application type, missing list or identifier a case names, or when accuracy or document-type
//! recall fall below the aim.

use std::path::{Path, PathBuf};
use std::time::Instant;

use loket::classify::labelled::{self, LabelledCase, LabelledSet, Score, Verdict};
use loket::classify::Catalogue;

#[path = "classify_rules/calibration.rs"]
mod calibration;

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

fn load_cases() -> Vec<LabelledCase> {
    load_cases_in(&rules_dir().join("tests"))
}

/// The cases of every `*.toml` directly in `dir` (not its subfolders: `tests/heldout/` is
/// reported on its own), read as `loket rules check` reads them.
fn load_cases_in(dir: &Path) -> Vec<LabelledCase> {
    LabelledSet::load_path(dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .flat_map(|set| set.cases)
        .collect()
}

/// What `loket rules check` counts, and what only this test checks besides: application types,
/// missing lists and identifiers where a case names them.
#[derive(Default)]
struct Metrics {
    score: Score,
    /// Cases (with what was wrong) whose application type differs from the label.
    application_type_wrong: Vec<String>,
    /// Cases whose list of missing requirements differs from the label.
    missing_wrong: Vec<String>,
    /// Cases where a labelled identifier was not found, or another value of its kind was.
    identifier_wrong: Vec<String>,
    failures: Vec<String>,
}

/// Score one case as `loket rules check` does (one judge for both), then check what it labels
/// beyond kind and permit type.
fn run(cat: &Catalogue, case: &LabelledCase, m: &mut Metrics) {
    let d = labelled::classify(cat, case);
    let outcome = labelled::judge_decision(case, &d);
    m.score.add(&outcome);
    let mut problems = Vec::new();
    if outcome.verdict != Verdict::Right {
        if outcome.verdict == Verdict::ConfidentlyWrong {
            problems.push("CONFIDENT WRONG".to_string());
        }
        problems.push(format!(
            "got {} (want {} {:?}), conf {:.2}",
            outcome.got, case.kind, case.permit_type, d.confidence
        ));
    }
    for ((doc, got), right) in case
        .document
        .iter()
        .zip(&d.documents)
        .zip(&outcome.docs_right)
    {
        if !right {
            problems.push(format!(
                "doc {}: got {:?}, want {:?}",
                doc.filename, got.doc_type, doc.doc_type
            ));
        }
    }
    // Triaged cases have no permit type, so no application type or checklist to compare; they
    // are counted as triage above.
    if let (Some(want), true) = (&case.application_type, d.permit_type.is_some()) {
        if d.application_type.as_ref() != Some(want) {
            let problem = format!("application type {:?}, want {want}", d.application_type);
            m.application_type_wrong
                .push(format!("{}: {problem}", case.name));
            problems.push(problem);
        }
    }
    if let (Some(want), true) = (&case.missing, d.permit_type.is_some()) {
        let mut got = d.missing.clone();
        got.sort();
        let mut want = want.clone();
        want.sort();
        if got != want {
            let problem = format!("missing {got:?}, want {want:?}");
            m.missing_wrong.push(format!("{}: {problem}", case.name));
            problems.push(problem);
        }
    }
    if let Some(problem) = identifier_problem(case, &d.identifiers) {
        m.identifier_wrong.push(format!("{}: {problem}", case.name));
        problems.push(problem);
    }
    if !problems.is_empty() {
        let reasons: Vec<String> = d
            .reasons
            .iter()
            .map(|r| format!("{}({}) {:+} [{}]", r.rule, r.field, r.weight, r.snippet))
            .collect();
        m.failures.push(format!(
            "{}: {}\n      reasons: {}",
            case.name,
            problems.join("; "),
            reasons.join(" | ")
        ));
    }
}

/// For a case that lists identifiers: each must be found, and of the kinds it lists (a NIK, a
/// phone number) nothing else may be found: a misread digit gives a valid-looking wrong NIK.
fn identifier_problem(
    case: &LabelledCase,
    found: &[loket::classify::Identifier],
) -> Option<String> {
    if case.identifiers.is_empty() {
        return None;
    }
    let found: Vec<String> = found
        .iter()
        .map(|i| format!("{}:{}", i.kind, i.value))
        .collect();
    let not_found: Vec<&String> = case
        .identifiers
        .iter()
        .filter(|want| !found.contains(want))
        .collect();
    let kind_of = |id: &str| {
        id.split_once(':')
            .map_or(String::new(), |(k, _)| k.to_string())
    };
    let wanted_kinds: Vec<String> = case.identifiers.iter().map(|w| kind_of(w)).collect();
    let unexpected: Vec<&String> = found
        .iter()
        .filter(|f| wanted_kinds.contains(&kind_of(f)) && !case.identifiers.contains(f))
        .collect();
    (!not_found.is_empty() || !unexpected.is_empty())
        .then(|| format!("identifiers not found {not_found:?}, unexpected {unexpected:?}"))
}

/// One line per failing case, for an assertion message.
fn listed(cases: &[String]) -> String {
    cases
        .iter()
        .map(|c| format!("\n  - {c}"))
        .collect::<String>()
}

/// Print the metrics table and the failures; returns (accuracy, document-type recall) in %.
fn report(m: &Metrics) -> (f64, f64) {
    let s = &m.score;
    let (accuracy, precision, recall) = (s.accuracy(), s.doc_precision(), s.doc_recall());
    println!("| metric | value |\n|---|---|");
    println!("| cases | {} |", s.cases);
    println!(
        "| right (kind + permit type) | {} ({accuracy:.1}%) |",
        s.right
    );
    println!("| confident wrong | {} |", s.confidently_wrong);
    println!("| triage | {} |", s.triage);
    println!(
        "| wrong application type | {} |",
        m.application_type_wrong.len()
    );
    println!("| wrong missing list | {} |", m.missing_wrong.len());
    println!(
        "| wrong or missing identifiers | {} |",
        m.identifier_wrong.len()
    );
    println!("| document types precision | {precision:.1}% |");
    println!(
        "| document types recall | {recall:.1}% ({} of {}) |",
        s.doc_tp,
        s.doc_tp + s.doc_fn
    );
    for f in &m.failures {
        println!("  - {f}");
    }
    (accuracy, recall)
}

/// The held-out sets (`rules/tests/heldout/`) are scored and printed, each on its own, never
/// required to pass: they measure the rules on material they were not tuned on, and are not
/// edited to fit.
#[test]
fn heldout_sets_are_reported() {
    let cat = Catalogue::load_dir(&rules_dir()).unwrap_or_else(|e| panic!("{e}"));
    let sets = LabelledSet::load_path(&rules_dir().join("tests").join("heldout"))
        .unwrap_or_else(|e| panic!("{e}"));
    for set in &sets {
        let mut m = Metrics::default();
        for c in &set.cases {
            run(&cat, c, &mut m);
        }
        println!("held-out {} (reported, not required):", set.label());
        report(&m);
    }
    assert!(
        sets.iter().any(|s| !s.cases.is_empty()),
        "rules/tests/heldout holds the held-out cases"
    );
}

#[test]
fn behaviour_cases_meet_the_aim() {
    let cat = Catalogue::load_dir(&rules_dir()).unwrap_or_else(|e| panic!("{e}"));
    let cases = load_cases();
    let mut m = Metrics::default();
    for c in &cases {
        run(&cat, c, &mut m);
    }
    println!("{}", cat.summary());
    let (accuracy, recall) = report(&m);
    assert!(
        m.score.cases >= 60,
        "the labelled set needs at least 60 cases"
    );
    assert_eq!(m.score.confidently_wrong, 0, "confident wrong answers");
    assert!(
        m.application_type_wrong.is_empty(),
        "{} case(s) with a wrong application type:{}",
        m.application_type_wrong.len(),
        listed(&m.application_type_wrong)
    );
    assert!(
        m.missing_wrong.is_empty(),
        "{} case(s) with a wrong list of missing requirements:{}",
        m.missing_wrong.len(),
        listed(&m.missing_wrong)
    );
    assert!(
        m.identifier_wrong.is_empty(),
        "{} case(s) with wrong or missing identifiers:{}",
        m.identifier_wrong.len(),
        listed(&m.identifier_wrong)
    );
    assert!(accuracy >= 95.0, "accuracy {accuracy:.1}% below 95%");
    assert!(
        recall >= 90.0,
        "document type recall {recall:.1}% below 90%"
    );
}

#[test]
#[ignore = "benchmark: cargo test --release --test classify_rules -- --ignored --nocapture"]
fn benchmark_load_and_classify() {
    let t = Instant::now();
    let n = 20;
    for _ in 0..n {
        Catalogue::load_dir(&rules_dir()).expect("rules");
    }
    let load = t.elapsed() / n;
    let cat = Catalogue::load_dir(&rules_dir()).expect("rules");
    let cases = load_cases();
    let t = Instant::now();
    let mut m = Metrics::default();
    let rounds = 10;
    for _ in 0..rounds {
        for c in &cases {
            run(&cat, c, &mut m);
        }
    }
    let per_case = t.elapsed() / (rounds * cases.len() as u32);
    println!(
        "load_dir: {load:?}; classify: {per_case:?} per case ({} cases)",
        cases.len()
    );
}
