//! The server's source of `now`. Rules never call it; callers read it once and pass `now` in.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

/// Where the server gets the current time: the system clock in production, a clock that
/// tests set and advance otherwise. Cloning shares the same underlying clock.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The operating system's clock.
    #[default]
    System,
    /// A clock that only moves when told to. The mutex is held for a read or a write only,
    /// never across an `.await`.
    Manual(Arc<Mutex<DateTime<Utc>>>),
    /// A clock that runs `speed` times as fast as real time from `start` (a rehearsed
    /// service day: 60 runs five hours in five minutes). Only `demo` offers it.
    Scaled {
        /// What it read when it was made.
        start: DateTime<Utc>,
        /// The real moment it was made (monotonic).
        since: Instant,
        /// How many of its seconds pass per real second (at least 1).
        speed: u32,
    },
}

/// The time a clock started at `start` shows after `elapsed` real time at `speed`
/// (what [`Clock::Scaled`] reads, with no clock of its own).
pub fn scaled_time(start: DateTime<Utc>, elapsed: Duration, speed: u32) -> DateTime<Utc> {
    let scaled = elapsed.saturating_mul(speed.max(1));
    TimeDelta::from_std(scaled)
        .ok()
        .and_then(|d| start.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Clock {
    /// A manual clock that starts at `start`.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self::Manual(Arc::new(Mutex::new(start)))
    }

    /// A clock that starts at `start` now and runs `speed` times as fast as real time.
    pub fn scaled(start: DateTime<Utc>, speed: u32) -> Self {
        Self::Scaled {
            start,
            since: Instant::now(),
            speed: speed.max(1),
        }
    }

    /// The current time according to this clock.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Manual(t) => *t.lock().unwrap_or_else(PoisonError::into_inner),
            Self::Scaled {
                start,
                since,
                speed,
            } => scaled_time(*start, since.elapsed(), *speed),
        }
    }

    /// How long `span` of this clock's time lasts in real time, for a timer that wakes when a
    /// rule's moment comes: the same for the system and manual clocks, `speed` times shorter
    /// for a scaled one. Negative spans are zero.
    pub fn real(&self, span: TimeDelta) -> Duration {
        let span = span.to_std().unwrap_or_default();
        match self {
            Self::System | Self::Manual(_) => span,
            Self::Scaled { speed, .. } => span / (*speed).max(1),
        }
    }

    /// Sets a manual clock; the others ignore it.
    pub fn set(&self, to: DateTime<Utc>) {
        if let Self::Manual(t) = self {
            *t.lock().unwrap_or_else(PoisonError::into_inner) = to;
        }
    }

    /// Moves a manual clock forward; the others ignore it.
    pub fn advance(&self, by: TimeDelta) {
        if let Self::Manual(t) = self {
            let mut guard = t.lock().unwrap_or_else(PoisonError::into_inner);
            *guard += by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_it() {
        let start = DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .unwrap()
            .to_utc();
        let clock = Clock::manual(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        other.advance(TimeDelta::minutes(5));
        assert_eq!(clock.now(), start + TimeDelta::minutes(5));
        clock.set(start);
        assert_eq!(other.now(), start);
    }

    #[test]
    fn a_scaled_clock_runs_a_five_hour_day_in_five_minutes_at_sixty() {
        let start = DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(scaled_time(start, Duration::ZERO, 60), start);
        assert_eq!(
            scaled_time(start, Duration::from_secs(300), 60),
            start + TimeDelta::hours(5)
        );
        assert_eq!(
            scaled_time(start, Duration::from_millis(500), 60),
            start + TimeDelta::seconds(30)
        );
        // Speed 0 would stop time: it is read as 1.
        assert_eq!(
            scaled_time(start, Duration::from_secs(7), 0),
            start + TimeDelta::seconds(7)
        );
    }

    #[test]
    fn a_timer_of_clock_time_lasts_speed_times_less_on_a_scaled_clock() {
        let start = DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .unwrap()
            .to_utc();
        let thirty = TimeDelta::seconds(30);
        assert_eq!(Clock::System.real(thirty), Duration::from_secs(30));
        assert_eq!(Clock::manual(start).real(thirty), Duration::from_secs(30));
        assert_eq!(
            Clock::scaled(start, 60).real(thirty),
            Duration::from_millis(500)
        );
        assert_eq!(Clock::System.real(-thirty), Duration::ZERO);
    }

    #[test]
    fn a_scaled_clock_starts_where_told_and_moves_forward() {
        let start = DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .unwrap()
            .to_utc();
        let clock = Clock::scaled(start, 60);
        let first = clock.now();
        assert!(first >= start && first < start + TimeDelta::minutes(1));
        assert!(clock.clone().now() >= first);
    }
}
