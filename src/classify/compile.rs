//! Checking and compiling parsed rule files into a [`Catalogue`]: duplicate ids, references to
//! missing departments / document types / requirements / conditions / application types, bad
//! regular expressions, empty patterns. Every problem is recorded with file and line.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use regex::RegexBuilder;
use toml::Spanned;

use super::format::{MatchRaw, Need};
use super::matcher::{Field, Lexicon, Matcher, Pattern};
use super::rules::{
    line_of, AppType, Catalogue, Condition, Department, DocType, KindRule, Parsed, Permit, ReqRef,
    Requirement, RuleError, UnlistedPermit,
};
use crate::domain::Kind;

const IDENTIFIERS: &[&str] = &["nik", "npwp", "nib", "phone", "email"];

struct Checker<'a> {
    errors: &'a mut Vec<RuleError>,
    /// (category, id) -> where it was first defined.
    seen: HashMap<(&'static str, String), (String, usize)>,
}

impl Checker<'_> {
    fn err(&mut self, p: &Parsed, span: Range<usize>, message: String) {
        self.errors.push(RuleError {
            file: p.file.clone(),
            line: line_of(&p.src, span.start),
            message,
        });
    }

    /// Record a definition; report it if the id was already defined.
    fn define(&mut self, p: &Parsed, cat: &'static str, id: &Spanned<String>) {
        let line = line_of(&p.src, id.span().start);
        let key = (cat, id.get_ref().clone());
        if let Some((file, first)) = self.seen.get(&key) {
            let message = format!(
                "duplicate {cat} id `{}` (first defined at {file}:{first})",
                id.get_ref()
            );
            self.err(p, id.span(), message);
        } else {
            self.seen.insert(key, (p.file.clone(), line));
        }
    }

    /// Report a reference to an id of `cat` that no file defines.
    fn refer(&mut self, p: &Parsed, cat: &'static str, id: &Spanned<String>) {
        if !self.seen.contains_key(&(cat, id.get_ref().clone())) {
            self.err(p, id.span(), format!("unknown {cat} `{}`", id.get_ref()));
        }
    }
}

