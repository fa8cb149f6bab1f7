//! Any text as a browser's SDP offer, through the forwarder's negotiation (a leg's state
//! machine, no sockets): an answer or a refusal, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sdp) = std::str::from_utf8(data) {
        let _ = media::fuzzing::answer_offer(sdp);
    }
});
