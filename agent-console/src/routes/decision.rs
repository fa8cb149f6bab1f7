//! `POST /staff/calls/{ticket}/decision`: approve, reject with a reason code, or abort for
//! quality. The checklist and the stills are checked here, on the server; approval issues
//! the registration and the activation code in the same transaction as the decision and its
//! audit event, through the call's lifecycle (`signaling::calls::Lifecycle::decide`), which
//! also tells both sides.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use scheduler::REQUEUE_PRIORITY;
use serde::{Deserialize, Serialize};
use signaling::SignalingState;
use signaling::outcome::CallOutcome;
use store::{NewAuditEvent, NewDecision, NewRegistration, NewReview, Outcome, Recorded, secrets};

use super::openapi::StaffRefusals;
use crate::auth::{AgentsOnly, Staff};
use crate::checklist::{Missing, Reason, VerificationRules};
use crate::refusal::{ErrorBody, Refusal, console_request, own_call};
use crate::second_review::{Approval, draw};
use crate::{ConsoleState, Error};
use signaling::activation::ActivationCode;

/// Checklist ids a request may carry.
const MAX_TICKS: usize = 64;
/// Longest free note, in characters.
const MAX_NOTE: usize = 2000;

/// What the console sends.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `approve`, `reject` or `abort`.
    #[schema(example = "approve")]
    decision: String,
    /// Ticked checklist item ids.
    #[serde(default)]
    checklist: Vec<String>,
    /// The reason code (reject, abort).
    #[serde(default)]
    reason: Option<String>,
    /// A free note.
    #[serde(default)]
    note: Option<String>,
}

/// A decision request checked on its own, before the call is read.
struct Asked<'a> {
    outcome: Outcome,
    /// The reason from the rules' list (reject, abort).
    reason: Option<&'a Reason>,
    checklist: Vec<String>,
    note: String,
}

/// Checks what the request asks for: sizes, a known decision, and a reason from the list
/// for a rejection or an abort.
fn asked(rules: &VerificationRules, req: DecisionRequest) -> Result<Asked<'_>, Refusal> {
    let note = req.note.unwrap_or_default();
    if req.checklist.len() > MAX_TICKS || note.chars().count() > MAX_NOTE {
        return Err(Refusal::json(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_long",
            "La nota o la lista son demasiado largas. / The note or the list is too long.",
        ));
    }
    let outcome = match req.decision.as_str() {
        "approve" => Outcome::Approved,
        "reject" => Outcome::Rejected,
        "abort" => Outcome::Aborted,
        _ => {
            return Err(Refusal::json(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_decision",
                "Decisión desconocida. / Unknown decision.",
            ));
        }
    };
    let reason = match outcome {
        Outcome::Approved => None,
        Outcome::Rejected => req.reason.as_deref().and_then(|r| rules.reject_reason(r)),
        Outcome::Aborted => req.reason.as_deref().and_then(|r| rules.abort_reason(r)),
    };
    if outcome != Outcome::Approved && reason.is_none() {
        return Err(Refusal::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason_required",
            "Elija un motivo de la lista. / Choose a reason from the list.",
        ));
    }
    Ok(Asked {
        outcome,
        reason,
        checklist: req.checklist,
        note,
    })
}

