//! How a session's packets come and go: through a UDP socket of its own per leg, bound from
//! the port range, or through the node's shared port (one UDP socket, and ICE-TCP), whose
//! reader hands the session its packets on a queue (`port`).

use std::future::poll_fn;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::Instant;

use bytes::BytesMut;
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::leg::{Leg, announced_address};
use crate::port::{Inbound, LegKey, Routes, send_datagram};
use crate::{Error, MediaConfig};

/// The largest datagram read; WebRTC media stays well under a 1500-byte MTU.
const DATAGRAM: usize = 2048;
/// Packets taken from one socket (or the queue) per wake-up, to spare wake-ups.
const BURST: usize = 64;

/// A session's way in and out.
pub(crate) enum Wire {
    /// A socket per leg, from the port range.
    Range {
        sockets: Vec<(LegKey, UdpSocket)>,
        /// The socket polled first, turn by turn, so that no leg starves another.
        first: usize,
        buf: Vec<u8>,
    },
    /// The node's shared port.
    Shared {
        routes: Routes,
        inbox: mpsc::Receiver<Inbound>,
    },
}

/// Where browsers reach a leg: its UDP address and, on a shared port with ICE-TCP, its TCP
/// address (both as announced).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LegAddrs {
    pub udp: SocketAddr,
    pub tcp: Option<SocketAddr>,
}

impl Wire {
    pub fn new(config: &MediaConfig) -> Self {
        match &config.shared {
            Some(port) => {
                let (routes, inbox) = port.register();
                Wire::Shared { routes, inbox }
            }
            None => Wire::Range {
                sockets: Vec::new(),
                first: 0,
                buf: vec![0; DATAGRAM],
            },
        }
    }

    /// Opens a leg's way: on the range, binds the first free port.
    pub async fn open(&mut self, config: &MediaConfig, leg: LegKey) -> Result<LegAddrs, Error> {
        match self {
            Wire::Shared { routes, .. } => {
                let port = routes.port();
                let udp = port.udp_addr();
                let announced = |addr: SocketAddr| {
                    announced_address(config, addr.ip()).map(|ip| SocketAddr::new(ip, addr.port()))
                };
                Ok(LegAddrs {
                    udp: announced(udp)?,
                    tcp: port.tcp_addr().map(announced).transpose()?,
                })
            }
            Wire::Range { sockets, .. } => {
                let mut bound = None;
                for port in config.ports.clone() {
                    match UdpSocket::bind((config.bind_ip, port)).await {
                        Ok(socket) => {
                            bound = Some(socket);
                            break;
                        }
                        Err(e) => {
                            tracing::debug!(port, error = %e, "media port unusable; trying the next");
                        }
                    }
                }
                let socket = bound.ok_or_else(|| Error::NoPort(config.ports.clone()))?;
                let local = socket.local_addr().map_err(Error::webrtc)?;
                let udp = SocketAddr::new(announced_address(config, local.ip())?, local.port());
                sockets.push((leg, socket));
                Ok(LegAddrs { udp, tcp: None })
            }
        }
    }

    /// Closes a leg's way (a monitor that left), once what it had to send is sent.
    pub fn close(&mut self, leg: LegKey) {
        match self {
            Wire::Shared { routes, .. } => routes.forget_leg(leg),
            Wire::Range { sockets, first, .. } => {
                sockets.retain(|(k, _)| *k != leg);
                *first = 0;
            }
        }
    }

    /// After an answer: packets whose binding requests name `leg`'s username fragment are
    /// for `key` (shared port only; a socket of its own needs no name).
    pub fn learn(&self, key: LegKey, leg: &mut Leg) {
        if let Wire::Shared { routes, .. } = self
            && let Some(ufrag) = leg.local_ufrag()
        {
            routes.learn(key, &ufrag);
        }
    }

