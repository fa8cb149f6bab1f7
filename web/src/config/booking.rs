//! Appointment (*cita previa*) options: the slots, their capacity (a table, or the agents
//! expected times the share kept for appointments), the grace for late arrivals, and from
//! which wait a joining citizen is offered a slot. Flags, environment or the file's
//! `[booking]` table.

use chrono::TimeDelta;
use clap::Args;
use scheduler::booking::{BookingPolicy, Capacity, HourTable, SlotRules};
use serde::Deserialize;

use super::layer::layered;
use super::settings::{at_least_one, given};
use super::values::HourRow;
use crate::Error;

layered! {
/// Appointment options of the server; in the TOML file, the `[booking]` table.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BookingArgs {
    /// Over how many service days (from today) appointments are offered (1–60).
    #[arg(
        long = "booking-days",
        env = "VIDEOREG_BOOKING_DAYS",
        value_name = "DAYS",
        default_value = "10"
    )]
    pub days: Option<u32>,
    /// How long an appointment slot lasts, in whole minutes (5–120).
    #[arg(
        long = "booking-slot-minutes",
        env = "VIDEOREG_BOOKING_SLOT_MINUTES",
        value_name = "MINUTES",
        default_value = "10"
    )]
    pub slot_minutes: Option<u32>,
    /// No slot starting sooner than this is offered, in minutes (0–120).
    #[arg(
        long = "booking-lead-minutes",
        env = "VIDEOREG_BOOKING_LEAD_MINUTES",
        value_name = "MINUTES",
        default_value = "10"
    )]
    pub lead_minutes: Option<u32>,
    /// How long before the slot a citizen may come in, in minutes (0–120).
    #[arg(
        long = "booking-check-in-minutes",
        env = "VIDEOREG_BOOKING_CHECK_IN_MINUTES",
        value_name = "MINUTES",
        default_value = "10"
    )]
    pub check_in_minutes: Option<u32>,
    /// A citizen later than this after the slot joins as a walk-in, in minutes (0–120).
    #[arg(
        long = "booking-grace-minutes",
        env = "VIDEOREG_BOOKING_GRACE_MINUTES",
        value_name = "MINUTES",
        default_value = "10"
    )]
    pub grace_minutes: Option<u32>,
    /// Appointments per slot by weekday and Madrid hour, rows `DAYS HOURS=N` (repeat, or
    /// separate with commas; a later row wins): e.g. `mon-fri 09-14=3`. When given, it
    /// replaces the staffing rows.
    #[arg(
        long = "booking-capacity",
        env = "VIDEOREG_BOOKING_CAPACITY",
        value_delimiter = ',',
        value_name = "DAYS HOURS=N"
    )]
    pub capacity: Vec<HourRow>,
    /// Agents expected by weekday and Madrid hour, rows `DAYS HOURS=N`: a slot takes the
    /// appointments they can serve in it times --booking-share.
    #[arg(
        long = "booking-staffing",
        env = "VIDEOREG_BOOKING_STAFFING",
        value_delimiter = ',',
        value_name = "DAYS HOURS=N",
        default_value = "mon-sun 00-24=2"
    )]
    pub staffing: Vec<HourRow>,
    /// The share of the expected agents' time kept for appointments, in percent (0–100);
    /// the rest is for walk-ins.
    #[arg(
        long = "booking-share",
        env = "VIDEOREG_BOOKING_SHARE",
        value_name = "PERCENT",
        default_value = "50"
    )]
    pub share_percent: Option<u32>,
    /// A citizen told a longer wait than this when joining is offered appointments beside
    /// waiting, in minutes.
    #[arg(
        long = "offer-booking-above-minutes",
        env = "VIDEOREG_OFFER_BOOKING_ABOVE_MINUTES",
        value_name = "MINUTES",
        default_value = "30"
    )]
    pub offer_above_minutes: Option<u32>,
}
}

/// The booking policy from its options (already layered); `per_citizen` is what one
/// citizen takes of an agent (handle time plus wrap-up), for the staffing rows.
pub(crate) fn resolve(b: &BookingArgs, per_citizen: TimeDelta) -> Result<BookingPolicy, Error> {
    let minutes = |v: Option<u32>, name: &str| -> Result<TimeDelta, Error> {
        Ok(TimeDelta::minutes(i64::from(given(v, name)?)))
    };
    let rules = SlotRules::new(
        minutes(b.slot_minutes, "booking-slot-minutes")?,
        at_least_one(b.days, "booking-days")?,
        minutes(b.lead_minutes, "booking-lead-minutes")?,
        minutes(b.check_in_minutes, "booking-check-in-minutes")?,
        minutes(b.grace_minutes, "booking-grace-minutes")?,
    )
    .map_err(|e| Error::Config(e.to_string()))?;
    let table = |rows: &[HourRow]| {
        HourTable::parse(rows.iter().map(|r| (r.key.as_str(), r.value)))
            .map_err(|e| Error::Config(e.to_string()))
    };
    let capacity = match b.capacity.is_empty() {
        false => Capacity::Table(table(&b.capacity)?),
        true => {
            let share = given(b.share_percent, "booking-share")?;
            if share > 100 {
                return Err(Error::Config(
                    "booking-share must be between 0 and 100".into(),
                ));
            }
            Capacity::Staffing {
                agents: table(&b.staffing)?,
                share_percent: u8::try_from(share).unwrap_or(100),
                per_citizen,
            }
        }
    };
    Ok(BookingPolicy {
        rules,
        capacity,
        offer_above: at_least_one(b.offer_above_minutes, "offer-booking-above-minutes")
            .map(|m| TimeDelta::minutes(i64::from(m)))?,
    })
}
