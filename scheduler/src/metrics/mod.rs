//! The supervisors' figures for a day, as pure functions of `now` and the day's facts (its
//! tickets, decisions and agents' state changes): service level, average speed of answer,
//! average handle time, abandonment, outcomes and the accuracy of the waits citizens were
//! told, the queue and the agents over the day for the charts ([`series`]), and the forecast
//! for the rest of the day from the wait estimator ([`forecast`]). The definitions are
//! written out in `docs/operations.md`; the web side only loads facts and shows results.

pub mod forecast;
pub mod series;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

pub use forecast::{Forecast, forecast};
pub use series::{
    AgentPhase, AgentTimeline, SeriesPoint, agents_in_state_series, agents_in_state_steps,
    queue_series, queue_steps, state_at,
};

/// A ticket of the day, as the figures see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFacts {
    /// When the citizen joined the queue.
    pub joined_at: DateTime<Utc>,
    /// When the call that answered the citizen started (an agent accepted), if it did.
    pub answered_at: Option<DateTime<Utc>>,
    /// When the ticket ended (call over, left, expired), if it did.
    pub ended_at: Option<DateTime<Utc>>,
    /// The wait the citizen was told at joining, in seconds.
    pub told_estimate_secs: Option<i64>,
    /// The citizen left the queue (or was gone past the grace period) before being answered.
    pub abandoned: bool,
}

impl TicketFacts {
    /// The real wait: joining → answered.
    pub fn waited(&self) -> Option<TimeDelta> {
        self.answered_at
            .map(|a| (a - self.joined_at).max(TimeDelta::zero()))
    }

    /// The handle time of a finished call: answered → ended.
    pub fn handled(&self) -> Option<TimeDelta> {
        match (self.answered_at, self.ended_at) {
            (Some(a), Some(e)) if e >= a => Some(e - a),
            _ => None,
        }
    }
}

/// What an agent decided on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    /// Identity verified.
    Approved,
    /// Identity not verified, for a reason.
    Rejected,
    /// Call not good enough to decide; the citizen went back to the head of the queue.
    Aborted,
}

/// A decision of the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionFacts {
    /// What was decided.
    pub kind: DecisionKind,
    /// The reason code (rejections, aborts).
    pub reason: Option<String>,
}

/// Outcomes of the day's decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Outcomes {
    /// Approvals.
    pub approved: u32,
    /// Rejections by reason code.
    pub rejected: BTreeMap<String, u32>,
    /// Aborts for quality by reason code.
    pub aborted: BTreeMap<String, u32>,
}

impl Outcomes {
    /// Every rejection.
    pub fn rejected_total(&self) -> u32 {
        self.rejected.values().sum()
    }

    /// Every abort.
    pub fn aborted_total(&self) -> u32 {
        self.aborted.values().sum()
    }
}

/// How the waits citizens were told compare with the waits they had.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct EstimateAccuracy {
    /// Answered citizens who had been told an estimate.
    pub compared: u32,
    /// Mean of |told − waited|, in seconds.
    pub mean_abs_error_secs: Option<f64>,
    /// Mean of (told − waited), in seconds: positive when citizens were told too long.
    pub bias_secs: Option<f64>,
    /// Share whose wait fell within ±max(2 min, 25 %) of what they were told.
    pub within_share: Option<f64>,
}

/// The day's queue figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct DayFigures {
    /// Citizens who joined.
    pub joined: u32,
    /// Citizens answered (a call started).
    pub answered: u32,
    /// Answered within the service-level threshold.
    pub answered_within_threshold: u32,
    /// Left before being answered.
    pub abandoned: u32,
    /// Calls finished (answered and ended).
    pub calls_finished: u32,
    /// answered within threshold ÷ (answered + abandoned).
    pub service_level: Option<f64>,
    /// Average speed of answer: mean wait of the answered, in seconds.
    pub average_speed_of_answer_secs: Option<f64>,
    /// Average handle time: mean answered → ended of finished calls, in seconds.
    pub average_handle_time_secs: Option<f64>,
    /// abandoned ÷ joined.
    pub abandonment: Option<f64>,
    /// Told against real waits.
    pub accuracy: EstimateAccuracy,
}

