//! The threads media sessions run on. Each is a single-threaded tokio runtime with its own
//! I/O driver, so a datagram is read, forwarded and sent by the thread that was woken for it,
//! without handing work to another thread; HTTP, WebSockets and the database stay on the
//! server's main runtime. Measured: on the main two-worker runtime a test call cost 40–60 %
//! more CPU (docs/performance.md).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::Error;
use crate::recorder::Recorders;

/// A pool of media threads, started on first use, and the recordings' writer thread.
/// Cheap to clone; clones share the pool. The threads end when the last clone is dropped.
#[derive(Clone)]
pub struct MediaThreads {
    inner: Arc<Inner>,
    /// The writer thread the calls' recordings share (`recorder`).
    recorders: Recorders,
}

struct Inner {
    /// How many threads to start.
    count: usize,
    /// The started threads' runtimes and the senders whose drop stops them. Locked only to
    /// start the pool or copy a handle, never across an `.await`.
    started: Mutex<Vec<(Handle, oneshot::Sender<()>)>>,
    /// Round-robin placement of sessions.
    next: AtomicUsize,
}

impl std::fmt::Debug for MediaThreads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MediaThreads({})", self.inner.count)
    }
}

impl MediaThreads {
    /// A pool of `count` threads (at least one), not started yet.
    pub fn new(count: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                count: count.max(1),
                started: Mutex::new(Vec::new()),
                next: AtomicUsize::new(0),
            }),
            recorders: Recorders::default(),
        }
    }

    /// The default size: half the machine's cores, at least one; the other half is left to
    /// the HTTP side and the database.
    pub fn default_count() -> usize {
        std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
    }

    /// How many threads the pool has.
    pub fn count(&self) -> usize {
        self.inner.count
    }

    /// The recordings' writer thread.
    pub(crate) fn recorders(&self) -> &Recorders {
        &self.recorders
    }

    /// The runtime the next session goes to, starting the pool if needed.
    pub(super) fn pick(&self) -> Result<Handle, Error> {
        let mut started = self
            .inner
            .started
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while started.len() < self.inner.count {
            let thread = start_thread(started.len())?;
            started.push(thread);
        }
        let i = self.inner.next.fetch_add(1, Ordering::Relaxed) % started.len();
        Ok(started[i].0.clone())
    }
}

/// Starts media thread `i`; it runs until the returned sender is dropped.
fn start_thread(i: usize) -> Result<(Handle, oneshot::Sender<()>), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(Error::MediaThread)?;
    let handle = runtime.handle().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(format!("videoreg-media-{i}"))
        .spawn(move || {
            // Ends when the pool is dropped; the runtime's sessions and sockets go with it.
            let _ = runtime.block_on(stopped);
        })
        .map_err(Error::MediaThread)?;
    Ok((handle, stop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_has_at_least_one_thread() {
        assert_eq!(MediaThreads::new(0).count(), 1);
        assert!(MediaThreads::default_count() >= 1);
    }

    #[tokio::test]
    async fn sessions_are_placed_round_robin_on_threads_of_their_own() {
        let pool = MediaThreads::new(2);
        let mut names = Vec::new();
        for _ in 0..4 {
            let handle = pool.pick().expect("media thread");
            let name = handle
                .spawn(async { std::thread::current().name().map(str::to_owned) })
                .await
                .expect("ran");
            names.push(name.unwrap_or_default());
        }
        assert_eq!(
            names,
            [
                "videoreg-media-0",
                "videoreg-media-1",
                "videoreg-media-0",
                "videoreg-media-1"
            ]
        );
    }
}
