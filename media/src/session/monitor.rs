//! Monitors: receive-only legs a supervisor's browser opens on a running call. Each gets a
//! copy of both sides' RTP (four tracks: each side's video and audio) from the same
//! forwarding step as the call's own legs, and never sends anything into the call but
//! keyframe requests, which are rate-limited per side so that a monitor cannot make a
//! browser send keyframes faster than a call does. A monitor that fails or is removed closes
//! alone; the call's legs never wait for it.

use std::time::{Duration, Instant};

use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::sansio::Protocol;
use rtc::shared::TransportProtocol;
use tokio::sync::watch;

use super::Session;
use crate::leg::{Leg, Shape};
use crate::port::LegKey;
use crate::{Error, MediaConfig};

/// The shortest time between two keyframe requests a monitor passes to one side.
pub(crate) const KEYFRAME_GAP: Duration = Duration::from_secs(2);
/// The most monitors one call takes at once.
pub const MAX_MONITORS: usize = 4;

/// A supervisor's receive-only leg.
pub(super) struct Monitor {
    pub id: u64,
    pub leg: Leg,
    /// Its connection state, for the handle to watch.
    pub state: watch::Sender<RTCPeerConnectionState>,
    /// When each side was last asked for a keyframe on this monitor's behalf.
    last_keyframe: [Option<Instant>; 2],
}

/// A monitor as its handle sees it once added.
pub struct MonitorAdded {
    /// Its id in the call (for removing it).
    pub id: u64,
    /// The answer to its browser's offer (with the forwarder's candidate in it).
    pub answer: RTCSessionDescription,
    /// Its connection state.
    pub state: watch::Receiver<RTCPeerConnectionState>,
}

impl Session {
    /// Adds a monitor answering `offer`, on a socket of its own from the port range or on
    /// the shared port.
    pub(super) async fn add_monitor(
        &mut self,
        config: &MediaConfig,
        offer: RTCSessionDescription,
    ) -> Result<MonitorAdded, Error> {
        if self.legs.len() != 2 {
            return Err(Error::BadMedia("only a call can be monitored".into()));
        }
        if self.monitors.len() >= MAX_MONITORS {
            return Err(Error::BadMedia(format!(
                "a call takes at most {MAX_MONITORS} monitors"
            )));
        }
        self.next_monitor += 1;
        let id = self.next_monitor;
        let ssrc_base = 0x4000_0000u32.wrapping_add((id as u32).wrapping_mul(4));
        let key = LegKey::Monitor(id);
        let addrs = self.wire.open(config, key).await?;
        let answered = Leg::new(addrs, ssrc_base, "monitor", Shape::Monitor)
            .and_then(|mut leg| leg.answer(offer, Instant::now()).map(|(a, _, _)| (leg, a)));
        let (mut leg, answer) = match answered {
            Ok(answered) => answered,
            Err(e) => {
                self.wire.close(key);
                return Err(e);
            }
        };
        self.wire.learn(key, &mut leg);
        let (state, watched) = watch::channel(RTCPeerConnectionState::New);
        self.monitors.push(Monitor {
            id,
            leg,
            state,
            last_keyframe: [None; 2],
        });
        Ok(MonitorAdded {
            id,
            answer,
            state: watched,
        })
    }

    /// Closes and drops monitor `id`; false when there is none.
    pub(super) fn remove_monitor(&mut self, id: u64) -> bool {
        let Some(k) = self.monitors.iter().position(|m| m.id == id) else {
            return false;
        };
        let mut m = self.monitors.remove(k);
        let key = LegKey::Monitor(id);
        if let Err(e) = m.leg.pc.close() {
            tracing::debug!(error = %e, "closing a monitor");
        }
        // Its DTLS close alert, so that the browser knows at once.
        while let Some(out) = m.leg.pc.poll_write() {
            let tcp = out.transport.transport_protocol == TransportProtocol::TCP;
            self.wire
                .send_now(key, tcp, out.transport.peer_addr, &out.message);
        }
        self.wire.close(key);
        m.state.send_replace(RTCPeerConnectionState::Closed);
        true
    }

    /// Takes monitor `k`'s events and messages: its state, and keyframe requests, passed to
    /// the side they are for at most once per [`KEYFRAME_GAP`].
    pub(super) fn monitor_flush(&mut self, k: usize) {
        while let Some(event) = self.monitors[k].leg.pc.poll_event() {
            if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) = event {
                let m = &mut self.monitors[k];
                m.leg.connected = state == RTCPeerConnectionState::Connected;
                m.state.send_replace(state);
            }
        }
        while let Some(message) = self.monitors[k].leg.pc.poll_read() {
            self.monitor_message(k, message);
        }
    }

    fn monitor_message(&mut self, k: usize, message: TaggedRTCMessage) {
        let now = message.now;
        let RTCMessage::RtcpPacket(track_id, _) = message.message else {
            // A monitor sends no media; anything else it sends is ignored.
            return;
        };
        let m = &mut self.monitors[k];
        let Some((kind, source)) = m.leg.outgoing_of(&track_id) else {
            return;
        };
        if m.last_keyframe[source].is_some_and(|at| now.duration_since(at) < KEYFRAME_GAP) {
            return;
        }
        m.last_keyframe[source] = Some(now);
        self.request_keyframe(source, kind, now);
    }

    /// Hands side `i`'s packet of `kind` to every connected monitor: the last one gets it,
    /// the others a copy each.
    pub(super) fn copy_to_monitors(
        &mut self,
        i: usize,
        kind: usize,
        packet: rtc::rtp::Packet,
        now: Instant,
    ) {
        let mut connected = self
            .monitors
            .iter_mut()
            .filter(|m| m.leg.connected)
            .peekable();
        while let Some(m) = connected.next() {
            // A monitor's outgoing tracks: each side's video, then its audio.
            let slot = 2 * i + kind;
            if connected.peek().is_some() {
                m.leg.send_rtp(slot, packet.clone(), now);
            } else {
                m.leg.send_rtp(slot, packet, now);
                return;
            }
        }
    }

    /// Drops monitors whose connection failed or closed.
    pub(super) fn drop_failed_monitors(&mut self) {
        let gone = |m: &Monitor| {
            matches!(
                *m.state.borrow(),
                RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed
            )
        };
        while let Some(id) = self.monitors.iter().find(|m| gone(m)).map(|m| m.id) {
            self.remove_monitor(id);
        }
    }
}
