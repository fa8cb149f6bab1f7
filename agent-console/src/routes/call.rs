//! The agent's current call: its details as JSON for the console, document stills uploaded
//! from the console (checked and re-encoded off the runtime), and still images for the agent
//! whose call it is and for auditors.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use store::{NewAuditEvent, NewStill, StaffRole, StillKind, secrets};

use super::openapi::StaffRefusals;
use crate::auth::{AgentsOnly, Staff, StillRead, csrf_header_ok};
use crate::refusal::{ErrorBody, Refusal, own_call};
use crate::still_quality::Verdict;
use crate::stills::{ProcessedStill, StillError, process};
use crate::{ConsoleState, Error};

/// A stored still.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StillInfo {
    /// Its id (`/staff/stills/{id}` serves it).
    id: String,
    /// `document_front`, `document_back` or `face`.
    #[schema(example = "document_front")]
    kind: &'static str,
    /// Width in pixels, as stored (re-encoded).
    width: u32,
    /// Height in pixels.
    height: u32,
    /// SHA-256 of the stored JPEG, hex.
    sha256: String,
    /// Sharpness, glare and their verdict (`good`, `blurred`, `glare`); absent for stills
    /// stored before they were measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    quality: Option<QualityInfo>,
}

/// A still's measured quality.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct QualityInfo {
    /// Variance of the Laplacian: higher is sharper.
    sharpness: u32,
    /// Blown-out pixels, per mille.
    glare_per_mille: u32,
    /// `good`, `blurred` or `glare`.
    #[schema(example = "good")]
    verdict: &'static str,
}

impl QualityInfo {
    fn of(q: store::StillQuality) -> Self {
        Self {
            sharpness: q.sharpness,
            glare_per_mille: q.glare_per_mille,
            verdict: Verdict::of(q).as_str(),
        }
    }
}

/// The identity registry's record of the citizen.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Registry {
    /// Name as registered.
    full_name: String,
    /// `dni` or `nie`.
    #[schema(example = "dni")]
    kind: &'static str,
    /// `YYYY-MM-DD`.
    birth_date: Option<String>,
    /// A DNI's validity date, `YYYY-MM-DD` (none for a permanent one).
    valid_until: Option<String>,
    /// A DNI's issue date, `YYYY-MM-DD`.
    issued_on: Option<String>,
    /// A NIE's support number.
    support_number: Option<String>,
}

/// What the agent needs to verify the citizen they hold.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CallDetails {
    /// The ticket (the path of the stills and decision calls).
    ticket: String,
    /// `offered` or `in_call`.
    #[schema(example = "in_call")]
    status: &'static str,
    /// The citizen's ID number.
    id_number: String,
    /// When the citizen joined the queue (RFC 3339, UTC).
    #[schema(format = DateTime)]
    joined_at: String,
    /// How long the citizen waited, in seconds.
    waited_secs: i64,
    /// The registry's record, if any.
    registry: Option<Registry>,
    /// The test call's result as the citizen's browser measured it.
    #[schema(value_type = Option<Object>)]
    test_call: Option<serde_json::Value>,
    /// Whether the ID number already has a registration (an approval would be refused).
    already_registered: bool,
    /// The stills taken so far.
    stills: Vec<StillInfo>,
    /// Whether a live-person challenge has passed in this call.
    challenge_passed: bool,
}

