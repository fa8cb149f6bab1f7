//! One simulated day, event by event: arrivals, agents' shifts, breaks and calls, wrap-up,
//! requeues and citizens giving up. Times are seconds from opening. Agents keep their pace
//! and history from day to day, as people do.

use std::collections::VecDeque;

use rand::Rng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, Exp, LogNormal, Uniform};

use scheduler::{Standing, service_key};

use super::appointments;
use super::predict::{self, Told};
use super::{Kind, Scenario};

/// How many of their own recent calls each agent's history keeps.
const OWN_HISTORY: usize = 50;
/// How many recent citizens the range's calibration learns from, and after how many new
/// ones it learns again (the live queue's: `signaling::queue_view`).
const TOLD_HISTORY: usize = 2000;
const RELEARN_EVERY: usize = 50;
const MINUTE: f64 = 60.0;
const HOUR: f64 = 3600.0;

/// A citizen of the day.
#[derive(Debug, Clone)]
pub struct Citizen {
    /// When they joined.
    pub arrived: f64,
    /// When they last entered the queue (joined, or were requeued).
    pub queued_at: f64,
    /// When they give up if not taken by then.
    pub deadline: f64,
    /// Put back at the head by an agent.
    pub requeued: bool,
    /// The slot of the appointment they came in time for (served from then ahead of
    /// walk-ins).
    pub appointment: Option<f64>,
    /// What each predictor told them at joining.
    pub told: Told,
    /// When an agent first took them.
    pub started: Option<f64>,
    /// Whether they gave up.
    pub left: bool,
    /// Joined after the warm-up: scored.
    pub scored: bool,
}

/// What an agent is doing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AgentState {
    /// Not started yet.
    Off,
    /// Ready for the next citizen.
    Idle,
    /// With a citizen until `until`; `aborts`: the call ends in a requeue.
    Busy {
        citizen: usize,
        until: f64,
        aborts: bool,
    },
    /// Wrap-up until `until`.
    Wrap { until: f64 },
    /// On a break until `until`.
    Break { until: f64 },
    /// Gone for the day.
    Gone,
}

/// An agent.
#[derive(Debug, Clone)]
pub struct Agent {
    /// What they are doing.
    pub state: AgentState,
    /// Since when.
    pub since: f64,
    /// Their own recent handle times, oldest first.
    pub own: VecDeque<f64>,
    pace: f64,
    start: f64,
    end: f64,
    break_at: f64,
    break_len: f64,
    took_break: bool,
}

enum HandleDist {
    Exp(Exp<f64>),
    LogNormal(LogNormal<f64>),
}

/// The whole simulated service, as the predictors may look at it.
pub struct World {
    /// Today's citizens.
    pub citizens: Vec<Citizen>,
    /// Waiting citizens in service order.
    pub queue: VecDeque<usize>,
    /// The agents.
    pub agents: Vec<Agent>,
    /// Everyone's recent handle times, oldest first.
    pub history: VecDeque<f64>,
    /// Mean handle time of the scenario (the default before any history).
    pub mean_handle: f64,
    /// Mean wrap-up.
    pub wrap_mean: f64,
    /// Mean break, when agents take breaks.
    pub break_mean: Option<f64>,
    /// Citizens who gave up, all days so far.
    pub abandoned: u32,
    /// Time waited by citizens no longer waiting, all days so far.
    pub exposure: f64,
    /// Closing (infinite for M/M/s).
    pub close: f64,
    /// The wait of the last citizen an agent took.
    pub last_entered_wait: f64,
    /// The sum of `history`.
    pub history_sum: f64,
    /// The range's recalibration, learnt from `told`.
    pub calibration: scheduler::Calibration,
    /// Recent citizens taken by an agent, with what videoreg told them (raw).
    told: VecDeque<scheduler::ToldWait>,
    /// Taken since the calibration last learnt.
    unlearnt: usize,
    /// Today's bookings (the appointments day).
    pub booked: Vec<appointments::Booked>,
    history_len: usize,
    handle: HandleDist,
}

