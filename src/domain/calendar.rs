//! The office's working days: Monday to Friday, except the national holidays and cuti bersama
//! listed in `rules/holidays.toml` (the SKB 3 Menteri of each year). Service standards are counted
//! in these days.
//!
//! [`Calendar::load`] takes the rules folder; a missing file means weekends only (an office that
//! has not listed its holidays still gets deadlines), a bad file is every problem in it with file
//! and line, as for the other rule files. Everything else is pure date arithmetic.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use time::{Date, Weekday};
use toml::Spanned;

use crate::classify::rules::line_of;
use crate::classify::{RuleError, RuleErrors};

/// The file in the rules folder that lists the days off. The catalogue loader skips it.
pub const HOLIDAYS_FILE: &str = "holidays.toml";

/// Problems in `holidays.toml`, each with file and line, like the other rule files.
pub type CalendarError = RuleErrors;

/// Whether a day off is a national holiday or a collective leave day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayKind {
    /// Hari libur nasional.
    National,
    /// Cuti bersama: a working day the government gives off; offices close.
    CutiBersama,
}

/// One listed day off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    pub name: String,
    pub kind: HolidayKind,
    /// An estimate, not yet fixed by an SKB.
    pub tentative: bool,
}

/// Working days of the office.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    holidays: BTreeMap<Date, Holiday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRaw {
    #[serde(default)]
    holiday: Vec<HolidayRaw>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayRaw {
    date: Spanned<String>,
    name: Spanned<String>,
    kind: Option<Spanned<String>>,
    #[serde(default)]
    tentative: bool,
}

impl Calendar {
    /// Weekends only, no holidays.
    pub fn weekends_only() -> Calendar {
        Calendar::default()
    }

    /// Read `rules_dir/holidays.toml`. A missing file is not an error: weekends only.
    pub fn load(rules_dir: &Path) -> Result<Calendar, CalendarError> {
        let path = rules_dir.join(HOLIDAYS_FILE);
        let file = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(src) => Calendar::parse(&file, &src),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Calendar::weekends_only()),
            Err(e) => Err(RuleErrors(vec![RuleError {
                file,
                line: 0,
                message: format!("cannot read: {e}"),
            }])),
        }
    }

    /// Parse the text of a holidays file; `file` names it in errors. Reports every bad entry.
    pub fn parse(file: &str, src: &str) -> Result<Calendar, CalendarError> {
        let err = |offset: usize, message: String| RuleError {
            file: file.to_string(),
            line: line_of(src, offset),
            message,
        };
        let raw: FileRaw = toml::from_str(src).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            RuleErrors(vec![err(offset, e.message().trim().to_string())])
        })?;
        let mut errors = Vec::new();
        let mut holidays: BTreeMap<Date, Holiday> = BTreeMap::new();
        for h in raw.holiday {
            match check(&h) {
                Ok(holiday) => {
                    if let Some(first) = holidays.get(&holiday.date) {
                        let message = format!(
                            "{} is listed twice (first as `{}`)",
                            h.date.get_ref(),
                            first.name
                        );
                        errors.push(err(h.date.span().start, message));
                    } else {
                        holidays.insert(holiday.date, holiday);
                    }
                }
                Err((offset, message)) => errors.push(err(offset, message)),
            }
        }
        if errors.is_empty() {
            Ok(Calendar { holidays })
        } else {
            Err(RuleErrors(errors))
        }
    }

    /// Every listed day off, in date order.
    pub fn holidays(&self) -> impl Iterator<Item = &Holiday> + '_ {
        self.holidays.values()
    }

    /// The listed day off on `date`, if any (weekends are not listed).
    pub fn holiday(&self, date: Date) -> Option<&Holiday> {
        self.holidays.get(&date)
    }

    /// Whether the file lists any day of `year`: a deadline running into a year with no list
    /// counts weekends only, which the office should hear about.
    pub fn covers_year(&self, year: i32) -> bool {
        self.holidays.keys().any(|d| d.year() == year)
    }

    /// Monday to Friday and not a listed day off.
    pub fn is_working_day(&self, date: Date) -> bool {
        is_weekday(date) && !self.holidays.contains_key(&date)
    }

    /// The `n`th working day after `start`: day 1 is the first working day after `start`, so a
    /// file completed on Friday with a 1-day standard is due on Monday. `n = 0` gives `start`.
    /// Saturates at the last representable date.
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        if n == 0 {
            return start;
        }
        let mut from = start;
        let mut left = i64::from(n);
        loop {
            // Jump to the day `left` weekdays on, then make up for the holidays jumped over.
            let to = date_of_weekday_index(weekday_index(from) + left);
            let skipped = self.weekday_holidays(from, to);
            if skipped == 0 || to == Date::MAX {
                return to;
            }
            from = to;
            left = skipped;
        }
    }

    /// Working days in `(a, b]` when `b > a`; minus those in `(b, a]` when `b < a`; so that
    /// `working_days_between(a, add_working_days(a, n)) == n`.
    pub fn working_days_between(&self, a: Date, b: Date) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        weekday_index(b) - weekday_index(a) - self.weekday_holidays(a, b)
    }

    /// The first working day on or after `date`.
    pub fn working_day_on_or_after(&self, date: Date) -> Date {
        if self.is_working_day(date) {
            date
        } else {
            self.add_working_days(date, 1)
        }
    }

    /// Listed days off in `(a, b]` that fall Monday to Friday.
    fn weekday_holidays(&self, a: Date, b: Date) -> i64 {
        if b <= a {
            return 0;
        }
        let n = self
            .holidays
            .range((std::ops::Bound::Excluded(a), std::ops::Bound::Included(b)))
            .filter(|(d, _)| is_weekday(**d))
            .count();
        n as i64
    }
}

/// One entry checked: the date parses, the name is not empty, the kind is known.
fn check(h: &HolidayRaw) -> Result<Holiday, (usize, String)> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(h.date.get_ref(), &format).map_err(|_| {
        (
            h.date.span().start,
            format!("`{}` is not a date YYYY-MM-DD", h.date.get_ref()),
        )
    })?;
    if h.name.get_ref().trim().is_empty() {
        return Err((h.name.span().start, "empty holiday name".to_string()));
    }
    let kind = match h.kind.as_ref().map(|k| (k.get_ref().as_str(), k.span())) {
        None | Some(("libur_nasional", _)) => HolidayKind::National,
        Some(("cuti_bersama", _)) => HolidayKind::CutiBersama,
        Some((other, span)) => {
            return Err((
                span.start,
                format!("unknown kind `{other}` (use `cuti_bersama` or leave it out)"),
            ))
        }
    };
    Ok(Holiday {
        date,
        name: h.name.get_ref().trim().to_string(),
        kind,
        tentative: h.tentative,
    })
}

fn is_weekday(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Monday to Friday days from the start of the Julian day count up to and including `date`
/// (Julian day 0 was a Monday). Differences of this count weekdays in a range in O(1).
fn weekday_index(date: Date) -> i64 {
    let j = i64::from(date.to_julian_day()) + 1;
    j.div_euclid(7) * 5 + j.rem_euclid(7).min(5)
}

/// The weekday whose [`weekday_index`] is `index`, saturating at the ends of the date range.
fn date_of_weekday_index(index: i64) -> Date {
    let k = index - 1;
    let julian = k.div_euclid(5) * 7 + k.rem_euclid(5);
    match i32::try_from(julian).ok().map(Date::from_julian_day) {
        Some(Ok(d)) => d,
        _ if julian < 0 => Date::MIN,
        _ => Date::MAX,
    }
}

#[cfg(test)]
mod tests;
