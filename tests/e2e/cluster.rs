//! Several real `videoreg serve` nodes on one PostgreSQL database, with short heartbeats, and
//! the clients the node tests drive over the documented WebSocket protocol: citizens (apply,
//! join, resume) and agents (signed in over HTTP, then `/ws/agent`).

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use store::testing::TestDatabase;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{Server, apply, run, scratch_dir, secrets_key_file, start};

/// Heartbeat and dead-node limit of the test nodes, in seconds.
pub const HEARTBEAT_SECS: u64 = 1;
pub const DEAD_AFTER_SECS: u64 = 3;

/// The identity registry the cluster's citizens apply against (the demo's fictional people).
const REGISTRY: &str = "\
id_number,full_name,valid_until,issued_on,support_number
12345678Z,Lucía Martín Ficticia,2031-03-15,2021-03-15,
00000000T,Antonio Pérez Inventado,9999-01-01,2019-06-20,
X1234567L,Amina Haddad Demo,,,E00012345
";

/// How many more fictional people the registry holds ([`many_id`]), valid until 01-01-2031.
pub const MANY: usize = 40;

/// The `i`-th of the [`MANY`] fictional DNI numbers (with its check letter).
pub fn many_id(i: usize) -> String {
    let n = 10_000_000 + i;
    let letter = "TRWAGMYFPDXBNJZSQVHLCKE".as_bytes()[n % 23] as char;
    format!("{n}{letter}")
}

/// One PostgreSQL schema shared by the nodes, and the secrets key they share.
pub struct Cluster {
    pub db: TestDatabase,
    key: PathBuf,
}

impl Cluster {
    pub async fn new() -> Self {
        let db = TestDatabase::postgres()
            .await
            .expect("PostgreSQL must be reachable at VIDEOREG_TEST_POSTGRES or 127.0.0.1:5432");
        let csv = scratch_dir().join("registry.csv");
        let many: String = (0..MANY)
            .map(|i| format!("{},Persona {i} Ficticia,2031-01-01,,\n", many_id(i)))
            .collect();
        std::fs::write(&csv, format!("{REGISTRY}{many}")).expect("write the registry");
        let (ok, _, err) = run(
            &["identities", "import", csv.to_str().expect("path")],
            &[("DATABASE_URL", &db.url)],
        )
        .await;
        assert!(ok, "identities import: {err}");
        Self {
            db,
            key: secrets_key_file(),
        }
    }

    /// A node: `serve` on port 0, open around the clock, staff second factor off, the
    /// cluster's timings, UDP `media_ports`, and `extra` options.
    pub async fn node(&self, media_ports: &str, extra: &[&str]) -> Server {
        self.node_on(&self.db.url, media_ports, extra).await
    }

    /// [`Cluster::node`] reaching the database at `database_url` (through a proxy, say).
    pub async fn node_on(&self, database_url: &str, media_ports: &str, extra: &[&str]) -> Server {
        let heartbeat = HEARTBEAT_SECS.to_string();
        let dead_after = DEAD_AFTER_SECS.to_string();
        let key = self.key.to_str().expect("key path");
        let mut args = vec![
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--always-open",
            "--staff-mfa",
            "off",
            "--heartbeat-seconds",
            &heartbeat,
            "--node-dead-after-seconds",
            &dead_after,
            "--media-ports",
            media_ports,
            "--secrets-key-file",
            key,
        ];
        args.extend_from_slice(extra);
        start(&args, &[("DATABASE_URL", database_url)]).await
    }

    /// Adds an agent; returns its generated password.
    pub async fn add_agent(&self, name: &str) -> String {
        let (ok, out, err) = run(
            &["user", "add", "--role", "agent", "--generate", name],
            &[("DATABASE_URL", &self.db.url)],
        )
        .await;
        assert!(ok, "user add: {err}");
        out.lines()
            .find_map(|l| l.split("(shown once): ").nth(1))
            .expect("the generated password is printed")
            .trim()
            .to_owned()
    }

    /// A citizen applies on `server` and joins there.
    pub async fn citizen_joins(&self, server: &Server, id_number: &str, contrast: &str) -> Citizen {
        let token = apply(server, &self.db.url, id_number, contrast).await;
        let mut peer = Peer::connect(server, "/ws/citizen", None).await;
        peer.send(json!({ "type": "join", "application": token, "consent": true }))
            .await;
        let queued = peer.until("queued").await;
        Citizen {
            peer,
            resume_token: queued["resume_token"].as_str().expect("token").to_owned(),
            ticket: queued["ticket"].as_str().expect("ticket").to_owned(),
        }
    }
}

