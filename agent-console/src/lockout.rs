//! Brute-force protection for staff sign-in: progressive delays per name after 5
//! consecutive failures, a lock after 20 until an administrator resets it, and a cap per
//! client address. Pure rules over counts and instants; the caller reads the store.

use chrono::{DateTime, TimeDelta, Utc};

/// Failures allowed before delays start.
pub const DELAY_AFTER: i64 = 5;
/// Failures after which the name is locked until reset.
pub const LOCK_AFTER: i64 = 20;
/// The longest delay between attempts.
pub const MAX_DELAY: TimeDelta = TimeDelta::minutes(15);

/// Whether a sign-in attempt may proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead.
    Open,
    /// Wait until the given instant.
    WaitUntil(DateTime<Utc>),
    /// Locked until an administrator resets the account.
    Locked,
}

/// The delay imposed after `failures` consecutive failures: none up to 5, then 30 s,
/// doubling with each further failure, at most 15 minutes.
pub fn delay_after(failures: i64) -> TimeDelta {
    if failures < DELAY_AFTER {
        return TimeDelta::zero();
    }
    let doublings = u32::try_from(failures - DELAY_AFTER)
        .unwrap_or(u32::MAX)
        .min(10);
    (TimeDelta::seconds(30) * 2_i32.pow(doublings)).min(MAX_DELAY)
}

/// The gate for a name with `failures` consecutive failures, the latest at `latest`.
pub fn gate(failures: i64, latest: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Gate {
    if failures >= LOCK_AFTER {
        return Gate::Locked;
    }
    match latest {
        Some(at) if at + delay_after(failures) > now => Gate::WaitUntil(at + delay_after(failures)),
        _ => Gate::Open,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_five_double_and_cap() {
        assert_eq!(delay_after(4), TimeDelta::zero());
        assert_eq!(delay_after(5), TimeDelta::seconds(30));
        assert_eq!(delay_after(6), TimeDelta::seconds(60));
        assert_eq!(delay_after(8), TimeDelta::seconds(240));
        assert_eq!(delay_after(10), MAX_DELAY);
        assert_eq!(delay_after(19), MAX_DELAY);
    }

    #[test]
    fn the_gate_opens_when_the_delay_has_passed_and_locks_at_twenty() {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(gate(0, None, t), Gate::Open);
        assert_eq!(gate(4, Some(t), t), Gate::Open);
        assert_eq!(
            gate(5, Some(t), t + TimeDelta::seconds(10)),
            Gate::WaitUntil(t + TimeDelta::seconds(30))
        );
        assert_eq!(gate(5, Some(t), t + TimeDelta::seconds(30)), Gate::Open);
        assert_eq!(gate(20, Some(t), t + TimeDelta::days(30)), Gate::Locked);
    }
}
