//! The rest of the day: how many waiting citizens the current agents will likely not have
//! taken by closing, and how many more agents would take everyone before closing. Both come
//! from the wait estimator ([`crate::estimate_wait`]) run on the live snapshot, with extra
//! agents added as available from `now` at everyone's usual pace.

use crate::{Activity, AgentSnapshot, QueueSnapshot, estimate_wait};

/// What the rest of the day looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Forecast {
    /// Waiting citizens whose expected start of service is at or after closing (all of them
    /// while no agent is working).
    pub still_waiting_at_closing: u32,
    /// More agents needed so that every waiting citizen is expected to be taken before
    /// closing: 0 when the current ones suffice, `None` when even `max_extra` would not.
    pub extra_agents_needed: Option<u32>,
}

/// How many waiting citizens of `snapshot` are expected to start after closing.
fn late(snapshot: &QueueSnapshot) -> u32 {
    let estimates = estimate_wait(snapshot);
    let n = estimates
        .waiting
        .iter()
        .filter(|e| e.is_none_or(|e| e.ends_after_closing))
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(crate) fn with_extra(snapshot: &QueueSnapshot, extra: u32) -> QueueSnapshot {
    let mut s = snapshot.clone();
    s.agents.extend((0..extra).map(|_| AgentSnapshot {
        activity: Activity::Available,
        since: snapshot.now,
        recent_handle_times: Vec::new(),
    }));
    s
}

/// The forecast at `snapshot.now`. Without a closing time (the service is closed) nothing is
/// forecast. Adding agents never lengthens an estimate, so the smallest sufficient number is
/// found by bisection (a handful of estimates, not `max_extra`).
pub fn forecast(snapshot: &QueueSnapshot, max_extra: u32) -> Forecast {
    if snapshot.closes.is_none() || snapshot.waiting.is_empty() {
        return Forecast {
            still_waiting_at_closing: 0,
            extra_agents_needed: Some(0),
        };
    }
    let now_late = late(snapshot);
    if now_late == 0 {
        return Forecast {
            still_waiting_at_closing: 0,
            extra_agents_needed: Some(0),
        };
    }
    if late(&with_extra(snapshot, max_extra)) > 0 {
        return Forecast {
            still_waiting_at_closing: now_late,
            extra_agents_needed: None,
        };
    }
    // Invariant: `lo` agents are not enough, `hi` are.
    let (mut lo, mut hi) = (0, max_extra);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if late(&with_extra(snapshot, mid)) == 0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Forecast {
        still_waiting_at_closing: now_late,
        extra_agents_needed: Some(hi),
    }
}