/// Writes the decision through the call's lifecycle: one store transaction (with the
/// registration and activation code for an approval, the agent's wrap-up, and their audit
/// events), then both sides told; refused when the store finds the call ended or the ID
/// number registered. Returns what an approval issued.
async fn record(
    state: &ConsoleState,
    signaling: &SignalingState,
    staff: &Staff<AgentsOnly>,
    t: &store::Ticket,
    asked: &Asked<'_>,
    stills: &[store::Still],
    ticked: &[String],
) -> Result<Option<Issued>, Error> {
    let ticket_id = t.id.as_str();
    let Asked {
        outcome,
        reason,
        note,
        ..
    } = asked;
    let outcome = *outcome;
    let now = state.clock.now();
    let issued = match outcome {
        Outcome::Approved => Some(Issued::new(now + state.verification.activation_ttl)?),
        _ => None,
    };
    let registration_id = issued.as_ref().map(|i| i.registration_id.clone());
    let decision_id = secrets::new_id()?;
    let checklist = serde_json::to_string(&ticked).unwrap_or_else(|_| "[]".into());
    let reason_code = reason.map(|r| r.code.as_str());
    let mut detail = serde_json::json!({
        "decision": decision_id,
        "outcome": outcome.as_str(),
        "reason": reason_code,
        "checklist": ticked,
        "stills": stills.iter().map(|s| serde_json::json!({ "kind": s.kind.as_str(), "sha256": s.sha256 })).collect::<Vec<_>>(),
        "registration": registration_id,
        "note": note,
    });
    // The decision says when the call's recording (running here) will be incomplete.
    if let Some(why) = signaling::calls::recording_trouble(signaling, ticket_id) {
        detail["recording"] = serde_json::json!({ "complete": false, "reason": why.to_string() });
    }
    let review = match outcome {
        Outcome::Approved => sampled_for_review(state, signaling, staff, t, now).await?,
        _ => None,
    };
    if let Some(why) = review {
        detail["review"] = serde_json::json!({ "sampled_for": why });
    }
    let action = format!("decision.{}", outcome.as_str());
    let told = told(issued.as_ref(), *reason, outcome);
    // The call's life: the decision, the ticket's end (or requeue), the agent's wrap-up and
    // their audit events in one transaction, then telemetry, media and both sides told.
    let recorded = signaling
        .lifecycle()
        .decide(
            &NewDecision {
                id: &decision_id,
                ticket_id,
                agent_id: &staff.user.id,
                outcome,
                reason: reason_code,
                note,
                checklist: &checklist,
                registration: issued.as_ref().map(Issued::registration),
                review: review.map(|sampled_for| NewReview { sampled_for }),
                requeue_priority: REQUEUE_PRIORITY,
                at: now,
            },
            &NewAuditEvent {
                at: now,
                actor: &staff.user.id,
                action: &action,
                subject: ticket_id,
                detail: &detail.to_string(),
            },
            told,
        )
        .await?;
    refuse_unrecorded(recorded)?;
    Ok(issued)
}

/// Whether this approval goes to a second reviewer, and why (see
/// [`crate::second_review::ReviewPolicy`]).
async fn sampled_for_review(
    state: &ConsoleState,
    signaling: &SignalingState,
    staff: &Staff<AgentsOnly>,
    t: &store::Ticket,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<&'static str>, Error> {
    let earlier_approvals = state.store.approvals_by(&staff.user.id, now).await?;
    let test_call = super::call::test_call(state, t).await?;
    let verdict = test_call
        .as_ref()
        .and_then(|t| t["verdict"].as_str().map(str::to_owned));
    let approval = Approval {
        earlier_approvals,
        test_call_verdict: verdict.as_deref(),
        call_poor: signaling::calls::citizen_side_poor(signaling, &t.id)
            .await
            .unwrap_or(false),
        draw: draw().map_err(|e| Error::Internal(format!("random source: {e}")))?,
    };
    Ok(state.verification.review.sampled_for(&approval))
}

/// What the citizen is told of the decision.
fn told(issued: Option<&Issued>, reason: Option<&Reason>, outcome: Outcome) -> CallOutcome {
    match (issued, reason) {
        (Some(i), _) => CallOutcome::Approved {
            registration: i.registration_id.clone(),
            activation_code: i.code.to_string(),
            code_expires_at: i.expires_at,
        },
        (None, Some(r)) if outcome == Outcome::Rejected => CallOutcome::Rejected {
            reason: r.code.clone(),
            message_es: r.citizen.es.clone(),
            message_en: r.citizen.en.clone(),
        },
        (None, r) => CallOutcome::Aborted {
            reason: r.map(|r| r.code.clone()).unwrap_or_default(),
        },
    }
}

/// Refuses a decision the store did not record: the call had ended, or the ID number is
/// already registered.
fn refuse_unrecorded(recorded: Recorded) -> Result<(), Refusal> {
    match recorded {
        Recorded::Done { .. } => Ok(()),
        Recorded::NotInCall => Err(Refusal::json(
            StatusCode::CONFLICT,
            "not_in_call",
            "La llamada ya terminó. / The call has already ended.",
        )),
        Recorded::AlreadyRegistered => Err(Refusal::json(
            StatusCode::CONFLICT,
            "already_registered",
            "Este DNI/NIE ya tiene un registro; no se puede aprobar otra vez. / This ID number is already registered; it cannot be approved again.",
        )),
    }
}

