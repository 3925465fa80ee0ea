//! `loket rules corrections --out FILE`: the cases officers re-sorted at the desk, exported as
//! labelled cases in the format of `rules/tests/*.toml`, so they can join a tuning set (never
//! the held-out set) after a person has looked at them, and scored by `loket rules check
//! --corrections FILE` and mined by `loket rules suggest`. Each case holds what the engine read
//! (the body without quoted history, the documents' text) and the officer's labels: kind,
//! permit type, department when it was routed by hand, and every document's type. NIKs and
//! NPWPs are replaced by made-up numbers of the same kind on the way out (first 6 and last 2
//! digits kept), so the rules score the example as they scored the case.

use std::path::Path;

use anyhow::{anyhow, Context as _};
use serde::Serialize;

use crate::classify::identifiers::pseudonymise_in_text;
use crate::config::Config;
use crate::filing::views::CaseView;
use crate::filing::Store;
use crate::pipeline::error_chain;

#[derive(Serialize)]
struct File {
    case: Vec<Labelled>,
}

#[derive(Serialize)]
struct Labelled {
    name: String,
    subject: String,
    body: String,
    kind: String,
    /// The permit type the officer settled on, or "triage"; none for other kinds than
    /// applications (complaints, consultations).
    #[serde(skip_serializing_if = "Option::is_none")]
    permit_type: Option<String>,
    /// Only when an officer routed the case to a department by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    department: Option<String>,
    document: Vec<Doc>,
}

#[derive(Serialize)]
struct Doc {
    filename: String,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    doc_type: Option<String>,
}

fn labelled(c: &CaseView, routed: bool) -> Labelled {
    let body = c
        .details
        .as_ref()
        .and_then(|d| d.body.as_deref())
        .unwrap_or("");
    // The engine reads the new text only, not quoted history or signatures.
    let body = crate::extract::reply::split_with_subject(c.subject.as_deref(), body).new_text;
    Labelled {
        name: format!(
            "correction_{}",
            c.tracking_code.to_lowercase().replace('-', "_")
        ),
        subject: pseudonymise_in_text(c.subject.as_deref().unwrap_or("")),
        body: pseudonymise_in_text(&body),
        kind: c.kind.clone(),
        permit_type: match (&c.permit_type, c.kind.as_str()) {
            (Some(p), _) => Some(p.clone()),
            (None, "application") => Some("triage".into()),
            (None, _) => None,
        },
        department: c.department.clone().filter(|_| routed),
        document: c
            .documents
            .iter()
            .map(|d| Doc {
                filename: d.filename.clone(),
                text: pseudonymise_in_text(d.text.as_deref().unwrap_or("")),
                doc_type: d.doc_type.clone(),
            })
            .collect(),
    }
}

/// Write every corrected case to `out`; gives how many.
pub async fn export(cfg: &Config, out: &Path) -> anyhow::Result<usize> {
    let store = Store::open_with(&cfg.database.url, cfg.store_options())
        .await
        .map_err(|e| anyhow!(error_chain(&e)))?;
    let result = export_with(&store, out).await;
    store.close().await;
    result
}

async fn export_with(store: &Store, out: &Path) -> anyhow::Result<usize> {
    let codes = store
        .corrected_cases()
        .await
        .map_err(|e| anyhow!(error_chain(&e)))?;
    let examples = store
        .sorting_examples()
        .await
        .map_err(|e| anyhow!(error_chain(&e)))?;
    let mut cases = Vec::with_capacity(codes.len());
    for code in &codes {
        let routed = examples
            .iter()
            .any(|e| &e.tracking_code == code && e.field == "department");
        if let Some(c) = store
            .show_case(code)
            .await
            .map_err(|e| anyhow!(error_chain(&e)))?
        {
            cases.push(labelled(&c, routed));
        }
    }
    let n = cases.len();
    let text = toml::to_string(&File { case: cases }).context("write corrections as TOML")?;
    let header = "# Cases officers re-sorted at the desk (`loket rules corrections`): the labels are\n\
                  # the officers' decisions. Review before adding them to a tuning set (never to the\n\
                  # held-out set); NIK and NPWP are replaced by made-up numbers. Score them with\n\
                  # `loket rules check --corrections FILE`, mine them with `loket rules suggest`.\n\n";
    std::fs::write(out, format!("{header}{text}"))
        .with_context(|| format!("write {}", out.display()))?;
    Ok(n)
}
