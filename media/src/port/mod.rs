//! The node's one media port: a single UDP socket that every session's legs share, and
//! optionally one TCP listener for ICE-TCP (RFC 6544, framed as RFC 4571 says). Incoming
//! packets are routed to the session and leg they belong to:
//! - a STUN binding request names the leg by the username fragment the forwarder gave it
//!   (`USERNAME` is `ours:theirs`), and teaches the table the address it came from;
//! - everything else goes by the address it came from (and whether it came over TCP).
//!
//! An ICE restart or a browser's new address is learnt the same way: its first check carries
//! the leg's (possibly new) fragment. A session registers its legs' fragments after each
//! answer and is forgotten, with every address it learnt, when its [`Routes`] is dropped.
//! Packets reach a session through a bounded queue that never waits: a full queue drops the
//! packet, as a full socket buffer would. Sessions send straight into the shared socket.

mod stun;
mod tcp;
mod udp;

pub(crate) use udp::send_datagram;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::{Error, MediaThreads};

/// Which leg of a session a packet is for: one of the call's (by index), or a monitor (by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum LegKey {
    /// The call's or echo's leg `i` (0 citizen, 1 agent).
    Call(usize),
    /// A supervisor's monitor, by its id in the call.
    Monitor(u64),
}

/// A packet for a session, as the port read it.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub leg: LegKey,
    pub from: SocketAddr,
    /// Whether it came over an ICE-TCP connection.
    pub tcp: bool,
    pub data: BytesMut,
    /// When it was read (congestion feedback and jitter are computed from it).
    pub at: Instant,
}

/// Packets one session's queue holds before the port drops them: about a second of a call's
/// media, well beyond what a session that is running leaves waiting.
pub(crate) const SESSION_QUEUE: usize = 1024;
/// Fragments and addresses one session may teach the table; the oldest go first (a
/// browser gathers a handful per connection, an ICE restart or a new network adds a few).
const MAX_UFRAGS: usize = 32;
const MAX_ADDRESSES: usize = 64;

/// The node's shared media port, cheap to clone. Its reading tasks run on a media thread for
/// as long as the media threads do.
#[derive(Clone)]
pub struct SharedPort {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SharedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedPort(udp {}", self.inner.udp_addr)?;
        if let Some(tcp) = self.inner.tcp_addr {
            write!(f, ", tcp {tcp}")?;
        }
        write!(f, ")")
    }
}

/// What the port's tasks and the sessions share.
pub(crate) struct Inner {
    /// The one UDP socket; sessions on any media thread send through it.
    udp: UdpSocket,
    udp_addr: SocketAddr,
    tcp_addr: Option<SocketAddr>,
    /// Who gets what. Locked for one lookup or registration at a time, never across an
    /// `.await`.
    table: Mutex<Table>,
    /// Each open ICE-TCP connection's writer, by the browser's address. Locked as `table`.
    connections: Mutex<HashMap<SocketAddr, mpsc::Sender<Bytes>>>,
    /// The last session number given.
    next_session: AtomicU64,
}

#[derive(Clone)]
struct Route {
    session: u64,
    leg: LegKey,
    queue: mpsc::Sender<Inbound>,
}

#[derive(Default)]
struct Table {
    by_ufrag: HashMap<String, Route>,
    by_address: HashMap<(bool, SocketAddr), Route>,
    /// What each session taught the table, oldest first, for eviction and for forgetting.
    taught: HashMap<u64, Taught>,
}

#[derive(Default)]
struct Taught {
    ufrags: VecDeque<String>,
    addresses: VecDeque<(bool, SocketAddr)>,
}

impl Table {
    fn learn_ufrag(&mut self, route: Route, ufrag: String) {
        let taught = self.taught.entry(route.session).or_default();
        if taught.ufrags.contains(&ufrag) {
            return;
        }
        taught.ufrags.push_back(ufrag.clone());
        if taught.ufrags.len() > MAX_UFRAGS
            && let Some(old) = taught.ufrags.pop_front()
        {
            self.by_ufrag.remove(&old);
        }
        self.by_ufrag.insert(ufrag, route);
    }