pub(crate) fn compile(parsed: &[Parsed], errors: &mut Vec<RuleError>) -> Catalogue {
    let mut ck = Checker {
        errors,
        seen: HashMap::new(),
    };
    let mut engines = parsed.iter().filter_map(|p| p.rules.engine.clone());
    let engine = engines.next().unwrap_or_default();
    let mut synonyms = HashMap::new();
    for p in parsed {
        for s in &p.rules.synonym {
            for v in &s.variants {
                synonyms.insert(v.to_lowercase(), s.word.to_lowercase());
            }
        }
        let r = &p.rules;
        r.department
            .iter()
            .for_each(|d| ck.define(p, "department", &d.id));
        r.application_type
            .iter()
            .for_each(|a| ck.define(p, "application type", &a.id));
        r.kind.iter().for_each(|k| ck.define(p, "kind", &k.id));
        r.condition
            .iter()
            .for_each(|c| ck.define(p, "condition", &c.id));
        r.doctype
            .iter()
            .for_each(|d| ck.define(p, "document type", &d.id));
        r.requirement
            .iter()
            .for_each(|q| ck.define(p, "requirement", &q.id));
        r.permit
            .iter()
            .for_each(|q| ck.define(p, "permit type", &q.id));
        r.unlisted_permit
            .iter()
            .for_each(|q| ck.define(p, "unlisted permit", &q.id));
    }
    let mut cat = Catalogue {
        engine: engine.clone(),
        files: parsed.len(),
        lexicon: Lexicon {
            synonyms,
            vocabulary: HashSet::new(),
        },
        departments: Vec::new(),
        app_types: Vec::new(),
        kinds: Vec::new(),
        conditions: Vec::new(),
        doctypes: Vec::new(),
        requirements: Vec::new(),
        permits: Vec::new(),
        unlisted: Vec::new(),
        evidence: Default::default(),
    };
    let all = &Field::ALL[..];
    let doc_fields = &[Field::Filename, Field::Document][..];
    for p in parsed {
        let r = &p.rules;
        if r.engine.is_some() && !std::ptr::eq(p, first_engine_file(parsed)) {
            ck.err(p, 0..0, "[engine] is defined in more than one file".into());
        }
        for d in &r.department {
            cat.departments.push(Department {
                id: d.id.get_ref().clone(),
                name: d.name.clone(),
                email: d.email.clone(),
            });
        }
        for a in &r.application_type {
            let matchers = matchers(&mut ck, p, &a.id, &a.matches, all, &cat);
            cat.app_types.push(AppType {
                id: a.id.get_ref().clone(),
                name: a.name.clone(),
                default: a.default,
                matchers,
            });
        }
        for k in &r.kind {
            let Some(kind) = Kind::parse(k.id.get_ref()) else {
                let msg = format!(
                    "unknown kind `{}` (application, complaint, consultation, other)",
                    k.id.get_ref()
                );
                ck.err(p, k.id.span(), msg);
                continue;
            };
            if let Some(d) = &k.department {
                ck.refer(p, "department", d);
            }
            let matchers = matchers(&mut ck, p, &k.id, &k.matches, all, &cat);
            let department = k.department.as_ref().map(|d| d.get_ref().clone());
            cat.kinds.push(KindRule {
                kind,
                department,
                matchers,
            });
        }
        for c in &r.condition {
            let matchers = matchers(&mut ck, p, &c.id, &c.matches, all, &cat);
            cat.conditions.push(Condition {
                id: c.id.get_ref().clone(),
                name: c.name.clone(),
                threshold: c.threshold.unwrap_or(f64::MIN_POSITIVE),
                matchers,
            });
        }
        for d in &r.doctype {
            let matchers = matchers(&mut ck, p, &d.id, &d.matches, doc_fields, &cat);
            cat.doctypes.push(DocType {
                id: d.id.get_ref().clone(),
                name: d.name.clone(),
                threshold: d.threshold.unwrap_or(engine.doc_threshold),
                matchers,
            });
        }
        for q in &r.requirement {
            q.doc_types
                .iter()
                .for_each(|d| ck.refer(p, "document type", d));
            if q.doc_types.is_empty() {
                ck.err(p, q.id.span(), "requirement lists no doc_types".into());
            }
            cat.requirements.push(Requirement {
                id: q.id.get_ref().clone(),
                name: q.name.clone(),
                doc_types: q.doc_types.iter().map(|d| d.get_ref().clone()).collect(),
            });
        }
        for q in &r.permit {
            let permit = permit(&mut ck, p, q, &cat);
            cat.permits.push(permit);
        }
        for u in &r.unlisted_permit {
            let matchers = matchers(&mut ck, p, &u.id, &u.matches, all, &cat);
            cat.unlisted.push(UnlistedPermit {
                id: u.id.get_ref().clone(),
                name: u.name.clone(),
                matchers,
            });
        }
    }
    let vocabulary: HashSet<String> = (cat.permits.iter().flat_map(|p| &p.matchers))
        .chain(cat.kinds.iter().flat_map(|k| &k.matchers))
        .chain(cat.doctypes.iter().flat_map(|d| &d.matchers))
        .chain(cat.conditions.iter().flat_map(|c| &c.matchers))
        .chain(cat.app_types.iter().flat_map(|a| &a.matchers))
        .chain(cat.unlisted.iter().flat_map(|u| &u.matchers))
        .flat_map(|m| m.words())
        .map(str::to_string)
        .collect();
    cat.lexicon.vocabulary = vocabulary;
    cat.evidence = super::evidence::Profile::new(&cat.permits, &cat.requirements, &cat.doctypes);
    if parsed.iter().all(|p| p.rules.permit.is_empty()) && ck.errors.is_empty() {
        ck.errors.push(RuleError {
            file: "rules".into(),
            line: 0,
            message: "no permit types defined".into(),
        });
    }
    cat
}

