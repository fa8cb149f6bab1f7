//! A media session: two legs forwarding to each other (a call), or one leg forwarding to
//! itself (the test call's echo). Owns every task it starts; `close` ends them all.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use webrtc::media_stream::Track;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    RTCIceCandidateInit, RTCPeerConnectionState, RTCSessionDescription, StatsSelector,
};

pub use crate::protocol::Quality;

use super::leg::{Leg, LegEvents};
use super::{MediaConfig, MediaError};

/// Which browser of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The citizen (also the only side of an echo).
    Citizen,
    /// The agent.
    Agent,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::Citizen => 0,
            Side::Agent => 1,
        }
    }
}

/// What the forwarder has carried from one side: packets and bytes of RTP received, and
/// keyframe requests passed back to it.
#[derive(Debug, Default)]
pub struct SideCounters {
    /// RTP packets received from this side.
    pub packets: AtomicU64,
    /// RTP payload bytes received from this side.
    pub bytes: AtomicU64,
    /// Packets that could not be forwarded (the other side not ready yet, or gone).
    pub dropped: AtomicU64,
    /// Keyframe requests passed back to this side.
    pub keyframe_requests: AtomicU64,
}

/// A running media session.
pub struct MediaCall {
    legs: Vec<Arc<Leg>>,
    counters: [Arc<SideCounters>; 2],
    /// Tasks to stop on close. Locked only to push or drain, never across an `.await`.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// Candidates the forwarder found, for the signaling layer to send to each browser.
pub type CandidateFeed = mpsc::UnboundedReceiver<(Side, RTCIceCandidateInit)>;

impl MediaCall {
    /// A call: the citizen's leg and the agent's leg, each forwarding to the other.
    pub async fn cross(config: &MediaConfig) -> Result<(Arc<Self>, CandidateFeed), MediaError> {
        let (citizen, citizen_events) = Leg::new(config, 0x1000_0000, "citizen").await?;
        let (agent, agent_events) = match Leg::new(config, 0x2000_0000, "agent").await {
            Ok(leg) => leg,
            Err(e) => {
                citizen.close().await;
                return Err(e);
            }
        };
        Ok(Self::start(
            vec![Arc::new(citizen), Arc::new(agent)],
            vec![citizen_events, agent_events],
            config,
        ))
    }

    /// An echo: one leg whose media comes straight back to it.
    pub async fn echo(config: &MediaConfig) -> Result<(Arc<Self>, CandidateFeed), MediaError> {
        let (leg, events) = Leg::new(config, 0x3000_0000, "echo").await?;
        Ok(Self::start(vec![Arc::new(leg)], vec![events], config))
    }

