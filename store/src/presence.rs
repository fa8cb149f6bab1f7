//! Presence: which nodes are alive (a heartbeat each) and which sockets each node holds.
//! A node's heartbeat older than the limit gets it declared lost by another node, once: one
//! `UPDATE` moves it to `lost`, and only the node whose update changed the row is told. Its
//! connections are then orphans, as are those of a node that stopped: each is handed to the
//! caller (signaling's call lifecycle), which deletes the row in the transaction that marks
//! its citizen disconnected or its agent offline ([`Tx::drop_connection`]), so that each is
//! handled once whichever node does it.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::{from_millis, to_millis};
use crate::{Error, Result, Store, Tx};

/// What a node is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Heartbeating and taking connections.
    Serving,
    /// Stopping (SIGTERM): telling its clients to reconnect elsewhere, finishing its calls.
    Draining,
    /// Stopped cleanly.
    Stopped,
    /// Declared dead by another node (heartbeat too old).
    Lost,
}

impl NodeState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Serving => "serving",
            Self::Draining => "draining",
            Self::Stopped => "stopped",
            Self::Lost => "lost",
        }
    }
}

/// Whose socket a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionKind {
    /// A citizen following a ticket (subject: the ticket id).
    Citizen,
    /// An agent's console (subject: the staff user id).
    Agent,
}

impl ConnectionKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Citizen => "citizen",
            Self::Agent => "agent",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "citizen" => Ok(Self::Citizen),
            "agent" => Ok(Self::Agent),
            other => Err(Error::Corrupt {
                what: "connections.kind",
                value: other.to_owned(),
            }),
        }
    }
}

/// One live socket, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The node that holds it.
    pub node_id: String,
    /// Its number on that node.
    pub conn_id: i64,
    /// Citizen or agent.
    pub kind: ConnectionKind,
    /// The ticket or the staff user.
    pub subject: String,
}

/// A connection whose node is gone, and since when it is gone: a lost node's last
/// heartbeat, or the moment a node stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanConnection {
    /// The connection.
    pub connection: Connection,
    /// The node's state (`Lost` or `Stopped`).
    pub node_state: NodeState,
    /// When its node went.
    pub gone_at: DateTime<Utc>,
}

/// A node declared lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostNode {
    /// Its id.
    pub id: String,
    /// Its last heartbeat: the time of death as far as anyone knows.
    pub last_heartbeat: DateTime<Utc>,
}

