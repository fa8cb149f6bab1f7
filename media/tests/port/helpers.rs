//! Stand-in browsers (webrtc-rs peers) driven straight against `MediaCall`, the way the
//! signaling layer drives it: offer, answer, candidates both ways, then numbered RTP whose
//! payloads say who sent it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use media::{
    CandidateFeed, Client, ClientOptions, MediaCall, MediaConfig, MediaThreads, SharedPort, Side,
    client,
};
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use webrtc::media_stream::Track;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::TrackRemoteEvent;
use webrtc::peer_connection::RTCPeerConnectionState;

/// How long a connection may take before the test fails.
pub const CONNECT_LIMIT: Duration = Duration::from_secs(30);

/// A forwarder configuration on one shared UDP port (and an ICE-TCP port if asked), both
/// bound here on port 0, as `videoreg serve --media-udp-port` binds them.
pub fn shared_config(threads: &MediaThreads, with_tcp: bool) -> MediaConfig {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind the media UDP port");
    let tcp = with_tcp.then(|| std::net::TcpListener::bind("127.0.0.1:0").expect("bind ICE-TCP"));
    let port = SharedPort::start(udp, tcp, threads).expect("start the shared port");
    MediaConfig {
        bind_ip: "127.0.0.1".parse().expect("ip"),
        ports: 1..=1,
        shared: Some(port),
        announce_ip: None,
        ice_servers: Vec::new(),
        turn: None,
    }
}

/// What a peer received: payloads as text, by kind.
pub type Received = Arc<Mutex<Vec<(RtpCodecKind, String)>>>;

/// A stand-in browser on one side of a session.
pub struct Peer {
    pub client: Client,
    pub side: Side,
    pub received: Received,
    /// The candidates it gathered, as given to the forwarder.
    gathered: Arc<Mutex<Vec<String>>>,
    /// The NAT it reaches the forwarder through, if any: then it only learns the forwarder's
    /// address through it, and the forwarder learns the peer's only from its checks.
    pub via: Option<Arc<crate::rebind::Rebinder>>,
}

impl Peer {
    pub async fn new(side: Side, ssrc_base: u32, label: &str) -> Self {
        let client = client(ClientOptions {
            ip: "127.0.0.1",
            ice_servers: Vec::new(),
            relay_only: false,
            ssrc_base,
            label,
        })
        .await
        .expect("stand-in browser");
        let mut peer = Self {
            client,
            side,
            received: Received::default(),
            gathered: Arc::default(),
            via: None,
        };
        peer.spawn_receivers();
        peer
    }

    /// Hands the candidates this peer gathers, now and later (an ICE restart's too), to its
    /// side of `call`.
    pub fn trickle_to(&mut self, call: &Arc<MediaCall>) {
        let (_, mut candidates) = tokio::sync::mpsc::unbounded_channel();
        std::mem::swap(&mut candidates, &mut self.client.events.candidates);
        let (call, side, gathered) = (call.clone(), self.side, self.gathered.clone());
        let behind_nat = self.via.is_some();
        tokio::spawn(async move {
            while let Some(c) = candidates.recv().await {
                gathered.lock().expect("lock").push(c.candidate.clone());
                if behind_nat {
                    // Its own addresses are not reachable from the forwarder.
                    continue;
                }
                if call.add_ice(side, c).await.is_err() {
                    return;
                }
            }
        });
    }

    /// Waits until the connection is up; false after [`CONNECT_LIMIT`].
    pub async fn connected(&self) -> bool {
        let mut state = self.client.events.state.clone();
        let up = state.wait_for(|s| *s == RTCPeerConnectionState::Connected);
        matches!(tokio::time::timeout(CONNECT_LIMIT, up).await, Ok(Ok(_)))
    }

    fn spawn_receivers(&mut self) {
        let (_, mut tracks) = tokio::sync::mpsc::unbounded_channel();
        std::mem::swap(&mut tracks, &mut self.client.events.tracks);
        let received = self.received.clone();
        tokio::spawn(async move {
            while let Some(t) = tracks.recv().await {
                let received = received.clone();
                tokio::spawn(async move {
                    let kind = t.kind().await;
                    while let Some(e) = t.poll().await {
                        if let TrackRemoteEvent::OnRtpPacket(p) = e {
                            let text = String::from_utf8_lossy(&p.payload).into_owned();
                            received.lock().expect("lock").push((kind, text));
                        }
                    }
                });
            }
        });
    }

