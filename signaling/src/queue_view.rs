//! The queue as citizens are told it: positions and expected waits, computed in one place
//! from a snapshot of the store (waiting tickets, agents' states, recent calls, recent
//! abandonment, today's closing, the bookings still to come today) by
//! `scheduler::estimate_wait`.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use scheduler::{
    Abandonment, Activity, AgentSnapshot, Calibration, Estimate, QueueEstimate, QueueSnapshot,
    REQUEUE_PRIORITY, ToldWait, WaitingCitizen, estimate_wait,
};
use store::{AgentState, AgentStatus, Ticket};

use crate::{Error, SignalingState};

/// An estimate as a citizen is told it, in whole seconds: the point, and the range only when
/// it is wide enough that a single number would mislead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Told {
    /// Expected wait.
    pub estimate_secs: Option<i64>,
    /// Short end of the range, when shown.
    pub low_secs: Option<i64>,
    /// Long end of the range, when shown.
    pub high_secs: Option<i64>,
}

impl Told {
    /// From an estimate (`None`: no agent working).
    pub fn from(estimate: Option<Estimate>) -> Self {
        let Some(e) = estimate else {
            return Self::default();
        };
        let wide = e.is_uncertain();
        Self {
            estimate_secs: Some(e.point.num_seconds()),
            low_secs: wide.then(|| e.low.num_seconds()),
            high_secs: wide.then(|| e.high.num_seconds()),
        }
    }
}

/// A snapshot of the queue with everyone's estimate.
#[derive(Debug, Clone)]
pub struct QueueView {
    /// Waiting tickets in service order.
    pub waiting: Vec<Ticket>,
    /// The estimates: one per waiting ticket (same order) and one for a newcomer.
    pub estimates: QueueEstimate,
    /// Every agent's state, as read for the snapshot.
    pub agents: Vec<AgentState>,
    /// The newcomer's estimate before the range's recalibration: what is stored with a new
    /// ticket for the calibration to learn from.
    pub raw_newcomer: Option<Estimate>,
    /// What the estimates were made from (the supervisors' forecast starts from it too).
    pub snapshot: QueueSnapshot,
}

impl QueueView {
    /// Reads the queue now.
    pub async fn load(state: &SignalingState) -> Result<Self, Error> {
        let now = state.clock.now();
        let policy = &state.queue;
        let waiting = state.store.waiting_queue(now).await?;
        let agent_states = state.store.agent_states().await?;
        let sample = u32::try_from(policy.handle_time_sample).unwrap_or(u32::MAX);
        let calls = state.store.recent_calls(sample).await?;
        let abandonment = state
            .store
            .queue_abandonment(now - policy.abandonment_window, now)
            .await?;
        // Booked citizens not come in yet, due before closing (a late one may still come
        // within the grace): the estimate serves them at their slots.
        let closes = state.calendar.current_window(now).map(|w| w.closes);
        let booked = match closes {
            Some(closes) => {
                let since = now - state.booking.rules.grace();
                state.store.live_booking_slots(since, closes).await?
            }
            None => Vec::new(),
        };
        let mut own: HashMap<&str, Vec<chrono::TimeDelta>> = HashMap::new();
        for call in &calls {
            if let Some(agent) = &call.agent_id {
                own.entry(agent).or_default().push(call.handle_time);
            }
        }
        let agents = agent_states
            .iter()
            .filter_map(|a| {
                let activity = match a.status {
                    AgentStatus::Available => Activity::Available,
                    AgentStatus::InCall => Activity::InCall,
                    AgentStatus::WrapUp => Activity::WrapUp,
                    AgentStatus::Break => Activity::Break,
                    AgentStatus::Offline => return None,
                };
                Some(AgentSnapshot {
                    activity,
                    since: a.since,
                    recent_handle_times: own.get(a.user_id.as_str()).cloned().unwrap_or_default(),
                })
            })
            .collect();
        let snapshot = QueueSnapshot {
            now,
            waiting: waiting
                .iter()
                .map(|t| WaitingCitizen {
                    waited: (now - t.joined_at).max(chrono::TimeDelta::zero()),
                    requeued: t.priority >= REQUEUE_PRIORITY,
                    appointment: t.appointment_at,
                })
                .collect(),
            agents,
            recent_handle_times: calls.iter().map(|c| c.handle_time).collect(),
            default_handle_time: policy.default_handle_time,
            wrap_up: policy.wrap_up,
            expected_break: policy.expected_break,
            abandonment: Abandonment {
                left: abandonment.left,
                exposure: abandonment.waited,
            },
            closes,
            booked,
        };
        let raw = estimate_wait(&snapshot);
        let calibration = state
            .calibration
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        let closes = snapshot.closes;
        let honest = |e: Option<Estimate>| e.map(|e| calibration.apply(e, now, closes));
        Ok(Self {
            estimates: QueueEstimate {
                waiting: raw.waiting.iter().copied().map(honest).collect(),
                newcomer: honest(raw.newcomer),
            },
            raw_newcomer: raw.newcomer,
            waiting,
            agents: agent_states,
            snapshot,
        })
    }

    /// The estimate for someone joining now (`None` when no agent is working).
    pub fn newcomer(&self) -> Option<Estimate> {
        self.estimates.newcomer
    }

    /// A ticket's 1-based position and estimate, if it is waiting.
    pub fn position_of(&self, ticket: &str) -> Option<(u32, Option<Estimate>)> {
        let i = self.waiting.iter().position(|t| t.id == ticket)?;
        Some((
            u32::try_from(i + 1).unwrap_or(u32::MAX),
            self.estimates.waiting.get(i).copied().flatten(),
        ))
    }

    /// The longest current wait, in seconds.
    pub fn longest_wait_secs(&self, now: DateTime<Utc>) -> i64 {
        self.waiting
            .iter()
            .map(|t| (now - t.joined_at).num_seconds())
            .max()
            .unwrap_or(0)
            .max(0)
    }
}

/// How far back, and how many citizens, the range's recalibration learns from.
const CALIBRATION_WINDOW: TimeDelta = TimeDelta::days(7);
const CALIBRATION_CITIZENS: u32 = 2000;

/// Learns the wait range's recalibration again from the citizens of the last 7 days (at
/// most 2000) who were taken after a wait; returns how many it learnt from.
pub async fn relearn(state: &SignalingState) -> Result<usize, Error> {
    let now = state.clock.now();
    let told = state
        .store
        .recent_told_waits(now - CALIBRATION_WINDOW, CALIBRATION_CITIZENS)
        .await?;
    let history: Vec<ToldWait> = told
        .iter()
        .filter(|t| t.waited > TimeDelta::zero())
        .map(|t| ToldWait {
            at: t.joined_at,
            point: TimeDelta::seconds(t.point_secs),
            low: TimeDelta::seconds(t.low_secs),
            high: TimeDelta::seconds(t.high_secs),
            waited: t.waited,
        })
        .collect();
    let learnt = Calibration::learn(&history);
    match state.calibration.write() {
        Ok(mut c) => *c = learnt,
        Err(poisoned) => *poisoned.into_inner() = learnt,
    }
    Ok(history.len())
}
