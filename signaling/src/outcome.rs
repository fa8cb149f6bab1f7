//! The end of a verified call: once the staff side has recorded the agent's decision, both
//! sides are told (the citizen gets the activation code, the reason, or their place back),
//! the media stops and the agent goes to wrap-up.

use chrono::{DateTime, Utc};
use store::AgentStatus;

use crate::protocol::{ToAgent, ToCitizen};
use crate::{Error, SignalingState, agent_state, calls, deliver};

/// What the citizen is told.
#[derive(Clone)]
pub enum CallOutcome {
    /// Registered.
    Approved {
        /// The registration's reference.
        registration: String,
        /// The activation code, grouped for people.
        activation_code: String,
        /// When the code expires.
        code_expires_at: DateTime<Utc>,
    },
    /// Not verified.
    Rejected {
        /// The reason code.
        reason: String,
        /// For the citizen, in Spanish.
        message_es: String,
        /// For the citizen, in English.
        message_en: String,
    },
    /// Back to the head of the queue.
    Aborted {
        /// The reason code.
        reason: String,
    },
}

/// Never printed with the code.
impl std::fmt::Debug for CallOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Approved { .. } => "Approved",
            Self::Rejected { .. } => "Rejected",
            Self::Aborted { .. } => "Aborted",
        })
    }
}

/// Tells both sides, ends the media and starts the agent's wrap-up.
pub async fn finish(
    state: &SignalingState,
    ticket: &str,
    agent_id: &str,
    outcome: CallOutcome,
) -> Result<(), Error> {
    calls::end(state, ticket).await;
    let (kind, reason) = match &outcome {
        CallOutcome::Approved { .. } => ("approved", None),
        CallOutcome::Rejected { reason, .. } => ("rejected", Some(reason.as_str())),
        CallOutcome::Aborted { reason } => ("aborted", Some(reason.as_str())),
    };
    state.telemetry.decided(kind, reason);
    if kind != "aborted" {
        crate::telemetry::record_call_end(state, ticket).await;
    }
    let agent_reason = match &outcome {
        CallOutcome::Approved {
            registration,
            activation_code,
            code_expires_at,
        } => {
            let m = ToCitizen::Approved {
                registration: registration.clone(),
                activation_code: activation_code.clone(),
                code_expires_at: code_expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            };
            deliver::to_citizen(state, ticket, &m).await?;
            "approved"
        }
        CallOutcome::Rejected {
            reason,
            message_es,
            message_en,
        } => {
            let m = ToCitizen::Rejected {
                reason: reason.clone(),
                message_es: message_es.clone(),
                message_en: message_en.clone(),
            };
            deliver::to_citizen(state, ticket, &m).await?;
            "rejected"
        }
        CallOutcome::Aborted { reason } => {
            agent_state::tell_requeued(state, ticket, Some(reason)).await?;
            "aborted"
        }
    };
    let ended = ToAgent::CallEnded {
        reason: agent_reason.into(),
    };
    deliver::to_agent(state, agent_id, &ended).await?;
    agent_state::set(state, agent_id, AgentStatus::WrapUp, None, agent_id).await
}

/// How long after a decision a citizen who comes back (resume token) is given its outcome.
pub const OUTCOME_KEPT: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

/// The outcome of an ended ticket, for a citizen who reconnects after missing it: a
/// rejection is told again; an approval gets a fresh activation code in place of the one that
/// never arrived (only its hash was ever stored), with the same expiry. `None` when there is
/// nothing to tell (no decision, too long ago, or the code was already used).
pub async fn told_again(
    state: &SignalingState,
    ticket: &store::Ticket,
    now: DateTime<Utc>,
) -> Result<Option<ToCitizen>, Error> {
    if ticket.ended_at.is_none_or(|at| now - at > OUTCOME_KEPT) {
        return Ok(None);
    }
    let decisions = state.store.decisions_for_ticket(&ticket.id).await?;
    let Some(last) = decisions.last() else {
        return Ok(None);
    };
    match (last.outcome, &last.registration_id) {
        (store::Outcome::Approved, Some(registration)) => {
            let Some((_, expires, None)) = state.store.activation_code_for(registration).await?
            else {
                return Ok(None);
            };
            if expires <= now {
                return Ok(None);
            }
            let code = crate::activation::ActivationCode::generate()
                .map_err(|e| Error::Random(e.to_string()))?;
            let detail = serde_json::json!({ "registration": registration }).to_string();
            let audit = store::NewAuditEvent {
                at: now,
                actor: "citizen",
                action: "activation_code.reissued",
                subject: &ticket.id,
                detail: &detail,
            };
            let replaced = state
                .store
                .reissue_activation_code(registration, &code.hash(), now, expires, &audit)
                .await?;
            Ok(replaced.then(|| ToCitizen::Approved {
                registration: registration.clone(),
                activation_code: code.to_string(),
                code_expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }))
        }
        (store::Outcome::Rejected, _) => Ok(Some(ToCitizen::Rejected {
            reason: last.reason.clone().unwrap_or_default(),
            message_es: String::new(),
            message_en: String::new(),
        })),
        _ => Ok(None),
    }
}
