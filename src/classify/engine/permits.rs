//! Ranking the permit types of an application by what its words say (subject, body, letters,
//! untyped documents) and what its typed documents show, and spotting the two disagreeing.

use super::score;
use crate::classify::calibration;
use crate::classify::matcher::{FieldText, TypedText};
use crate::classify::rules::{Permit, UnlistedPermit};
use crate::classify::{Catalogue, Decision, Reason};

/// A permit asked for that the catalogue does not hold: its score from the words, and why.
pub(super) struct Unlisted<'c> {
    pub permit: &'c UnlistedPermit,
    pub words: f64,
    pub reasons: Vec<Reason>,
}

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
    /// Every permit type, best first. `shown`: the case's documents ([`crate::classify::evidence::shown`]).
    pub(super) fn rank_permits(
        &self,
        texts: &[&FieldText<'_>],
        typed: &[TypedText<'_, '_>],
        shown: &[(String, String)],
    ) -> Vec<Standing<'_>> {
        let mut ranked: Vec<Standing<'_>> = self
            .permits
            .iter()
            .map(|p| {
                let (words, mut reasons) = score(&p.matchers, texts, &format!("permit:{}", p.id));
                let (evidence, mut more) = self.evidence.score(p, typed, shown, &self.engine);
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

    /// The `[[unlisted_permit]]` the words name best, if any.
    pub(super) fn unlisted_asked(&self, texts: &[&FieldText<'_>]) -> Option<Unlisted<'_>> {
        self.unlisted
            .iter()
            .map(|u| {
                let (words, reasons) = score(&u.matchers, texts, &format!("unlisted:{}", u.id));
                Unlisted {
                    permit: u,
                    words,
                    reasons,
                }
            })
            .filter(|u| u.words > 0.0)
            .max_by(|a, b| a.words.total_cmp(&b.words))
    }

    /// Confidence, front runner and triage of an application from its ranking; the permit type
    /// to file it under, or None for triage. The two front runners' reasons (and both sides of
    /// a disagreement) go to `reasons` either way.
    pub(super) fn choose_permit<'c>(
        &self,
        mut ranked: Vec<Standing<'c>>,
        unlisted: Option<Unlisted<'c>>,
        documents: &[(String, String)],
        decision: &mut Decision,
        reasons: &mut Vec<Reason>,
    ) -> Option<&'c Permit> {
        let e = &self.engine;
        let best = ranked.first().map_or(0.0, Standing::total);
        let second = ranked.get(1).map_or(0.0, Standing::total);
        decision.raw_margin = calibration::raw_margin(best, second, e);
        decision.confidence = if best > 0.0 {
            calibration::confidence(decision.raw_margin, e)
        } else {
            0.0
        };
        decision.leading_permit_type = ranked
            .first()
            .filter(|s| s.total() > 0.0)
            .map(|s| s.permit.id.clone());
        let conflict = self.conflict(&ranked);
        let two = conflict
            .is_none()
            .then(|| self.two_asked(&ranked))
            .flatten();
        if let Some((a, b)) = two {
            reasons.push(two_asked_reason(ranked[a].permit, ranked[b].permit));
            decision.confidence = decision.confidence.min(e.triage_confidence / 2.0);
        }
        let split = (conflict.is_none() && two.is_none())
            .then(|| self.documents_split(&ranked, documents))
            .flatten();
        if let Some((b, reason)) = &split {
            reasons.push(reason.clone());
            decision.confidence = decision.confidence.min(e.triage_confidence / 2.0);
            if *b > 1 {
                ranked.swap(1, *b);
            }
        }
        // A permit outside the catalogue, named at least as strongly as any in it ("SIUP
        // Minuman Beralkohol" for a café whose NIB says KBLI 56303): the nearest catalogue
        // permit is not what was asked for.
        let best_words = ranked.iter().map(|s| s.words).fold(0.0, f64::max);
        let unlisted =
            unlisted.filter(|u| u.words >= e.confident_score / 2.0 && u.words >= best_words);
        let asked_unlisted = unlisted.is_some();
        if let Some(u) = unlisted {
            reasons.push(unlisted_reason(u.permit));
            reasons.extend(u.reasons);
            decision.confidence = decision.confidence.min(e.triage_confidence / 2.0);
        }
        let mut shown: Vec<usize> = vec![0, 1];
        if let Some((w, v)) = conflict {
            shown.extend([w, v]);
            reasons.push(conflict_reason(ranked[w].permit, ranked[v].permit));
            decision.confidence = 0.0;
        }
        shown.sort_unstable();
        shown.dedup();
        for &i in &shown {
            if let Some(s) = ranked.get_mut(i) {
                reasons.append(&mut s.reasons);
            }
        }
        if conflict.is_some()
            || two.is_some()
            || split.is_some()
            || asked_unlisted
            || decision.confidence < e.triage_confidence
        {
            decision.triage = true;
            return None;
        }
        ranked.first().map(|s| s.permit)
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

    /// The attachments belong to two permit types and the words do not say which one is asked
    /// (a route permit's STNK and KIR with a doctor's STR and IDI letter, "ini berkas sy dan
    /// suami"): one case cannot be both, an officer splits it. The front runner's words are
    /// below half of `confident_score`, and the front runner and another permit type each have
    /// at least two documents the other does not use, worth at least `margin` together. The
    /// other's index into `ranked` and the reason naming both sets of documents.
    fn documents_split(
        &self,
        ranked: &[Standing<'_>],
        documents: &[(String, String)],
    ) -> Option<(usize, Reason)> {
        let e = &self.engine;
        let front = ranked.first()?;
        if front.words >= e.confident_score / 2.0 {
            return None;
        }
        let worth = |only: &[(&str, f64)]| only.iter().map(|(_, w)| w).sum::<f64>();
        let enough = |only: &[(&str, f64)]| only.len() >= 2 && worth(only) >= e.margin;
        let (i, mine, theirs) = ranked
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, s)| {
                let mine = self.evidence.only_for(front.permit, s.permit, documents, e);
                let theirs = self.evidence.only_for(s.permit, front.permit, documents, e);
                (i, mine, theirs)
            })
            .filter(|(_, mine, theirs)| enough(mine) && enough(theirs))
            .max_by(|a, b| worth(&a.2).total_cmp(&worth(&b.2)))?;
        let names = |only: &[(&str, f64)]| {
            only.iter()
                .map(|(label, _)| *label)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let reason = Reason {
            rule: "triage:two_permits".into(),
            field: "document".into(),
            snippet: format!(
                "dokumen terlampir untuk dua jenis izin: {} ({}) dan {} ({})",
                front.permit.name,
                names(&mine),
                ranked[i].permit.name,
                names(&theirs)
            ),
            weight: 0.0,
        };
        Some((i, reason))
    }

    /// The words name two permit types, each on its own enough to file the case ("izin reklame
    /// dan TDUP sekaligus"): one case cannot be both, an officer splits it. The two front
    /// runners by words, as indexes into `ranked`. Words are net of the rules that take points
    /// away: "SIP dokter di Klinik Pratama" names a clinic as the place of practice, and the
    /// clinic's rule against "SIP dokter" keeps that from counting as a second request.
    fn two_asked(&self, ranked: &[Standing<'_>]) -> Option<(usize, usize)> {
        let mut by_words: Vec<usize> = (0..ranked.len()).collect();
        by_words.sort_by(|&a, &b| ranked[b].words.total_cmp(&ranked[a].words));
        let (a, b) = (*by_words.first()?, *by_words.get(1)?);
        (ranked[b].words >= self.engine.confident_score).then_some((a, b))
    }
}

/// The reason an officer reads when one mail asks for two permit types.
fn two_asked_reason(first: &Permit, second: &Permit) -> Reason {
    Reason {
        rule: "triage:two_permits".into(),
        field: "body".into(),
        snippet: format!(
            "surat menyebut dua jenis izin: {} dan {}",
            first.name, second.name
        ),
        weight: 0.0,
    }
}

/// The reason an officer reads when the mail asks for a permit outside the catalogue.
fn unlisted_reason(asked: &UnlistedPermit) -> Reason {
    Reason {
        rule: "triage:unlisted_permit".into(),
        field: "body".into(),
        snippet: format!(
            "surat meminta {}, yang tidak ada di daftar jenis izin loket ini",
            asked.name
        ),
        weight: 0.0,
    }
}

/// The reason an officer reads when the words and the documents disagree.
fn conflict_reason(by_words: &Permit, by_documents: &Permit) -> Reason {
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
