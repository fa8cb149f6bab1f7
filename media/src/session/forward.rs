//! The forwarding step of a session: media from one leg goes into the other, keyframe
//! requests go back upstream, and a recording, while one runs, gets a copy of each packet and
//! each sender report (handed to its queue, never waited for).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::sender_report::SenderReport;

use super::Session;
use crate::call::Side;

impl Session {
    /// Media from leg `i`: RTP goes to the target leg's track of the same kind; a keyframe
    /// request for one of leg `i`'s outgoing tracks goes back to where that media comes from.
    pub(super) fn message(&mut self, i: usize, message: TaggedRTCMessage) {
        let now = message.now;
        let side = Side::of_index(i);
        match message.message {
            RTCMessage::RtpPacket(track_id, packet) => {
                self.counters[i].received(packet.payload.len());
                let Some(incoming) = self.legs[i].incoming(&track_id) else {
                    self.counters[i].dropped.fetch_add(1, Relaxed);
                    return;
                };
                let video = incoming.kind == 0;
                let keyframe_wanted = self.recorder.as_mut().is_some_and(|recorder| {
                    recorder.rtp(side, video, &packet, now);
                    video && recorder.take_keyframe_wish(side)
                });
                if keyframe_wanted {
                    self.request_keyframe(i, incoming.kind, now);
                }
                // Monitors get their copies after the call's own leg has its packet.
                let copy = self
                    .monitors
                    .iter()
                    .any(|m| m.leg.connected)
                    .then(|| packet.clone());
                let t = self.target(i);
                // Not into a connection whose DTLS is not up: there is no key to send with.
                if !self.legs[t].connected || !self.legs[t].send_rtp(incoming.kind, packet, now) {
                    self.counters[i].dropped.fetch_add(1, Relaxed);
                }
                if let Some(copy) = copy {
                    self.copy_to_monitors(i, incoming.kind, copy, now);
                }
            }
            RTCMessage::RtcpPacket(track_id, packets) => {
                // The keyframe-request tap hands reports and keyframe requests apart.
                let mut reports = packets
                    .iter()
                    .filter_map(|p| p.as_any().downcast_ref::<SenderReport>())
                    .peekable();
                if reports.peek().is_some() {
                    if let Some(recorder) = &mut self.recorder {
                        reports.for_each(|r| recorder.sender_report(side, r, now));
                    }
                    return;
                }
                let Some((kind, _)) = self.legs[i].outgoing_of(&track_id) else {
                    return;
                };
                self.request_keyframe(self.target(i), kind, now);
            }
            _ => {}
        }
    }

    /// Asks leg `upstream`'s browser for a keyframe of its track of `kind` (RTCP PLI).
    pub(super) fn request_keyframe(&mut self, upstream: usize, kind: usize, now: Instant) {
        let Some((receiver, media_ssrc)) = self.legs[upstream].incoming_of_kind(kind) else {
            return;
        };
        let pli = PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc,
        };
        if let Some(mut r) = self.legs[upstream].pc.rtp_receiver(receiver)
            && r.write_rtcp(now, vec![Box::new(pli)]).is_ok()
        {
            self.counters[upstream]
                .keyframe_requests
                .fetch_add(1, Relaxed);
        }
    }
}
