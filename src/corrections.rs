//! `loket rules corrections --out FILE`: the cases officers re-sorted at the desk, exported as
//! labelled cases in the format of `rules/tests/*.toml`, so they can join a tuning set (never
//! the held-out set) after a person has looked at them. Identifiers are masked on the way out.

use std::path::Path;

use anyhow::{anyhow, Context as _};
use serde::Serialize;

use crate::classify::identifiers::mask_in_text;
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
    /// The permit type the officer settled on, or "triage".
    permit_type: String,
    document: Vec<Doc>,
}

#[derive(Serialize)]
struct Doc {
    filename: String,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    doc_type: Option<String>,
}

fn labelled(c: &CaseView) -> Labelled {
    Labelled {
        name: format!(
            "correction_{}",
            c.tracking_code.to_lowercase().replace('-', "_")
        ),
        subject: mask_in_text(c.subject.as_deref().unwrap_or("")),
        body: mask_in_text(
            c.details
                .as_ref()
                .and_then(|d| d.body.as_deref())
                .unwrap_or(""),
        ),
        kind: c.kind.clone(),
        permit_type: c.permit_type.clone().unwrap_or_else(|| "triage".into()),
        document: c
            .documents
            .iter()
            .map(|d| Doc {
                filename: d.filename.clone(),
                text: mask_in_text(d.text.as_deref().unwrap_or("")),
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
    let mut cases = Vec::with_capacity(codes.len());
    for code in &codes {
        if let Some(c) = store
            .show_case(code)
            .await
            .map_err(|e| anyhow!(error_chain(&e)))?
        {
            cases.push(labelled(&c));
        }
    }
    let n = cases.len();
    let text = toml::to_string(&File { case: cases }).context("write corrections as TOML")?;
    let header = "# Cases officers re-sorted at the desk (`loket rules corrections`): the labels are\n\
                  # the officers' decisions. Review before adding them to a tuning set; identifiers\n\
                  # are masked.\n\n";
    std::fs::write(out, format!("{header}{text}"))
        .with_context(|| format!("write {}", out.display()))?;
    Ok(n)
}
