//! The forwarder's end of a recording: what the session task calls for each packet. It
//! copies a packet's few header fields and a reference to its payload into a batch, and puts
//! the batch on the bounded queue every 50 ms (by the packets' own arrival times), and wakes
//! the writer thread: waking it for every packet cost more than all the writer's work
//! (`docs/performance.md`). A full queue drops the batch from the recording, never waits.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::rtcp::sender_report::SenderReport;

use super::{Incomplete, Shared};
use crate::Side;

/// What travels from the session task to the writer.
pub(super) enum Item {
    Rtp {
        side: Side,
        video: bool,
        ssrc: u32,
        seq: u16,
        rtp_ts: u32,
        marker: bool,
        payload: Bytes,
        at: Instant,
    },
    SenderReport {
        side: Side,
        ssrc: u32,
        ntp: u64,
        rtp_ts: u32,
        at: Instant,
    },
}

/// How long packets gather before they go to the writer, by their arrival.
const BATCH_TIME: Duration = Duration::from_millis(50);
/// The most packets in one batch.
const BATCH_ITEMS: usize = 256;

/// A batch of packets on the queue.
pub(super) type Batch = Vec<Item>;

/// The session task's handle on a recording; dropping it sends what it holds and ends the
/// recording.
pub(crate) struct Feed {
    tx: SyncSender<Batch>,
    /// Wakes the writer thread after a batch (a full wake-up queue means it is awake).
    wake: SyncSender<()>,
    shared: Arc<Shared>,
    batch: Batch,
    /// The arrival of the batch's first packet.
    since: Option<Instant>,
}

impl Feed {
    pub(super) fn new(tx: SyncSender<Batch>, wake: SyncSender<()>, shared: Arc<Shared>) -> Self {
        Self {
            tx,
            wake,
            shared,
            batch: Vec::new(),
            since: None,
        }
    }

    /// An RTP packet received from `side` (video or audio), at `at`.
    pub fn rtp(&mut self, side: Side, video: bool, packet: &rtc::rtp::Packet, at: Instant) {
        self.offer(Item::Rtp {
            side,
            video,
            ssrc: packet.header.ssrc,
            seq: packet.header.sequence_number,
            rtp_ts: packet.header.timestamp,
            marker: packet.header.marker,
            payload: packet.payload.clone(),
            at,
        });
    }

    /// An RTCP sender report received from `side`, at `at`.
    pub fn sender_report(&mut self, side: Side, report: &SenderReport, at: Instant) {
        self.offer(Item::SenderReport {
            side,
            ssrc: report.ssrc,
            ntp: report.ntp_time,
            rtp_ts: report.rtp_time,
            at,
        });
    }

    /// Whether the recorder wants a keyframe of `side`'s video (once per wish).
    pub fn take_keyframe_wish(&self, side: Side) -> bool {
        self.shared.keyframe_wanted[side.index()].swap(false, Ordering::Relaxed)
    }

    fn offer(&mut self, item: Item) {
        let at = match &item {
            Item::Rtp { at, .. } | Item::SenderReport { at, .. } => *at,
        };
        let since = *self.since.get_or_insert(at);
        self.batch.push(item);
        if self.batch.len() >= BATCH_ITEMS || at.saturating_duration_since(since) >= BATCH_TIME {
            self.send();
        }
    }

    fn send(&mut self) {
        self.since = None;
        let batch = std::mem::take(&mut self.batch);
        let packets = batch.len() as u64;
        match self.tx.try_send(batch) {
            Ok(()) => {
                let _ = self.wake.try_send(());
            }
            Err(TrySendError::Full(_)) => {
                let before = self.shared.overflow.fetch_add(packets, Ordering::Relaxed);
                if before == 0 {
                    self.shared.trouble.send_if_modified(|t| {
                        let first = t.is_none();
                        if first {
                            *t = Some(Incomplete::QueueOverflow { packets });
                        }
                        first
                    });
                }
            }
            // The writer has ended (it only does once the feed is gone).
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        if !self.batch.is_empty() {
            self.send();
        }
        // The writer finishes the file once it sees the feed gone.
        let _ = self.wake.try_send(());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use tokio::sync::watch;

    use super::*;

    fn packet(seq: u16) -> rtc::rtp::Packet {
        let mut p = rtc::rtp::Packet::default();
        p.header.sequence_number = seq;
        p.payload = Bytes::from_static(&[0x90, 0, 0, 0]);
        p
    }

    #[test]
    fn packets_go_in_batches_and_a_full_queue_drops_them_from_the_recording_only() {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let (trouble, watch) = watch::channel(None);
        let shared = Arc::new(Shared {
            overflow: AtomicU64::new(0),
            keyframe_wanted: Default::default(),
            trouble,
        });
        let (wake, _woken) = std::sync::mpsc::sync_channel(1);
        let mut feed = Feed::new(tx, wake, shared.clone());
        let t0 = Instant::now();
        // 10 ms apart: five packets make a batch (the fifth is 40 ms after the first, the
        // sixth 50 ms: it closes the batch).
        for i in 0..6u16 {
            feed.rtp(
                Side::Citizen,
                true,
                &packet(i),
                t0 + Duration::from_millis(10 * u64::from(i)),
            );
        }
        let batch = rx.try_recv().expect("one batch");
        assert_eq!(batch.len(), 6);
        assert!(rx.try_recv().is_err(), "nothing more yet");
        // The writer takes nothing now: the second batch fills the queue, the third overflows.
        for i in 6..20u16 {
            feed.rtp(
                Side::Agent,
                false,
                &packet(i),
                t0 + Duration::from_millis(60 * u64::from(i)),
            );
        }
        assert!(shared.overflow.load(Ordering::Relaxed) > 0);
        assert!(matches!(
            *watch.borrow(),
            Some(Incomplete::QueueOverflow { .. })
        ));
        assert!(!feed.take_keyframe_wish(Side::Citizen));
        shared.keyframe_wanted[0].store(true, Ordering::Relaxed);
        assert!(feed.take_keyframe_wish(Side::Citizen));
        assert!(!feed.take_keyframe_wish(Side::Citizen), "once per wish");
    }
}
