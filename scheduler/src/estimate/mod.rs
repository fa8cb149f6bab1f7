//! Wait estimation: how long each waiting citizen, and someone joining now, will probably wait
//! before an agent takes them. The estimate is a pure function of a [`QueueSnapshot`] (the
//! queue, the agents and what they are doing, recent handle times, observed abandonment and
//! closing time, all as of `now`): it replays the next part of the day a few hundred times
//! from that snapshot. Calls in progress end after the rest of a recent call that lasted
//! longer (the residual handle time, Ibrahim & Whitt), each agent at their own pace; agents
//! in wrap-up or on a break come back when it usually ends; the citizens ahead may give up
//! at the observed abandonment rate; requeued citizens go first. The mean start time is the
//! point estimate (with exponential handle times and every agent busy it is the classic
//! queue-length estimate `(n + 1) / (s · μ)`), and the 20th–80th percentiles are the range.

mod model;
#[cfg(test)]
mod tests;

use chrono::{DateTime, TimeDelta, Utc};

use model::{HandleModel, Rng};

/// How many times the rest of the day is replayed per estimate.
pub const REPLICATIONS: usize = 256;
/// The range's lower and upper quantiles.
const RANGE: (f64, f64) = (0.2, 0.8);
/// Fixed, so that the same snapshot always gives the same estimate.
const SEED: u64 = 0x05EE_D0FC_1A7E;

/// A citizen waiting in the queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitingCitizen {
    /// How long they have waited so far.
    pub waited: TimeDelta,
    /// Put back by an agent (abort for quality, agent lost): served before everyone else.
    pub requeued: bool,
}

/// What an agent is doing (offline agents are left out of the snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Ready for the next citizen.
    Available,
    /// With a citizen.
    InCall,
    /// Finishing the last call's paperwork.
    WrapUp,
    /// On a break.
    Break,
}

/// One agent as the estimate sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSnapshot {
    /// What they are doing.
    pub activity: Activity,
    /// Since when.
    pub since: DateTime<Utc>,
    /// Their own recent handle times (any order); empty when unknown.
    pub recent_handle_times: Vec<TimeDelta>,
}

/// Citizens who gave up waiting, and the total time citizens spent waiting, over some recent
/// period: their ratio is the abandonment rate (exponential patience, maximum likelihood).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Abandonment {
    /// Citizens who left the queue before an agent took them.
    pub left: u32,
    /// Time waited by everyone in the period, including those still waiting.
    pub exposure: TimeDelta,
}

impl Abandonment {
    /// Citizens leaving per second of waiting (0 without data).
    pub fn rate_per_sec(&self) -> f64 {
        let secs = self.exposure.num_milliseconds() as f64 / 1000.0;
        if self.left == 0 || secs <= 0.0 {
            0.0
        } else {
            f64::from(self.left) / secs
        }
    }
}

/// Everything an estimate is made from, as of `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSnapshot {
    /// The instant of the snapshot.
    pub now: DateTime<Utc>,
    /// The waiting citizens in stored service order (requeued ones are moved to the head).
    pub waiting: Vec<WaitingCitizen>,
    /// Agents not offline.
    pub agents: Vec<AgentSnapshot>,
    /// Everyone's recent handle times.
    pub recent_handle_times: Vec<TimeDelta>,
    /// The handle time assumed before any call has been measured.
    pub default_handle_time: TimeDelta,
    /// The usual wrap-up after a call.
    pub wrap_up: TimeDelta,
    /// How long a break usually lasts; `None`: agents on a break are not counted on.
    pub expected_break: Option<TimeDelta>,
    /// Recent abandonment.
    pub abandonment: Abandonment,
    /// Today's closing time, if open.
    pub closes: Option<DateTime<Utc>>,
}

/// One citizen's expected wait (from `now`) with its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// The expected wait (mean): the number to plan with.
    pub point: TimeDelta,
    /// A short wait: four in five citizens wait longer.
    pub low: TimeDelta,
    /// A long wait: four in five citizens wait less.
    pub high: TimeDelta,
    /// The expected start of service is at or after closing.
    pub ends_after_closing: bool,
    /// The long end of the range is at or after closing.
    pub may_end_after_closing: bool,
}

impl Estimate {
    /// Whether the range is too wide to tell a single number honestly: wider than the
    /// tolerance a citizen would accept around the point (±max(2 min, 25 %)).
    pub fn is_uncertain(&self) -> bool {
        let tolerance = (self.point / 4).max(TimeDelta::minutes(2));
        self.high - self.low > tolerance * 2
    }
}

/// The estimates for a whole queue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueEstimate {
    /// One per waiting citizen, in the snapshot's order (`None` when no agent is working).
    pub waiting: Vec<Option<Estimate>>,
    /// For someone joining now, behind everyone (`None` when no agent is working).
    pub newcomer: Option<Estimate>,
}

