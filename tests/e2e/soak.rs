//! The soak: a service day on the test clock, against the real binary on PostgreSQL.
//!
//! `videoreg demo` (the only command that takes `--clock-start` and `--clock-speed`) runs on a
//! fresh PostgreSQL schema with its clock starting at 08:59 Madrid on a Wednesday and running
//! 60 times as fast as real time. Citizens arrive spread over the load window, each living
//! the real mix (`soak/citizen.rs`); agents take, accept and decide (`soak/staff.rs`);
//! supervisors watch the dashboard's stream and the console socket. Every few seconds the
//! server process is sampled (`soak/sampler.rs`). The run fails when a figure grows without
//! bound over the settled part of the load, when resources are not given back once everyone
//! has gone, or when a ticket ends in an impossible state (`soak/end_state.rs`).
//!
//! The short version (an hour of the day, 150 citizens, 5 agents, 60 s of arrivals) runs with the
//! suite; the whole day (1,000 citizens, 20 agents, 5 minutes) is ignored and run by hand, with
//! knobs in the environment (see `docs/performance.md`).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use store::testing::TestDatabase;

use crate::console_steps::demo_password;
use crate::helpers::{run, scratch_dir, secrets_key_file, start};
use run::day;

mod citizen;
mod end_state;
mod media;
// CPU, memory and load read from /proc, as the benchmarks read them.
#[path = "../../web/benches/common/proc_stats.rs"]
#[allow(dead_code, reason = "shared with the benchmarks")]
mod proc_stats;
mod report;
mod run;
mod sampler;
mod staff;
mod ws;

/// What every identity's document shows (the contrast data).
pub const VALID_UNTIL: &str = "15/03/2031";
/// 07:59 UTC is 08:59 in Madrid in December: the service opens a (simulated) minute in.
const CLOCK_START: &str = "2026-12-02T07:59:00Z";
/// Simulated seconds a waiting citizen keeps the place after dropping (10 real s at 60×).
const GRACE_SIM_SECS: u64 = 600;

/// The size and mix of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub citizens: usize,
    pub agents: usize,
    /// Real seconds over which citizens arrive.
    pub load_secs: u64,
    pub speed: u32,
    pub sample_every: Duration,
    /// Share of citizens whose test call carries real media (the others present a passed
    /// test call written into the database, as the other end-to-end tests do).
    pub test_call_share: f64,
    /// Share of citizens with a camera in the call (the agent's console then negotiates too).
    pub call_media_share: f64,
    /// Real seconds an agent spends on a call before deciding (range).
    pub handle_ms: (u64, u64),
}

impl Plan {
    /// The suite's version: the first simulated hour.
    fn short() -> Self {
        Self {
            citizens: 150,
            agents: 5,
            load_secs: 60,
            speed: 60,
            sample_every: Duration::from_secs(2),
            test_call_share: 0.10,
            call_media_share: 0.10,
            handle_ms: (300, 900),
        }
    }

    /// The whole day, with `VIDEOREG_SOAK_*` overrides.
    fn day() -> Self {
        let env = |name: &str| std::env::var(format!("VIDEOREG_SOAK_{name}")).ok();
        let num =
            |name: &str, default: f64| env(name).and_then(|v| v.parse().ok()).unwrap_or(default);
        Self {
            citizens: num("CITIZENS", 1000.0) as usize,
            agents: num("AGENTS", 20.0) as usize,
            load_secs: num("SECONDS", 290.0) as u64,
            speed: num("SPEED", 60.0) as u32,
            sample_every: Duration::from_secs(num("SAMPLE_SECONDS", 5.0) as u64),
            test_call_share: num("TEST_CALL_SHARE", 0.10),
            call_media_share: num("CALL_MEDIA_SHARE", 0.10),
            handle_ms: (1_000, 3_000),
        }
    }

    fn handle_time(&self, rng: &mut Rng) -> Duration {
        Duration::from_millis(self.handle_ms.0 + rng.below(self.handle_ms.1 - self.handle_ms.0))
    }
}