    fn learn_address(&mut self, route: Route, key: (bool, SocketAddr)) {
        let taught = self.taught.entry(route.session).or_default();
        if !taught.addresses.contains(&key) {
            taught.addresses.push_back(key);
        }
        if taught.addresses.len() > MAX_ADDRESSES
            && let Some(old) = taught.addresses.pop_front()
            && self
                .by_address
                .get(&old)
                .is_some_and(|r| r.session == route.session)
        {
            self.by_address.remove(&old);
        }
        // Another session's claim to this address (a port reused by a new browser) is
        // overwritten: the check that names this leg is the newer word.
        if let Some(previous) = self.by_address.insert(key, route)
            && let Some(t) = self.taught.get_mut(&previous.session)
        {
            t.addresses.retain(|a| *a != key);
        }
    }

    fn forget(&mut self, session: u64) {
        let Some(taught) = self.taught.remove(&session) else {
            return;
        };
        for ufrag in taught.ufrags {
            if self
                .by_ufrag
                .get(&ufrag)
                .is_some_and(|r| r.session == session)
            {
                self.by_ufrag.remove(&ufrag);
            }
        }
        for address in taught.addresses {
            if self
                .by_address
                .get(&address)
                .is_some_and(|r| r.session == session)
            {
                self.by_address.remove(&address);
            }
        }
    }

    /// The route for a packet: a binding request's fragment first (teaching the table its
    /// address), else the address.
    fn route(&mut self, tcp: bool, from: SocketAddr, data: &[u8]) -> Option<&Route> {
        if let Some(ufrag) = stun::binding_ufrag(data)
            && let Some(route) = self.by_ufrag.get(&ufrag).cloned()
        {
            let current = self.by_address.get(&(tcp, from));
            let same = current.is_some_and(|r| r.session == route.session && r.leg == route.leg);
            if !same {
                self.learn_address(route, (tcp, from));
            }
        }
        self.by_address.get(&(tcp, from))
    }
}

impl Inner {
    /// Hands a packet to its session; false when no session wants it (a packet from an
    /// address no check named).
    pub(crate) fn deliver(&self, tcp: bool, from: SocketAddr, data: &[u8], at: Instant) -> bool {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(route) = table.route(tcp, from, data) else {
            return false;
        };
        // A full queue drops the packet, as a full socket buffer would.
        let _ = route.queue.try_send(Inbound {
            leg: route.leg,
            from,
            tcp,
            data: BytesMut::from(data),
            at,
        });
        true
    }

    fn forget_address(&self, key: (bool, SocketAddr)) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(route) = table.by_address.remove(&key)
            && let Some(t) = table.taught.get_mut(&route.session)
        {
            t.addresses.retain(|a| *a != key);
        }
    }
}

impl SharedPort {
    /// Takes the bound UDP socket (and the ICE-TCP listener, if any) onto a media thread and
    /// starts reading them. The sockets are bound by the caller (the binary, or a test on
    /// port 0).
    pub fn start(
        udp: std::net::UdpSocket,
        tcp: Option<std::net::TcpListener>,
        threads: &MediaThreads,
    ) -> Result<Self, Error> {
        let handle = threads.pick()?;
        // The sockets belong to the runtime that polls them: the media thread's.
        let _entered = handle.enter();
        udp.set_nonblocking(true).map_err(Error::MediaPort)?;
        let udp_addr = udp.local_addr().map_err(Error::MediaPort)?;
        let udp = UdpSocket::from_std(udp).map_err(Error::MediaPort)?;
        let (listener, tcp_addr) = match tcp {
            Some(listener) => {
                listener.set_nonblocking(true).map_err(Error::MediaPort)?;
                let addr = listener.local_addr().map_err(Error::MediaPort)?;
                let listener =
                    tokio::net::TcpListener::from_std(listener).map_err(Error::MediaPort)?;
                (Some(listener), Some(addr))
            }
            None => (None, None),
        };
        let inner = Arc::new(Inner {
            udp,
            udp_addr,
            tcp_addr,
            table: Mutex::default(),
            connections: Mutex::default(),
            next_session: AtomicU64::new(0),
        });
        handle.spawn(udp::read(inner.clone()));
        if let Some(listener) = listener {
            handle.spawn(tcp::accept(inner.clone(), listener));
        }
        Ok(Self { inner })
    }

