//! The rule file format as written by an office (see `rules/README.md`): serde structs that
//! reject unknown keys, with spans on the values a later check may need to point at.

use serde::Deserialize;
use toml::Spanned;

use super::matcher::Field;

/// One rule file. Every section is optional, so an office may split the catalogue however it
/// likes (one file per permit type, one for all departments, ...).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub engine: Option<EngineRaw>,
    #[serde(default)]
    pub department: Vec<DepartmentRaw>,
    #[serde(default)]
    pub synonym: Vec<SynonymRaw>,
    #[serde(default)]
    pub application_type: Vec<AppTypeRaw>,
    #[serde(default)]
    pub kind: Vec<KindRaw>,
    #[serde(default)]
    pub condition: Vec<ConditionRaw>,
    #[serde(default)]
    pub doctype: Vec<DocTypeRaw>,
    #[serde(default)]
    pub requirement: Vec<RequirementRaw>,
    #[serde(default)]
    pub permit: Vec<PermitRaw>,
    #[serde(default)]
    pub unlisted_permit: Vec<UnlistedPermitRaw>,
}

/// Thresholds of the engine; every key has a default in code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineRaw {
    /// A permit type is filed when its score reaches this...
    pub confident_score: f64,
    /// ...and leads the runner-up by at least this much.
    pub margin: f64,
    /// A kind (complaint, consultation, ...) needs this score to be chosen.
    pub kind_threshold: f64,
    /// Default score a document needs to be typed.
    pub doc_threshold: f64,
    /// Words of at least this many letters tolerate one typo.
    pub fuzzy_min_len: usize,
    /// Share of the best permit score added to the application kind's score.
    pub permit_kind_factor: f64,
    /// Added to the application kind's score per typed document (at most 4).
    pub doc_kind_bonus: f64,
    /// Documents of these types (and untyped ones) are read for the permit type and kind; other
    /// typed documents (a KTP, an NIB) only satisfy requirements, as they name no permit.
    pub letter_doc_types: Vec<String>,
    /// Scale of the documents' evidence: each typed document adds this times its document
    /// type's distinctiveness to every permit type whose requirements it satisfies.
    pub evidence_weight: f64,
    /// Share of a typed document's distinctiveness counted against each permit type that
    /// requires no such document (an STNK says "not a building permit").
    pub evidence_penalty: f64,
    /// A permit type is filed when the calibrated confidence reaches this (chosen from the
    /// reliability table in `rules/README.md`); below it the case goes to triage.
    pub triage_confidence: f64,
    /// Platt scaling of the raw evidence margin into a probability: slope...
    pub calibration_slope: f64,
    /// ...and offset (`confidence = 1 / (1 + exp(-(slope * x + offset)))`).
    pub calibration_offset: f64,
    /// The same scaling for a complaint, consultation or other mail, of its kind's score over
    /// `kind_threshold`: slope...
    pub kind_calibration_slope: f64,
    /// ...and offset; fitted on the same tuning sets (rules/README.md, "Confidence").
    pub kind_calibration_offset: f64,
}

impl Default for EngineRaw {
    fn default() -> Self {
        EngineRaw {
            confident_score: 4.0,
            margin: 2.0,
            kind_threshold: 2.0,
            doc_threshold: 2.0,
            fuzzy_min_len: 6,
            permit_kind_factor: 0.3,
            doc_kind_bonus: 0.5,
            letter_doc_types: vec!["surat_permohonan".to_string()],
            evidence_weight: 2.0,
            evidence_penalty: 0.5,
            triage_confidence: 0.8,
            calibration_slope: 3.28,
            calibration_offset: -2.45,
            kind_calibration_slope: 0.0,
            kind_calibration_offset: 3.58,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRaw {
    pub id: Spanned<String>,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynonymRaw {
    pub word: String,
    pub variants: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppTypeRaw {
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub default: bool,
    #[serde(rename = "match", default)]
    pub matches: Vec<MatchRaw>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRaw {
    /// `application`, `complaint`, `consultation` or `other`.
    pub id: Spanned<String>,
    pub department: Option<Spanned<String>>,
    #[serde(rename = "match", default)]
    pub matches: Vec<MatchRaw>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionRaw {
    pub id: Spanned<String>,
    pub name: String,
    pub threshold: Option<f64>,
    #[serde(rename = "match", default)]
    pub matches: Vec<MatchRaw>,
}

/// A permit this office does not issue from its catalogue (an SIUP for alcoholic drinks, a
/// crowd permit): recognised only to send such mail to an officer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlistedPermitRaw {
    pub id: Spanned<String>,
    pub name: String,
    #[serde(rename = "match", default)]
    pub matches: Vec<MatchRaw>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocTypeRaw {
    pub id: Spanned<String>,
    pub name: String,
    pub threshold: Option<f64>,
    #[serde(rename = "match", default)]
    pub matches: Vec<MatchRaw>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementRaw {
    pub id: Spanned<String>,
    pub name: String,
    pub doc_types: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermitRaw {
    pub id: Spanned<String>,
    pub name: String,
    pub department: Spanned<String>,
    pub sla_days: u32,
    #[serde(default)]
    pub application_types: Vec<Spanned<String>>,
    #[serde(rename = "match", default)]
    pub matches: Vec<MatchRaw>,
    #[serde(default)]
    pub requires: Vec<ReqRefRaw>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    #[default]
    Mandatory,
    Optional,
    Conditional,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReqRefRaw {
    pub id: Spanned<String>,
    #[serde(default)]
    pub need: Need,
    pub condition: Option<Spanned<String>>,
    /// Only for these application types (empty: all).
    #[serde(default)]
    pub application_types: Vec<Spanned<String>>,
}

/// One way to recognise something: phrases, a regular expression or an identifier, with a
/// weight (negative: counts against).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchRaw {
    #[serde(default)]
    pub phrases: Vec<String>,
    pub regex: Option<Spanned<String>>,
    pub identifier: Option<Spanned<String>>,
    pub weight: f64,
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Only in documents typed as one of these (permit types: the words in an STR or a
    /// recommendation letter that tell a doctor's from a midwife's). Empty: as `fields` say.
    #[serde(default)]
    pub doc_types: Vec<Spanned<String>>,
}
