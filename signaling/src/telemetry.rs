//! Prometheus figures: counters and histograms recorded where things happen (joins, answers,
//! abandons, calls ending, decisions, signaling messages and errors) and gauges set from the
//! queue view on each publisher round. Each server state owns its own recorder, reached
//! through [`Telemetry`] rather than a process-wide one, so that many servers in one process
//! (the tests) never share or fight over figures; `/metrics` renders it through
//! [`Telemetry::handle`]. Every metric is described in `docs/operations.md`.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Queue length (gauge).
pub const QUEUE_WAITING: &str = "videoreg_queue_waiting";
/// Longest current wait (gauge).
pub const QUEUE_LONGEST_WAIT: &str = "videoreg_queue_longest_wait_seconds";
/// Agents by state (gauge, label `state`).
pub const AGENTS: &str = "videoreg_agents";
/// Citizens who joined (counter).
pub const JOINS: &str = "videoreg_queue_joins_total";
/// Citizens answered: a call started (counter).
pub const ANSWERS: &str = "videoreg_queue_answers_total";
/// Citizens who left before being answered (counter, label `how`).
pub const ABANDONS: &str = "videoreg_queue_abandons_total";
/// Decisions (counter, labels `outcome`, `reason`).
pub const DECISIONS: &str = "videoreg_decisions_total";
/// Signaling messages (counter, labels `endpoint`, `direction`).
pub const MESSAGES: &str = "videoreg_signaling_messages_total";
/// Signaling error messages sent (counter, label `endpoint`).
pub const ERRORS: &str = "videoreg_signaling_errors_total";
/// Wait from joining to answer (histogram).
pub const WAIT: &str = "videoreg_queue_wait_seconds";
/// Handle time, answered to ended (histogram).
pub const HANDLE: &str = "videoreg_call_handle_seconds";
/// |told − real wait| (histogram).
pub const ESTIMATE_ERROR: &str = "videoreg_estimate_abs_error_seconds";

/// Calls' recordings finished (counter, label `result`).
pub const RECORDINGS: &str = "videoreg_recordings_total";
/// Bytes of recordings sealed (counter).
pub const RECORDED_BYTES: &str = "videoreg_recorded_bytes_total";
/// Tasks alive on this process's tokio runtime (gauge, read at each scrape).
pub const ALIVE_TASKS: &str = "videoreg_tokio_alive_tasks";

/// This build (gauge at 1, label `version`).
pub const BUILD_INFO: &str = "videoreg_build_info";

/// The label values every labelled series starts with, at 0.
const AGENT_STATES: [&str; 5] = ["available", "in_call", "wrap_up", "break", "offline"];
const ABANDON_HOWS: [&str; 2] = ["left", "gone"];
const ENDPOINTS: [&str; 2] = ["citizen", "agent"];
const DIRECTIONS: [&str; 2] = ["in", "out"];
const RECORDING_RESULTS: [&str; 3] = ["complete", "incomplete", "failed"];

/// Bucket bounds for waits and estimate errors, in seconds (30 s to 1 h).
const WAIT_BUCKETS: &[f64] = &[
    30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0,
];
/// Bucket bounds for handle times, in seconds (1 to 30 min).
const HANDLE_BUCKETS: &[f64] = &[
    60.0, 120.0, 180.0, 240.0, 300.0, 420.0, 600.0, 900.0, 1200.0, 1800.0,
];

