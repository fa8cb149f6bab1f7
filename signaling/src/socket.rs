//! What both WebSocket endpoints share: the Origin check, limits on frame size and message
//! rate, pings that find dead peers, and the connection loop with separate send and receive
//! tasks.

use std::future::Future;
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::Instrument;

use crate::telemetry::Telemetry;

/// Limits every connection lives under.
#[derive(Debug, Clone)]
pub struct SocketLimits {
    /// Largest message accepted, in bytes (larger frames close the connection).
    pub max_message_bytes: usize,
    /// Sustained messages per second allowed from one connection.
    pub messages_per_second: f64,
    /// Messages allowed in a burst.
    pub burst: f64,
    /// Messages over the limit in a row after which the connection is closed.
    pub flood_close_after: u32,
    /// How often videoreg pings.
    pub ping_every: Duration,
    /// A connection silent this long (no frame, not even a pong) is dead.
    pub dead_after: Duration,
    /// The first message must arrive within this.
    pub first_message_within: Duration,
    /// Initial read buffer per connection (it grows up to `max_message_bytes` when needed);
    /// the library default of 128 KiB would cost that much per idle citizen.
    pub read_buffer_bytes: usize,
    /// Outgoing bytes a connection may have queued before it is considered stuck and closed.
    pub max_unsent_bytes: usize,
}

impl Default for SocketLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: 16 * 1024,
            messages_per_second: 10.0,
            burst: 40.0,
            flood_close_after: 200,
            ping_every: Duration::from_secs(20),
            dead_after: Duration::from_secs(60),
            first_message_within: Duration::from_secs(10),
            read_buffer_bytes: 4 * 1024,
            max_unsent_bytes: 1024 * 1024,
        }
    }
}

/// Applies the limits to a handshake before upgrading.
pub fn configure(
    ws: axum::extract::ws::WebSocketUpgrade,
    limits: &SocketLimits,
) -> axum::extract::ws::WebSocketUpgrade {
    ws.max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_message_bytes)
        .read_buffer_size(limits.read_buffer_bytes)
        .write_buffer_size(limits.read_buffer_bytes)
        .max_write_buffer_size(limits.max_unsent_bytes)
}

/// Whether a WebSocket handshake's `Origin` is allowed: absent (not a browser), the
/// server's own origin (same host), or one of `extra`.
pub fn origin_allowed(headers: &HeaderMap, extra: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let own = ["http://", "https://"]
        .iter()
        .any(|scheme| origin.strip_prefix(scheme) == Some(host));
    own || extra.iter().any(|o| o == origin)
}

/// A token bucket per connection.
struct RateLimit {
    tokens: f64,
    last: Instant,
    rate: f64,
    burst: f64,
    /// Messages over the limit in a row.
    over: u32,
    /// After this many in a row, the connection is closed.
    close_after: u32,
}

/// What the rate limit says of a message.
enum Admission {
    /// Handle it.
    Allowed,
    /// Drop it; `tell` when the sender should be told (the first, then at powers of two).
    Dropped { tell: bool },
    /// Close the connection: it floods.
    Flooding,
}

impl RateLimit {
    fn new(limits: &SocketLimits) -> Self {
        Self {
            tokens: limits.burst,
            last: Instant::now(),
            rate: limits.messages_per_second,
            burst: limits.burst,
            over: 0,
            close_after: limits.flood_close_after,
        }
    }

    fn admit(&mut self) -> Admission {
        if self.allow() {
            self.over = 0;
            return Admission::Allowed;
        }
        self.over += 1;
        if self.over >= self.close_after {
            return Admission::Flooding;
        }
        Admission::Dropped {
            tell: self.over == 1 || self.over.is_power_of_two(),
        }
    }

