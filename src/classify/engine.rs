//! The pure engine: text in, decision and reasons out.
//!
//! Scoring: every `match` entry of a rule adds its weight once (at its first hit, in the order
//! subject, body, document, filename) and leaves a [`Reason`]. Documents are typed from their own
//! text and file name; the kind is the best-scoring request kind (applications also count the
//! best permit score from words and typed documents); permit types are ranked by their words and
//! their documents' evidence ([`super::evidence`]), and the front runner is filed only when its
//! calibrated confidence ([`super::calibration`]) reaches `triage_confidence` and the words and
//! documents do not disagree; otherwise the case goes to triage.

use super::calibration;
use super::evidence;
use super::format::Need;
use super::matcher::{Field, FieldText, Matcher, TypedText};
use super::rules::Permit;
use super::{Catalogue, ClassifyInput, Decision, DocDecision, Overrides, Reason};
use super::{Identifier, RequirementStatus};
use crate::domain::Kind;

impl Catalogue {
    /// Classify one case.
    pub fn classify(&self, input: &ClassifyInput<'_>) -> Decision {
        self.classify_with(input, &Overrides::default())
    }

    /// Classify one case, keeping the officers' corrections: forced document types count for
    /// the checklist, a forced permit type skips the scoring (and triage), a forced kind or
    /// department wins, and hand-marked requirements override what the documents show.
    pub fn classify_with(&self, input: &ClassifyInput<'_>, ov: &Overrides) -> Decision {
        self.classify_in(input, ov, None)
    }

    /// [`classify_with`](Self::classify_with) for mail that came to a mailbox of one kind
    /// (`[[mailbox]] kind`, e.g. pengaduan@ for complaints): that kind wins whenever the rules
    /// find no clear kind of their own. Clear rules, a forced permit type or an officer's kind
    /// still win.
    pub fn classify_in(
        &self,
        input: &ClassifyInput<'_>,
        ov: &Overrides,
        mailbox_kind: Option<Kind>,
    ) -> Decision {
        let mut d = self.classify_raw(input, ov, mailbox_kind);
        if let Some(kind) = ov.kind {
            d.kind = kind;
        }
        if let Some(dept) = &ov.department {
            d.department_name = self.department_name(dept).map(str::to_string);
            d.department = Some(dept.clone());
            d.triage = false;
        }
        for r in &mut d.requirements {
            if let Some(&sat) = ov.requirements.get(&r.id) {
                r.satisfied = sat;
            }
        }
        d.missing = d
            .requirements
            .iter()
            .filter(|r| r.required && !r.satisfied)
            .map(|r| r.id.clone())
            .collect();
        d
    }

