use chrono::{NaiveDate, TimeZone};

use super::*;
use crate::{DailyHours, SERVICE_TZ, SpecialHours};

fn madrid(s: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    SERVICE_TZ
        .from_local_datetime(&naive)
        .earliest()
        .unwrap()
        .to_utc()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn two_per_slot() -> Capacity {
    Capacity::Table(HourTable::parse([("mon-sun 00-24", 2)]).unwrap())
}

fn days_of(slots: &[Slot]) -> Vec<NaiveDate> {
    let mut days: Vec<NaiveDate> = slots.iter().map(|s| local_date(s.starts)).collect();
    days.dedup();
    days
}

#[test]
fn slots_fill_each_window_from_its_opening_and_skip_weekends_and_holidays() {
    let cal = Calendar::new(DailyHours::standard());
    let rules = SlotRules::standard();
    // Friday 4 December 2026, 20:00: closed until Monday; Tuesday 8 December is a holiday.
    let now = madrid("2026-12-04 20:00");
    let all = slots(&cal, now, &rules, &two_per_slot(), &Booked::new());
    let days = days_of(&all);
    assert_eq!(days.len(), 10, "ten service days");
    assert_eq!(days[0], date("2026-12-07"));
    assert_eq!(days[1], date("2026-12-09"), "the 8th is a national holiday");
    assert!(!days.contains(&date("2026-12-25")), "Christmas Day");
    let monday: Vec<&Slot> = all
        .iter()
        .filter(|s| local_date(s.starts) == date("2026-12-07"))
        .collect();
    assert_eq!(monday.len(), 30, "09:00–14:00 in ten-minute slots");
    assert_eq!(monday[0].starts, madrid("2026-12-07 09:00"));
    assert_eq!(monday[29].starts, madrid("2026-12-07 13:50"));
    assert_eq!(monday[29].ends, madrid("2026-12-07 14:00"));
    assert!(all.iter().all(|s| s.capacity == 2 && s.booked == 0));
}

#[test]
fn special_hours_and_closed_dates_shape_the_slots() {
    let cal = Calendar::new(DailyHours::standard())
        .with_special_hours([
            SpecialHours::parse("2026-12-24=09:00-12:05").unwrap(),
            SpecialHours::parse("2026-12-19=10:00-11:00").unwrap(),
        ])
        .with_closed_dates([date("2026-12-28")]);
    let rules = SlotRules::standard();
    let all = slots(
        &cal,
        madrid("2026-12-18 15:00"),
        &rules,
        &two_per_slot(),
        &Booked::new(),
    );
    let on = |d: &str| {
        all.iter()
            .filter(|s| local_date(s.starts) == date(d))
            .count()
    };
    assert_eq!(on("2026-12-19"), 6, "a Saturday opened by special hours");
    assert_eq!(
        on("2026-12-24"),
        18,
        "09:00–12:05: the last five minutes make no slot"
    );
    assert_eq!(on("2026-12-28"), 0, "a closed date");
    assert_eq!(on("2026-12-29"), 30);
}

#[test]
fn slots_start_after_the_lead_time_and_today_counts_while_it_has_slots() {
    let cal = Calendar::new(DailyHours::standard());
    let rules = SlotRules::standard();
    let all = slots(
        &cal,
        madrid("2026-12-09 12:33"),
        &rules,
        &two_per_slot(),
        &Booked::new(),
    );
    assert_eq!(
        all[0].starts,
        madrid("2026-12-09 12:50"),
        "not sooner than 12:43"
    );
    assert_eq!(
        days_of(&all).len(),
        10,
        "today is the first of the ten days"
    );
}

#[test]
fn slots_follow_madrid_time_across_both_daylight_saving_changes() {
    let cal = Calendar::new(DailyHours::standard());
    let rules = SlotRules::standard();
    // Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
    let cap = Capacity::Table(HourTable::parse([("mon-fri 09", 3), ("mon-fri 10-14", 1)]).unwrap());
    let spring = slots(
        &cal,
        madrid("2026-03-27 15:00"),
        &rules,
        &cap,
        &Booked::new(),
    );
    assert_eq!(
        spring[0].starts,
        utc("2026-03-30T07:00:00Z"),
        "Monday 09:00 CEST"
    );
    assert_eq!(spring[0].capacity, 3, "capacity by Madrid hour, not UTC");
    assert_eq!(spring[6].starts, utc("2026-03-30T08:00:00Z"));
    assert_eq!(spring[6].capacity, 1, "10:00 CEST");
    let before = slots(
        &cal,
        madrid("2026-03-26 15:00"),
        &rules,
        &cap,
        &Booked::new(),
    );
    assert_eq!(
        before[0].starts,
        utc("2026-03-27T08:00:00Z"),
        "Friday 09:00 CET"
    );
    assert_eq!(before[0].capacity, 3);

    let autumn = slots(
        &cal,
        madrid("2026-10-23 15:00"),
        &rules,
        &cap,
        &Booked::new(),
    );
    assert_eq!(
        autumn[0].starts,
        utc("2026-10-26T08:00:00Z"),
        "Monday 09:00 CET"
    );
    assert_eq!(autumn[0].capacity, 3);

    // Open around the clock, the short and the long Sundays have 23 and 25 hours of slots.
    let always = Calendar::new(DailyHours::standard()).with_always_open(true);
    let lead_free = SlotRules::new(
        TimeDelta::minutes(10),
        1,
        TimeDelta::zero(),
        TimeDelta::minutes(10),
        TimeDelta::minutes(10),
    )
    .unwrap();
    let short = slots(
        &always,
        madrid("2026-03-29 00:00"),
        &lead_free,
        &two_per_slot(),
        &Booked::new(),
    );
    assert_eq!(short.len(), 23 * 6);
    let long = slots(
        &always,
        madrid("2026-10-25 00:00"),
        &lead_free,
        &two_per_slot(),
        &Booked::new(),
    );
    assert_eq!(long.len(), 25 * 6);
    assert!(
        long.windows(2)
            .all(|w| w[1].starts - w[0].starts == TimeDelta::minutes(10))
    );
}

#[test]
fn bookings_fill_slots_and_full_slots_are_not_offered() {
    let cal = Calendar::new(DailyHours::standard());
    let rules = SlotRules::standard();
    let now = madrid("2026-12-04 20:00");
    let nine = madrid("2026-12-07 09:00");
    let ten_past = madrid("2026-12-07 09:10");
    let booked = Booked::from([(nine, 2), (ten_past, 1)]);
    let free = next_free(&cal, now, &rules, &two_per_slot(), &booked, 3);
    let starts: Vec<_> = free.iter().map(|s| s.starts).collect();
    assert_eq!(
        starts,
        [
            ten_past,
            madrid("2026-12-07 09:20"),
            madrid("2026-12-07 09:30")
        ]
    );
    assert_eq!(free[0].free(), 1);

    let cap = two_per_slot();
    let book = |t| bookable(&cal, now, &rules, &cap, &booked, t);
    assert_eq!(book(nine), Err(SlotRefusal::Full));
    assert_eq!(book(ten_past).map(|s| s.free()), Ok(1));
    assert_eq!(
        book(madrid("2026-12-07 09:05")),
        Err(SlotRefusal::NoSuchSlot),
        "not a boundary"
    );
    assert_eq!(
        book(madrid("2026-12-08 09:00")),
        Err(SlotRefusal::NoSuchSlot),
        "a holiday"
    );
    assert_eq!(
        book(madrid("2026-12-04 19:00")),
        Err(SlotRefusal::NoSuchSlot),
        "past"
    );
    assert_eq!(
        book(madrid("2027-01-29 09:00")),
        Err(SlotRefusal::NoSuchSlot),
        "too far ahead"
    );
}

#[test]
fn a_zero_share_offers_no_appointments() {
    let cal = Calendar::new(DailyHours::standard());
    let none = Capacity::Staffing {
        agents: HourTable::parse([("mon-fri 09-14", 10)]).unwrap(),
        share_percent: 0,
        per_citizen: TimeDelta::minutes(6),
    };
    let now = madrid("2026-12-04 20:00");
    assert!(next_free(&cal, now, &SlotRules::standard(), &none, &Booked::new(), 5).is_empty());
}

#[test]
fn arrival_opens_before_the_slot_and_the_priority_ends_after_the_grace() {
    let rules = SlotRules::standard();
    let slot = madrid("2026-12-07 09:10");
    assert_eq!(
        arrival(&rules, slot, madrid("2026-12-07 08:59")),
        Arrival::TooEarly {
            from: madrid("2026-12-07 09:00")
        }
    );
    assert_eq!(
        arrival(&rules, slot, madrid("2026-12-07 09:00")),
        Arrival::InTime
    );
    assert_eq!(
        arrival(&rules, slot, madrid("2026-12-07 09:20")),
        Arrival::InTime
    );
    assert_eq!(
        arrival(&rules, slot, madrid("2026-12-07 09:21")),
        Arrival::Late
    );
    assert!(!missed(&rules, slot, madrid("2026-12-07 09:20")));
    assert!(missed(&rules, slot, madrid("2026-12-07 09:21")));
}

#[test]
fn rules_refuse_what_cannot_make_slots() {
    let ten = TimeDelta::minutes(10);
    assert!(SlotRules::new(TimeDelta::minutes(4), 10, ten, ten, ten).is_err());
    assert!(SlotRules::new(TimeDelta::seconds(630), 10, ten, ten, ten).is_err());
    assert!(SlotRules::new(ten, 0, ten, ten, ten).is_err());
    assert!(SlotRules::new(ten, 61, ten, ten, ten).is_err());
    assert!(SlotRules::new(ten, 10, TimeDelta::minutes(-1), ten, ten).is_err());
    assert!(SlotRules::new(ten, 10, ten, ten, TimeDelta::hours(3)).is_err());
    assert_eq!(
        SlotRules::new(ten, 10, ten, ten, ten),
        Ok(SlotRules::standard())
    );
}

#[test]
fn the_standard_policy_offers_one_appointment_per_ten_minute_slot_in_every_hour() {
    let p = BookingPolicy::standard();
    for at in ["2026-12-07 09:00", "2026-12-12 23:50", "2026-12-13 00:00"] {
        assert_eq!(p.capacity.of_slot(madrid(at), p.rules.length()), 1, "{at}");
    }
    assert_eq!(p.offer_above, TimeDelta::minutes(30));
}
