//! What `loket rules check` and `loket rules suggest` print about the labelled sets: how the
//! current rules score on the committed sets (`rules/tests/*.toml`) and on the officers'
//! exported corrections, and the proposed changes with a TOML snippet to paste.
//!
//! Takes the loaded catalogue and the set paths; a corrections file named on the command line
//! that cannot be read is bad usage (status 2), a broken committed file is a warning only, so
//! `rules check` keeps passing on valid rules as it always did.

use std::path::{Path, PathBuf};

use crate::classify::labelled::{self, LabelledSet, Score, Verdict};
use crate::classify::suggest::{self, Change, Options, Proposal, Target};
use crate::classify::Catalogue;
use crate::cli::Failure;

/// The committed sets: every `<rules>/tests/*.toml` (tuning sets) and every
/// `<rules>/tests/heldout/*.toml` (held-out sets), each file a set; broken files are reported
/// on stderr and left out.
pub fn committed_sets(rules_dir: &Path) -> Vec<LabelledSet> {
    let dir = rules_dir.join("tests");
    let mut paths = toml_files(&dir);
    paths.extend(toml_files(&dir.join(HELD_OUT_DIR)));
    paths
        .iter()
        .filter_map(|p| match LabelledSet::load(p) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("warning: labelled set left out: {e}");
                None
            }
        })
        .collect()
}

/// The folder under `rules/tests/` that holds the held-out sets.
const HELD_OUT_DIR: &str = "heldout";

/// The `*.toml` files directly in `dir`, sorted; none when it does not exist.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.retain(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"));
    paths.sort();
    paths
}

/// A held-out set (`tests/heldout/*.toml`): written before the rule change it measures, so
/// `rules check` reports it but `rules suggest` never looks at it, or it would be tuned on.
pub fn is_held_out(set: &LabelledSet) -> bool {
    set.path
        .parent()
        .and_then(|d| d.file_name())
        .is_some_and(|n| n == HELD_OUT_DIR)
}

/// The corrections files and folders named with `--corrections`.
pub fn correction_sets(paths: &[PathBuf]) -> Result<Vec<LabelledSet>, Failure> {
    let mut out = Vec::new();
    for p in paths {
        let sets = LabelledSet::load_path(p).map_err(|e| Failure::Usage(e.to_string()))?;
        if sets.is_empty() {
            return Err(Failure::Usage(format!(
                "{}: no *.toml corrections files in this folder",
                p.display()
            )));
        }
        out.extend(sets);
    }
    Ok(out)
}

fn row(name: &str, s: &Score) -> String {
    format!(
        "| {name} | {} | {} ({:.1}%) | {} | {} | {:.1}% | {:.1}% ({} of {}) |",
        s.cases,
        s.right,
        s.accuracy(),
        s.confidently_wrong,
        s.triage,
        s.doc_precision(),
        s.doc_recall(),
        s.doc_tp,
        s.doc_tp + s.doc_fn
    )
}

/// The scores table of `rules check`, one row per set and a total per group, then every case
/// filed confidently wrong.
pub fn print_scores(cat: &Catalogue, committed: &[LabelledSet], corrections: &[LabelledSet]) {
    if committed.is_empty() && corrections.is_empty() {
        return;
    }
    println!();
    println!("| set | cases | right (kind + permit type) | confidently wrong | triage | document types precision | document types recall |");
    println!("|---|---|---|---|---|---|---|");
    let mut wrong = Vec::new();
    for (group, sets) in [("committed sets", committed), ("corrections", corrections)] {
        let mut total = Score::default();
        for set in sets {
            let (score, outcomes) = labelled::score(cat, &set.cases);
            let name = match is_held_out(set) {
                true => format!("{} (held out)", set.label()),
                false => set.label(),
            };
            println!("{}", row(&name, &score));
            for (case, o) in set.cases.iter().zip(&outcomes) {
                total.add(o);
                if o.verdict == Verdict::ConfidentlyWrong {
                    let want = case.permit_type.as_deref().unwrap_or("-");
                    wrong.push(format!(
                        "{}: {}: got {}, want {} {want}",
                        set.label(),
                        case.name,
                        o.got,
                        case.kind
                    ));
                }
            }
        }
        if sets.len() > 1 {
            println!("{}", row(&format!("**all {group}**"), &total));
        }
    }
    for w in &wrong {
        println!("confidently wrong: {w}");
    }
}

/// `loket rules suggest`: the proposals as text for a person, each with its snippet; to `out`
/// as well when given. Never touches a rule file.
pub fn suggest(
    rules_dir: &Path,
    cat: &Catalogue,
    corrections: &[LabelledSet],
    opts: Options,
    out: Option<&Path>,
) -> Result<(), Failure> {
    let mut committed = committed_sets(rules_dir);
    committed.retain(|s| !is_held_out(s));
    let found = suggest::suggest(cat, corrections, &committed, opts);
    let sources = RuleSources::read(rules_dir);
    let n_corr: usize = corrections.iter().map(|s| s.cases.len()).sum();
    let mut text = format!(
        "# loket rules suggest: {} proposal(s) from {n_corr} corrected case(s), each measured on \
         its own\n# against the corrections and the committed sets ({}, held-out sets left out).\n\
         # Nothing is applied: review each one, paste its snippet into the file it names, then run\n\
         # `loket rules check --corrections FILE`.\n# now: {}\n",
        found.proposals.len(),
        rules_dir.join("tests").display(),
        totals(&found.before)
    );
    if found.proposals.is_empty() {
        text.push_str(&format!(
            "#\n# No proposal: no phrase is in {} or more corrected cases the rules get wrong and in \
             no case labelled otherwise, and no lower weight fixes a case the rules get wrong.\n",
            opts.min_cases
        ));
    }
    for (n, p) in found.proposals.iter().enumerate() {
        text.push_str(&render(n + 1, p, &sources));
    }
    print!("{text}");
    if let Some(out) = out {
        std::fs::write(out, &text)
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("write {}: {e}", out.display())))?;
        eprintln!(
            "{} proposal(s) written to {}",
            found.proposals.len(),
            out.display()
        );
    }
    Ok(())
}

