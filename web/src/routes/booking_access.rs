//! A booking from elsewhere and at its time: found with the reference and the ID number
//! (from another browser; attempts limited per address), checked in at the slot (a fresh
//! application to join the queue with, after a short test call when the last one is older
//! than 30 minutes), and the calendar file.

use agent_console::throttle::{self, Admission, Limit};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::TimeDelta;
use scheduler::booking::{Arrival, arrival};
use serde::{Deserialize, Serialize};
use signaling::client_addr::ClientAddr;
use store::{NewAuditEvent, ThrottleScope, secrets};

use super::bookings::{BookingView, browser_booking, rfc3339, when, with_cookie};
use super::{invalid_body, too_many_attempts};
use crate::Error;
use crate::booking::{BookingReference, ics};
use crate::citizen::limits::ATTEMPTS;
use crate::identity::{DniNie, issue_application};
use crate::state::AppState;
use agent_console::i18n::Lang;
use agent_console::refusal::ErrorBody;

/// A test call older than this is done again before checking in.
const TEST_CALL_FRESH: TimeDelta = TimeDelta::minutes(30);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/bookings/find", post(find))
        .route("/api/v1/bookings/mine/check-in", post(check_in))
        .route("/api/v1/bookings/mine/calendar.ics", get(calendar))
}

/// The reference and the ID number it was booked for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct FindRequest {
    /// `ABCD-EFGH` (case, spaces and the dash do not matter).
    reference: String,
    /// The DNI or NIE number.
    id_number: String,
}

/// Opens a booking from this browser with its reference and ID number; the browser that
/// opened it before no longer does.
#[utoipa::path(post, path = "/api/v1/bookings/find", tag = "citizen", operation_id = "find_booking",
    request_body = FindRequest,
    responses(
        (status = 200, description = "Found; `Set-Cookie` opens it from this browser from now on (and no longer from the one before)", body = BookingView),
        (status = 400, description = "`invalid_body`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 404, description = "`not_found`: no booking with this reference for this number", body = ErrorBody),
        (status = 429, description = "`too_many_attempts` from this address", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub(crate) async fn find(
    State(state): State<AppState>,
    lang: Lang,
    ClientAddr(addr): ClientAddr,
    body: Result<Json<FindRequest>, JsonRejection>,
) -> Result<Response, Error> {
    let Json(body) = body.map_err(|r| invalid_body(lang, &r, "reference, id_number"))?;
    let now = state.clock.now();
    // Counted before it is checked; only this address is held, so nobody can keep the
    // citizen from their own booking (the reference has 40 random bits).
    let limits = [Limit {
        scope: ThrottleScope::CitizenAddress,
        subject: &addr,
        backoff: ATTEMPTS.by_address,
    }];
    match throttle::admit(&state.store, &limits, now).await? {
        Admission::Admitted(_) => {}
        Admission::Wait { until, .. } => {
            return Err(too_many_attempts(lang, (until - now).num_seconds()));
        }
        Admission::Locked { .. } => {
            return Err(too_many_attempts(
                lang,
                ATTEMPTS.by_address.cap.num_seconds(),
            ));
        }
    }
    let not_found = || {
        Error::client(
            StatusCode::NOT_FOUND,
            "not_found",
            lang.pick(
                "No hay ninguna cita con esa referencia para ese número. Revise los dos.",
                "There is no appointment with that reference for that number. Check both.",
            ),
        )
    };
    let (Some(reference), Ok(id)) = (
        BookingReference::parse(&body.reference),
        DniNie::parse(&body.id_number),
    ) else {
        return Err(not_found());
    };
    let found = state.store.booking_by_reference(reference.as_str()).await?;
    let Some(b) =
        found.filter(|b| secrets::constant_time_eq(b.id_number.as_bytes(), id.as_str().as_bytes()))
    else {
        return Err(not_found());
    };
    throttle::succeeded(&state.store, &limits).await?;
    let (token, browser_hash) = secrets::new_token()?;
    let detail = serde_json::json!({ "client_addr": addr }).to_string();
    let event = NewAuditEvent {
        at: now,
        actor: "citizen",
        action: "booking.found",
        subject: &b.id,
        detail: &detail,
    };
    state
        .store
        .bind_booking_browser(&b.id, &browser_hash, &event)
        .await?;
    let view = BookingView::of(&state, &b, lang, now);
    Ok(with_cookie(&state, &token, &b, StatusCode::OK, view))
}

/// Checking in: a new test call's token, or none when the booking's own is recent.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct CheckInRequest {
    /// The token of a passed test call (from the test-call page).
    #[serde(default)]
    test_call: String,
}

/// What to join the queue with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CheckedIn {
    /// An application token for `/ws/citizen`'s `join`: the queue serves it at the slot.
    application: String,
    /// When the token stops being accepted.
    #[schema(format = DateTime)]
    expires_at: String,
    /// Past the grace: the citizen joins as a walk-in.
    late: bool,
}

/// Comes in for the appointment: from the check-in time, with a passed test call no older
/// than 30 minutes; gives the application token to join the queue with.
#[utoipa::path(post, path = "/api/v1/bookings/mine/check-in", tag = "citizen", operation_id = "check_in",
    request_body = CheckInRequest,
    responses(
        (status = 200, description = "Join the queue with this application", body = CheckedIn),
        (status = 400, description = "`invalid_body`: not JSON (`{}` when no test call is sent)", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 404, description = "`no_booking`", body = ErrorBody),
        (status = 409, description = "`not_live` (cancelled, kept or missed) or `too_early`", body = ErrorBody),
        (status = 422, description = "`test_call_required`: do the short test call first", body = ErrorBody),
    ))]
