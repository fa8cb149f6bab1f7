//! For tests (feature `testing`): a TCP proxy in front of PostgreSQL that a test stops and
//! starts again: a real outage, or a database restart, as the server sees one (connections
//! cut, new ones refused), on one port that stays the same.
//! It can also strike one transaction at its `COMMIT` ([`CommitFault`]), found by a marker in
//! what videoreg sent in it (a parameter's bytes, e.g. an audit action).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// What happens to the transaction that carries the armed marker, at its `COMMIT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitFault {
    /// Its connection is cut before the `COMMIT` reaches the database: nothing is written.
    CutBeforeCommit,
    /// The database writes the `COMMIT`, and the connection is cut before its answer
    /// reaches videoreg: written, but videoreg cannot know.
    AnswerLost,
    /// The `COMMIT` and its answer pass, then the database goes away (every connection cut,
    /// new ones refused) until [`OutageProxy::resume`].
    OutageAfterCommit,
}

/// The proxy: forwards its port to the database while running.
pub struct OutageProxy {
    /// The address it listens on while running.
    pub addr: SocketAddr,
    upstream: String,
    shared: Arc<Shared>,
}

/// What the proxy's tasks share.
#[derive(Default)]
struct Shared {
    /// Stops the accept loop and every forwarded connection.
    stop: Mutex<Option<watch::Sender<bool>>>,
    /// The accept loop, awaited (so that its port is free) before binding again.
    accepting: Mutex<Option<JoinHandle<()>>>,
    /// The armed fault and its marker.
    fault: Mutex<Option<(Vec<u8>, CommitFault)>>,
    /// Notified once the armed fault has struck.
    struck: Notify,
}

impl Shared {
    fn stop(&self) {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(stop) = stop {
            let _ = stop.send(true);
        }
    }
}

impl OutageProxy {
    /// Starts forwarding a free local port to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let proxy = Self {
            addr,
            upstream: upstream.to_owned(),
            shared: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    /// `url` with its `host:port` replaced by the proxy's address.
    pub fn url_through(&self, url: &str) -> String {
        url.replacen(&self.upstream, &self.addr.to_string(), 1)
    }

    /// The outage: every forwarded connection is cut and the port refuses new ones.
    pub fn stop(&mut self) {
        self.shared.stop();
    }

    /// The database is back, on the same port.
    pub async fn resume(&mut self) {
        self.shared.stop();
        let accepting = self
            .shared
            .accepting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(accepting) = accepting {
            let _ = accepting.await;
        }
        let listener = TcpListener::bind(self.addr).await.expect("rebind proxy");
        self.serve(listener);
    }

    /// Arms `fault` for the next transaction, on any connection, that sends `marker`.
    pub fn at_commit_of(&self, marker: &str, fault: CommitFault) {
        *self
            .shared
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((marker.as_bytes().to_vec(), fault));
    }

    /// Waits until the armed fault has struck.
    pub async fn struck(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.shared.struck.notified())
            .await
            .expect("the fault struck in time");
    }

    fn serve(&self, listener: TcpListener) {
        let (stop, stopped) = watch::channel(false);
        *self
            .shared
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(stop);
        let (upstream, shared) = (self.upstream.clone(), self.shared.clone());
        let accepting = tokio::spawn(async move {
            let mut accept_stopped = stopped.clone();
            loop {
                let client = tokio::select! {
                    biased;
                    _ = accept_stopped.changed() => return,
                    accepted = listener.accept() => match accepted {
                        Ok((client, _)) => client,
                        Err(_) => return,
                    },
                };
                let connection = forward(client, upstream.clone(), stopped.clone(), shared.clone());
                tokio::spawn(connection);
            }
        });
        *self
            .shared
            .accepting
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(accepting);
    }
}

impl Drop for OutageProxy {
    fn drop(&mut self) {
        self.shared.stop();
    }
}

/// The simple query that ends a transaction, as videoreg sends it and as the database names
/// it in its answer.
const COMMIT: &[u8] = b"COMMIT\0";
/// The database's answer to `COMMIT`: its tag, then "ready for query" (type, length 5, and
/// one status byte after this).
const COMMIT_ANSWERED: &[u8] = b"COMMIT\0Z\0\0\0\x05";

/// Whether `from_database` holds the whole answer to a `COMMIT`.
fn commit_answered(from_database: &[u8]) -> bool {
    find(from_database, COMMIT_ANSWERED)
        .is_some_and(|at| from_database.len() > at + COMMIT_ANSWERED.len())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Copies both ways until either side closes or the proxy stops; strikes the armed fault.
async fn forward(
    mut client: TcpStream,
    upstream: String,
    mut stopped: watch::Receiver<bool>,
    shared: Arc<Shared>,
) {
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.split();
    let (mut from_server, mut to_server) = server.split();
    let mut watch = Watch::default();
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        // A stopped proxy forwards nothing more, whatever else is ready.
        tokio::select! {
            biased;
            _ = stopped.changed() => return,
            read = from_client.read(&mut up) => {
                let Ok(n @ 1..) = read else { return };
                let chunk = &up[..n];
                if let Some(fault) = watch.strikes(chunk, &shared) {
                    strike(fault, chunk, (&mut from_server, &mut to_server), &mut to_client, &shared)
                        .await;
                    shared.struck.notify_one();
                    return;
                }
                if to_server.write_all(chunk).await.is_err() {
                    return;
                }
            }
            read = from_server.read(&mut down) => {
                let Ok(n @ 1..) = read else { return };
                if to_client.write_all(&down[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// What videoreg has sent on one connection, as far as the armed fault cares: whether the
/// marker passed, and the last bytes (a marker or `COMMIT` may span two reads).
#[derive(Default)]
struct Watch {
    tail: Vec<u8>,
    marked: bool,
}

impl Watch {
    /// The armed fault, taken, when `chunk` carries the `COMMIT` of a transaction that sent
    /// the marker.
    fn strikes(&mut self, chunk: &[u8], shared: &Shared) -> Option<CommitFault> {
        let mut seen = std::mem::take(&mut self.tail);
        seen.extend_from_slice(chunk);
        self.tail = seen[seen.len().saturating_sub(64)..].to_vec();
        let mut armed = shared.fault.lock().unwrap_or_else(PoisonError::into_inner);
        let (marker, _) = armed.as_ref()?;
        let after = if self.marked {
            0
        } else {
            find(&seen, marker)? + marker.len()
        };
        self.marked = true;
        find(&seen[after..], COMMIT)?;
        armed.take().map(|(_, fault)| fault)
    }
}

/// Strikes `fault` at the chunk carrying a `COMMIT`; the connection is dropped afterwards.
async fn strike(
    fault: CommitFault,
    commit: &[u8],
    (from_server, to_server): (
        &mut (impl AsyncRead + Unpin),
        &mut (impl AsyncWrite + Unpin),
    ),
    to_client: &mut (impl AsyncWrite + Unpin),
    shared: &Shared,
) {
    if fault == CommitFault::CutBeforeCommit || to_server.write_all(commit).await.is_err() {
        return;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !commit_answered(&answer) {
        match from_server.read(&mut buf).await {
            Ok(n @ 1..) => answer.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
    if fault == CommitFault::OutageAfterCommit {
        // The outage first, so that nothing videoreg does after the answer reaches the
        // database.
        shared.stop();
        let _ = to_client.write_all(&answer).await;
    }
}

/// The `host:port` of a `postgres://user@host:port/db…` URL.
pub fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest).to_owned()
}
