//! Agents' current states, as the queue and the supervisors see them.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::from_millis;
use crate::{Error, Result, Store};

/// What an agent is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentStatus {
    /// Ready for the next citizen.
    Available,
    /// With a citizen.
    InCall,
    /// Finishing the last call's paperwork.
    WrapUp,
    /// On a break (with a reason).
    Break,
    /// Not working.
    Offline,
}

impl AgentStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::InCall => "in_call",
            Self::WrapUp => "wrap_up",
            Self::Break => "break",
            Self::Offline => "offline",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Available,
            Self::InCall,
            Self::WrapUp,
            Self::Break,
            Self::Offline,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// Whether the agent counts as serving the queue (`s` in the estimate).
    pub fn is_working(self) -> bool {
        matches!(self, Self::Available | Self::InCall | Self::WrapUp)
    }
}

/// One agent's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentState {
    /// The staff user.
    pub user_id: String,
    /// The state.
    pub status: AgentStatus,
    /// Why, for a break.
    pub reason: Option<String>,
    /// Since when.
    pub since: DateTime<Utc>,
}

impl Store {
    /// Sets an agent's state, in its own transaction ([`crate::Tx::set_agent_state`]).
    pub async fn set_agent_state(
        &self,
        user_id: &str,
        status: AgentStatus,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        crate::tx::one_step!(self, |tx| tx.set_agent_state(user_id, status, reason, now))
    }

    /// Every agent's state.
    pub async fn agent_states(&self) -> Result<Vec<AgentState>> {
        let rows =
            sqlx::query("SELECT user_id, state, reason, since FROM agent_states ORDER BY user_id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(state_from_row).collect()
    }

    /// One agent's state, if it has ever been set.
    pub async fn agent_state(&self, user_id: &str) -> Result<Option<AgentState>> {
        let row = sqlx::query(
            "SELECT user_id, state, reason, since FROM agent_states WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| state_from_row(&r)).transpose()
    }

    /// How many agents are working (available, in a call or in wrap-up).
    pub async fn working_agents(&self) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM agent_states WHERE state IN ('available', 'in_call', 'wrap_up')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

pub(crate) fn state_from_row(r: &sqlx::any::AnyRow) -> Result<AgentState> {
    let state: String = r.try_get("state")?;
    Ok(AgentState {
        user_id: r.try_get("user_id")?,
        status: AgentStatus::parse(&state).ok_or(Error::Corrupt {
            what: "agent_states.state",
            value: state,
        })?,
        reason: r.try_get("reason")?,
        since: from_millis("agent_states.since", r.try_get("since")?)?,
    })
}
