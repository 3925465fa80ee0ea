//! Sorting: the rule files (`rules/*.toml`) and the pure engine that applies them.
//!
//! CONTRACT (filled in by the sorting work): `Catalogue::load_dir` reads and validates every rule
//! file and reports *every* problem with file and line; `Catalogue::classify` is pure (no I/O) and
//! returns a decision with its reasons.

pub mod calibration;
mod compile;
pub mod engine;
pub mod evidence;
pub mod format;
pub mod identifiers;
pub mod labelled;
pub mod matcher;
pub mod rules;
pub mod status_question;
pub mod suggest;

use serde::Serialize;

use crate::domain::Kind;

pub use rules::{Catalogue, RuleError, RuleErrors, Summary};

/// One document given to the engine.
#[derive(Debug, Clone)]
pub struct DocInput<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub text: &'a str,
}

/// Everything the engine looks at.
#[derive(Debug, Clone)]
pub struct ClassifyInput<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    pub documents: Vec<DocInput<'a>>,
}

/// Why the engine decided what it did: a rule and the text that matched it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reason {
    /// e.g. `permit:pbg`, `kind:complaint`, `doctype:ktp`.
    pub rule: String,
    /// `subject`, `body`, `filename`, `document`.
    pub field: String,
    /// The matched text with a little context.
    pub snippet: String,
    pub weight: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DocDecision {
    /// Document type id, or None when unrecognised.
    pub doc_type: Option<String>,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequirementStatus {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub satisfied: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Identifier {
    /// `nik`, `npwp`, `nib`, `phone`, `email`.
    pub kind: String,
    pub value: String,
}

/// Officers' corrections of the sorting (the desk's "classify" action and hand-marked
/// requirements). Kept on the case and applied every time it is sorted again, so a re-sort
/// after new documents never undoes an officer's decision; the checklist follows them.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Overrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permit_type: Option<String>,
    /// Routing to another department without changing the permit type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Document type per document position (0-based, as in [`ClassifyInput::documents`]).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub doc_types: std::collections::BTreeMap<usize, String>,
    /// Requirements an officer marked satisfied (true) or not (false) by hand.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub requirements: std::collections::BTreeMap<String, bool>,
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Decision {
    pub kind: Kind,
    /// Permit type id, None when unsure (triage).
    pub permit_type: Option<String>,
    pub permit_type_name: Option<String>,
    pub department: Option<String>,
    pub department_name: Option<String>,
    /// `baru`, `perpanjangan`, ... when recognised.
    pub application_type: Option<String>,
    /// 0..1, how sure the engine is of `permit_type` (or of `kind` when not an application).
    pub confidence: f64,
    /// True when an officer must sort it (ambiguous or weak, or the documents disagree with
    /// the subject and body: then a reason `evidence:conflict` names both).
    pub triage: bool,
    /// The front-running permit type, filed or not (in triage: the officer's likely pick).
    /// What the calibration compares with the label.
    pub leading_permit_type: Option<String>,
    /// The raw margin behind `confidence` (see [`calibration::raw_margin`], and
    /// [`calibration::kind_raw`] for a decision that is not an application).
    pub raw_margin: f64,
    pub reasons: Vec<Reason>,
    /// One per input document, same order.
    pub documents: Vec<DocDecision>,
    pub requirements: Vec<RequirementStatus>,
    /// Ids of mandatory requirements not satisfied.
    pub missing: Vec<String>,
    pub identifiers: Vec<Identifier>,
}
