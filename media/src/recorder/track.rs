//! One recorded track: a sender's RTP put on the recording's timeline. RTP timestamps give
//! the spacing (the sender's media clock, so loss and pauses leave true gaps); the anchor
//! that places them on the timeline is the arrival of the stream's first packet, replaced by
//! the sender's clock once an RTCP sender report ties its RTP time to NTP time, so that a
//! side's audio and video line up as the sender captured them. A new SSRC (a reconnected or
//! reloaded browser), a sequence jump, or a timestamp that strays seconds from arrival
//! starts the stream again from its arrival: the rest of the file is never shifted.
//! Opus needs no reassembly: one RTP payload is one Opus packet (RFC 7587).

use bytes::Bytes;

use super::vp8::{Vp8Depacketiser, keyframe_size};

/// A sequence-number jump larger than this is a new stream, not reordering or loss.
const SEQ_JUMP: i64 = 1000;
/// A timestamp whose place on the timeline strays this far from its arrival (ns) restarts
/// the stream's anchor.
const RESYNC_NS: i64 = 2_000_000_000;

/// The most a sender report may move a stream on the timeline (ns).
const SR_SHIFT_NS: i64 = 500_000_000;

/// The part of an RTP packet a recording uses, its arrival on the recording's timeline.
#[derive(Debug, Clone)]
pub(super) struct MediaPacket {
    pub seq: u16,
    pub rtp_ts: u32,
    pub marker: bool,
    pub payload: Bytes,
    pub at_ns: u64,
}

/// 16-bit sequence numbers extended to 64 bits; `None` for a jump no reordering explains.
#[derive(Debug, Default)]
pub(super) struct Sequence {
    last: Option<(u16, u64)>,
}

impl Sequence {
    pub fn extend(&mut self, seq: u16) -> Option<u64> {
        let Some((last, ext)) = self.last else {
            // Far from zero, so that going back a little never underflows.
            let ext = (1 << 32) + u64::from(seq);
            self.last = Some((seq, ext));
            return Some(ext);
        };
        let delta = i64::from(seq.wrapping_sub(last) as i16);
        if delta.abs() > SEQ_JUMP {
            return None;
        }
        let ext = ext.checked_add_signed(delta)?;
        if delta > 0 {
            self.last = Some((seq, ext));
        }
        Some(ext)
    }
}

/// Where a stream's RTP time sits on the recording's timeline.
#[derive(Debug, Default)]
pub(super) struct Timeline {
    /// The last RTP timestamp seen and its extension to 64 bits.
    last: Option<(u32, i64)>,
    /// An extended RTP timestamp and its time on the timeline (ns).
    anchor: Option<(i64, i64)>,
    /// Whether the anchor comes from a sender report (else from an arrival).
    synced: bool,
}

impl Timeline {
    fn extend(&mut self, rtp_ts: u32) -> i64 {
        let ext = match self.last {
            None => i64::from(rtp_ts),
            Some((last, ext)) => ext + i64::from(rtp_ts.wrapping_sub(last) as i32),
        };
        if self.last.is_none_or(|(_, e)| ext > e) {
            self.last = Some((rtp_ts, ext));
        }
        ext
    }

    /// The time on the timeline (ns) of a packet with `rtp_ts` that arrived at `at_ns`.
    pub fn place(&mut self, rtp_ts: u32, clock_rate: u32, at_ns: u64) -> u64 {
        let ext = self.extend(rtp_ts);
        let at = i64::try_from(at_ns).unwrap_or(i64::MAX);
        let placed = self.anchor.map(|(a_ext, a_ns)| {
            a_ns + (ext - a_ext) * 1_000_000_000 / i64::from(clock_rate.max(1))
        });
        match placed {
            Some(t) if (t - at).abs() <= RESYNC_NS => u64::try_from(t).unwrap_or(0),
            _ => {
                self.anchor = Some((ext, at));
                self.synced = false;
                at_ns
            }
        }
    }

