//! What the cross-node benchmarks share: real `videoreg serve` nodes on one PostgreSQL
//! schema, citizens queued over the API and `/ws/citizen`, an agent's socket, and messages
//! stamped the moment they arrive.

use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::process::Child;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::server;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
/// A message from a socket and the moment it arrived.
pub type Stamped = (Value, Instant);

/// The longest any one step may take before the benchmark gives up.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// What every identity's document shows (the contrast data).
pub const VALID_UNTIL: &str = "15/03/2031";

/// A `videoreg serve` process.
pub struct Node {
    pub child: Child,
    pub pid: u32,
    /// `http://host:port`
    pub base: String,
    /// `ws://host:port`
    pub ws: String,
}

pub async fn start_node(db: &str, key: &str, media_ports: &str, extra: &[&str]) -> Node {
    let mut args = vec![
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        db,
        "--secrets-key-file",
        key,
        "--always-open",
        "--media-ports",
        media_ports,
        // One address (this benchmark) holds a batch of citizen sockets at once.
        "--citizen-sockets-per-address",
        "200",
    ];
    args.extend_from_slice(extra);
    let (child, addr) = server::spawn_videoreg(env!("CARGO_BIN_EXE_videoreg"), &args).await;
    Node {
        pid: child.id().expect("pid"),
        child,
        base: format!("http://{addr}"),
        ws: format!("ws://{addr}"),
    }
}

/// The `i`-th valid DNI of the run.
pub fn dni(i: usize) -> String {
    let n = 30_000_000 + u32::try_from(i).expect("small index");
    format!("{n:08}{}", char::from(web::identity::check_letter(n)))
}

pub async fn seed_identities(store: &store::Store, count: usize) {
    let mut csv = String::from("id_number,full_name,valid_until,issued_on,support_number\n");
    for i in 0..count {
        csv.push_str(&format!(
            "{},Persona Ficticia {i},2031-03-15,2021-03-15,\n",
            dni(i)
        ));
    }
    let records = web::import::parse_csv(csv.as_bytes()).expect("valid CSV");
    store
        .upsert_identities(&records, chrono::Utc::now())
        .await
        .expect("seed the registry");
}

/// The next message on `rx` that `wanted` accepts, skipping others; an `error` stops the run.
pub async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<Stamped>,
    what: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Stamped {
    let step = async {
        while let Some((m, at)) = rx.recv().await {
            assert_ne!(m["type"], "error", "waiting for {what}: {m}");
            if wanted(&m) {
                return (m, at);
            }
        }
        panic!("the socket closed while waiting for {what}");
    };
    tokio::time::timeout(STEP_TIMEOUT, step)
        .await
        .unwrap_or_else(|_| panic!("no {what} within {STEP_TIMEOUT:?}"))
}

pub fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |m| m["type"] == kind
}

/// Forwards every text message of `stream`, stamped on arrival, until it closes.
pub fn read_stamped(mut stream: SplitStream<Socket>) -> mpsc::UnboundedReceiver<Stamped> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(frame)) = stream.next().await {
            let at = Instant::now();
            if let Message::Text(text) = frame {
                let m: Value = serde_json::from_str(&text).expect("JSON from videoreg");
                if tx.send((m, at)).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

pub async fn send(sink: &mut SplitSink<Socket, Message>, m: Value) {
    sink.send(Message::text(m.to_string()))
        .await
        .expect("send on the socket");
}

/// Applies as the `i`-th identity on `node`, joins the queue there and watches the socket:
/// `agent_found` goes to `found` with the citizen's ticket; the socket closes after
/// `call_ended`.
pub async fn queue_citizen(
    store: &store::Store,
    client: &reqwest::Client,
    node: &Node,
    i: usize,
    found: mpsc::UnboundedSender<(String, Instant)>,
) {
    let (test_call, hash) = store::secrets::new_token().expect("token");
    let now = chrono::Utc::now();
    store
        .insert_test_call(
            &hash,
            r#"{"verdict":"good"}"#,
            now,
            now + chrono::TimeDelta::minutes(30),
        )
        .await
        .expect("store a passed test call");
    let body = json!({ "id_number": dni(i), "contrast": VALID_UNTIL, "test_call": test_call });
    let r = client
        .post(format!("{}/api/v1/applications", node.base))
        .json(&body)
        .send()
        .await
        .expect("apply");
    let status = r.status().as_u16();
    let application: Value = r.json().await.expect("JSON");
    assert_eq!(status, 201, "application {i}: {application}");
    let (socket, _) = tokio_tungstenite::connect_async(format!("{}/ws/citizen", node.ws))
        .await
        .expect("citizen socket");
    let (mut sink, stream) = socket.split();
    let mut rx = read_stamped(stream);
    let join =
        json!({ "type": "join", "application": application["application"], "consent": true });
    send(&mut sink, join).await;
    let (queued, _) = wait_for(&mut rx, "queued", is("queued")).await;
    let ticket = queued["ticket"].as_str().expect("ticket").to_owned();
    tokio::spawn(async move {
        while let Some((m, at)) = rx.recv().await {
            match m["type"].as_str() {
                Some("agent_found") => {
                    let _ = found.send((ticket.clone(), at));
                }
                Some("call_ended") => break,
                Some("error" | "refused" | "requeued") => panic!("citizen {i}: {m}"),
                _ => {}
            }
        }
        let _ = sink.close().await;
    });
}

/// `v`'s percentiles in milliseconds: p50, p90, p99, max.
pub fn summary(mut v: Vec<Duration>) -> [f64; 4] {
    v.sort();
    let pct = |p: f64| {
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    [pct(0.5), pct(0.9), pct(0.99), pct(1.0)]
}

/// A fresh directory for the run's secrets key.
pub fn scratch_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("videoreg-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// A fresh secrets key file in `dir`, shared by the nodes of a run.
pub fn key_file(dir: &std::path::Path) -> String {
    let key = dir.join("secrets.key");
    let (_, text) = store::sealing::SecretsKey::generate().expect("random key");
    std::fs::write(&key, format!("{text}\n")).expect("write the key file");
    key.to_str().expect("UTF-8 path").to_owned()
}

/// Opens `/ws/agent` on `node` with the session `cookie`; the agent's messages are stamped.
pub async fn agent_socket(
    node: &Node,
    cookie: &str,
) -> (SplitSink<Socket, Message>, mpsc::UnboundedReceiver<Stamped>) {
    let mut request = format!("{}/ws/agent", node.ws)
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("cookie", cookie.parse().expect("cookie header"));
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("agent socket");
    let (agent, stream) = socket.split();
    (agent, read_stamped(stream))
}
