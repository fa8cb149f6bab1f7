//! The three predictors, each from what the live queue could see at the instant a citizen
//! joins: videoreg's estimator (the real `scheduler::estimate_wait` on a snapshot built like
//! the live one), QL (`(n + 1) / (s · μ)` with `s` the working agents and `1/μ` the mean of
//! recent handle times: what videoreg told before) and HOL (how long the citizen at the head
//! of the queue has waited so far; with nobody waiting, the wait of the last citizen to enter
//! service, LES, or zero when an agent is free).

use chrono::{DateTime, TimeDelta, Utc};
use scheduler::{
    Abandonment, Activity, AgentSnapshot, QueueSnapshot, WaitingCitizen, estimate_wait,
};

use super::day::{AgentState, World};

/// A predictor scored by the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predictor {
    /// `scheduler::estimate_wait`.
    Videoreg,
    /// Queue length: `(n + 1) / (s · μ)`.
    Ql,
    /// Head-of-line delay (LES when nobody waits).
    Hol,
}

impl Predictor {
    /// All of them, in report order.
    pub const ALL: [Predictor; 3] = [Self::Videoreg, Self::Ql, Self::Hol];

    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Videoreg => "videoreg",
            Self::Ql => "QL",
            Self::Hol => "HOL",
        }
    }
}

/// What a citizen is told at joining by each predictor (seconds; `None`: no estimate), and
/// videoreg's range, as the replay gives it and as recalibrated from recent citizens.
#[derive(Debug, Clone, Copy, Default)]
pub struct Told {
    /// Per predictor, in [`Predictor::ALL`] order.
    pub point: [Option<f64>; 3],
    /// videoreg's low and high, raw (what the calibration learns from).
    pub range: Option<(f64, f64)>,
    /// videoreg's low and high after `scheduler::Calibration` (what a citizen is shown).
    pub calibrated: Option<(f64, f64)>,
}

/// What the calibration learns from: a citizen taken after `waited` seconds, who was told
/// `range` (raw) and `point` at `arrived`.
pub fn told_wait(arrived: f64, point: f64, range: (f64, f64), waited: f64) -> scheduler::ToldWait {
    scheduler::ToldWait {
        at: instant(arrived),
        point: secs(point),
        low: secs(range.0),
        high: secs(range.1),
        waited: secs(waited),
    }
}

/// The fixed day the simulator's seconds count from (09:00 in Madrid).
pub fn instant(t: f64) -> DateTime<Utc> {
    let base = DateTime::from_timestamp(1_795_680_000, 0).unwrap_or_default();
    base + secs(t)
}

fn secs(t: f64) -> TimeDelta {
    TimeDelta::milliseconds((t * 1000.0).round() as i64)
}

fn seconds(d: TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

/// Asks every predictor, at `t`, about a citizen who joins now: a walk-in, or one who came
/// in time for the appointment at `slot` (videoreg tells them their own ticket's wait, as the
/// live queue does; QL and HOL know nothing of appointments).
pub fn tell(world: &World, t: f64, videoreg: bool, slot: Option<f64>) -> Told {
    let estimate = match (videoreg, slot) {
        (false, _) => None,
        (true, None) => estimate_wait(&snapshot(world, t)).newcomer,
        (true, Some(slot)) => {
            let mut s = snapshot(world, t);
            s.waiting.push(WaitingCitizen {
                waited: TimeDelta::zero(),
                requeued: false,
                appointment: Some(instant(slot)),
            });
            estimate_wait(&s).waiting.last().copied().flatten()
        }
    };
    let closes = world.close.is_finite().then(|| instant(world.close));
    let calibrated = estimate.map(|e| world.calibration.apply(e, instant(t), closes));
    Told {
        point: [
            estimate.map(|e| seconds(e.point)),
            queue_length(world),
            head_of_line(world, t),
        ],
        range: estimate.map(|e| (seconds(e.low), seconds(e.high))),
        calibrated: calibrated.map(|e| (seconds(e.low), seconds(e.high))),
    }
}

/// The snapshot the live queue would build.
fn snapshot(world: &World, t: f64) -> QueueSnapshot {
    let waiting = world
        .queue
        .iter()
        .map(|&c| {
            let citizen = &world.citizens[c];
            WaitingCitizen {
                waited: secs(t - citizen.queued_at),
                requeued: citizen.requeued,
                appointment: citizen.appointment.map(instant),
            }
        })
        .collect();
    let agents = world
        .agents
        .iter()
        .filter_map(|a| {
            let activity = match a.state {
                AgentState::Idle => Activity::Available,
                AgentState::Busy { .. } => Activity::InCall,
                AgentState::Wrap { .. } => Activity::WrapUp,
                AgentState::Break { .. } => Activity::Break,
                AgentState::Off | AgentState::Gone => return None,
            };
            Some(AgentSnapshot {
                activity,
                since: instant(a.since),
                recent_handle_times: a.own.iter().map(|x| secs(*x)).collect(),
            })
        })
        .collect();
    let exposure = world.exposure
        + world
            .queue
            .iter()
            .map(|&c| t - world.citizens[c].queued_at)
            .sum::<f64>();
    QueueSnapshot {
        now: instant(t),
        waiting,
        agents,
        recent_handle_times: world.history.iter().map(|x| secs(*x)).collect(),
        default_handle_time: secs(world.mean_handle),
        wrap_up: secs(world.wrap_mean),
        expected_break: world.break_mean.map(secs),
        abandonment: Abandonment {
            left: world.abandoned,
            exposure: secs(exposure),
        },
        closes: world.close.is_finite().then(|| instant(world.close)),
        booked: world.booked_to_come(t).into_iter().map(instant).collect(),
    }
}

fn queue_length(world: &World) -> Option<f64> {
    let working = world
        .agents
        .iter()
        .filter(|a| {
            matches!(
                a.state,
                AgentState::Idle | AgentState::Busy { .. } | AgentState::Wrap { .. }
            )
        })
        .count();
    if working == 0 {
        return None;
    }
    // The mean of recent handle times, as `scheduler::mean_handle_time` takes it (kept as a
    // running sum: the same number, without adding up the history at every arrival).
    let mean = if world.history.is_empty() {
        world.mean_handle
    } else {
        world.history_sum / world.history.len() as f64
    };
    Some((world.queue.len() + 1) as f64 * mean / working as f64)
}

fn head_of_line(world: &World, t: f64) -> Option<f64> {
    if let Some(&head) = world.queue.front() {
        return Some(t - world.citizens[head].queued_at);
    }
    if world.agents.iter().any(|a| a.state == AgentState::Idle) {
        return Some(0.0);
    }
    Some(world.last_entered_wait)
}