impl World {
    /// Agents with their pace and a previous day's worth of history (drawn from `past`, so
    /// that the days themselves do not depend on how much history is kept).
    pub fn new(s: &Scenario, rng: &mut SmallRng, past: &mut SmallRng) -> Self {
        let mean = s.mean_handle_minutes * MINUTE;
        let handle = match s.kind {
            Kind::Mmc => HandleDist::Exp(Exp::new(1.0 / mean).expect("positive rate")),
            Kind::Burst | Kind::Appointments => {
                // Coefficient of variation 0.6.
                let sigma2 = (1.0f64 + 0.36).ln();
                let mu = mean.ln() - sigma2 / 2.0;
                HandleDist::LogNormal(LogNormal::new(mu, sigma2.sqrt()).expect("valid"))
            }
        };
        let pace = LogNormal::new(0.0, 0.2).expect("valid");
        let mut world = Self {
            citizens: Vec::new(),
            queue: VecDeque::new(),
            agents: Vec::new(),
            history: VecDeque::new(),
            mean_handle: mean,
            wrap_mean: if s.kind.is_day() { 30.0 } else { 0.0 },
            break_mean: s.kind.is_day().then_some(15.0 * MINUTE),
            abandoned: 0,
            exposure: 0.0,
            close: if s.kind.is_day() {
                5.0 * HOUR
            } else {
                f64::INFINITY
            },
            last_entered_wait: 0.0,
            history_sum: 0.0,
            calibration: scheduler::Calibration::default(),
            told: VecDeque::new(),
            unlearnt: 0,
            booked: Vec::new(),
            history_len: s.history.max(1),
            handle,
        };
        for _ in 0..s.agents {
            let p = if s.kind.is_day() {
                pace.sample(rng)
            } else {
                1.0
            };
            let own = (0..OWN_HISTORY).map(|_| p * world.draw(past)).collect();
            world.agents.push(Agent {
                state: AgentState::Off,
                since: 0.0,
                own,
                pace: p,
                start: 0.0,
                end: f64::INFINITY,
                break_at: f64::INFINITY,
                break_len: 0.0,
                took_break: true,
            });
        }
        for i in 0..world.history_len {
            let p = world
                .agents
                .get(i % world.agents.len().max(1))
                .map_or(1.0, |a| a.pace);
            let x = p * world.draw(past);
            world.history.push_back(x);
            world.history_sum += x;
        }
        world
    }

    /// Today's closing, in seconds from opening.
    pub fn closes(&self, _s: &Scenario) -> f64 {
        self.close
    }

    fn draw(&self, rng: &mut SmallRng) -> f64 {
        match &self.handle {
            HandleDist::Exp(d) => d.sample(rng),
            HandleDist::LogNormal(d) => d.sample(rng),
        }
    }

    /// Plans the day's shifts and breaks and the arrivals, then replays the day.
    pub fn run_day(&mut self, s: &Scenario, rng: &mut SmallRng) -> Vec<Citizen> {
        self.citizens.clear();
        self.queue.clear();
        self.plan_agents(s, rng);
        let arrivals = self.arrivals(s, rng);
        let horizon = match s.kind {
            Kind::Mmc => s.hours * HOUR,
            Kind::Burst | Kind::Appointments => f64::INFINITY,
        };
        let warmup = match s.kind {
            Kind::Mmc => s.warmup_hours * HOUR,
            Kind::Burst | Kind::Appointments => 0.0,
        };
        let patience = LogNormal::new((30.0 * MINUTE).ln(), 0.8).expect("valid");
        let mut next = 0;
        loop {
            let (t_arrival, slot) = arrivals.get(next).copied().unwrap_or((f64::INFINITY, None));
            let (t_agent, agent) = self
                .agents
                .iter()
                .enumerate()
                .map(|(i, a)| (next_change(a), i))
                .fold((f64::INFINITY, 0), |m, x| if x.0 < m.0 { x } else { m });
            let (t_leave, position) = self
                .queue
                .iter()
                .enumerate()
                .map(|(i, &c)| (self.citizens[c].deadline, i))
                .fold((f64::INFINITY, 0), |m, x| if x.0 < m.0 { x } else { m });
            let t = t_arrival.min(t_agent).min(t_leave);
            if !t.is_finite() || t > horizon {
                break;
            }
            if t_arrival <= t_agent && t_arrival <= t_leave {
                next += 1;
                let told = predict::tell(self, t, s.videoreg, slot);
                let deadline = match s.kind {
                    Kind::Mmc => f64::INFINITY,
                    Kind::Burst | Kind::Appointments => t + patience.sample(rng),
                };
                self.citizens.push(Citizen {
                    arrived: t,
                    queued_at: t,
                    deadline,
                    requeued: false,
                    appointment: slot,
                    told,
                    started: None,
                    left: false,
                    scored: t >= warmup,
                });
                self.queue.push_back(self.citizens.len() - 1);
            } else if t_agent <= t_leave {
                self.agent_event(agent, t, rng);
            } else if let Some(c) = self.queue.remove(position) {
                let citizen = &mut self.citizens[c];
                citizen.left = true;
                self.abandoned += 1;
                self.exposure += t - citizen.queued_at;
            }
            self.sweep(t);
            self.dispatch(s, t, rng);
        }
        std::mem::take(&mut self.citizens)
    }

