//! Queue policy: who is admitted, in which order they are served, and how long they will
//! probably wait. Pure functions of their inputs; `now` is always a parameter.

use chrono::{DateTime, TimeDelta, Utc};

use crate::{Calendar, Window};

/// What happens to citizens still waiting when the service closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AtClosing {
    /// Agents keep serving everyone admitted before closing (nobody admitted is turned away).
    #[default]
    ServeAdmitted,
    /// Waiting tickets end at closing; the citizens are told to come back at the next opening.
    Expire,
}

/// Queue rules from configuration.
#[derive(Debug, Clone)]
pub struct QueuePolicy {
    /// The handle time assumed before any call has been measured.
    pub default_handle_time: TimeDelta,
    /// How many recent calls the handle-time average uses.
    pub handle_time_sample: usize,
    /// What happens at closing.
    pub at_closing: AtClosing,
}

impl Default for QueuePolicy {
    fn default() -> Self {
        Self {
            default_handle_time: TimeDelta::minutes(6),
            handle_time_sample: 50,
            at_closing: AtClosing::ServeAdmitted,
        }
    }
}

/// Priority of a fresh ticket.
pub const NORMAL_PRIORITY: i64 = 0;
/// Priority of a ticket put back by an agent (abort for quality, agent lost): served first.
pub const REQUEUE_PRIORITY: i64 = 1;

/// The facts an estimate is made from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueFacts {
    /// Citizens ahead of the one being estimated.
    pub ahead: u32,
    /// Agents working (available, in a call or in wrap-up): `s`.
    pub agents: u32,
    /// Mean handle time of recent calls: `1/μ`.
    pub mean_handle_time: TimeDelta,
}

/// The expected wait of a citizen with `ahead` people before them: the queue-length estimate
/// `(n + 1) / (s · μ)`. `None` when no agent is working (the wait cannot be told).
///
/// This is the one place the estimator lives; a better one replaces its body.
pub fn estimate_wait(facts: QueueFacts) -> Option<TimeDelta> {
    if facts.agents == 0 {
        return None;
    }
    let ms = facts.mean_handle_time.num_milliseconds().max(0);
    let total = (i64::from(facts.ahead) + 1).saturating_mul(ms) / i64::from(facts.agents);
    Some(TimeDelta::milliseconds(total))
}

/// The mean of recent handle times, or the configured default when there are none.
pub fn mean_handle_time(policy: &QueuePolicy, recent: &[TimeDelta]) -> TimeDelta {
    let sample: Vec<&TimeDelta> = recent
        .iter()
        .take(policy.handle_time_sample.max(1))
        .collect();
    if sample.is_empty() {
        return policy.default_handle_time;
    }
    let total: i64 = sample.iter().map(|d| d.num_milliseconds()).sum();
    TimeDelta::milliseconds(total / sample.len() as i64)
}

/// Why a citizen cannot join the queue now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The service is closed; it opens next at `next_opening` (if ever).
    Closed {
        /// The next opening.
        next_opening: Option<DateTime<Utc>>,
    },
    /// Open, but the citizen would probably not be served before closing.
    TooLateToday {
        /// Today's closing time.
        closes: DateTime<Utc>,
        /// The next opening.
        next_opening: Option<DateTime<Utc>>,
    },
}

/// Whether a citizen may join at `now`, given their expected wait (`None`: unknown, for
/// example because no agent is working yet; they are admitted while the service is open).
pub fn admit(
    calendar: &Calendar,
    now: DateTime<Utc>,
    expected_wait: Option<TimeDelta>,
) -> Result<Window, Refusal> {
    let Some(window) = calendar.current_window(now) else {
        return Err(Refusal::Closed {
            next_opening: calendar.next_opening(now),
        });
    };
    if let Some(wait) = expected_wait
        && now + wait >= window.closes
    {
        return Err(Refusal::TooLateToday {
            closes: window.closes,
            next_opening: calendar.next_opening(now),
        });
    }
    Ok(window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DailyHours;

    fn madrid(s: &str) -> DateTime<Utc> {
        use chrono::TimeZone;
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        crate::SERVICE_TZ
            .from_local_datetime(&naive)
            .single()
            .unwrap()
            .to_utc()
    }

    #[test]
    fn the_queue_length_estimate_is_n_plus_one_over_s_mu() {
        let facts = |ahead, agents| QueueFacts {
            ahead,
            agents,
            mean_handle_time: TimeDelta::minutes(6),
        };
        assert_eq!(estimate_wait(facts(0, 1)), Some(TimeDelta::minutes(6)));
        assert_eq!(estimate_wait(facts(4, 1)), Some(TimeDelta::minutes(30)));
        assert_eq!(estimate_wait(facts(5, 3)), Some(TimeDelta::minutes(12)));
        assert_eq!(estimate_wait(facts(9, 0)), None, "no agents: unknown");
    }

    #[test]
    fn mean_handle_time_uses_recent_calls_or_the_default() {
        let policy = QueuePolicy {
            handle_time_sample: 2,
            ..QueuePolicy::default()
        };
        assert_eq!(mean_handle_time(&policy, &[]), TimeDelta::minutes(6));
        let recent = [
            TimeDelta::minutes(4),
            TimeDelta::minutes(8),
            TimeDelta::minutes(60),
        ];
        assert_eq!(
            mean_handle_time(&policy, &recent),
            TimeDelta::minutes(6),
            "only the 2 most recent"
        );
    }

    #[test]
    fn admission_needs_an_open_window_and_time_to_be_served() {
        let cal = Calendar::new(DailyHours::standard());
        let saturday = madrid("2026-11-28 10:00");
        assert_eq!(
            admit(&cal, saturday, None),
            Err(Refusal::Closed {
                next_opening: Some(madrid("2026-11-30 09:00"))
            })
        );
        let morning = madrid("2026-11-26 10:00");
        assert!(admit(&cal, morning, Some(TimeDelta::minutes(30))).is_ok());
        assert!(
            admit(&cal, morning, None).is_ok(),
            "unknown wait: admitted while open"
        );
        let late = madrid("2026-11-26 13:40");
        assert_eq!(
            admit(&cal, late, Some(TimeDelta::minutes(25))),
            Err(Refusal::TooLateToday {
                closes: madrid("2026-11-26 14:00"),
                next_opening: Some(madrid("2026-11-27 09:00"))
            })
        );
        assert!(admit(&cal, late, Some(TimeDelta::minutes(15))).is_ok());
    }
}
