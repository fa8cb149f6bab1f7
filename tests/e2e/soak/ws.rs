//! The soak's WebSocket client: JSON messages in and out, messages put back for a later
//! read, and waits that skip what the step does not need (`position`, `queue`, `quality`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket, counted in the day's open sockets while it lives.
pub struct Ws {
    ws: Socket,
    kept: VecDeque<Value>,
    open: Arc<AtomicI64>,
}

impl Drop for Ws {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Ws {
    /// Opens `path` on the day's server, with the session `cookie` if given.
    pub async fn connect(day: &super::Day, path: &str, cookie: Option<&str>) -> Option<Self> {
        let url = format!("{}{path}", day.base).replacen("http://", "ws://", 1);
        let mut request = url.into_client_request().ok()?;
        if let Some(cookie) = cookie {
            request.headers_mut().insert("cookie", cookie.parse().ok()?);
        }
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(20),
            tokio_tungstenite::connect_async(request),
        )
        .await
        .ok()?
        .ok()?;
        day.sockets.fetch_add(1, Ordering::Relaxed);
        Some(Self {
            ws,
            kept: VecDeque::new(),
            open: day.sockets.clone(),
        })
    }

    pub async fn send(&mut self, m: Value) {
        let _ = self.ws.send(Message::Text(m.to_string().into())).await;
    }

    /// A WebSocket ping: a frame that keeps a watching (read-only) connection alive.
    pub async fn ping(&mut self) {
        let _ = self.ws.send(Message::Ping(Vec::new().into())).await;
    }

    /// Puts a message back: the next read returns it.
    pub fn keep(&mut self, m: Value) {
        self.kept.push_back(m);
    }

    /// The next message (cancel-safe); `{"type":"closed"}` once the socket is closed.
    pub async fn recv_raw(&mut self) -> Value {
        if let Some(m) = self.kept.pop_front() {
            return m;
        }
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    return serde_json::from_str(t.as_str())
                        .unwrap_or_else(|_| json!({ "type": "unparsable" }));
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => return json!({ "type": "closed" }),
                Some(Ok(_)) => {}
            }
        }
    }

    /// The first message of one of `kinds` (or `closed`, or an `error`) within `wait`,
    /// skipping the others.
    pub async fn until(&mut self, kinds: &[&str], wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, async {
            loop {
                let m = self.recv_raw().await;
                let kind = m["type"].as_str().unwrap_or_default();
                if kinds.contains(&kind) || kind == "closed" || kind == "error" {
                    return m;
                }
            }
        })
        .await
        .ok()
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.ws.close(None)).await;
    }
}