/// A joined citizen's socket and what it needs to resume.
pub struct Citizen {
    pub peer: Peer,
    pub resume_token: String,
    pub ticket: String,
}

impl Citizen {
    /// Resumes on `server` with the resume token, on a new socket; returns its answer
    /// (`queued`, `agent_found` or `call_started`). A `position` the queue's publisher sends
    /// the new socket meanwhile may come first, and is skipped.
    pub async fn resume_on(&mut self, server: &Server) -> Value {
        self.peer = Peer::connect(server, "/ws/citizen", None).await;
        let token = self.resume_token.clone();
        self.peer
            .send(json!({ "type": "resume", "resume_token": token }))
            .await;
        loop {
            let m = self.peer.next().await;
            if m["type"] != "position" {
                return m;
            }
        }
    }
}

/// Signs `name` in on `server` (second factor off); returns the session's cookie header.
pub async fn sign_in(server: &Server, name: &str, password: &str) -> String {
    sign_in_at(&server.base, name, password).await
}

/// Signs `name` in on the server at `base` through the login form (second factor off);
/// returns the session's cookie header.
pub async fn sign_in_at(base: &str, name: &str, password: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = client
        .get(format!("{base}/staff/login"))
        .send()
        .await
        .expect("form");
    let form_cookie = cookies(&page).join("; ");
    let csrf = csrf_of(&page.text().await.expect("body"));
    let r = client
        .post(format!("{base}/staff/login"))
        .header("cookie", form_cookie)
        .form(&[("name", name), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .expect("sign in");
    assert!(
        r.status().is_redirection(),
        "{name} signed in: {}",
        r.status()
    );
    cookies(&r).join("; ")
}

/// The value of the first `csrf` form field on a page.
pub fn csrf_of(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let from = body.find(marker).expect("a csrf field") + marker.len();
    body[from..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One WebSocket client speaking the JSON protocol.
pub struct Peer {
    ws: Socket,
}

/// How long a test waits for one message.
const WAIT: Duration = Duration::from_secs(20);

impl Peer {
    pub async fn connect(server: &Server, path: &str, cookie: Option<&str>) -> Self {
        Self::try_connect(&server.base, path, cookie)
            .await
            .expect("socket")
    }

    /// Connects to `base` (`http://host:port`) + `path`; `None` when refused.
    pub async fn try_connect(base: &str, path: &str, cookie: Option<&str>) -> Option<Self> {
        let url = format!("{base}{path}").replacen("http://", "ws://", 1);
        let mut request = url.into_client_request().ok()?;
        if let Some(cookie) = cookie {
            request.headers_mut().insert("cookie", cookie.parse().ok()?);
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await.ok()?;
        Some(Self { ws })
    }

    /// Sends a message; a socket the server closed shows as `closed` on the next read.
    pub async fn send(&mut self, m: Value) {
        let _ = self.ws.send(Message::Text(m.to_string().into())).await;
    }

    /// The next JSON message; `{"type":"closed"}` when the server closed the socket.
    pub async fn next(&mut self) -> Value {
        self.next_within(WAIT).await.expect("a message within 20 s")
    }

    /// The next JSON message within `wait`, or `None`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Text(t))) => {
                        return serde_json::from_str(t.as_str()).expect("JSON");
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        return json!({ "type": "closed" });
                    }
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
        .ok()
    }

    /// Reads until a message of type `kind`, and returns it.
    pub async fn until(&mut self, kind: &str) -> Value {
        loop {
            let m = self.next().await;
            if m["type"] == kind {
                return m;
            }
            assert_ne!(m["type"], "closed", "closed while waiting for {kind}");
        }
    }

    /// Reads until a message of type `kind`, and returns it with every message before it.
    pub async fn until_seen(&mut self, kind: &str) -> (Value, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let m = self.next().await;
            if m["type"] == kind {
                return (m, before);
            }
            assert_ne!(
                m["type"], "closed",
                "closed while waiting for {kind}: {before:?}"
            );
            before.push(m);
        }
    }
}

/// An agent signed in on a node, available, with its console's socket.
pub async fn available_agent(server: &Server, cookie: &str) -> Peer {
    let mut agent = Peer::connect(server, "/ws/agent", Some(cookie)).await;
    agent.until("state").await;
    agent
        .send(json!({ "type": "set_state", "state": "available" }))
        .await;
    loop {
        let m = agent.until("state").await;
        if m["state"] == "available" {
            return agent;
        }
    }
}

/// Sends `signal` (`-TERM`, `-KILL`) to a node.
pub fn signal(server: &Server, signal: &str) {
    let pid = server.child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .expect("run kill");
    assert!(sent.success());
}
