//! `signaling` owns the WebSocket protocol between browsers and videoreg (typed messages in
//! [`protocol`]), the connection [`hub`] and delivery across nodes ([`deliver`]), the live
//! queue as citizens are told it (positions and estimates in [`queue_view`], pushed by the
//! [`publisher`]), the citizen's side ([`citizen`], with its [`test_call`]), the agent's side
//! ([`agent`], [`agent_state`]), resume after reconnect, activation codes ([`activation`]), the client's address
//! ([`client_addr`]) and what one address may hold at once ([`per_address`]),
//! this node's presence in the database and the clean-up after nodes that die ([`presence`]),
//! stopping without stranding anyone ([`drain`]), the live-person check during a call ([`liveness`]), supervisors watching a call ([`monitoring`]), what a decided call tells the citizen ([`outcome`]), the Prometheus figures
//! ([`telemetry`]), and **a call's life in one module**: [`calls::Lifecycle`] takes, offers,
//! accepts, requeues, aborts and ends every call, in the same order on every path (store
//! write with its audit event, telemetry, media, messages), and drives the `media` crate's
//! forwarder. It knows no HTML and no SQL: tickets live in the database through `store`, time
//! rules come from `scheduler`. The citizen endpoint is served from here; the agent endpoint
//! is authenticated by `agent_console`, which hands the socket to [`agent::serve`].

pub mod activation;
pub mod agent;
pub mod agent_state;
pub mod calls;
pub mod citizen;
pub mod client_addr;
pub mod deliver;
pub mod drain;
mod error;
pub mod hub;
pub mod liveness;
pub mod monitoring;
pub mod outcome;
pub mod per_address;
pub mod presence;
pub mod protocol;
pub mod publisher;
pub mod queue_view;
pub mod socket;
mod state;
pub mod telemetry;
pub mod test_call;

pub use error::Error;
pub use state::SignalingState;
