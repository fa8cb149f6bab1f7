//! One browser's peer connection with the forwarder: webrtc-rs's sans-I/O state machine
//! (`rtc`), the addresses browsers reach it at (UDP, and passive ICE-TCP on a shared port),
//! and what the forwarder needs to route the media it receives. A leg does no I/O of its
//! own; the session that owns it does (`session::wire`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bytes::BytesMut;
use rtc::ice::tcp_type::TcpType;
use rtc::interceptor::{NackGeneratorBuilder, NackResponderBuilder};
use rtc::interceptor::{Registry, Slot};
use rtc::media_stream::MediaStreamTrackId;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::{
    configure_rtcp_reports, configure_simulcast_extension_headers, configure_twcc_receiver_only,
};
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::{
    CandidateConfig, CandidateHostConfig, RTCIceCandidate, RTCIceCandidateInit,
};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::rtp_transceiver::{RTCRtpReceiverId, RTCRtpSenderId};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};

use crate::Error;
use crate::MediaConfig;
use crate::codecs::{media_engine, mime, track};
use crate::session::LegAddrs;
use crate::tap::KeyframeRequestTap;

/// The kinds a leg carries, in the order of its per-kind arrays.
pub(super) const KINDS: [RtpCodecKind; 2] = [RtpCodecKind::Video, RtpCodecKind::Audio];

/// A kind as an index into a leg's per-kind arrays (`KINDS`): video 0, audio 1.
pub(super) fn kind_index(kind: RtpCodecKind) -> usize {
    match kind {
        RtpCodecKind::Video => 0,
        _ => 1,
    }
}

/// A track the browser sends.
#[derive(Debug, Clone, Copy)]
pub(super) struct Incoming {
    /// `kind_index` of the track.
    pub kind: usize,
    /// Its receiver, through which keyframe requests go back to the browser.
    pub receiver: RTCRtpReceiverId,
}

/// A track the forwarder sends the browser: which kind, and which side's media it carries
/// (a monitor's leg carries both sides).
#[derive(Debug, Clone)]
pub(super) struct Outgoing {
    /// `kind_index` of the track.
    pub kind: usize,
    /// The side whose media it carries (0 citizen, 1 agent; a call's leg: the other side).
    pub source: usize,
    sender: RTCRtpSenderId,
    ssrc: u32,
    /// The browser's keyframe requests arrive under this id.
    track_id: MediaStreamTrackId,
    /// The payload type the browser accepted, once answered.
    payload_type: Option<u8>,
}

/// The tracks a leg sends: a call's or echo's leg one video and one audio (slots 0 and 1,
/// by `kind_index`); a monitor's leg both sides' (slots `2 * side + kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// Video and audio from one source.
    Pair,
    /// Video and audio from each side, receive-only for the browser.
    Monitor,
}

/// One browser's peer connection with the forwarder.
pub(super) struct Leg {
    pub pc: RTCPeerConnection,
    /// The address browsers are told and the state machine knows as this leg's own (the
    /// socket's, or the announced one behind 1:1 NAT).
    ice_addr: SocketAddr,
    /// Its passive ICE-TCP address, as announced, on a shared port with ICE-TCP.
    tcp_addr: Option<SocketAddr>,
    /// The outgoing tracks, by slot (see [`Shape`]).
    outgoing: Vec<Outgoing>,
    shape: Shape,
    /// The tracks the browser sends, by id: the first of each kind (more are not forwarded).
    incoming: HashMap<MediaStreamTrackId, Incoming>,
    /// Candidates the browser has given since the connection was made.
    remote_candidates: usize,
    /// Whether the connection is up (DTLS done): only then is media forwarded into it.
    pub connected: bool,
    /// What the outgoing tracks are named after, for building the connection again.
    ssrc_base: u32,
    label: &'static str,
}

/// The most candidates one browser connection may give; a browser gives a handful.
const MAX_REMOTE_CANDIDATES: usize = 32;

