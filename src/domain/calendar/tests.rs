use std::path::Path;

use proptest::prelude::*;
use time::macros::date;
use time::Date;

use super::*;

fn shipped() -> Calendar {
    Calendar::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"))
        .expect("the shipped holidays.toml loads")
}

#[test]
fn shipped_list_knows_the_lebaran_2026_cuti_bersama() {
    let cal = shipped();
    // Idulfitri 1447 H: Friday 20 cuti bersama, 21-22 weekend holidays, 23-24 cuti bersama.
    for d in [
        date!(2026 - 03 - 20),
        date!(2026 - 03 - 23),
        date!(2026 - 03 - 24),
    ] {
        assert!(!cal.is_working_day(d), "{d}");
        assert_eq!(
            cal.holiday(d).map(|h| h.kind),
            Some(HolidayKind::CutiBersama)
        );
    }
    assert!(cal.is_working_day(date!(2026 - 03 - 25)));
    assert_eq!(
        cal.holiday(date!(2025 - 08 - 18)).map(|h| h.kind),
        Some(HolidayKind::CutiBersama),
        "the August 2025 change to the SKB"
    );
    assert!(cal.covers_year(2025) && cal.covers_year(2026) && cal.covers_year(2027));
    assert!(!cal.covers_year(2028));
}

#[test]
fn file_completed_on_nyepi_2026_with_five_day_standard_is_due_after_lebaran() {
    let cal = shipped();
    // 19 Mar Nyepi; 20 cuti; 21-22 Idulfitri (weekend); 23-24 cuti; then 25, 26, 27, 30, 31.
    assert_eq!(
        cal.add_working_days(date!(2026 - 03 - 19), 5),
        date!(2026 - 03 - 31)
    );
    assert_eq!(
        cal.working_days_between(date!(2026 - 03 - 19), date!(2026 - 03 - 31)),
        5
    );
}

#[test]
fn day_one_is_the_first_working_day_after_start() {
    let cal = Calendar::weekends_only();
    let friday = date!(2026 - 07 - 03);
    assert_eq!(cal.add_working_days(friday, 1), date!(2026 - 07 - 06));
    assert_eq!(cal.add_working_days(friday, 0), friday);
    let saturday = date!(2026 - 07 - 04);
    assert_eq!(cal.add_working_days(saturday, 1), date!(2026 - 07 - 06));
    assert_eq!(cal.working_day_on_or_after(saturday), date!(2026 - 07 - 06));
    assert_eq!(cal.working_days_between(friday, saturday), 0);
    assert_eq!(cal.working_days_between(date!(2026 - 07 - 10), friday), -5);
}

#[test]
fn missing_file_means_weekends_only() {
    let dir = tempfile::tempdir().unwrap();
    let cal = Calendar::load(dir.path()).unwrap();
    assert_eq!(cal.holidays().count(), 0);
    assert!(cal.is_working_day(date!(2026 - 01 - 01)));
}

#[test]
fn every_bad_entry_is_reported_with_its_line() {
    let src = "\
[[holiday]]
date = \"2026-01-01\"
name = \"Tahun Baru\"

[[holiday]]
date = \"2026-13-01\"
name = \"Bulan ketiga belas\"

[[holiday]]
date = \"2026-01-01\"
name = \"Lagi\"

[[holiday]]
date = \"2026-02-16\"
name = \"Imlek\"
kind = \"cuti\"
";
    let errors = Calendar::parse("rules/holidays.toml", src).unwrap_err().0;
    let found: Vec<(usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 3, "{found:?}");
    assert!(errors.iter().all(|e| e.file == "rules/holidays.toml"));
    assert_eq!(found[0].0, 6);
    assert!(found[0].1.contains("not a date"), "{}", found[0].1);
    assert_eq!(found[1].0, 10);
    assert!(found[1].1.contains("listed twice"), "{}", found[1].1);
    assert_eq!(found[2].0, 16);
    assert!(found[2].1.contains("unknown kind"), "{}", found[2].1);
}

#[test]
fn unknown_key_is_reported_with_its_line() {
    let src = "[[holiday]]\ndate = \"2026-01-01\"\nname = \"Tahun Baru\"\nnama = \"typo\"\n";
    let errors = Calendar::parse("h.toml", src).unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 4, "{}", errors[0]);
    assert!(
        errors[0].to_string().starts_with("h.toml:4: "),
        "{}",
        errors[0]
    );
}

/// The obvious day-by-day definition the fast arithmetic must agree with.
fn naive_add(cal: &Calendar, start: Date, n: u32) -> Date {
    let mut d = start;
    let mut left = n;
    while left > 0 {
        d = d.next_day().unwrap();
        if cal.is_working_day(d) {
            left -= 1;
        }
    }
    d
}

fn day(offset: i64) -> Date {
    date!(2025 - 01 - 01) + time::Duration::days(offset)
}

fn calendar_with(offsets: &[i64]) -> Calendar {
    let unique: std::collections::BTreeSet<i64> = offsets.iter().copied().collect();
    let src: String = unique
        .iter()
        .map(|&o| format!("[[holiday]]\ndate = \"{}\"\nname = \"Libur\"\n", day(o)))
        .collect();
    Calendar::parse("prop.toml", &src).unwrap()
}

proptest! {
    #[test]
    fn fast_arithmetic_agrees_with_counting_day_by_day(
        holidays in proptest::collection::vec(0i64..400, 0..60),
        start in 0i64..400,
        n in 0u32..120,
    ) {
        let cal = calendar_with(&holidays);
        let start = day(start);
        let due = cal.add_working_days(start, n);
        prop_assert_eq!(due, naive_add(&cal, start, n));
        prop_assert_eq!(cal.working_days_between(start, due), i64::from(n));
        prop_assert_eq!(cal.working_days_between(due, start), -i64::from(n));
        if n > 0 {
            prop_assert!(cal.is_working_day(due));
        }
    }
}