    fn start(
        legs: Vec<Arc<Leg>>,
        events: Vec<LegEvents>,
        config: &MediaConfig,
    ) -> (Arc<Self>, CandidateFeed) {
        let call = Arc::new(Self {
            legs,
            counters: Default::default(),
            tasks: Mutex::new(Vec::new()),
        });
        let (feed_tx, feed) = mpsc::unbounded_channel();
        let sides = [Side::Citizen, Side::Agent];
        let announce = config
            .announce_ip
            .map(|ip| (config.bind_ip.to_string(), ip.to_string()));
        let mut tasks = Vec::new();
        for (
            i,
            LegEvents {
                mut candidates,
                mut tracks,
            },
        ) in events.into_iter().enumerate()
        {
            let side = sides[i];
            let feed_tx = feed_tx.clone();
            let announce = announce.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(mut c) = candidates.recv().await {
                    if c.sdp_mid.as_deref() == Some("") {
                        c.sdp_mid = None;
                    }
                    if let Some((private, public)) = &announce {
                        c.candidate = c.candidate.replace(private.as_str(), public);
                    }
                    if feed_tx.send((side, c)).is_err() {
                        break;
                    }
                }
            }));
            let target = if call.legs.len() == 2 { 1 - i } else { i };
            let to_leg = call.legs[target].clone();
            let counters = call.counters[i].clone();
            let weak = Arc::downgrade(&call);
            tasks.push(tokio::spawn(async move {
                while let Some(track) = tracks.recv().await {
                    let Some(call) = weak.upgrade() else { break };
                    call.forward(track, &to_leg, counters.clone());
                }
            }));
        }
        call.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(tasks);
        (call, feed)
    }

    /// Starts forwarding one incoming track to the other leg's matching outgoing track and,
    /// for video, passing that outgoing track's keyframe requests back to the sender. The
    /// tasks end by themselves when the legs close (their track streams end).
    fn forward(&self, track: Arc<dyn TrackRemote>, to: &Arc<Leg>, counters: Arc<SideCounters>) {
        let to = to.clone();
        let forwarding = tokio::spawn(async move {
            let kind = track.kind().await;
            let out = match kind {
                RtpCodecKind::Video => to.video_out.clone(),
                _ => to.audio_out.clone(),
            };
            let Some(ssrc) = out.ssrcs().await.first().copied() else {
                return;
            };
            if kind == RtpCodecKind::Video {
                tokio::spawn(relay_keyframe_requests(
                    to.clone(),
                    track.clone(),
                    counters.clone(),
                ));
            }
            let mut types = to.payload_types.subscribe();
            // The negotiated payload type, re-read only when a (re)negotiation changes it.
            let mut payload_type = None;
            types.mark_changed();
            while let Some(event) = track.poll().await {
                let TrackRemoteEvent::OnRtpPacket(mut packet) = event else {
                    continue;
                };
                counters.packets.fetch_add(1, Ordering::Relaxed);
                counters
                    .bytes
                    .fetch_add(packet.payload.len() as u64, Ordering::Relaxed);
                if types.has_changed().unwrap_or(false) {
                    payload_type = types.borrow_and_update().map(|(video, audio)| {
                        if kind == RtpCodecKind::Video {
                            video
                        } else {
                            audio
                        }
                    });
                }
                let Some(pt) = payload_type else {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                packet.header.ssrc = ssrc;
                packet.header.payload_type = pt;
                // Extension ids are per connection; the other leg may not know these.
                packet.header.extension = false;
                packet.header.extensions.clear();
                if out.write_rtp(packet).await.is_err() {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(forwarding);
    }

    /// Answers a side's offer.
    pub async fn offer(
        &self,
        side: Side,
        offer: RTCSessionDescription,
    ) -> Result<RTCSessionDescription, MediaError> {
        self.leg(side)?.answer(offer).await
    }

    /// Adds a side's ICE candidate.
    pub async fn add_ice(
        &self,
        side: Side,
        candidate: RTCIceCandidateInit,
    ) -> Result<(), MediaError> {
        self.leg(side)?.add_ice(candidate).await
    }

    fn leg(&self, side: Side) -> Result<&Arc<Leg>, MediaError> {
        self.legs
            .get(side.index())
            .ok_or_else(|| MediaError::BadDescription("this session has no such side".into()))
    }

    /// A side's connection state, as webrtc-rs reports it.
    pub fn connection_state(&self, side: Side) -> Option<RTCPeerConnectionState> {
        self.legs.get(side.index()).map(|l| *l.state.borrow())
    }

    /// A side's connection quality now: what the forwarder received from it, what RTP
    /// reports say was lost on the way, and the round-trip time of its ICE pair.
    pub async fn quality(&self, side: Side) -> Option<Quality> {
        let leg = self.legs.get(side.index())?;
        let counters = &self.counters[side.index()];
        let report = leg
            .pc
            .get_stats(std::time::Instant::now(), StatsSelector::None)
            .await;
        let lost = report
            .inbound_rtp_streams()
            .map(|s| s.received_rtp_stream_stats.packets_lost.max(0))
            .sum::<i64>();
        let rtt = report
            .candidate_pairs()
            .filter(|p| p.nominated)
            .map(|p| p.current_round_trip_time)
            .find(|rtt| *rtt > 0.0);
        Some(Quality {
            packets: counters.packets.load(Ordering::Relaxed),
            bytes: counters.bytes.load(Ordering::Relaxed),
            lost: u64::try_from(lost).unwrap_or(0),
            rtt_ms: rtt.map(|s| (s * 1000.0 * 10.0).round() / 10.0),
            keyframe_requests: counters.keyframe_requests.load(Ordering::Relaxed),
        })
    }

    /// What has been carried from a side.
    pub fn counters(&self, side: Side) -> &SideCounters {
        &self.counters[side.index()]
    }

    /// Closes both legs and stops every task.
    pub async fn close(&self) {
        for leg in &self.legs {
            leg.close().await;
        }
        let tasks: Vec<JoinHandle<()>> = self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        for t in tasks {
            t.abort();
        }
    }
}

/// Passes keyframe requests that the receiving browser sends for `to`'s outgoing video back
/// to the sender of `upstream`, re-addressed to its SSRC.
async fn relay_keyframe_requests(
    to: Arc<Leg>,
    upstream: Arc<dyn TrackRemote>,
    counters: Arc<SideCounters>,
) {
    // The outgoing track's events flow only once its connection is up; a poll started
    // earlier waits on a stream that binding replaces.
    let mut state = to.state.clone();
    if state
        .wait_for(|s| *s == RTCPeerConnectionState::Connected)
        .await
        .is_err()
    {
        return;
    }
    let media_ssrc = upstream.ssrcs().await.first().copied().unwrap_or(0);
    loop {
        while let Some(event) = to.video_out.poll().await {
            let TrackLocalEvent::OnRtcpPacket(_) = event else {
                continue;
            };
            counters.keyframe_requests.fetch_add(1, Ordering::Relaxed);
            let pli = PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc,
            };
            if upstream.write_rtcp(vec![Box::new(pli)]).await.is_err() {
                return;
            }
        }
        // The stream also ends while the track is still being bound after the answer; it
        // ends for good when the connection closes.
        if matches!(
            *to.state.borrow(),
            RTCPeerConnectionState::Closed | RTCPeerConnectionState::Failed
        ) || to.pc_closed()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