/// Whether a real wait fell within the tolerance around the wait told: ±max(2 min, 25 % of
/// the told wait), as `docs/estimates.md` scores the estimator.
pub fn within_tolerance(told: TimeDelta, waited: TimeDelta) -> bool {
    let tolerance = (told / 4).max(TimeDelta::minutes(2));
    (told - waited).abs() <= tolerance
}

fn ratio(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

fn mean_secs(values: &[TimeDelta]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let total: i64 = values.iter().map(TimeDelta::num_milliseconds).sum();
    Some(total as f64 / 1000.0 / values.len() as f64)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The figures over `tickets` (the day's: joined that day) as of `now`, with the
/// service-level `threshold`. Instants after `now` are not counted yet.
pub fn day_figures(
    tickets: &[TicketFacts],
    now: DateTime<Utc>,
    threshold: TimeDelta,
) -> DayFigures {
    let seen: Vec<&TicketFacts> = tickets.iter().filter(|t| t.joined_at <= now).collect();
    let answered: Vec<&TicketFacts> = seen
        .iter()
        .copied()
        .filter(|t| t.answered_at.is_some_and(|a| a <= now))
        .collect();
    let waits: Vec<TimeDelta> = answered.iter().filter_map(|t| t.waited()).collect();
    let within = waits.iter().filter(|w| **w <= threshold).count();
    let abandoned = seen
        .iter()
        .filter(|t| t.abandoned && t.answered_at.is_none() && t.ended_at.is_none_or(|e| e <= now))
        .count();
    let handled: Vec<TimeDelta> = answered
        .iter()
        .filter(|t| t.ended_at.is_some_and(|e| e <= now))
        .filter_map(|t| t.handled())
        .collect();
    DayFigures {
        joined: count(seen.len()),
        answered: count(answered.len()),
        answered_within_threshold: count(within),
        abandoned: count(abandoned),
        calls_finished: count(handled.len()),
        service_level: ratio(count(within), count(answered.len() + abandoned)),
        average_speed_of_answer_secs: mean_secs(&waits),
        average_handle_time_secs: mean_secs(&handled),
        abandonment: ratio(count(abandoned), count(seen.len())),
        accuracy: accuracy(&answered),
    }
}

fn accuracy(answered: &[&TicketFacts]) -> EstimateAccuracy {
    let pairs: Vec<(TimeDelta, TimeDelta)> = answered
        .iter()
        .filter_map(|t| Some((TimeDelta::seconds(t.told_estimate_secs?), t.waited()?)))
        .collect();
    if pairs.is_empty() {
        return EstimateAccuracy::default();
    }
    let errors: Vec<TimeDelta> = pairs.iter().map(|(told, waited)| *told - *waited).collect();
    let abs: Vec<TimeDelta> = errors.iter().map(|e| e.abs()).collect();
    let within = pairs
        .iter()
        .filter(|(told, waited)| within_tolerance(*told, *waited))
        .count();
    EstimateAccuracy {
        compared: count(pairs.len()),
        mean_abs_error_secs: mean_secs(&abs),
        bias_secs: mean_secs(&errors),
        within_share: ratio(count(within), count(pairs.len())),
    }
}

/// Counts the day's decisions by outcome and reason (a missing reason counts as `other`).
pub fn outcomes(decisions: &[DecisionFacts]) -> Outcomes {
    let mut o = Outcomes::default();
    for d in decisions {
        let reason = d.reason.clone().unwrap_or_else(|| "other".to_owned());
        match d.kind {
            DecisionKind::Approved => o.approved += 1,
            DecisionKind::Rejected => *o.rejected.entry(reason).or_default() += 1,
            DecisionKind::Aborted => *o.aborted.entry(reason).or_default() += 1,
        }
    }
    o
}
