//! Retention periods as the office writes them: `90d`, `12w`, `18m`, `5y` (days, weeks,
//! calendar months, calendar years). Retention rules are written in months and years ("5 tahun"),
//! so those count on the calendar: 18 months before 31 August is 28 (or 29) February.

use std::fmt;
use std::str::FromStr;

use time::{Month, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Days,
    Weeks,
    Months,
    Years,
}

/// `--older-than`: a positive whole number and a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPeriod {
    pub amount: u32,
    pub unit: Unit,
}

/// Why a period does not parse; shown by clap with exit status 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "durasi tidak sah {0:?} / invalid duration: tulis angka bulat positif dan satuan \
     d (hari), w (minggu), m (bulan) atau y (tahun), misalnya 90d, 12w, 18m, 5y"
)]
pub struct PeriodError(pub String);

/// The largest amount accepted: far beyond any retention rule, small enough that the cutoff
/// stays a representable date.
const MAX_AMOUNT: u32 = 100_000;

impl FromStr for RetentionPeriod {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PeriodError(s.to_string());
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (digits, unit) = t.split_at(split);
        let amount: u32 = digits.parse().map_err(|_| bad())?;
        let unit = match unit {
            "d" | "D" => Unit::Days,
            "w" | "W" => Unit::Weeks,
            "m" | "M" => Unit::Months,
            "y" | "Y" => Unit::Years,
            _ => return Err(bad()),
        };
        if amount == 0 || amount > MAX_AMOUNT {
            return Err(bad());
        }
        Ok(Self { amount, unit })
    }
}

impl fmt::Display for RetentionPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            Unit::Days => 'd',
            Unit::Weeks => 'w',
            Unit::Months => 'm',
            Unit::Years => 'y',
        };
        write!(f, "{}{unit}", self.amount)
    }
}

impl RetentionPeriod {
    /// The instant this long before `now_ms` (Unix ms, UTC).
    pub fn before(&self, now_ms: i64) -> Result<i64, PeriodError> {
        const DAY_MS: i64 = 86_400_000;
        let amount = i64::from(self.amount);
        match self.unit {
            Unit::Days => Ok(now_ms - amount * DAY_MS),
            Unit::Weeks => Ok(now_ms - amount * 7 * DAY_MS),
            Unit::Months => self.months_before(now_ms, amount),
            Unit::Years => self.months_before(now_ms, amount * 12),
        }
    }

    fn months_before(&self, now_ms: i64, months: i64) -> Result<i64, PeriodError> {
        let bad = || PeriodError(self.to_string());
        let now = OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
            .map_err(|_| bad())?;
        let index = i64::from(now.year()) * 12 + i64::from(u8::from(now.month())) - 1 - months;
        let year = i32::try_from(index.div_euclid(12)).map_err(|_| bad())?;
        let month = Month::try_from((index.rem_euclid(12) + 1) as u8).map_err(|_| bad())?;
        let day = now.day().min(month.length(year));
        let date = time::Date::from_calendar_date(year, month, day).map_err(|_| bad())?;
        let then = now.replace_date(date);
        Ok((then.unix_timestamp_nanos() / 1_000_000) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ms(t: OffsetDateTime) -> i64 {
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    fn before(period: &str, now: OffsetDateTime) -> OffsetDateTime {
        let p: RetentionPeriod = period.parse().unwrap();
        let cut = p.before(ms(now)).unwrap();
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(cut) * 1_000_000).unwrap()
    }

    #[test]
    fn the_forms_an_office_writes_parse() {
        for (s, amount, unit) in [
            ("90d", 90, Unit::Days),
            ("12w", 12, Unit::Weeks),
            ("18m", 18, Unit::Months),
            ("5y", 5, Unit::Years),
            (" 5Y ", 5, Unit::Years),
        ] {
            assert_eq!(s.parse(), Ok(RetentionPeriod { amount, unit }), "{s}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for s in [
            "",
            "90",
            "d",
            "0d",
            "-5d",
            "+5d",
            "1.5y",
            "5 y",
            "5yr",
            "5h",
            "٥d",
            "5y1m",
            "100001d",
            "99999999999999999999d",
        ] {
            assert!(s.parse::<RetentionPeriod>().is_err(), "{s:?} accepted");
        }
        let err = "5x".parse::<RetentionPeriod>().unwrap_err().to_string();
        assert!(err.contains("\"5x\"") && err.contains("90d"), "{err}");
    }

    #[test]
    fn days_and_weeks_are_exact() {
        let now = datetime!(2026-12-01 10:00 UTC);
        assert_eq!(before("90d", now), datetime!(2026-09-02 10:00 UTC));
        assert_eq!(before("2w", now), datetime!(2026-11-17 10:00 UTC));
    }

    #[test]
    fn months_and_years_count_on_the_calendar() {
        let now = datetime!(2026-08-31 10:00 UTC);
        assert_eq!(before("18m", now), datetime!(2025-02-28 10:00 UTC));
        assert_eq!(before("6m", now), datetime!(2026-02-28 10:00 UTC));
        assert_eq!(before("8m", now), datetime!(2025-12-31 10:00 UTC));
        assert_eq!(before("5y", now), datetime!(2021-08-31 10:00 UTC));
        let leap = datetime!(2028-02-29 00:00 UTC);
        assert_eq!(before("1y", leap), datetime!(2027-02-28 00:00 UTC));
        assert_eq!(before("4y", leap), datetime!(2024-02-29 00:00 UTC));
    }

    #[test]
    fn the_largest_period_still_has_a_cutoff() {
        let now = ms(datetime!(2026-12-01 00:00 UTC));
        for unit in ["d", "w", "m"] {
            let p: RetentionPeriod = format!("{MAX_AMOUNT}{unit}").parse().unwrap();
            assert!(p.before(now).unwrap() < now);
        }
        // 100,000 years back is before any date `time` can hold: an error, not a panic.
        let p: RetentionPeriod = format!("{MAX_AMOUNT}y").parse().unwrap();
        assert!(p.before(now).is_err());
    }
}
