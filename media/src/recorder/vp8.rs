//! VP8 frames out of RTP (RFC 7741), without decoding: packets are put back in sequence order
//! (retransmissions answer the forwarder's NACKs late), the payload descriptor is stripped
//! (webrtc-rs's `Vp8Packet` parses it), and a frame's packets are joined from the one that
//! starts partition 0 to the one with the marker bit. A frame with a packet missing is
//! dropped, and so is every frame after it until the next keyframe, since a decoder cannot
//! use them: the recorder then asks the sender for a keyframe. (webrtc-rs's `SampleBuilder`
//! does the reassembly too, but keeps two 65,536-slot arrays per track, megabytes a call.)

use std::collections::BTreeMap;

use rtc::rtp::codec::vp8::Vp8Packet;
use rtc::rtp::packetizer::Depacketizer;

use super::track::{MediaPacket, Sequence};

/// How long (by arrival, in ns) a hole in the sequence is waited for: a retransmission the
/// forwarder asked for arrives within a round trip or two.
const HOLE_WAIT_NS: u64 = 300_000_000;
/// The most packets held back behind a hole (about 2 s of a browser's video).
const HOLE_PACKETS: usize = 256;

/// A whole VP8 frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Vp8Frame {
    /// The frame, as a decoder takes it.
    pub data: Vec<u8>,
    /// Whether it is a keyframe (decodable on its own).
    pub key: bool,
    /// Its time on the recording's timeline (ns): that of its first packet.
    pub at_ns: u64,
}

/// A frame being put together.
struct Partial {
    rtp_ts: u32,
    at_ns: u64,
    data: Vec<u8>,
}

/// Reassembles one sender's VP8 frames.
pub(super) struct Vp8Depacketiser {
    seq: Sequence,
    /// Packets waiting for an earlier one, by extended sequence number.
    held: BTreeMap<u64, MediaPacket>,
    /// The sequence number due next.
    next: Option<u64>,
    partial: Option<Partial>,
    /// Frames are dropped until a keyframe: at the start and after a loss.
    need_key: bool,
    /// Frames lost or dropped waiting for a keyframe.
    pub dropped: u64,
}

impl Default for Vp8Depacketiser {
    fn default() -> Self {
        Self {
            seq: Sequence::default(),
            held: BTreeMap::new(),
            next: None,
            partial: None,
            need_key: true,
            dropped: 0,
        }
    }
}

impl Vp8Depacketiser {
    /// Whether it waits for a keyframe (to ask the sender for one).
    pub fn needs_keyframe(&self) -> bool {
        self.need_key
    }

    /// Takes a packet (in arrival order, `at_ns` already on the recording's timeline) and
    /// returns the frames it completes.
    pub fn push(&mut self, packet: MediaPacket) -> Vec<Vp8Frame> {
        let mut out = Vec::new();
        let Some(ext) = self.seq.extend(packet.seq) else {
            // A jump no reordering explains: a new stream on the same SSRC.
            self.restart();
            return self.push(packet);
        };
        match self.next {
            Some(next) if ext < next => return out, // late or repeated
            None => self.next = Some(ext),
            Some(_) => {}
        }
        let newest = packet.at_ns;
        self.held.insert(ext, packet);
        while let Some(next) = self.next {
            if let Some(p) = self.held.remove(&next) {
                self.next = Some(next + 1);
                self.consume(p, &mut out);
                continue;
            }
            let Some((&first, oldest)) = self.held.first_key_value() else {
                break;
            };
            if newest.saturating_sub(oldest.at_ns) < HOLE_WAIT_NS && self.held.len() < HOLE_PACKETS
            {
                break;
            }
            // The hole will not be filled: what was begun is lost.
            self.lose();
            self.next = Some(first);
        }
        out
    }

    /// Forgets everything: the sender's stream starts again.
    pub fn restart(&mut self) {
        let dropped = self.dropped;
        *self = Self::default();
        self.dropped = dropped;
    }

    fn lose(&mut self) {
        if self.partial.take().is_some() {
            self.dropped += 1;
        }
        self.need_key = true;
    }

    /// A packet in sequence.
    fn consume(&mut self, packet: MediaPacket, out: &mut Vec<Vp8Frame>) {
        let mut descriptor = Vp8Packet::default();
        let Ok(payload) = descriptor.depacketize(&packet.payload) else {
            self.lose();
            return;
        };
        let starts = descriptor.s == 1 && descriptor.pid == 0;
        if starts {
            if self.partial.is_some() {
                // The previous frame's last packet never came.
                self.lose();
            }
            self.partial = Some(Partial {
                rtp_ts: packet.rtp_ts,
                at_ns: packet.at_ns,
                data: payload.to_vec(),
            });
        } else {
            match &mut self.partial {
                Some(p) if p.rtp_ts == packet.rtp_ts => p.data.extend_from_slice(&payload),
                _ => {
                    // The middle of a frame whose start is gone.
                    self.lose();
                    return;
                }
            }
        }
        if !packet.marker {
            return;
        }
        let Some(frame) = self.partial.take() else {
            return;
        };
        let key = is_keyframe(&frame.data);
        if self.need_key && !key {
            self.dropped += 1;
            return;
        }
        self.need_key = false;
        out.push(Vp8Frame {
            data: frame.data,
            key,
            at_ns: frame.at_ns,
        });
    }
}

