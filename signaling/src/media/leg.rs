//! One peer connection between a browser and the forwarder: its outgoing tracks (what the
//! browser will receive), the tracks the browser sends, and its ICE candidates.

use std::sync::Arc;

use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::interceptor::Slot;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceServer, RTCPeerConnectionState, RTCSessionDescription, Registry,
    SettingEngineBuilder, register_default_interceptors,
};
use webrtc::rtp_transceiver::RtpSender;

use super::events::{EventStreams, channel_events};
use super::tap::KeyframeRequestTap;
use super::{MediaConfig, MediaError};

/// Negotiated payload types of a leg's outgoing tracks: (video, audio).
pub type PayloadTypes = (u8, u8);

/// What the owner of a leg reads from it.
pub struct LegEvents {
    /// Local ICE candidates to send to the browser.
    pub candidates: mpsc::UnboundedReceiver<RTCIceCandidateInit>,
    /// Tracks the browser sends (each appears with its first packet).
    pub tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
}

/// One browser's peer connection with the forwarder.
pub struct Leg {
    pub(super) pc: Arc<dyn PeerConnection>,
    pub(super) video_out: Arc<TrackLocalStaticRTP>,
    pub(super) audio_out: Arc<TrackLocalStaticRTP>,
    video_sender: Arc<dyn RtpSender>,
    audio_sender: Arc<dyn RtpSender>,
    /// The payload types the browser accepted for the outgoing tracks, once answered.
    pub(super) payload_types: watch::Sender<Option<PayloadTypes>>,
    /// Connection state.
    pub(super) state: watch::Receiver<RTCPeerConnectionState>,
    /// Set by `close` (webrtc-rs does not report its own close as a state change).
    closed: std::sync::atomic::AtomicBool,
}

/// The codec of a kind as the forwarder offers it: VP8 (with NACK, PLI and FIR feedback) or
/// Opus.
pub fn codec(kind: RtpCodecKind) -> RTCRtpCodec {
    match kind {
        RtpCodecKind::Video => RTCRtpCodec {
            mime_type: MIME_TYPE_VP8.into(),
            clock_rate: 90_000,
            // Browsers send keyframe requests and NACKs only for feedback the SDP declares.
            rtcp_feedback: ["nack", "nack pli", "ccm fir"]
                .iter()
                .map(|f| {
                    let (typ, parameter) = f.split_once(' ').unwrap_or((f, ""));
                    RTCPFeedback {
                        typ: typ.to_owned(),
                        parameter: parameter.to_owned(),
                    }
                })
                .collect(),
            ..Default::default()
        },
        _ => RTCRtpCodec {
            mime_type: MIME_TYPE_OPUS.into(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
            ..Default::default()
        },
    }
}

/// Only VP8 and Opus: both legs of a call must agree on codecs, since RTP is forwarded as is.
fn media_engine() -> Result<MediaEngine, MediaError> {
    let mut m = MediaEngine::default();
    m.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: codec(RtpCodecKind::Video),
            payload_type: 96,
        },
        RtpCodecKind::Video,
    )
    .map_err(MediaError::webrtc)?;
    m.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: codec(RtpCodecKind::Audio),
            payload_type: 111,
        },
        RtpCodecKind::Audio,
    )
    .map_err(MediaError::webrtc)?;
    Ok(m)
}

/// An outgoing track of a kind with one SSRC, its ids unique to the SSRC.
pub fn out_track(kind: RtpCodecKind, ssrc: u32, label: &str) -> Arc<TrackLocalStaticRTP> {
    let id = match kind {
        RtpCodecKind::Video => "video",
        _ => "audio",
    };
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        // webrtc-rs routes RTCP by track id, looking at received tracks first: ids that a
        // browser could also use would send its keyframe requests to the wrong track.
        format!("videoreg-{label}-{ssrc:08x}"),
        format!("videoreg-{label}-{id}-{ssrc:08x}"),
        format!("videoreg-{label}-{id}-{ssrc:08x}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: codec(kind),
            active: true,
            ..Default::default()
        }],
    )))
}

