//! Appointments as supervisors see them: every slot of the coming service days against its
//! capacity (booked, kept, late, no-show, cancelled), and a day's figures: how many came in
//! time, late or not at all, and how long after their slot those who came in time were taken
//! (the 50th and 90th percentiles).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use scheduler::SERVICE_TZ;
use scheduler::booking::{BookingPolicy, Slot, slots};
use scheduler::{Calendar, local_date};
use store::{Booking, ReportTicket};

/// One slot's row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotRow {
    /// Its start, Madrid `HH:MM`.
    pub starts: String,
    /// How many appointments it takes.
    pub capacity: u32,
    /// Live bookings (not come in yet).
    pub booked: u32,
    /// Came in time.
    pub kept: u32,
    /// Came after the grace (joined as walk-ins).
    pub late: u32,
    /// Did not come.
    pub no_show: u32,
    /// Cancelled.
    pub cancelled: u32,
}

impl SlotRow {
    /// Places taken: live, kept, late and missed bookings (a cancelled one gave its place back).
    pub fn taken(&self) -> u32 {
        self.booked + self.kept + self.late + self.no_show
    }
}

/// One service day's slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySlots {
    /// The Madrid date.
    pub date: NaiveDate,
    /// Its slots in order.
    pub slots: Vec<SlotRow>,
}

impl DaySlots {
    /// Places offered that day.
    pub fn capacity(&self) -> u32 {
        self.slots.iter().map(|s| s.capacity).sum()
    }

    /// Places taken that day.
    pub fn taken(&self) -> u32 {
        self.slots.iter().map(SlotRow::taken).sum()
    }
}

/// Every slot of the booking days from `today` (a Madrid date's first instant), with the
/// bookings made for them (any status).
pub fn days(
    calendar: &Calendar,
    today: DateTime<Utc>,
    policy: &BookingPolicy,
    bookings: &[Booking],
) -> Vec<DaySlots> {
    let mut by_slot: BTreeMap<DateTime<Utc>, Vec<&Booking>> = BTreeMap::new();
    for b in bookings {
        by_slot.entry(b.slot_at).or_default().push(b);
    }
    let all: Vec<Slot> = slots(
        calendar,
        today,
        &policy.rules,
        &policy.capacity,
        &BTreeMap::new(),
    );
    let mut days: Vec<DaySlots> = Vec::new();
    for slot in all {
        let mut row = SlotRow {
            starts: slot
                .starts
                .with_timezone(&SERVICE_TZ)
                .format("%H:%M")
                .to_string(),
            capacity: slot.capacity,
            ..SlotRow::default()
        };
        for b in by_slot.get(&slot.starts).into_iter().flatten() {
            match b.status.as_str() {
                "booked" => row.booked += 1,
                "kept" => row.kept += 1,
                "late" => row.late += 1,
                "no_show" => row.no_show += 1,
                _ => row.cancelled += 1,
            }
        }
        let date = local_date(slot.starts);
        match days.last_mut() {
            Some(d) if d.date == date => d.slots.push(row),
            _ => days.push(DaySlots {
                date,
                slots: vec![row],
            }),
        }
    }
    days
}

/// A day's appointments: how they were settled and the punctuality of those kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayAppointments {
    /// Bookings for the day's slots, cancelled ones included.
    pub made: usize,
    /// Still live.
    pub booked: usize,
    /// Came in time.
    pub kept: usize,
    /// Came late (walk-ins).
    pub late: usize,
    /// Did not come.
    pub no_show: usize,
    /// Cancelled.
    pub cancelled: usize,
    /// Slot → taken by an agent, for kept appointments: 50th percentile, in seconds.
    pub p50_after_slot_secs: Option<i64>,
    /// The same, 90th percentile.
    pub p90_after_slot_secs: Option<i64>,
}

/// The day's appointment figures from its bookings and its tickets' report rows.
pub fn day_appointments(bookings: &[Booking], rows: &[ReportTicket]) -> DayAppointments {
    let count = |s: &str| bookings.iter().filter(|b| b.status == s).count();
    let mut waits: Vec<i64> = rows
        .iter()
        .filter_map(super::report::wait_after_slot)
        .collect();
    waits.sort_unstable();
    DayAppointments {
        made: bookings.len(),
        booked: count("booked"),
        kept: count("kept"),
        late: count("late"),
        no_show: count("no_show"),
        cancelled: count("cancelled"),
        p50_after_slot_secs: percentile(&waits, 50),
        p90_after_slot_secs: percentile(&waits, 90),
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use scheduler::DailyHours;

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    fn booking(slot: &str, status: &str) -> Booking {
        Booking {
            id: format!("{slot}-{status}"),
            reference: "ABCDEFGH".into(),
            id_number: "12345678Z".into(),
            application_id: "a".into(),
            test_call: None,
            lang: "es".into(),
            slot_at: utc(slot),
            browser_hash: "h".into(),
            status: status.into(),
            created_at: utc(slot) - TimeDelta::days(1),
            settled_at: None,
            ticket_id: None,
        }
    }

    #[test]
    fn each_slot_counts_its_bookings_by_how_they_ended() {
        let calendar = Calendar::new(DailyHours::standard());
        let policy = BookingPolicy::standard();
        // Monday 30 November 2026: 09:00 Madrid is 08:00Z.
        let bookings = [
            booking("2026-11-30T08:10:00Z", "kept"),
            booking("2026-11-30T08:10:00Z", "cancelled"),
            booking("2026-11-30T08:20:00Z", "no_show"),
            booking("2026-12-01T08:00:00Z", "booked"),
        ];
        let days = days(&calendar, utc("2026-11-29T23:00:00Z"), &policy, &bookings);
        assert_eq!(days[0].date.to_string(), "2026-11-30");
        assert_eq!(days[0].slots.len(), 30, "09:00 to 13:50");
        let s0910 = &days[0].slots[1];
        assert_eq!(
            (
                s0910.starts.as_str(),
                s0910.kept,
                s0910.cancelled,
                s0910.taken()
            ),
            ("09:10", 1, 1, 1)
        );
        assert_eq!(days[0].slots[2].no_show, 1);
        assert_eq!((days[0].capacity(), days[0].taken()), (30, 2));
        assert_eq!(days[1].slots[0].booked, 1);
        assert_eq!(days.len(), 10, "the booking days");
    }

    #[test]
    fn punctuality_is_the_wait_after_the_slot_of_those_who_came_in_time() {
        assert_eq!(percentile(&[], 50), None);
        let sorted: Vec<i64> = (1..=10).map(|i| i * 60).collect();
        assert_eq!(percentile(&sorted, 50), Some(300));
        assert_eq!(percentile(&sorted, 90), Some(540));
        assert_eq!(percentile(&[7], 90), Some(7));
        let figures = day_appointments(
            &[
                booking("2026-11-30T08:10:00Z", "kept"),
                booking("2026-11-30T08:10:00Z", "late"),
            ],
            &[],
        );
        assert_eq!(
            (
                figures.made,
                figures.kept,
                figures.late,
                figures.p50_after_slot_secs
            ),
            (2, 1, 1, None)
        );
    }
}