/// Whether a VP8 frame is a keyframe: bit 0 of its frame tag is 0 (RFC 6386, 9.1).
pub(super) fn is_keyframe(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 0x01 == 0)
}

/// A keyframe's picture size (width, height), from its start code and size fields.
pub(super) fn keyframe_size(frame: &[u8]) -> Option<(u32, u32)> {
    if !is_keyframe(frame) || frame.len() < 10 || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let width = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
    let height = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
    (width > 0 && height > 0).then_some((u32::from(width), u32::from(height)))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn payload(descriptor: &[u8], data: &[u8]) -> Bytes {
        let mut v = descriptor.to_vec();
        v.extend_from_slice(data);
        Bytes::from(v)
    }

    /// A keyframe's first bytes: frame tag (key, shown), start code, 320×240.
    const KEY: [u8; 10] = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00];
    const DELTA: [u8; 4] = [0x31, 0x02, 0x00, 0x55];

    fn packet(seq: u16, rtp_ts: u32, marker: bool, start: bool, data: &[u8]) -> MediaPacket {
        // X=1, S as asked, PID 0; then I=1 with a 15-bit picture id.
        let first = if start { 0x90 } else { 0x80 };
        MediaPacket {
            seq,
            rtp_ts,
            marker,
            payload: payload(&[first, 0x80, 0x81, 0x23], data),
            at_ns: u64::from(seq) * 1_000_000,
        }
    }

    #[test]
    fn a_frame_split_over_packets_is_joined_without_its_descriptors() {
        let mut d = Vp8Depacketiser::default();
        assert!(d.push(packet(1, 3000, false, true, &KEY)).is_empty());
        assert!(d.push(packet(2, 3000, false, false, &[1, 2])).is_empty());
        let frames = d.push(packet(3, 3000, true, false, &[3]));
        assert_eq!(frames.len(), 1);
        let mut expected = KEY.to_vec();
        expected.extend_from_slice(&[1, 2, 3]);
        assert_eq!(frames[0].data, expected);
        assert!(frames[0].key);
        assert_eq!(frames[0].at_ns, 1_000_000, "the time of its first packet");
        assert_eq!(keyframe_size(&frames[0].data), Some((320, 240)));
    }

    #[test]
    fn frames_before_the_first_keyframe_are_dropped() {
        let mut d = Vp8Depacketiser::default();
        assert!(d.push(packet(1, 0, true, true, &DELTA)).is_empty());
        assert!(d.needs_keyframe());
        assert_eq!(d.push(packet(2, 3000, true, true, &KEY)).len(), 1);
        let delta = d.push(packet(3, 6000, true, true, &DELTA));
        assert_eq!(delta.len(), 1);
        assert!(!delta[0].key);
        assert_eq!(d.dropped, 1);
    }

    #[test]
    fn packets_out_of_order_are_put_back_in_sequence() {
        let mut d = Vp8Depacketiser::default();
        assert!(d.push(packet(10, 3000, false, true, &KEY)).is_empty());
        // 12 (the last) arrives before 11, as a retransmission would.
        assert!(d.push(packet(12, 3000, true, false, &[3])).is_empty());
        let frames = d.push(packet(11, 3000, false, false, &[2]));
        assert_eq!(frames.len(), 1);
        assert!(frames[0].data.ends_with(&[2, 3]));
    }

    #[test]
    fn a_lost_packet_drops_its_frame_and_every_frame_until_a_keyframe() {
        let mut d = Vp8Depacketiser::default();
        assert_eq!(d.push(packet(1, 0, true, true, &KEY)).len(), 1);
        // Frame at 3000: packets 2 and 4; 3 is lost and never comes.
        assert!(d.push(packet(2, 3000, false, true, &DELTA)).is_empty());
        assert!(d.push(packet(4, 3000, true, false, &[9])).is_empty());
        // A delta frame long after: the hole is given up, the delta frame is useless.
        let mut late = packet(5, 6000, true, true, &DELTA);
        late.at_ns = 2_000_000_000;
        assert!(d.push(late).is_empty());
        assert!(d.needs_keyframe());
        let mut key = packet(6, 9000, true, true, &KEY);
        key.at_ns = 2_100_000_000;
        let frames = d.push(key);
        assert_eq!(frames.len(), 1);
        assert!(frames[0].key && !d.needs_keyframe());
        assert_eq!(d.dropped, 2, "the broken frame and the delta after it");
    }

    #[test]
    fn a_sequence_jump_is_a_new_stream_that_starts_at_a_keyframe() {
        let mut d = Vp8Depacketiser::default();
        assert_eq!(d.push(packet(100, 0, true, true, &KEY)).len(), 1);
        // A reconnected sender starts from another sequence number.
        assert!(
            d.push(packet(40_000, 90_000, true, true, &DELTA))
                .is_empty()
        );
        assert_eq!(d.push(packet(40_001, 93_000, true, true, &KEY)).len(), 1);
    }

    #[test]
    fn a_malformed_payload_is_a_loss_not_a_panic() {
        let mut d = Vp8Depacketiser::default();
        let mut p = packet(1, 0, true, true, &KEY);
        p.payload = Bytes::from_static(&[0x90]);
        assert!(d.push(p).is_empty());
        assert!(keyframe_size(&[0x10, 0, 0]).is_none());
        assert!(!is_keyframe(&[]));
    }
}