/// Estimates the wait of every waiting citizen and of a newcomer. Nobody gets an estimate
/// while no agent is available, in a call or in wrap-up (the wait cannot be told).
pub fn estimate_wait(snapshot: &QueueSnapshot) -> QueueEstimate {
    let working = snapshot
        .agents
        .iter()
        .any(|a| a.activity != Activity::Break);
    if !working {
        return QueueEstimate {
            waiting: vec![None; snapshot.waiting.len()],
            newcomer: None,
        };
    }
    let mut starts = replay(snapshot);
    let estimate = |samples: &mut [f64]| summarise(snapshot, samples);
    // `starts` holds REPLICATIONS samples per service position, the newcomer last.
    let mut by_position: Vec<Estimate> = starts.chunks_mut(REPLICATIONS).map(estimate).collect();
    let newcomer = by_position.pop();
    let mut waiting = vec![None; snapshot.waiting.len()];
    for (position, &index) in service_order(&snapshot.waiting).iter().enumerate() {
        waiting[index] = by_position.get(position).copied();
    }
    QueueEstimate { waiting, newcomer }
}

/// Indices of the waiting citizens in service order: requeued first, then as stored.
fn service_order(waiting: &[WaitingCitizen]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..waiting.len()).collect();
    order.sort_by_key(|&i| !waiting[i].requeued);
    order
}

fn secs(d: TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

fn delta(secs: f64) -> TimeDelta {
    TimeDelta::milliseconds((secs * 1000.0).round() as i64)
}

/// One agent's part in a replay.
struct Server {
    /// Relative pace (1 = everyone's average).
    pace: f64,
    /// What they are doing now.
    activity: Activity,
    /// For how long, in seconds.
    elapsed: f64,
}

/// Replays the queue: the start times (seconds from now) of every service position and of a
/// newcomer, `REPLICATIONS` per position, position-major.
fn replay(snapshot: &QueueSnapshot) -> Vec<f64> {
    let pooled: Vec<f64> = snapshot
        .recent_handle_times
        .iter()
        .map(|d| secs(*d))
        .collect();
    let handle = HandleModel::new(&pooled, secs(snapshot.default_handle_time));
    let wrap = secs(snapshot.wrap_up).max(0.0);
    let servers: Vec<Server> = snapshot
        .agents
        .iter()
        .filter(|a| a.activity != Activity::Break || snapshot.expected_break.is_some())
        .map(|a| {
            let own: Vec<f64> = a.recent_handle_times.iter().map(|d| secs(*d)).collect();
            Server {
                pace: handle.pace(&own),
                activity: a.activity,
                elapsed: secs(snapshot.now - a.since).max(0.0),
            }
        })
        .collect();
    let brk = snapshot.expected_break.map_or(0.0, secs);
    let theta = snapshot.abandonment.rate_per_sec();
    let ahead = snapshot.waiting.len();
    let positions = ahead + 1;
    let mut starts = vec![0.0; positions * REPLICATIONS];
    let mut rng = Rng::new(SEED);
    let mut free = vec![0.0f64; servers.len()];
    for rep in 0..REPLICATIONS {
        for (f, s) in free.iter_mut().zip(&servers) {
            *f = match s.activity {
                Activity::Available => 0.0,
                Activity::InCall => handle.remaining(s.elapsed, s.pace, &mut rng) + wrap,
                Activity::WrapUp => (wrap - s.elapsed).max(0.0),
                Activity::Break => (brk - s.elapsed).max(brk * 0.1),
            };
        }
        for position in 0..positions {
            let (agent, at) = free
                .iter()
                .copied()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((0, 0.0));
            starts[position * REPLICATIONS + rep] = at;
            if position == ahead || servers.is_empty() {
                break;
            }
            // The citizen at this position may have given up before an agent got to them;
            // then the agent takes the next one (patience is memoryless: from now on).
            let gives_up = theta > 0.0 && rng.exponential(1.0 / theta) < at;
            if !gives_up {
                free[agent] = at + handle.draw(servers[agent].pace, &mut rng) + wrap;
            }
        }
    }
    starts
}

/// Mean and range of one position's start times.
fn summarise(snapshot: &QueueSnapshot, samples: &mut [f64]) -> Estimate {
    let n = samples.len().max(1);
    let mean = samples.iter().sum::<f64>() / n as f64;
    let mut quantile = |q: f64| {
        if samples.is_empty() {
            return 0.0;
        }
        let k = ((samples.len() - 1) as f64 * q).round() as usize;
        *samples.select_nth_unstable_by(k, f64::total_cmp).1
    };
    let (low, high) = (quantile(RANGE.0), quantile(RANGE.1));
    let (point, low, high) = (delta(mean), delta(low.min(mean)), delta(high.max(mean)));
    let after = |d: TimeDelta| snapshot.closes.is_some_and(|c| snapshot.now + d >= c);
    Estimate {
        point,
        low,
        high,
        ends_after_closing: after(point),
        may_end_after_closing: after(high),
    }
}
