//! The rule file format: loading and validation.

use std::path::Path;

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

/// The loaded, validated permit catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {}

impl Catalogue {
    /// Load and validate every `*.toml` in `dir`.
    pub fn load_dir(dir: &Path) -> Result<Catalogue, RuleErrors> {
        let _ = dir;
        todo!()
    }

    /// Department name by id.
    pub fn department_name(&self, id: &str) -> Option<&str> {
        let _ = id;
        todo!()
    }

    /// Document type name by id.
    pub fn document_type_name(&self, id: &str) -> Option<&str> {
        let _ = id;
        todo!()
    }

    /// Requirement name by id (for the acknowledgement's "missing" list).
    pub fn requirement_name(&self, id: &str) -> Option<&str> {
        let _ = id;
        todo!()
    }
}

impl Catalogue {
    /// Counts for `rules check`.
    pub fn summary(&self) -> String {
        todo!()
    }
}