/// What a recorded decision answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionRecorded {
    /// `approved`, `rejected` or `aborted`.
    #[schema(example = "approved")]
    outcome: &'static str,
    /// The registration an approval issued.
    registration: Option<String>,
}

/// Records the agent's decision on the call they are in.
#[utoipa::path(
    post,
    path = "/staff/calls/{ticket}/decision",
    tag = "console",
    operation_id = "decide",
    security(("staff_session" = [], "csrf" = [])),
    params(("ticket" = String, Path, description = "The ticket of the agent's call")),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "Recorded; both sides are told", body = DecisionRecorded),
        (status = 400, description = "`invalid_path` (the path is not UTF-8) or `invalid_body` (not JSON)", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an agent) or `csrf` (no matching `X-CSRF-Token`) (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 409, description = "`not_in_call` (not this agent's call, or it ended) or `already_registered`", body = ErrorBody),
        (status = 413, description = "`body_too_large`, or `too_long` (the note or the checklist)", body = ErrorBody),
        (status = 415, description = "`invalid_body`: not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`invalid_body` (not the fields), `unknown_decision`, `reason_required`, or `checklist_incomplete` with `missing` (items, groups, stills, or `challenge`: no live-person challenge passed)", body = ErrorBody),
        StaffRefusals,
    )
)]
pub async fn decide(
    State(state): State<ConsoleState>,
    State(signaling): State<SignalingState>,
    staff: Staff<AgentsOnly>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<DecisionRequest>, JsonRejection>,
) -> Result<Response, Error> {
    let (ticket, req) = console_request(
        &staff.session,
        path,
        &headers,
        body,
        "La petición debe ser JSON con el campo decision. / The request must be JSON with a decision field.",
    )?;
    let rules = &state.verification.rules;
    let asked = asked(rules, req)?;
    let t = own_call(&state, &staff.user.id, Some(&ticket), false).await?;
    let stills = state.store.stills_for_ticket(&t.id).await?;
    let ticked = rules.known_ticks(&asked.checklist);
    if asked.outcome == Outcome::Approved {
        let kinds: Vec<_> = stills.iter().map(|s| s.kind).collect();
        let mut missing = rules.missing_for_approval(&ticked, &kinds);
        if state.verification.liveness.required
            && !challenge_passed(&state, &t, &staff.user.id).await?
        {
            missing.push(Missing::Challenge);
        }
        if !missing.is_empty() {
            return Err(Refusal::json(
                StatusCode::UNPROCESSABLE_ENTITY,
                "checklist_incomplete",
                "Faltan comprobaciones o imágenes. / Checks or stills are missing.",
            )
            .with_missing(missing)
            .into());
        }
    }
    let issued = record(&state, &signaling, &staff, &t, &asked, &stills, &ticked).await?;
    let registration_id = issued.as_ref().map(|i| i.registration_id.clone());
    let outcome = asked.outcome;
    tracing::info!(agent = %staff.user.name, ticket = %t.id, outcome = outcome.as_str(), "decision recorded");
    let body = DecisionRecorded {
        outcome: outcome.as_str(),
        registration: registration_id,
    };
    Ok(Json(body).into_response())
}

/// Whether `agent` has a live-person challenge passed in this call (since it started).
pub(crate) async fn challenge_passed(
    state: &ConsoleState,
    t: &store::Ticket,
    agent: &str,
) -> Result<bool, Error> {
    let since = t.answered_at.or(t.offered_at).unwrap_or(t.joined_at);
    Ok(state.store.challenge_passed(&t.id, agent, since).await?)
}

/// What an approval issues: a registration reference and a fresh activation code.
struct Issued {
    registration_id: String,
    code_id: String,
    code: ActivationCode,
    code_hash: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

impl Issued {
    fn new(expires_at: chrono::DateTime<chrono::Utc>) -> Result<Self, Error> {
        let code = ActivationCode::generate().map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Self {
            registration_id: secrets::new_id()?,
            code_id: secrets::new_id()?,
            code_hash: code.hash(),
            code,
            expires_at,
        })
    }

    /// As the store writes it.
    fn registration(&self) -> NewRegistration<'_> {
        NewRegistration {
            id: &self.registration_id,
            code_id: &self.code_id,
            code_hash: &self.code_hash,
            code_expires_at: self.expires_at,
        }
    }
}
