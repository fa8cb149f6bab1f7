//! The server's source of `now`. Rules never call it; callers read it once and pass `now` in.

use std::sync::{Arc, Mutex, PoisonError};

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
}

impl Clock {
    /// A manual clock that starts at `start`.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self::Manual(Arc::new(Mutex::new(start)))
    }

    /// The current time according to this clock.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Manual(t) => *t.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Sets a manual clock; a system clock ignores it.
    pub fn set(&self, to: DateTime<Utc>) {
        if let Self::Manual(t) = self {
            *t.lock().unwrap_or_else(PoisonError::into_inner) = to;
        }
    }

    /// Moves a manual clock forward; a system clock ignores it.
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
}
