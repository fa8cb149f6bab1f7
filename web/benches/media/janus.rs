//! Side by side: N concurrent echo tests through videoreg's echo and through Janus's EchoTest
//! plugin (the Debian `janus` package), both servers in one network namespace that the
//! benchmark makes (`videoreg-bench`, reached over a veth pair: 10.77.0.1 here, 10.77.0.2
//! there), the webrtc-rs clients in this process on 10.77.0.1. Janus gathers candidates with
//! libnice, which skips loopback, hence the namespace; videoreg runs in the same place so that
//! both see the same network path. Janus is driven over its HTTP API (reqwest) with a minimal
//! configuration written to a scratch directory: only the HTTP transport and the EchoTest
//! plugin load. Both servers' CPU and memory come from `/proc/<pid>`.
//!
//! Needs root (namespaces), `ip` (iproute2) and `janus` on the PATH.

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};
use webrtc::peer_connection::{RTCPeerConnectionState, RTCSessionDescription};

use super::echo::{Target, run, start_videoreg};
use super::peers::Peer;

pub const NETNS: &str = "videoreg-bench";
const HOST_IF: &str = "vrb0";
const NS_IF: &str = "vrb1";
pub const HOST_IP: &str = "10.77.0.1";
pub const NS_IP: &str = "10.77.0.2";
const JANUS_HTTP_PORT: u16 = 8088;
const JANUS_LIBS: &str = "/usr/lib/x86_64-linux-gnu/janus";

