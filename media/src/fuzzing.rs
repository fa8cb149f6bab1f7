//! For the fuzz targets (feature `fuzzing`): what a browser can hand a leg, without sockets
//! or threads. A browser's offer goes through the same negotiation as in a call
//! (`Leg::answer`), and datagrams through the same state machine (`Leg::received`); RTP
//! payloads and sender reports go through the recorder's tracks (depacketising, placing on
//! the timeline) as the recorder's writer hands them on.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use rtc::peer_connection::sdp::RTCSessionDescription;

use crate::leg::{Leg, Shape};
use crate::session::LegAddrs;

/// The address a detached leg speaks from.
const HERE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);
/// Where the fuzzed datagrams come from.
const THERE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50_000);

/// A call's leg reached at `HERE` over UDP and ICE-TCP, as on a shared port.
fn leg() -> Option<Leg> {
    let addrs = LegAddrs {
        udp: HERE,
        tcp: Some(HERE),
    };
    Leg::new(addrs, 0x0F00_0000, "fuzz", Shape::Pair).ok()
}

/// Answers `sdp` as a browser's offer; whether an answer was made.
pub fn answer_offer(sdp: &str) -> bool {
    let Ok(offer) = RTCSessionDescription::offer(sdp.to_owned()) else {
        return false;
    };
    let Some(mut leg) = leg() else {
        return false;
    };
    leg.answer(offer, Instant::now()).is_ok()
}

/// Answers `offer_sdp` (when it can), then hands the leg each datagram in turn, as if they
/// arrived on its socket from the browser.
pub fn datagrams_after_offer(offer_sdp: &str, datagrams: &[&[u8]]) {
    let Some(mut leg) = leg() else {
        return;
    };
    if let Ok(offer) = RTCSessionDescription::offer(offer_sdp.to_owned()) {
        let _ = leg.answer(offer, Instant::now());
    }
    for d in datagrams {
        leg.received(bytes::BytesMut::from(*d), THERE, false, Instant::now());
    }
}

/// Hands a video track and an audio track of the recorder the packets and sender reports
/// read from `data`, as the writer does: never a panic, whatever the payloads, sequence
/// numbers, timestamps, SSRCs and reports. Each record: a flags byte (bit 0 video, bit 1
/// marker, bit 2 a sender report instead of a packet), the SSRC's low byte, sequence number
/// (2 bytes), RTP timestamp (4), milliseconds since the last record (1), a payload length (1)
/// and the payload; a report's NTP time is taken from the next 8 bytes.
pub fn recorder_packets(data: &[u8]) {
    use crate::recorder::Track;
    let mut tracks = [Track::video(), Track::audio()];
    let mut at_ns: u64 = 0;
    let mut rest = data;
    while let [flags, ssrc, s1, s2, t1, t2, t3, t4, dt, len, tail @ ..] = rest {
        let track = &mut tracks[usize::from(flags & 1 == 0)];
        let ssrc = 0x0C00_0000 | u32::from(*ssrc);
        let seq = u16::from_be_bytes([*s1, *s2]);
        let rtp_ts = u32::from_be_bytes([*t1, *t2, *t3, *t4]);
        at_ns = at_ns.saturating_add(u64::from(*dt) * 1_000_000);
        if flags & 4 != 0 {
            let Some((ntp, after)) = tail.split_first_chunk::<8>() else {
                return;
            };
            // As the writer places a side's first report: arrival minus the sender's clock.
            let ntp = crate::recorder::ntp_ns(u64::from_be_bytes(*ntp));
            let offset = i64::try_from(at_ns).unwrap_or(i64::MAX) - ntp;
            track.sender_report(rtp_ts, ntp, offset);
            rest = after;
            continue;
        }
        let n = usize::from(*len).min(tail.len());
        let (payload, after) = tail.split_at(n);
        let _frames = track.push(
            ssrc,
            seq,
            rtp_ts,
            flags & 2 != 0,
            bytes::Bytes::copy_from_slice(payload),
            at_ns,
        );
        rest = after;
    }
}
