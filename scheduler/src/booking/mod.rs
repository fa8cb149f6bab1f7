//! Appointments (*cita previa*): the slots offered over the next service days, how many each
//! takes ([`Capacity`]), whether a booked time may be taken, and when a citizen who booked may
//! come in. Pure functions of `now`, the calendar, capacity and the bookings already made.

mod capacity;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

pub use capacity::{Capacity, HourTable, MAX_CELL};

use crate::{Calendar, Error, local_date};

/// The booking rules from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRules {
    /// How long a slot lasts.
    length: TimeDelta,
    /// Over how many service days (days the service opens, from today) slots are offered.
    days: u32,
    /// No slot starting sooner than this after `now` is offered.
    lead: TimeDelta,
    /// How long before the slot the citizen may come in.
    check_in: TimeDelta,
    /// How late the citizen may come in and keep the appointment's priority.
    grace: TimeDelta,
}

impl SlotRules {
    /// Rules from their parts; a slot of 5 to 120 minutes dividing an hour, 1 to 60 days.
    pub fn new(
        length: TimeDelta,
        days: u32,
        lead: TimeDelta,
        check_in: TimeDelta,
        grace: TimeDelta,
    ) -> Result<Self, Error> {
        let minutes = length.num_minutes();
        if !(5..=120).contains(&minutes) || length != TimeDelta::minutes(minutes) {
            return Err(Error::InvalidBookingRules(format!(
                "a slot lasts 5 to 120 whole minutes, not {minutes}"
            )));
        }
        if !(1..=60).contains(&days) {
            return Err(Error::InvalidBookingRules(format!(
                "slots are offered over 1 to 60 service days, not {days}"
            )));
        }
        let limit = TimeDelta::hours(2);
        for (name, d) in [("lead", lead), ("check-in", check_in), ("grace", grace)] {
            if d < TimeDelta::zero() || d > limit {
                return Err(Error::InvalidBookingRules(format!(
                    "the {name} time is 0 to 120 minutes, not {}",
                    d.num_minutes()
                )));
            }
        }
        Ok(Self {
            length,
            days,
            lead,
            check_in,
            grace,
        })
    }

    /// Ten-minute slots over 10 service days, none sooner than 10 minutes from now; check-in
    /// from 10 minutes before, 10 minutes' grace.
    pub fn standard() -> Self {
        Self {
            length: TimeDelta::minutes(10),
            days: 10,
            lead: TimeDelta::minutes(10),
            check_in: TimeDelta::minutes(10),
            grace: TimeDelta::minutes(10),
        }
    }

    /// How long a slot lasts.
    pub fn length(&self) -> TimeDelta {
        self.length
    }

    /// Over how many service days slots are offered.
    pub fn days(&self) -> u32 {
        self.days
    }

    /// How long before the slot a citizen may come in.
    pub fn check_in(&self) -> TimeDelta {
        self.check_in
    }

    /// How late a citizen may be and keep the priority.
    pub fn grace(&self) -> TimeDelta {
        self.grace
    }
}

impl Default for SlotRules {
    fn default() -> Self {
        Self::standard()
    }
}

/// Booking as configured: the slots' rules, each slot's capacity, and from which wait a
/// citizen joining the queue is offered a slot beside waiting now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingPolicy {
    /// Slot length, days, lead, check-in and grace.
    pub rules: SlotRules,
    /// How many appointments each slot takes.
    pub capacity: Capacity,
    /// A citizen told a longer wait than this at joining is offered slots.
    pub offer_above: TimeDelta,
}

impl BookingPolicy {
    /// The configuration's defaults: [`SlotRules::standard`], two agents expected in every
    /// hour, half of their time for appointments at 6.5 minutes a citizen (one appointment
    /// per ten-minute slot), slots offered above a 30-minute wait.
    pub fn standard() -> Self {
        let agents = HourTable::parse([("mon-sun 00-24", 2)]).unwrap_or_default();
        Self {
            rules: SlotRules::standard(),
            capacity: Capacity::Staffing {
                agents,
                share_percent: 50,
                per_citizen: TimeDelta::seconds(390),
            },
            offer_above: TimeDelta::minutes(30),
        }
    }
}

