//! The task that runs one media session: it owns every leg's state machine and the way its
//! packets come and go (`wire`: a UDP socket per leg, or the node's shared port), and a
//! packet goes from the wire through the receiving leg straight into the sending leg and out
//! again in one wake-up of this one task. On a shared port the port's reader hands the
//! session its packets on a queue, a burst per wake-up.
//! Requests from the handle (`call.rs`) arrive on a channel and are answered in between.
//! A recording taps the forwarding here: each packet forwarded, and each sender report, is
//! also handed to the recorder's queue, which never waits (`recorder`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::RTCIceCandidateInit;
use rtc::peer_connection::transport::RTCIceCandidateType;
use rtc::sansio::Protocol;
use rtc::shared::TransportProtocol;
use rtc::statistics::StatsSelector;
use rtc::statistics::report::{RTCStatsReport, RTCStatsReportEntry};
use rtc::statistics::stats::ice_candidate_pair::RTCIceCandidatePairStats;
use tokio::sync::{mpsc, oneshot, watch};

mod forward;
mod monitor;
mod wire;

pub use monitor::{MAX_MONITORS, MonitorAdded};
pub(crate) use wire::{LegAddrs, Wire};

use crate::Error;
use crate::call::{Quality, Side, SideCounters};
use crate::leg::Leg;
use crate::port::{Inbound, LegKey};
use crate::recorder::Feed;

/// A request from the session's handle.
pub(super) enum Command {
    /// Answer a side's offer.
    Offer {
        side: Side,
        /// Boxed: a description is large, the other requests are small.
        offer: Box<RTCSessionDescription>,
        reply: oneshot::Sender<Result<RTCSessionDescription, Error>>,
    },
    /// Add a side's ICE candidate.
    Ice {
        side: Side,
        candidate: RTCIceCandidateInit,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    /// Report a side's quality.
    Quality {
        side: Side,
        reply: oneshot::Sender<Option<Quality>>,
    },
    /// Close every leg and end; the reply (each leg's last quality) goes once the sockets are
    /// closed.
    Close(oneshot::Sender<Vec<Option<Quality>>>),
    /// Hand what is forwarded to a recording from now on.
    Record(Feed),
    /// Stop handing packets to the recording (its writer then finishes the file).
    StopRecording(oneshot::Sender<()>),
    /// Add a supervisor's receive-only leg answering its offer.
    AddMonitor {
        config: Box<crate::MediaConfig>,
        offer: Box<RTCSessionDescription>,
        reply: oneshot::Sender<Result<MonitorAdded, Error>>,
    },
    /// Close a monitor; the reply says whether there was one.
    RemoveMonitor {
        id: u64,
        reply: oneshot::Sender<bool>,
    },
}

/// The shortest gap between two protocol-timer passes whose deadline was already due.
const TIMER_GAP: Duration = Duration::from_millis(1);
/// How long to sleep when no leg has a timer (it never happens while a leg is open).
const IDLE: Duration = Duration::from_secs(3600);

/// The state of one running session; lives in its task.
pub(super) struct Session {
    legs: Vec<Leg>,
    /// How the legs' packets come and go.
    wire: Wire,
    /// Packets taken from the wire, waiting to be handed to their legs (kept for its
    /// allocation).
    arrivals: Vec<Inbound>,
    counters: [Arc<SideCounters>; 2],
    /// Each leg's connection state, for the handle to read.
    states: Vec<watch::Sender<RTCPeerConnectionState>>,
    /// Local candidates for the signaling layer to tell each browser.
    feed: mpsc::UnboundedSender<(Side, RTCIceCandidateInit)>,
    /// The recording the forwarded media is also handed to, while one runs.
    recorder: Option<Feed>,
    /// Supervisors' receive-only legs.
    monitors: Vec<monitor::Monitor>,
    /// The last monitor id given.
    next_monitor: u64,
}

impl Session {
    pub fn new(
        legs: Vec<Leg>,
        wire: Wire,
        counters: [Arc<SideCounters>; 2],
        states: Vec<watch::Sender<RTCPeerConnectionState>>,
        feed: mpsc::UnboundedSender<(Side, RTCIceCandidateInit)>,
    ) -> Self {
        Self {
            legs,
            wire,
            arrivals: Vec::new(),
            counters,
            states,
            feed,
            recorder: None,
            monitors: Vec::new(),
            next_monitor: 0,
        }
    }

    /// The leg that receives what leg `i` sends: the other one, or itself in an echo.
    fn target(&self, i: usize) -> usize {
        if self.legs.len() == 2 { 1 - i } else { i }
    }