/// A fresh state machine with the outgoing tracks of `shape`: the connection and its
/// tracks, by slot.
fn peer_connection(
    ssrc_base: u32,
    label: &str,
    shape: Shape,
) -> Result<(RTCPeerConnection, Vec<Outgoing>), Error> {
    let mut engine = media_engine()?;
    let registry = interceptors(&mut engine, shape)?;
    let mut pc = RTCPeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(engine)
        .with_interceptor_registry(registry)
        .build(Instant::now())
        .map_err(Error::webrtc)?;
    let sources: &[(usize, &str)] = match shape {
        Shape::Pair => &[(0, label)],
        Shape::Monitor => &[(0, "citizen"), (1, "agent")],
    };
    let mut outgoing = Vec::new();
    for (n, (source, name)) in sources.iter().enumerate() {
        for (i, kind) in KINDS.into_iter().enumerate() {
            let ssrc = ssrc_base.wrapping_add((2 * n + i) as u32);
            let t = track(kind, ssrc, name);
            let track_id = t.track_id().to_owned();
            let sender = pc.add_track(t).map_err(Error::webrtc)?;
            outgoing.push(Outgoing {
                kind: i,
                source: *source,
                sender,
                ssrc,
                track_id,
                payload_type: None,
            });
        }
    }
    Ok((pc, outgoing))
}

/// The DTLS fingerprint lines of a description: a browser's new connection has a new one.
fn fingerprint(sdp: &str) -> Vec<&str> {
    sdp.lines()
        .filter(|l| l.starts_with("a=fingerprint:"))
        .collect()
}

impl Leg {
    /// A leg that browsers reach at `addrs`, with outgoing video and audio tracks (SSRCs
    /// from `ssrc_base`) ready before the browser's offer arrives. It does no I/O: the
    /// session's wire (`session::wire`) carries its packets; the fuzz targets hand it offers
    /// and datagrams directly.
    pub(crate) fn new(
        addrs: LegAddrs,
        ssrc_base: u32,
        label: &'static str,
        shape: Shape,
    ) -> Result<Self, Error> {
        let (pc, outgoing) = peer_connection(ssrc_base, label, shape)?;
        Ok(Self {
            pc,
            ice_addr: addrs.udp,
            tcp_addr: addrs.tcp,
            outgoing,
            shape,
            incoming: HashMap::new(),
            remote_candidates: 0,
            connected: false,
            ssrc_base,
            label,
        })
    }

    /// Replaces the state machine with a fresh one on the same socket: for an offer from a
    /// new browser connection (a reloaded page, a resumed call), which needs a new DTLS
    /// handshake that renegotiating the old connection would never start.
    fn rebuild(&mut self) -> Result<(), Error> {
        let (pc, outgoing) = peer_connection(self.ssrc_base, self.label, self.shape)?;
        let mut old = std::mem::replace(&mut self.pc, pc);
        if let Err(e) = old.close() {
            tracing::debug!(error = %e, "closing a replaced media connection");
        }
        self.outgoing = outgoing;
        self.incoming.clear();
        self.remote_candidates = 0;
        self.connected = false;
        Ok(())
    }