fn totals((corr, comm): &(Score, Score)) -> String {
    format!(
        "corrections {}/{} right, {} confidently wrong; committed sets {}/{} right, {} confidently wrong",
        corr.right, corr.cases, corr.confidently_wrong, comm.right, comm.cases, comm.confidently_wrong
    )
}

fn list(affected: &[suggest::Affected]) -> String {
    if affected.is_empty() {
        return "none".into();
    }
    affected
        .iter()
        .map(|a| {
            let doc = a
                .document
                .as_ref()
                .map(|d| format!(" / {d}"))
                .unwrap_or_default();
            format!("{}{doc} ({})", a.case, a.set)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn render(n: usize, p: &Proposal, sources: &RuleSources) -> String {
    let (title, target) = match &p.change {
        Change::AddPhrase {
            target,
            phrase,
            weight,
        } => (
            format!(
                "add the phrase {phrase:?} to {} `{}` (weight {weight:.1})",
                target.section(),
                target.id()
            ),
            target,
        ),
        Change::SetWeight {
            target,
            index,
            from,
            to,
        } => (
            format!(
                "lower the weight of match {} of {} `{}` from {from:.1} to {to:.1}",
                index + 1,
                target.section(),
                target.id()
            ),
            target,
        ),
    };
    let file = sources.file_of(target).map_or_else(
        || "(rule file not found)".into(),
        |f| f.display().to_string(),
    );
    let place = match &p.change {
        Change::AddPhrase { .. } => "after its last match entry",
        Change::SetWeight { .. } => "replacing that entry",
    };
    let alternatives = if p.alternatives.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = p.alternatives.iter().map(|a| format!("{a:?}")).collect();
        format!("#    same effect: {}\n", quoted.join(", "))
    };
    format!(
        "\n# {n}. {title}\n#    fixes ({}): {}\n#    breaks ({}): {}\n#    after: {}\n\
         {alternatives}#    in {file}, [[{}]] id = \"{}\", {place}:\n{}",
        p.fixes.len(),
        list(&p.fixes),
        p.breaks.len(),
        list(&p.breaks),
        totals(&p.after),
        target.section(),
        target.id(),
        snippet(&p.change, sources)
    )
}

/// The `[[<section>.match]]` entry to paste.
fn snippet(change: &Change, sources: &RuleSources) -> String {
    match change {
        Change::AddPhrase {
            target,
            phrase,
            weight,
        } => {
            let fields = match target {
                Target::DocType(_) => "fields = [\"document\"]\n",
                Target::Permit(_) => "",
            };
            format!(
                "[[{}.match]]\nphrases = [{}]\nweight = {weight:.1}\n{fields}",
                target.section(),
                toml::Value::String(phrase.clone())
            )
        }
        Change::SetWeight {
            target, index, to, ..
        } => {
            let mut entry = sources.entry(target, *index).unwrap_or_default();
            entry.insert("weight".into(), toml::Value::Float(*to));
            let mut s = format!("[[{}.match]]\n", target.section());
            for key in ["phrases", "regex", "identifier", "weight", "fields"] {
                if let Some(v) = entry.get(key) {
                    s.push_str(&format!("{key} = {v}\n"));
                }
            }
            s
        }
    }
}

/// The rule files as plain TOML, to say where a rule is and to copy an entry.
struct RuleSources {
    files: Vec<(PathBuf, toml::Table)>,
}

impl RuleSources {
    fn read(dir: &Path) -> RuleSources {
        let mut paths = Vec::new();
        collect(dir, &mut paths);
        paths.sort();
        let files = paths
            .into_iter()
            .filter_map(|p| {
                let t = std::fs::read_to_string(&p)
                    .ok()?
                    .parse::<toml::Table>()
                    .ok()?;
                Some((p, t))
            })
            .collect();
        RuleSources { files }
    }

    fn find(&self, target: &Target) -> Option<(&Path, &toml::Table)> {
        self.files.iter().find_map(|(path, t)| {
            let rule = t
                .get(target.section())?
                .as_array()?
                .iter()
                .filter_map(toml::Value::as_table)
                .find(|r| r.get("id").and_then(toml::Value::as_str) == Some(target.id()))?;
            Some((path.as_path(), rule))
        })
    }

    fn file_of(&self, target: &Target) -> Option<&Path> {
        self.find(target).map(|(p, _)| p)
    }

    fn entry(&self, target: &Target, index: usize) -> Option<toml::Table> {
        let (_, rule) = self.find(target)?;
        rule.get("match")?
            .as_array()?
            .get(index)?
            .as_table()
            .cloned()
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for path in rd.filter_map(Result::ok).map(|e| e.path()) {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "tests") {
                collect(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}
