//! The test call's media: before applying, a citizen's browser sends its media to videoreg
//! and gets it straight back (the forwarder's loopback case), under limits: so many at once
//! per node and per client address, so long each, so many per client address in a window. What the browser is told
//! is `signaling`'s (its test-call session).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::{CandidateFeed, Error, MediaCall, MediaConfig, MediaThreads, Quality, Side};

/// Test-call limits from configuration.
#[derive(Debug, Clone)]
pub struct EchoLimits {
    /// Test calls running at once on this node.
    pub max_concurrent: usize,
    /// The longest a test call may last.
    pub max_duration: Duration,
    /// Test calls one client address may start within `per_address_window`.
    pub per_address: usize,
    /// The window of `per_address`.
    pub per_address_window: Duration,
    /// Test calls one client address may have running at once.
    pub at_once_per_address: usize,
}

impl Default for EchoLimits {
    fn default() -> Self {
        Self {
            max_concurrent: 20,
            max_duration: Duration::from_secs(120),
            per_address: 20,
            per_address_window: Duration::from_secs(600),
            at_once_per_address: 2,
        }
    }
}

/// The test calls running on this node. Cheap to clone; the state is locked only to count.
#[derive(Debug, Clone, Default)]
pub struct EchoRegistry {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    running: usize,
    /// Running test calls per address (only addresses running one are kept).
    running_by_address: HashMap<String, usize>,
    starts: HashMap<String, VecDeque<Instant>>,
}

/// A place among the running test calls; given back when dropped.
#[derive(Debug)]
pub struct EchoPermit {
    registry: EchoRegistry,
    addr: String,
}

impl Drop for EchoPermit {
    fn drop(&mut self) {
        let mut inner = self
            .registry
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        inner.running = inner.running.saturating_sub(1);
        if let Some(n) = inner.running_by_address.get_mut(&self.addr) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                inner.running_by_address.remove(&self.addr);
            }
        }
    }
}

/// Why a test call cannot start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// Too many running on this node: retry in a few seconds.
    Full,
    /// Too many from this address recently: retry after the given time.
    TooMany(Duration),
    /// This address already runs as many as it may at once: retry when one ends.
    AddressBusy,
}

impl EchoRegistry {
    /// Takes a place for a test call from `addr`, or says why not.
    pub fn try_start(&self, addr: &str, limits: &EchoLimits) -> Result<EchoPermit, Busy> {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        // Every address's old starts go, not only this one's: the map holds only addresses
        // seen within the window.
        inner.starts.retain(|_, v| {
            while v
                .front()
                .is_some_and(|t| now.duration_since(*t) >= limits.per_address_window)
            {
                v.pop_front();
            }
            !v.is_empty()
        });
        if let Some(starts) = inner.starts.get(addr)
            && starts.len() >= limits.per_address
        {
            let oldest = starts.front().copied().unwrap_or(now);
            return Err(Busy::TooMany(
                limits
                    .per_address_window
                    .saturating_sub(now.duration_since(oldest)),
            ));
        }
        if inner.running_by_address.get(addr).copied().unwrap_or(0) >= limits.at_once_per_address {
            return Err(Busy::AddressBusy);
        }
        if inner.running >= limits.max_concurrent {
            return Err(Busy::Full);
        }
        inner.running += 1;
        *inner.running_by_address.entry(addr.to_owned()).or_default() += 1;
        inner
            .starts
            .entry(addr.to_owned())
            .or_default()
            .push_back(now);
        Ok(EchoPermit {
            registry: self.clone(),
            addr: addr.to_owned(),
        })
    }

    /// How many test calls run on this node.
    pub fn running(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .running
    }
}

/// A running test call, owned by the citizen's connection.
pub struct RunningEcho {
    /// The loopback media session.
    pub call: Arc<MediaCall>,
    /// Ends the test at its time limit; holds the permit, so aborting it frees the place.
    watchdog: JoinHandle<()>,
}

/// What a running test call reports to whoever tells the browser.
pub struct EchoEvents {
    /// The forwarder's ICE candidates for the browser.
    pub candidates: CandidateFeed,
    /// What was measured, once the time limit has ended the test call.
    pub timed_out: oneshot::Receiver<Quality>,
}

/// Starts a test call that ends itself after `limits.max_duration`.
pub async fn start(
    media: &MediaConfig,
    threads: &MediaThreads,
    limits: &EchoLimits,
    permit: EchoPermit,
) -> Result<(RunningEcho, EchoEvents), Error> {
    let (call, candidates) = MediaCall::echo(media, threads).await?;
    let (done, timed_out) = oneshot::channel();
    let limit = limits.max_duration;
    let timed = call.clone();
    let watchdog = tokio::spawn(async move {
        let _permit = permit;
        tokio::time::sleep(limit).await;
        let report = report(&timed).await;
        timed.close().await;
        let _ = done.send(report);
    });
    Ok((
        RunningEcho { call, watchdog },
        EchoEvents {
            candidates,
            timed_out,
        },
    ))
}

/// What the server measured of a test call.
pub async fn report(call: &MediaCall) -> Quality {
    call.quality(Side::Citizen).await.unwrap_or(Quality {
        packets: 0,
        bytes: 0,
        lost: 0,
        rtt_ms: None,
        keyframe_requests: 0,
        path: None,
    })
}

impl RunningEcho {
    /// Ends the test call now; returns what was measured.
    pub async fn stop(self) -> Quality {
        self.watchdog.abort();
        let measured = report(&self.call).await;
        self.call.close().await;
        measured
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn places_are_limited_at_once_and_per_address() {
        let reg = EchoRegistry::default();
        let limits = EchoLimits {
            max_concurrent: 2,
            per_address: 3,
            per_address_window: Duration::from_secs(60),
            at_once_per_address: 2,
            ..EchoLimits::default()
        };
        let a = reg.try_start("1.1.1.1", &limits).expect("first");
        let _b = reg.try_start("2.2.2.2", &limits).expect("second");
        assert_eq!(reg.try_start("3.3.3.3", &limits).err(), Some(Busy::Full));
        drop(a);
        assert_eq!(reg.running(), 1, "a dropped permit frees its place");
        let c = reg.try_start("1.1.1.1", &limits).expect("third");
        drop(c);
        let d = reg.try_start("1.1.1.1", &limits).expect("fourth");
        drop(d);
        assert!(
            matches!(reg.try_start("1.1.1.1", &limits), Err(Busy::TooMany(_))),
            "3 starts per minute"
        );
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(
            reg.try_start("1.1.1.1", &limits).is_ok(),
            "the window has passed"
        );
    }

    #[test]
    fn one_address_runs_at_most_its_share_at_once_and_others_still_start() {
        let reg = EchoRegistry::default();
        let limits = EchoLimits {
            max_concurrent: 20,
            at_once_per_address: 2,
            ..EchoLimits::default()
        };
        let a = reg.try_start("1.1.1.1", &limits).expect("first");
        let _b = reg.try_start("1.1.1.1", &limits).expect("second");
        assert_eq!(
            reg.try_start("1.1.1.1", &limits).err(),
            Some(Busy::AddressBusy)
        );
        assert!(reg.try_start("2.2.2.2", &limits).is_ok(), "another address");
        drop(a);
        assert!(
            reg.try_start("1.1.1.1", &limits).is_ok(),
            "a place of its own is free again"
        );
    }
}
