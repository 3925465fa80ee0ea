//! The service-standard deadline of a case (SPEC "Officers' desk": working days from the day the
//! file became complete, paused while the case is `needs_correction`) and how urgent it is.
//!
//! Pure: dates in, dates out. Times are stored as Unix ms; [`local_date`] turns one into the
//! office's calendar day first, as a file completed at 23:30 WIB was completed that day, not the
//! next UTC day.

use time::{Date, OffsetDateTime, UtcOffset};

use super::calendar::Calendar;

/// How close a case is to its deadline, for sorting and colouring the officers' queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// The deadline has passed.
    Overdue,
    /// Due today or within the next [`DUE_SOON_WORKING_DAYS`] working days.
    DueSoon,
    OnTime,
}

/// A case with this many working days left, or fewer, is [`Urgency::DueSoon`].
pub const DUE_SOON_WORKING_DAYS: i64 = 2;

/// The day by which the office owes an answer.
///
/// The clock starts on `complete_on` (that day does not count: day 1 is the next working day)
/// and runs only on working days. A pause `(from, until)` is a stretch in `needs_correction`:
/// the day it began still counts (the officer worked on the file that day), the working days
/// after it up to and including `until` do not, as `until` is the day the applicant's answer came
/// and, like `complete_on`, starts the count again. Pauses may overlap and come in any order.
///
/// An open pause (`until = None`: still waiting for the applicant) is taken to end `today`, so
/// the date is the earliest the office could owe an answer if the documents came in today. It
/// moves on each day the applicant has not answered, and a case never becomes overdue while
/// waiting, unless the office's time had run out before it asked.
///
/// With `sla_working_days = 0` the deadline is the first working day on or after `complete_on`.
pub fn due_date(
    cal: &Calendar,
    sla_working_days: u32,
    complete_on: Date,
    pauses: &[(Date, Option<Date>)],
    today: Date,
) -> Date {
    if sla_working_days == 0 {
        return cal.working_day_on_or_after(complete_on);
    }
    let mut pauses: Vec<(Date, Date)> = pauses
        .iter()
        .map(|&(from, until)| (from, until.unwrap_or(today.max(from))))
        .filter(|(from, until)| until > from)
        .collect();
    pauses.sort();
    let mut clock_from = complete_on;
    let mut left = i64::from(sla_working_days);
    for (from, until) in pauses {
        if until <= clock_from {
            continue;
        }
        let running = cal.working_days_between(clock_from, from.max(clock_from));
        if running >= left {
            break;
        }
        left -= running;
        clock_from = until;
    }
    // `left` is at least 1 and at most the SLA, so it fits.
    cal.add_working_days(clock_from, u32::try_from(left).unwrap_or(sla_working_days))
}

/// How urgent a case due on `due` is on `today`.
pub fn urgency(cal: &Calendar, due: Date, today: Date) -> Urgency {
    if due < today {
        Urgency::Overdue
    } else if cal.working_days_between(today, due) <= DUE_SOON_WORKING_DAYS {
        Urgency::DueSoon
    } else {
        Urgency::OnTime
    }
}

/// The office's calendar day at a stored instant (Unix ms), `utc_offset_hours` east of UTC
/// (7 WIB, 8 WITA, 9 WIT; see `Office::local_time`). An offset out of range is taken as UTC,
/// an instant out of range as the first or last representable day.
pub fn local_date(unix_ms: i64, utc_offset_hours: i8) -> Date {
    let offset = UtcOffset::from_hms(utc_offset_hours, 0, 0).unwrap_or(UtcOffset::UTC);
    let local = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .ok()
        .and_then(|t| t.checked_to_offset(offset));
    match local {
        Some(t) => t.date(),
        None if unix_ms < 0 => Date::MIN,
        None => Date::MAX,
    }
}

#[cfg(test)]
mod tests;
