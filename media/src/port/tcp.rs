//! Passive ICE-TCP (RFC 6544): browsers that cannot use UDP connect to the node's media TCP
//! port and send their packets framed as RFC 4571 says, each behind a 2-byte big-endian
//! length. A connection's packets then go to the sessions exactly as datagrams do, keyed by
//! the browser's address and marked as TCP; what a session sends back goes through the
//! connection's writer. A connection must name a leg in its first frame (a binding request
//! with a fragment the table knows) within [`FIRST_FRAME`], and is closed after
//! [`IDLE`] without a frame (ICE's consent checks come every few seconds).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::Inner;

/// The most ICE-TCP connections open at once on a node (a browser opens one per leg).
const MAX_CONNECTIONS: usize = 1024;
/// The largest frame taken; WebRTC packets stay under 1500 bytes.
const MAX_FRAME: usize = 2048;
/// How long a new connection has to send its first binding request.
const FIRST_FRAME: Duration = Duration::from_secs(10);
/// How long an established connection may stay silent.
const IDLE: Duration = Duration::from_secs(30);
/// Frames waiting for one connection's writer before the newest are dropped.
const WRITER_QUEUE: usize = 512;

/// Accepts connections until the media thread ends.
pub(super) async fn accept(inner: Arc<Inner>, listener: TcpListener) {
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::debug!(error = %e, "ICE-TCP accept");
                continue;
            }
        };
        if open.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            tracing::warn!(%from, "ICE-TCP connection refused: {MAX_CONNECTIONS} open");
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let (inner, open) = (inner.clone(), open.clone());
        tokio::spawn(async move {
            serve(&inner, stream, from).await;
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// One browser's connection: its frames in, the sessions' frames out.
async fn serve(inner: &Inner, stream: TcpStream, from: SocketAddr) {
    // Media is latency-bound: no Nagle delay.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "ICE-TCP nodelay");
    }
    let (reader, writer) = stream.into_split();
    let (frames, outgoing) = mpsc::channel(WRITER_QUEUE);
    inner
        .connections
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(from, frames);
    tokio::select! {
        () = read(inner, reader, from) => {}
        () = write(writer, outgoing) => {}
    }
    inner
        .connections
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&from);
    inner.forget_address((true, from));
}

/// Reads frames until the browser closes, sends a bad frame, or goes silent.
async fn read(inner: &Inner, mut reader: OwnedReadHalf, from: SocketAddr) {
    let mut buf = vec![0; MAX_FRAME];
    let mut named = false;
    loop {
        let wait = if named { IDLE } else { FIRST_FRAME };
        let frame = tokio::time::timeout(wait, read_frame(&mut reader, &mut buf)).await;
        let n = match frame {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                tracing::debug!(%from, error = %e, "ICE-TCP connection ended");
                return;
            }
            Err(_) => {
                tracing::debug!(%from, named, "ICE-TCP connection silent; closed");
                return;
            }
        };
        let routed = inner.deliver(true, from, &buf[..n], Instant::now());
        if !named && !routed {
            tracing::debug!(%from, "ICE-TCP connection named no leg; closed");
            return;
        }
        named = true;
    }
}

/// One RFC 4571 frame into `buf`: its length. A frame longer than `buf` is an error.
async fn read_frame(reader: &mut OwnedReadHalf, buf: &mut [u8]) -> std::io::Result<usize> {
    let n = usize::from(reader.read_u16().await?);
    if n == 0 || n > buf.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("frame of {n} bytes"),
        ));
    }
    reader.read_exact(&mut buf[..n]).await?;
    Ok(n)
}

/// Writes the sessions' frames, as many as are waiting in one write.
async fn write(mut writer: OwnedWriteHalf, mut outgoing: mpsc::Receiver<Bytes>) {
    let mut out = BytesMut::new();
    while let Some(first) = outgoing.recv().await {
        out.clear();
        frame(&mut out, &first);
        while let Ok(next) = outgoing.try_recv() {
            frame(&mut out, &next);
        }
        if let Err(e) = writer.write_all(&out).await {
            tracing::debug!(error = %e, "ICE-TCP write");
            return;
        }
    }
}

fn frame(out: &mut BytesMut, packet: &[u8]) {
    // Packets come from the sessions' state machines, never over 64 KiB.
    let len = u16::try_from(packet.len()).unwrap_or(u16::MAX);
    out.put_u16(len);
    out.put_slice(&packet[..usize::from(len)]);
}
