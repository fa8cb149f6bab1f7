//! The day as time series for the charts: citizens waiting and agents in a given state,
//! sampled at evenly spaced instants, or exactly as steps at every change.

use chrono::{DateTime, TimeDelta, Utc};

use super::TicketFacts;

/// What an agent is doing, offline included (the estimator's [`crate::Activity`] leaves
/// offline agents out).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AgentPhase {
    /// Ready for the next citizen.
    Available,
    /// With a citizen (offered or in the call).
    InCall,
    /// Finishing the last call's paperwork.
    WrapUp,
    /// On a break.
    Break,
    /// Not working.
    Offline,
}

impl AgentPhase {
    /// From the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "available" => Self::Available,
            "in_call" => Self::InCall,
            "wrap_up" => Self::WrapUp,
            "break" => Self::Break,
            "offline" => Self::Offline,
            _ => return None,
        })
    }
}

/// One agent's states over the day: the state at its start and each change after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentTimeline {
    /// The state when the day's record begins.
    pub initial: AgentPhase,
    /// Changes, oldest first.
    pub changes: Vec<(DateTime<Utc>, AgentPhase)>,
}

/// One sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SeriesPoint {
    /// When.
    pub at: DateTime<Utc>,
    /// How many.
    pub value: u32,
}

/// The agent's state at `t`.
pub fn state_at(timeline: &AgentTimeline, t: DateTime<Utc>) -> AgentPhase {
    timeline
        .changes
        .iter()
        .take_while(|(at, _)| *at <= t)
        .last()
        .map_or(timeline.initial, |(_, s)| *s)
}

impl SeriesPoint {
    /// A count at `at`, saturating at `u32::MAX`.
    fn count(at: DateTime<Utc>, n: usize) -> Self {
        Self {
            at,
            value: u32::try_from(n).unwrap_or(u32::MAX),
        }
    }
}

/// `value` at `points` instants evenly spaced from `from` to `to` inclusive (one when they
/// meet).
fn sampled(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    points: u32,
    value: impl Fn(DateTime<Utc>) -> usize,
) -> Vec<SeriesPoint> {
    let instants: Vec<DateTime<Utc>> = if to <= from || points < 2 {
        vec![from]
    } else {
        let span = (to - from).num_milliseconds();
        (0..points)
            .map(|i| from + TimeDelta::milliseconds(span * i64::from(i) / i64::from(points - 1)))
            .collect()
    };
    instants
        .into_iter()
        .map(|at| SeriesPoint::count(at, value(at)))
        .collect()
}

/// Citizens in the queue at each instant: joined and not yet answered nor gone.
pub fn queue_series(
    tickets: &[TicketFacts],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    points: u32,
) -> Vec<SeriesPoint> {
    sampled(from, to, points, |at| {
        tickets
            .iter()
            .filter(|t| {
                t.joined_at <= at && t.answered_at.or(t.ended_at).is_none_or(|out| at < out)
            })
            .count()
    })
}

/// Agents in `phase` at each instant.
pub fn agents_in_state_series(
    agents: &[AgentTimeline],
    phase: AgentPhase,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    points: u32,
) -> Vec<SeriesPoint> {
    sampled(from, to, points, |at| {
        agents.iter().filter(|a| state_at(a, at) == phase).count()
    })
}

/// The value at `from`, at every change in `(from, to]` and at `to`: a step series that
/// misses no change, however brief.
fn steps(
    changes: impl Iterator<Item = DateTime<Utc>>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    value: impl Fn(DateTime<Utc>) -> usize,
) -> Vec<SeriesPoint> {
    let mut times: Vec<DateTime<Utc>> = changes.filter(|t| from < *t && *t <= to).collect();
    times.push(from);
    times.push(to.max(from));
    times.sort();
    times.dedup();
    times
        .into_iter()
        .map(|at| SeriesPoint::count(at, value(at)))
        .collect()
}

/// Citizens in the queue as exact steps: joined and not yet answered nor gone.
pub fn queue_steps(
    tickets: &[TicketFacts],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<SeriesPoint> {
    let changes = tickets
        .iter()
        .flat_map(|t| std::iter::once(t.joined_at).chain(t.answered_at.or(t.ended_at)));
    steps(changes, from, to, |at| {
        tickets
            .iter()
            .filter(|t| {
                t.joined_at <= at && t.answered_at.or(t.ended_at).is_none_or(|out| at < out)
            })
            .count()
    })
}

/// Agents in `phase` as exact steps.
pub fn agents_in_state_steps(
    agents: &[AgentTimeline],
    phase: AgentPhase,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<SeriesPoint> {
    let changes = agents
        .iter()
        .flat_map(|a| a.changes.iter().map(|(at, _)| *at));
    steps(changes, from, to, |at| {
        agents.iter().filter(|a| state_at(a, at) == phase).count()
    })
}
