//! How many appointments a slot takes: a table of numbers per weekday and local hour, given
//! directly (`--booking-capacity`) or derived from the agents expected (`--booking-staffing`)
//! times the share of their work reserved for appointments.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Timelike, Utc, Weekday};

use crate::{Error, SERVICE_TZ};

/// A number per weekday and local hour, written as rows such as `"mon-fri 09-11" = 3` or
/// `"wed 12" = 1` (one hour). Rows apply in order; a later row wins where rows overlap. Hours
/// no row names are 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HourTable {
    /// `(weekday from Monday = 0, hour)` → value.
    cells: BTreeMap<(u8, u8), u32>,
}

/// The most any cell may hold: no slot takes more than this many appointments, and no
/// hour has more agents.
pub const MAX_CELL: u32 = 1_000;

impl HourTable {
    /// A table from rows in order.
    pub fn parse<'a>(rows: impl IntoIterator<Item = (&'a str, u32)>) -> Result<Self, Error> {
        let mut table = Self::default();
        for (key, value) in rows {
            table.set(key, value)?;
        }
        Ok(table)
    }

    /// Applies one row, `"DAYS HOURS" = value`: DAYS is `mon`…`sun` or a range `mon-fri`,
    /// HOURS an hour `09` or a range `09-14` (from the first hour to before the second).
    pub fn set(&mut self, key: &str, value: u32) -> Result<(), Error> {
        let bad = || Error::InvalidCapacity(key.to_owned());
        if value > MAX_CELL {
            return Err(Error::InvalidCapacity(format!(
                "{key} = {value} (at most {MAX_CELL})"
            )));
        }
        let (days, hours) = key.trim().split_once(' ').ok_or_else(bad)?;
        let (first_day, last_day) = match days.split_once('-') {
            Some((a, b)) => (weekday(a).ok_or_else(bad)?, weekday(b).ok_or_else(bad)?),
            None => {
                let d = weekday(days).ok_or_else(bad)?;
                (d, d)
            }
        };
        let hour = |s: &str| s.trim().parse::<u8>().ok().filter(|h| *h <= 24);
        let (from, to) = match hours.trim().split_once('-') {
            Some((a, b)) => (hour(a).ok_or_else(bad)?, hour(b).ok_or_else(bad)?),
            None => {
                let h = hour(hours).filter(|h| *h < 24).ok_or_else(bad)?;
                (h, h + 1)
            }
        };
        if first_day > last_day || from >= to {
            return Err(bad());
        }
        for d in first_day..=last_day {
            for h in from..to {
                self.cells.insert((d, h), value);
            }
        }
        Ok(())
    }

    /// The value at a local weekday and hour.
    pub fn get(&self, day: Weekday, hour: u32) -> u32 {
        u8::try_from(hour)
            .ok()
            .and_then(|h| self.cells.get(&(day.num_days_from_monday() as u8, h)))
            .copied()
            .unwrap_or(0)
    }

    /// The value at the Madrid weekday and hour of an instant.
    pub fn at(&self, instant: DateTime<Utc>) -> u32 {
        let local = instant.with_timezone(&SERVICE_TZ);
        self.get(chrono::Datelike::weekday(&local), local.hour())
    }
}

fn weekday(s: &str) -> Option<u8> {
    let day = match s.trim().to_ascii_lowercase().as_str() {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    };
    Some(day.num_days_from_monday() as u8)
}

/// Where a slot's capacity comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capacity {
    /// Appointments per slot, as configured.
    Table(HourTable),
    /// From staffing: the agents expected in the slot's hour serve `length / per_citizen`
    /// citizens each in a slot, and `share_percent` of that is offered as appointments
    /// (rounded down), the rest left to walk-ins.
    Staffing {
        /// Agents expected per weekday and hour.
        agents: HourTable,
        /// The share of their work reserved for appointments, 0–100.
        share_percent: u8,
        /// What one citizen takes of an agent: handle time plus wrap-up.
        per_citizen: TimeDelta,
    },
}

