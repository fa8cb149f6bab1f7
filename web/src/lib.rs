//! `web` is the videoreg server: configuration ([`config`]: every option declared once, with
//! its flag, environment variable, TOML key, default and help), start-up, housekeeping and
//! shutdown, the recordings on disk and retention ([`evidence`]), the one [`AppState`], the citizen pages and account forms ([`citizen`]: receipt,
//! activation, sign-in), the JSON API, `/metrics`, static assets, the identity registry's
//! import ([`import`]), the command-line subcommands, and the HTTP API's OpenAPI
//! description ([`openapi`]). It maps every error to a response
//! and holds no rule that belongs to another crate: the calendar is `scheduler`'s,
//! persistence is `store`'s, the call's life is `signaling`'s, media is `media`'s, the staff
//! side is `agent_console`'s. The citizen identity checks (DNI/NIE format, contrast data,
//! verification limits) live here, in [`identity`], because the application API is their
//! only user.

pub mod booking;
pub mod citizen;
pub mod commands;
pub mod config;
mod error;
pub mod evidence;
pub mod housekeeping;
pub mod identity;
pub mod import;
pub mod media_port;
mod middleware;
pub mod node_lock;
pub mod report;
mod routes;
pub mod secrets_key;
pub mod state;
pub mod user_commands;

use std::future::Future;
use std::net::SocketAddr;

use axum::serve::ListenerExt;
pub use error::Error;
pub use routes::openapi;
pub use state::AppState;
pub use store::secrets;
use tokio::net::TcpListener;

/// Serves videoreg on `listener` until `shutdown` completes, then drains (clients told to
/// reconnect elsewhere, calls given `--drain-seconds` to end, the node recorded stopped; see
/// `signaling::drain`) and finishes the requests in flight. Logs `listening on http://ADDR`
/// once bound; tests call this on port 0.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the bound address", e))?;
    tracing::info!("listening on http://{addr}");
    let publisher = tokio::spawn(signaling::publisher::run(state.signaling.clone()));
    let bus = tokio::spawn(signaling::deliver::run_bus(state.signaling.clone()));
    let presence = tokio::spawn(signaling::presence::run(state.signaling.clone()));
    let metrics_upkeep = tokio::spawn(routes::metrics::upkeep(state.signaling.telemetry.clone()));
    let signaling = state.signaling.clone();
    let app = routes::router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Signaling messages are small and latency-bound: send them without Nagle's delay.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
    });
    // HTTP goes on while the node drains (`/healthz` says `draining`, pages load); it stops
    // once the drain is over.
    let drained = async move {
        shutdown.await;
        if let Err(e) = signaling::drain::drain(&signaling).await {
            tracing::error!(error = %e, "draining; stopping anyway");
        }
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(drained)
        .await
        .map_err(|e| Error::io("serving", e));
    publisher.abort();
    bus.abort();
    presence.abort();
    metrics_upkeep.abort();
    served?;
    tracing::info!("stopped");
    Ok(())
}
