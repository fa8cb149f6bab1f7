//! A media session's handle: two legs forwarding to each other (a call), or one leg
//! forwarding to itself (the test call's echo). The legs live in one task (`session.rs`);
//! this handle talks to it through a channel and `close` waits until its sockets are gone.
//! A call can be recorded: `start_recording` puts a tap on the session's forwarding
//! (`recorder`), `stop_recording` (or the session's end) finishes the file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Utc};

use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::RTCIceCandidateInit;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::leg::{Leg, Shape};
use crate::port::LegKey;
use crate::recorder::{Incomplete, Recorders, Recording, RecordingReport};
use crate::session::{Command, MonitorAdded, Session, Wire};
use crate::{MediaConfig, MediaThreads};

/// One side's connection quality, as the forwarder sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// RTP packets received from this side so far.
    pub packets: u64,
    /// RTP payload bytes received from this side so far.
    pub bytes: u64,
    /// Packets lost on the way from this side, from RTP sequence numbers.
    pub lost: u64,
    /// Round-trip time between this side and videoreg, in milliseconds (once measured).
    pub rtt_ms: Option<f64>,
    /// Keyframe requests passed back to this side.
    pub keyframe_requests: u64,
    /// How this side reaches videoreg, from the forwarder's selected candidate pair: `udp`
    /// or `tcp` (ICE-TCP) straight, or `relay` (through TURN); absent before a pair is
    /// selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// Which browser of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The citizen (also the only side of an echo).
    Citizen,
    /// The agent.
    Agent,
}

impl Side {
    pub(super) fn index(self) -> usize {
        match self {
            Side::Citizen => 0,
            Side::Agent => 1,
        }
    }

    pub(super) fn of_index(i: usize) -> Self {
        if i == 0 { Side::Citizen } else { Side::Agent }
    }
}

/// What the forwarder has carried from one side: packets and bytes of RTP received, and
/// keyframe requests passed back to it. Written by the session task, read by anyone.
#[derive(Debug, Default)]
pub struct SideCounters {
    /// RTP packets received from this side.
    pub packets: AtomicU64,
    /// RTP payload bytes received from this side.
    pub bytes: AtomicU64,
    /// Packets that could not be forwarded (the other side not ready yet, or gone).
    pub dropped: AtomicU64,
    /// Keyframe requests passed back to this side.
    pub keyframe_requests: AtomicU64,
}

/// A running media session.
pub struct MediaCall {
    /// Requests to the session task (answers, candidates, statistics, close).
    commands: mpsc::Sender<Command>,
    /// Per side, shared with the session task.
    counters: [Arc<SideCounters>; 2],
    /// Per leg: its connection state, published by the session task.
    states: Vec<watch::Receiver<RTCPeerConnectionState>>,
    /// The session task; taken by the first `close`. Locked only to take it.
    task: Mutex<Option<JoinHandle<()>>>,
    /// Each side's quality when the session closed, kept for reports after the end. Locked
    /// only to set or copy it.
    last: Mutex<Option<Vec<Option<Quality>>>>,
    /// The recording under way, until it is stopped. Locked only to set or take it.
    recording: Mutex<Option<Recording>>,
    /// The node's recordings' writer thread.
    recorders: Recorders,
}

/// Candidates the forwarder found, for the signaling layer to send to each browser.
pub type CandidateFeed = mpsc::UnboundedReceiver<(Side, RTCIceCandidateInit)>;

impl MediaCall {
    /// A call: the citizen's leg and the agent's leg, each forwarding to the other.
    pub async fn cross(
        config: &MediaConfig,
        threads: &MediaThreads,
    ) -> Result<(Arc<Self>, CandidateFeed), Error> {
        Self::start(
            config,
            threads,
            &[(0x1000_0000, "citizen"), (0x2000_0000, "agent")],
        )
        .await
    }

    /// An echo: one leg whose media comes straight back to it.
    pub async fn echo(
        config: &MediaConfig,
        threads: &MediaThreads,
    ) -> Result<(Arc<Self>, CandidateFeed), Error> {
        Self::start(config, threads, &[(0x3000_0000, "echo")]).await
    }

    /// Binds the legs (SSRC base and label each) on a media thread and starts the session
    /// there; sockets belong to the runtime that polls them.
    async fn start(
        config: &MediaConfig,
        threads: &MediaThreads,
        legs: &[(u32, &'static str)],
    ) -> Result<(Arc<Self>, CandidateFeed), Error> {
        let counters: [Arc<SideCounters>; 2] = Default::default();
        let (feed_tx, feed) = mpsc::unbounded_channel();
        let (commands, commands_rx) = mpsc::channel(16);
        let (publishers, states): (Vec<_>, Vec<_>) = legs
            .iter()
            .map(|_| watch::channel(RTCPeerConnectionState::New))
            .unzip();
        let (ready_tx, ready) = oneshot::channel();
        let session_counters = counters.clone();
        let config = config.clone();
        let legs = legs.to_vec();
        let task = threads.pick()?.spawn(async move {
            let mut wire = Wire::new(&config);
            let mut bound = Vec::new();
            for (i, (ssrc_base, label)) in legs.into_iter().enumerate() {
                let leg = match wire.open(&config, LegKey::Call(i)).await {
                    Ok(addrs) => Leg::new(addrs, ssrc_base, label, Shape::Pair),
                    Err(e) => Err(e),
                };
                match leg {
                    Ok(leg) => bound.push(leg),
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                }
            }
            let _ = ready_tx.send(Ok(()));
            Session::new(bound, wire, session_counters, publishers, feed_tx)
                .run(commands_rx)
                .await;
        });
        ready.await.map_err(|_| Error::MediaClosed)??;
        let call = Arc::new(Self {
            commands,
            counters,
            states,
            task: Mutex::new(Some(task)),
            last: Mutex::new(None),
            recording: Mutex::new(None),
            recorders: threads.recorders().clone(),
        });
        Ok((call, feed))
    }

    /// Sends a request to the session task and waits for its reply.
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| Error::MediaClosed)?;
        rx.await.map_err(|_| Error::MediaClosed)
    }

