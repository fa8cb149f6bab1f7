//! The one writer thread every recording of a node shares. Each feed wakes it after handing
//! a batch to its recording's queue (a wake-up queue of one, so that a writer already awake
//! is not woken again), and it takes what every queue holds; so its work is spread over the
//! second as the batches come, not gathered into bursts that would compete with the media
//! threads for a core. A thread per recording cost as much CPU (`docs/performance.md`) and a
//! thread per call. A recording whose feed is gone is finished (its last frames, the cues,
//! fsync, rename, SHA-256) on a short-lived thread of its own, so that a long call's hash or
//! a slow disk's fsync never holds up the others.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::feed::Batch;
use super::writer::Recorder;
use super::{RecordingReport, Shared};
use crate::Error;

/// How often the writer looks at the queues when nothing woke it (a feed that was dropped
/// empty-handed, say).
const TICK: Duration = Duration::from_millis(200);

/// A recording handed to the writer thread.
pub(super) struct Started {
    pub path: PathBuf,
    pub started: Instant,
    pub started_at: DateTime<Utc>,
    pub shared: Arc<Shared>,
    pub batches: Receiver<Batch>,
    pub report: oneshot::Sender<RecordingReport>,
}

/// The writer thread, started with the first recording. Cheap to clone; clones share it.
/// The thread ends once every clone is gone and the recordings it holds are finished.
#[derive(Clone, Default)]
pub struct Recorders {
    /// Where new recordings go, and the writer's wake-up; `None` until the thread is started.
    /// Locked only to start the thread or send to it.
    to_writer: Arc<Mutex<Option<ToWriter>>>,
}

/// The writer thread's inbox for new recordings, and its wake-up.
type ToWriter = (Sender<Started>, SyncSender<()>);

impl std::fmt::Debug for Recorders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorders")
    }
}

impl Recorders {
    /// Hands a recording to the writer thread, starting it if need be; the writer's wake-up,
    /// for the recording's feed.
    pub(super) fn start(&self, recording: Started) -> Result<SyncSender<()>, Error> {
        let mut to_writer = self
            .to_writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let recording = match to_writer.as_ref() {
            Some((tx, wake)) => match tx.send(recording) {
                Ok(()) => {
                    let _ = wake.try_send(());
                    return Ok(wake.clone());
                }
                // The thread is gone (it panicked): a new one takes the recording.
                Err(mpsc::SendError(recording)) => recording,
            },
            None => recording,
        };
        let (tx, rx) = mpsc::channel();
        let (wake, woken) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("videoreg-recorder".into())
            .spawn(move || run(&rx, &woken))
            .map_err(Error::MediaThread)?;
        let _ = tx.send(recording);
        let _ = wake.try_send(());
        *to_writer = Some((tx, wake.clone()));
        Ok(wake)
    }
}

/// A recording on the writer thread.
struct Live {
    recorder: Recorder,
    batches: Receiver<Batch>,
    path: PathBuf,
    started_at: DateTime<Utc>,
    report: oneshot::Sender<RecordingReport>,
}

/// The writer thread's loop: until no handle is left and no recording runs.
fn run(new: &Receiver<Started>, woken: &Receiver<()>) {
    let mut live: Vec<Live> = Vec::new();
    let mut open = true;
    while open || !live.is_empty() {
        let next = if live.is_empty() {
            // Asleep until a recording starts.
            woken.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            woken.recv_timeout(TICK)
        };
        match next {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            // No handle and no feed is left: what runs is finished below.
            Err(RecvTimeoutError::Disconnected) => {
                open = false;
                if !live.is_empty() {
                    std::thread::sleep(TICK);
                }
            }
        }
        while let Ok(started) = new.try_recv() {
            live.push(Live::open(started));
        }
        let mut i = 0;
        while i < live.len() {
            if live[i].take_batches() {
                i += 1;
            } else {
                live.swap_remove(i).finish_apart();
            }
        }
    }
}

impl Live {
    fn open(s: Started) -> Self {
        Self {
            recorder: Recorder::open(&s.path, s.started, s.shared),
            batches: s.batches,
            path: s.path,
            started_at: s.started_at,
            report: s.report,
        }
    }

    /// Muxes what the queue holds; false once the feed is gone and the queue empty.
    fn take_batches(&mut self) -> bool {
        loop {
            match self.batches.try_recv() {
                Ok(batch) => {
                    for item in batch {
                        self.recorder.item(item);
                    }
                }
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }

    /// Finishes the file on a thread of its own (here, if none can be started).
    fn finish_apart(self) {
        let finishing = Arc::new(Mutex::new(Some(self)));
        let apart = finishing.clone();
        let spawned = std::thread::Builder::new()
            .name("videoreg-recorder-finish".into())
            .spawn(move || finish(&apart));
        if spawned.is_err() {
            finish(&finishing);
        }
    }
}

/// Finishes the recording `finishing` holds, once.
fn finish(finishing: &Mutex<Option<Live>>) {
    let taken = finishing
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(live) = taken {
        let report = live.recorder.finish(&live.path, live.started_at);
        let _ = live.report.send(report);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Incomplete, Recording};
    use super::*;

    #[tokio::test]
    async fn recordings_on_the_one_writer_each_end_with_their_own_report() {
        let dir = std::env::temp_dir().join(format!("videoreg-pool-{}", std::process::id()));
        let recorders = Recorders::default();
        let now = chrono::Utc::now();
        let mut running = Vec::new();
        for i in 0..3 {
            let path = dir.join(format!("call-{i}.webm"));
            let started = Recording::start(&recorders, path, Instant::now(), now);
            running.push(started.expect("started"));
        }
        // The calls end without any media: each recording says so, and leaves no file.
        for (recording, feed) in running {
            drop(feed);
            let report = tokio::time::timeout(Duration::from_secs(10), recording.finished())
                .await
                .expect("finished in time")
                .expect("a report");
            assert_eq!(report.incomplete, [Incomplete::NoMedia]);
            assert_eq!(report.file, None);
        }
        let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").flatten().collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