fn first_engine_file(parsed: &[Parsed]) -> &Parsed {
    parsed
        .iter()
        .find(|p| p.rules.engine.is_some())
        .unwrap_or(&parsed[0])
}

fn permit(
    ck: &mut Checker<'_>,
    p: &Parsed,
    q: &super::format::PermitRaw,
    cat: &Catalogue,
) -> Permit {
    ck.refer(p, "department", &q.department);
    for a in &q.application_types {
        ck.refer(p, "application type", a);
    }
    let mut requires = Vec::new();
    for r in &q.requires {
        ck.refer(p, "requirement", &r.id);
        r.application_types
            .iter()
            .for_each(|a| ck.refer(p, "application type", a));
        match (&r.condition, r.need) {
            (Some(c), Need::Conditional) => ck.refer(p, "condition", c),
            (None, Need::Conditional) => {
                let msg = format!(
                    "requirement `{}` is conditional but names no condition",
                    r.id.get_ref()
                );
                ck.err(p, r.id.span(), msg);
            }
            (Some(c), _) => {
                let msg = format!("condition `{}` needs need = \"conditional\"", c.get_ref());
                ck.err(p, c.span(), msg);
            }
            (None, _) => {}
        }
        requires.push(ReqRef {
            id: r.id.get_ref().clone(),
            need: r.need,
            condition: r.condition.as_ref().map(|c| c.get_ref().clone()),
            application_types: ids(&r.application_types),
        });
    }
    Permit {
        id: q.id.get_ref().clone(),
        name: q.name.clone(),
        department: q.department.get_ref().clone(),
        sla_days: q.sla_days,
        application_types: ids(&q.application_types),
        matchers: matchers(ck, p, &q.id, &q.matches, &Field::ALL, cat),
        requires,
    }
}

fn ids(list: &[Spanned<String>]) -> Vec<String> {
    list.iter().map(|s| s.get_ref().clone()).collect()
}

fn matchers(
    ck: &mut Checker<'_>,
    p: &Parsed,
    owner: &Spanned<String>,
    raw: &[MatchRaw],
    default_fields: &[Field],
    cat: &Catalogue,
) -> Vec<Matcher> {
    let owner_id = owner.get_ref();
    let mut out = Vec::new();
    for m in raw {
        let given = usize::from(!m.phrases.is_empty())
            + usize::from(m.regex.is_some())
            + usize::from(m.identifier.is_some());
        if given != 1 {
            let msg =
                format!("a match of `{owner_id}` needs exactly one of phrases, regex, identifier");
            ck.err(p, owner.span(), msg);
            continue;
        }
        let pattern = if let Some(re) = &m.regex {
            match RegexBuilder::new(re.get_ref())
                .case_insensitive(true)
                .build()
            {
                Ok(r) => Pattern::Regex(r),
                Err(e) => {
                    let first = e.to_string().lines().last().unwrap_or_default().to_string();
                    ck.err(p, re.span(), format!("bad regex in `{owner_id}`: {first}"));
                    continue;
                }
            }
        } else if let Some(id) = &m.identifier {
            if !IDENTIFIERS.contains(&id.get_ref().as_str()) {
                let msg = format!(
                    "unknown identifier `{}` ({})",
                    id.get_ref(),
                    IDENTIFIERS.join(", ")
                );
                ck.err(p, id.span(), msg);
                continue;
            }
            Pattern::Identifier(id.get_ref().clone())
        } else {
            let blank: HashSet<_> = m.phrases.iter().filter(|s| s.trim().is_empty()).collect();
            if !blank.is_empty() {
                ck.err(p, owner.span(), format!("empty phrase in `{owner_id}`"));
            }
            Pattern::phrases(&m.phrases, &cat.lexicon.synonyms, cat.engine.fuzzy_min_len)
        };
        let fields = if m.fields.is_empty() {
            default_fields.to_vec()
        } else {
            m.fields.clone()
        };
        for t in &m.doc_types {
            ck.refer(p, "document type", t);
        }
        out.push(Matcher {
            pattern,
            weight: m.weight,
            fields,
            doc_types: ids(&m.doc_types),
        });
    }
    out
}
