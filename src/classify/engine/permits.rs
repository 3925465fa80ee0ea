//! Ranking the permit types of an application by what its words say (subject, body, letters,
//! untyped documents) and what its typed documents show, and spotting the two disagreeing.

use super::score;
use crate::classify::matcher::{FieldText, TypedText};
use crate::classify::rules::Permit;
use crate::classify::{Catalogue, Reason};

/// One permit type's standing in a case.
pub(super) struct Standing<'c> {
    pub permit: &'c Permit,
    /// From the `match` entries on subject, body, letters and untyped documents.
    pub words: f64,
    /// From the typed documents (see [`crate::classify::evidence`]).
    pub evidence: f64,
    pub reasons: Vec<Reason>,
}

impl Standing<'_> {
    pub fn total(&self) -> f64 {
        self.words + self.evidence
    }
}

impl Catalogue {
    /// Every permit type, best first.
    pub(super) fn rank_permits(
        &self,
        texts: &[&FieldText<'_>],
        typed: &[TypedText<'_, '_>],
    ) -> Vec<Standing<'_>> {
        let stated = self.evidence.stated(texts, typed);
        let mut ranked: Vec<Standing<'_>> = self
            .permits
            .iter()
            .map(|p| {
                let (words, mut reasons) = score(&p.matchers, texts, &format!("permit:{}", p.id));
                let (evidence, mut more) = self.evidence.score(p, typed, &stated, &self.engine);
                reasons.append(&mut more);
                Standing {
                    permit: p,
                    words,
                    evidence,
                    reasons,
                }
            })
            .collect();
        ranked.sort_by(|a, b| b.total().total_cmp(&a.total()));
        ranked
    }

    /// The words point at one permit type and the documents, on their own, clearly at another
    /// (the body says reklame, the documents are a PBG's): (by words, by documents), as indexes
    /// into `ranked`. The words count when they reach half of `confident_score` (what makes a
    /// case an application); the documents when they alone would reach `confident_score`; each
    /// must lead the other's choice by `margin` on its own side.
    pub(super) fn conflict(&self, ranked: &[Standing<'_>]) -> Option<(usize, usize)> {
        let e = &self.engine;
        let argmax = |f: &dyn Fn(&Standing<'_>) -> f64| {
            (0..ranked.len()).max_by(|&a, &b| f(&ranked[a]).total_cmp(&f(&ranked[b])))
        };
        let w = argmax(&|s| s.words)?;
        let v = argmax(&|s| s.evidence)?;
        let (sw, sv) = (&ranked[w], &ranked[v]);
        let disagree = w != v
            && sw.words >= e.confident_score / 2.0
            && sw.words - sv.words >= e.margin
            && sv.evidence >= e.confident_score
            && sv.evidence - sw.evidence >= e.margin;
        disagree.then_some((w, v))
    }
}

/// The reason an officer reads when the words and the documents disagree.
pub(super) fn conflict_reason(by_words: &Permit, by_documents: &Permit) -> Reason {
    Reason {
        rule: "evidence:conflict".into(),
        field: "document".into(),
        snippet: format!(
            "subjek/isi surat menunjuk {}, dokumen terlampir menunjuk {}",
            by_words.name, by_documents.name
        ),
        weight: 0.0,
    }
}
