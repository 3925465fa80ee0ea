//! Full-text search for the officers' desk (issue 9): which cases mention these words in their
//! subject, body or any text read from their documents (OCR included), best first, each with
//! one snippet.
//!
//! The index (`case_search`, migration 0005) is one row per case, kept in step by triggers in
//! the transaction of every write that changes the text. SQLite searches it with FTS5 (bm25,
//! `snippet()`), PostgreSQL with `to_tsvector('indonesian', ...)` behind a GIN index
//! (`ts_rank_cd`, `ts_headline`). The officer's input never reaches either query syntax: it is
//! cut into words first ([`terms`]), and a query without a word finds nothing.
//!
//! Snippets come back as parts marked hit or not, with no markup: the desk escapes each part
//! (and masks identifiers) before it marks the hits. The engines mark hits with private-use
//! characters that the index never holds (the migration strips them from the text), so a
//! document can't forge a hit.

mod terms;

use super::ids::CaseId;
use super::store::{QueryContext, Store, StoreError};

/// Starts and ends a hit in the engines' snippets.
const HIT_START: char = '\u{E000}';
const HIT_END: char = '\u{E001}';
/// '<' and '>' as PostgreSQL's index holds them (its parser would drop `<b>`-like text).
const PG_LT: char = '\u{E002}';
const PG_GT: char = '\u{E003}';
/// `ts_headline` options: up to two fragments of about a FTS5 snippet's length.
const PG_HEADLINE: &str = "StartSel=\u{E000}, StopSel=\u{E001}, MaxWords=24, MinWords=10, \
    MaxFragments=2, FragmentDelimiter=\" … \"";
/// PostgreSQL ranks at most this many of the newest matches (more when a page reaches further).
const PG_RANKED: i64 = 1000;
/// Results per page, at most (as the desk's `limit`).
const MAX_LIMIT: i64 = 1000;

/// What to search for, and in which cases.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// What the officer typed; only its words count.
    pub text: String,
    /// The departments whose cases may be found; `None`: every case (also those not sorted).
    pub departments: Option<Vec<String>>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub permit_type: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            text: String::new(),
            departments: None,
            status: None,
            kind: None,
            permit_type: None,
            limit: 50,
            offset: 0,
        }
    }
}

/// A case that matched, with the best passage of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub case_id: CaseId,
    pub tracking_code: String,
    pub snippet: Snippet,
}

/// A passage in pieces, as plain text: escape each part, then mark the hits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snippet {
    pub parts: Vec<SnippetPart>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SnippetPart {
    pub text: String,
    /// One of the words searched for (as the engine matched it).
    pub hit: bool,
}

impl Snippet {
    /// The passage as one plain string.
    pub fn text(&self) -> String {
        self.parts.iter().map(|p| p.text.as_str()).collect()
    }

    /// The matched words, in order.
    pub fn hits(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter(|p| p.hit).map(|p| p.text.as_str())
    }
}

#[derive(sqlx::FromRow)]
struct HitRow {
    id: CaseId,
    tracking_code: String,
    snippet: Option<String>,
}

impl Store {
    /// Cases matching every word of `q.text` (each in any of its forms) and the filters, best
    /// first, one hit per case. Nothing (not an error) when the text holds no word. On
    /// PostgreSQL "best" is among the newest 1,000 matches (all of them for any but a frequent
    /// word); [`Store::count_search`] still counts every match.
    pub async fn search_cases(&self, q: &SearchQuery) -> Result<Vec<SearchHit>, StoreError> {
        let Some(plan) = Plan::new(q, self.is_postgres()) else {
            return Ok(Vec::new());
        };
        let n = plan.binds.len();
        let sql = if self.is_postgres() {
            // Ranking reads every match's tsvector: a word in all of 100,000 cases took 1.4 s
            // (p50) ranked in full, so only the newest PG_RANKED matches (or as many as the page
            // needs) are ranked. `+ 0` keeps the planner from walking a department's cases by
            // date and testing each against the query (PostgreSQL overestimates prefix queries:
            // 470 ms for a 1% word in one department); the GIN index finds the matches instead.
            format!(
                "SELECT c.id, c.tracking_code, ts_headline('indonesian', \
                 concat_ws(chr(10), s.subject, s.body, s.documents), to_tsquery('indonesian', $1), \
                 ${headline}) AS snippet \
                 FROM (SELECT s.case_id FROM case_search s JOIN cases c ON c.id = s.case_id \
                       WHERE s.tsv @@ to_tsquery('indonesian', $1) {filters} \
                       ORDER BY c.received_at + 0 DESC, c.id DESC LIMIT ${ranked}) newest \
                 JOIN case_search s ON s.case_id = newest.case_id JOIN cases c ON c.id = newest.case_id \
                 ORDER BY ts_rank_cd(s.tsv, to_tsquery('indonesian', $1)) DESC, c.received_at DESC, c.id DESC \
                 LIMIT ${limit} OFFSET ${offset}",
                filters = plan.filters,
                headline = n + 1,
                ranked = n + 2,
                limit = n + 3,
                offset = n + 4,
            )
        } else {
            format!(
                "SELECT c.id, c.tracking_code, \
                 snippet(case_search, -1, char(57344), char(57345), '…', 24) AS snippet \
                 FROM case_search JOIN cases c ON c.id = case_search.rowid \
                 WHERE case_search MATCH $1 {filters} \
                 ORDER BY bm25(case_search, 4.0, 2.0, 1.0), c.received_at DESC, c.id DESC \
                 LIMIT ${limit} OFFSET ${offset}",
                filters = plan.filters,
                limit = n + 1,
                offset = n + 2,
            )
        };
        let mut query = sqlx::query_as::<_, HitRow>(&sql);
        for b in &plan.binds {
            query = query.bind(b);
        }
        let (limit, offset) = (q.limit.clamp(0, MAX_LIMIT), q.offset.max(0));
        if self.is_postgres() {
            query = query
                .bind(PG_HEADLINE)
                .bind(PG_RANKED.max(offset.saturating_add(limit)));
        }
        let rows = query
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await
            .what("search cases")?;
        Ok(rows
            .into_iter()
            .map(|r| SearchHit {
                case_id: r.id,
                tracking_code: r.tracking_code,
                snippet: parse_snippet(r.snippet.as_deref().unwrap_or(""), self.is_postgres()),
            })
            .collect())
    }

