//! The connection hub: which sockets on this node belong to which ticket or agent, and the
//! signal that the queue changed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Notify, mpsc, watch};

use crate::protocol::{ToAgent, ToCitizen};

/// Connections by key (ticket id or staff user id), each with its connection id.
type Registry<T> = Mutex<HashMap<String, Vec<(u64, mpsc::Sender<T>)>>>;

/// Cheap to clone; clones share the same registry.
#[derive(Debug, Clone, Default)]
pub struct Hub {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Citizen connections by ticket id (a second tab adds a second sender). Locked only to
    /// insert, remove or clone senders, never across an `.await`.
    citizens: Registry<ToCitizen>,
    /// Agent and supervisor connections by staff user id. Same locking rule.
    agents: Registry<ToAgent>,
    /// Connection ids.
    next_id: AtomicU64,
    /// Woken whenever the queue may have changed.
    changed: Notify,
    /// Counts the publisher's finished rounds, for watchers of the whole queue (supervisors).
    rounds: watch::Sender<u64>,
    /// Every socket watches it: at each change it tells its client to reconnect and closes
    /// (see [`Moving`]).
    moving: watch::Sender<Moving>,
}

/// What every socket of this node is asked to do: reconnect after `retry_after_ms`. Sent
/// when the node drains (it stops; for good), or when it finds it was declared lost while
/// alive (its clients must be recorded and told again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moving {
    /// How long clients wait before connecting again, in milliseconds.
    pub retry_after_ms: u64,
    /// Whether this node is stopping: new sockets are refused.
    pub draining: bool,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            citizens: Registry::default(),
            agents: Registry::default(),
            next_id: AtomicU64::default(),
            changed: Notify::default(),
            rounds: watch::Sender::new(0),
            moving: watch::Sender::new(Moving::default()),
        }
    }
}

fn add<T>(map: &Registry<T>, key: &str, id: u64, tx: mpsc::Sender<T>) {
    map.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key.to_owned())
        .or_default()
        .push((id, tx));
}

fn remove<T>(map: &Registry<T>, key: &str, id: u64) {
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(list) = map.get_mut(key) {
        list.retain(|(i, _)| *i != id);
        if list.is_empty() {
            map.remove(key);
        }
    }
}

fn senders<T>(map: &Registry<T>, key: &str) -> Vec<mpsc::Sender<T>> {
    map.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
        .map(|l| l.iter().map(|(_, tx)| tx.clone()).collect())
        .unwrap_or_default()
}

impl Hub {
    /// A fresh connection id.
    pub fn connection_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a citizen connection for a ticket.
    pub fn add_citizen(&self, ticket: &str, id: u64, tx: mpsc::Sender<ToCitizen>) {
        add(&self.inner.citizens, ticket, id, tx);
    }

    /// Forgets a citizen connection.
    pub fn remove_citizen(&self, ticket: &str, id: u64) {
        remove(&self.inner.citizens, ticket, id);
    }

    /// Sends to every connection of a ticket on this node; returns how many took it.
    pub fn to_citizen(&self, ticket: &str, message: &ToCitizen) -> usize {
        senders(&self.inner.citizens, ticket)
            .into_iter()
            .filter(|tx| tx.try_send(message.clone()).is_ok())
            .count()
    }

    /// Whether a ticket has a connection on this node.
    pub fn has_citizen(&self, ticket: &str) -> bool {
        self.inner
            .citizens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(ticket)
    }

    /// The tickets with a connection on this node.
    pub fn connected_tickets(&self) -> Vec<String> {
        self.inner
            .citizens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    /// How many sockets follow a ticket or belong to staff on this node.
    pub fn connections(&self) -> usize {
        fn count<T>(map: &Registry<T>) -> usize {
            map.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .map(Vec::len)
                .sum()
        }
        count(&self.inner.citizens) + count(&self.inner.agents)
    }

    /// Registers an agent (or supervisor) connection.
    pub fn add_agent(&self, user_id: &str, id: u64, tx: mpsc::Sender<ToAgent>) {
        add(&self.inner.agents, user_id, id, tx);
    }

    /// Forgets an agent connection.
    pub fn remove_agent(&self, user_id: &str, id: u64) {
        remove(&self.inner.agents, user_id, id);
    }

    /// Whether an agent has a connection on this node.
    pub fn has_agent(&self, user_id: &str) -> bool {
        self.inner
            .agents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(user_id)
    }

    /// Sends to every connection of one agent on this node.
    pub fn to_agent(&self, user_id: &str, message: &ToAgent) -> usize {
        senders(&self.inner.agents, user_id)
            .into_iter()
            .filter(|tx| tx.try_send(message.clone()).is_ok())
            .count()
    }

    /// Sends to every agent and supervisor connection on this node.
    pub fn to_all_agents(&self, message: &ToAgent) {
        let all: Vec<mpsc::Sender<ToAgent>> = self
            .inner
            .agents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .flat_map(|l| l.iter().map(|(_, tx)| tx.clone()))
            .collect();
        for tx in all {
            let _ = tx.try_send(message.clone());
        }
    }

    /// Says that the queue may have changed (joins, leaves, claims, agent states).
    pub fn queue_changed(&self) {
        self.inner.changed.notify_one();
    }

    /// Waits until the queue may have changed.
    pub async fn changed(&self) {
        self.inner.changed.notified().await;
    }

    /// Says that the publisher finished a round (the queue was just recomputed).
    pub fn round_published(&self) {
        self.inner.rounds.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Follows the publisher's rounds: the receiver sees a change after each one.
    pub fn rounds(&self) -> watch::Receiver<u64> {
        self.inner.rounds.subscribe()
    }

    /// This node drains: every socket tells its client to reconnect after `retry_after_ms`
    /// and closes; new sockets are refused from now on.
    pub fn start_draining(&self, retry_after_ms: u64) {
        self.inner.moving.send_replace(Moving {
            retry_after_ms,
            draining: true,
        });
    }

    /// Every socket tells its client to reconnect after `retry_after_ms` and closes; new
    /// sockets are welcome.
    pub fn reconnect_all(&self, retry_after_ms: u64) {
        self.inner
            .moving
            .send_modify(|m| m.retry_after_ms = retry_after_ms);
    }

    /// Whether this node drains.
    pub fn is_draining(&self) -> bool {
        self.inner.moving.borrow().draining
    }

    /// Follows the requests to reconnect: the receiver sees each one made after this call.
    pub fn moves(&self) -> watch::Receiver<Moving> {
        self.inner.moving.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_reach_every_connection_of_a_ticket_until_removed() {
        let hub = Hub::default();
        let (tx1, mut rx1) = mpsc::channel(4);
        let (tx2, mut rx2) = mpsc::channel(4);
        let (a, b) = (hub.connection_id(), hub.connection_id());
        assert_ne!(a, b);
        hub.add_citizen("t1", a, tx1);
        hub.add_citizen("t1", b, tx2);
        assert_eq!(hub.to_citizen("t1", &ToCitizen::AgentFound), 2);
        assert_eq!(rx1.recv().await, Some(ToCitizen::AgentFound));
        assert_eq!(rx2.recv().await, Some(ToCitizen::AgentFound));
        hub.remove_citizen("t1", a);
        assert_eq!(hub.to_citizen("t1", &ToCitizen::Left), 1);
        hub.remove_citizen("t1", b);
        assert!(hub.connected_tickets().is_empty());
        assert_eq!(hub.to_citizen("t1", &ToCitizen::Left), 0);
    }
}
