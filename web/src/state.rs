//! The one `AppState`, built in one place.

use std::sync::Arc;

use agent_console::ConsoleState;
use agent_console::passwords::hashing::HashPool;
use axum::extract::FromRef;
use media::MediaThreads;
use scheduler::{Calendar, Clock};
use signaling::SignalingState;
use signaling::hub::Hub;
use signaling::per_address::PerAddress;
use signaling::socket::SocketLimits;
use store::Store;

use crate::config::Settings;
use crate::evidence::EvidencePolicy;
use crate::identity::VerifyPolicy;

/// Everything a request handler may need. Cloned per request; every field is cheap to clone
/// and none is behind a lock of ours.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database. The pool does its own locking; no lock is held across a query.
    pub store: Store,
    /// The service calendar, fixed at start-up (read-only, shared).
    pub calendar: Arc<Calendar>,
    /// Where `now` comes from: the system clock, or a clock the tests set.
    pub clock: Clock,
    /// Verification limits and token lifetime, fixed at start-up (read-only, shared).
    pub verify: Arc<VerifyPolicy>,
    /// What the staff routes see (the same store and clock, the staff policy).
    pub console: ConsoleState,
    /// What the WebSocket endpoints see (the same store, clock and calendar, this node's hub).
    pub signaling: SignalingState,
    /// SHA-256 (hex) of the token that opens `/metrics` beyond loopback (read-only, shared).
    pub metrics_token_hash: Option<Arc<str>>,
    /// Where recordings live and how long evidence is kept, for the housekeeping round's
    /// purge (read-only, shared).
    pub evidence: Arc<EvidencePolicy>,
}

impl AppState {
    /// Builds the state from resolved settings, an opened store and a clock.
    pub fn new(settings: &Settings, store: Store, clock: Clock) -> Self {
        let telemetry = signaling::telemetry::Telemetry::new();
        let rules = &settings.verification.rules;
        let codes = |reasons: &[agent_console::checklist::Reason]| -> Vec<String> {
            reasons.iter().map(|r| r.code.clone()).collect()
        };
        telemetry.expect_decisions(&codes(&rules.reject_reasons), &codes(&rules.abort_reasons));
        Self {
            console: ConsoleState {
                store: store.clone(),
                clock: clock.clone(),
                policy: Arc::new(settings.staff.clone()),
                always_open: settings.calendar.is_always_open(),
                trust_forwarded_for: settings.trust_forwarded_for,
                verification: Arc::new(settings.verification.clone()),
                supervision: Arc::new(settings.supervision.clone()),
                hashing: HashPool::sized_to_cores(settings.password_checks_per_address),
                recordings_dir: Arc::from(settings.evidence.recordings_dir.as_path()),
            },
            signaling: SignalingState {
                store: store.clone(),
                clock: clock.clone(),
                calendar: Arc::new(settings.calendar.clone()),
                queue: Arc::new(settings.queue.clone()),
                recordings_dir: Arc::from(settings.evidence.recordings_dir.as_path()),
                hub: Hub::default(),
                limits: Arc::new(SocketLimits::default()),
                citizen_sockets: PerAddress::new(settings.citizen_sockets_per_address),
                allowed_origins: Arc::new(settings.allowed_origins.clone()),
                grace: settings.grace,
                node_id: node_id(),
                media: Arc::new(settings.media.clone()),
                media_threads: MediaThreads::new(settings.media_threads),
                calls: Default::default(),
                echoes: Default::default(),
                echo_limits: Arc::new(settings.echo.clone()),
                agent_policy: Arc::new(settings.agents.clone()),
                presence: Arc::new(settings.presence.clone()),
                trust_forwarded_for: settings.trust_forwarded_for,
                telemetry,
                monitors: Default::default(),
                monitoring: Arc::new(settings.monitoring),
                booking: Arc::new(settings.booking.clone()),
                calibration: Default::default(),
            },
            store,
            calendar: Arc::new(settings.calendar.clone()),
            clock,
            verify: Arc::new(settings.verify.clone()),
            metrics_token_hash: settings.metrics_token_hash.as_deref().map(Arc::from),
            evidence: Arc::new(settings.evidence.clone()),
        }
    }
}

/// A random name for this process on the bus.
fn node_id() -> Arc<str> {
    store::secrets::new_id()
        .unwrap_or_else(|_| format!("node-{}", std::process::id()))
        .into()
}

impl FromRef<AppState> for SignalingState {
    fn from_ref(state: &AppState) -> Self {
        state.signaling.clone()
    }
}

impl FromRef<AppState> for ConsoleState {
    fn from_ref(state: &AppState) -> Self {
        state.console.clone()
    }
}
