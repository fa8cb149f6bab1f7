//! Any bytes as a WebSocket text message, on either endpoint: parsing a citizen's or an
//! agent's message never panics, and what parses serialises and parses back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signaling::protocol::{AgentMessage, CitizenMessage};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = serde_json::from_str::<CitizenMessage>(text) {
        let again = serde_json::to_string(&m).expect("a parsed message serialises");
        assert_eq!(serde_json::from_str::<CitizenMessage>(&again).ok(), Some(m));
    }
    if let Ok(m) = serde_json::from_str::<AgentMessage>(text) {
        let again = serde_json::to_string(&m).expect("a parsed message serialises");
        assert_eq!(serde_json::from_str::<AgentMessage>(&again).ok(), Some(m));
    }
});
