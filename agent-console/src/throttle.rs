//! Limits on failed attempts, applied race-free: an attempt is counted against every limit
//! it falls under in one store transaction *before* it is checked, and refused (the count
//! rolled back) when any limit holds it. An admitted attempt that fails is already counted;
//! one that succeeds clears its counters. So N concurrent attempts count N, and no more are
//! checked than the limits admit. The back-off rules are [`crate::lockout::Backoff`]s.

use chrono::{DateTime, Utc};
use store::{Store, ThrottleScope};

use crate::lockout::Backoff;

/// One limit an attempt falls under: a counter and its rule.
#[derive(Debug, Clone, Copy)]
pub struct Limit<'a> {
    /// Which counter.
    pub scope: ThrottleScope,
    /// Whose (an ID number, an address, a name).
    pub subject: &'a str,
    /// Its rule.
    pub backoff: Backoff,
}

/// Whether an attempt was admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead; the failures now counted under each limit, in the order given (this
    /// attempt included, as if it fails).
    Admitted(Vec<i64>),
    /// Held back by the limit `scope` until `until`; nothing was counted.
    Wait {
        /// The first instant the limit admits an attempt.
        until: DateTime<Utc>,
        /// The limit that holds the attempt back.
        scope: ThrottleScope,
    },
    /// The limit `scope` is locked until a reset; nothing was counted.
    Locked {
        /// The locked limit.
        scope: ThrottleScope,
    },
}

/// Counts an attempt at `now` against every limit in `limits`, in one transaction: admitted
/// only if each admits it; then each is held for the wait its new count calls for, as if the
/// attempt fails (a success clears it with [`succeeded`]).
pub async fn admit(
    store: &Store,
    limits: &[Limit<'_>],
    now: DateTime<Utc>,
) -> Result<Admission, store::Error> {
    let mut tx = store.begin().await?;
    let mut counts = Vec::with_capacity(limits.len());
    for limit in limits {
        let forget_before = limit.backoff.forget.map(|f| now - f);
        let counted = tx
            .count_attempt(limit.scope, limit.subject, now, forget_before)
            .await?;
        let before = counted.failures - 1;
        let refusal = if limit.backoff.lock_after.is_some_and(|lock| before >= lock) {
            Some(Admission::Locked { scope: limit.scope })
        } else if counted.next_at > now {
            Some(Admission::Wait {
                until: counted.next_at,
                scope: limit.scope,
            })
        } else {
            None
        };
        if let Some(refusal) = refusal {
            tx.rollback().await?;
            return Ok(refusal);
        }
        let wait = limit.backoff.delay_after(counted.failures);
        if wait > chrono::TimeDelta::zero() {
            tx.hold_until(limit.scope, limit.subject, now + wait)
                .await?;
        }
        counts.push(counted.failures);
    }
    tx.commit().await?;
    Ok(Admission::Admitted(counts))
}

/// Clears the counters of `limits` after a success.
pub async fn succeeded(store: &Store, limits: &[Limit<'_>]) -> Result<(), store::Error> {
    for limit in limits {
        store.clear_throttle(limit.scope, limit.subject).await?;
    }
    Ok(())
}

/// Whether a failure that brought a count to `failures` crossed `threshold` (it is the one
/// that reached it: counts are exact, so exactly one failure does).
pub fn crossed(failures: i64, threshold: i64) -> bool {
    failures >= threshold && failures - 1 < threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_failure_that_reaches_a_threshold_crosses_it() {
        assert!(!crossed(19, 20));
        assert!(crossed(20, 20));
        assert!(!crossed(21, 20));
    }
}
