//! Any datagrams from a browser's address into a leg that has answered a browser-like offer
//! (STUN, DTLS, RTP, RTCP as the state machine demultiplexes them): never a panic. The input
//! is a sequence of datagrams, each prefixed with its length (two bytes, big-endian).
#![no_main]

use libfuzzer_sys::fuzz_target;

const OFFER: &str = include_str!("offer.sdp");

fuzz_target!(|data: &[u8]| {
    let mut datagrams = Vec::new();
    let mut rest = data;
    while let [hi, lo, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (datagram, after) = tail.split_at(n);
        datagrams.push(datagram);
        rest = after;
        if datagrams.len() == 64 {
            break;
        }
    }
    media::fuzzing::datagrams_after_offer(OFFER, &datagrams);
});
