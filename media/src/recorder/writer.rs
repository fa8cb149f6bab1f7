//! One recording on the writer thread (`pool.rs`): takes packets off its queue, turns them into frames
//! (`track.rs`), holds frames for a short window so that the four tracks go into the file in
//! time order (libwebm refuses a timestamp older than one already written), and muxes them.
//! The file is written under a temporary name beside the target; at the end it is finished,
//! synced, renamed and hashed (`file.rs`).

use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::{DateTime, Utc};
use webm::mux::{AudioCodecId, Segment, SegmentBuilder, SegmentMode, VideoCodecId, Writer};

use super::feed::Item;
use super::file::{Keep, close, open};
use super::track::{Frame, Track, ntp_ns};
use super::{Incomplete, RecordedTrack, RecordingReport, Shared, TrackKind};
use crate::Side;

/// How long (ns of arrival) a frame waits for earlier frames of other tracks.
const REORDER_NS: u64 = 500_000_000;
/// The file's tick (its timecode scale, libwebm's default): 1 ms.
const TICK_NS: u64 = 1_000_000;
/// A frame placed further before what is already written is left out.
const LATE_NS: u64 = 1_000_000_000;
/// The shortest time between two keyframe requests for one side while one is awaited.
const KEYFRAME_ASK_NS: u64 = 500_000_000;
/// A keyframe is asked for at least this often, so that a player can seek in the file
/// (browsers send keyframes only when asked).
const KEYFRAME_EVERY_NS: u64 = 10_000_000_000;
/// The picture size declared for a video track before a keyframe has shown it.
const DEFAULT_SIZE: (u32, u32) = (640, 480);
/// Opus's identification header (RFC 7845, 5.1) as Matroska's CodecPrivate: version 1,
/// 2 channels (as WebRTC negotiates Opus), no pre-skip, 48 kHz, no gain, mapping family 0.
const OPUS_HEAD: [u8; 19] = *b"OpusHead\x01\x02\x00\x00\x80\xbb\x00\x00\x00\x00\x00";

enum Out {
    /// The temporary file, before the first frame.
    Opened(Keep),
    Muxing(Segment<Keep>),
    Failed,
}

/// A frame waiting in the reordering window.
struct Pending {
    at_ns: u64,
    order: u64,
    track: usize,
    frame: Frame,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at_ns, self.order) == (other.at_ns, other.order)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed: the heap's top is the earliest frame.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.at_ns, other.order).cmp(&(self.at_ns, self.order))
    }
}

/// A recording being muxed.
pub(super) struct Recorder {
    tmp: PathBuf,
    started: Instant,
    shared: Arc<Shared>,
    /// Citizen video, citizen audio, agent video, agent audio: file tracks 1–4.
    tracks: [Track; 4],
    /// Per side: the sender's NTP clock's offset from the timeline, and the SSRC whose
    /// report measured it.
    offsets: [Option<(u32, i64)>; 2],
    pending: BinaryHeap<Pending>,
    order: u64,
    /// The latest arrival seen (ns).
    newest_ns: u64,
    out: Out,
    /// Per track, the last frame time written.
    last_ns: [Option<u64>; 4],
    /// Per side: when a keyframe was last asked for, and last seen.
    asked_ns: [Option<u64>; 2],
    key_ns: [u64; 2],
    incomplete: Vec<Incomplete>,
}