    fn classify_raw(
        &self,
        input: &ClassifyInput<'_>,
        ov: &Overrides,
        mailbox_kind: Option<Kind>,
    ) -> Decision {
        let lex = &self.lexicon;
        let subject = FieldText::new(Field::Subject, input.subject, lex);
        let body = FieldText::new(Field::Body, input.body, lex);
        let docs: Vec<[FieldText<'_>; 2]> = input
            .documents
            .iter()
            .map(|d| {
                [
                    FieldText::new(Field::Document, d.text, lex),
                    FieldText::new(Field::Filename, d.filename, lex),
                ]
            })
            .collect();
        let documents: Vec<DocDecision> = docs
            .iter()
            .enumerate()
            .map(|(i, [t, f])| match ov.doc_types.get(&i) {
                Some(forced) => DocDecision {
                    doc_type: Some(forced.clone()),
                    reasons: vec![Reason {
                        rule: format!("officer:doc_type:{forced}"),
                        field: "officer".into(),
                        snippet: String::new(),
                        weight: 0.0,
                    }],
                },
                None => self.type_document(&[t, f]),
            })
            .collect();
        let typed = documents.iter().filter(|d| d.doc_type.is_some()).count();
        let attached = input
            .documents
            .iter()
            .filter(|d| !is_not_a_document(d.filename))
            .count();
        let all: Vec<&FieldText<'_>> = [&subject, &body]
            .into_iter()
            .chain(docs.iter().flatten())
            .collect();
        let identifiers = collect_identifiers(&all);
        let letters = &self.engine.letter_doc_types;
        let texts: Vec<&FieldText<'_>> = [&subject, &body]
            .into_iter()
            .chain(
                docs.iter()
                    .zip(&documents)
                    .filter(|(_, d)| d.doc_type.as_ref().is_none_or(|t| letters.contains(t)))
                    .flat_map(|(d, _)| d.iter()),
            )
            .collect();

        let typed_docs: Vec<TypedText<'_, '_>> = docs
            .iter()
            .zip(&documents)
            .zip(&input.documents)
            .filter_map(|(([t, _], d), i)| {
                d.doc_type.as_deref().map(|doc_type| TypedText {
                    doc_type,
                    filename: i.filename,
                    text: t,
                })
            })
            .collect();
        // Each document type once, made here for every permit type's evidence and the split.
        let shown = evidence::shown(&typed_docs, &self.evidence.stated(&texts, &typed_docs));
        let ranked = self.rank_permits(&texts, &typed_docs, &shown);
        // The kind is read from the words, as before: documents alone do not make a complaint
        // with a photo an application.
        let best_words = ranked.iter().map(|s| s.words).fold(0.0, f64::max);
        // A permit outside the catalogue named in the words is a permit asked for all the same.
        let unlisted = self.unlisted_asked(&texts);
        let named = unlisted
            .as_ref()
            .map_or(best_words, |u| u.words.max(best_words));

        let (mut kind, kind_score, kind_dept, mut reasons) =
            self.decide_kind(&texts, named, typed, attached, mailbox_kind);
        let forced = ov.permit_type.as_deref().and_then(|id| self.permit(id));
        if forced.is_some() {
            kind = Kind::Application;
        }
        let mut decision = Decision {
            kind,
            permit_type: None,
            permit_type_name: None,
            department: None,
            department_name: None,
            application_type: None,
            confidence: 0.0,
            triage: false,
            reasons: Vec::new(),
            documents,
            leading_permit_type: None,
            raw_margin: 0.0,
            requirements: Vec::new(),
            missing: Vec::new(),
            identifiers,
        };
        if let Some(permit) = forced {
            decision.confidence = 1.0;
            reasons.push(Reason {
                rule: format!("officer:permit:{}", permit.id),
                field: "officer".into(),
                snippet: String::new(),
                weight: 0.0,
            });
            self.file_under(permit, &texts, &all, &mut decision, &mut reasons);
            decision.reasons = reasons;
            return decision;
        }
        if kind != Kind::Application {
            decision.raw_margin = calibration::kind_raw(kind_score, &self.engine);
            decision.confidence = calibration::kind_confidence(decision.raw_margin, &self.engine);
            decision.department_name = kind_dept
                .as_deref()
                .and_then(|d| self.department_name(d))
                .map(str::to_string);
            decision.department = kind_dept;
            decision.reasons = reasons;
            return decision;
        }
        if let Some(permit) =
            self.choose_permit(ranked, unlisted, &shown, &mut decision, &mut reasons)
        {
            self.file_under(permit, &texts, &all, &mut decision, &mut reasons);
        }
        decision.reasons = reasons;
        decision
    }

    /// Give the decision a permit type: its department, application type and checklist.
    fn file_under(
        &self,
        permit: &Permit,
        texts: &[&FieldText<'_>],
        all: &[&FieldText<'_>],
        decision: &mut Decision,
        reasons: &mut Vec<Reason>,
    ) {
        decision.permit_type = Some(permit.id.clone());
        decision.permit_type_name = Some(permit.name.clone());
        decision.department = Some(permit.department.clone());
        decision.department_name = self.department_name(&permit.department).map(str::to_string);
        let app_type = self.application_type(permit, texts, reasons);
        self.checklist(permit, &app_type, all, decision, reasons);
        decision.application_type = Some(app_type);
    }

    fn type_document(&self, doc: &[&FieldText<'_>]) -> DocDecision {
        let mut best: Option<(f64, &str, Vec<Reason>)> = None;
        for d in &self.doctypes {
            let (s, r) = score(&d.matchers, doc, &format!("doctype:{}", d.id));
            if s >= d.threshold && best.as_ref().is_none_or(|b| s > b.0) {
                best = Some((s, &d.id, r));
            }
        }
        match best {
            Some((_, id, reasons)) => DocDecision {
                doc_type: Some(id.to_string()),
                reasons,
            },
            None => DocDecision {
                doc_type: None,
                reasons: Vec::new(),
            },
        }
    }

    fn decide_kind(
        &self,
        texts: &[&FieldText<'_>],
        best_permit: f64,
        typed_docs: usize,
        attached: usize,
        mailbox_kind: Option<Kind>,
    ) -> (Kind, f64, Option<String>, Vec<Reason>) {
        let e = &self.engine;
        let mut best: (Kind, f64, Option<String>, Vec<Reason>) = (Kind::Other, 0.0, None, vec![]);
        for k in &self.kinds {
            let (mut s, r) = score(&k.matchers, texts, &format!("kind:{}", k.kind));
            if k.kind == Kind::Application {
                // Capped at `confident_score`: a permit type named many times (a complaint
                // about a refused TDUP says "TDUP" in the subject, body and letter) is no more
                // an application than one named clearly once.
                s += best_permit.clamp(0.0, e.confident_score) * e.permit_kind_factor;
                s += typed_docs.min(4) as f64 * e.doc_kind_bonus;
            }
            if s > best.1 {
                best = (k.kind, s, k.department.clone(), r);
            }
        }
        if best.1 < e.kind_threshold {
            // Nothing clear: the mailbox's own kind if it has one; else a permit word or an
            // attachment ("ini pak" with a photo nobody can read) makes it an application for
            // triage, else unrelated.
            let kind = if let Some(kind) = mailbox_kind {
                best.3.push(Reason {
                    rule: format!("mailbox:kind:{}", kind.as_str()),
                    field: "mailbox".into(),
                    snippet: String::new(),
                    weight: 0.0,
                });
                kind
            } else if best_permit >= e.confident_score / 2.0 || typed_docs > 0 || attached > 0 {
                Kind::Application
            } else {
                Kind::Other
            };
            let dept = self
                .kinds
                .iter()
                .find(|k| k.kind == kind)
                .and_then(|k| k.department.clone());
            return (kind, best.1, dept, best.3);
        }
        best
    }

    fn application_type(
        &self,
        permit: &Permit,
        texts: &[&FieldText<'_>],
        reasons: &mut Vec<Reason>,
    ) -> String {
        let mut best: Option<(f64, &str, Vec<Reason>)> = None;
        for a in &self.app_types {
            if !permit.application_types.is_empty() && !permit.application_types.contains(&a.id) {
                continue;
            }
            let (s, r) = score(&a.matchers, texts, &format!("application_type:{}", a.id));
            if s > 0.0 && best.as_ref().is_none_or(|b| s > b.0) {
                best = Some((s, &a.id, r));
            }
        }
        if let Some((_, id, mut r)) = best {
            reasons.append(&mut r);
            return id.to_string();
        }
        let default = self
            .app_types
            .iter()
            .find(|a| a.default)
            .map_or("baru", |a| &a.id);
        default.to_string()
    }

    fn checklist(
        &self,
        permit: &Permit,
        app_type: &str,
        texts: &[&FieldText<'_>],
        decision: &mut Decision,
        reasons: &mut Vec<Reason>,
    ) {
        let present: Vec<&str> = decision
            .documents
            .iter()
            .filter_map(|d| d.doc_type.as_deref())
            .collect();
        let mut fired: Vec<(&str, bool)> = Vec::new();
        for r in &permit.requires {
            if !r.application_types.is_empty() && !r.application_types.iter().any(|a| a == app_type)
            {
                continue;
            }
            let Some(req) = self.requirements.iter().find(|q| q.id == r.id) else {
                continue;
            };
            let required = match (r.need, &r.condition) {
                (Need::Mandatory, _) => true,
                (Need::Optional, _) => false,
                (Need::Conditional, None) => false,
                (Need::Conditional, Some(c)) => {
                    if let Some(&(_, f)) = fired.iter().find(|(id, _)| id == c) {
                        f
                    } else {
                        let f = self.condition_fires(c, texts, reasons);
                        fired.push((c, f));
                        f
                    }
                }
            };
            let satisfied = req.doc_types.iter().any(|d| present.contains(&d.as_str()));
            if required && !satisfied {
                decision.missing.push(req.id.clone());
            }
            decision.requirements.push(RequirementStatus {
                id: req.id.clone(),
                name: req.name.clone(),
                required,
                satisfied,
            });
        }
    }

    fn condition_fires(
        &self,
        id: &str,
        texts: &[&FieldText<'_>],
        reasons: &mut Vec<Reason>,
    ) -> bool {
        let Some(c) = self.conditions.iter().find(|c| c.id == id) else {
            return false;
        };
        let (s, mut r) = score(&c.matchers, texts, &format!("condition:{}", c.id));
        let fires = s >= c.threshold;
        if fires {
            reasons.append(&mut r);
        }
        fires
    }
}

/// Not a file an applicant sends as a document: a picture a mail program puts in a signature or
/// a newsletter (`image001.png`, `logo.jpg`), or a program (`invoice.pdf.exe`, spam).
fn is_not_a_document(filename: &str) -> bool {
    let name = filename.to_lowercase();
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let program = matches!(
        ext,
        "exe" | "scr" | "bat" | "cmd" | "com" | "msi" | "vbs" | "js" | "jar" | "apk" | "ps1"
    );
    let picture = matches!(ext, "png" | "jpg" | "jpeg" | "gif" | "bmp");
    let inline = stem.starts_with("logo")
        || stem
            .strip_prefix("image")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    program || (picture && inline)
}

/// Sum of the weights of the matchers that hit, with one reason each.
fn score(matchers: &[Matcher], texts: &[&FieldText<'_>], rule: &str) -> (f64, Vec<Reason>) {
    let mut total = 0.0;
    let mut reasons = Vec::new();
    for m in matchers {
        if let Some(hit) = m.find(texts) {
            total += m.weight;
            reasons.push(Reason {
                rule: rule.to_string(),
                field: hit.field.as_str().to_string(),
                snippet: hit.snippet,
                weight: m.weight,
            });
        }
    }
    (total, reasons)
}

fn collect_identifiers(texts: &[&FieldText<'_>]) -> Vec<Identifier> {
    let mut out: Vec<Identifier> = Vec::new();
    for t in texts.iter().filter(|t| t.field != Field::Filename) {
        for i in &t.identifiers {
            if !out.contains(i) {
                out.push(i.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod evidence_tests;
#[cfg(test)]
mod mailbox_kind_tests;
mod permits;
#[cfg(test)]
mod unlisted_tests;
