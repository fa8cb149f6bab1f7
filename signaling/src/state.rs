//! What the signaling side needs from the server, taken through `FromRef`.

use std::sync::Arc;

use chrono::TimeDelta;
use scheduler::{Calendar, Clock, QueuePolicy};
use store::Store;

use crate::agent_state::AgentPolicy;
use crate::calls::Calls;
use crate::hub::Hub;
use crate::monitoring::{MonitorPolicy, Monitors};
use crate::per_address::PerAddress;
use crate::presence::PresencePolicy;
use crate::socket::SocketLimits;
use crate::telemetry::Telemetry;
use media::echo::{EchoLimits, EchoRegistry};
use media::{MediaConfig, MediaThreads};

/// Cheap to clone; nothing in it is locked except inside the hub (see [`Hub`]).
#[derive(Debug, Clone)]
pub struct SignalingState {
    /// The database (tickets live there, not in memory).
    pub store: Store,
    /// Where `now` comes from.
    pub clock: Clock,
    /// The service calendar (read-only, shared).
    pub calendar: Arc<Calendar>,
    /// Queue rules (read-only, shared).
    pub queue: Arc<QueuePolicy>,
    /// Where calls are recorded (`--recordings-dir`; read-only, shared).
    pub recordings_dir: Arc<std::path::Path>,
    /// This node's connections.
    pub hub: Hub,
    /// Per-connection limits (read-only, shared).
    pub limits: Arc<SocketLimits>,
    /// Anonymous citizen sockets open per client address (counted on this node).
    pub citizen_sockets: PerAddress,
    /// Origins allowed besides the server's own (read-only, shared).
    pub allowed_origins: Arc<Vec<String>>,
    /// How long a waiting citizen keeps the place after the connection drops.
    pub grace: TimeDelta,
    /// This node's name on the bus (random per process).
    pub node_id: Arc<str>,
    /// Where the media forwarder listens (read-only, shared).
    pub media: Arc<MediaConfig>,
    /// The threads media sessions run on (started on first use, shared).
    pub media_threads: MediaThreads,
    /// The calls this node forwards.
    pub calls: Calls,
    /// The test calls this node runs.
    pub echoes: EchoRegistry,
    /// Test-call limits (read-only, shared).
    pub echo_limits: Arc<EchoLimits>,
    /// Wrap-up and offer timers (read-only, shared).
    pub agent_policy: Arc<AgentPolicy>,
    /// Heartbeat, dead-node and drain timings (read-only, shared).
    pub presence: Arc<PresencePolicy>,
    /// Whether the client address is taken from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// This server's Prometheus figures.
    pub telemetry: Telemetry,
    /// The supervisors' monitors of calls running here (locked inside, never across an
    /// `.await`).
    pub monitors: Monitors,
    /// Whether agents see that they are watched (read-only, shared).
    pub monitoring: Arc<MonitorPolicy>,
    /// Appointment slots, capacity, grace and when slots are offered (read-only, shared).
    pub booking: Arc<scheduler::booking::BookingPolicy>,
    /// The wait range's recalibration, learnt again by [`crate::queue_view::relearn`]
    /// (housekeeping, every ten minutes) and read by every queue view. The lock is held only
    /// to clone or replace it, never across an `.await`.
    pub calibration: Arc<std::sync::RwLock<scheduler::Calibration>>,
}
