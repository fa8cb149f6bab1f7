//! The recorder: a tap on the forwarder that writes a call into one WebM file while the call
//! runs, copy-through (VP8 and Opus as the browsers sent them, never decoded or transcoded),
//! playable the moment it is closed.
//!
//! The session task hands each RTP packet it forwards, and each RTCP sender report, in
//! batches of 50 ms to a bounded queue ([`feed`]) and goes on: it never waits for the
//! recorder, and when the queue is full the batch is dropped from the recording (not from the
//! call) and the recording is marked incomplete. The node's one writer thread ([`pool`]), woken
//! by the feeds, takes each recording's batches; for each recording ([`writer`]) it depacketises
//! ([`vp8`], [`track`]), puts every frame on one timeline, and muxes four tracks: the
//! citizen's video and audio (tracks 1 and 2) and the agent's (3 and 4). It writes under a
//! temporary name beside the target, and on stop finishes the file, syncs it to disk,
//! renames it and hashes it: the [`RecordingReport`] says where it is, its SHA-256, size,
//! duration and tracks, and whether it is complete and, if not, why.
//!
//! The muxer is libwebm, the WebM project's own muxer (the one Chromium records with), through
//! the `webm` crate: 2.2.1, owned by the rust-bus maintainers' team among others, 2.0 in
//! March 2025, marked passively maintained. It writes clusters, cues on the first video track
//! (the citizen's) for seeking, and the segment's duration on finalising: what a `<video>`
//! element needs to seek. Four tracks of VP8 and Opus are plain calls of its API, and Opus's
//! identification header goes in as CodecPrivate. The pure-Rust alternative, `webm-iterable`
//! (0.7), reads and writes EBML elements only: clusters, block timecodes relative to them,
//! cues, the seek head and the duration patch-up would all be hand-written here. libwebm's
//! cost is a C++ compile of its muxer and parser (about 13,000 lines, once: 2.7 s of CPU
//! unoptimised, 6.8 s at -O3, with the g++ every Debian build machine has) and the rule that
//! timestamps never go back across tracks, which the writer's 500 ms reordering window keeps.

mod feed;
mod file;
mod pool;
mod track;
mod vp8;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, watch};

use crate::{Error, Side};
pub(crate) use feed::Feed;
pub use file::sha256_of;
pub(crate) use pool::Recorders;
#[cfg(feature = "fuzzing")]
pub(crate) use track::{Track, ntp_ns};

/// Batches the queue between the forwarder and the writer holds: 10 s of a call (a batch
/// every 50 ms, of 50 audio and 100–200 video packets a second from each side).
const QUEUE_BATCHES: usize = 200;

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackKind {
    Video,
    Audio,
}

/// One track of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedTrack {
    /// Its number in the file (1–4).
    pub number: u64,
    /// Whose it is.
    pub side: Side,
    pub kind: TrackKind,
    /// Its Matroska codec id: `V_VP8` or `A_OPUS`.
    pub codec: String,
    /// Frames written.
    pub frames: u64,
    /// Video frames lost on the way or dropped while waiting for a keyframe.
    pub frames_dropped: u64,
    /// Whether its last stream was placed on the timeline by the sender's RTCP reports
    /// (lined up with the same side's other track as captured), else by arrival.
    pub synced: bool,
}

/// Why a recording is incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Incomplete {
    /// The file could not be created, written, synced or renamed.
    Disk { error: String },
    /// The recorder fell behind (a slow disk) and packets were left out of the recording.
    QueueOverflow { packets: u64 },
    /// No media arrived while recording, so there is no file.
    NoMedia,
}

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Disk { error } => write!(f, "the recording could not be written: {error}"),
            Self::QueueOverflow { packets } => {
                write!(
                    f,
                    "the recorder fell behind; {packets} packets were left out"
                )
            }
            Self::NoMedia => f.write_str("no media arrived while recording"),
        }
    }
}

/// The finished file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFile {
    /// Where it is (the path recording was started with).
    pub path: PathBuf,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// What a recording left: for the audit chain and the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingReport {
    /// When recording started (the `now` given to start it): the file's time 0, so an
    /// event at time `t` of the call is at `t - started_at` in the video.
    pub started_at: DateTime<Utc>,
    /// The file, when one could be finished (also for an incomplete recording, whose file
    /// holds what could be recorded). `None` after a disk error or without any media; a
    /// temporary file may then be left beside the target, named `.<name>.partial`.
    pub file: Option<RecordedFile>,
    /// The time of the last frame in the file, in milliseconds.
    pub duration_ms: u64,
    /// The four tracks, in file order.
    pub tracks: Vec<RecordedTrack>,
    /// Why it is incomplete; empty for a complete recording.
    pub incomplete: Vec<Incomplete>,
}

impl RecordingReport {
    /// Whether everything the forwarder carried is in the file.
    pub fn is_complete(&self) -> bool {
        self.incomplete.is_empty() && self.file.is_some()
    }
}

/// What the forwarder and the writer share.
pub(crate) struct Shared {
    /// Packets dropped because the queue was full.
    overflow: AtomicU64,
    /// Per side: the writer wants a keyframe of that side's video.
    keyframe_wanted: [AtomicBool; 2],
    /// The first trouble, as soon as it happens (for the agent's warning).
    trouble: watch::Sender<Option<Incomplete>>,
}

/// A running recording, held by the call's handle until it is stopped.
pub(crate) struct Recording {
    report: oneshot::Receiver<RecordingReport>,
    trouble: watch::Receiver<Option<Incomplete>>,
}

impl Recording {
    /// Hands a recording into `path` to the writer thread, with the recording's time 0 at
    /// `started` (the forwarder's clock) and `started_at` (the wall clock); returns the
    /// recording and the feed the session task hands packets to.
    pub fn start(
        recorders: &Recorders,
        path: PathBuf,
        started: Instant,
        started_at: DateTime<Utc>,
    ) -> Result<(Self, Feed), Error> {
        let (trouble_tx, trouble) = watch::channel(None);
        let shared = Arc::new(Shared {
            overflow: AtomicU64::new(0),
            keyframe_wanted: Default::default(),
            trouble: trouble_tx,
        });
        let (tx, batches) = std::sync::mpsc::sync_channel(QUEUE_BATCHES);
        let (report_tx, report) = oneshot::channel();
        let wake = recorders.start(pool::Started {
            path,
            started,
            started_at,
            shared: shared.clone(),
            batches,
            report: report_tx,
        })?;
        Ok((Self { report, trouble }, Feed::new(tx, wake, shared)))
    }

    /// The first trouble so far (`None` while all is well); changes at most once or twice.
    pub fn trouble(&self) -> watch::Receiver<Option<Incomplete>> {
        self.trouble.clone()
    }

    /// Waits for the writer to finish (the feed must be gone) and returns its report.
    pub async fn finished(self) -> Option<RecordingReport> {
        self.report.await.ok()
    }
}
