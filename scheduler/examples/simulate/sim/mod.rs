//! The queue simulator: replays service days (arrivals, agents joining, leaving and taking
//! breaks, calls, wrap-up, requeues, citizens giving up, closing) and, at every citizen's
//! arrival, asks three predictors what they would have told: videoreg's estimator (the real
//! `scheduler::estimate_wait`), the queue-length estimate QL and the head-of-line delay HOL.
//! At the end it scores each against the waits that really happened. Shared by the
//! `simulate` example and the `simulation` integration test.

mod appointments;
mod day;
mod predict;
mod score;

use rand::SeedableRng;
use rand::rngs::SmallRng;

pub use predict::Predictor;
pub use score::Report;

/// Which kind of day is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Stationary M/M/s: Poisson arrivals at load `rho`, exponential handle times, `agents`
    /// agents always working, no wrap-up, breaks, abandonment or closing.
    Mmc,
    /// A service day, 09:00–14:00: a burst of arrivals at opening, lognormal handle times
    /// with agents of different pace, wrap-up, agents joining late, leaving early and taking
    /// breaks, requeues, citizens giving up, and the 14:00 close (agents serve everyone
    /// admitted).
    Burst,
    /// The burst day's service with half of its citizens booked (`appointments`): served at
    /// their slots ahead of walk-ins, some early, some late, some not at all.
    Appointments,
}

impl Kind {
    /// A service day (09:00–14:00 with shifts, breaks, requeues and closing), not M/M/s.
    pub fn is_day(self) -> bool {
        self != Self::Mmc
    }
}

/// What to simulate.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The kind of day.
    pub kind: Kind,
    /// Seed of the random numbers: the same seed gives the same days.
    pub seed: u64,
    /// How many days.
    pub days: u32,
    /// Agents (`s`).
    pub agents: u32,
    /// Load for M/M/s (arrival rate ÷ service capacity).
    pub rho: f64,
    /// Mean handle time, in minutes.
    pub mean_handle_minutes: f64,
    /// How many recent handle times the predictors see.
    pub history: usize,
    /// M/M/s: the length of one run, in hours.
    pub hours: f64,
    /// M/M/s: the first hours of each run, not scored (the queue starts empty).
    pub warmup_hours: f64,
    /// Whether videoreg's estimator is asked (the costly one; off to check the classic
    /// predictors over many more days).
    pub videoreg: bool,
}

impl Scenario {
    /// The defaults for a kind of day.
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            seed: 1,
            days: match kind {
                Kind::Mmc => 20,
                Kind::Burst | Kind::Appointments => 40,
            },
            agents: 10,
            rho: 0.9,
            mean_handle_minutes: 6.0,
            // In a stationary queue every past call tells the same story: two days' worth,
            // so that QL is the optimal predictor the theory assumes (known μ).
            history: match kind {
                Kind::Mmc => 2000,
                Kind::Burst | Kind::Appointments => 500,
            },
            hours: 24.0,
            warmup_hours: 4.0,
            videoreg: true,
        }
    }
}

/// Runs the scenario and scores the predictors.
pub fn run(scenario: &Scenario) -> Report {
    let mut rng = SmallRng::seed_from_u64(scenario.seed);
    let mut past = SmallRng::seed_from_u64(scenario.seed ^ 0x9A57);
    let mut world = day::World::new(scenario, &mut rng, &mut past);
    let mut report = Report::default();
    for _ in 0..scenario.days {
        let citizens = world.run_day(scenario, &mut rng);
        report.add_day(&citizens, world.closes(scenario));
    }
    report
}
