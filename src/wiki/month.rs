//! A calendar month, `YYYY-MM`, and the build timestamps that fall in one.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1..=12
    pub month: u32,
}

/// The timestamp format of manifests and history lines: `2026-11-22T23:48:58Z`.
pub const TIMESTAMP: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Parses a build timestamp exactly as stacktag and upstream write it.
pub fn parse_timestamp(ts: &str) -> Option<NaiveDateTime> {
    // chrono's %Y takes a sign (`-026-11-22T…`, found by fuzzing): the
    // year must be four digits, as every other reader of it assumes.
    if ts.len() != 20 || !ts.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    NaiveDateTime::parse_from_str(ts, TIMESTAMP).ok()
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Month { year, month })
    }

    /// The month of a build timestamp (its first 7 characters, as upstream).
    pub fn of_timestamp(ts: &str) -> Option<Month> {
        ts.get(..7)?.parse().ok()
    }

    pub fn of_date(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("not the first day ever")
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a month (YYYY-MM)");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !(y.chars().chain(m.chars())).all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        Month::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_print_and_end() {
        let m: Month = "2024-02".parse().unwrap();
        assert_eq!(m.to_string(), "2024-02");
        assert_eq!(m.last_day().to_string(), "2024-02-29");
        assert_eq!(
            "2025-12".parse::<Month>().unwrap().next().to_string(),
            "2026-01"
        );
        assert!("2025-13".parse::<Month>().is_err());
        assert!("2025-1".parse::<Month>().is_err());
        assert_eq!(
            Month::of_timestamp("2026-11-22T23:48:58Z"),
            Some(Month::new(2026, 11).unwrap())
        );
    }

    #[test]
    fn timestamps_are_exact() {
        assert!(parse_timestamp("2026-11-22T23:48:58Z").is_some());
        assert!(parse_timestamp("2026-11-22T23:48:58").is_none());
        assert!(parse_timestamp("2026-11-22T23:48:58.1Z").is_none());
        assert!(parse_timestamp("2026-02-30T00:00:00Z").is_none());
    }
}