    /// A sender report: `rtp_ts` was the sender's NTP time `ntp_ns`, which is `offset_ns`
    /// from the recording's timeline. Used once per stream (the first report places it),
    /// unless it would move the stream by more than `SR_SHIFT_NS` (a report that disagrees
    /// that much with the arrivals is not believed).
    pub fn sender_report(&mut self, rtp_ts: u32, ntp_ns: i64, offset_ns: i64, clock_rate: u32) {
        let (Some((_, last_ext)), Some((a_ext, a_ns))) = (self.last, self.anchor) else {
            return;
        };
        if self.synced {
            return;
        }
        let ext = self.extend(rtp_ts);
        let anchor = (ext, ntp_ns + offset_ns);
        let at = |(e, ns): (i64, i64)| ns + (last_ext - e) * 1_000_000_000 / i64::from(clock_rate);
        if (at(anchor) - at((a_ext, a_ns))).abs() > SR_SHIFT_NS {
            return;
        }
        self.anchor = Some(anchor);
        self.synced = true;
    }
}

/// A frame ready for the file.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// Its time on the recording's timeline (ns).
    pub at_ns: u64,
    pub data: Bytes,
    pub key: bool,
}

/// The codec-specific part of a track.
pub(super) enum Depacketiser {
    Vp8(Box<Vp8Depacketiser>),
    Opus,
}

/// One sender's track of one kind.
pub(crate) struct Track {
    depacketiser: Depacketiser,
    clock_rate: u32,
    ssrc: Option<u32>,
    timeline: Timeline,
    /// A keyframe's picture size, once seen.
    pub size: Option<(u32, u32)>,
    /// Frames handed on.
    pub frames: u64,
}

impl Track {
    pub fn video() -> Self {
        Self::new(Depacketiser::Vp8(Box::default()), 90_000)
    }

    pub fn audio() -> Self {
        Self::new(Depacketiser::Opus, 48_000)
    }

    fn new(depacketiser: Depacketiser, clock_rate: u32) -> Self {
        Self {
            depacketiser,
            clock_rate,
            ssrc: None,
            timeline: Timeline::default(),
            size: None,
            frames: 0,
        }
    }

    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Frames lost or dropped waiting for a keyframe.
    pub fn dropped(&self) -> u64 {
        match &self.depacketiser {
            Depacketiser::Vp8(d) => d.dropped,
            Depacketiser::Opus => 0,
        }
    }

    /// Whether the stream is placed by a sender report.
    pub fn synced(&self) -> bool {
        self.timeline.synced
    }

    /// Whether a keyframe is awaited (video only).
    pub fn needs_keyframe(&self) -> bool {
        matches!(&self.depacketiser, Depacketiser::Vp8(d) if d.needs_keyframe())
    }

    /// Takes a packet from `ssrc`, arrived at `at_ns`, and returns the frames it completes.
    pub fn push(
        &mut self,
        ssrc: u32,
        seq: u16,
        rtp_ts: u32,
        marker: bool,
        payload: Bytes,
        at_ns: u64,
    ) -> Vec<Frame> {
        if self.ssrc != Some(ssrc) {
            // A new sender stream: its clock and numbering start afresh.
            self.ssrc = Some(ssrc);
            self.timeline = Timeline::default();
            if let Depacketiser::Vp8(d) = &mut self.depacketiser {
                d.restart();
            }
        }
        let placed = self.timeline.place(rtp_ts, self.clock_rate, at_ns);
        let packet = MediaPacket {
            seq,
            rtp_ts,
            marker,
            payload,
            at_ns: placed,
        };
        let frames: Vec<Frame> = match &mut self.depacketiser {
            Depacketiser::Opus if packet.payload.is_empty() => Vec::new(),
            Depacketiser::Opus => vec![Frame {
                at_ns: packet.at_ns,
                data: packet.payload,
                key: true,
            }],
            Depacketiser::Vp8(d) => d
                .push(packet)
                .into_iter()
                .map(|f| {
                    if f.key {
                        self.size = keyframe_size(&f.data).or(self.size);
                    }
                    Frame {
                        at_ns: f.at_ns,
                        data: Bytes::from(f.data),
                        key: f.key,
                    }
                })
                .collect(),
        };
        self.frames += frames.len() as u64;
        frames
    }

