//! Wait estimation: how long each waiting citizen, and someone joining now, will probably wait
//! before an agent takes them. The estimate is a pure function of a [`QueueSnapshot`] (the
//! queue, the agents and what they are doing, recent handle times, observed abandonment and
//! closing time, all as of `now`): it replays the next part of the day a few hundred times
//! from that snapshot. Calls in progress end after the rest of a recent call that lasted
//! longer (the residual handle time, Ibrahim & Whitt), each agent at their own pace; agents
//! in wrap-up or on a break come back when it usually ends; the citizens ahead may give up
//! at the observed abandonment rate. Each agent who becomes free takes the next citizen in
//! the service order of `crate::queue::service_key` at that moment: requeued citizens, then
//! appointments whose time has come (including booked ones not in the queue yet, who come at
//! their slot), then walk-ins, then appointments not yet due. The mean start time is the
//! point estimate (with exponential handle times and every agent busy it is the classic
//! queue-length estimate `(n + 1) / (s · μ)`), and the 20th–80th percentiles are the range.

mod calibration;
mod model;
#[cfg(test)]
mod tests;

use chrono::{DateTime, TimeDelta, Utc};

pub use calibration::{Calibration, Told as ToldWait};
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
    /// Came in time for an appointment at this slot: served from then ahead of walk-ins.
    pub appointment: Option<DateTime<Utc>>,
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
    /// The slots of live bookings whose citizens have not come in yet, from now until
    /// closing: each is expected at its slot and served ahead of walk-ins from then on.
    /// Capacity kept for appointments but not booked is not here: it takes nobody's place.
    pub booked: Vec<DateTime<Utc>>,
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
    // `starts` holds REPLICATIONS samples per waiting citizen (in the snapshot's order), the
    // newcomer last.
    let mut all: Vec<Estimate> = starts.chunks_mut(REPLICATIONS).map(estimate).collect();
    let newcomer = all.pop();
    QueueEstimate {
        waiting: all.into_iter().map(Some).collect(),
        newcomer,
    }
}

/// The order the replay serves in, by tier (`crate::queue::service_key`'s): requeued and
/// walk-ins each in arrival order, appointments (waiting or only booked) by slot.
struct Order {
    /// Indices into the starts (waiting citizens, then the newcomer).
    requeued: Vec<usize>,
    walk_ins: Vec<usize>,
    /// `(slot in seconds from now, index or None for a booked citizen not here yet)`, by
    /// slot then arrival (a booked citizen arrives after everyone waiting).
    appointments: Vec<(f64, Option<usize>)>,
}

impl Order {
    fn new(snapshot: &QueueSnapshot) -> Self {
        let (mut requeued, mut walk_ins, mut appointments) = (Vec::new(), Vec::new(), Vec::new());
        for (i, w) in snapshot.waiting.iter().enumerate() {
            match (w.requeued, w.appointment) {
                (true, _) => requeued.push(i),
                (false, Some(at)) => appointments.push((secs(at - snapshot.now), Some(i))),
                (false, None) => walk_ins.push(i),
            }
        }
        // Waiting citizens are in arrival order already; the newcomer walks in last.
        walk_ins.push(snapshot.waiting.len());
        appointments.extend(
            snapshot
                .booked
                .iter()
                .map(|at| (secs(*at - snapshot.now), None)),
        );
        // Stable: equal slots keep arrival order, booked ones after those waiting.
        appointments.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self {
            requeued,
            walk_ins,
            appointments,
        }
    }
}

/// Where one replay is in the [`Order`].
struct Cursor {
    requeued: usize,
    walk_ins: usize,
    served: Vec<bool>,
}

impl Cursor {
    /// Who an agent free at `t` seconds from now takes: `Some(Some(index))`, `Some(None)`
    /// for a booked citizen (their start is not recorded), `None` when nobody is there.
    fn next(&mut self, order: &Order, t: f64) -> Option<Option<usize>> {
        if let Some(&i) = order.requeued.get(self.requeued) {
            self.requeued += 1;
            return Some(Some(i));
        }
        let first = self.served.iter().position(|s| !s);
        if let Some(k) = first
            && order.appointments[k].0 <= t
        {
            self.served[k] = true;
            return Some(order.appointments[k].1);
        }
        if let Some(&i) = order.walk_ins.get(self.walk_ins) {
            self.walk_ins += 1;
            return Some(Some(i));
        }
        // Early: the first appointment already waiting, when nobody else is.
        let k = (0..order.appointments.len())
            .find(|&k| !self.served[k] && order.appointments[k].1.is_some())?;
        self.served[k] = true;
        Some(order.appointments[k].1)
    }
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

/// Replays the queue: the start times (seconds from now) of every waiting citizen and of a
/// newcomer, `REPLICATIONS` each, citizen-major (the snapshot's order, the newcomer last).
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
    let people = snapshot.waiting.len() + 1;
    let mut starts = vec![0.0; people * REPLICATIONS];
    if servers.is_empty() {
        return starts;
    }
    let order = Order::new(snapshot);
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
        let mut cursor = Cursor {
            requeued: 0,
            walk_ins: 0,
            served: vec![false; order.appointments.len()],
        };
        let mut left = people;
        while left > 0 {
            let (agent, at) = free
                .iter()
                .copied()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((0, 0.0));
            // Everyone waiting is always there to take, so nobody left means all are served.
            let Some(taken) = cursor.next(&order, at) else {
                break;
            };
            if let Some(i) = taken {
                starts[i * REPLICATIONS + rep] = at;
                left -= 1;
                if left == 0 {
                    break;
                }
            }
            // The citizen may have given up before an agent got to them; then the agent
            // takes the next one (patience is memoryless: from now on).
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