impl Capacity {
    /// How many appointments the slot `[starts, starts + length)` takes.
    pub fn of_slot(&self, starts: DateTime<Utc>, length: TimeDelta) -> u32 {
        match self {
            Self::Table(t) => t.at(starts),
            Self::Staffing {
                agents,
                share_percent,
                per_citizen,
            } => {
                let per_citizen = per_citizen.num_seconds().max(1) as u64;
                let work = u64::from(agents.at(starts)) * length.num_seconds().max(0) as u64;
                let share = u64::from((*share_percent).min(100));
                // citizens = agents × length / per_citizen × share / 100, rounded down once.
                u32::try_from(work * share / (per_citizen * 100)).unwrap_or(MAX_CELL)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn rows_apply_in_order_and_later_rows_win() {
        let t = HourTable::parse([("mon-fri 09-14", 3), ("fri 12-14", 1), ("wed 10", 5)]).unwrap();
        assert_eq!(t.get(Weekday::Mon, 9), 3);
        assert_eq!(t.get(Weekday::Mon, 13), 3);
        assert_eq!(
            t.get(Weekday::Mon, 14),
            0,
            "the range ends before its second hour"
        );
        assert_eq!(t.get(Weekday::Fri, 11), 3);
        assert_eq!(t.get(Weekday::Fri, 12), 1);
        assert_eq!(t.get(Weekday::Wed, 10), 5);
        assert_eq!(t.get(Weekday::Wed, 11), 3);
        assert_eq!(t.get(Weekday::Sat, 10), 0, "no row: nothing");
    }

    #[test]
    fn bad_rows_are_refused_with_the_row() {
        for key in [
            "monday 09",
            "mon",
            "mon 9-9",
            "fri-mon 09",
            "mon 25",
            "mon 09-25",
            "x 1",
        ] {
            assert_eq!(
                HourTable::parse([(key, 1)]),
                Err(Error::InvalidCapacity(key.to_owned())),
                "{key}"
            );
        }
        assert!(HourTable::parse([("mon 09", MAX_CELL + 1)]).is_err());
        assert!(HourTable::parse([("sun 23", 1), ("sat 00-24", 2)]).is_ok());
    }

    #[test]
    fn the_hour_is_madrid_local_time_in_winter_and_in_summer() {
        let t = HourTable::parse([("mon 09", 4)]).unwrap();
        assert_eq!(t.at(utc("2026-01-12T08:30:00Z")), 4, "09:30 CET");
        assert_eq!(t.at(utc("2026-07-13T07:30:00Z")), 4, "09:30 CEST");
        assert_eq!(t.at(utc("2026-07-13T08:30:00Z")), 0, "10:30 CEST");
    }

    #[test]
    fn staffing_capacity_is_the_reserved_share_of_what_the_agents_can_serve() {
        let agents = HourTable::parse([("mon-fri 09-14", 4), ("mon-fri 13", 1)]).unwrap();
        let capacity = |share| Capacity::Staffing {
            agents: agents.clone(),
            share_percent: share,
            per_citizen: TimeDelta::seconds(390),
        };
        let monday_ten = utc("2026-01-12T09:00:00Z");
        let ten_minutes = TimeDelta::minutes(10);
        // 4 agents × 600 s / 390 s = 6.15 citizens; half is 3.07: 3 appointments.
        assert_eq!(capacity(50).of_slot(monday_ten, ten_minutes), 3);
        assert_eq!(capacity(100).of_slot(monday_ten, ten_minutes), 6);
        assert_eq!(
            capacity(0).of_slot(monday_ten, ten_minutes),
            0,
            "walk-ins only"
        );
        let monday_one = utc("2026-01-12T12:00:00Z");
        assert_eq!(
            capacity(50).of_slot(monday_one, ten_minutes),
            0,
            "one agent: 0.77 → 0"
        );
        assert_eq!(
            capacity(200).of_slot(monday_ten, ten_minutes),
            6,
            "share capped at 100"
        );
        let table = Capacity::Table(HourTable::parse([("mon 10", 2)]).unwrap());
        assert_eq!(table.of_slot(monday_ten, ten_minutes), 2);
    }
}
