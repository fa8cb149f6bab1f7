//! The node's shared media port (`--media-udp-port`, `--media-tcp-port`): bound here when the
//! server starts, beside its HTTP listener, and handed to the forwarder, which reads it on a
//! media thread (`media::SharedPort`). Without it each browser connection gets a UDP port of
//! its own from `--media-ports`.

use std::net::SocketAddr;

use crate::AppState;
use crate::config::Settings;
use crate::error::Error;

/// `state` with the shared media port bound and started, when the settings ask for one.
pub fn attach(state: AppState, settings: &Settings) -> Result<AppState, Error> {
    let Some(ports) = settings.media_port else {
        return Ok(state);
    };
    let ip = settings.media.bind_ip;
    let udp_addr = SocketAddr::new(ip, ports.udp);
    let udp = std::net::UdpSocket::bind(udp_addr)
        .map_err(|e| Error::io(format!("binding the media UDP port {udp_addr}"), e))?;
    let tcp = match ports.tcp {
        Some(port) => {
            let addr = SocketAddr::new(ip, port);
            let listener = std::net::TcpListener::bind(addr)
                .map_err(|e| Error::io(format!("binding the ICE-TCP port {addr}"), e))?;
            Some(listener)
        }
        None => None,
    };
    let port = media::SharedPort::start(udp, tcp, &state.signaling.media_threads)
        .map_err(|e| Error::Config(format!("starting the media port: {e}")))?;
    match port.tcp_addr() {
        Some(tcp) => {
            tracing::info!(udp = %port.udp_addr(), %tcp, "media on one UDP port, ICE-TCP on one TCP port")
        }
        None => tracing::info!(udp = %port.udp_addr(), "media on one UDP port"),
    }
    let mut media = (*state.signaling.media).clone();
    media.shared = Some(port);
    let mut state = state;
    state.signaling.media = std::sync::Arc::new(media);
    Ok(state)
}
