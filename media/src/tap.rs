//! An interceptor that hands keyframe requests (PLI, FIR) and sender reports to the
//! forwarder. webrtc-rs consumes all inbound RTCP in its interceptors; without this the
//! forwarder could not pass a receiver's keyframe request back to the sender, nor the
//! recorder line up a sender's audio and video by its reports.

use std::collections::VecDeque;
use std::time::Instant;

use rtc::interceptor::{
    Attribute, AttributedPacket, Interceptor, Packet, StreamInfo, TaggedPacket,
};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::sender_report::SenderReport;

/// Passes PLI/FIR and SR up to the application; other RTCP stops here, RTP flows on.
#[derive(Default)]
pub struct KeyframeRequestTap {
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

impl rtc::sansio::Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequestTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let (keyframe, reports): (Vec<_>, Vec<_>) = packets
                .iter()
                .filter(|p| {
                    let p = p.as_any();
                    p.is::<PictureLossIndication>()
                        || p.is::<FullIntraRequest>()
                        || p.is::<SenderReport>()
                })
                .cloned()
                .partition(|p| !p.as_any().is::<SenderReport>());
            // Apart: webrtc-rs routes a message by its first packet's SSRC, and a report's
            // would send a keyframe request to the wrong track.
            for part in [keyframe, reports] {
                if part.is_empty() {
                    continue;
                }
                let mut message = AttributedPacket::new(Packet::Rtcp(part));
                message.attributes.clone_from(&msg.message.attributes);
                message.add(Attribute::DeliverToApplication);
                self.read.push_back(TaggedPacket {
                    now: msg.now,
                    transport: msg.transport,
                    message,
                });
            }
            return Ok(());
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.write.pop_front()
    }
}

impl Interceptor for KeyframeRequestTap {
    fn bind_local_stream(&mut self, _: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _: &StreamInfo) {}
}