    /// Answers the browser's offer (first or renegotiated, ICE restarts included; from a new
    /// browser connection, on a fresh state machine) and records the payload types it
    /// accepted. Returns the answer, the host candidates to tell the browser (UDP, then
    /// passive TCP where there is an ICE-TCP port), and whether the state machine was
    /// replaced.
    pub fn answer(
        &mut self,
        offer: RTCSessionDescription,
        now: Instant,
    ) -> Result<(RTCSessionDescription, Vec<RTCIceCandidateInit>, bool), Error> {
        let new_browser_connection = self
            .pc
            .remote_description()
            .is_some_and(|current| fingerprint(&current.sdp) != fingerprint(&offer.sdp));
        if new_browser_connection {
            self.rebuild()?;
        }
        self.pc
            .set_remote_description(now, offer)
            .map_err(|e| Error::BadMedia(e.to_string()))?;
        // Added on every answer: the state machine ignores it when it has it, and drops its
        // candidates when ICE fails, which an ICE restart must be able to recover from.
        let mut told = vec![host_candidate(self.ice_addr, TcpType::Unspecified)?];
        if let Some(tcp) = self.tcp_addr {
            told.push(host_candidate(tcp, TcpType::Passive)?);
        }
        for candidate in &told {
            self.pc
                .add_local_candidate(candidate.clone())
                .map_err(Error::webrtc)?;
        }
        let answer = self.pc.create_answer(None).map_err(Error::webrtc)?;
        self.pc
            .set_local_description(now, answer.clone())
            .map_err(Error::webrtc)?;
        for out in &mut self.outgoing {
            let kind = KINDS[out.kind];
            out.payload_type = self.pc.rtp_sender(out.sender).and_then(|mut s| {
                s.get_parameters()
                    .rtp_parameters
                    .codecs
                    .iter()
                    .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(mime(kind)))
                    .map(|c| c.payload_type)
            });
        }
        // The answer as set, with what setting it added (fingerprint, candidates).
        let answer = self.pc.local_description().unwrap_or(answer);
        Ok((answer, told, new_browser_connection))
    }

    /// Adds a candidate the browser found (at most `MAX_REMOTE_CANDIDATES` per connection).
    pub fn add_remote(&mut self, candidate: RTCIceCandidateInit) -> Result<(), Error> {
        if self.remote_candidates >= MAX_REMOTE_CANDIDATES {
            return Err(Error::BadMedia(format!(
                "more than {MAX_REMOTE_CANDIDATES} candidates"
            )));
        }
        self.remote_candidates += 1;
        self.pc
            .add_remote_candidate(candidate)
            .map_err(Error::webrtc)
    }

    /// Notes a track the browser opened; only the first of each kind is forwarded, since
    /// each outgoing track carries one source.
    pub fn track_opened(&mut self, track_id: MediaStreamTrackId, receiver: RTCRtpReceiverId) {
        let kind = self
            .pc
            .rtp_receiver(receiver)
            .map(|r| kind_index(r.track().kind()));
        let Some(kind) = kind else { return };
        if self.incoming.values().any(|t| t.kind == kind) {
            tracing::debug!(%track_id, "a second track of one kind is not forwarded");
            return;
        }
        self.incoming.insert(track_id, Incoming { kind, receiver });
    }

    /// Forgets a track the browser closed.
    pub fn track_closed(&mut self, track_id: &str) {
        self.incoming.remove(track_id);
    }

    /// A track the browser sends, by id.
    pub fn incoming(&self, track_id: &str) -> Option<Incoming> {
        self.incoming.get(track_id).copied()
    }

    /// The browser's track of a kind (the first, should it send several).
    pub fn incoming_of_kind(&mut self, kind: usize) -> Option<(RTCRtpReceiverId, u32)> {
        let receiver = self
            .incoming
            .values()
            .find(|t| t.kind == kind)
            .map(|t| t.receiver)?;
        let ssrc = self
            .pc
            .rtp_receiver(receiver)
            .and_then(|r| r.track().ssrcs().next())?;
        Some((receiver, ssrc))
    }

    /// Which outgoing track a track id names: its kind (`kind_index`) and source side.
    pub fn outgoing_of(&self, track_id: &str) -> Option<(usize, usize)> {
        self.outgoing
            .iter()
            .find(|o| o.track_id == track_id)
            .map(|o| (o.kind, o.source))
    }

    /// Sends a forwarded packet on outgoing track `slot`, re-addressed to its SSRC and
    /// negotiated payload type. False when it cannot go (not negotiated yet, or refused).
    pub fn send_rtp(&mut self, slot: usize, mut packet: rtc::rtp::Packet, now: Instant) -> bool {
        let Some(out) = self.outgoing.get(slot) else {
            return false;
        };
        let Some(pt) = out.payload_type else {
            return false;
        };
        packet.header.ssrc = out.ssrc;
        packet.header.payload_type = pt;
        // Extension ids are per connection; the receiving browser may not know these.
        packet.header.extension = false;
        packet.header.extensions.clear();
        match self.pc.rtp_sender(out.sender) {
            Some(mut sender) => sender.write_rtp(now, packet).is_ok(),
            None => false,
        }
    }

    /// The ICE username fragment of the forwarder's side, from the answer last given: the
    /// browser's checks name the leg by it. Read from the ICE transport, which every
    /// negotiated sender shares (bundled).
    pub fn local_ufrag(&mut self) -> Option<String> {
        let senders: Vec<RTCRtpSenderId> = self.outgoing.iter().map(|o| o.sender).collect();
        senders.into_iter().find_map(|id| {
            let sender = self.pc.rtp_sender(id)?;
            let ice = sender.transport()?.ice_transport();
            ice.get_local_parameters().map(|p| p.username_fragment)
        })
    }

    /// Hands a packet that arrived (a UDP datagram, or an ICE-TCP frame) to the state machine.
    pub fn received(&mut self, packet: BytesMut, from: SocketAddr, tcp: bool, now: Instant) {
        let (local_addr, transport_protocol) = match (tcp, self.tcp_addr) {
            (true, Some(addr)) => (addr, TransportProtocol::TCP),
            _ => (self.ice_addr, TransportProtocol::UDP),
        };
        let read = self.pc.handle_read(TaggedBytesMut {
            now,
            transport: TransportContext {
                local_addr,
                peer_addr: from,
                ecn: None,
                transport_protocol,
            },
            message: packet,
        });
        if let Err(e) = read {
            tracing::debug!(error = %e, "media datagram refused");
        }
    }
}

