//! The shared UDP socket's reader: each datagram goes to its session's queue (`Inner::deliver`),
//! a burst at a time so that one wake-up serves what the kernel holds. And the one way a
//! datagram is sent, on the shared socket or a leg's own.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;

use super::Inner;

/// The largest datagram read; WebRTC media stays well under a 1500-byte MTU.
const DATAGRAM: usize = 2048;
/// Datagrams taken per wake-up after the first, before yielding to the thread's sessions.
const BURST: usize = 64;

/// Reads the socket until the media thread ends.
pub(super) async fn read(inner: Arc<Inner>) {
    let mut buf = vec![0; DATAGRAM];
    loop {
        match inner.udp.recv_from(&mut buf).await {
            Ok((n, from)) => {
                inner.deliver(false, from, &buf[..n], Instant::now());
            }
            Err(e) => {
                // ICMP errors from a browser that left surface here; the socket carries on.
                tracing::debug!(error = %e, "shared media socket");
                continue;
            }
        }
        for _ in 0..BURST {
            match inner.udp.try_recv_from(&mut buf) {
                Ok((n, from)) => {
                    inner.deliver(false, from, &buf[..n], Instant::now());
                }
                Err(_) => break,
            }
        }
    }
}

/// Sends a datagram, waiting for room when the socket's buffer is full; a failure is logged
/// (ICE notices a dead path).
pub(crate) async fn send_datagram(socket: &UdpSocket, message: &[u8], to: SocketAddr) {
    let sent = match socket.try_send_to(message, to) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => socket.send_to(message, to).await,
        other => other,
    };
    if let Err(e) = sent {
        tracing::debug!(error = %e, %to, "media datagram not sent");
    }
}
