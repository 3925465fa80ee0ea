//! The service-standard deadline of a case, kept on the case row so queues can sort by it and
//! the dashboard can count what is overdue.
//!
//! It counts the permit type's `sla_days` in working days (weekends and `rules/holidays.toml`
//! excluded) from the day the file became complete, and does not run while the case is
//! `needs_correction`. Recomputed whenever the sorting or the status changes.

use crate::classify::Catalogue;
use crate::domain::calendar::Calendar;
use crate::domain::deadline::{due_date, local_date};
use crate::domain::Status;
use crate::filing::{desk, now_ms, CaseId, Conn, StoreError};

/// Recompute and store a case's deadline; gives the due date (YYYY-MM-DD), if any.
pub async fn refresh(
    conn: &mut Conn,
    case_id: CaseId,
    catalogue: &Catalogue,
    calendar: &Calendar,
    utc_offset_hours: i8,
) -> Result<Option<String>, StoreError> {
    let case = desk::case_ref_by_id(conn, case_id).await?;
    let sla = case
        .permit_type
        .as_deref()
        .and_then(|p| catalogue.permit(p))
        .map(|p| p.sla_days);
    let Some(sla) = sla else {
        desk::save_deadline(conn, case_id, case.complete_at, None).await?;
        return Ok(None);
    };
    let complete_at = case
        .complete_at
        .or_else(|| case.missing.is_empty().then(now_ms));
    let Some(complete_at) = complete_at else {
        desk::save_deadline(conn, case_id, None, None).await?;
        return Ok(None);
    };
    let changes = desk::status_changes(conn, case_id).await?;
    let pauses = pauses(&changes, complete_at, utc_offset_hours);
    let start = local_date(complete_at, utc_offset_hours);
    let today = local_date(now_ms(), utc_offset_hours);
    let due = due_date(calendar, sla, start, &pauses, today).to_string();
    desk::save_deadline(conn, case_id, Some(complete_at), Some(&due)).await?;
    Ok(Some(due))
}

/// The spans spent in `needs_correction` after the file became complete, as office-local dates
/// (an open span: still paused).
fn pauses(
    changes: &[(String, i64)],
    since: i64,
    offset: i8,
) -> Vec<(time::Date, Option<time::Date>)> {
    let mut out = Vec::new();
    let mut open: Option<i64> = None;
    for (status, at) in changes {
        let correcting = status == Status::NeedsCorrection.as_str();
        match (open, correcting) {
            (None, true) => open = Some((*at).max(since)),
            (Some(start), false) => {
                if *at > since {
                    out.push((local_date(start, offset), Some(local_date(*at, offset))));
                }
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        out.push((local_date(start, offset), None));
    }
    out
}

/// The calendar from the rules folder; weekends only (with a warning) if the file is broken,
/// so a typo in holidays.toml never stops sorting.
pub fn calendar(rules_dir: &std::path::Path) -> Calendar {
    Calendar::load(rules_dir).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "holidays.toml unusable; counting weekends only");
        Calendar::weekends_only()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_needs_correction_after_completion_pauses() {
        let day = 86_400_000;
        let changes = vec![
            ("needs_correction".to_string(), 10 * day),
            ("in_review".to_string(), 12 * day),
            ("needs_correction".to_string(), 20 * day),
        ];
        let p = pauses(&changes, 11 * day, 0);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].0, local_date(11 * day, 0));
        assert_eq!(p[0].1, Some(local_date(12 * day, 0)));
        assert_eq!(p[1].1, None);
        assert!(pauses(&changes[..2], 13 * day, 0).is_empty());
    }
}