    /// Waits for packets and puts what has arrived (at least one, unless a socket failed)
    /// into `out`.
    pub async fn recv(&mut self, out: &mut Vec<Inbound>) {
        match self {
            Wire::Shared { inbox, .. } => {
                // `routes` holds a sender: the queue never closes while the session runs.
                let Some(first) = inbox.recv().await else {
                    return std::future::pending().await;
                };
                out.push(first);
                for _ in 0..BURST {
                    match inbox.try_recv() {
                        Ok(next) => out.push(next),
                        Err(_) => break,
                    }
                }
            }
            Wire::Range {
                sockets,
                first,
                buf,
            } => {
                let Some((i, n, from)) = recv_any(sockets, *first, buf).await else {
                    return;
                };
                *first = (*first + 1) % sockets.len().max(1);
                let (leg, socket) = &sockets[i];
                let inbound = |n: usize, from, buf: &[u8]| Inbound {
                    leg: *leg,
                    from,
                    tcp: false,
                    data: BytesMut::from(&buf[..n]),
                    at: Instant::now(),
                };
                out.push(inbound(n, from, buf));
                for _ in 0..BURST {
                    match socket.try_recv_from(buf) {
                        Ok((n, from)) => out.push(inbound(n, from, buf)),
                        Err(_) => break,
                    }
                }
            }
        }
    }

    /// Sends a packet from `leg` to a browser without waiting (a leg's last words, when
    /// closing it): dropped if there is no room.
    pub fn send_now(&self, leg: LegKey, tcp: bool, to: SocketAddr, message: &[u8]) {
        let sent = match self {
            Wire::Shared { routes, .. } => routes.port().send_now(tcp, to, message),
            Wire::Range { sockets, .. } => match sockets.iter().find(|(k, _)| *k == leg) {
                Some((_, socket)) => socket.try_send_to(message, to).map(|_| ()),
                None => Ok(()),
            },
        };
        if let Err(e) = sent {
            tracing::debug!(error = %e, %to, "media datagram not sent");
        }
    }

    /// Sends a packet from `leg` to a browser.
    pub async fn send(&self, leg: LegKey, tcp: bool, to: SocketAddr, message: &[u8]) {
        match self {
            Wire::Shared { routes, .. } => routes.port().send(tcp, to, message).await,
            Wire::Range { sockets, .. } => {
                if let Some((_, socket)) = sockets.iter().find(|(k, _)| *k == leg) {
                    send_datagram(socket, message, to).await;
                }
            }
        }
    }
}

/// The first datagram to arrive on any socket, polling from socket `first`: (index, length,
/// sender). `None` for a socket error, which is logged (the loop carries on; ICE notices a
/// dead path).
async fn recv_any(
    sockets: &[(LegKey, UdpSocket)],
    first: usize,
    buf: &mut [u8],
) -> Option<(usize, usize, SocketAddr)> {
    let all = sockets.len();
    if all == 0 {
        return std::future::pending().await;
    }
    poll_fn(|cx| {
        for k in 0..all {
            let i = (first + k) % all;
            let mut read = ReadBuf::new(buf);
            match sockets[i].1.poll_recv_from(cx, &mut read) {
                Poll::Ready(Ok(from)) => return Poll::Ready(Some((i, read.filled().len(), from))),
                Poll::Ready(Err(e)) => {
                    tracing::debug!(error = %e, "media socket");
                    return Poll::Ready(None);
                }
                Poll::Pending => {}
            }
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MediaThreads, SharedPort};

    #[tokio::test]
    async fn on_the_shared_port_both_candidates_carry_the_announced_address() {
        let threads = MediaThreads::new(1);
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("tcp");
        let port = SharedPort::start(udp, Some(tcp), &threads).expect("shared port");
        let (udp_port, tcp_port) = (port.udp_addr().port(), port.tcp_addr().expect("tcp").port());
        let config = MediaConfig {
            bind_ip: "127.0.0.1".parse().expect("ip"),
            ports: 1..=1,
            shared: Some(port),
            announce_ip: Some("203.0.113.7".parse().expect("ip")),
            ice_servers: Vec::new(),
            turn: None,
        };
        let mut wire = Wire::new(&config);
        let addrs = wire.open(&config, LegKey::Call(0)).await.expect("open");
        assert_eq!(addrs.udp.to_string(), format!("203.0.113.7:{udp_port}"));
        assert_eq!(
            addrs.tcp.map(|a| a.to_string()),
            Some(format!("203.0.113.7:{tcp_port}"))
        );
        // Every leg of every session shares them.
        let mut other = Wire::new(&config);
        let again = other.open(&config, LegKey::Call(1)).await.expect("open");
        assert_eq!((again.udp, again.tcp), (addrs.udp, addrs.tcp));
    }
}