impl Default for BookingPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

/// One appointment slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Slot {
    /// When it starts (the appointment's time).
    pub starts: DateTime<Utc>,
    /// When it ends.
    pub ends: DateTime<Utc>,
    /// How many appointments it takes.
    pub capacity: u32,
    /// How many are booked.
    pub booked: u32,
}

impl Slot {
    /// Places left.
    pub fn free(&self) -> u32 {
        self.capacity.saturating_sub(self.booked)
    }
}

/// Live bookings per slot start.
pub type Booked = BTreeMap<DateTime<Utc>, u32>;

/// Every slot over the next `rules.days` service days that starts at least `rules.lead`
/// after `now`, full or not, in order (today counts while it still has a slot to offer). A slot lies wholly inside an opening window: windows
/// are cut from their opening into `length` pieces and a last piece shorter than `length` is
/// dropped.
pub fn slots(
    calendar: &Calendar,
    now: DateTime<Utc>,
    rules: &SlotRules,
    capacity: &Capacity,
    booked: &Booked,
) -> Vec<Slot> {
    let earliest = now + rules.lead;
    calendar
        .windows_from(local_date(now))
        .map(|w| {
            let starts = std::iter::successors(Some(w.opens), |s| Some(*s + rules.length));
            starts
                .take_while(|s| *s + rules.length <= w.closes)
                .filter(|s| *s >= earliest)
                .map(|starts| Slot {
                    starts,
                    ends: starts + rules.length,
                    capacity: capacity.of_slot(starts, rules.length),
                    booked: booked.get(&starts).copied().unwrap_or(0),
                })
                .collect::<Vec<_>>()
        })
        .filter(|day| !day.is_empty())
        .take(rules.days as usize)
        .flatten()
        .collect()
}

/// The first `n` slots with a free place.
pub fn next_free(
    calendar: &Calendar,
    now: DateTime<Utc>,
    rules: &SlotRules,
    capacity: &Capacity,
    booked: &Booked,
    n: usize,
) -> Vec<Slot> {
    slots(calendar, now, rules, capacity, booked)
        .into_iter()
        .filter(|s| s.free() > 0)
        .take(n)
        .collect()
}

/// Why a time cannot be booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotRefusal {
    /// No slot starts at that time (or it is too soon, past, or beyond the booking days).
    NoSuchSlot,
    /// The slot is full.
    Full,
}

/// The slot starting at `starts`, if it may be booked at `now`.
pub fn bookable(
    calendar: &Calendar,
    now: DateTime<Utc>,
    rules: &SlotRules,
    capacity: &Capacity,
    booked: &Booked,
    starts: DateTime<Utc>,
) -> Result<Slot, SlotRefusal> {
    let slot = slots(calendar, now, rules, capacity, booked)
        .into_iter()
        .find(|s| s.starts == starts)
        .ok_or(SlotRefusal::NoSuchSlot)?;
    if slot.free() == 0 {
        return Err(SlotRefusal::Full);
    }
    Ok(slot)
}

/// Where a citizen who booked `slot` stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "arrival")]
pub enum Arrival {
    /// Too early to come in; they may from `from`.
    TooEarly {
        /// When check-in opens.
        from: DateTime<Utc>,
    },
    /// In time: they join with the appointment's priority.
    InTime,
    /// More than the grace late: they join as a walk-in.
    Late,
}

/// Whether the citizen who booked the slot starting at `starts` may come in at `now`.
pub fn arrival(rules: &SlotRules, starts: DateTime<Utc>, now: DateTime<Utc>) -> Arrival {
    let from = starts - rules.check_in;
    if now < from {
        Arrival::TooEarly { from }
    } else if now <= starts + rules.grace {
        Arrival::InTime
    } else {
        Arrival::Late
    }
}

/// Whether a booking for `starts` was missed at `now`: its grace is over (a booking still
/// live then is a no-show).
pub fn missed(rules: &SlotRules, starts: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    arrival(rules, starts, now) == Arrival::Late
}