impl Recorder {
    /// Opens the temporary file beside `path` for a recording whose time 0 is `started`.
    pub(super) fn open(path: &Path, started: Instant, shared: Arc<Shared>) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.partial"));
        let mut r = Self {
            tmp,
            started,
            shared,
            tracks: [
                Track::video(),
                Track::audio(),
                Track::video(),
                Track::audio(),
            ],
            offsets: [None; 2],
            pending: BinaryHeap::new(),
            order: 0,
            newest_ns: 0,
            out: Out::Failed,
            last_ns: [None; 4],
            asked_ns: [None; 2],
            key_ns: [0; 2],
            incomplete: Vec::new(),
        };
        match open(&r.tmp) {
            Ok(file) => r.out = Out::Opened(file),
            Err(e) => r.disk(e),
        }
        r
    }

    fn ns(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.started).as_nanos()).unwrap_or(u64::MAX)
    }

    /// One packet or sender report off the queue.
    pub(super) fn item(&mut self, item: Item) {
        match item {
            Item::Rtp {
                side,
                video,
                ssrc,
                seq,
                rtp_ts,
                marker,
                payload,
                at,
            } => {
                let at_ns = self.ns(at);
                self.newest_ns = self.newest_ns.max(at_ns);
                let t = side.index() * 2 + usize::from(!video);
                let frames = self.tracks[t].push(ssrc, seq, rtp_ts, marker, payload, at_ns);
                for frame in frames {
                    if video && frame.key {
                        self.key_ns[side.index()] = at_ns;
                    }
                    self.order += 1;
                    self.pending.push(Pending {
                        at_ns: frame.at_ns,
                        order: self.order,
                        track: t,
                        frame,
                    });
                }
                if video {
                    self.want_keyframe(side, t, at_ns);
                }
                while self
                    .pending
                    .peek()
                    .is_some_and(|p| p.at_ns.saturating_add(REORDER_NS) <= self.newest_ns)
                {
                    if let Some(p) = self.pending.pop() {
                        self.write(p.track, &p.frame);
                    }
                }
            }
            Item::SenderReport {
                side,
                ssrc,
                ntp,
                rtp_ts,
                at,
            } => {
                let s = side.index();
                let mine = [s * 2, s * 2 + 1];
                let Some(t) = mine
                    .into_iter()
                    .find(|&t| self.tracks[t].ssrc() == Some(ssrc))
                else {
                    return;
                };
                let ntp = ntp_ns(ntp);
                let current = self.offsets[s]
                    .filter(|(by, _)| mine.iter().any(|&t| self.tracks[t].ssrc() == Some(*by)));
                let offset = match current {
                    Some((_, offset)) => offset,
                    None => {
                        let offset = i64::try_from(self.ns(at)).unwrap_or(i64::MAX) - ntp;
                        self.offsets[s] = Some((ssrc, offset));
                        offset
                    }
                };
                self.tracks[t].sender_report(rtp_ts, ntp, offset);
            }
        }
    }

    /// Asks for a keyframe of `side`'s video when one is awaited, or for seeking when the
    /// last is old; not more often than `KEYFRAME_ASK_NS`.
    fn want_keyframe(&mut self, side: Side, t: usize, at_ns: u64) {
        let s = side.index();
        let due = self.tracks[t].needs_keyframe()
            || at_ns.saturating_sub(self.key_ns[s]) >= KEYFRAME_EVERY_NS;
        if due && self.asked_ns[s].is_none_or(|a| at_ns.saturating_sub(a) >= KEYFRAME_ASK_NS) {
            self.asked_ns[s] = Some(at_ns);
            self.shared.keyframe_wanted[s].store(true, Ordering::Relaxed);
        }
    }

    fn write(&mut self, t: usize, frame: &Frame) {
        // The file's timestamps never go back, and a track's advance by at least the file's
        // tick (1 ms): a frame placed a little early (a sender report moved its stream back)
        // is written a little later, since leaving a video frame out would break the frames
        // that refer to it; one placed much too early is left out.
        let latest = self.last_ns.iter().flatten().max().copied().unwrap_or(0);
        let own = self.last_ns[t].map_or(0, |l| l + TICK_NS);
        let at_ns = frame.at_ns.max(latest).max(own);
        if at_ns - frame.at_ns > LATE_NS {
            return;
        }
        if matches!(self.out, Out::Opened(_)) {
            let Out::Opened(file) = std::mem::replace(&mut self.out, Out::Failed) else {
                return;
            };
            match self.segment(file) {
                Ok(segment) => self.out = Out::Muxing(segment),
                Err(e) => return self.disk(e),
            }
        }
        let Out::Muxing(segment) = &mut self.out else {
            return;
        };
        if segment
            .add_frame(t as u64 + 1, &frame.data, at_ns, frame.key)
            .is_err()
        {
            let Out::Muxing(segment) = std::mem::replace(&mut self.out, Out::Failed) else {
                return;
            };
            let mut keep = match segment.finalize(None) {
                Ok(w) | Err(w) => w.into_inner(),
            };
            let error = keep
                .error
                .take()
                .unwrap_or_else(|| std::io::Error::other("the muxer refused a frame"));
            self.disk(error);
        } else {
            self.last_ns[t] = Some(at_ns);
        }
    }

    /// The segment, with the four tracks and their sizes as known by now.
    fn segment(&self, file: Keep) -> std::io::Result<Segment<Keep>> {
        let refused = |e: webm::mux::Error| std::io::Error::other(format!("libwebm: {e:?}"));
        let mut builder = SegmentBuilder::new(Writer::new(file))
            .and_then(|b| b.set_mode(SegmentMode::File))
            .and_then(|b| b.set_writing_app("videoreg"))
            .map_err(refused)?;
        for (t, track) in self.tracks.iter().enumerate() {
            let number = Some(t as u64 + 1);
            builder = if t % 2 == 0 {
                let (w, h) = track.size.unwrap_or(DEFAULT_SIZE);
                builder
                    .add_video_track(w, h, VideoCodecId::VP8, number)
                    .map(|(b, _)| b)
            } else {
                builder
                    .add_audio_track(48_000, 2, AudioCodecId::Opus, number)
                    .and_then(|(b, track)| b.set_codec_private(track, &OPUS_HEAD))
            }
            .map_err(refused)?;
        }
        Ok(builder.build())
    }

    /// Marks the recording incomplete for a disk error and stops writing.
    fn disk(&mut self, error: std::io::Error) {
        tracing::warn!(%error, file = %self.tmp.display(), "recording: disk error");
        let trouble = Incomplete::Disk {
            error: error.to_string(),
        };
        self.shared.trouble.send_if_modified(|t| {
            let first = t.is_none();
            if first {
                *t = Some(trouble.clone());
            }
            first
        });
        self.incomplete.push(trouble);
        self.out = Out::Failed;
    }

    /// Writes what waits, finishes the file and renames it to `path`: the report.
    pub(super) fn finish(mut self, path: &Path, started_at: DateTime<Utc>) -> RecordingReport {
        while let Some(p) = self.pending.pop() {
            self.write(p.track, &p.frame);
        }
        let overflow = self.shared.overflow.load(Ordering::Relaxed);
        if overflow > 0 {
            self.incomplete
                .push(Incomplete::QueueOverflow { packets: overflow });
        }
        let file = match std::mem::replace(&mut self.out, Out::Failed) {
            Out::Muxing(segment) => match close(segment, &self.tmp, path) {
                Ok(file) => Some(file),
                Err(e) => {
                    self.disk(e);
                    None
                }
            },
            Out::Opened(file) => {
                drop(file);
                let _ = std::fs::remove_file(&self.tmp);
                self.incomplete.push(Incomplete::NoMedia);
                None
            }
            Out::Failed => None,
        };
        let tracks = self
            .tracks
            .iter()
            .enumerate()
            .map(|(t, track)| RecordedTrack {
                number: t as u64 + 1,
                side: Side::of_index(t / 2),
                kind: if t % 2 == 0 {
                    TrackKind::Video
                } else {
                    TrackKind::Audio
                },
                codec: if t % 2 == 0 { "V_VP8" } else { "A_OPUS" }.to_owned(),
                frames: track.frames,
                frames_dropped: track.dropped(),
                synced: track.synced(),
            })
            .collect();
        let last = self.last_ns.iter().flatten().max().copied().unwrap_or(0);
        RecordingReport {
            started_at,
            file,
            duration_ms: last / 1_000_000,
            tracks,
            incomplete: self.incomplete,
        }
    }
}
