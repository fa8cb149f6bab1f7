//! The service calendar against hand-checked dates: DST weeks, every national holiday of
//! 2026–2030, year ends, next openings and configuration overrides.

mod helpers;

use chrono::{Datelike, Days, TimeDelta};
use helpers::{date, madrid, standard, utc};
use scheduler::{Calendar, DailyHours, SpecialHours, national_holidays};

#[test]
fn the_week_before_spring_dst_opens_at_0800_utc_and_the_week_after_at_0700_utc() {
    let cal = standard();
    let before = cal.windows_between(utc("2026-03-23T00:00:00Z"), utc("2026-03-28T00:00:00Z"));
    assert_eq!(before.len(), 5);
    for w in &before {
        assert_eq!(w.opens.format("%H:%M").to_string(), "08:00");
        assert_eq!(w.closes - w.opens, TimeDelta::hours(5));
    }
    // 29 March 2026 is the last Sunday of March; 3 April is Good Friday.
    let after = cal.windows_between(utc("2026-03-30T00:00:00Z"), utc("2026-04-04T00:00:00Z"));
    let opens: Vec<String> = after.iter().map(|w| w.opens.to_rfc3339()).collect();
    assert_eq!(
        opens,
        [
            "2026-03-30T07:00:00+00:00",
            "2026-03-31T07:00:00+00:00",
            "2026-04-01T07:00:00+00:00",
            "2026-04-02T07:00:00+00:00",
        ]
    );
    for w in &after {
        assert_eq!(w.opens_local().format("%H:%M").to_string(), "09:00");
        assert_eq!(w.closes_local().format("%H:%M").to_string(), "14:00");
    }
}

#[test]
fn the_week_after_autumn_dst_opens_at_0800_utc_again() {
    let cal = standard();
    // 25 October 2026 is the last Sunday of October.
    let friday = cal
        .window_on(date("2026-10-23"))
        .expect("an ordinary Friday");
    assert_eq!(friday.opens, utc("2026-10-23T07:00:00Z"));
    assert_eq!(friday.closes, utc("2026-10-23T12:00:00Z"));
    let monday = cal
        .window_on(date("2026-10-26"))
        .expect("an ordinary Monday");
    assert_eq!(monday.opens, utc("2026-10-26T08:00:00Z"));
    assert_eq!(monday.closes, utc("2026-10-26T13:00:00Z"));
    // Across the change, the weekend in between gives exactly those two windows.
    let across = cal.windows_between(friday.opens, monday.closes);
    assert_eq!(across, vec![friday, monday]);
    // 08:30 UTC on the Sunday-after Monday is 09:30 in Madrid: open.
    assert!(cal.is_open(utc("2026-10-26T08:30:00Z")));
    assert!(!cal.is_open(utc("2026-10-26T07:30:00Z")));
}

#[test]
fn every_national_holiday_of_2026_to_2030_is_closed() {
    let good_fridays = [
        "2026-04-03",
        "2027-03-26",
        "2028-04-14",
        "2029-03-30",
        "2030-04-19",
    ];
    let cal = standard();
    for (year, good_friday) in (2026..=2030).zip(good_fridays) {
        let mut expected: Vec<_> = [
            "01-01", "01-06", "05-01", "08-15", "10-12", "11-01", "12-06", "12-08", "12-25",
        ]
        .iter()
        .map(|md| date(&format!("{year}-{md}")))
        .collect();
        expected.push(date(good_friday));
        expected.sort();
        assert_eq!(national_holidays(year), expected, "{year}");
        for day in expected {
            assert_eq!(cal.window_on(day), None, "{day} is a national holiday");
            let noon = madrid(&format!("{day} 12:00"));
            assert!(!cal.is_open(noon), "{day} at noon");
        }
    }
}

#[test]
fn ordinary_weekdays_open_and_weekends_do_not() {
    let cal = standard();
    assert!(cal.is_open(madrid("2026-11-26 09:00")));
    assert!(cal.is_open(madrid("2026-11-26 13:59")));
    assert!(
        !cal.is_open(madrid("2026-11-26 14:00")),
        "closing is exclusive"
    );
    assert!(!cal.is_open(madrid("2026-11-26 08:59")));
    assert!(!cal.is_open(madrid("2026-11-28 10:00")), "Saturday");
    assert!(!cal.is_open(madrid("2026-11-29 10:00")), "Sunday");
}

#[test]
fn windows_across_the_year_end_skip_new_year_and_epiphany() {
    let cal = standard();
    let windows = cal.windows_between(madrid("2026-12-28 00:00"), madrid("2027-01-09 00:00"));
    let days: Vec<String> = windows
        .iter()
        .map(|w| w.opens_local().date_naive().to_string())
        .collect();
    assert_eq!(
        days,
        [
            "2026-12-28",
            "2026-12-29",
            "2026-12-30",
            "2026-12-31",
            "2027-01-04",
            "2027-01-05",
            "2027-01-07",
            "2027-01-08"
        ]
    );
}

