//! What a decided call tells the citizen ([`CallOutcome`], given to
//! [`crate::calls::Lifecycle::decide`]), and telling it again to a citizen who reconnects
//! after missing it ([`told_again`]).

use chrono::{DateTime, Utc};

use crate::protocol::ToCitizen;
use crate::{Error, SignalingState};

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

impl CallOutcome {
    /// The decision's kind (`approved`, `rejected`, `aborted`) and reason code.
    pub fn kind_and_reason(&self) -> (&'static str, Option<&str>) {
        match self {
            Self::Approved { .. } => ("approved", None),
            Self::Rejected { reason, .. } => ("rejected", Some(reason.as_str())),
            Self::Aborted { reason } => ("aborted", Some(reason.as_str())),
        }
    }

    /// What the citizen is told of an approval or a rejection (an abort is told as the new
    /// place in the queue).
    pub fn for_citizen(self) -> Option<ToCitizen> {
        match self {
            Self::Approved {
                registration,
                activation_code,
                code_expires_at,
            } => Some(ToCitizen::Approved {
                registration,
                activation_code,
                code_expires_at: code_expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }),
            Self::Rejected {
                reason,
                message_es,
                message_en,
            } => Some(ToCitizen::Rejected {
                reason,
                message_es,
                message_en,
            }),
            Self::Aborted { .. } => None,
        }
    }
}

/// How long after a decision a citizen who comes back (resume token) is given its outcome.
pub const OUTCOME_KEPT: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

/// The outcome of an ended ticket, for a citizen who reconnects after missing it: a
/// rejection is told again; an approval gets a fresh activation code in place of the one that
/// never arrived (only its hash was ever stored), with the same expiry; a call hung up without
/// a decision is told `call_ended`. `None` when there is nothing to tell (too long ago, the
/// code already used).
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
        // Ended without a decision while the citizen was away: the call ended.
        let reason = match ticket.outcome.as_deref() {
            Some("hung_up") => "hang_up",
            Some("citizen_hung_up") => "citizen_hung_up",
            _ => return Ok(None),
        };
        return Ok(Some(ToCitizen::CallEnded {
            reason: reason.into(),
        }));
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
