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
        "desk_subject.txt",
        include_str!("../../templates/desk_subject.txt"),
    ),
    (
        "status_body.txt",
        include_str!("../../templates/status_body.txt"),
    ),
    (
        "status_answer_subject.txt",
        include_str!("../../templates/status_answer_subject.txt"),
    ),
    (
        "status_answer_body.txt",
        include_str!("../../templates/status_answer_body.txt"),
    ),
    (
        "request_body.txt",
        include_str!("../../templates/request_body.txt"),
    ),
    (
        "reply_body.txt",
        include_str!("../../templates/reply_body.txt"),
    ),
    (
        "department_notice_subject.txt",
        include_str!("../../templates/department_notice_subject.txt"),
    ),
    (
        "department_notice_body.txt",
        include_str!("../../templates/department_notice_body.txt"),
    ),
    (
        "combined_ack_subject.txt",
        include_str!("../../templates/combined_ack_subject.txt"),
    ),
    (
        "combined_ack_body.txt",
        include_str!("../../templates/combined_ack_body.txt"),
    ),
];

/// Canned replies officers start from (`replies/*.txt` beside the templates; the first line's
/// `{# title #}` comment names it in the desk). Built-in ones are used when the folder has none.
const BUILTIN_REPLIES: &[(&str, &str)] = &[
    (
        "berkas-kurang",
        include_str!("../../templates/replies/berkas-kurang.txt"),
    ),
    (
        "sedang-diproses",
        include_str!("../../templates/replies/sedang-diproses.txt"),
    ),
    (
        "jawaban-konsultasi",
        include_str!("../../templates/replies/jawaban-konsultasi.txt"),
    ),
];

/// A canned reply: its id (file stem) and title.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct CannedReply {
    pub id: String,
    pub title: String,
}

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
    replies: Vec<CannedReply>,
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
        let mut replies = Vec::new();
        for (id, source) in reply_sources(&dir.join("replies")) {
            let title = source
                .trim_start()
                .strip_prefix("{#")
                .and_then(|r| r.split_once("#}"))
                .map(|(t, _)| t.trim().to_string())
                .unwrap_or_else(|| id.clone());
            env.add_template_owned(format!("replies/{id}.txt"), source)
                .map_err(|source| TemplateError {
                    name: dir
                        .join("replies")
                        .join(format!("{id}.txt"))
                        .display()
                        .to_string(),
                    source,
                })?;
            replies.push(CannedReply { id, title });
        }
        Ok(Self { env, replies })
    }

    /// The canned replies, by id.
    pub fn replies(&self) -> &[CannedReply] {
        &self.replies
    }

    /// A canned reply filled in; None if there is no such reply.
    pub fn render_reply(
        &self,
        id: &str,
        ctx: &serde_json::Value,
    ) -> Option<Result<String, TemplateError>> {
        self.replies.iter().any(|r| r.id == id).then(|| {
            self.render(&format!("replies/{id}.txt"), ctx)
                .map(|s| s.trim().to_string())
        })
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

/// The canned replies in `dir` (sorted by id), or the built-in ones if it has none.
fn reply_sources(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .filter_map(|p| {
            let id = p.file_stem()?.to_str()?.to_string();
            let ok = !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            ok.then(|| Some((id, std::fs::read_to_string(&p).ok()?)))?
        })
        .collect();
    if out.is_empty() {
        out = BUILTIN_REPLIES
            .iter()
            .map(|(id, s)| (id.to_string(), s.to_string()))
            .collect();
    }
    out.sort();
    out
}