#[test]
fn windows_between_counts_a_window_by_its_opening_instant() {
    let cal = standard();
    // Starting inside Monday's window leaves Monday out: it opened before `from`.
    let w = cal.windows_between(madrid("2026-11-23 10:00"), madrid("2026-11-25 09:00"));
    let days: Vec<_> = w.iter().map(|w| w.opens_local().day()).collect();
    assert_eq!(days, [24], "to is exclusive, so Wednesday 09:00 is out");
    assert!(
        cal.windows_between(madrid("2026-11-25 09:00"), madrid("2026-11-25 09:00"))
            .is_empty()
    );
}

#[test]
fn next_opening_from_friday_closing_is_monday_morning() {
    let cal = standard();
    let friday_close = madrid("2026-11-27 14:00");
    assert!(!cal.is_open(friday_close));
    assert_eq!(
        cal.next_opening(friday_close),
        Some(madrid("2026-11-30 09:00"))
    );
}

#[test]
fn next_opening_from_a_holiday_eve_skips_the_holiday() {
    let cal = standard();
    // Monday 7 December 2026, eve of the Immaculate Conception (Tuesday 8).
    assert_eq!(
        cal.next_opening(madrid("2026-12-07 14:30")),
        Some(madrid("2026-12-09 09:00"))
    );
    // Christmas Eve 2026 is a Thursday; Christmas a Friday.
    assert_eq!(
        cal.next_opening(madrid("2026-12-24 15:00")),
        Some(madrid("2026-12-28 09:00"))
    );
    // Maundy Thursday 2026, eve of Good Friday: next opening after Easter, in summer time.
    let next = cal
        .next_opening(madrid("2026-04-02 14:30"))
        .expect("opens again");
    assert_eq!(next, utc("2026-04-06T07:00:00Z"));
}

#[test]
fn next_opening_from_inside_a_window_is_the_next_window() {
    let cal = standard();
    let now = madrid("2026-11-25 10:00");
    let current = cal.current_window(now).expect("Wednesday morning is open");
    assert_eq!(current.opens, madrid("2026-11-25 09:00"));
    assert_eq!(current.closes, madrid("2026-11-25 14:00"));
    assert_eq!(cal.next_opening(now), Some(madrid("2026-11-26 09:00")));
    // Before opening on a working day, the next opening is the same morning.
    assert_eq!(
        cal.next_opening(madrid("2026-11-25 07:00")),
        Some(madrid("2026-11-25 09:00"))
    );
    assert_eq!(cal.current_window(madrid("2026-11-25 07:00")), None);
}

#[test]
fn configured_closed_dates_and_special_hours_change_the_calendar() {
    let cal = Calendar::new(DailyHours::parse("08:30-15:00").expect("valid hours"))
        .with_closed_dates([date("2026-12-31")])
        .with_special_hours([
            SpecialHours::parse("2026-12-24=09:00-12:00").expect("valid"),
            SpecialHours::parse("2026-12-19=10:00-13:00").expect("valid"),
        ]);
    assert!(cal.is_open(madrid("2026-11-26 08:30")));
    assert!(cal.is_open(madrid("2026-11-26 14:59")));
    assert_eq!(cal.window_on(date("2026-12-31")), None);
    let eve = cal.window_on(date("2026-12-24")).expect("special hours");
    assert_eq!(
        (eve.opens, eve.closes),
        (madrid("2026-12-24 09:00"), madrid("2026-12-24 12:00"))
    );
    assert!(
        cal.window_on(date("2026-12-19")).is_some(),
        "special hours open a Saturday"
    );
    assert_eq!(
        cal.next_opening(madrid("2026-12-30 16:00")),
        Some(madrid("2027-01-04 08:30"))
    );
}

#[test]
fn always_open_makes_every_day_one_window() {
    let cal = standard().with_always_open(true);
    let sunday = madrid("2026-11-29 03:00");
    assert!(cal.is_open(sunday));
    assert!(cal.is_open(madrid("2026-12-25 23:59")));
    let w = cal.current_window(sunday).expect("open");
    assert_eq!(w.opens, madrid("2026-11-29 00:00"));
    assert_eq!(w.closes, madrid("2026-11-30 00:00"));
    let days = cal.windows_between(
        madrid("2026-11-29 00:00"),
        madrid("2026-11-29 00:00") + Days::new(3),
    );
    assert_eq!(days.len(), 3);
}
