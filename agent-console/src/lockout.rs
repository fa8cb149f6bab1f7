//! Brute-force protection as pure rules over counts and instants: [`Backoff`], the
//! exponential back-off every limit on failed attempts follows (staff sign-in, and the
//! citizens' sign-in, activation, receipts and contrast checks), and the staff names' rule:
//! progressive delays after 5 consecutive failures and a lock after 20 until an
//! administrator resets it. [`crate::throttle`] applies them to the store's counters.

use chrono::TimeDelta;

/// Failures allowed before delays start.
pub const DELAY_AFTER: i64 = 5;
/// Failures after which the name is locked until reset.
pub const LOCK_AFTER: i64 = 20;
/// The longest delay between attempts.
pub const MAX_DELAY: TimeDelta = TimeDelta::minutes(15);

/// An exponential back-off: after `free` consecutive failures the next attempt waits
/// `first`, doubling with each further failure up to `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures admitted without a wait.
    pub free: i64,
    /// The wait after the `free`-th failure.
    pub first: TimeDelta,
    /// The longest wait.
    pub cap: TimeDelta,
    /// Failures are forgotten after this long without one (`None`: kept until a success or
    /// a reset).
    pub forget: Option<TimeDelta>,
    /// Failures after which no attempt is admitted until a reset (`None`: never).
    pub lock_after: Option<i64>,
}

impl Backoff {
    /// The wait imposed after `failures` consecutive failures.
    pub fn delay_after(&self, failures: i64) -> TimeDelta {
        if failures < self.free.max(1) {
            return TimeDelta::zero();
        }
        let doublings = u32::try_from(failures - self.free.max(1))
            .unwrap_or(u32::MAX)
            .min(30);
        self.first
            .checked_mul(2_i32.saturating_pow(doublings))
            .unwrap_or(self.cap)
            .min(self.cap)
    }
}

/// Staff names: 5 failures free, then 30 s doubling to 15 minutes, locked after 20 until an
/// administrator resets the account.
pub const STAFF_NAME: Backoff = Backoff {
    free: DELAY_AFTER,
    first: TimeDelta::seconds(30),
    cap: MAX_DELAY,
    forget: None,
    lock_after: Some(LOCK_AFTER),
};

/// The delay imposed after `failures` consecutive failures: none up to 5, then 30 s,
/// doubling with each further failure, at most 15 minutes.
pub fn delay_after(failures: i64) -> TimeDelta {
    STAFF_NAME.delay_after(failures)
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
    fn a_backoff_doubles_from_its_first_wait_and_stops_at_its_cap() {
        let b = Backoff {
            free: 10,
            first: TimeDelta::minutes(1),
            cap: TimeDelta::hours(1),
            forget: None,
            lock_after: None,
        };
        assert_eq!(b.delay_after(9), TimeDelta::zero());
        assert_eq!(b.delay_after(10), TimeDelta::minutes(1));
        assert_eq!(b.delay_after(12), TimeDelta::minutes(4));
        assert_eq!(b.delay_after(16), TimeDelta::hours(1));
        assert_eq!(b.delay_after(i64::MAX), TimeDelta::hours(1));
    }
}