/// Sent video packets a leg keeps for answering retransmission requests (NACK): 0.7–1.5 s of
/// a browser's video (90–170 packets/s), longer than a retransmission is any use to a live
/// picture. webrtc-rs keeps 1,024 per stream by default, about 1 MiB per leg.
const NACK_HISTORY: u16 = 128;

/// webrtc-rs's default interceptors (NACK both ways, RTCP reports, transport-wide congestion
/// feedback for the sender's estimate) with a shorter NACK history, and the keyframe-request
/// tap. The codecs already declare NACK and PLI feedback (`codecs::codec`). A monitor's leg
/// receives nothing and keeps no copies for retransmission: RTCP reports and the tap only
/// (a supervisor's view may lose a packet; the call's legs never do for it).
fn interceptors(engine: &mut MediaEngine, shape: Shape) -> Result<Registry, Error> {
    let registry = match shape {
        Shape::Monitor => Registry::new(),
        Shape::Pair => {
            let registry = Registry::new()
                .with(
                    Slot::NackResponder,
                    NackResponderBuilder::new().with_size(NACK_HISTORY).build(),
                )
                .with(Slot::NackGenerator, NackGeneratorBuilder::new().build());
            configure_simulcast_extension_headers(engine).map_err(Error::webrtc)?;
            configure_twcc_receiver_only(registry, engine).map_err(Error::webrtc)?
        }
    };
    Ok(configure_rtcp_reports(registry).with(Slot::from(14_000), KeyframeRequestTap::default()))
}