    /// Runs until closed or until the handle is gone.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let timer = tokio::time::sleep(IDLE);
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        let mut last_pass: Option<Instant> = None;
        let mut closed_reply: Option<oneshot::Sender<Vec<Option<Quality>>>> = None;
        loop {
            self.flush().await;
            let now = Instant::now();
            let next = self
                .legs
                .iter_mut()
                .chain(self.monitors.iter_mut().map(|m| &mut m.leg))
                .filter_map(|l| l.pc.poll_timeout())
                .min();
            let deadline = match next {
                Some(due) if due <= now => {
                    let free = last_pass.is_none_or(|l| now.duration_since(l) >= TIMER_GAP);
                    if free {
                        self.timers(now);
                        last_pass = Some(now);
                        continue;
                    }
                    // Due again within the gap: wait it out rather than spin.
                    last_pass.map_or(now, |l| l + TIMER_GAP)
                }
                Some(due) => due,
                None => now + IDLE,
            };
            if armed != Some(deadline) {
                timer
                    .as_mut()
                    .reset(tokio::time::Instant::from_std(deadline));
                armed = Some(deadline);
            }
            tokio::select! {
                biased;
                command = commands.recv() => {
                    let Some(command) = command else { break };
                    if let Some(reply) = self.command(command).await {
                        closed_reply = Some(reply);
                        break;
                    }
                }
                () = self.wire.recv(&mut self.arrivals) => self.arrived(),
                () = &mut timer => {
                    let now = Instant::now();
                    self.timers(now);
                    last_pass = Some(now);
                    armed = None;
                }
            }
        }
        let last: Vec<Option<Quality>> = (0..self.legs.len())
            .map(|i| self.quality(Side::of_index(i)))
            .collect();
        let monitors: Vec<u64> = self.monitors.iter().map(|m| m.id).collect();
        for id in monitors {
            self.remove_monitor(id);
        }
        for leg in &mut self.legs {
            if let Err(e) = leg.pc.close() {
                tracing::debug!(error = %e, "closing a media leg");
            }
        }
        // Sends what closing queued (DTLS close alerts); the sockets close next, and only
        // then is the end published and the handle's `close` answered.
        self.send_queued().await;
        drop(self.wire);
        for state in &self.states {
            state.send_replace(RTCPeerConnectionState::Closed);
        }
        if let Some(reply) = closed_reply {
            let _ = reply.send(last);
        }
    }

    /// Hands what the wire brought to the legs it is for (a leg closed since is skipped).
    fn arrived(&mut self) {
        for inbound in self.arrivals.drain(..) {
            let leg = match inbound.leg {
                LegKey::Call(i) => self.legs.get_mut(i),
                LegKey::Monitor(id) => self
                    .monitors
                    .iter_mut()
                    .find(|m| m.id == id)
                    .map(|m| &mut m.leg),
            };
            if let Some(leg) = leg {
                leg.received(inbound.data, inbound.from, inbound.tcp, inbound.at);
            }
        }
    }

    /// Runs the protocol timers that are due.
    fn timers(&mut self, now: Instant) {
        let monitors = self.monitors.iter_mut().map(|m| &mut m.leg);
        for leg in self.legs.iter_mut().chain(monitors) {
            if leg.pc.poll_timeout().is_some_and(|due| due <= now)
                && let Err(e) = leg.pc.handle_timeout(now)
            {
                tracing::debug!(error = %e, "media timer");
            }
        }
    }

    /// Takes every leg's events and received media (forwarding it), then sends every leg's
    /// queued datagrams.
    async fn flush(&mut self) {
        for i in 0..self.legs.len() {
            while let Some(event) = self.legs[i].pc.poll_event() {
                self.event(i, event);
            }
            while let Some(message) = self.legs[i].pc.poll_read() {
                self.message(i, message);
            }
        }
        for k in 0..self.monitors.len() {
            self.monitor_flush(k);
        }
        self.send_queued().await;
        self.drop_failed_monitors();
    }

    /// Sends every leg's queued packets.
    async fn send_queued(&mut self) {
        let calls = self
            .legs
            .iter_mut()
            .enumerate()
            .map(|(i, leg)| (LegKey::Call(i), leg));
        let monitors = self
            .monitors
            .iter_mut()
            .map(|m| (LegKey::Monitor(m.id), &mut m.leg));
        for (key, leg) in calls.chain(monitors) {
            while let Some(out) = leg.pc.poll_write() {
                let tcp = out.transport.transport_protocol == TransportProtocol::TCP;
                self.wire
                    .send(key, tcp, out.transport.peer_addr, &out.message)
                    .await;
            }
        }
    }

