//! The cross-node message bus. On PostgreSQL, `NOTIFY` on one channel per schema; a payload too
//! large for a notification is stored in `bus_payloads` and the notification carries its id.
//! On SQLite there is one node: publishing does nothing and there is nothing to listen to.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;

use crate::db::to_millis;
use crate::{Backend, Result, Store};

/// Notifications carry at most 8000 bytes; leave room for the framing.
const INLINE_MAX: usize = 7000;
/// Marks a payload stored in the table: `@<id>`.
const STORED: char = '@';

/// A message from another node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusMessage {
    /// The node that sent it.
    pub node: String,
    /// What it is about, e.g. `citizen:<ticket>`, `agent:<user>`, `queue`.
    pub topic: String,
    /// The message itself (JSON).
    pub body: String,
}

/// Receives the bus's messages (PostgreSQL only).
pub struct BusListener {
    listener: PgListener,
    store: Store,
}

fn encode(m: &BusMessage) -> String {
    // node and topic never contain a newline; the body may.
    format!("{}\n{}\n{}", m.node, m.topic, m.body)
}

fn decode(s: &str) -> Option<BusMessage> {
    let mut parts = s.splitn(3, '\n');
    Some(BusMessage {
        node: parts.next()?.to_owned(),
        topic: parts.next()?.to_owned(),
        body: parts.next()?.to_owned(),
    })
}

impl Store {
    /// Publishes a message to every node (including this one; receivers skip their own).
    pub async fn publish(&self, message: &BusMessage, now: DateTime<Utc>) -> Result<()> {
        let Some(channel) = self.bus_channel() else {
            return Ok(());
        };
        let encoded = encode(message);
        let payload = if encoded.len() <= INLINE_MAX {
            encoded
        } else {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO bus_payloads (body, created_at) VALUES ($1, $2) RETURNING id",
            )
            .bind(&encoded)
            .bind(to_millis(now))
            .fetch_one(&self.pool)
            .await?;
            format!("{STORED}{id}")
        };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Starts listening, on PostgreSQL; `None` on SQLite.
    pub async fn subscribe(&self) -> Result<Option<BusListener>> {
        let (Some(url), Some(channel)) = (self.url_for_listener(), self.bus_channel()) else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(url).await?;
        listener.listen(channel).await?;
        Ok(Some(BusListener {
            listener,
            store: self.clone(),
        }))
    }

    /// Deletes stored payloads older than `before`.
    pub async fn prune_bus_payloads(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM bus_payloads WHERE created_at < $1")
            .bind(to_millis(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    fn url_for_listener(&self) -> Option<&str> {
        (self.backend() == Backend::Postgres).then_some(self.url.as_str())
    }
}

impl BusListener {
    /// The next message. [`crate::Error::BusInterrupted`] when the connection was lost:
    /// messages sent until a new listener listens are missed, so the caller should subscribe
    /// again and catch its clients up.
    pub async fn recv(&mut self) -> Result<Option<BusMessage>> {
        let Some(n) = self.listener.try_recv().await? else {
            return Err(crate::Error::BusInterrupted);
        };
        let payload = n.payload();
        if let Some(id) = payload
            .strip_prefix(STORED)
            .and_then(|id| id.parse::<i64>().ok())
        {
            let body: Option<String> =
                sqlx::query_scalar("SELECT body FROM bus_payloads WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.store.pool)
                    .await?;
            return Ok(body.as_deref().and_then(decode));
        }
        Ok(decode(payload))
    }
}
