use std::path::Path;

use proptest::prelude::*;
use time::macros::{date, datetime};
use time::{Date, Duration};

use super::*;

fn shipped() -> Calendar {
    Calendar::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap()
}

fn weekends() -> Calendar {
    Calendar::weekends_only()
}

const MON: Date = date!(2026 - 07 - 06);

#[test]
fn without_pauses_the_deadline_is_sla_working_days_after_completion() {
    assert_eq!(
        due_date(&weekends(), 5, MON, &[], MON),
        date!(2026 - 07 - 13)
    );
    // Completed on a Saturday: day 1 is Monday.
    assert_eq!(
        due_date(&weekends(), 1, date!(2026 - 07 - 04), &[], MON),
        MON
    );
}

#[test]
fn days_waiting_for_the_applicants_correction_do_not_count() {
    // Complete Monday; Tue (1), Wed (2): officer asks for a corrected form on Wednesday; the
    // applicant answers the next Monday; Tue (3), Wed (4), Thu (5).
    let pauses = [(date!(2026 - 07 - 08), Some(date!(2026 - 07 - 13)))];
    let due = due_date(&weekends(), 5, MON, &pauses, date!(2026 - 07 - 20));
    assert_eq!(due, date!(2026 - 07 - 16));
}

#[test]
fn while_still_waiting_the_deadline_moves_with_today_and_is_never_overdue() {
    let pauses = [(date!(2026 - 07 - 08), None)];
    let friday = date!(2026 - 07 - 10);
    assert_eq!(
        due_date(&weekends(), 5, MON, &pauses, friday),
        date!(2026 - 07 - 15)
    );
    let later = date!(2026 - 07 - 20);
    let due = due_date(&weekends(), 5, MON, &pauses, later);
    assert_eq!(due, date!(2026 - 07 - 23));
    assert_ne!(urgency(&weekends(), due, later), Urgency::Overdue);
}

#[test]
fn asking_for_corrections_after_the_deadline_does_not_excuse_the_delay() {
    // Due Wednesday 8th; the officer first asks on Friday 10th.
    let pauses = [(date!(2026 - 07 - 10), None)];
    let today = date!(2026 - 07 - 20);
    let due = due_date(&weekends(), 2, MON, &pauses, today);
    assert_eq!(due, date!(2026 - 07 - 08));
    assert_eq!(urgency(&weekends(), due, today), Urgency::Overdue);
}

#[test]
fn overlapping_pauses_and_pauses_before_completion_count_once() {
    let pauses = [
        (date!(2026 - 07 - 09), Some(date!(2026 - 07 - 14))),
        (date!(2026 - 07 - 01), Some(date!(2026 - 07 - 03))),
        (date!(2026 - 07 - 08), Some(date!(2026 - 07 - 13))),
    ];
    // Tue (1), Wed (2) then paused through Tue 14th; Wed (3), Thu (4), Fri (5).
    assert_eq!(
        due_date(&weekends(), 5, MON, &pauses, MON),
        date!(2026 - 07 - 17)
    );
}

#[test]
fn zero_day_standard_is_due_on_the_next_working_day_on_or_after_completion() {
    let cal = shipped();
    // Completed on Nyepi 2026, before the Lebaran days off.
    assert_eq!(
        due_date(&cal, 0, date!(2026 - 03 - 19), &[], MON),
        date!(2026 - 03 - 25)
    );
}

#[test]
fn urgency_counts_working_days_left() {
    let cal = weekends();
    let thu = date!(2026 - 07 - 09);
    assert_eq!(urgency(&cal, thu, thu), Urgency::DueSoon);
    // Monday is 2 working days after Thursday (Fri, Mon).
    assert_eq!(urgency(&cal, date!(2026 - 07 - 13), thu), Urgency::DueSoon);
    assert_eq!(urgency(&cal, date!(2026 - 07 - 14), thu), Urgency::OnTime);
    assert_eq!(urgency(&cal, date!(2026 - 07 - 08), thu), Urgency::Overdue);
    // Due Friday, looked at on Saturday: late, though no working day has passed.
    assert_eq!(
        urgency(&cal, date!(2026 - 07 - 10), date!(2026 - 07 - 11)),
        Urgency::Overdue
    );
}

#[test]
fn a_late_evening_in_jakarta_is_still_that_day() {
    let ms = datetime!(2026-03-18 17:30 UTC).unix_timestamp() * 1000;
    assert_eq!(local_date(ms, 7), date!(2026 - 03 - 19));
    assert_eq!(local_date(ms, 0), date!(2026 - 03 - 18));
    assert_eq!(
        local_date(ms, 99),
        date!(2026 - 03 - 18),
        "bad offset is UTC"
    );
    assert_eq!(local_date(i64::MAX, 7), Date::MAX);
    assert_eq!(local_date(i64::MIN, 7), Date::MIN);
}

fn day(offset: i64) -> Date {
    date!(2025 - 01 - 01) + Duration::days(offset)
}

fn pause_list() -> impl Strategy<Value = Vec<(Date, Option<Date>)>> {
    proptest::collection::vec((0i64..900, proptest::option::weighted(0.8, 0i64..40)), 0..4)
        .prop_map(|v| {
            v.into_iter()
                .map(|(from, len)| (day(from), len.map(|l| day(from + l))))
                .collect()
        })
}

proptest! {
    #[test]
    fn the_deadline_is_a_working_day_outside_every_pause(
        sla in 1u32..40, complete in 0i64..900, today in 0i64..1000, pauses in pause_list(),
    ) {
        let cal = shipped();
        let today = day(today);
        let due = due_date(&cal, sla, day(complete), &pauses, today);
        prop_assert!(cal.is_working_day(due));
        prop_assert!(due > day(complete));
        for &(from, until) in &pauses {
            let until = until.unwrap_or(today.max(from));
            prop_assert!(!(from < due && due <= until), "{due} inside ({from}, {until}]");
        }
    }

    #[test]
    fn more_sla_days_or_another_pause_never_give_an_earlier_date(
        sla in 0u32..40, complete in 0i64..900, today in 0i64..1000, pauses in pause_list(),
        extra in (0i64..900, 0i64..30),
    ) {
        let cal = shipped();
        let (complete, today) = (day(complete), day(today));
        let due = due_date(&cal, sla, complete, &pauses, today);
        let one_more = due_date(&cal, sla + 1, complete, &pauses, today);
        // A zero-day standard is already rounded up to a working day.
        let later = if sla == 0 { one_more >= due } else { one_more > due };
        prop_assert!(later, "{} then {}", due, one_more);
        let mut more = pauses.clone();
        more.push((day(extra.0), Some(day(extra.0 + extra.1))));
        prop_assert!(due_date(&cal, sla, complete, &more, today) >= due);
    }

    #[test]
    fn without_pauses_exactly_sla_working_days_pass(sla in 1u32..60, complete in 0i64..900) {
        let cal = shipped();
        let complete = day(complete);
        let due = due_date(&cal, sla, complete, &[], complete);
        prop_assert_eq!(cal.working_days_between(complete, due), i64::from(sla));
    }
}
