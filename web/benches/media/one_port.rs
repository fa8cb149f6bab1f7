//! The forwarder on one shared UDP port against the port range, and over ICE-TCP, side by
//! side: for each N, the same calls through a forwarder process on `--media-ports` (a socket
//! per leg), through one on `--media-udp-port` (every leg on one socket), and through the
//! latter's ICE-TCP port, each against the same peers paired directly.
//!
//! webrtc-rs's peers have no ICE-TCP, so each peer of the TCP run talks UDP to a shim in the
//! benchmark process that carries its packets over one TCP connection to the forwarder's
//! ICE-TCP port, framed as RFC 4571 says — what a browser's ICE-TCP connection carries. The
//! peer is told only the shim's address (the forwarder's TCP candidate, rewritten), and the
//! forwarder learns the peer only from its checks over TCP. The shim's hop adds to the TCP
//! run's latency and to the peers' CPU, never to the forwarder's.
//!
//! `cargo bench -p web --bench media -- one-port [N …]`

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::task::JoinHandle;

use super::forwarder::Forwarder;
use super::proc_stats::load_average;
use super::{Run, run_with};

/// One peer's ICE-TCP connection to the forwarder, behind a UDP socket the peer talks to.
pub struct TcpShim {
    /// The UDP address the peer sends to.
    pub addr: SocketAddr,
    tasks: [JoinHandle<()>; 2],
}

impl Drop for TcpShim {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl TcpShim {
    /// A UDP socket on loopback and a TCP connection to the forwarder's ICE-TCP port.
    pub async fn connect(forwarder: SocketAddr) -> Self {
        let udp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("shim UDP"));
        let addr = udp.local_addr().expect("addr");
        let tcp = TcpStream::connect(forwarder)
            .await
            .expect("ICE-TCP connection");
        tcp.set_nodelay(true).expect("nodelay");
        let (mut reader, mut writer) = tcp.into_split();
        let peer: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let (u, p) = (udp.clone(), peer.clone());
        let up = tokio::spawn(async move {
            let mut buf = vec![0; 2048];
            let mut frame = Vec::with_capacity(2050);
            while let Ok((n, from)) = u.recv_from(&mut buf).await {
                *p.lock().expect("lock") = Some(from);
                frame.clear();
                frame.extend_from_slice(&u16::try_from(n).unwrap_or(0).to_be_bytes());
                frame.extend_from_slice(&buf[..n]);
                if writer.write_all(&frame).await.is_err() {
                    return;
                }
            }
        });
        let down = tokio::spawn(async move {
            let mut buf = vec![0; 65_536];
            loop {
                let Ok(n) = reader.read_u16().await else {
                    return;
                };
                let n = usize::from(n);
                if reader.read_exact(&mut buf[..n]).await.is_err() {
                    return;
                }
                let to = *peer.lock().expect("lock");
                if let Some(to) = to {
                    let _ = udp.send_to(&buf[..n], to).await;
                }
            }
        });
        Self {
            addr,
            tasks: [up, down],
        }
    }

    /// The forwarder's passive TCP candidate as a UDP one at the shim; `None` for any other
    /// candidate (the peer must not reach the forwarder's UDP port).
    pub fn candidate(&self, candidate: &str) -> Option<String> {
        let mut fields: Vec<String> = candidate.split_whitespace().map(str::to_owned).collect();
        if fields.get(2).map(String::as_str) != Some("tcp") || fields.len() < 8 {
            return None;
        }
        fields[2] = "udp".to_owned();
        fields[4] = self.addr.ip().to_string();
        fields[5] = self.addr.port().to_string();
        fields.truncate(8); // … typ host, without `tcptype passive`
        Some(fields.join(" "))
    }

    /// A description with its candidate lines rewritten as [`TcpShim::candidate`] does.
    pub fn description(&self, sdp: &str) -> String {
        let mut out = String::with_capacity(sdp.len());
        for line in sdp.split_inclusive('\n') {
            let Some(rest) = line.trim_end().strip_prefix("a=") else {
                out.push_str(line);
                continue;
            };
            if !rest.starts_with("candidate:") {
                out.push_str(line);
            } else if let Some(c) = self.candidate(rest) {
                out.push_str("a=");
                out.push_str(&c);
                out.push_str("\r\n");
            }
        }
        out
    }
}

/// The table: per N, CPU per call and added latency for the range, the one port and ICE-TCP.
pub async fn compare(counts: &[usize]) {
    let range = Forwarder::start();
    let one_port = Forwarder::start_one_port();
    let tcp_port = one_port
        .tcp_port()
        .await
        .expect("the one-port forwarder's ICE-TCP port");
    println!(
        "| calls | direct p99 | port range: CPU per call / added p99 | one UDP port: CPU per call / added p99 | one port vs range, CPU | ICE-TCP: CPU per call / added p99 | machine load |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &n in counts {
        let load = load_average();
        let direct = run_with(n, None, None, None, None).await;
        let per_call = |r: &Run| r.forwarder_cores / n as f64;
        let r = run_with(n, Some(&range), None, None, None).await;
        settle().await;
        let o = run_with(n, Some(&one_port), None, None, None).await;
        settle().await;
        let t = run_with(n, Some(&one_port), None, None, Some(tcp_port)).await;
        settle().await;
        println!(
            "| {n} | {:.2} ms | {:.4} / {:+.2} ms | {:.4} / {:+.2} ms | {:+.0} % | {:.4} / {:+.2} ms | {load:.1} |",
            direct.p99_ms,
            per_call(&r),
            r.p99_ms - direct.p99_ms,
            per_call(&o),
            o.p99_ms - direct.p99_ms,
            (per_call(&o) / per_call(&r).max(1e-9) - 1.0) * 100.0,
            per_call(&t),
            t.p99_ms - direct.p99_ms,
        );
    }
}

/// Lets a forwarder tear the last run's calls down before the next.
async fn settle() {
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
}
