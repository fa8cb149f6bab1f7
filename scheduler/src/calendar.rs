//! The service calendar: when videoreg is open, in Europe/Madrid wall-clock time.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

use crate::holidays::is_national_holiday;
use crate::{DailyHours, SERVICE_TZ, SpecialHours};

/// How far ahead `next_opening` looks before concluding the service never opens again.
const SEARCH_HORIZON_DAYS: u64 = 800;

/// One opening window, as instants. `opens` is inclusive and `closes` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// When the window opens.
    pub opens: DateTime<Utc>,
    /// When the window closes.
    pub closes: DateTime<Utc>,
}

impl Window {
    /// Whether `now` falls inside the window.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        self.opens <= now && now < self.closes
    }

    /// The opening instant in Madrid time.
    pub fn opens_local(&self) -> DateTime<Tz> {
        self.opens.with_timezone(&SERVICE_TZ)
    }

    /// The closing instant in Madrid time.
    pub fn closes_local(&self) -> DateTime<Tz> {
        self.closes.with_timezone(&SERVICE_TZ)
    }
}

/// The service calendar: weekday hours (Monday to Friday), Spain's national holidays, extra
/// closed dates and special hours on given dates. Closed dates win over special hours, and
/// special hours win over the weekday rule (they may open a Saturday). `always_open` turns
/// every local day into one window from midnight to midnight, for demonstrations.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    weekday_hours: DailyHours,
    closed: BTreeSet<NaiveDate>,
    special: BTreeMap<NaiveDate, DailyHours>,
    always_open: bool,
}

impl Calendar {
    /// A calendar with the given weekday hours and no extra dates.
    pub fn new(weekday_hours: DailyHours) -> Self {
        Self {
            weekday_hours,
            ..Self::default()
        }
    }

    /// Adds dates on which the service is closed although it would otherwise open.
    pub fn with_closed_dates(mut self, dates: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.closed.extend(dates);
        self
    }

    /// Adds dates with different hours.
    pub fn with_special_hours(mut self, special: impl IntoIterator<Item = SpecialHours>) -> Self {
        self.special
            .extend(special.into_iter().map(|s| (s.date, s.hours)));
        self
    }

    /// Overrides the calendar: open around the clock, every day.
    pub fn with_always_open(mut self, on: bool) -> Self {
        self.always_open = on;
        self
    }

    /// The hours that apply Monday to Friday unless a date says otherwise.
    pub fn weekday_hours(&self) -> DailyHours {
        self.weekday_hours
    }

    /// Whether the calendar is overridden to be always open.
    pub fn is_always_open(&self) -> bool {
        self.always_open
    }

    /// The hours that apply on a Madrid local date, if the service opens that day.
    pub fn hours_on(&self, date: NaiveDate) -> Option<DailyHours> {
        if self.always_open {
            return None;
        }
        if self.closed.contains(&date) {
            return None;
        }
        if let Some(h) = self.special.get(&date) {
            return Some(*h);
        }
        let weekday = !matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        (weekday && !is_national_holiday(date)).then_some(self.weekday_hours)
    }

    /// The window on a Madrid local date, if the service opens that day.
    pub fn window_on(&self, date: NaiveDate) -> Option<Window> {
        if self.always_open {
            let next = date.checked_add_days(Days::new(1))?;
            return Some(Window {
                opens: local_instant(date, NaiveTime::MIN),
                closes: local_instant(next, NaiveTime::MIN),
            });
        }
        let hours = self.hours_on(date)?;
        Some(Window {
            opens: local_instant(date, hours.opens()),
            closes: local_instant(date, hours.closes()),
        })
    }

    /// The window open at `now`, if any.
    pub fn current_window(&self, now: DateTime<Utc>) -> Option<Window> {
        self.window_on(local_date(now)).filter(|w| w.contains(now))
    }

    /// Whether the service is open at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.current_window(now).is_some()
    }

    /// The first window that opens strictly after `now` (from inside a window, that is the
    /// next one, not the current one). `None` if the service never opens in the next 800 days.
    pub fn next_window(&self, now: DateTime<Utc>) -> Option<Window> {
        self.windows_from(local_date(now)).find(|w| w.opens > now)
    }

    /// The windows of the days from `date` on, in order, over the next 800 days.
    pub fn windows_from(&self, date: NaiveDate) -> impl Iterator<Item = Window> + '_ {
        (0..SEARCH_HORIZON_DAYS)
            .filter_map(move |i| date.checked_add_days(Days::new(i)))
            .filter_map(|d| self.window_on(d))
    }

    /// When the service next opens after `now`; see [`Calendar::next_window`].
    pub fn next_opening(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_window(now).map(|w| w.opens)
    }

    /// Every window that opens in `[from, to)`, in order.
    pub fn windows_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Window> {
        let (Some(first), Some(last)) = (
            local_date(from).checked_sub_days(Days::new(1)),
            local_date(to).checked_add_days(Days::new(1)),
        ) else {
            return Vec::new();
        };
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter_map(|d| self.window_on(d))
            .filter(|w| from <= w.opens && w.opens < to)
            .collect()
    }
}

/// The Madrid local date at an instant.
pub fn local_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&SERVICE_TZ).date_naive()
}

/// The instant at which Madrid clocks show `time` on `date`. An ambiguous time (the repeated
/// hour in October) resolves to its first occurrence; a time that does not exist (the skipped
/// hour in March) moves forward to the first wall-clock time that does.
fn local_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut naive = date.and_time(time);
    for _ in 0..=8 {
        if let Some(t) = SERVICE_TZ.from_local_datetime(&naive).earliest() {
            return t.to_utc();
        }
        naive += TimeDelta::minutes(15);
    }
    // Unreachable for Europe/Madrid, whose gaps last one hour; fall back to reading the
    // wall-clock time as UTC rather than failing.
    Utc.from_utc_datetime(&date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn local_instants_follow_madrid_offsets() {
        let winter = NaiveDate::from_ymd_opt(2026, 1, 12).unwrap();
        let summer = NaiveDate::from_ymd_opt(2026, 7, 13).unwrap();
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        assert_eq!(local_instant(winter, nine), utc("2026-01-12T08:00:00Z"));
        assert_eq!(local_instant(summer, nine), utc("2026-07-13T07:00:00Z"));
    }

    #[test]
    fn skipped_and_repeated_hours_resolve_predictably() {
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let autumn = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        let half_two = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        // 02:30 does not exist on 29 March: the first existing time is 03:00 CEST.
        assert_eq!(local_instant(spring, half_two), utc("2026-03-29T01:00:00Z"));
        // 02:30 happens twice on 25 October: the first is 02:30 CEST.
        assert_eq!(local_instant(autumn, half_two), utc("2026-10-25T00:30:00Z"));
    }
}