/// This server's figures. Cheap to clone; clones record into the same registry.
#[derive(Clone)]
pub struct Telemetry {
    /// The registry (its own locking; shared by the clones).
    recorder: Arc<PrometheusRecorder>,
    /// Reads this process's memory, descriptors and CPU time into `process_*` gauges, at
    /// each scrape (stateless; shared).
    process: Arc<metrics_process::Collector>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

fn secs(d: TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

impl Telemetry {
    /// A fresh recorder with every metric described.
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(WAIT.into()), WAIT_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(ESTIMATE_ERROR.into()), WAIT_BUCKETS)
            })
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(HANDLE.into()), HANDLE_BUCKETS));
        let builder = builder.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "histogram buckets; falling back to summaries");
            PrometheusBuilder::new()
        });
        let t = Self {
            recorder: Arc::new(builder.build_recorder()),
            process: Arc::new(metrics_process::Collector::default()),
        };
        t.record(|| t.process.describe());
        t.describe();
        t.start_at_zero();
        t
    }

    /// Every metric's help text and unit.
    fn describe(&self) {
        self.record(|| {
            describe_gauge!(
                QUEUE_WAITING,
                Unit::Count,
                "Citizens waiting in the queue now."
            );
            describe_gauge!(
                QUEUE_LONGEST_WAIT,
                Unit::Seconds,
                "How long the citizen waiting longest has waited."
            );
            describe_gauge!(
                AGENTS,
                Unit::Count,
                "Agents by state (available, in_call, wrap_up, break, offline)."
            );
            describe_counter!(JOINS, Unit::Count, "Citizens who joined the queue.");
            describe_counter!(
                ANSWERS,
                Unit::Count,
                "Citizens answered: an agent accepted and the call started."
            );
            describe_counter!(
                ABANDONS,
                Unit::Count,
                "Citizens who left the queue before being answered (how: left, gone)."
            );
            describe_counter!(
                DECISIONS,
                Unit::Count,
                "Agents' decisions by outcome and reason code."
            );
            describe_counter!(
                MESSAGES,
                Unit::Count,
                "Signaling WebSocket messages by endpoint and direction."
            );
            describe_counter!(
                ERRORS,
                Unit::Count,
                "Signaling error messages sent, by endpoint."
            );
            describe_histogram!(
                WAIT,
                Unit::Seconds,
                "Wait from joining the queue to the call starting."
            );
            describe_histogram!(
                HANDLE,
                Unit::Seconds,
                "Handle time of finished calls, from answer to end."
            );
            describe_histogram!(
                ESTIMATE_ERROR,
                Unit::Seconds,
                "Absolute difference between the wait told at joining and the real wait."
            );
            describe_counter!(
                RECORDINGS,
                Unit::Count,
                "Calls' recordings finished: complete, incomplete (sealed, part of the call missing) or failed (no file)."
            );
            describe_counter!(
                RECORDED_BYTES,
                Unit::Bytes,
                "Bytes of call recordings sealed (disk used before retention)."
            );
            describe_gauge!(BUILD_INFO, "This build of videoreg (label version).");
            describe_gauge!(
                ALIVE_TASKS,
                "Tasks alive on this process's tokio runtime (spawned and not finished)."
            );
        });
    }

    /// Every series known from the start exists at 0, so that `rate()` and alerts work from
    /// the first scrape (Prometheus: "avoid missing metrics"). Decision reasons come from the
    /// configuration: [`Telemetry::expect_decisions`].
    fn start_at_zero(&self) {
        self.record(|| {
            gauge!(QUEUE_WAITING).set(0.0);
            gauge!(QUEUE_LONGEST_WAIT).set(0.0);
            for state in AGENT_STATES {
                gauge!(AGENTS, "state" => state).set(0.0);
            }
            counter!(JOINS).increment(0);
            counter!(ANSWERS).increment(0);
            for how in ABANDON_HOWS {
                counter!(ABANDONS, "how" => how).increment(0);
            }
            for endpoint in ENDPOINTS {
                for direction in DIRECTIONS {
                    counter!(MESSAGES, "endpoint" => endpoint, "direction" => direction)
                        .increment(0);
                }
                counter!(ERRORS, "endpoint" => endpoint).increment(0);
            }
            for name in [WAIT, HANDLE, ESTIMATE_ERROR] {
                let _ = histogram!(name);
            }
            counter!(DECISIONS, "outcome" => "approved", "reason" => "none").increment(0);
            for result in RECORDING_RESULTS {
                counter!(RECORDINGS, "result" => result).increment(0);
            }
            counter!(RECORDED_BYTES).increment(0);
            gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            gauge!(ALIVE_TASKS).set(0.0);
        });
    }

    /// The decision series the configuration allows (reject and abort reason codes) exist
    /// at 0 from the start.
    pub fn expect_decisions(&self, rejects: &[String], aborts: &[String]) {
        self.record(|| {
            let outcomes = [("rejected", rejects), ("aborted", aborts)];
            for (outcome, reasons) in outcomes {
                for reason in reasons {
                    counter!(DECISIONS, "outcome" => outcome, "reason" => reason.clone())
                        .increment(0);
                }
            }
        });
    }

    /// Reads this process's figures (`process_*`, and the tokio runtime's alive tasks);
    /// called before each rendering.
    pub fn sample_process(&self) {
        let tasks = tokio::runtime::Handle::try_current()
            .map_or(0, |runtime| runtime.metrics().num_alive_tasks());
        self.record(|| {
            self.process.collect();
            gauge!(ALIVE_TASKS).set(tasks as f64);
        });
    }

    /// What `/metrics` renders from.
    pub fn handle(&self) -> PrometheusHandle {
        self.recorder.handle()
    }

    fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&*self.recorder, f)
    }

    /// A citizen joined the queue.
    pub fn joined(&self) {
        self.record(|| counter!(JOINS).increment(1));
    }

    /// A citizen was answered after waiting since `joined_at`, having been told `told_secs`.
    pub fn answered(&self, joined_at: DateTime<Utc>, told_secs: Option<i64>, now: DateTime<Utc>) {
        let waited = (now - joined_at).max(TimeDelta::zero());
        self.record(|| {
            counter!(ANSWERS).increment(1);
            histogram!(WAIT).record(secs(waited));
            if let Some(told) = told_secs {
                histogram!(ESTIMATE_ERROR).record(secs((TimeDelta::seconds(told) - waited).abs()));
            }
        });
    }

    /// `n` citizens left before being answered: `how` is `left` (they said so) or `gone`
    /// (disconnected past the grace period).
    pub fn abandoned(&self, how: &'static str, n: usize) {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        self.record(|| counter!(ABANDONS, "how" => how).increment(n));
    }

    /// A call answered at `answered_at` ended at `ended_at`.
    pub fn call_ended(&self, answered_at: DateTime<Utc>, ended_at: DateTime<Utc>) {
        let handled = (ended_at - answered_at).max(TimeDelta::zero());
        self.record(|| histogram!(HANDLE).record(secs(handled)));
    }

    /// An agent decided (`approved`, `rejected`, `aborted`) for a reason code.
    pub fn decided(&self, outcome: &'static str, reason: Option<&str>) {
        let reason = reason.unwrap_or("none").to_owned();
        self.record(|| counter!(DECISIONS, "outcome" => outcome, "reason" => reason).increment(1));
    }

    /// A call's recording finished: `complete`, `incomplete` or `failed`, with the bytes
    /// sealed.
    pub fn recorded(&self, result: &'static str, bytes: u64) {
        self.record(|| {
            counter!(RECORDINGS, "result" => result).increment(1);
            counter!(RECORDED_BYTES).increment(bytes);
        });
    }

    /// A signaling message crossed an endpoint (`citizen`, `agent`), `in` or `out`.
    pub fn message(&self, endpoint: &'static str, direction: &'static str) {
        self.record(|| {
            counter!(MESSAGES, "endpoint" => endpoint, "direction" => direction).increment(1)
        });
    }

    /// A signaling error message was sent on an endpoint.
    pub fn error(&self, endpoint: &'static str) {
        self.record(|| counter!(ERRORS, "endpoint" => endpoint).increment(1));
    }

    /// The queue as the publisher last saw it: length, longest wait, agents by state.
    pub fn queue(&self, waiting: usize, longest_wait_secs: i64, agents: &[(&'static str, usize)]) {
        self.record(|| {
            gauge!(QUEUE_WAITING).set(waiting as f64);
            gauge!(QUEUE_LONGEST_WAIT).set(longest_wait_secs as f64);
            for (state, n) in agents {
                gauge!(AGENTS, "state" => *state).set(*n as f64);
            }
        });
    }
}
