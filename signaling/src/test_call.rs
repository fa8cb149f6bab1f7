//! The test call as the citizen's connection runs it: start (under the node's limits), the
//! browser's offer and candidates, the result kept under a token when media went both ways,
//! and the end (stopped, time limit, or the connection closing). The media itself is the
//! forwarder's loopback (`media::echo`).

use media::Side;
use media::echo::{self, Busy, EchoEvents, RunningEcho};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::calls::running::{add_ice, answer, to_protocol};
use crate::protocol::{IceCandidate, SessionDescription, ToCitizen};
use crate::{Error, SignalingState};

/// How long a passed test call may be presented with an application.
pub const TEST_CALL_VALID: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

/// The network path a test call's media took, from the browser's selected ICE candidate
/// pair: straight to videoreg over UDP or TCP (ICE-TCP), or through a TURN relay reached
/// over UDP, TCP or TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetworkPath {
    Udp,
    Tcp,
    TurnUdp,
    TurnTcp,
    TurnTls,
}

impl NetworkPath {
    /// Every path, in the order people read them (direct first).
    pub const ALL: [NetworkPath; 5] = [
        NetworkPath::Udp,
        NetworkPath::Tcp,
        NetworkPath::TurnUdp,
        NetworkPath::TurnTcp,
        NetworkPath::TurnTls,
    ];

    /// The path a browser names (`udp`, `tcp`, `turn_udp`, `turn_tcp`, `turn_tls`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Its name, as browsers send it and the store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkPath::Udp => "udp",
            NetworkPath::Tcp => "tcp",
            NetworkPath::TurnUdp => "turn_udp",
            NetworkPath::TurnTcp => "turn_tcp",
            NetworkPath::TurnTls => "turn_tls",
        }
    }

    /// How people read it: `Direct (UDP)`, `Relayed: TURN (TLS)`.
    pub fn label(self, spanish: bool) -> &'static str {
        match (self, spanish) {
            (NetworkPath::Udp, true) => "Directa (UDP)",
            (NetworkPath::Udp, false) => "Direct (UDP)",
            (NetworkPath::Tcp, true) => "Directa (TCP)",
            (NetworkPath::Tcp, false) => "Direct (TCP)",
            (NetworkPath::TurnUdp, true) => "Retransmitida: TURN (UDP)",
            (NetworkPath::TurnUdp, false) => "Relayed: TURN (UDP)",
            (NetworkPath::TurnTcp, true) => "Retransmitida: TURN (TCP)",
            (NetworkPath::TurnTcp, false) => "Relayed: TURN (TCP)",
            (NetworkPath::TurnTls, true) => "Retransmitida: TURN (TLS)",
            (NetworkPath::TurnTls, false) => "Relayed: TURN (TLS)",
        }
    }
}

/// The longest connection time a browser may report, in milliseconds (the test call's own
/// limit is shorter).
const MAX_CONNECT_MS: f64 = 600_000.0;

/// The browser's own figures of a test call, as `echo_result` carries them.
#[derive(Debug, Clone)]
pub struct BrowserReport {
    /// `good`, `fair` or `poor`.
    pub verdict: String,
    /// Round-trip time, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Packets lost, in percent.
    pub loss_pct: f64,
    /// Jitter, in milliseconds.
    pub jitter_ms: f64,
    /// Bitrate received, in kbit/s.
    pub kbps: f64,
    /// The network path its media took, as the browser names it (checked by `result`).
    pub path: Option<String>,
    /// Milliseconds from the offer to the connection being up.
    pub connect_ms: Option<f64>,
}

/// A connection's test call: at most one runs at a time.
pub struct TestCall {
    state: SignalingState,
    tx: mpsc::Sender<ToCitizen>,
    /// The client's address, for the per-address limit.
    addr: String,
    running: Option<Running>,
}

struct Running {
    echo: RunningEcho,
    /// Sends the forwarder's candidates and the time-limit end to the browser.
    pump: JoinHandle<()>,
}

