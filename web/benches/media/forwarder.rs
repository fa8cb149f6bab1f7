//! The forwarder in its own process: the benchmark binary re-runs itself with the argument
//! `forwarder-process`, and that process hosts `MediaCall::cross` (the code `videoreg serve`
//! runs for a call, with the same kind of `MediaConfig`) on its own tokio runtime. The two
//! talk over the child's stdin/stdout, one JSON object per line: requests with an `id` are
//! answered with the same `id`; the forwarder's ICE candidates arrive unasked.
//!
//! So the test peers (in the benchmark process) no longer share the forwarder's runtime, and
//! the forwarder's CPU and memory are read from `/proc/<pid>` of that process alone. A call
//! may be recorded (`new` with a `record` directory): its recorder's thread is in that process
//! too, so its CPU counts; `close` stops the recordings and says how many bytes and seconds
//! they wrote.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use media::{MediaCall, MediaConfig, MediaThreads, Side};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use webrtc::peer_connection::{RTCIceCandidateInit, RTCSessionDescription};

use super::child::{self, Helper};

/// The argument that makes the benchmark binary act as the forwarder process.
pub const ARG: &str = "forwarder-process";

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Citizen => "citizen",
        Side::Agent => "agent",
    }
}

fn side_of(v: &Value) -> Side {
    if v["side"] == "agent" {
        Side::Agent
    } else {
        Side::Citizen
    }
}

/// The environment variable that puts the forwarder process on one shared UDP port with
/// ICE-TCP (`videoreg serve --media-udp-port --media-tcp-port`) instead of the port range.
pub const ONE_PORT_ENV: &str = "VIDEOREG_BENCH_ONE_PORT";

/// The environment variable that makes the forwarder process bind its media sockets to
/// another address than loopback (inside the benchmark's namespace).
pub const MEDIA_IP_ENV: &str = "VIDEOREG_BENCH_MEDIA_IP";