    fn event(&mut self, i: usize, event: RTCPeerConnectionEvent) {
        match event {
            RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) => {
                self.legs[i].connected = state == RTCPeerConnectionState::Connected;
                if let Some(s) = self.states.get(i) {
                    s.send_replace(state);
                }
            }
            RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnOpen(init)) => {
                self.legs[i].track_opened(init.track_id, init.receiver_id);
            }
            RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnClose(track_id)) => {
                self.legs[i].track_closed(&track_id);
            }
            _ => {}
        }
    }

    /// Carries out a request; for `Close`, returns its reply for `run` to send once the
    /// session has ended.
    async fn command(&mut self, command: Command) -> Option<oneshot::Sender<Vec<Option<Quality>>>> {
        match command {
            Command::Offer { side, offer, reply } => {
                let answered = match self.legs.get_mut(side.index()) {
                    Some(leg) => leg.answer(*offer, Instant::now()),
                    None => Err(no_such_side()),
                };
                match answered {
                    Ok((answer, candidates, rebuilt)) => {
                        if rebuilt && let Some(s) = self.states.get(side.index()) {
                            s.send_replace(RTCPeerConnectionState::New);
                        }
                        // Before the browser has the answer, so its first check finds the leg.
                        let i = side.index();
                        self.wire.learn(LegKey::Call(i), &mut self.legs[i]);
                        let _ = reply.send(Ok(answer));
                        for candidate in candidates {
                            let _ = self.feed.send((side, candidate));
                        }
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::Ice {
                side,
                candidate,
                reply,
            } => {
                let result = match self.legs.get_mut(side.index()) {
                    Some(leg) => leg.add_remote(candidate),
                    None => Err(no_such_side()),
                };
                let _ = reply.send(result);
            }
            Command::Quality { side, reply } => {
                let _ = reply.send(self.quality(side));
            }
            Command::Close(reply) => return Some(reply),
            Command::Record(feed) => self.recorder = Some(feed),
            Command::StopRecording(reply) => {
                self.recorder = None;
                let _ = reply.send(());
            }
            Command::AddMonitor {
                config,
                offer,
                reply,
            } => {
                let _ = reply.send(self.add_monitor(&config, *offer).await);
            }
            Command::RemoveMonitor { id, reply } => {
                let _ = reply.send(self.remove_monitor(id));
            }
        }
        None
    }

    fn quality(&mut self, side: Side) -> Option<Quality> {
        let counters = self.counters.get(side.index())?.clone();
        let leg = self.legs.get_mut(side.index())?;
        let report = leg.pc.get_stats(Instant::now(), StatsSelector::None);
        let lost = report
            .inbound_rtp_streams()
            .map(|s| s.received_rtp_stream_stats.packets_lost.max(0))
            .sum::<i64>();
        // The pair in use; after an ICE restart earlier pairs may still say nominated.
        let selected = report
            .transport()
            .map(|t| t.selected_candidate_pair_id.clone())
            .unwrap_or_default();
        let in_use = || {
            report
                .candidate_pairs()
                .filter(|p| p.stats.id == selected || (selected.is_empty() && p.nominated))
        };
        let rtt = in_use()
            .map(|p| p.current_round_trip_time)
            .find(|rtt| *rtt > 0.0);
        let path = in_use().find_map(|p| path_of(&report, p));
        use std::sync::atomic::Ordering::Relaxed;
        Some(Quality {
            packets: counters.packets.load(Relaxed),
            bytes: counters.bytes.load(Relaxed),
            lost: u64::try_from(lost).unwrap_or(0),
            rtt_ms: rtt.map(|s| (s * 1000.0 * 10.0).round() / 10.0),
            keyframe_requests: counters.keyframe_requests.load(Relaxed),
            path: path.map(str::to_owned),
        })
    }
}

/// How the browser of a candidate pair reaches videoreg: through a relay when its candidate
/// is a TURN server's, else over the forwarder's candidate's transport (`udp` or `tcp`).
/// webrtc-rs names a pair's candidates by their bare ids and files the candidates' own
/// entries under `RTCLocalIceCandidate_`/`RTCRemoteIceCandidate_` ids; both are tried.
fn path_of(report: &RTCStatsReport, pair: &RTCIceCandidatePairStats) -> Option<&'static str> {
    let entry = |prefix: &str, id: &str| {
        report
            .get(&format!("{prefix}{id}"))
            .or_else(|| report.get(id))
    };
    let Some(RTCStatsReportEntry::LocalCandidate(local)) =
        entry("RTCLocalIceCandidate_", &pair.local_candidate_id)
    else {
        return None;
    };
    // A peer-reflexive remote candidate has no entry: it is no relay.
    let relayed = matches!(
        entry("RTCRemoteIceCandidate_", &pair.remote_candidate_id),
        Some(RTCStatsReportEntry::RemoteCandidate(r)) if r.candidate_type == RTCIceCandidateType::Relay
    );
    Some(if relayed {
        "relay"
    } else if local.protocol.eq_ignore_ascii_case("tcp") {
        "tcp"
    } else {
        "udp"
    })
}

fn no_such_side() -> Error {
    Error::BadMedia("this session has no such side".into())
}