fn error(code: &str, message: &str) -> ToCitizen {
    ToCitizen::Error {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

impl TestCall {
    /// No test call yet, for the connection whose messages go to `tx`.
    pub fn new(state: SignalingState, tx: mpsc::Sender<ToCitizen>, addr: String) -> Self {
        Self {
            state,
            tx,
            addr,
            running: None,
        }
    }

    /// Whether one runs now (then the browser's offers and candidates are for it).
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    async fn send(&self, m: ToCitizen) {
        let _ = self.tx.send(m).await;
    }

    /// Starts a test call (ending any running one), or tells the browser when to retry.
    pub async fn start(&mut self) -> Result<(), Error> {
        self.close().await;
        let limits = self.state.echo_limits.clone();
        let permit = match self.state.echoes.try_start(&self.addr, &limits) {
            Ok(p) => p,
            Err(busy) => {
                let retry_after_secs = match busy {
                    Busy::Full | Busy::AddressBusy => 5,
                    Busy::TooMany(wait) => wait.as_secs().max(1),
                };
                self.send(ToCitizen::EchoBusy { retry_after_secs }).await;
                return Ok(());
            }
        };
        let s = &self.state;
        let (echo, events) = echo::start(&s.media, &s.media_threads, &limits, permit).await?;
        let pump = tokio::spawn(pump(events, self.tx.clone()));
        self.running = Some(Running { echo, pump });
        let ice_servers = s.media.ice_servers_for("test-call", s.clock.now());
        self.send(ToCitizen::EchoReady {
            ice_servers,
            max_secs: limits.max_duration.as_secs(),
        })
        .await;
        Ok(())
    }

    /// Answers the browser's offer.
    pub async fn offer(&mut self, description: SessionDescription) -> Result<(), Error> {
        let running = self.running.as_ref().ok_or(Error::NoCall)?;
        let answer = answer(&running.echo.call, Side::Citizen, description).await?;
        self.send(ToCitizen::Answer {
            description: answer,
        })
        .await;
        Ok(())
    }

    /// Adds the browser's candidate.
    pub async fn ice(&mut self, candidate: IceCandidate) -> Result<(), Error> {
        let running = self.running.as_ref().ok_or(Error::NoCall)?;
        add_ice(&running.echo.call, Side::Citizen, candidate).await
    }

    /// Keeps a passed test call under a token: the browser's verdict and numbers and what
    /// the server measured. Passed means media reached videoreg and came back.
    pub async fn result(&mut self, browser: BrowserReport) -> Result<(), Error> {
        let running = self.running.as_ref().ok_or(Error::NoCall)?;
        let b = &browser;
        let numbers_ok = [b.rtt_ms.unwrap_or(0.0), b.jitter_ms, b.kbps]
            .iter()
            .all(|n| n.is_finite() && (0.0..1e7).contains(n))
            && (0.0..=100.0).contains(&b.loss_pct);
        let path = match b.path.as_deref() {
            None => None,
            Some(p) => Some(NetworkPath::parse(p).ok_or_else(|| {
                Error::BadMedia("echo_result: path udp|tcp|turn_udp|turn_tcp|turn_tls".into())
            })?),
        };
        let connect_ok = b
            .connect_ms
            .is_none_or(|ms| ms.is_finite() && (0.0..=MAX_CONNECT_MS).contains(&ms));
        if !matches!(b.verdict.as_str(), "good" | "fair" | "poor") || !numbers_ok || !connect_ok {
            return Err(Error::BadMedia(
                "echo_result: verdict good|fair|poor, loss 0–100 %, non-negative numbers, connect_ms up to 600000".into(),
            ));
        }
        let server = echo::report(&running.echo.call).await;
        if server.packets == 0 {
            self.send(error(
                "no_media",
                "Aún no nos llega su imagen. / Your media has not reached us yet.",
            ))
            .await;
            return Ok(());
        }
        let path = path.map(NetworkPath::as_str);
        let result = serde_json::json!({
            "verdict": b.verdict,
            "path": path,
            "browser": { "rtt_ms": b.rtt_ms, "loss_pct": b.loss_pct, "jitter_ms": b.jitter_ms, "kbps": b.kbps, "connect_ms": b.connect_ms },
            "server": server,
        })
        .to_string();
        let (token, hash) = store::secrets::new_token()?;
        let now = self.state.clock.now();
        self.state
            .store
            .insert_test_call_on(&hash, &result, path, now, now + TEST_CALL_VALID)
            .await?;
        self.send(ToCitizen::TestPassed {
            test_token: token,
            expires_secs: TEST_CALL_VALID.num_seconds(),
        })
        .await;
        Ok(())
    }

    /// Stops the running test call and tells the browser what was measured.
    pub async fn stop(&mut self) -> Result<(), Error> {
        let running = self.running.take().ok_or(Error::NoCall)?;
        running.pump.abort();
        let report = running.echo.stop().await;
        self.send(ToCitizen::EchoEnded {
            reason: "stopped".into(),
            report,
        })
        .await;
        Ok(())
    }

    /// Ends the running test call, if any, without a word (the connection is going).
    pub async fn close(&mut self) {
        if let Some(running) = self.running.take() {
            running.pump.abort();
            running.echo.stop().await;
        }
    }
}

/// Forwards the forwarder's candidates to the browser until the test call ends, and tells
/// the browser when the time limit ended it.
async fn pump(events: EchoEvents, tx: mpsc::Sender<ToCitizen>) {
    let EchoEvents {
        mut candidates,
        timed_out,
    } = events;
    let forward = async {
        while let Some((_, c)) = candidates.recv().await {
            let m = ToCitizen::Ice {
                candidate: to_protocol(c),
            };
            if tx.send(m).await.is_err() {
                break;
            }
        }
        // The candidates are all out: wait for the end.
        std::future::pending::<()>().await;
    };
    tokio::select! {
        () = forward => {}
        report = timed_out => {
            if let Ok(report) = report {
                let ended = ToCitizen::EchoEnded { reason: "time_limit".into(), report };
                let _ = tx.send(ended).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NetworkPath;

    #[test]
    fn a_network_path_parses_from_its_own_name_only() {
        for p in NetworkPath::ALL {
            assert_eq!(NetworkPath::parse(p.as_str()), Some(p));
            assert!(p.label(false).contains(if p.as_str().starts_with("turn") {
                "TURN"
            } else {
                "Direct"
            }));
        }
        for bad in ["", "UDP", "turn", "turn_dtls", "tcp ", "relay"] {
            assert_eq!(NetworkPath::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            NetworkPath::TurnTls.label(true),
            "Retransmitida: TURN (TLS)"
        );
    }
}
