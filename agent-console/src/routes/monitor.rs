//! Silent monitoring from the supervisors' dashboard: `POST /supervisor/calls/{ticket}/monitor`
//! answers the supervisor's browser's offer with a receive-only monitor of the call,
//! `…/monitor/{id}/stop` ends it, and `…/whisper` sends the agent a private hint. The rules
//! (audit, the agent's notice, a monitor never disturbing the call) are
//! `signaling::monitoring`'s.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signaling::SignalingState;
use signaling::monitoring::{self, MAX_WHISPER, Refused};
use signaling::protocol::SessionDescription;

use super::openapi::StaffRefusals;
use crate::Error;
use crate::auth::{Staff, SupervisorsOnly, csrf_header_ok};
use crate::refusal::{ErrorBody, Refusal, console_request};

/// The supervisor's browser's offer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorRequest {
    /// Its offer, receive-only (two video and two audio transceivers), with its ICE
    /// candidates gathered.
    #[schema(value_type = Object)]
    offer: SessionDescription,
}

/// A started monitor.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MonitorStarted {
    /// Its id in the call (to stop it).
    monitor: u64,
    /// videoreg's answer (its candidate included). The first video and audio tracks are
    /// the citizen's, the second the agent's.
    #[schema(value_type = Object)]
    answer: SessionDescription,
}

fn refused(status: StatusCode, code: &'static str, message: &'static str) -> Error {
    Refusal::json(status, code, message).into()
}

/// Starts watching a live call.
#[utoipa::path(
    post,
    path = "/supervisor/calls/{ticket}/monitor",
    tag = "supervision",
    operation_id = "startMonitor",
    security(("staff_session" = [], "csrf" = [])),
    params(("ticket" = String, Path, description = "The call's ticket")),
    request_body = MonitorRequest,
    responses(
        (status = 201, description = "Watching; the agent is told (unless the notice is off)", body = MonitorStarted),
        (status = 400, description = "`invalid_path` or `invalid_body`", body = ErrorBody),
        (status = 403, description = "`forbidden` (not a supervisor) or `csrf` (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 409, description = "`not_in_call` (no such call in progress) or `call_elsewhere` (the call runs on another node)", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 415, description = "`invalid_body`: not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`invalid_body`, or `bad_offer` (not an offer the forwarder can answer, or the call has the most monitors it takes)", body = ErrorBody),
        StaffRefusals,
    )
)]
pub async fn start(
    State(signaling): State<SignalingState>,
    staff: Staff<SupervisorsOnly>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<MonitorRequest>, JsonRejection>,
) -> Result<Response, Error> {
    let (ticket, req) = console_request(
        &staff.session,
        path,
        &headers,
        body,
        "La petición debe ser JSON con la oferta. / The request must be JSON with the offer.",
    )?;
    match monitoring::start(&signaling, &ticket, &staff.user.id, req.offer).await? {
        Ok(started) => Ok((
            StatusCode::CREATED,
            Json(MonitorStarted {
                monitor: started.monitor,
                answer: started.answer,
            }),
        )
            .into_response()),
        Err(Refused::NotInCall) => Err(refused(
            StatusCode::CONFLICT,
            "not_in_call",
            "Esa llamada no está en curso. / That call is not in progress.",
        )),
        Err(Refused::Elsewhere) => Err(refused(
            StatusCode::CONFLICT,
            "call_elsewhere",
            "La llamada se atiende en otro servidor; vuelva a intentarlo desde el panel. / The call runs on another server; try again from the dashboard.",
        )),
        Err(Refused::BadOffer(why)) => {
            tracing::debug!(%why, "monitor offer refused");
            Err(refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_offer",
                "No se pudo abrir la vista de la llamada. / The call view could not be opened.",
            ))
        }
    }
}

/// A stopped monitor.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MonitorStopped {
    /// `true`.
    stopped: bool,
}

/// Stops watching.
#[utoipa::path(
    post,
    path = "/supervisor/calls/{ticket}/monitor/{id}/stop",
    tag = "supervision",
    operation_id = "stopMonitor",
    security(("staff_session" = [], "csrf" = [])),
    params(
        ("ticket" = String, Path, description = "The call's ticket"),
        ("id" = u64, Path, description = "The monitor"),
    ),
    responses(
        (status = 200, description = "Stopped; its end is audited and the agent told", body = MonitorStopped),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 403, description = "`forbidden` (not a supervisor) or `csrf` (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 404, description = "`no_monitor`: not this supervisor's monitor of that call (or it ended)", body = ErrorBody),
        StaffRefusals,
    )
)]
pub async fn stop(
    State(signaling): State<SignalingState>,
    staff: Staff<SupervisorsOnly>,
    path: Result<Path<(String, u64)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let Ok(Path((ticket, id))) = path else {
        return Err(Refusal::unreadable_path().into());
    };
    if !csrf_header_ok(&headers, &staff.session) {
        return Err(Refusal::invalid_session().into());
    }
    if !monitoring::stop(&signaling, &ticket, &staff.user.id, id).await? {
        return Err(refused(
            StatusCode::NOT_FOUND,
            "no_monitor",
            "No está viendo esa llamada. / You are not watching that call.",
        ));
    }
    Ok(Json(MonitorStopped { stopped: true }).into_response())
}

/// A hint for the agent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhisperRequest {
    /// The hint, 1 to 280 characters.
    #[schema(example = "Ask them to tilt the document towards the light.")]
    text: String,
}

/// A sent hint.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WhisperSent {
    /// `true`.
    sent: bool,
}

/// Sends the agent in a call a private text hint.
#[utoipa::path(
    post,
    path = "/supervisor/calls/{ticket}/whisper",
    tag = "supervision",
    operation_id = "whisper",
    security(("staff_session" = [], "csrf" = [])),
    params(("ticket" = String, Path, description = "The call's ticket")),
    request_body = WhisperRequest,
    responses(
        (status = 200, description = "Sent to the agent's console, and audited", body = WhisperSent),
        (status = 400, description = "`invalid_path` or `invalid_body`", body = ErrorBody),
        (status = 403, description = "`forbidden` (not a supervisor) or `csrf` (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 409, description = "`not_in_call`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 415, description = "`invalid_body`: not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`invalid_body`, or `bad_text` (empty or longer than 280 characters)", body = ErrorBody),
        StaffRefusals,
    )
)]
pub async fn whisper(
    State(signaling): State<SignalingState>,
    staff: Staff<SupervisorsOnly>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<WhisperRequest>, JsonRejection>,
) -> Result<Response, Error> {
    let (ticket, req) = console_request(
        &staff.session,
        path,
        &headers,
        body,
        "La petición debe ser JSON con el texto. / The request must be JSON with the text.",
    )?;
    let text = req.text.trim();
    if text.is_empty() || text.chars().count() > MAX_WHISPER {
        return Err(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_text",
            "Escriba entre 1 y 280 caracteres. / Write 1 to 280 characters.",
        ));
    }
    let sent =
        monitoring::whisper(&signaling, &ticket, &staff.user.id, &staff.user.name, text).await?;
    if !sent {
        return Err(refused(
            StatusCode::CONFLICT,
            "not_in_call",
            "Esa llamada no está en curso. / That call is not in progress.",
        ));
    }
    Ok(Json(WhisperSent { sent: true }).into_response())
}
