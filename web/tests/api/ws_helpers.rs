//! WebSocket clients for the tests (tokio-tungstenite), with every wait bounded.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

/// How long a test waits for any one message.
const WAIT: Duration = Duration::from_secs(10);
/// How long a test waits for a message of one kind, whatever else comes meanwhile.
const UNTIL: Duration = Duration::from_secs(30);

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

impl TestApp {
    fn ws_url(&self, path: &str) -> String {
        format!("{}{path}", self.base.replacen("http://", "ws://", 1))
    }

    /// Opens a socket with optional Origin and Cookie headers; the handshake's error if refused.
    pub async fn try_ws(
        &self,
        path: &str,
        origin: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<Ws, tungstenite::Error> {
        let mut request = self.ws_url(path).into_client_request()?;
        if let Some(o) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(o).expect("origin header"));
        }
        if let Some(c) = cookie {
            request
                .headers_mut()
                .insert("cookie", HeaderValue::from_str(c).expect("cookie header"));
        }
        let (stream, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("handshake in time")?;
        Ok(Ws { stream })
    }

    /// A citizen socket from the server's own origin, as if through a proxy reporting the
    /// client as `addr`; the handshake's error if refused.
    pub async fn citizen_from(&self, addr: &str) -> Result<Ws, tungstenite::Error> {
        let mut request = self.ws_url("/ws/citizen").into_client_request()?;
        let headers = request.headers_mut();
        headers.insert("origin", HeaderValue::from_str(&self.base).expect("origin"));
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_str(addr).expect("address"),
        );
        let (stream, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("handshake in time")?;
        Ok(Ws { stream })
    }

    /// A citizen socket from the server's own origin.
    pub async fn citizen(&self) -> Ws {
        self.try_ws("/ws/citizen", Some(&self.base.clone()), None)
            .await
            .expect("citizen socket")
    }

    /// A citizen in a call accepted by a new agent `ana`: the citizen's socket, the ICE
    /// servers the citizen was given, and the agent's socket.
    pub async fn accepted_call(&self) -> (Ws, serde_json::Value, Ws) {
        let token = self.application("12345678Z", "15/03/2031").await;
        let mut citizen = self.citizen().await;
        citizen
            .send(serde_json::json!({ "type": "join", "application": token, "consent": true }))
            .await;
        citizen.until("queued").await;
        self.add_staff("ana", store::StaffRole::Agent).await;
        let mut b = self.browser();
        b.sign_in("ana").await;
        let mut agent = self
            .try_ws("/ws/agent", Some(&self.base), Some(&b.cookie_header()))
            .await
            .expect("console");
        agent.send(serde_json::json!({ "type": "take_next" })).await;
        agent.until("offered").await;
        agent.send(serde_json::json!({ "type": "accept" })).await;
        let started = agent.until("call_started").await;
        assert!(started["ice_servers"].is_array());
        let started = citizen.until("call_started").await;
        (citizen, started["ice_servers"].clone(), agent)
    }

    /// Applies with a demo identity and returns the application token.
    pub async fn application(&self, id: &str, contrast: &str) -> String {
        let (status, body) = self.apply(id, contrast).await;
        assert_eq!(status, 201, "{body}");
        body["application"].as_str().expect("token").to_owned()
    }
}

impl Ws {
    pub async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("send");
    }

    pub async fn send_raw(&mut self, m: Message) -> Result<(), tungstenite::Error> {
        self.stream.send(m).await
    }

    /// The next JSON message (pings are answered by the library and skipped).
    pub async fn recv(&mut self) -> Value {
        self.try_recv()
            .await
            .expect("a message before the socket closed")
    }

    /// The next JSON message, or `None` once the socket is closed. The wait is bounded as a
    /// whole: the server's pings, skipped here, do not restart it.
    pub async fn try_recv(&mut self) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .expect("a message in time");
            match next {
                Some(Ok(Message::Text(t))) => {
                    return Some(serde_json::from_str(t.as_str()).expect("JSON"));
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Reads until a message of type `kind` arrives, skipping others (e.g. `position`),
    /// within [`UNTIL`] in all.
    pub async fn until(&mut self, kind: &str) -> Value {
        tokio::time::timeout(UNTIL, async {
            loop {
                let m = self.recv().await;
                if m["type"] == kind {
                    return m;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("a {kind} message within {UNTIL:?}"))
    }

    /// Reads until a message of type `kind` arrives, skipping others but failing on an
    /// `error`, within [`UNTIL`] in all.
    pub async fn until_unrefused(&mut self, kind: &str) -> Value {
        tokio::time::timeout(UNTIL, async {
            loop {
                let m = self.recv().await;
                assert_ne!(m["type"], "error", "{m}");
                if m["type"] == kind {
                    return m;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("a {kind} message within {UNTIL:?}"))
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