pub(crate) async fn check_in(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    body: Result<Json<CheckInRequest>, JsonRejection>,
) -> Result<Json<CheckedIn>, Error> {
    let Json(body) = body.map_err(|r| invalid_body(lang, &r, "test_call"))?;
    let b = browser_booking(&state, &headers, lang).await?;
    let now = state.clock.now();
    if b.status != "booked" {
        return Err(Error::client(
            StatusCode::CONFLICT,
            "not_live",
            lang.pick(
                "Esta cita ya no está activa. Puede pedir otra o entrar en la cola.",
                "This appointment is no longer live. You may book another or join the queue.",
            ),
        ));
    }
    let late = match arrival(&state.signaling.booking.rules, b.slot_at, now) {
        Arrival::TooEarly { from } => {
            return Err(Error::client(
                StatusCode::CONFLICT,
                "too_early",
                match lang {
                    Lang::Es => format!(
                        "Su cita es el {}. Puede entrar desde el {}.",
                        when(lang, b.slot_at),
                        when(lang, from)
                    ),
                    Lang::En => format!(
                        "Your appointment is on {}. You may come in from {}.",
                        when(lang, b.slot_at),
                        when(lang, from)
                    ),
                },
            ));
        }
        Arrival::InTime => false,
        Arrival::Late => true,
    };
    let test_call = match body.test_call.as_str() {
        "" if now - b.created_at <= TEST_CALL_FRESH => b.test_call.clone(),
        "" => None,
        t if t.len() <= 128 => {
            state
                .store
                .take_test_call(&secrets::hash_token(t), now)
                .await?
        }
        _ => None,
    };
    let Some(test_call) = test_call else {
        return Err(Error::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "test_call_required",
            lang.pick(
                "Antes de entrar, haga una prueba corta de cámara y conexión.",
                "Before coming in, do a short camera and connection test.",
            ),
        ));
    };
    let (issued, id) = issue_application(
        &state.store,
        &state.verify,
        &b.id_number,
        &test_call,
        &addr,
        now,
    )
    .await?;
    let detail =
        serde_json::json!({ "booking": b.id, "late": late, "client_addr": addr }).to_string();
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor: "citizen",
            action: "booking.check_in",
            subject: &id,
            detail: &detail,
        })
        .await?;
    Ok(Json(CheckedIn {
        application: issued.token,
        expires_at: rfc3339(issued.expires_at),
        late,
    }))
}

/// The appointment as a calendar file.
#[utoipa::path(get, path = "/api/v1/bookings/mine/calendar.ics", tag = "citizen", operation_id = "booking_calendar",
    responses(
        (status = 200, description = "iCalendar, times in Europe/Madrid with the zone's rules", content_type = "text/calendar"),
        (status = 404, description = "`no_booking`", body = ErrorBody),
    ))]
pub(crate) async fn calendar(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let b = browser_booking(&state, &headers, lang).await?;
    let reference = BookingReference::shown(&b.reference);
    let description = match lang {
        Lang::Es => format!(
            "Referencia de su cita: {reference}.\nTenga a mano su DNI o NIE. Desde 10 minutos antes, abra la página de su cita (/cita) en el mismo navegador, o búsquela con la referencia y su número."
        ),
        Lang::En => format!(
            "Your appointment reference: {reference}.\nHave your DNI or NIE at hand. From 10 minutes before, open your appointment page (/cita) in the same browser, or look it up with the reference and your number."
        ),
    };
    let uid = format!("{}@videoreg", b.id);
    let text = ics::appointment(&ics::Appointment {
        uid: &uid,
        starts: b.slot_at,
        ends: b.slot_at + state.signaling.booking.rules.length(),
        stamp: state.clock.now(),
        summary: lang.pick(
            "Cita Cl@ve por videollamada",
            "Cl@ve appointment by video call",
        ),
        description: &description,
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"cita-clave.ics\"",
            ),
        ],
        text,
    )
        .into_response())
}
