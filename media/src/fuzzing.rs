//! For the fuzz targets (feature `fuzzing`): what a browser can hand a leg, without sockets
//! or threads. A browser's offer goes through the same negotiation as in a call
//! (`Leg::answer`), and datagrams through the same state machine (`Leg::received`).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use rtc::peer_connection::sdp::RTCSessionDescription;

use crate::leg::Leg;

/// The address a detached leg speaks from.
const HERE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);
/// Where the fuzzed datagrams come from.
const THERE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50_000);

/// Answers `sdp` as a browser's offer; whether an answer was made.
pub fn answer_offer(sdp: &str) -> bool {
    let Ok(offer) = RTCSessionDescription::offer(sdp.to_owned()) else {
        return false;
    };
    let Ok(mut leg) = Leg::detached(HERE, 0x0F00_0000, "fuzz") else {
        return false;
    };
    leg.answer(offer, Instant::now()).is_ok()
}

/// Answers `offer_sdp` (when it can), then hands the leg each datagram in turn, as if they
/// arrived on its socket from the browser.
pub fn datagrams_after_offer(offer_sdp: &str, datagrams: &[&[u8]]) {
    let Ok(mut leg) = Leg::detached(HERE, 0x0F00_0000, "fuzz") else {
        return;
    };
    if let Ok(offer) = RTCSessionDescription::offer(offer_sdp.to_owned()) {
        let _ = leg.answer(offer, Instant::now());
    }
    for d in datagrams {
        leg.received(d, THERE, Instant::now());
    }
}