fn ip(args: &[&str]) -> bool {
    std::process::Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The namespace and its veth pair; removed on drop (which also removes the pair).
pub struct Netns;

impl Netns {
    pub fn create() -> Self {
        assert!(
            ip(&["-V"]),
            "`ip` (iproute2) is needed for the Janus comparison: apt-get install iproute2"
        );
        // A namespace left by an interrupted run goes first.
        ip(&["netns", "del", NETNS]);
        let ns_ip = format!("{NS_IP}/24");
        let host_ip = format!("{HOST_IP}/24");
        let steps: [&[&str]; 8] = [
            &["netns", "add", NETNS],
            &[
                "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF,
            ],
            &["link", "set", NS_IF, "netns", NETNS],
            &["addr", "add", &host_ip, "dev", HOST_IF],
            &["link", "set", HOST_IF, "up"],
            &["-n", NETNS, "addr", "add", &ns_ip, "dev", NS_IF],
            &["-n", NETNS, "link", "set", NS_IF, "up"],
            &["-n", NETNS, "link", "set", "lo", "up"],
        ];
        let netns = Self;
        for step in steps {
            assert!(
                ip(step),
                "`ip {}` failed (the Janus comparison needs root)",
                step.join(" ")
            );
        }
        netns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        ip(&["netns", "del", NETNS]);
    }
}

/// Writes a minimal Janus configuration into `dir`: HTTP transport and the plugin `keep`
/// (`echotest` or `videocall`) only, ICE on the namespace's veth only, no session timeout
/// (the benchmark destroys its sessions).
fn write_config(dir: &std::path::Path, keep: &str) {
    let d = dir.display();
    let plugins = [
        "audiobridge",
        "duktape",
        "echotest",
        "lua",
        "nosip",
        "recordplay",
        "sip",
        "streaming",
        "textroom",
        "videocall",
        "videoroom",
        "voicemail",
    ]
    .into_iter()
    .filter(|p| *p != keep)
    .map(|p| format!("libjanus_{p}.so"))
    .collect::<Vec<_>>()
    .join(",");
    let transports = ["mqtt", "nanomsg", "pfunix", "rabbitmq", "websockets"]
        .map(|p| format!("libjanus_{p}.so"))
        .join(",");
    let main = format!(
        "general: {{\n  configs_folder = \"{d}\"\n  plugins_folder = \"{JANUS_LIBS}/plugins\"\n  \
         transports_folder = \"{JANUS_LIBS}/transports\"\n  events_folder = \"{JANUS_LIBS}/events\"\n  \
         loggers_folder = \"{JANUS_LIBS}/loggers\"\n  debug_level = 3\n  session_timeout = 0\n}}\n\
         media: {{\n  rtp_port_range = \"46000-46999\"\n}}\n\
         nat: {{\n  nice_debug = false\n  ice_enforce_list = \"{NS_IF}\"\n  ignore_mdns = true\n}}\n\
         plugins: {{\n  disable = \"{plugins}\"\n}}\n\
         transports: {{\n  disable = \"{transports}\"\n}}\n\
         loggers: {{\n  disable = \"libjanus_jsonlog.so\"\n}}\n\
         events: {{\n  broadcast = false\n}}\n"
    );
    let http = format!(
        "general: {{\n  json = \"compact\"\n  base_path = \"/janus\"\n  http = true\n  \
         port = {JANUS_HTTP_PORT}\n  https = false\n}}\n\
         admin: {{\n  admin_http = false\n  admin_https = false\n}}\n"
    );
    for (name, text) in [
        ("janus.jcfg".to_owned(), main),
        ("janus.transport.http.jcfg".to_owned(), http),
        (
            format!("janus.plugin.{keep}.jcfg"),
            "general: {\n}\n".to_owned(),
        ),
    ] {
        std::fs::write(dir.join(name), text).expect("janus config");
    }
}

/// A running Janus and an HTTP client for its API.
pub struct Janus {
    child: Child,
    http: reqwest::Client,
    base: String,
    transactions: AtomicU64,
}

impl Janus {
    pub async fn start(dir: &std::path::Path) -> Self {
        Self::start_with(dir, "echotest").await
    }

    /// Janus with the plugin `keep` (`echotest`, `videocall`) as the only one.
    pub async fn start_with(dir: &std::path::Path, keep: &str) -> Self {
        write_config(dir, keep);
        let log = std::fs::File::create(dir.join("janus.log")).expect("janus log");
        let config = dir.join("janus.jcfg");
        let child = Command::new("ip")
            .args(["netns", "exec", NETNS, "janus", "-o", "-C"])
            .arg(&config)
            .arg("-F")
            .arg(dir)
            .stdout(log)
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("ip netns exec janus");
        let janus = Self {
            child,
            http: reqwest::Client::new(),
            base: format!("http://{NS_IP}:{JANUS_HTTP_PORT}/janus"),
            transactions: AtomicU64::new(0),
        };
        for _ in 0..100 {
            if janus
                .http
                .get(format!("{}/info", janus.base))
                .send()
                .await
                .is_ok()
            {
                return janus;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "Janus did not answer on {} within 10 s; its log is {}",
            janus.base,
            dir.join("janus.log").display()
        );
    }

    /// The next event on `session`'s long poll.
    pub(super) async fn event(&self, session: u64) -> Value {
        self.http
            .get(format!("{}/{session}?maxev=1", self.base))
            .send()
            .await
            .expect("janus poll")
            .json()
            .await
            .expect("janus event")
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("janus running")
    }

    pub(super) async fn post(&self, path: &str, mut body: Value) -> Value {
        let t = self.transactions.fetch_add(1, Ordering::Relaxed);
        body["transaction"] = json!(format!("t{t}"));
        let reply: Value = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("janus request")
            .json()
            .await
            .expect("janus reply");
        assert!(reply["janus"] != "error", "janus: {reply}");
        reply
    }

    /// Starts one EchoTest for `p` (audio and video), returning its session id; recorded
    /// into `record` (`<dir>/echo-<session>-audio.mjr` and `-video.mjr`) if given.
    pub async fn echo(&self, p: &mut Peer, record: Option<&std::path::Path>) -> u64 {
        let session = self.post("", json!({ "janus": "create" })).await["data"]["id"]
            .as_u64()
            .expect("session id");
        let at = format!("/{session}");
        let handle = self
            .post(
                &at,
                json!({ "janus": "attach", "plugin": "janus.plugin.echotest" }),
            )
            .await["data"]["id"]
            .as_u64()
            .expect("handle id");
        let at_handle = format!("/{session}/{handle}");
        let mut body = json!({ "audio": true, "video": true });
        if let Some(dir) = record {
            body["record"] = json!(true);
            body["filename"] = json!(dir.join(format!("echo-{session}")).display().to_string());
        }
        let offer = p.pc.create_offer(None).await.expect("offer");
        p.pc.set_local_description(offer.clone())
            .await
            .expect("local");
        self.post(
            &at_handle,
            json!({ "janus": "message", "body": body, "jsep": offer }),
        )
        .await;
        // The answer comes as an event on the session's long poll.
        let answer = loop {
            let event: Value = self
                .http
                .get(format!("{}{at}?maxev=1", self.base))
                .send()
                .await
                .expect("janus poll")
                .json()
                .await
                .expect("janus event");
            if event["jsep"]["type"] == "answer" {
                break event["jsep"].clone();
            }
        };
        let answer: RTCSessionDescription = serde_json::from_value(answer).expect("answer");
        p.pc.set_remote_description(answer).await.expect("remote");
        let mut state = p.state.clone();
        let deadline = tokio::time::sleep(Duration::from_secs(30));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                Some(c) = p.candidates.recv() => {
                    self.post(&at_handle, json!({ "janus": "trickle", "candidate": c })).await;
                }
                r = state.changed() => {
                    r.expect("state");
                    if *state.borrow() == RTCPeerConnectionState::Connected { return session }
                }
                () = &mut deadline => panic!("Janus echo did not connect in 30 s"),
            }
        }
    }

    /// Ends a session (and its EchoTest).
    pub async fn destroy(&self, session: u64) {
        self.post(&format!("/{session}"), json!({ "janus": "destroy" }))
            .await;
    }
}

