//! What the forwarder offers: VP8 and Opus only, with the feedback browsers need, and the
//! outgoing tracks that carry forwarded media. Both legs of a call must agree on codecs, since
//! RTP is forwarded as is.

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_OPUS, MIME_TYPE_VP8, MediaEngine,
};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};

use crate::Error;

/// The codec of a kind as the forwarder offers it: VP8 (with NACK, PLI and FIR feedback) or
/// Opus.
pub(super) fn codec(kind: RtpCodecKind) -> RTCRtpCodec {
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

/// The MIME type the forwarder uses for a kind.
pub(super) fn mime(kind: RtpCodecKind) -> &'static str {
    match kind {
        RtpCodecKind::Video => MIME_TYPE_VP8,
        _ => MIME_TYPE_OPUS,
    }
}

/// A media engine with only VP8 (payload type 96) and Opus (111).
pub(super) fn media_engine() -> Result<MediaEngine, Error> {
    let mut m = MediaEngine::default();
    for (kind, payload_type) in [(RtpCodecKind::Video, 96), (RtpCodecKind::Audio, 111)] {
        m.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: codec(kind),
                payload_type,
            },
            kind,
        )
        .map_err(Error::webrtc)?;
    }
    Ok(m)
}

/// A track of a kind with one SSRC, its ids unique to the SSRC.
pub(super) fn track(kind: RtpCodecKind, ssrc: u32, label: &str) -> MediaStreamTrack {
    let id = match kind {
        RtpCodecKind::Video => "video",
        _ => "audio",
    };
    MediaStreamTrack::new(
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
    )
}