/// The one address browsers are told: the announced one, or the bound one, or for a wildcard
/// the first interface address that is not loopback or link-local. One address, because a
/// wildcard socket cannot tell which of several addresses a datagram was sent to.
pub(crate) fn announced_address(config: &MediaConfig, bound: IpAddr) -> Result<IpAddr, Error> {
    if let Some(ip) = config.announce_ip {
        return Ok(ip);
    }
    if !bound.is_unspecified() {
        return Ok(bound);
    }
    rtc::shared::ifaces::ifaces()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| i.addr.map(|a| a.ip()))
        .find(|ip| {
            ip.is_ipv4() == bound.is_ipv4()
                && !ip.is_loopback()
                && !ip.is_unspecified()
                && !is_link_local(ip)
        })
        .ok_or(Error::NoAddress)
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// A host candidate for `addr`, as the browser receives it: UDP, or passive TCP (whose
/// priority is lower by RFC 6544's local preference, so that browsers use it only when UDP
/// fails).
fn host_candidate(addr: SocketAddr, tcp: TcpType) -> Result<RTCIceCandidateInit, Error> {
    let network = if tcp == TcpType::Passive {
        "tcp"
    } else {
        "udp"
    };
    let candidate = CandidateHostConfig {
        base_config: CandidateConfig {
            network: network.to_owned(),
            address: addr.ip().to_string(),
            port: addr.port(),
            component: 1,
            ..Default::default()
        },
        tcp_type: tcp,
    }
    .new_candidate_host()
    .map_err(Error::webrtc)?;
    let mut init = RTCIceCandidate::from(&candidate)
        .to_json()
        .map_err(Error::webrtc)?;
    // Browsers match a candidate by `sdpMid` when it is given: an empty one matches nothing.
    init.sdp_mid = None;
    Ok(init)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(bind_ip: &str, announce_ip: Option<&str>) -> MediaConfig {
        MediaConfig {
            bind_ip: bind_ip.parse().expect("ip"),
            ports: 40_000..=40_001,
            shared: None,
            announce_ip: announce_ip.map(|ip| ip.parse().expect("ip")),
            ice_servers: Vec::new(),
            turn: None,
        }
    }

    #[test]
    fn a_state_machine_can_be_built_with_the_crypto_this_crate_enables() {
        // webrtc-rs refuses a peer connection without a crypto provider for DTLS; the
        // binary has only what `signaling` itself turns on (`scripts/test` runs this alone).
        let built = peer_connection(0x1000_0000, "check", Shape::Pair);
        assert!(built.is_ok(), "{:?}", built.err());
    }

    #[test]
    fn browsers_are_told_the_announced_address_before_the_bound_one() {
        let bound: IpAddr = "10.0.0.5".parse().expect("ip");
        let c = config("10.0.0.5", Some("203.0.113.7"));
        assert_eq!(
            announced_address(&c, bound).expect("address").to_string(),
            "203.0.113.7"
        );
        let c = config("10.0.0.5", None);
        assert_eq!(announced_address(&c, bound).expect("address"), bound);
    }

    #[test]
    fn a_wildcard_is_announced_as_an_interface_address_never_loopback() {
        let c = config("0.0.0.0", None);
        match announced_address(&c, "0.0.0.0".parse().expect("ip")) {
            Ok(ip) => {
                assert!(
                    ip.is_ipv4() && !ip.is_loopback() && !ip.is_unspecified(),
                    "{ip}"
                );
            }
            // A machine with only loopback: refused with a reason, not announced.
            Err(e) => assert!(matches!(e, Error::NoAddress)),
        }
    }

    #[test]
    fn a_host_candidate_names_the_address_and_no_media_id() {
        let c = host_candidate(
            "203.0.113.7:40000".parse().expect("addr"),
            TcpType::Unspecified,
        )
        .expect("candidate");
        assert!(c.candidate.starts_with("candidate:"), "{}", c.candidate);
        assert!(
            c.candidate.contains("udp") && c.candidate.contains("203.0.113.7 40000 typ host"),
            "{}",
            c.candidate
        );
        assert_eq!(c.sdp_mid, None);
        assert_eq!(c.sdp_mline_index, Some(0));
    }

    #[test]
    fn a_tcp_candidate_is_passive_and_ranks_below_udp() {
        let addr = "203.0.113.7:443".parse().expect("addr");
        let tcp = host_candidate(addr, TcpType::Passive).expect("candidate");
        let udp = host_candidate(addr, TcpType::Unspecified).expect("candidate");
        assert!(
            tcp.candidate.contains(" tcp ") && tcp.candidate.ends_with("tcptype passive"),
            "{}",
            tcp.candidate
        );
        let priority = |c: &RTCIceCandidateInit| -> u64 {
            c.candidate
                .split(' ')
                .nth(3)
                .and_then(|p| p.parse().ok())
                .expect("priority")
        };
        assert!(
            priority(&tcp) < priority(&udp),
            "{} / {}",
            tcp.candidate,
            udp.candidate
        );
    }
}
