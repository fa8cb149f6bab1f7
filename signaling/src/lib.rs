//! `signaling` owns the WebSocket protocol between browsers and videoreg (typed messages), the
//! connection hub, the pairing of a citizen and an agent into a call, resume after reconnect,
//! and the media forwarder (webrtc-rs) that carries the test call and the call. It knows no
//! HTML and no SQL: persistence goes through `store`, time rules through `scheduler`.
//!
//! The protocol arrives with the signaling issue; the crate exists now so that the dependency
//! direction `web → agent_console → signaling → (store, scheduler)` is fixed from the start.

pub use scheduler;
pub use store;
