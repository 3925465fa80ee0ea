//! Labelled cases (`rules/tests/*.toml`, and the officers' corrections `loket rules corrections`
//! exports in the same format) and how the rules score on them.
//!
//! Takes case files or folders of them; gives, per set, the counts `loket rules check` prints
//! (right, confidently wrong, triage, document-type precision and recall) and, per case, whether
//! it came out right, which `loket rules suggest` compares before and after a change. Loading
//! fails with the file and line of the first problem; scoring is pure.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Catalogue, ClassifyInput, Decision, DocInput};

/// A file of labelled cases could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LabelledError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    case: Vec<LabelledCase>,
}

/// One labelled case, as written in `rules/tests/*.toml` (see `rules/README.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledCase {
    pub name: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub body: String,
    pub kind: String,
    /// Expected permit type, or "triage" when an officer should sort it.
    pub permit_type: Option<String>,
    /// Expected department, when an officer routed the case by hand (corrections).
    pub department: Option<String>,
    pub application_type: Option<String>,
    pub missing: Option<Vec<String>>,
    #[serde(default)]
    pub identifiers: Vec<String>,
    #[serde(default)]
    pub document: Vec<LabelledDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledDoc {
    pub filename: String,
    #[serde(default)]
    pub text: String,
    /// A file next to the case file holding the document text.
    pub text_file: Option<String>,
    /// Expected document type; absent when it should stay unrecognised.
    pub doc_type: Option<String>,
}

/// The cases of one file.
#[derive(Debug, Clone)]
pub struct LabelledSet {
    pub path: PathBuf,
    pub cases: Vec<LabelledCase>,
}

impl LabelledSet {
    /// Read one case file; `text_file` documents are read relative to it.
    pub fn load(path: &Path) -> Result<LabelledSet, LabelledError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| LabelledError::Read {
                path: p.to_path_buf(),
                source,
            })
        };
        let src = read(path)?;
        let file: CaseFile = toml::from_str(&src).map_err(|e| LabelledError::Format {
            path: path.to_path_buf(),
            line: e.span().map_or(1, |s| super::rules::line_of(&src, s.start)),
            message: e.message().trim().to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut cases = file.case;
        for doc in cases.iter_mut().flat_map(|c| c.document.iter_mut()) {
            if let Some(f) = &doc.text_file {
                doc.text = read(&dir.join(f))?;
            }
        }
        Ok(LabelledSet {
            path: path.to_path_buf(),
            cases,
        })
    }

    /// A case file, or every `*.toml` directly in a folder (sorted by name).
    pub fn load_path(path: &Path) -> Result<Vec<LabelledSet>, LabelledError> {
        if !path.is_dir() {
            return Ok(vec![LabelledSet::load(path)?]);
        }
        let entries = std::fs::read_dir(path).map_err(|source| LabelledError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| LabelledSet::load(p)).collect()
    }

    /// The file name, for reports.
    pub fn label(&self) -> String {
        self.path.display().to_string()
    }
}

/// How one case came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Kind, permit type (or triage) and, when labelled, department as the label says.
    Right,
    /// Not as labelled, but sent to triage: an officer sorts it.
    Triaged,
    /// Not as labelled and filed anyway: the costly mistake.
    ConfidentlyWrong,
}

/// One case's outcome.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    pub verdict: Verdict,
    pub triage: bool,
    /// Per labelled document: the type the rules gave matches the label.
    pub docs_right: Vec<bool>,
    pub doc_tp: usize,
    pub doc_fp: usize,
    pub doc_fn: usize,
    /// What the rules decided, in a few words (`application pbg`, `complaint`, `triage`).
    pub got: String,
}

/// Counts over a set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    pub cases: usize,
    pub right: usize,
    pub confidently_wrong: usize,
    pub triage: usize,
    pub doc_tp: usize,
    pub doc_fp: usize,
    pub doc_fn: usize,
}

impl Score {
    pub fn add(&mut self, o: &CaseOutcome) {
        self.cases += 1;
        self.right += usize::from(o.verdict == Verdict::Right);
        self.confidently_wrong += usize::from(o.verdict == Verdict::ConfidentlyWrong);
        self.triage += usize::from(o.triage);
        self.doc_tp += o.doc_tp;
        self.doc_fp += o.doc_fp;
        self.doc_fn += o.doc_fn;
    }

    /// Share of cases right, in percent (100 for no cases).
    pub fn accuracy(&self) -> f64 {
        percent(self.right, self.cases)
    }

    /// Of the documents the rules typed, how many were typed as labelled, in percent.
    pub fn doc_precision(&self) -> f64 {
        percent(self.doc_tp, self.doc_tp + self.doc_fp)
    }

    /// Of the labelled document types, how many the rules found, in percent.
    pub fn doc_recall(&self) -> f64 {
        percent(self.doc_tp, self.doc_tp + self.doc_fn)
    }
}

