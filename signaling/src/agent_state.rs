//! Agents' states as the server changes them. Every change is stored, written to the audit
//! trail and told to the agent. Wrap-up ends by itself after the configured time, and a
//! citizen offered to an agent who does not accept in time goes back to the head of the
//! queue while the agent goes on break. Both timers are rules of `now`, applied by
//! [`sweep`] (each publisher round); a short task only wakes the publisher when one is due.

use chrono::{DateTime, TimeDelta, Utc};
use scheduler::REQUEUE_PRIORITY;
use store::{AgentStatus, NewAuditEvent};

use crate::protocol::{ToAgent, ToCitizen};
use crate::queue_view::QueueView;
use crate::{Error, SignalingState, deliver};

/// The break reason given to an agent whose offer lapsed.
pub const NO_ANSWER: &str = "no_answer";

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

/// Appends an audit event (`actor`: a staff user id or `system`).
pub async fn audit(
    state: &SignalingState,
    actor: &str,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor,
            action,
            subject,
            detail: &detail.to_string(),
        })
        .await?;
    Ok(())
}

/// Sets an agent's state, audits it, tells the agent and the queue; wrap-up schedules its
/// own end.
pub async fn set(
    state: &SignalingState,
    user_id: &str,
    status: AgentStatus,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), Error> {
    let now = state.clock.now();
    state
        .store
        .set_agent_state(user_id, status, reason, now)
        .await?;
    let detail = serde_json::json!({ "state": status.as_str(), "reason": reason });
    audit(state, actor, "agent.state", user_id, detail, now).await?;
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

/// Wakes the publisher once `after` has passed, so that a timer is applied on time rather
/// than at the next regular round.
pub fn wake_after(state: &SignalingState, after: TimeDelta) {
    let hub = state.hub.clone();
    let after = after.to_std().unwrap_or_default() + std::time::Duration::from_millis(20);
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        hub.queue_changed();
    });
}

/// Tells a citizen who was put back in the queue where they are now.
pub async fn tell_requeued(
    state: &SignalingState,
    ticket: &str,
    reason: Option<&str>,
) -> Result<(), Error> {
    let view = QueueView::load(state).await?;
    let position = view.position_of(ticket).map_or(1, |(p, _)| p);
    let m = ToCitizen::Requeued {
        position,
        reason: reason.map(str::to_owned),
    };
    // Every caller then changes the agent's state, which announces the queue change.
    deliver::to_citizen(state, ticket, &m).await
}

/// Applies both timers at `now`: lapsed offers go back to the head of the queue (their agent
/// to break), finished wrap-ups make their agent available.
pub async fn sweep(state: &SignalingState, now: DateTime<Utc>) -> Result<(), Error> {
    let lapsed = state
        .store
        .requeue_unaccepted(now - state.agent_policy.offer_timeout, REQUEUE_PRIORITY)
        .await?;
    for (ticket, agent) in lapsed {
        tracing::info!(%ticket, %agent, "offer not accepted in time; citizen back at the head");
        let detail = serde_json::json!({ "agent": agent });
        audit(state, "system", "ticket.offer_lapsed", &ticket, detail, now).await?;
        let ended = ToAgent::CallEnded {
            reason: "offer_timeout".into(),
        };
        deliver::to_agent(state, &agent, &ended).await?;
        set(state, &agent, AgentStatus::Break, Some(NO_ANSWER), "system").await?;
        tell_requeued(state, &ticket, None).await?;
    }
    let ready = state
        .store
        .finish_wrap_ups(now - state.agent_policy.wrap_up, now)
        .await?;
    for agent in ready {
        let detail = serde_json::json!({ "state": "available", "reason": "wrap_up_over" });
        audit(state, "system", "agent.state", &agent, detail, now).await?;
        tell(state, &agent, AgentStatus::Available, None).await?;
    }
    Ok(())
}