/// Fails unless `janus` is on the PATH.
pub fn require_janus() {
    assert!(
        std::process::Command::new("janus")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok(),
        "`janus` is not installed (Debian: apt-get install janus)"
    );
}

/// Runs both servers in the namespace and prints the table.
pub async fn compare(ns: &[usize]) {
    require_janus();
    let echotest = std::path::Path::new(JANUS_LIBS).join("plugins/libjanus_echotest.so");
    assert!(
        echotest.exists(),
        "Janus's EchoTest plugin is not at {} (the Debian package's place)",
        echotest.display()
    );
    let dir = std::env::temp_dir().join(format!("videoreg-janus-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let netns = Netns::create();
    let janus = Janus::start(&dir).await;
    let (videoreg, ws_url) = start_videoreg(&dir, Some(NETNS), NS_IP).await;
    let vpid = videoreg.id().expect("videoreg pid");
    let servers = [
        ("videoreg", vpid, Target::Videoreg(&ws_url)),
        ("Janus EchoTest", janus.pid(), Target::Janus(&janus)),
    ];
    // One test through each server first: what a server spends once, on its first test
    // (threads, allocator arenas, crypto set-up), is printed here and kept out of the
    // per-test rows.
    for (name, pid, target) in &servers {
        let m = run(1, *pid, target, HOST_IP).await;
        println!(
            "first test through {name} (one-off costs included): {:.4} cores, {:.0} KiB",
            m.cpu_per_test, m.rss_per_test_kib
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    println!(
        "| tests | server | packets echoed/s | CPU per test (cores) | memory per test | round trip p50 / p99 | server's wait for a CPU | machine load |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &n in ns {
        for (name, pid, target) in &servers {
            let (name, pid) = (*name, *pid);
            let load = super::proc_stats::load_average();
            let m = run(n, pid, target, HOST_IP).await;
            println!(
                "| {n} | {name} | {:.0} | {:.4} | {:.0} KiB | {:.2} / {:.2} ms | {:.0} µs | {load:.1} |",
                m.received_pps,
                m.cpu_per_test,
                m.rss_per_test_kib,
                m.p50_ms,
                m.p99_ms,
                m.cpu_wait_us
            );
            // Let the server tear the tests down before the next run.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    drop(videoreg);
    drop(janus);
    drop(netns);
    let _ = std::fs::remove_dir_all(&dir);
}