fn percent(a: usize, b: usize) -> f64 {
    if b == 0 {
        100.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

/// Run the rules on one labelled case, on what the worker would give them: the body's new text,
/// without the quoted earlier mail and the signature (as `pipeline::classify` does).
pub fn classify(cat: &Catalogue, case: &LabelledCase) -> Decision {
    let body = crate::extract::reply::split_with_subject(Some(&case.subject), &case.body).new_text;
    let input = ClassifyInput {
        subject: &case.subject,
        body: &body,
        documents: case
            .document
            .iter()
            .map(|d| DocInput {
                filename: &d.filename,
                content_type: "application/octet-stream",
                text: &d.text,
            })
            .collect(),
    };
    cat.classify(&input)
}

/// Score one case: the same rules as `cargo test --test classify_rules` (kind and permit type
/// decide right or wrong; a wrong answer not sent to triage is confidently wrong).
pub fn judge(cat: &Catalogue, case: &LabelledCase) -> CaseOutcome {
    judge_decision(case, &classify(cat, case))
}

/// Score a decision already made on a case (for callers that also look at the decision's
/// reasons, checklist or identifiers).
pub fn judge_decision(case: &LabelledCase, d: &Decision) -> CaseOutcome {
    let permit_ok = match case.permit_type.as_deref() {
        Some("triage") => d.triage,
        // A complaint or consultation is filed under no permit type (it has no checklist or
        // deadline); a label naming the permit it is about ("a complaint about my PBG") asks
        // for nothing loket files, so only the kind is judged.
        Some(_) if case.kind != "application" => d.permit_type.is_none(),
        Some(p) => d.permit_type.as_deref() == Some(p),
        None => d.permit_type.is_none(),
    };
    let department_ok = match (&case.department, case.permit_type.as_deref()) {
        (Some(want), p) if p != Some("triage") => d.department.as_ref() == Some(want),
        _ => true,
    };
    let verdict = match (
        d.kind.as_str() == case.kind && permit_ok && department_ok,
        d.triage,
    ) {
        (true, _) => Verdict::Right,
        (false, true) => Verdict::Triaged,
        (false, false) => Verdict::ConfidentlyWrong,
    };
    let mut o = CaseOutcome {
        verdict,
        triage: d.triage,
        docs_right: Vec::new(),
        doc_tp: 0,
        doc_fp: 0,
        doc_fn: 0,
        got: describe(d),
    };
    for (want, got) in case.document.iter().zip(&d.documents) {
        let (want, got) = (&want.doc_type, &got.doc_type);
        o.docs_right.push(want == got);
        match (want, got) {
            (Some(_), Some(_)) if want == got => o.doc_tp += 1,
            _ => {
                o.doc_fp += usize::from(got.is_some() && want != got);
                o.doc_fn += usize::from(want.is_some() && want != got);
            }
        }
    }
    o
}

fn describe(d: &Decision) -> String {
    match (&d.permit_type, d.triage) {
        (_, true) => format!("{} to triage", d.kind.as_str()),
        (Some(p), false) => format!("{} {p}", d.kind.as_str()),
        (None, false) => d.kind.as_str().to_string(),
    }
}

/// Score every case of a set.
pub fn score(cat: &Catalogue, cases: &[LabelledCase]) -> (Score, Vec<CaseOutcome>) {
    let outcomes: Vec<CaseOutcome> = cases.iter().map(|c| judge(cat, c)).collect();
    let mut s = Score::default();
    outcomes.iter().for_each(|o| s.add(o));
    (s, outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_case_file_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.toml");
        std::fs::write(
            &path,
            "[[case]]\nname = \"a\"\nkind = \"application\"\ncolour = 1\n",
        )
        .unwrap();
        let e = LabelledSet::load(&path).unwrap_err().to_string();
        assert!(e.contains("x.toml:4:") && e.contains("colour"), "{e}");
    }

    fn case(kind: &str, permit_type: Option<&str>) -> LabelledCase {
        LabelledCase {
            name: "pbg_complaint".into(),
            subject: "Pengaduan: PBG saya tidak kunjung terbit".into(),
            body: "Saya kecewa, PBG rumah saya sudah tiga bulan melewati standar pelayanan, \
                   petugas tidak pernah membalas."
                .into(),
            kind: kind.into(),
            permit_type: permit_type.map(str::to_string),
            department: None,
            application_type: None,
            missing: None,
            identifiers: Vec::new(),
            document: Vec::new(),
        }
    }

    #[test]
    fn a_complaint_labelled_with_the_permit_it_is_about_is_judged_by_its_kind() {
        let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let cat = Catalogue::load_dir(&rules).expect("shipped rules load");
        let about_pbg = judge(&cat, &case("complaint", Some("pbg")));
        assert_eq!(about_pbg.verdict, Verdict::Right, "{}", about_pbg.got);
        let unlabelled = judge(&cat, &case("complaint", None));
        assert_eq!(unlabelled.verdict, Verdict::Right);
        let as_application = judge(&cat, &case("application", Some("pbg")));
        assert_ne!(
            as_application.verdict,
            Verdict::Right,
            "the kind still decides: {}",
            as_application.got
        );
    }
}