    /// How many cases [`Store::search_cases`] would find without `limit` and `offset`.
    pub async fn count_search(&self, q: &SearchQuery) -> Result<i64, StoreError> {
        let Some(plan) = Plan::new(q, self.is_postgres()) else {
            return Ok(0);
        };
        let sql = if self.is_postgres() {
            format!(
                "SELECT COUNT(*) FROM case_search s JOIN cases c ON c.id = s.case_id \
                 WHERE s.tsv @@ to_tsquery('indonesian', $1) {}",
                plan.filters
            )
        } else {
            format!(
                "SELECT COUNT(*) FROM case_search JOIN cases c ON c.id = case_search.rowid \
                 WHERE case_search MATCH $1 {}",
                plan.filters
            )
        };
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for b in &plan.binds {
            query = query.bind(b);
        }
        query
            .fetch_one(self.pool())
            .await
            .what("count search results")
    }
}

/// The engine's query (bound as `$1`) and the filters after it (`$2`...), as SQL and binds.
struct Plan {
    filters: String,
    binds: Vec<String>,
}

impl Plan {
    /// None when nothing can match: no word, or an empty list of departments.
    fn new(q: &SearchQuery, postgres: bool) -> Option<Plan> {
        let terms = terms::terms(&q.text);
        let engine_query = if postgres {
            terms::tsquery(&terms)?
        } else {
            terms::fts5_query(&terms)?
        };
        let mut plan = Plan {
            filters: String::new(),
            binds: vec![engine_query],
        };
        if let Some(departments) = &q.departments {
            if departments.is_empty() {
                return None;
            }
            let first = plan.binds.len() + 1;
            let marks: Vec<String> = (first..first + departments.len())
                .map(|i| format!("${i}"))
                .collect();
            plan.filters += &format!(" AND c.department IN ({})", marks.join(", "));
            plan.binds.extend(departments.iter().cloned());
        }
        for (column, value) in [
            ("status", &q.status),
            ("kind", &q.kind),
            ("permit_type", &q.permit_type),
        ] {
            if let Some(v) = value {
                plan.binds.push(v.clone());
                plan.filters += &format!(" AND c.{column} = ${}", plan.binds.len());
            }
        }
        Some(plan)
    }
}

/// Cut an engine's snippet at its hit markers. Whitespace runs (page breaks, line ends) become
/// one space; on PostgreSQL the index's stand-ins for '<' and '>' become those again (on
/// SQLite those characters are dropped, as PostgreSQL's index drops a document's own).
fn parse_snippet(raw: &str, postgres: bool) -> Snippet {
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut text = String::new();
    let mut hit = false;
    let flush = |parts: &mut Vec<SnippetPart>, text: &mut String, hit: bool| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(text),
            _ => parts.push(SnippetPart {
                text: text.clone(),
                hit,
            }),
        }
        text.clear();
    };
    for ch in raw.chars() {
        match ch {
            HIT_START | HIT_END => {
                flush(&mut parts, &mut text, hit);
                hit = ch == HIT_START;
            }
            PG_LT if postgres => text.push('<'),
            PG_GT if postgres => text.push('>'),
            // FTS5 never makes them: a document's own are dropped, as in PostgreSQL's index.
            PG_LT | PG_GT => {}
            c if c.is_whitespace() => {
                let after_space = text.ends_with(' ')
                    || (text.is_empty() && parts.last().is_none_or(|p| p.text.ends_with(' ')));
                if !after_space {
                    text.push(' ');
                }
            }
            c => text.push(c),
        }
    }
    flush(&mut parts, &mut text, hit);
    if let Some(last) = parts.last_mut() {
        let trimmed = last.text.trim_end().len();
        last.text.truncate(trimmed);
    }
    parts.retain(|p| !p.text.is_empty());
    Snippet { parts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_cut_at_the_markers_and_nothing_else() {
        let raw = "Surat  \u{E000}izin\u{E001} <b>\n\u{E000}bangunan\u{E001}\u{c}rumah\u{E002} ";
        let s = parse_snippet(raw, false);
        assert_eq!(s.hits().collect::<Vec<_>>(), ["izin", "bangunan"]);
        assert_eq!(s.text(), "Surat izin <b> bangunan rumah");
        let pg = parse_snippet("\u{E002}script\u{E003} \u{E000}izin\u{E001}", true);
        assert_eq!(pg.text(), "<script> izin");
        assert_eq!(parse_snippet("", true), Snippet::default());
    }
}
