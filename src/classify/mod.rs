//! Sorting: the rule files (`rules/*.toml`) and the pure engine that applies them.
//!
//! CONTRACT (filled in by the sorting work): `Catalogue::load_dir` reads and validates every rule
//! file and reports *every* problem with file and line; `Catalogue::classify` is pure (no I/O) and
//! returns a decision with its reasons.

mod compile;
pub mod engine;
pub mod format;
pub mod identifiers;
pub mod matcher;
pub mod rules;

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
    /// True when an officer must sort it (ambiguous or weak).
    pub triage: bool,
    pub reasons: Vec<Reason>,
    /// One per input document, same order.
    pub documents: Vec<DocDecision>,
    pub requirements: Vec<RequirementStatus>,
    /// Ids of mandatory requirements not satisfied.
    pub missing: Vec<String>,
    pub identifiers: Vec<Identifier>,
}