    /// The UDP socket's bound address.
    pub fn udp_addr(&self) -> SocketAddr {
        self.inner.udp_addr
    }

    /// The ICE-TCP listener's bound address, when there is one.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.inner.tcp_addr
    }

    /// A new session's place in the table, and the queue its packets arrive on.
    pub(crate) fn register(&self) -> (Routes, mpsc::Receiver<Inbound>) {
        let (queue, inbox) = mpsc::channel(SESSION_QUEUE);
        let session = self.inner.next_session.fetch_add(1, Ordering::Relaxed) + 1;
        let routes = Routes {
            port: self.clone(),
            session,
            queue,
        };
        (routes, inbox)
    }

    /// Sends a datagram (UDP) or a frame (ICE-TCP) to a browser without waiting: a full
    /// TCP connection drops the packet, as a full UDP path would; a full UDP socket buffer is
    /// `WouldBlock`.
    pub(crate) fn send_now(
        &self,
        tcp: bool,
        to: SocketAddr,
        message: &[u8],
    ) -> std::io::Result<()> {
        if !tcp {
            return self.inner.udp.try_send_to(message, to).map(|_| ());
        }
        let writer = self
            .inner
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&to)
            .cloned();
        match writer {
            Some(w) => {
                if w.try_send(Bytes::copy_from_slice(message)).is_err() {
                    tracing::debug!(%to, "ICE-TCP connection full or gone; packet dropped");
                }
            }
            None => tracing::debug!(%to, "no ICE-TCP connection; packet dropped"),
        }
        Ok(())
    }

    /// Sends as [`SharedPort::send_now`] does, waiting for room in the UDP socket's buffer.
    pub(crate) async fn send(&self, tcp: bool, to: SocketAddr, message: &[u8]) {
        if tcp {
            // Never fails: a frame that does not fit is dropped (and logged) there.
            let _ = self.send_now(true, to, message);
        } else {
            udp::send_datagram(&self.inner.udp, message, to).await;
        }
    }
}

/// One session's place in the port's table; dropping it forgets the session.
pub(crate) struct Routes {
    port: SharedPort,
    session: u64,
    queue: mpsc::Sender<Inbound>,
}

impl Routes {
    /// Packets whose binding requests name `ufrag` go to `leg`.
    pub fn learn(&self, leg: LegKey, ufrag: &str) {
        let route = Route {
            session: self.session,
            leg,
            queue: self.queue.clone(),
        };
        self.port
            .inner
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .learn_ufrag(route, ufrag.to_owned());
    }

    /// Forgets one leg (a monitor that closed): its fragments and addresses.
    pub fn forget_leg(&self, leg: LegKey) {
        let mut table = self
            .port
            .inner
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let session = self.session;
        table
            .by_ufrag
            .retain(|_, r| !(r.session == session && r.leg == leg));
        table
            .by_address
            .retain(|_, r| !(r.session == session && r.leg == leg));
    }

    /// The port itself, for sending.
    pub fn port(&self) -> &SharedPort {
        &self.port
    }
}

impl Drop for Routes {
    fn drop(&mut self) {
        self.port
            .inner
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .forget(self.session);
    }
}

#[cfg(test)]
mod tests;
