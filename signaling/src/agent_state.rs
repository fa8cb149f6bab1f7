//! Agents' states as the server changes them outside a call's transitions (those are in
//! `calls`). Every change is stored together with its audit event, then told to the agent.
//! Wrap-up ends by itself after the configured time, and an offer not accepted in time lapses
//! (`calls::Lifecycle::lapse_offers`). Both timers are rules of `now`, applied by [`sweep`]
//! (each publisher round); a short task only wakes the publisher when one is due.

use chrono::{DateTime, TimeDelta, Utc};
use store::{AgentStatus, NewAuditEvent};

use crate::protocol::ToAgent;
use crate::{Error, SignalingState, deliver};

pub use crate::calls::NO_ANSWER;

/// Timers around an agent's calls, from configuration.
#[derive(Debug, Clone)]
pub struct AgentPolicy {
    /// How long wrap-up lasts after a call before the agent is available again.
    pub wrap_up: TimeDelta,
    /// How long an agent has to accept an offered citizen.
    pub offer_timeout: TimeDelta,
}

impl Default for AgentPolicy {
    fn default() -> Self {
        Self {
            wrap_up: TimeDelta::seconds(30),
            offer_timeout: TimeDelta::seconds(30),
        }
    }
}

/// The audit event of an agent's state change.
fn state_event<'a>(
    now: DateTime<Utc>,
    actor: &'a str,
    user_id: &'a str,
    detail: &'a str,
) -> NewAuditEvent<'a> {
    NewAuditEvent {
        at: now,
        actor,
        action: "agent.state",
        subject: user_id,
        detail,
    }
}

/// Sets an agent's state and audits it in one transaction, then tells the agent and the
/// queue (a failure to tell is logged: the state is written); wrap-up schedules its own end.
pub async fn set(
    state: &SignalingState,
    user_id: &str,
    status: AgentStatus,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), Error> {
    let now = state.clock.now();
    let detail = serde_json::json!({ "state": status.as_str(), "reason": reason }).to_string();
    let mut tx = state.store.begin().await?;
    tx.set_agent_state(user_id, status, reason, now).await?;
    tx.audit(&state_event(now, actor, user_id, &detail)).await?;
    tx.commit().await?;
    if let Err(e) = announce(state, user_id, status, reason).await {
        tracing::warn!(error = %e, "telling an agent's state after it was written");
    }
    Ok(())
}

/// After a state change is stored: tells the agent's consoles, arms the wrap-up timer, and
/// says the queue changed.
pub(crate) async fn announce(
    state: &SignalingState,
    user_id: &str,
    status: AgentStatus,
    reason: Option<&str>,
) -> Result<(), Error> {
    tell(state, user_id, status, reason).await?;
    if status == AgentStatus::WrapUp {
        wake_after(state, state.agent_policy.wrap_up);
    }
    deliver::queue_changed(state).await
}

/// Tells an agent's consoles their state.
async fn tell(
    state: &SignalingState,
    user_id: &str,
    status: AgentStatus,
    reason: Option<&str>,
) -> Result<(), Error> {
    let m = ToAgent::State {
        state: status.as_str().to_owned(),
        reason: reason.map(str::to_owned),
        read_only: false,
    };
    deliver::to_agent(state, user_id, &m).await
}

/// Wakes the publisher once `after` of the server's clock has passed (in real time: shorter
/// on the test clock), so that a timer is applied on time rather than at the next regular
/// round.
pub fn wake_after(state: &SignalingState, after: TimeDelta) {
    let hub = state.hub.clone();
    let after = state.clock.real(after) + std::time::Duration::from_millis(20);
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        hub.queue_changed();
    });
}

/// Applies both timers at `now`: lapsed offers go back to the head of the queue (their agent
/// to break), finished wrap-ups make their agent available.
pub async fn sweep(state: &SignalingState, now: DateTime<Utc>) -> Result<(), Error> {
    state.lifecycle().lapse_offers(now).await?;
    let detail = serde_json::json!({ "state": "available", "reason": "wrap_up_over" }).to_string();
    let mut tx = state.store.begin().await?;
    let ready = tx
        .finish_wrap_ups(now - state.agent_policy.wrap_up, now)
        .await?;
    for agent in &ready {
        tx.audit(&state_event(now, "system", agent, &detail))
            .await?;
    }
    tx.commit().await?;
    for agent in ready {
        if let Err(e) = tell(state, &agent, AgentStatus::Available, None).await {
            tracing::warn!(error = %e, "telling an agent its wrap-up is over");
        }
    }
    Ok(())
}