    fn allow(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Whether a connection goes on after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// Close the connection (after sending what is queued).
    Close,
}

/// One side's conversation: what it does with each message, and on close.
pub trait Session: Send + 'static {
    /// The endpoint's name in the figures (`citizen`, `agent`).
    const ENDPOINT: &'static str;
    /// Messages from the browser.
    type In: DeserializeOwned + Send;
    /// Messages to the browser.
    type Out: Serialize + Send + 'static;
    /// Handles one well-formed message.
    fn on_message(&mut self, message: Self::In) -> impl Future<Output = Flow> + Send;
    /// The error message for `code` (e.g. `malformed`, `rate_limited`).
    fn error(code: &str, message: &str) -> Self::Out;
    /// The message that tells the client this node stops: connect again after
    /// `retry_after_ms`.
    fn reconnect(retry_after_ms: u64) -> Self::Out;
    /// Cleans up once the connection is over.
    fn on_close(&mut self) -> impl Future<Output = ()> + Send;
}

/// What a connection runs with besides its session: its limits, the figures it counts in,
/// and the node's requests to reconnect ([`crate::hub::Hub::moves`]).
pub struct Conditions {
    /// Limits on frames, rates and silence.
    pub limits: SocketLimits,
    /// Messages both ways and error messages sent are counted here.
    pub telemetry: Telemetry,
    /// Changes when the node asks every client to reconnect (it drains).
    pub moves: watch::Receiver<crate::hub::Moving>,
}

impl Conditions {
    /// A connection's conditions on this node.
    pub fn of(state: &crate::SignalingState) -> Self {
        Self {
            limits: (*state.limits).clone(),
            telemetry: state.telemetry.clone(),
            moves: state.hub.moves(),
        }
    }
}

/// The answer to a socket handshake while this node drains: 503, try again (the load
/// balancer sends the retry to another node).
pub fn draining_refusal() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "1")],
        "Este servidor se está deteniendo; vuelva a conectar. / This server is stopping; connect again.",
    )
        .into_response()
}

