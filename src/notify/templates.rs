//! Templates an office can edit without recompiling: files in `[notify] templates_dir`, with
//! built-in copies (the ones shipped in `templates/`) for any file that is not there.

use std::path::{Path, PathBuf};

use minijinja::Environment;

const BUILTIN: &[(&str, &str)] = &[
    (
        "ack_subject.txt",
        include_str!("../../templates/ack_subject.txt"),
    ),
    ("ack_body.txt", include_str!("../../templates/ack_body.txt")),
    (
        "department_notice_subject.txt",
        include_str!("../../templates/department_notice_subject.txt"),
    ),
    (
        "department_notice_body.txt",
        include_str!("../../templates/department_notice_body.txt"),
    ),
];

#[derive(Debug, thiserror::Error)]
#[error("template {name}: {source}")]
pub struct TemplateError {
    pub name: String,
    #[source]
    pub source: minijinja::Error,
}

/// The loaded templates.
pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

impl Templates {
    /// Load from `dir`, falling back to the built-in copy per file; syntax errors are reported
    /// here, at start, not when the first mail is due.
    pub fn load(dir: &Path) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_keep_trailing_newline(false);
        for (name, builtin) in BUILTIN {
            let path: PathBuf = dir.join(name);
            let source = std::fs::read_to_string(&path).unwrap_or_else(|_| builtin.to_string());
            env.add_template_owned(name.to_string(), source)
                .map_err(|source| TemplateError {
                    name: path.display().to_string(),
                    source,
                })?;
        }
        Ok(Self { env })
    }

    /// Render `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: &serde_json::Value) -> Result<String, TemplateError> {
        let err = |source| TemplateError {
            name: name.to_string(),
            source,
        };
        self.env
            .get_template(name)
            .map_err(err)?
            .render(ctx)
            .map_err(err)
    }
}