/// The child's side: serves requests from stdin until it closes.
pub async fn serve(mut config: MediaConfig) {
    let calls: Arc<Mutex<HashMap<u64, Arc<MediaCall>>>> = Arc::default();
    // As `videoreg serve` sizes them, or `VIDEOREG_MEDIA_THREADS` (the same variable).
    let threads = MediaThreads::new(
        std::env::var("VIDEOREG_MEDIA_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(MediaThreads::default_count),
    );
    if let Some(ip) = std::env::var(MEDIA_IP_ENV)
        .ok()
        .and_then(|ip| ip.parse().ok())
    {
        config.bind_ip = ip;
    }
    if std::env::var_os(ONE_PORT_ENV).is_some() {
        // Bound as `videoreg serve` binds them (`web::media_port`), on loopback.
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("media UDP port");
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("ICE-TCP port");
        config.shared =
            Some(media::SharedPort::start(udp, Some(tcp), &threads).expect("shared port"));
    }
    let next_call = Arc::new(AtomicU64::new(0));
    child::serve(move |req, out| {
        let (calls, config, next_call, threads) = (
            calls.clone(),
            config.clone(),
            next_call.clone(),
            threads.clone(),
        );
        async move {
            let call_of = |req: &Value| {
                let key = req["call"].as_u64().unwrap_or(u64::MAX);
                calls.lock().expect("calls").get(&key).cloned()
            };
            match req["op"].as_str() {
                Some("new") => match MediaCall::cross(&config, &threads).await {
                    Ok((call, mut feed)) => {
                        let key = next_call.fetch_add(1, Ordering::Relaxed);
                        if let Some(dir) = req["record"].as_str() {
                            let path = std::path::Path::new(dir).join(format!("call-{key}.webm"));
                            call.start_recording(path, chrono::Utc::now())
                                .await
                                .expect("recording starts");
                        }
                        calls.lock().expect("calls").insert(key, call);
                        let out = out.clone();
                        tokio::spawn(async move {
                            while let Some((side, c)) = feed.recv().await {
                                let m =
                                    json!({ "call": key, "side": side_name(side), "candidate": c });
                                if out.send(m).is_err() {
                                    break;
                                }
                            }
                        });
                        json!({ "call": key })
                    }
                    Err(e) => json!({ "error": e.to_string() }),
                },
                Some(op @ ("offer" | "monitor")) => {
                    let answer = match (
                        call_of(&req),
                        serde_json::from_value::<RTCSessionDescription>(req["sdp"].clone()),
                    ) {
                        (Some(call), Ok(offer)) if op == "offer" => call
                            .offer(side_of(&req), offer)
                            .await
                            .map_err(|e| e.to_string()),
                        (Some(call), Ok(offer)) => call
                            .add_monitor(&config, offer)
                            .await
                            .map(|m| m.answer)
                            .map_err(|e| e.to_string()),
                        _ => Err("no such call or bad offer".to_owned()),
                    };
                    match answer {
                        Ok(a) => json!({ "answer": a }),
                        Err(e) => json!({ "error": e }),
                    }
                }
                Some("ice") => {
                    let candidate =
                        serde_json::from_value::<RTCIceCandidateInit>(req["candidate"].clone());
                    if let (Some(call), Ok(c)) = (call_of(&req), candidate) {
                        let _ = call.add_ice(side_of(&req), c).await;
                    }
                    json!({})
                }
                Some("ports") => {
                    let shared = config.shared.as_ref();
                    json!({
                        "udp": shared.map(|p| p.udp_addr().port()),
                        "tcp": shared.and_then(|p| p.tcp_addr()).map(|a| a.port()),
                    })
                }
                Some("close") => {
                    let all: Vec<_> = calls.lock().expect("calls").drain().collect();
                    let (mut bytes, mut seconds, mut incomplete) = (0, 0.0, 0);
                    for (_, call) in all {
                        if let Some(report) = call.stop_recording().await {
                            bytes += report.file.as_ref().map_or(0, |f| f.size);
                            seconds += report.duration_ms as f64 / 1000.0;
                            incomplete += usize::from(!report.is_complete());
                            if let Some(f) = report.file {
                                let _ = std::fs::remove_file(f.path);
                            }
                        }
                        call.close().await;
                    }
                    json!({ "bytes": bytes, "seconds": seconds, "incomplete": incomplete })
                }
                _ => json!({ "error": "unknown op" }),
            }
        }
    })
    .await;
}

type CandidateSenders = HashMap<(u64, &'static str), mpsc::UnboundedSender<RTCIceCandidateInit>>;

/// The parent's side: a handle on the forwarder process.
pub struct Forwarder {
    helper: Helper,
    candidates: Arc<Mutex<CandidateSenders>>,
    /// Where the peers of its calls bind: loopback, or the host side of a namespace.
    client_ip: String,
}

impl Forwarder {
    /// Starts the forwarder process (this same binary).
    pub fn start() -> Self {
        Self::start_under(&[])
    }

    /// As `start`, run under `launcher` (see `Helper::start`).
    pub fn start_under(launcher: &[&str]) -> Self {
        let candidates: Arc<Mutex<CandidateSenders>> = Arc::default();
        let c = candidates.clone();
        let helper = Helper::start(launcher, ARG, move |v| {
            if let (Some(call), Ok(cand)) = (
                v["call"].as_u64(),
                serde_json::from_value::<RTCIceCandidateInit>(v["candidate"].clone()),
            ) {
                let side = side_name(side_of(&v));
                if let Some(tx) = c.lock().expect("candidates").get(&(call, side)) {
                    let _ = tx.send(cand);
                }
            }
        });
        Self {
            helper,
            candidates,
            client_ip: "127.0.0.1".to_owned(),
        }
    }

    /// Starts the forwarder process inside network namespace `netns`, binding `ip`, for
    /// peers on `client_ip`.
    pub fn start_in_netns(netns: &str, ip: &str, client_ip: &str) -> Self {
        let env = format!("{MEDIA_IP_ENV}={ip}");
        let mut fwd = Self::start_under(&["ip", "netns", "exec", netns, "env", &env]);
        fwd.client_ip = client_ip.to_owned();
        fwd
    }

    /// Where the peers of its calls bind.
    pub fn client_ip(&self) -> &str {
        &self.client_ip
    }

    /// Starts the forwarder process on one shared UDP port with ICE-TCP.
    pub fn start_one_port() -> Self {
        Self::start_under(&["env", &format!("{ONE_PORT_ENV}=1")])
    }

    /// The shared port's ICE-TCP port, when the process has one.
    pub async fn tcp_port(&self) -> Option<u16> {
        self.request(json!({ "op": "ports" })).await["tcp"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
    }

    /// The forwarder's process id.
    pub fn pid(&self) -> u32 {
        self.helper.pid()
    }

    async fn request(&self, req: Value) -> Value {
        self.helper.request(req).await
    }

    /// A new call, recorded into `record` if given; its candidate feeds for the citizen's and
    /// the agent's side.
    pub async fn new_call(
        &self,
        record: Option<&std::path::Path>,
    ) -> (
        u64,
        mpsc::UnboundedReceiver<RTCIceCandidateInit>,
        mpsc::UnboundedReceiver<RTCIceCandidateInit>,
    ) {
        let record = record.map(|d| d.to_string_lossy().into_owned());
        let call = self.request(json!({ "op": "new", "record": record })).await["call"]
            .as_u64()
            .expect("call id");
        let (ctx, crx) = mpsc::unbounded_channel();
        let (atx, arx) = mpsc::unbounded_channel();
        let mut senders = self.candidates.lock().expect("candidates");
        senders.insert((call, "citizen"), ctx);
        senders.insert((call, "agent"), atx);
        (call, crx, arx)
    }

    /// Answers an offer for one side of a call.
    pub async fn offer(
        &self,
        call: u64,
        side: Side,
        offer: RTCSessionDescription,
    ) -> RTCSessionDescription {
        let reply = self
            .request(json!({ "op": "offer", "call": call, "side": side_name(side), "sdp": offer }))
            .await;
        serde_json::from_value(reply["answer"].clone()).expect("answer")
    }

    /// Adds a receive-only monitor to a call, answering its offer (candidates in it).
    pub async fn monitor(&self, call: u64, offer: RTCSessionDescription) -> RTCSessionDescription {
        let reply = self
            .request(json!({ "op": "monitor", "call": call, "sdp": offer }))
            .await;
        serde_json::from_value(reply["answer"].clone()).expect("answer")
    }

    /// Passes a peer's candidate to one side of a call.
    pub async fn add_ice(&self, call: u64, side: Side, candidate: RTCIceCandidateInit) {
        self.request(
            json!({ "op": "ice", "call": call, "side": side_name(side), "candidate": candidate }),
        )
        .await;
    }

    /// Closes every call; the bytes and seconds their recordings wrote (0 when not
    /// recorded), and how many recordings were incomplete.
    pub async fn close_all(&self) -> (u64, f64, u64) {
        let reply = self.request(json!({ "op": "close" })).await;
        self.candidates.lock().expect("candidates").clear();
        (
            reply["bytes"].as_u64().unwrap_or(0),
            reply["seconds"].as_f64().unwrap_or(0.0),
            reply["incomplete"].as_u64().unwrap_or(0),
        )
    }
}
