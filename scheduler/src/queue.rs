//! Queue policy: who is admitted and in which order they are served (how long they will
//! probably wait is [`crate::estimate`]'s). Pure functions of their inputs; `now` is always a
//! parameter.

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
    /// How many recent calls the handle-time distribution is taken from.
    pub handle_time_sample: usize,
    /// The usual wrap-up after a call, before the agent takes the next citizen.
    pub wrap_up: TimeDelta,
    /// How long a break usually lasts (`None`: agents on a break are not counted on).
    pub expected_break: Option<TimeDelta>,
    /// How far back abandonment (citizens leaving the queue) is measured.
    pub abandonment_window: TimeDelta,
    /// What happens at closing.
    pub at_closing: AtClosing,
}

impl Default for QueuePolicy {
    fn default() -> Self {
        Self {
            default_handle_time: TimeDelta::minutes(6),
            handle_time_sample: 500,
            wrap_up: TimeDelta::seconds(30),
            expected_break: Some(TimeDelta::minutes(15)),
            abandonment_window: TimeDelta::days(7),
            at_closing: AtClosing::ServeAdmitted,
        }
    }
}

/// Priority of a fresh ticket.
pub const NORMAL_PRIORITY: i64 = 0;
/// Priority of a ticket put back by an agent (abort for quality, agent lost): served first.
pub const REQUEUE_PRIORITY: i64 = 1;

/// How a waiting ticket stands in the queue, for its place in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Put back by an agent (aborted for quality, agent lost): it was being served.
    Requeued,
    /// Came in for an appointment at `at`, in time.
    Appointment {
        /// The slot's start.
        at: DateTime<Utc>,
    },
    /// Came without an appointment (or too late for theirs).
    WalkIn,
}

/// The service order, written once. At `now`, tickets are served:
/// 1. requeued tickets, in arrival order: they were already being served;
/// 2. appointments whose time has come, by slot time: an appointment is kept at its time,
///    ahead of whoever walked in;
/// 3. walk-ins, in arrival order;
/// 4. appointments whose time has not come, by slot time: served early only when nobody
///    else is waiting, so that coming early never pushes a walk-in back.
///
/// `seq` is the arrival order. Returns a key; smaller is served first.
pub fn service_key(standing: Standing, seq: i64, now: DateTime<Utc>) -> (u8, DateTime<Utc>, i64) {
    let no_time = DateTime::<Utc>::MIN_UTC;
    match standing {
        Standing::Requeued => (0, no_time, seq),
        Standing::Appointment { at } if at <= now => (1, at, seq),
        Standing::WalkIn => (2, no_time, seq),
        Standing::Appointment { at } => (3, at, seq),
    }
}

/// `tickets` sorted into service order ([`service_key`]); `standing` gives each ticket's
/// standing and arrival order.
pub fn in_service_order<T>(
    mut tickets: Vec<T>,
    now: DateTime<Utc>,
    standing: impl Fn(&T) -> (Standing, i64),
) -> Vec<T> {
    tickets.sort_by_cached_key(|t| {
        let (s, seq) = standing(t);
        service_key(s, seq, now)
    });
    tickets
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
    fn requeued_then_due_appointments_then_walk_ins_then_early_appointments() {
        let now = madrid("2026-12-07 09:12");
        let at = |t: &str| Standing::Appointment { at: madrid(t) };
        // (name, standing, arrival order)
        let tickets = vec![
            ("walk-in 1", Standing::WalkIn, 1),
            ("appointment 09:20, came early", at("2026-12-07 09:20"), 2),
            ("walk-in 2", Standing::WalkIn, 3),
            ("appointment 09:10", at("2026-12-07 09:10"), 4),
            ("requeued", Standing::Requeued, 5),
            (
                "appointment 09:00, came late in the grace",
                at("2026-12-07 09:00"),
                6,
            ),
            ("requeued earlier", Standing::Requeued, 0),
            ("appointment 09:30, came early", at("2026-12-07 09:30"), 7),
        ];
        let order: Vec<&str> = in_service_order(tickets, now, |t| (t.1, t.2))
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(
            order,
            [
                "requeued earlier",
                "requeued",
                "appointment 09:00, came late in the grace",
                "appointment 09:10",
                "walk-in 1",
                "walk-in 2",
                "appointment 09:20, came early",
                "appointment 09:30, came early",
            ]
        );
        // At 09:20 the 09:20 appointment goes ahead of the walk-ins.
        let key = |s, seq| service_key(s, seq, madrid("2026-12-07 09:20"));
        assert!(key(at("2026-12-07 09:20"), 2) < key(Standing::WalkIn, 1));
        assert!(key(Standing::Requeued, 9) < key(at("2026-12-07 09:20"), 2));
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