    fn plan_agents(&mut self, s: &Scenario, rng: &mut SmallRng) {
        let n = self.agents.len();
        let early = (n * 7).div_ceil(10);
        let leaving = (n / 5).max(1);
        for (i, a) in self.agents.iter_mut().enumerate() {
            a.state = AgentState::Off;
            a.since = 0.0;
            if s.kind == Kind::Mmc {
                (a.start, a.end, a.break_at, a.took_break) = (0.0, f64::INFINITY, 0.0, true);
                continue;
            }
            a.start = if i < early {
                0.0
            } else {
                30.0 * MINUTE * (1 + (i - early) % 2) as f64
            };
            a.end = if i < leaving {
                3.5 * HOUR + rng.random_range(0.0..30.0 * MINUTE)
            } else {
                self.close
            };
            let latest = a.end.min(self.close) - 45.0 * MINUTE;
            a.break_at = rng.random_range(a.start + HOUR..latest.max(a.start + HOUR + 1.0));
            a.break_len = rng.random_range(10.0 * MINUTE..20.0 * MINUTE);
            a.took_break = false;
        }
    }

    /// The day's arrivals in time order, each with the slot of the appointment it keeps
    /// (`None`: a walk-in, or a booked citizen past the grace); the bookings go to `booked`.
    fn arrivals(&mut self, s: &Scenario, rng: &mut SmallRng) -> Vec<(f64, Option<f64>)> {
        let agents = f64::from(s.agents);
        let cycle = self.mean_handle + self.wrap_mean;
        // The appointments day's walk-ins are half the burst day's citizens.
        let walk_in_share = if s.kind == Kind::Appointments {
            0.5
        } else {
            1.0
        };
        let (base, burst, tau, end) = match s.kind {
            Kind::Mmc => (s.rho * agents / cycle, 0.0, 1.0, s.hours * HOUR),
            // 85 % of the full team's capacity all day, plus six citizens per agent expected
            // in a burst at opening that fades over a quarter of an hour.
            Kind::Burst | Kind::Appointments => {
                let tau = 15.0 * MINUTE;
                (
                    walk_in_share * 0.85 * agents / cycle,
                    walk_in_share * 6.0 * agents / tau,
                    tau,
                    self.close,
                )
            }
        };
        self.booked = match s.kind {
            Kind::Appointments => {
                // As many booked as walk-ins expected; a slot takes half of what the agents
                // can serve in it (`--booking-share` 50 %).
                let n = (base * end + burst * tau).round() as usize;
                let per_slot = (agents * appointments::SLOT / cycle * 0.5).floor() as usize;
                appointments::plan(n, per_slot.max(1), end, rng)
            }
            _ => Vec::new(),
        };
        let peak = base + burst;
        let gap = Exp::new(peak).expect("positive rate");
        let accept = Uniform::new(0.0, peak).expect("valid");
        let mut t = 0.0;
        let mut out: Vec<(f64, Option<f64>)> = self
            .booked
            .iter()
            .filter_map(|b| {
                let comes = b.comes?;
                Some((
                    comes,
                    (comes <= b.slot + appointments::GRACE).then_some(b.slot),
                ))
            })
            .collect();
        loop {
            t += gap.sample(rng);
            if t >= end {
                break;
            }
            if accept.sample(rng) < base + burst * (-t / tau).exp() {
                out.push((t, None));
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    /// The slots of booked citizens who have not come in at `t` and may still come (the
    /// live queue's live bookings from the grace before now).
    pub fn booked_to_come(&self, t: f64) -> Vec<f64> {
        self.booked
            .iter()
            .filter(|b| b.comes.is_none_or(|c| c > t) && b.slot + appointments::GRACE >= t)
            .map(|b| b.slot)
            .collect()
    }

    /// Takes the next citizen in the service order (`scheduler::queue::service_key`).
    fn next_in_order(&mut self, t: f64) -> Option<usize> {
        let now = predict::instant(t);
        let key = |c: usize| {
            let citizen = &self.citizens[c];
            let standing = match (citizen.requeued, citizen.appointment) {
                (true, _) => Standing::Requeued,
                (false, Some(slot)) => Standing::Appointment {
                    at: predict::instant(slot),
                },
                (false, None) => Standing::WalkIn,
            };
            service_key(standing, c as i64, now)
        };
        let position = (0..self.queue.len()).min_by_key(|&i| key(self.queue[i]))?;
        self.queue.remove(position)
    }

    fn agent_event(&mut self, i: usize, t: f64, rng: &mut SmallRng) {
        let wrap = if self.wrap_mean > 0.0 {
            rng.random_range(0.5 * self.wrap_mean..1.5 * self.wrap_mean)
        } else {
            0.0
        };
        let after_call = if wrap > 0.0 {
            AgentState::Wrap { until: t + wrap }
        } else {
            AgentState::Idle
        };
        let a = &mut self.agents[i];
        a.state = match a.state {
            AgentState::Busy {
                citizen, aborts, ..
            } => {
                if aborts {
                    let c = &mut self.citizens[citizen];
                    c.requeued = true;
                    c.queued_at = t;
                    let at = self
                        .queue
                        .iter()
                        .take_while(|&&q| self.citizens[q].requeued)
                        .count();
                    self.queue.insert(at, citizen);
                } else {
                    let handle = t - a.since;
                    push_capped(&mut a.own, handle, OWN_HISTORY);
                    self.history_sum += handle;
                    if self.history.len() == self.history_len {
                        self.history_sum -= self.history.front().copied().unwrap_or(0.0);
                    }
                    push_capped(&mut self.history, handle, self.history_len);
                }
                after_call
            }
            AgentState::Off | AgentState::Wrap { .. } | AgentState::Break { .. } => {
                AgentState::Idle
            }
            // An idle agent's next change is a break or going home: `sweep` does both.
            other => other,
        };
        a.since = t;
    }

    /// Idle agents whose break is due take it; idle agents past their shift go home (those
    /// on until closing stay while anyone admitted still waits).
    fn sweep(&mut self, t: f64) {
        let empty = self.queue.is_empty();
        for a in &mut self.agents {
            if a.state != AgentState::Idle {
                continue;
            }
            if !a.took_break && a.break_at <= t {
                a.took_break = true;
                a.state = AgentState::Break {
                    until: t + a.break_len,
                };
                a.since = t;
            } else if a.end <= t && (a.end < self.close || empty) {
                a.state = AgentState::Gone;
                a.since = t;
            }
        }
    }

    /// Idle agents take the head of the queue, longest idle first.
    fn dispatch(&mut self, s: &Scenario, t: f64, rng: &mut SmallRng) {
        let requeue = if s.kind.is_day() { 0.03 } else { 0.0 };
        while !self.queue.is_empty() {
            let Some(i) = self
                .agents
                .iter()
                .enumerate()
                .filter(|(_, a)| a.state == AgentState::Idle)
                .min_by(|x, y| x.1.since.total_cmp(&y.1.since))
                .map(|(i, _)| i)
            else {
                return;
            };
            let Some(c) = self.next_in_order(t) else {
                return;
            };
            let citizen = &mut self.citizens[c];
            let waited = t - citizen.queued_at;
            self.exposure += waited;
            self.last_entered_wait = waited;
            if citizen.started.is_none() {
                citizen.started = Some(t);
                // As scored (and as the live queue learns): citizens who waited.
                let waited = t - citizen.arrived;
                if let (Some(point), Some(range), true) =
                    (citizen.told.point[0], citizen.told.range, waited > 0.0)
                {
                    let told =
                        predict::told_wait(citizen.arrived, point, range, t - citizen.arrived);
                    push_capped(&mut self.told, told, TOLD_HISTORY);
                    self.unlearnt += 1;
                    if self.unlearnt >= RELEARN_EVERY {
                        self.unlearnt = 0;
                        let recent: Vec<scheduler::ToldWait> = self.told.iter().copied().collect();
                        self.calibration = scheduler::Calibration::learn(&recent);
                    }
                }
            }
            let handle = self.agents[i].pace * self.draw(rng);
            let aborts = rng.random_bool(requeue);
            let until = if aborts {
                t + handle * rng.random_range(0.1..0.6)
            } else {
                t + handle
            };
            let a = &mut self.agents[i];
            a.state = AgentState::Busy {
                citizen: c,
                until,
                aborts,
            };
            a.since = t;
        }
    }
}

fn next_change(a: &Agent) -> f64 {
    match a.state {
        AgentState::Off => a.start,
        AgentState::Busy { until, .. }
        | AgentState::Wrap { until }
        | AgentState::Break { until } => until,
        AgentState::Idle if !a.took_break => a.break_at.min(a.end),
        AgentState::Idle => a.end,
        AgentState::Gone => f64::INFINITY,
    }
}

fn push_capped<T>(v: &mut VecDeque<T>, x: T, cap: usize) {
    v.push_back(x);
    while v.len() > cap {
        v.pop_front();
    }
}
