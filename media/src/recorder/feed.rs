//! The forwarder's end of a recording: what the session task calls for each packet. It
//! copies a packet's few header fields and a reference to its payload into the bounded queue
//! and returns; a full queue drops the packet from the recording, never waits.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Instant;

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

/// The session task's handle on a recording; dropping it ends the recording.
pub(crate) struct Feed {
    tx: SyncSender<Item>,
    shared: Arc<Shared>,
}

impl Feed {
    pub(super) fn new(tx: SyncSender<Item>, shared: Arc<Shared>) -> Self {
        Self { tx, shared }
    }

    /// An RTP packet received from `side` (video or audio), at `at`.
    pub fn rtp(&self, side: Side, video: bool, packet: &rtc::rtp::Packet, at: Instant) {
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
    pub fn sender_report(&self, side: Side, report: &SenderReport, at: Instant) {
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

    fn offer(&self, item: Item) {
        match self.tx.try_send(item) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let before = self.shared.overflow.fetch_add(1, Ordering::Relaxed);
                if before == 0 {
                    self.shared.trouble.send_if_modified(|t| {
                        let first = t.is_none();
                        if first {
                            *t = Some(Incomplete::QueueOverflow { packets: 1 });
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
