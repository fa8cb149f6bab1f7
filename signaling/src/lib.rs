//! `signaling` owns the WebSocket protocol between browsers and videoreg (typed messages in
//! [`protocol`]), the connection [`hub`], the live queue as citizens are told it (positions
//! and estimates, pushed by the [`publisher`]), the agent's side (take next, accept, requeue,
//! hang up), pairing of a citizen and an agent, and resume after reconnect. It knows no HTML
//! and no SQL: tickets live in the database through `store`, time rules come from
//! `scheduler`. The citizen endpoint is served from here; the agent endpoint is
//! authenticated by `agent_console`, which hands the socket to [`agent::serve`].

pub mod activation;
pub mod agent;
pub mod agent_state;
pub mod calls;
pub mod citizen;
pub mod deliver;
pub mod echo;
mod error;
pub mod hub;
pub mod media;
pub mod outcome;
pub mod protocol;
pub mod publisher;
pub mod queue_view;
pub mod socket;
mod state;
pub mod telemetry;

pub use error::Error;
pub use scheduler;
pub use state::SignalingState;
pub use store;
