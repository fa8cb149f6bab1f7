//! The live-person check from the console: `POST /staff/calls/{ticket}/challenge` issues a
//! fresh code and action (shown on the citizen's page at once), and
//! `POST /staff/calls/{ticket}/challenge/{id}/heard` is the agent confirming the citizen said
//! the code aloud. The rules (single use, expiry, never reused in a call) are
//! `signaling::liveness`'s; approval checks the outcome on the server (`decision`).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signaling::SignalingState;
use signaling::liveness::{self, Action, Ask, Settled};

use super::openapi::StaffRefusals;
use crate::auth::{AgentsOnly, Staff, csrf_header_ok};
use crate::checklist::Label;
use crate::refusal::{ErrorBody, Refusal, console_request, own_call};
use crate::{ConsoleState, Error};

/// What the console may send when issuing.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// The language of a two-word code, `es` (default) or `en`: the language the agent and
    /// the citizen speak.
    #[serde(default)]
    #[schema(example = "es")]
    language: Option<String>,
}

/// An issued challenge, as the console shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChallengeIssued {
    /// Its id.
    challenge: String,
    /// The code the citizen must type or say.
    #[schema(example = "482915")]
    code: String,
    /// The action's id.
    action_id: String,
    /// What the citizen is asked to do.
    #[schema(value_type = Object)]
    action: Label,
    /// When it stops being answerable (RFC 3339, UTC).
    #[schema(format = DateTime)]
    expires_at: String,
    /// Seconds it may be answered.
    expires_in_secs: i64,
    /// Whether the citizen may type it.
    typed: bool,
    /// Whether the agent may confirm a spoken code.
    spoken: bool,
}

/// Issues a live-person challenge in the agent's call; any live one is replaced.
#[utoipa::path(
    post,
    path = "/staff/calls/{ticket}/challenge",
    tag = "console",
    operation_id = "issueChallenge",
    security(("staff_session" = [], "csrf" = [])),
    params(("ticket" = String, Path, description = "The ticket of the agent's call")),
    request_body = ChallengeRequest,
    responses(
        (status = 201, description = "Issued, and shown on the citizen's page", body = ChallengeIssued),
        (status = 400, description = "`invalid_path` or `invalid_body`", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an agent) or `csrf` (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 409, description = "`not_in_call`: not this agent's call, or it ended", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 415, description = "`invalid_body`: not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`invalid_body` or `unknown_language`", body = ErrorBody),
        StaffRefusals,
    )
)]
pub async fn issue(
    State(state): State<ConsoleState>,
    State(signaling): State<SignalingState>,
    staff: Staff<AgentsOnly>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<ChallengeRequest>, JsonRejection>,
) -> Result<Response, Error> {
    let (ticket, req) = console_request(
        &staff.session,
        path,
        &headers,
        body,
        "La petición debe ser JSON. / The request must be JSON.",
    )?;
    let english = match req.language.as_deref() {
        None | Some("es") => false,
        Some("en") => true,
        Some(_) => {
            return Err(Refusal::json(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_language",
                "El idioma debe ser es o en. / The language must be es or en.",
            )
            .into());
        }
    };
    let t = own_call(&state, &staff.user.id, Some(&ticket), false).await?;
    let policy = state.verification.liveness;
    let rules = &state.verification.rules.liveness_actions;
    let actions: Vec<Action<'_>> = rules
        .iter()
        .map(|a| Action {
            id: &a.id,
            es: &a.label.es,
            en: &a.label.en,
        })
        .collect();
    let ask = Ask {
        ticket: &t.id,
        agent: &staff.user.id,
        actions: &actions,
        answer: policy.answer,
        code: policy.code,
        english,
        ttl: policy.ttl,
    };
    let issued = liveness::issue(&signaling, &ask, state.clock.now()).await?;
    let action = &rules[issued.action];
    tracing::info!(agent = %staff.user.name, ticket = %t.id, action = %action.id, "liveness challenge issued");
    let body = ChallengeIssued {
        challenge: issued.id,
        code: issued.code,
        action_id: action.id.clone(),
        action: action.label.clone(),
        expires_at: issued.expires_at.to_rfc3339(),
        expires_in_secs: policy.ttl.num_seconds(),
        typed: policy.answer.typed(),
        spoken: policy.answer.spoken(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A challenge confirmed as heard.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChallengeHeard {
    /// `passed`.
    #[schema(example = "passed")]
    result: &'static str,
}

/// The agent heard the citizen say the code: the challenge passes while it is live.
#[utoipa::path(
    post,
    path = "/staff/calls/{ticket}/challenge/{id}/heard",
    tag = "console",
    operation_id = "challengeHeard",
    security(("staff_session" = [], "csrf" = [])),
    params(
        ("ticket" = String, Path, description = "The ticket of the agent's call"),
        ("id" = String, Path, description = "The challenge"),
    ),
    responses(
        (status = 200, description = "Passed; the citizen's page is told", body = ChallengeHeard),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an agent) or `csrf` (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 409, description = "`not_in_call`, or `challenge_used` (settled, replaced or not this call's)", body = ErrorBody),
        (status = 410, description = "`challenge_expired`: issue a new one", body = ErrorBody),
        (status = 422, description = "`spoken_not_allowed`: this service takes typed codes only", body = ErrorBody),
        StaffRefusals,
    )
)]
pub async fn heard(
    State(state): State<ConsoleState>,
    State(signaling): State<SignalingState>,
    staff: Staff<AgentsOnly>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let Ok(Path((ticket, id))) = path else {
        return Err(Refusal::unreadable_path().into());
    };
    if !csrf_header_ok(&headers, &staff.session) {
        return Err(Refusal::invalid_session().into());
    }
    let t = own_call(&state, &staff.user.id, Some(&ticket), false).await?;
    match liveness::heard(&signaling, &t.id, &staff.user.id, &id).await? {
        Settled::Passed => Ok(Json(ChallengeHeard { result: "passed" }).into_response()),
        Settled::Expired => Err(Refusal::json(
            StatusCode::GONE,
            "challenge_expired",
            "El reto ha caducado; emita otro. / The challenge has expired; issue a new one.",
        )
        .into()),
        Settled::NotAllowed => Err(Refusal::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            "spoken_not_allowed",
            "Este servicio solo admite códigos escritos. / This service takes typed codes only.",
        )
        .into()),
        Settled::Used | Settled::Failed | Settled::WrongCode(_) => Err(Refusal::json(
            StatusCode::CONFLICT,
            "challenge_used",
            "Ese reto ya no está activo. / That challenge is no longer live.",
        )
        .into()),
    }
}