/// What the run's tasks share.
pub struct Day {
    pub plan: Plan,
    pub base: String,
    pub client: reqwest::Client,
    store: store::Store,
    /// When the server started listening (its clock started just before).
    started: Instant,
    clock_start: DateTime<Utc>,
    /// Tickets of citizens with a camera: their agent negotiates media too.
    pub media_tickets: Mutex<HashSet<String>>,
    /// Tickets of citizens who vanished: an agent may still decide them in the grace
    /// period, and nobody hears the outcome until a resume that never comes.
    pub vanished: Mutex<Vec<String>>,
    tally: Mutex<BTreeMap<String, u64>>,
    /// The driver's WebSockets open on the server now (each is a descriptor and tasks there).
    pub sockets: Arc<AtomicI64>,
    closing: AtomicBool,
    agents_stop: AtomicBool,
}

impl Day {
    /// Counts one occurrence of `what`.
    pub fn tally(&self, what: &str) {
        self.add(what, 1);
    }

    /// Adds `n` to `what` (e.g. milliseconds spent).
    pub fn add(&self, what: &str, n: u64) {
        *self
            .tally
            .lock()
            .expect("lock")
            .entry(what.to_owned())
            .or_default() += n;
    }

    fn count(&self, what: &str) -> u64 {
        self.tally
            .lock()
            .expect("lock")
            .get(what)
            .copied()
            .unwrap_or(0)
    }

    /// The load is over: citizens still waiting leave.
    pub fn closing(&self) -> bool {
        self.closing.load(Ordering::Relaxed)
    }

    pub fn agents_stop(&self) -> bool {
        self.agents_stop.load(Ordering::Relaxed)
    }

    /// The server's clock, as near as the driver can tell.
    fn server_now(&self) -> DateTime<Utc> {
        let elapsed = self.started.elapsed().saturating_mul(self.plan.speed);
        self.clock_start + TimeDelta::from_std(elapsed).unwrap_or_default()
    }

    /// A passed test call's token, written straight into the database at the server's time.
    pub async fn passed_test_call(&self) -> String {
        let (token, hash) = store::secrets::new_token().expect("token");
        let now = self.server_now();
        self.store
            .insert_test_call(
                &hash,
                r#"{"verdict":"good"}"#,
                now,
                now + TimeDelta::minutes(30),
            )
            .await
            .expect("store a test call");
        token
    }

    /// `POST /api/v1/applications`: status and body. A 503 (the database out of reach for a
    /// moment) is sent again after its `retry_after_seconds`, as the form does.
    pub async fn apply(&self, id_number: &str, contrast: &str, test_call: &str) -> (u16, Value) {
        let body = json!({ "id_number": id_number, "contrast": contrast, "test_call": test_call });
        for _ in 0..10 {
            let r = self
                .client
                .post(format!("{}/api/v1/applications", self.base))
                .json(&body)
                .send()
                .await;
            let (status, body) = match r {
                Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
                Err(_) => (0, Value::Null),
            };
            if status != 503 {
                return (status, body);
            }
            self.tally("apply_503_sent_again");
            let secs = body["error"]["retry_after_seconds"].as_u64().unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(secs.clamp(1, 5))).await;
        }
        (503, Value::Null)
    }
}

/// A small deterministic generator (splitmix64): each citizen and agent its own sequence.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next().checked_rem(n).unwrap_or(0)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// The `i`-th citizen's DNI.
pub fn dni(i: usize) -> String {
    let n = 30_000_000 + i;
    let letter = "TRWAGMYFPDXBNJZSQVHLCKE".as_bytes()[n % 23] as char;
    format!("{n}{letter}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_hour_at_sixty_times_leaves_resources_flat_and_every_ticket_explained() {
    day(Plan::short()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the whole day (about 6 minutes): run by hand, see docs/performance.md"]
async fn soak_a_whole_service_day() {
    day(Plan::day()).await;
}
