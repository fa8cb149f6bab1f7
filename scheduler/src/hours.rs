//! Opening hours as configured: `HH:MM-HH:MM` for a day, and date-specific overrides.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::Error;

/// One day's opening hours in Madrid wall-clock time, for example 09:00–14:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DailyHours {
    opens: NaiveTime,
    closes: NaiveTime,
}

impl DailyHours {
    /// Hours from an opening and a later closing time.
    pub fn new(opens: NaiveTime, closes: NaiveTime) -> Result<Self, Error> {
        if closes <= opens {
            return Err(Error::EmptyHours(format!(
                "{}-{}",
                opens.format("%H:%M"),
                closes.format("%H:%M")
            )));
        }
        Ok(Self { opens, closes })
    }

    /// Parses `HH:MM-HH:MM` (spaces around the dash are accepted).
    pub fn parse(input: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidHours(input.to_owned());
        let (a, b) = input.split_once('-').ok_or_else(bad)?;
        let opens = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
        let closes = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
        Self::new(opens, closes).map_err(|_| Error::EmptyHours(input.to_owned()))
    }

    /// The default service hours: 09:00–14:00.
    pub fn standard() -> Self {
        Self {
            opens: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            closes: NaiveTime::from_hms_opt(14, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }

    /// Local opening time.
    pub fn opens(&self) -> NaiveTime {
        self.opens
    }

    /// Local closing time.
    pub fn closes(&self) -> NaiveTime {
        self.closes
    }
}

impl Default for DailyHours {
    fn default() -> Self {
        Self::standard()
    }
}

impl FromStr for DailyHours {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for DailyHours {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}

impl From<DailyHours> for String {
    fn from(h: DailyHours) -> String {
        h.to_string()
    }
}

impl std::fmt::Display for DailyHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}",
            self.opens.format("%H:%M"),
            self.closes.format("%H:%M")
        )
    }
}

/// Different hours on one date, for example a shorter Christmas Eve: `2026-12-24=09:00-12:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SpecialHours {
    /// The local date the hours apply to.
    pub date: NaiveDate,
    /// The hours on that date.
    pub hours: DailyHours,
}

impl SpecialHours {
    /// Parses `YYYY-MM-DD=HH:MM-HH:MM`.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let (date, hours) = input
            .split_once('=')
            .ok_or_else(|| Error::InvalidSpecialHours(input.to_owned()))?;
        Ok(Self {
            date: parse_date(date)?,
            hours: DailyHours::parse(hours)?,
        })
    }
}

impl FromStr for SpecialHours {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for SpecialHours {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}

impl From<SpecialHours> for String {
    fn from(s: SpecialHours) -> String {
        format!("{}={}", s.date, s.hours)
    }
}

/// Parses a configuration date, `YYYY-MM-DD`.
pub fn parse_date(input: &str) -> Result<NaiveDate, Error> {
    NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d")
        .map_err(|_| Error::InvalidDate(input.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_parse_with_or_without_spaces() {
        let h = DailyHours::parse("09:00-14:00").unwrap();
        assert_eq!(h, DailyHours::standard());
        assert_eq!(DailyHours::parse(" 09:00 - 14:00 ").unwrap(), h);
        assert_eq!(h.to_string(), "09:00-14:00");
    }

    #[test]
    fn hours_reject_garbage_and_empty_ranges() {
        assert!(matches!(
            DailyHours::parse("9-14"),
            Err(Error::InvalidHours(_))
        ));
        assert!(matches!(
            DailyHours::parse("25:00-26:00"),
            Err(Error::InvalidHours(_))
        ));
        assert!(matches!(
            DailyHours::parse("14:00-09:00"),
            Err(Error::EmptyHours(_))
        ));
        assert!(matches!(
            DailyHours::parse("09:00-09:00"),
            Err(Error::EmptyHours(_))
        ));
    }

    #[test]
    fn special_hours_parse_date_and_hours() {
        let s = SpecialHours::parse("2026-12-24=09:00-12:00").unwrap();
        assert_eq!(s.date, NaiveDate::from_ymd_opt(2026, 12, 24).unwrap());
        assert_eq!(s.hours.to_string(), "09:00-12:00");
        assert!(SpecialHours::parse("2026-12-24").is_err());
        assert!(SpecialHours::parse("2026-13-24=09:00-12:00").is_err());
    }
}