/// Runs a connection: a send task (queued messages and pings) and this receive loop, joined
/// between messages when the send task ends. `tx` is the session's sending side (also held by the hub); `rx` its queue.
/// When the node asks (it drains), the client is told to reconnect and the connection closes
/// (with a close frame, after what is queued).
pub async fn run<S: Session>(
    socket: WebSocket,
    conditions: Conditions,
    mut session: S,
    tx: mpsc::Sender<S::Out>,
    rx: mpsc::Receiver<S::Out>,
) {
    let Conditions {
        limits,
        telemetry,
        mut moves,
    } = conditions;
    let (sink, mut stream) = socket.split();
    let mut send = tokio::spawn(send_loop(
        sink,
        rx,
        limits.ping_every,
        telemetry.clone(),
        S::ENDPOINT,
    ));
    // The send task ending (the peer gone) stops the loop only between messages: a message
    // being handled runs to its end, so that no step of a call is cut off halfway (a claim
    // committed, say, and neither told nor undone).
    let mut sent_all = false;
    let receive = async {
        let mut rate = RateLimit::new(&limits);
        let mut wait = limits.first_message_within;
        let mut watching = true;
        loop {
            let next = tokio::select! {
                next = tokio::time::timeout(wait, stream.next()) => next,
                moved = moves.changed(), if watching => {
                    if moved.is_err() {
                        // The hub is gone: no more requests will come.
                        watching = false;
                        continue;
                    }
                    let retry_after_ms = moves.borrow().retry_after_ms;
                    let _ = tx.try_send(S::reconnect(retry_after_ms));
                    break;
                }
                _ = &mut send => {
                    sent_all = true;
                    break;
                }
            };
            let frame = match next {
                Ok(Some(Ok(frame))) => frame,
                // Timed out, closed, or a protocol error (including an oversized frame).
                _ => break,
            };
            wait = limits.dead_after;
            let text = match frame {
                Message::Text(t) => t,
                Message::Binary(_) => {
                    let _ = tx.try_send(S::error(
                        "malformed",
                        "binary frames are not accepted / no se aceptan tramas binarias",
                    ));
                    continue;
                }
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            match rate.admit() {
                Admission::Allowed => {}
                Admission::Dropped { tell } => {
                    if tell {
                        let _ = tx.try_send(S::error(
                            "rate_limited",
                            "too many messages; slow down / demasiados mensajes",
                        ));
                    }
                    continue;
                }
                Admission::Flooding => {
                    tracing::warn!("closing a flooding connection");
                    break;
                }
            }
            telemetry.message(S::ENDPOINT, "in");
            let Some(message) = parse::<S>(&text, &tx) else {
                continue;
            };
            // One span per message: what it costs (the statements it runs, say) is found
            // under it.
            let span = tracing::debug_span!("message", endpoint = S::ENDPOINT);
            if session.on_message(message).instrument(span).await == Flow::Close {
                break;
            }
        }
    };
    receive.await;
    session.on_close().await;
    // Every sender must go for the send task to see the end of its queue: the session's,
    // this one, and the hub's (removed in `on_close`).
    drop(session);
    drop(tx);
    // Let the send task flush what is queued (the hub has dropped its sender in on_close),
    // unless it is over already (the peer went away): a finished task must not be awaited
    // again.
    if !sent_all
        && tokio::time::timeout(Duration::from_secs(2), &mut send)
            .await
            .is_err()
    {
        send.abort();
    }
}

/// Tells the peer why its message failed: the error's own code and message when the peer may
/// know it (logged as a warning when the database is out of reach), otherwise a generic
/// internal error, logged once here with the endpoint.
pub(crate) fn report<S: Session>(tx: &mpsc::Sender<S::Out>, e: &crate::Error) {
    let m = match e.for_peer() {
        Some((code, message)) => {
            if e.is_unavailable() {
                tracing::warn!(error = %e, endpoint = S::ENDPOINT, "socket: database unavailable");
            }
            S::error(code, message)
        }
        None => {
            tracing::error!(error = %e, endpoint = S::ENDPOINT, "socket");
            S::error(
                "internal",
                "Error interno; inténtelo de nuevo. / Internal error; please try again.",
            )
        }
    };
    let _ = tx.try_send(m);
}

/// A text frame as the session's message, or `None` after telling the sender it is not one.
fn parse<S: Session>(text: &str, tx: &mpsc::Sender<S::Out>) -> Option<S::In> {
    serde_json::from_str::<S::In>(text)
        .inspect_err(|e| {
            let _ = tx.try_send(S::error(
                "malformed",
                &format!("not a valid message / mensaje no válido: {e}"),
            ));
        })
        .ok()
}

async fn send_loop<T: Serialize>(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<T>,
    ping_every: Duration,
    telemetry: Telemetry,
    endpoint: &'static str,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    loop {
        tokio::select! {
            next = rx.recv() => {
                let Some(message) = next else { break };
                let Ok(json) = serde_json::to_string(&message) else { continue };
                telemetry.message(endpoint, "out");
                if json.starts_with(r#"{"type":"error""#) {
                    telemetry.error(endpoint);
                }
                if sink.send(Message::Text(Utf8Bytes::from(json))).await.is_err() {
                    return;
                }
            }
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = sink.send(Message::Close(None)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn only_the_servers_own_origin_and_configured_ones_are_allowed() {
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            &[]
        ));
        assert!(origin_allowed(
            &headers(Some("https://cita.example"), "cita.example"),
            &[]
        ));
        assert!(
            origin_allowed(&headers(None, "127.0.0.1:8080"), &[]),
            "not a browser"
        );
        assert!(!origin_allowed(
            &headers(Some("http://evil.example"), "127.0.0.1:8080"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("http://127.0.0.1:8081"), "127.0.0.1:8080"),
            &[]
        ));
        let extra = vec!["https://front.example".to_owned()];
        assert!(origin_allowed(
            &headers(Some("https://front.example"), "10.0.0.5:8080"),
            &extra
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limit_allows_a_burst_then_the_sustained_rate() {
        let limits = SocketLimits {
            messages_per_second: 2.0,
            burst: 3.0,
            ..SocketLimits::default()
        };
        let mut r = RateLimit::new(&limits);
        assert!(r.allow() && r.allow() && r.allow());
        assert!(!r.allow(), "burst spent");
        tokio::time::advance(Duration::from_millis(500)).await;
        assert!(r.allow(), "one token back after 0.5 s at 2/s");
        assert!(!r.allow());
    }
}
