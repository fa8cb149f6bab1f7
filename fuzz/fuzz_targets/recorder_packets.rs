//! Any RTP payloads, sequence numbers, timestamps, SSRC changes and sender reports into the
//! recorder's video (VP8) and audio (Opus) tracks: never a panic, never an overflow. The input
//! format is `media::fuzzing::recorder_packets`'s.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    media::fuzzing::recorder_packets(data);
});