impl Store {
    /// Records a node as serving from `now` (again, if it was recorded before).
    pub async fn register_node(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO nodes (id, started_at, heartbeat_at, state) VALUES ($1, $2, $2, 'serving')
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, state = 'serving', ended_at = NULL, ended_by = NULL",
        )
        .bind(id)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A node's heartbeat. False when the node is no longer serving or draining: another
    /// node declared it lost (and cleaned its connections up).
    pub async fn heartbeat(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE nodes SET heartbeat_at = $2 WHERE id = $1 AND state IN ('serving', 'draining')",
        )
        .bind(id)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets a node's state (its own: draining, stopped, or serving again after it was
    /// declared lost while alive). `ended_at` is set for `Stopped`.
    pub async fn set_node_state(
        &self,
        id: &str,
        state: NodeState,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let ended = (state == NodeState::Stopped).then(|| to_millis(now));
        sqlx::query(
            "UPDATE nodes SET state = $2, heartbeat_at = $3, ended_at = $4, ended_by = CASE WHEN $4 IS NULL THEN NULL ELSE id END WHERE id = $1",
        )
        .bind(id)
        .bind(state.as_str())
        .bind(to_millis(now))
        .bind(ended)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Declares lost, on behalf of node `by`, every serving or draining node whose heartbeat
    /// is older than `cutoff`. Returns only the nodes this call declared (a node declared by
    /// another node at the same time is not returned twice).
    pub async fn declare_lost_nodes(
        &self,
        by: &str,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<LostNode>> {
        let rows = sqlx::query(
            "UPDATE nodes SET state = 'lost', ended_at = $2, ended_by = $3
             WHERE state IN ('serving', 'draining') AND heartbeat_at < $1 AND id <> $3
             RETURNING id, heartbeat_at",
        )
        .bind(to_millis(cutoff))
        .bind(to_millis(now))
        .bind(by)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LostNode {
                    id: r.try_get("id")?,
                    last_heartbeat: from_millis("nodes.heartbeat_at", r.try_get("heartbeat_at")?)?,
                })
            })
            .collect()
    }

    /// Records a live socket (or what it follows now, when it was recorded before).
    pub async fn open_connection(&self, c: &Connection, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO connections (node_id, conn_id, kind, subject, opened_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (node_id, conn_id) DO UPDATE SET kind = excluded.kind, subject = excluded.subject",
        )
        .bind(&c.node_id)
        .bind(c.conn_id)
        .bind(c.kind.as_str())
        .bind(&c.subject)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A socket closed. Returns whether its subject still has a connection on a live node.
    pub async fn close_connection(&self, node_id: &str, conn_id: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let c = tx.drop_connection(node_id, conn_id).await?;
        let others = match c {
            Some(c) => tx.is_connected(c.kind, &c.subject).await?,
            None => false,
        };
        tx.commit().await?;
        Ok(others)
    }

    /// A citizen's socket closed: unless the citizen is connected elsewhere, the ticket is
    /// marked disconnected at `now` (the grace period starts), in the same transaction.
    pub async fn close_citizen_connection(
        &self,
        node_id: &str,
        conn_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        if let Some(c) = tx.drop_connection(node_id, conn_id).await?
            && !tx.is_connected(c.kind, &c.subject).await?
        {
            tx.mark_disconnected(&c.subject, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Connections held by nodes that are lost or stopped, oldest node first, at most `limit`.
    pub async fn orphan_connections(&self, limit: u32) -> Result<Vec<OrphanConnection>> {
        let rows = sqlx::query(
            "SELECT c.node_id, c.conn_id, c.kind, c.subject, n.state, n.heartbeat_at, n.ended_at
             FROM connections c JOIN nodes n ON n.id = c.node_id
             WHERE n.state IN ('lost', 'stopped')
             ORDER BY n.heartbeat_at, c.conn_id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(orphan_from_row).collect()
    }

    /// Deletes the rows of nodes that ended before `before` and hold no connection.
    pub async fn prune_nodes(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM nodes WHERE state IN ('lost', 'stopped') AND ended_at < $1
             AND NOT EXISTS (SELECT 1 FROM connections c WHERE c.node_id = nodes.id)",
        )
        .bind(to_millis(before))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

impl Tx {
    /// Deletes a connection's row; returns it, or `None` when it was already gone (closed,
    /// or cleaned up by another node): then there is nothing more to do for it.
    pub async fn drop_connection(
        &mut self,
        node_id: &str,
        conn_id: i64,
    ) -> Result<Option<Connection>> {
        let row = sqlx::query(
            "DELETE FROM connections WHERE node_id = $1 AND conn_id = $2 RETURNING node_id, conn_id, kind, subject",
        )
        .bind(node_id)
        .bind(conn_id)
        .fetch_optional(self.conn())
        .await?;
        row.map(|r| connection_from_row(&r)).transpose()
    }

    /// Whether `subject` has a connection on a node that is serving or draining.
    pub async fn is_connected(&mut self, kind: ConnectionKind, subject: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT c.conn_id FROM connections c JOIN nodes n ON n.id = c.node_id
             WHERE c.kind = $1 AND c.subject = $2 AND n.state IN ('serving', 'draining') LIMIT 1",
        )
        .bind(kind.as_str())
        .bind(subject)
        .fetch_optional(self.conn())
        .await?;
        Ok(found.is_some())
    }

    /// Marks a live ticket's citizen disconnected since `at`, unless already marked.
    pub async fn mark_disconnected(&mut self, ticket: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE tickets SET disconnected_at = $2
             WHERE id = $1 AND disconnected_at IS NULL AND status IN ('waiting', 'offered', 'in_call')",
        )
        .bind(ticket)
        .bind(to_millis(at))
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

fn connection_from_row(r: &sqlx::any::AnyRow) -> Result<Connection> {
    let kind: String = r.try_get("kind")?;
    Ok(Connection {
        node_id: r.try_get("node_id")?,
        conn_id: r.try_get("conn_id")?,
        kind: ConnectionKind::parse(&kind)?,
        subject: r.try_get("subject")?,
    })
}

fn orphan_from_row(r: &sqlx::any::AnyRow) -> Result<OrphanConnection> {
    let state: String = r.try_get("state")?;
    let (node_state, at) = if state == "lost" {
        (NodeState::Lost, r.try_get::<i64, _>("heartbeat_at")?)
    } else {
        let ended: Option<i64> = r.try_get("ended_at")?;
        (
            NodeState::Stopped,
            ended.unwrap_or(r.try_get::<i64, _>("heartbeat_at")?),
        )
    };
    Ok(OrphanConnection {
        connection: connection_from_row(r)?,
        node_state,
        gone_at: from_millis("nodes.heartbeat_at", at)?,
    })
}
