//! Evidence from the documents: which permit types the typed attachments point at, for the
//! applications whose subject and body say little ("Berikut saya kirimkan berkas-berkasnya"
//! with a KTP, an STR, an ijazah and a recommendation from IDI attached).
//!
//! Each document type is worth its *distinctiveness* `ln((N + 1) / (n + 1))`, where N is the
//! number of permit types and n how many of them list a requirement it satisfies (mandatory
//! counts 1, optional or conditional 0.5): a KTP, needed everywhere, is worth nothing; an STNK,
//! needed only for a route permit, a lot. A permit type gains `evidence_weight` × the worth of
//! every typed document its requirements use, and loses `evidence_penalty` × that for every
//! one they do not. Permit `match` entries with `doc_types` add the words of those documents
//! (the "KONSIL KEDOKTERAN" of a doctor's STR). An identifier the applicant writes in the subject
//! or body (an NIB, an NPWP) counts as a document of the type of the same id when none is
//! attached: "NIB kami 9120…" is an NIB in hand. Pure; every contribution leaves a [`Reason`].

use std::collections::HashMap;

use super::format::{EngineRaw, Need};
use super::identifiers::mask;
use super::matcher::{Field, FieldText, TypedText};
use super::rules::{DocType, Permit, Requirement};
use super::Reason;

/// Per document type: its distinctiveness; per permit type: the requirement each document
/// type satisfies. Built once when the rules are loaded.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    worth: HashMap<String, f64>,
    /// permit id -> (document type -> name of the requirement it satisfies).
    uses: HashMap<String, HashMap<String, String>>,
    names: HashMap<String, String>,
}

impl Profile {
    pub(crate) fn new(
        permits: &[Permit],
        requirements: &[Requirement],
        doctypes: &[DocType],
    ) -> Self {
        let mut uses: HashMap<String, HashMap<String, String>> = HashMap::new();
        let mut listed: HashMap<String, f64> = HashMap::new();
        for p in permits {
            let mut used: HashMap<String, (String, f64)> = HashMap::new();
            for r in &p.requires {
                let Some(req) = requirements.iter().find(|q| q.id == r.id) else {
                    continue;
                };
                let need = if r.need == Need::Mandatory { 1.0 } else { 0.5 };
                for t in &req.doc_types {
                    let e = used.entry(t.clone()).or_insert((req.name.clone(), 0.0));
                    if need > e.1 {
                        *e = (req.name.clone(), need);
                    }
                }
            }
            for (t, (_, need)) in &used {
                *listed.entry(t.clone()).or_default() += need;
            }
            uses.insert(
                p.id.clone(),
                used.into_iter().map(|(t, (name, _))| (t, name)).collect(),
            );
        }
        let n = permits.len() as f64;
        let worth = doctypes
            .iter()
            .map(|d| {
                let k = listed.get(&d.id).copied().unwrap_or(0.0);
                (d.id.clone(), ((n + 1.0) / (k + 1.0)).ln().max(0.0))
            })
            .collect();
        let names = doctypes
            .iter()
            .map(|d| (d.id.clone(), d.name.clone()))
            .collect();
        Profile { worth, uses, names }
    }