    /// Answers a side's offer.
    pub async fn offer(
        &self,
        side: Side,
        offer: RTCSessionDescription,
    ) -> Result<RTCSessionDescription, Error> {
        self.ask(|reply| Command::Offer {
            side,
            offer: Box::new(offer),
            reply,
        })
        .await?
    }

    /// Adds a supervisor's receive-only monitor to the call: its browser's `offer` (with its
    /// candidates gathered) answered with four tracks, each side's video and audio, from
    /// `config`'s port range. Refused for an echo, and beyond [`crate::MAX_MONITORS`].
    pub async fn add_monitor(
        &self,
        config: &MediaConfig,
        offer: RTCSessionDescription,
    ) -> Result<MonitorAdded, Error> {
        self.ask(|reply| Command::AddMonitor {
            config: Box::new(config.clone()),
            offer: Box::new(offer),
            reply,
        })
        .await?
    }

    /// Closes monitor `id`; false when the call has none by that id.
    pub async fn remove_monitor(&self, id: u64) -> Result<bool, Error> {
        self.ask(|reply| Command::RemoveMonitor { id, reply }).await
    }

    /// Adds a side's ICE candidate.
    pub async fn add_ice(&self, side: Side, candidate: RTCIceCandidateInit) -> Result<(), Error> {
        self.ask(|reply| Command::Ice {
            side,
            candidate,
            reply,
        })
        .await?
    }

    /// A side's connection state.
    pub fn connection_state(&self, side: Side) -> Option<RTCPeerConnectionState> {
        self.states.get(side.index()).map(|s| *s.borrow())
    }

    /// A side's connection quality now: what the forwarder received from it, what RTP
    /// reports say was lost on the way, and the round-trip time of its ICE pair.
    /// After the end, the quality as it was when the session closed.
    pub async fn quality(&self, side: Side) -> Option<Quality> {
        match self.ask(|reply| Command::Quality { side, reply }).await {
            Ok(quality) => quality,
            Err(_) => self.last_quality(side),
        }
    }

    fn last_quality(&self, side: Side) -> Option<Quality> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|last| last.get(side.index()).cloned().flatten())
    }

    /// What has been carried from a side.
    pub fn counters(&self, side: Side) -> &SideCounters {
        &self.counters[side.index()]
    }

    /// Starts recording the call into `path` (a `.webm` file; its directory is created if
    /// need be), with the file's time 0 at `now`. The forwarding never waits for the
    /// recording: trouble (a disk error, the recorder falling behind) goes to the returned
    /// watch, for a warning to the agent, and into the report; the call goes on. Fails only
    /// when the call has ended or is already being recorded.
    pub async fn start_recording(
        &self,
        path: PathBuf,
        now: DateTime<Utc>,
    ) -> Result<watch::Receiver<Option<Incomplete>>, Error> {
        let feed = {
            let mut slot = self
                .recording
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if slot.is_some() {
                return Err(Error::AlreadyRecording);
            }
            let (recording, feed) = Recording::start(&self.recorders, path, Instant::now(), now)?;
            *slot = Some(recording);
            feed
        };
        if self.commands.send(Command::Record(feed)).await.is_err() {
            // The session has ended; the writer finishes with nothing recorded.
            self.recording
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            return Err(Error::MediaClosed);
        }
        Ok(self
            .recording_trouble()
            .unwrap_or_else(|| watch::channel(None).1))
    }

    /// Trouble of the recording under way, if one is.
    pub fn recording_trouble(&self) -> Option<watch::Receiver<Option<Incomplete>>> {
        self.recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(Recording::trouble)
    }

    /// Stops the recording and waits until its file is finished, synced, renamed and hashed:
    /// its report. Also after the call has ended (the session's end stops the recording).
    /// `None` when nothing was being recorded.
    pub async fn stop_recording(&self) -> Option<RecordingReport> {
        let recording = self
            .recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        // A closed session has dropped the feed already.
        let _ = self.ask(Command::StopRecording).await;
        recording.finished().await
    }

    /// Closes both legs; returns once the session task has ended and its UDP sockets are
    /// closed (also when another caller's `close` is doing it).
    pub async fn close(&self) {
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(task) = task else {
            // Another `close` is under way: the session publishes `Closed` once its sockets
            // are gone (or drops the publisher, should it end otherwise).
            for state in &self.states {
                let mut state = state.clone();
                let _ = state
                    .wait_for(|s| *s == RTCPeerConnectionState::Closed)
                    .await;
            }
            return;
        };
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Close(tx)).await.is_ok()
            && let Ok(last) = rx.await
        {
            *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(last);
        }
        if let Err(e) = task.await
            && e.is_panic()
        {
            tracing::error!(error = %e, "media session task panicked");
        }
    }
}

impl SideCounters {
    pub(super) fn received(&self, bytes: usize) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}
