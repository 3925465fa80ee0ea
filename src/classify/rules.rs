//! The loaded catalogue: reading `rules/**/*.toml` (except `rules/tests/` and the calendar's
//! `rules/holidays.toml`), and the lookups the
//! rest of loket uses. Parsing is in [`super::format`], checking and compiling in
//! [`super::compile`].
//!
//! Fails with [`RuleErrors`]: every problem found, each with file and line. A file that is not
//! valid TOML (or has an unknown key) reports its first such problem, as the parser stops there;
//! every other problem of every file is reported together.

use std::path::{Path, PathBuf};

use super::format::{EngineRaw, Need, RuleFile};
use super::matcher::{Lexicon, Matcher};
use crate::domain::Kind;

/// One problem in a rule file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Every problem found while loading the rules.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} problem(s) in rule files:\n{}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct RuleErrors(pub Vec<RuleError>);

#[derive(Debug, Clone)]
pub struct Department {
    pub id: String,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone)]
pub struct AppType {
    pub id: String,
    pub name: String,
    pub default: bool,
    pub matchers: Vec<Matcher>,
}

#[derive(Debug, Clone)]
pub struct KindRule {
    pub kind: Kind,
    pub department: Option<String>,
    pub matchers: Vec<Matcher>,
}

/// A permit asked for that is not in the catalogue (`[[unlisted_permit]]`): mail that asks for
/// one goes to triage rather than to the catalogue's nearest permit type.
#[derive(Debug, Clone)]
pub struct UnlistedPermit {
    pub id: String,
    pub name: String,
    pub matchers: Vec<Matcher>,
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub id: String,
    pub name: String,
    pub threshold: f64,
    pub matchers: Vec<Matcher>,
}

#[derive(Debug, Clone)]
pub struct DocType {
    pub id: String,
    pub name: String,
    pub threshold: f64,
    pub matchers: Vec<Matcher>,
}

#[derive(Debug, Clone)]
pub struct Requirement {
    pub id: String,
    pub name: String,
    pub doc_types: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ReqRef {
    pub id: String,
    pub need: Need,
    pub condition: Option<String>,
    pub application_types: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Permit {
    pub id: String,
    pub name: String,
    pub department: String,
    pub sla_days: u32,
    pub application_types: Vec<String>,
    pub matchers: Vec<Matcher>,
    pub requires: Vec<ReqRef>,
}

/// Counts, for `loket rules check` and startup logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub departments: usize,
    pub permit_types: usize,
    pub document_types: usize,
    pub requirements: usize,
    pub application_types: usize,
    pub conditions: usize,
    pub kinds: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files: {} departments, {} permit types, {} document types, {} requirements, \
             {} application types, {} conditions, {} request kinds",
            self.files,
            self.departments,
            self.permit_types,
            self.document_types,
            self.requirements,
            self.application_types,
            self.conditions,
            self.kinds
        )
    }
}

/// The loaded, validated permit catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub(crate) engine: EngineRaw,
    pub(crate) files: usize,
    pub(crate) lexicon: Lexicon,
    pub(crate) departments: Vec<Department>,
    pub(crate) app_types: Vec<AppType>,
    pub(crate) kinds: Vec<KindRule>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) doctypes: Vec<DocType>,
    pub(crate) requirements: Vec<Requirement>,
    pub(crate) permits: Vec<Permit>,
    pub(crate) unlisted: Vec<UnlistedPermit>,
    /// What each typed document says about each permit type (built from `permits`).
    pub(crate) evidence: super::evidence::Profile,
}

/// A parsed file with its source, for pointing at lines.
pub(crate) struct Parsed {
    pub file: String,
    pub src: String,
    pub rules: RuleFile,
}

impl Catalogue {
    /// Load and validate every `*.toml` in `dir` and its subfolders, except `tests/`.
    pub fn load_dir(dir: &Path) -> Result<Catalogue, RuleErrors> {
        let mut errors = Vec::new();
        let mut paths = Vec::new();
        if let Err(e) = collect_files(dir, &mut paths) {
            errors.push(RuleError {
                file: dir.display().to_string(),
                line: 0,
                message: format!("cannot read rules folder: {e}"),
            });
        }
        paths.sort();
        // The holiday list is a rule file of the calendar, not of the catalogue.
        let holidays = dir.join(crate::domain::calendar::HOLIDAYS_FILE);
        paths.retain(|p| *p != holidays);
        let mut parsed = Vec::new();
        for path in paths {
            let file = path.display().to_string();
            let src = match std::fs::read_to_string(&path) {
                Ok(s) => s,
                Err(e) => {
                    errors.push(RuleError {
                        file,
                        line: 0,
                        message: format!("cannot read: {e}"),
                    });
                    continue;
                }
            };
            match toml::from_str::<RuleFile>(&src) {
                Ok(rules) => parsed.push(Parsed { file, src, rules }),
                Err(e) => errors.push(RuleError {
                    line: e.span().map_or(1, |s| line_of(&src, s.start)),
                    file,
                    message: e.message().trim().to_string(),
                }),
            }
        }
        let catalogue = super::compile::compile(&parsed, &mut errors);
        if errors.is_empty() {
            Ok(catalogue)
        } else {
            Err(RuleErrors(errors))
        }
    }

    /// Department name by id.
    pub fn department_name(&self, id: &str) -> Option<&str> {
        self.department(id).map(|d| d.name.as_str())
    }

    /// Department by id (with its notification address).
    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.id == id)
    }

    /// The document types that satisfy a requirement.
    pub fn requirement_doc_types(&self, id: &str) -> &[String] {
        self.requirements
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.doc_types.as_slice())
            .unwrap_or(&[])
    }

    /// Every department id, in file order.
    pub fn department_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.departments.iter().map(|d| d.id.as_str())
    }

    /// Every department, in file order.
    pub fn departments(&self) -> impl Iterator<Item = &Department> + '_ {
        self.departments.iter()
    }

    /// Requirement name by id (for the acknowledgement's "missing" list).
    pub fn requirement_name(&self, id: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.name.as_str())
    }

    /// Permit type name by id.
    pub fn permit_type_name(&self, id: &str) -> Option<&str> {
        self.permit(id).map(|p| p.name.as_str())
    }

    /// Permit type by id (SLA, application types, requirements).
    pub fn permit(&self, id: &str) -> Option<&Permit> {
        self.permits.iter().find(|p| p.id == id)
    }

    /// Document type name by id.
    pub fn document_type_name(&self, id: &str) -> Option<&str> {
        self.doctypes
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.as_str())
    }

    /// Every permit type as (id, name, department id), in file order.
    pub fn permit_types(&self) -> impl Iterator<Item = (&str, &str, &str)> + '_ {
        self.permits
            .iter()
            .map(|p| (p.id.as_str(), p.name.as_str(), p.department.as_str()))
    }

    /// Every document type as (id, name).
    pub fn document_types(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.doctypes
            .iter()
            .map(|d| (d.id.as_str(), d.name.as_str()))
    }

    /// The engine's thresholds and calibration (`[engine]` in `rules/engine.toml`).
    pub fn engine(&self) -> &super::format::EngineRaw {
        &self.engine
    }

    pub fn summary(&self) -> Summary {
        Summary {
            files: self.files,
            departments: self.departments.len(),
            permit_types: self.permits.len(),
            document_types: self.doctypes.len(),
            requirements: self.requirements.len(),
            application_types: self.app_types.len(),
            conditions: self.conditions.len(),
            kinds: self.kinds.len(),
        }
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "tests") {
                collect_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