/// `GET /staff/console/call`: what the agent needs to verify the citizen they hold
/// (offered or in the call).
#[utoipa::path(
    get,
    path = "/staff/console/call",
    tag = "console",
    operation_id = "console_call",
    security(("staff_session" = [])),
    responses(
        (status = 200, description = "The call's details", body = CallDetails,
            links(
                ("upload_still" = (operation_id = "upload_still",
                    parameters(("ticket" = "$response.body#/ticket")))),
                ("decide" = (operation_id = "decide",
                    parameters(("ticket" = "$response.body#/ticket")))),
            )),
        (status = 403, description = "`forbidden`: not an agent (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 409, description = "`not_in_call`: the agent holds no call", body = ErrorBody),
        StaffRefusals,
    )
)]
pub async fn details(
    State(state): State<ConsoleState>,
    staff: Staff<AgentsOnly>,
) -> Result<Response, Error> {
    let t = own_call(&state, &staff.user.id, None, true).await?;
    let now = state.clock.now();
    let registry = state
        .store
        .find_identity(&t.id_number)
        .await?
        .map(|r| Registry {
            full_name: r.full_name,
            kind: match r.kind {
                store::IdentityKind::Dni => "dni",
                store::IdentityKind::Nie => "nie",
            },
            birth_date: r.birth_date,
            valid_until: r.valid_until,
            issued_on: r.issued_on,
            support_number: r.support_number,
        });
    let test_call = test_call(&state, &t).await?;
    let stills = state
        .store
        .stills_for_ticket(&t.id)
        .await?
        .into_iter()
        .map(|s| StillInfo {
            id: s.id,
            kind: s.kind.as_str(),
            width: s.width,
            height: s.height,
            sha256: s.sha256,
            quality: s.quality.map(QualityInfo::of),
        })
        .collect();
    let details = CallDetails {
        status: t.status.as_str(),
        id_number: t.id_number.clone(),
        joined_at: t
            .joined_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        waited_secs: (t.answered_at.or(t.offered_at).unwrap_or(now) - t.joined_at)
            .num_seconds()
            .max(0),
        registry,
        test_call,
        already_registered: state.store.registration_for(&t.id_number).await?.is_some(),
        stills,
        challenge_passed: super::decision::challenge_passed(&state, &t, &staff.user.id).await?,
        ticket: t.id,
    };
    Ok(Json(details).into_response())
}

/// The test-call result the call's application carried (JSON), if any.
pub(super) async fn test_call(
    state: &ConsoleState,
    t: &store::Ticket,
) -> Result<Option<serde_json::Value>, Error> {
    Ok(state
        .store
        .application(&t.application_id)
        .await?
        .and_then(|a| a.test_call)
        .and_then(|json| serde_json::from_str(&json).ok()))
}

