//! A webrtc-rs peer standing in for a browser, for the tests and benchmarks: webrtc-rs's
//! default codecs and interceptors, UDP over IPv4 on one address (new ports on an ICE
//! restart), no mDNS, and the same
//! outgoing tracks the forwarder uses, with its events as channels (`events.rs`); and a
//! stand-in for a supervisor's monitor, receive-only ([`monitor_client`]).

use std::sync::Arc;

use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, RTCConfiguration, RTCConfigurationBuilder,
    RTCIceServer, RTCIceTransportPolicy, Registry, SettingEngineBuilder,
    register_default_interceptors,
};
use webrtc::rtp_transceiver::RtpSender;

use crate::Error;
use crate::codecs::track;
use crate::events::{EventStreams, channel_events};
use crate::leg::{KINDS, kind_index};

/// How to build a stand-in browser.
pub struct ClientOptions<'a> {
    /// The address its UDP socket binds to (port 0).
    pub ip: &'a str,
    /// STUN/TURN servers it may use.
    pub ice_servers: Vec<RTCIceServer>,
    /// Whether it may use relay candidates only.
    pub relay_only: bool,
    /// The SSRC of its video; audio has the next one.
    pub ssrc_base: u32,
    /// What its track ids are named after.
    pub label: &'a str,
}

/// A stand-in browser: its connection, outgoing tracks with their senders, and events.
pub struct Client {
    pub pc: Arc<dyn PeerConnection>,
    pub video: Arc<TrackLocalStaticRTP>,
    pub audio: Arc<TrackLocalStaticRTP>,
    pub video_sender: Arc<dyn RtpSender>,
    pub audio_sender: Arc<dyn RtpSender>,
    pub events: EventStreams,
}

/// A webrtc-rs connection on `ip` as the stand-ins use it (default codecs and
/// interceptors, UDP over IPv4, no mDNS), and its events.
async fn peer(
    ip: &str,
    configuration: RTCConfiguration,
) -> Result<(Arc<dyn PeerConnection>, EventStreams), Error> {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().map_err(Error::webrtc)?;
    let registry =
        register_default_interceptors(Registry::new(), &mut engine).map_err(Error::webrtc)?;
    let settings = SettingEngineBuilder::new()
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .with_network_types(vec![NetworkType::Udp4])
        // As browsers do, an ICE restart gathers on fresh sockets (new ports).
        .with_discard_local_candidates_during_ice_restart(true)
        .build();
    let (handler, events) = channel_events();
    let pc: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_configuration(configuration)
            .with_media_engine(engine)
            .with_setting_engine(settings)
            .with_interceptor_registry(registry)
            .with_handler(handler)
            .with_udp_addrs(vec![format!("{ip}:0")])
            .build()
            .await
            .map_err(Error::webrtc)?,
    );
    Ok((pc, events))
}

/// Builds a stand-in browser with its video and audio tracks added.
pub async fn client(options: ClientOptions<'_>) -> Result<Client, Error> {
    let configuration = RTCConfigurationBuilder::new().with_ice_servers(options.ice_servers);
    let configuration = if options.relay_only {
        configuration.with_ice_transport_policy(RTCIceTransportPolicy::Relay)
    } else {
        configuration
    };
    let (pc, events) = peer(options.ip, configuration.build()).await?;
    let [video, audio] = KINDS.map(|kind| {
        let ssrc = options.ssrc_base.wrapping_add(kind_index(kind) as u32);
        Arc::new(TrackLocalStaticRTP::new(track(kind, ssrc, options.label)))
    });
    let video_sender = pc.add_track(video.clone()).await.map_err(Error::webrtc)?;
    let audio_sender = pc.add_track(audio.clone()).await.map_err(Error::webrtc)?;
    Ok(Client {
        pc,
        video,
        audio,
        video_sender,
        audio_sender,
        events,
    })
}

/// A stand-in for a supervisor's monitor: a connection with four receive-only transceivers
/// (video, audio, video, audio: the citizen's, then the agent's), and its events.
pub async fn monitor_client(ip: &str) -> Result<(Arc<dyn PeerConnection>, EventStreams), Error> {
    use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
    use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
    let (pc, events) = peer(ip, RTCConfigurationBuilder::new().build()).await?;
    for kind in [
        RtpCodecKind::Video,
        RtpCodecKind::Audio,
        RtpCodecKind::Video,
        RtpCodecKind::Audio,
    ] {
        let init = RTCRtpTransceiverInit {
            direction: RTCRtpTransceiverDirection::Recvonly,
            streams: Vec::new(),
            send_encodings: Vec::new(),
        };
        pc.add_transceiver_from_kind(kind, Some(init))
            .await
            .map_err(Error::webrtc)?;
    }
    Ok((pc, events))
}