    /// A sender report for this track's stream (see [`Timeline::sender_report`]).
    pub fn sender_report(&mut self, rtp_ts: u32, ntp_ns: i64, offset_ns: i64) {
        self.timeline
            .sender_report(rtp_ts, ntp_ns, offset_ns, self.clock_rate.max(1));
    }
}

/// An NTP timestamp (RFC 3550: seconds since 1900 in the high 32 bits, fraction in the low)
/// in nanoseconds.
pub(crate) fn ntp_ns(ntp: u64) -> i64 {
    let secs = (ntp >> 32) as i64;
    let frac = ((ntp & 0xffff_ffff) * 1_000_000_000) >> 32;
    secs * 1_000_000_000 + frac as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_wrap_and_reorder_without_jumping() {
        let mut s = Sequence::default();
        let a = s.extend(65_535).expect("first");
        assert_eq!(s.extend(0), Some(a + 1));
        assert_eq!(s.extend(65_534), Some(a - 1), "late, before the wrap");
        assert_eq!(s.extend(30_000), None, "a jump is a new stream");
    }

    #[test]
    fn rtp_time_spaces_packets_from_the_first_arrival() {
        let mut t = Timeline::default();
        assert_eq!(t.place(1000, 48_000, 5_000_000), 5_000_000);
        // 960 ticks later = 20 ms, whatever the jitter of the arrival.
        assert_eq!(t.place(1960, 48_000, 31_000_000), 25_000_000);
        // Wraps around 2^32.
        let mut t = Timeline::default();
        t.place(u32::MAX - 479, 48_000, 0);
        assert_eq!(t.place(480, 48_000, 20_000_000), 20_000_000);
    }

    #[test]
    fn a_sender_report_places_the_stream_on_the_senders_clock() {
        let mut t = Timeline::default();
        t.place(0, 90_000, 100_000_000);
        // The sender says RTP 0 was at NTP 1 s, and its clock is 40 ms behind ours.
        t.sender_report(0, 1_000_000_000, -860_000_000, 90_000);
        assert_eq!(t.place(9000, 90_000, 250_000_000), 240_000_000);
        // Only the first report moves it.
        t.sender_report(0, 2_000_000_000, 0, 90_000);
        assert_eq!(t.place(18_000, 90_000, 350_000_000), 340_000_000);
    }

    #[test]
    fn a_sender_report_far_from_the_arrivals_is_not_believed() {
        let mut t = Timeline::default();
        t.place(0, 90_000, 100_000_000);
        // It would put the stream 900 ms earlier than it arrived.
        t.sender_report(0, 1_000_000_000, -1_800_000_000, 90_000);
        assert_eq!(t.place(9000, 90_000, 200_000_000), 200_000_000);
        // A later, consistent one is.
        t.sender_report(9000, 1_000_000_000, -820_000_000, 90_000);
        assert_eq!(t.place(18_000, 90_000, 290_000_000), 280_000_000);
    }

    #[test]
    fn a_timestamp_far_from_its_arrival_restarts_the_anchor() {
        let mut t = Timeline::default();
        t.place(0, 48_000, 0);
        // A sender whose clock jumped by an hour: placed at its arrival, not an hour later.
        assert_eq!(t.place(48_000 * 3600, 48_000, 1_000_000_000), 1_000_000_000);
        assert_eq!(
            t.place(48_000 * 3600 + 960, 48_000, 1_030_000_000),
            1_020_000_000
        );
    }

    #[test]
    fn a_new_ssrc_starts_again_at_its_arrival_and_waits_for_a_keyframe() {
        let mut track = Track::audio();
        let f = track.push(1, 10, 0, true, Bytes::from_static(&[1]), 0);
        assert_eq!(f[0].at_ns, 0);
        let f = track.push(
            2,
            9000,
            777_777,
            true,
            Bytes::from_static(&[2]),
            3_000_000_000,
        );
        assert_eq!(f[0].at_ns, 3_000_000_000);
        assert_eq!(track.ssrc(), Some(2));
        assert!(!Track::audio().needs_keyframe());
        assert!(Track::video().needs_keyframe());
    }

    #[test]
    fn ntp_time_converts_to_nanoseconds() {
        assert_eq!(ntp_ns((3 << 32) | 0x8000_0000), 3_500_000_000);
    }
}