    /// Offers (an ICE restart if asked) and applies the answer.
    pub async fn offer(&self, call: &MediaCall, restart: bool) {
        if restart {
            // As a page's `restartIce()`: the next offer carries new credentials.
            self.client.pc.restart_ice().await.expect("restart ICE");
        }
        let offer = self.client.pc.create_offer(None).await.expect("offer");
        self.client
            .pc
            .set_local_description(offer.clone())
            .await
            .expect("local offer");
        let mut answer = call.offer(self.side, offer).await.expect("answer");
        if let Some(nat) = &self.via {
            answer =
                media::RTCSessionDescription::answer(nat.rewrite(&answer.sdp)).expect("answer");
        }
        self.client
            .pc
            .set_remote_description(answer)
            .await
            .expect("remote answer");
    }

    /// Sends `count` packets of each kind, 20 ms apart, with payloads `<tag>V<n>` and
    /// `<tag>A<n>`, numbered from `first`.
    pub async fn send(&self, tag: &str, first: u16, count: u16) {
        let tracks = [
            (&self.client.video, 96u8, 'V'),
            (&self.client.audio, 111u8, 'A'),
        ];
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for n in first..first + count {
            tick.tick().await;
            for (track, payload_type, kind) in tracks {
                let ssrc = track.ssrcs().await[0];
                let packet = rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        marker: true,
                        payload_type,
                        sequence_number: n,
                        timestamp: u32::from(n) * 960,
                        ssrc,
                        ..Default::default()
                    },
                    payload: bytes::Bytes::from(format!("{tag}{kind}{n}")),
                };
                let _ = track.write_rtp(packet).await;
            }
        }
    }

    /// The payloads received of one kind.
    pub fn payloads(&self, kind: RtpCodecKind) -> Vec<String> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, p)| p.clone())
            .collect()
    }

    pub async fn close(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.pc.close()).await;
    }
}

/// Hands the forwarder's candidates for each side to that side's peer, for as long as the
/// session gives them; what was given is returned.
pub fn trickle_from(mut feed: CandidateFeed, peers: &[&Peer]) -> Arc<Mutex<Vec<String>>> {
    let pcs: Vec<_> = peers
        .iter()
        .map(|p| (p.side, p.client.pc.clone(), p.via.clone()))
        .collect();
    let given: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = given.clone();
    tokio::spawn(async move {
        while let Some((side, c)) = feed.recv().await {
            record.lock().expect("lock").push(c.candidate.clone());
            if let Some((_, pc, via)) = pcs.iter().find(|(s, _, _)| *s == side) {
                let mut c = c;
                if let Some(nat) = via {
                    c.candidate = nat.rewrite(&c.candidate);
                }
                let _ = pc.add_ice_candidate(c).await;
            }
        }
    });
    given
}

/// Offers from each peer, trickles both ways, and waits until all are connected; the
/// forwarder's candidates are returned.
pub async fn connect(
    call: &Arc<MediaCall>,
    feed: CandidateFeed,
    peers: &mut [&mut Peer],
) -> Arc<Mutex<Vec<String>>> {
    for peer in peers.iter_mut() {
        peer.trickle_to(call);
    }
    let shared: Vec<&Peer> = peers.iter().map(|p| &**p).collect();
    let given = trickle_from(feed, &shared);
    for peer in &shared {
        peer.offer(call, false).await;
    }
    for peer in &shared {
        assert!(
            peer.connected().await,
            "{:?} connected within {CONNECT_LIMIT:?}",
            peer.side
        );
    }
    given
}

/// Waits until `peer` has `count` packets of each kind tagged `from` numbered `from_n` or
/// more; false after [`CONNECT_LIMIT`].
pub async fn until_received(peer: &Peer, from: &str, from_n: u16, count: usize) -> bool {
    let deadline = tokio::time::Instant::now() + CONNECT_LIMIT;
    let enough = || {
        [('V', RtpCodecKind::Video), ('A', RtpCodecKind::Audio)]
            .into_iter()
            .all(|(k, kind)| {
                let prefix = format!("{from}{k}");
                peer.payloads(kind)
                    .iter()
                    .filter_map(|p| p.strip_prefix(&prefix)?.parse::<u16>().ok())
                    .filter(|n| *n >= from_n)
                    .count()
                    >= count
            })
    };
    while !enough() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        // Media arrives on the peer's own tasks; look again shortly.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// Asserts that `peer` got at least `at_least` packets of each kind and only ones tagged
/// `from`.
pub fn only_from(peer: &Peer, from: &str, at_least: usize, who: &str) {
    for kind in [RtpCodecKind::Video, RtpCodecKind::Audio] {
        let got = peer.payloads(kind);
        let k = if kind == RtpCodecKind::Video {
            'V'
        } else {
            'A'
        };
        let prefix = format!("{from}{k}");
        let strangers: Vec<&String> = got.iter().filter(|p| !p.starts_with(&prefix)).collect();
        assert!(
            strangers.is_empty(),
            "{who} got another session's media: {strangers:?}"
        );
        assert!(
            got.len() >= at_least,
            "{who} got {} of {kind} from {from}, wanted {at_least}",
            got.len()
        );
    }
}