    /// Identifiers written in the subject or body that stand for a document type of the same
    /// id (`nib`, `npwp`) when no such document is attached.
    pub(crate) fn stated(
        &self,
        words: &[&FieldText<'_>],
        typed: &[TypedText<'_, '_>],
    ) -> Vec<Stated> {
        let mut out: Vec<Stated> = Vec::new();
        for t in words
            .iter()
            .filter(|t| matches!(t.field, Field::Subject | Field::Body))
        {
            for i in &t.identifiers {
                let known = self.names.contains_key(&i.kind);
                let attached = typed.iter().any(|d| d.doc_type == i.kind);
                if known && !attached && !out.iter().any(|s| s.doc_type == i.kind) {
                    out.push(Stated {
                        doc_type: i.kind.clone(),
                        label: format!("{} ({} {})", t.field.as_str(), i.kind, mask(&i.value)),
                    });
                }
            }
        }
        out
    }

    /// How much a document of this type tells about the permit type (0 for a KTP).
    pub fn worth(&self, doc_type: &str) -> f64 {
        self.worth.get(doc_type).copied().unwrap_or(0.0)
    }

    /// The documents' evidence for one permit type: requirement coverage, documents it does
    /// not need, and its `doc_types` match entries. `shown` is the case's [`shown`] documents,
    /// made once for every permit type.
    pub(crate) fn score(
        &self,
        permit: &Permit,
        docs: &[TypedText<'_, '_>],
        shown: &[(String, String)],
        e: &EngineRaw,
    ) -> (f64, Vec<Reason>) {
        let rule = format!("evidence:{}", permit.id);
        let uses = self.uses.get(&permit.id);
        let mut total = 0.0;
        let mut reasons = Vec::new();
        for (doc_type, label) in shown {
            let doc_type = doc_type.as_str();
            let worth = self.worth(doc_type);
            if worth <= 0.0 {
                continue;
            }
            let doc_name = self.names.get(doc_type).map_or(doc_type, String::as_str);
            let (weight, snippet) = match uses.and_then(|u| u.get(doc_type)) {
                Some(req) => (
                    e.evidence_weight * worth,
                    format!("{label}: {doc_name} → persyaratan “{req}”"),
                ),
                None => (
                    -e.evidence_weight * e.evidence_penalty * worth,
                    format!("{label}: {doc_name}, bukan persyaratan izin ini"),
                ),
            };
            total += weight;
            reasons.push(Reason {
                rule: rule.clone(),
                field: "document".into(),
                snippet,
                weight: round2(weight),
            });
        }
        let typed_rule = format!("permit:{}", permit.id);
        for m in permit.matchers.iter().filter(|m| !m.doc_types.is_empty()) {
            if let Some(hit) = m.find_in_typed(docs) {
                total += m.weight;
                reasons.push(Reason {
                    rule: typed_rule.clone(),
                    field: hit.field.as_str().to_string(),
                    snippet: hit.snippet,
                    weight: m.weight,
                });
            }
        }
        (total, reasons)
    }

    /// The documents of a case (see [`shown`]) that `wanted`'s requirements use and `other`'s
    /// do not: each one's label and the evidence it gives `wanted`. A route permit's STNK and
    /// KIR against an STR and an IDI letter: documents of two permits.
    pub(crate) fn only_for<'s>(
        &self,
        wanted: &Permit,
        other: &Permit,
        shown: &'s [(String, String)],
        e: &EngineRaw,
    ) -> Vec<(&'s str, f64)> {
        let uses = |p: &Permit, t: &str| self.uses.get(&p.id).is_some_and(|u| u.contains_key(t));
        shown
            .iter()
            .filter(|(t, _)| uses(wanted, t) && !uses(other, t))
            .map(|(t, label)| (label.as_str(), e.evidence_weight * self.worth(t)))
            .filter(|(_, w)| *w > 0.0)
            .collect()
    }
}

/// Each document type of a case once, with the label its reasons show: the typed documents
/// (their file name), then the identifiers standing for one.
pub(crate) fn shown(docs: &[TypedText<'_, '_>], stated: &[Stated]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let all = docs
        .iter()
        .map(|d| (d.doc_type, d.filename.to_string()))
        .chain(
            stated
                .iter()
                .map(|s| (s.doc_type.as_str(), s.label.clone())),
        );
    for (doc_type, label) in all {
        if !out.iter().any(|(t, _)| t == doc_type) {
            out.push((doc_type.to_string(), label));
        }
    }
    out
}

/// An identifier in the subject or body standing for a document (see [`Profile::stated`]).
#[derive(Debug, Clone)]
pub struct Stated {
    pub doc_type: String,
    /// Where it was written, for the reason: `body (nib 912030…67)`.
    pub label: String,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