impl Leg {
    /// A peer connection on the first free port of the range, with outgoing video and audio
    /// tracks (SSRCs `ssrc_base`, `ssrc_base + 1`) ready before the browser's offer arrives.
    pub async fn new(
        config: &MediaConfig,
        ssrc_base: u32,
        label: &str,
    ) -> Result<(Self, LegEvents), MediaError> {
        for port in config.ports.clone() {
            let mut engine = media_engine()?;
            let registry = register_default_interceptors(Registry::new(), &mut engine)
                .map_err(MediaError::webrtc)?
                .with(Slot::from(14_000), KeyframeRequestTap::default());
            let settings = SettingEngineBuilder::new()
                .with_multicast_dns_mode(MulticastDnsMode::Disabled)
                .with_network_types(vec![NetworkType::Udp4])
                .build();
            // The forwarder has a reachable address; it needs STUN at most, never a relay.
            let servers = config
                .ice_servers
                .iter()
                .filter(|s| s.urls.iter().all(|u| u.starts_with("stun:")))
                .map(|s| RTCIceServer {
                    urls: s.urls.clone(),
                    username: s.username.clone().unwrap_or_default(),
                    credential: s.credential.clone().unwrap_or_default(),
                })
                .collect();
            let (
                handler,
                EventStreams {
                    candidates,
                    tracks,
                    state,
                },
            ) = channel_events();
            let built = PeerConnectionBuilder::new()
                .with_configuration(
                    RTCConfigurationBuilder::new()
                        .with_ice_servers(servers)
                        .build(),
                )
                .with_media_engine(engine)
                .with_setting_engine(settings)
                .with_interceptor_registry(registry)
                .with_handler(handler)
                .with_udp_addrs(vec![format!("{}:{port}", config.bind_ip)])
                .build()
                .await;
            let pc: Arc<dyn PeerConnection> = match built {
                Ok(pc) => Arc::new(pc),
                Err(e) => {
                    tracing::debug!(port, error = %e, "media port unusable; trying the next");
                    continue;
                }
            };
            let video_out = out_track(RtpCodecKind::Video, ssrc_base, label);
            let audio_out = out_track(RtpCodecKind::Audio, ssrc_base.wrapping_add(1), label);
            let video_sender = pc
                .add_track(video_out.clone())
                .await
                .map_err(MediaError::webrtc)?;
            let audio_sender = pc
                .add_track(audio_out.clone())
                .await
                .map_err(MediaError::webrtc)?;
            let (payload_types, _) = watch::channel(None);
            let leg = Self {
                pc,
                video_out,
                audio_out,
                video_sender,
                audio_sender,
                payload_types,
                state,
                closed: Default::default(),
            };
            return Ok((leg, LegEvents { candidates, tracks }));
        }
        Err(MediaError::NoPort(config.ports.clone()))
    }

    /// Answers the browser's offer and records the payload types it accepted.
    pub async fn answer(
        &self,
        offer: RTCSessionDescription,
    ) -> Result<RTCSessionDescription, MediaError> {
        self.pc
            .set_remote_description(offer)
            .await
            .map_err(|e| MediaError::BadDescription(e.to_string()))?;
        let answer = self
            .pc
            .create_answer(None)
            .await
            .map_err(MediaError::webrtc)?;
        self.pc
            .set_local_description(answer.clone())
            .await
            .map_err(MediaError::webrtc)?;
        let video = negotiated(&self.video_sender, MIME_TYPE_VP8).await;
        let audio = negotiated(&self.audio_sender, MIME_TYPE_OPUS).await;
        if let (Some(v), Some(a)) = (video, audio) {
            self.payload_types.send_replace(Some((v, a)));
        }
        Ok(answer)
    }

    /// Adds a candidate the browser found.
    pub async fn add_ice(&self, candidate: RTCIceCandidateInit) -> Result<(), MediaError> {
        self.pc
            .add_ice_candidate(candidate)
            .await
            .map_err(MediaError::webrtc)
    }

    /// Whether `close` has been called.
    pub fn pc_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Closes the connection; every task reading its tracks ends.
    pub async fn close(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = self.pc.close().await {
            tracing::debug!(error = %e, "closing a media leg");
        }
    }
}

/// The payload type the browser accepted for `mime` on a sender.
async fn negotiated(sender: &Arc<dyn RtpSender>, mime: &str) -> Option<u8> {
    let params = sender.get_parameters().await.ok()?;
    params
        .rtp_parameters
        .codecs
        .iter()
        .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(mime))
        .map(|c| c.payload_type)
}