/// `POST /staff/calls/{ticket}/stills/{kind}`: the body is the PNG or JPEG the console
/// captured from the citizen's video.
#[utoipa::path(
    post,
    path = "/staff/calls/{ticket}/stills/{kind}",
    tag = "console",
    operation_id = "upload_still",
    security(("staff_session" = [], "csrf" = [])),
    params(
        ("ticket" = String, Path, description = "The ticket of the agent's call"),
        ("kind" = String, Path, description = "`document_front`, `document_back` or `face`"),
    ),
    request_body(description = "The still, PNG or JPEG (checked, then re-encoded as JPEG)",
        content(("image/png"), ("image/jpeg"))),
    responses(
        (status = 201, description = "Stored", body = StillInfo),
        (status = 400, description = "`invalid_path` (the path is not UTF-8) or `invalid_body` (the body could not be read)", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an agent) or `csrf` (no matching `X-CSRF-Token`) (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 404, description = "`unknown_kind`", body = ErrorBody),
        (status = 409, description = "`not_in_call`: the agent is not in this call", body = ErrorBody),
        (status = 413, description = "`body_too_large`, or `bad_image` too many pixels", body = ErrorBody),
        (status = 422, description = "`bad_image`: not an acceptable PNG or JPEG", body = ErrorBody),
        StaffRefusals,
    )
)]
pub async fn upload(
    State(state): State<ConsoleState>,
    staff: Staff<AgentsOnly>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    let Ok(Path((ticket, kind))) = path else {
        return Err(Refusal::unreadable_path().into());
    };
    let body = body.map_err(|rejection| {
        Refusal::unreadable_body(
            rejection.status(),
            "No se pudo leer la imagen. / The image could not be read.",
        )
    })?;
    if !csrf_header_ok(&headers, &staff.session) {
        return Err(Refusal::invalid_session().into());
    }
    let Some(kind) = StillKind::parse(&kind) else {
        return Err(Refusal::json(
            StatusCode::NOT_FOUND,
            "unknown_kind",
            "Tipo de imagen desconocido. / Unknown still kind.",
        )
        .into());
    };
    let t = own_call(&state, &staff.user.id, Some(&ticket), false).await?;
    let p = checked_still(&state, &staff, body).await?;
    let id = secrets::new_id()?;
    let sha256 = secrets::sha256_hex(&p.image);
    let now = state.clock.now();
    let detail = serde_json::json!({ "still": id, "kind": kind.as_str(), "sha256": sha256, "width": p.width, "height": p.height, "sharpness": p.quality.sharpness, "glare_per_mille": p.quality.glare_per_mille });
    state
        .store
        .insert_still(
            &NewStill {
                id: &id,
                ticket_id: &t.id,
                kind,
                agent_id: &staff.user.id,
                width: p.width,
                height: p.height,
                sha256: &sha256,
                image: &p.image,
                thumbnail: &p.thumbnail,
                quality: Some(p.quality),
                at: now,
            },
            &NewAuditEvent {
                at: now,
                actor: &staff.user.id,
                action: "still.captured",
                subject: &t.id,
                detail: &detail.to_string(),
            },
        )
        .await?;
    let info = StillInfo {
        id,
        kind: kind.as_str(),
        width: p.width,
        height: p.height,
        sha256,
        quality: Some(QualityInfo::of(p.quality)),
    };
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

/// The uploaded image checked and re-encoded off the runtime; refused with `413` or
/// `422 bad_image` when it is not an acceptable PNG or JPEG.
async fn checked_still(
    state: &ConsoleState,
    staff: &Staff<AgentsOnly>,
    body: Bytes,
) -> Result<ProcessedStill, Error> {
    let limits = state.verification.stills.clone();
    let processed = tokio::task::spawn_blocking(move || process(&body, &limits))
        .await
        .map_err(|e| Error::Internal(format!("still processing task failed: {e}")))?;
    processed.map_err(|e| {
        let status = match e {
            StillError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            StillError::Encode(_) => return Error::Internal(e.to_string()),
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        tracing::info!(agent = %staff.user.name, error = %e, "still refused");
        Refusal::json(
            status,
            "bad_image",
            format!("Imagen rechazada / Image refused: {e}"),
        )
        .into()
    })
}

/// `GET /staff/stills/{id}` and `/staff/stills/{id}/thumbnail`.
pub async fn image(
    state: State<ConsoleState>,
    staff: Staff<StillRead>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    // An id that is not even UTF-8 names no still: the empty id finds none.
    let id = id.map(|Path(id)| id).unwrap_or_default();
    serve_still(state, staff, id, false).await
}

/// The thumbnail.
pub async fn thumbnail(
    state: State<ConsoleState>,
    staff: Staff<StillRead>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    // An id that is not even UTF-8 names no still: the empty id finds none.
    let id = id.map(|Path(id)| id).unwrap_or_default();
    serve_still(state, staff, id, true).await
}

async fn serve_still(
    State(state): State<ConsoleState>,
    staff: Staff<StillRead>,
    id: String,
    thumbnail: bool,
) -> Result<Response, Error> {
    let not_found = || -> Error {
        Refusal::json(
            StatusCode::NOT_FOUND,
            "not_found",
            "No existe. / Not found.",
        )
        .into()
    };
    let Some((still, bytes)) = state.store.still_bytes(&id, thumbnail).await? else {
        return Err(not_found());
    };
    if staff.user.role == StaffRole::Agent {
        // Agents see the stills of the call they are in, and reviewers those of the
        // approvals they review; nothing else.
        let held = state.store.current_ticket_for_agent(&staff.user.id).await?;
        if held.is_none_or(|t| t.id != still.ticket_id)
            && !crate::auth::may_review(&state.store, &staff.user, &still.ticket_id).await?
        {
            return Err(not_found());
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response())
}
