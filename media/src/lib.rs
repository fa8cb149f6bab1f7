//! `media` owns the media forwarder: videoreg terminates every browser's peer connection and
//! forwards RTP between them (citizen ↔ agent in a call; citizen ↔ citizen for the test
//! call's echo), with keyframe requests passed back to the sender. Built on webrtc-rs's
//! sans-I/O core (`rtc`): each session ([`MediaCall`]) is one task that owns its legs and
//! the way their packets come and go (`session/`, `leg.rs`): a UDP socket per leg from a port
//! range, or the node's one shared UDP port with ICE-TCP ([`SharedPort`], `port/`), run on
//! the media threads ([`MediaThreads`]). It also
//! owns the quality counters ([`Quality`], [`SideCounters`]), TURN credentials ([`turn`]),
//! the forwarder's configuration ([`MediaConfig`], [`IceServer`]) and the test call's
//! loopback with its limits ([`echo`]), and the recorder, a tap on a call's forwarding that
//! writes it into one WebM file while it runs ([`recorder`]), and supervisors' receive-only
//! monitors of a call ([`MediaCall::add_monitor`]). It knows no tickets, HTML or SQL and depends on no
//! crate of videoreg's: `signaling` drives it. The async `webrtc` layer is used only by the
//! stand-in browsers of the tests and benchmarks (`client.rs`), behind the `test-peers`
//! feature.

mod call;
#[cfg(feature = "test-peers")]
mod client;
mod codecs;
pub mod echo;
mod error;
#[cfg(feature = "test-peers")]
mod events;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod leg;
mod port;
pub mod recorder;
mod session;
mod tap;
mod threads;
pub mod turn;

use std::net::IpAddr;
use std::ops::RangeInclusive;

pub use call::{CandidateFeed, MediaCall, Quality, Side, SideCounters};
#[cfg(feature = "test-peers")]
pub use client::{Client, ClientOptions, client, monitor_client};
pub use error::Error;
#[cfg(feature = "test-peers")]
pub use events::{ChannelEvents, EventStreams, channel_events};
pub use port::SharedPort;
/// An SDP offer or answer, as the forwarder takes and gives it.
pub use rtc::peer_connection::sdp::RTCSessionDescription;
/// A peer connection's state (a monitor's, watched by its owner).
pub use rtc::peer_connection::state::RTCPeerConnectionState as PeerState;
/// A browser's ICE candidate, as the forwarder takes and gives it.
pub use rtc::peer_connection::transport::RTCIceCandidateInit;
use serde::{Deserialize, Serialize};
pub use session::{MAX_MONITORS, MonitorAdded};
pub use threads::MediaThreads;

/// Where the forwarder listens and what browsers are told.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// The address the forwarder's UDP sockets bind to.
    pub bind_ip: IpAddr,
    /// The UDP ports it may use (one per peer connection: two per call, one per test call),
    /// unless it has a shared port.
    pub ports: RangeInclusive<u16>,
    /// The one UDP port (and ICE-TCP port) every session shares, when the node has one
    /// (`--media-udp-port`); then `ports` is not used.
    pub shared: Option<SharedPort>,
    /// The address written into candidates instead of `bind_ip` (behind 1:1 NAT).
    pub announce_ip: Option<IpAddr>,
    /// STUN/TURN servers for the browsers (the forwarder itself uses only the STUN ones).
    pub ice_servers: Vec<IceServer>,
    /// The secret shared with the TURN server, for per-call credentials.
    pub turn: Option<turn::TurnSecret>,
}

impl MediaConfig {
    /// The ICE servers to hand a browser for `tag` (a ticket), with fresh TURN credentials.
    pub fn ice_servers_for(&self, tag: &str, now: chrono::DateTime<chrono::Utc>) -> Vec<IceServer> {
        turn::for_browser(&self.ice_servers, self.turn.as_ref(), tag, now)
    }
}

/// One STUN or TURN server, as browsers' `RTCIceServer` has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:host:port` or `turn:host:port`.
    pub urls: Vec<String>,
    /// TURN user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}
