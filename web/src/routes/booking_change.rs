//! `POST /api/v1/bookings/mine/slot`: another time for the browser's booking (made here or
//! found with the reference and the ID number), without verifying the ID number again: the
//! booking already holds the verified application. The old slot's place is given back in the
//! same transaction; the new booking has a new reference.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use store::{BookOutcome, NewAuditEvent, NewBooking, secrets};

use super::invalid_body;

use super::bookings::{
    BookingView, as_booked, browser_booking, free_slot, rfc3339, slot_full, when,
};
use crate::Error;
use crate::booking::BookingReference;
use crate::state::AppState;
use agent_console::i18n::Lang;
use agent_console::refusal::ErrorBody;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/bookings/mine/slot", post(rebook))
}

/// The new time.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct RebookRequest {
    /// The slot's start, as listed by `GET /api/v1/bookings/slots`.
    #[schema(format = DateTime)]
    slot: String,
}

/// Moves this browser's booking (live or cancelled) to another free slot.
#[utoipa::path(post, path = "/api/v1/bookings/mine/slot", tag = "citizen", operation_id = "rebook",
    request_body = RebookRequest,
    responses(
        (status = 201, description = "Booked at the new time (a new reference)", body = BookingView),
        (status = 400, description = "`invalid_body`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 404, description = "`no_booking`", body = ErrorBody),
        (status = 409, description = "`slot_full`, `already_booked` (another booking for this number won a race), or `not_live` (the appointment was kept or missed: start again)", body = ErrorBody),
        (status = 422, description = "`no_such_slot`", body = ErrorBody),
    ))]
pub(crate) async fn rebook(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    body: Result<Json<RebookRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<BookingView>), Error> {
    let Json(body) = body.map_err(|r| invalid_body(lang, &r, "slot"))?;
    let old = browser_booking(&state, &headers, lang).await?;
    if !matches!(old.status.as_str(), "booked" | "cancelled") {
        return Err(Error::client(
            StatusCode::CONFLICT,
            "not_live",
            lang.pick(
                "Esta cita ya pasó. Para pedir otra, empiece desde el inicio.",
                "This appointment is over. To book another, start from the beginning.",
            ),
        ));
    }
    let now = state.clock.now();
    let slot = free_slot(&state, lang, &body.slot, now).await?;
    let reference = BookingReference::generate()?;
    let id = secrets::new_id()?;
    let new = NewBooking {
        id: &id,
        reference: reference.as_str(),
        id_number: &old.id_number,
        application_id: &old.application_id,
        // The test call stays with the application; checking in asks for a fresh one.
        test_call: None,
        lang: lang.code(),
        slot_at: slot.starts,
        browser_hash: &old.browser_hash,
        created_at: now,
    };
    let detail =
        serde_json::json!({ "slot_at": rfc3339(slot.starts), "rebooked_from": old.id }).to_string();
    let event = NewAuditEvent {
        at: now,
        actor: "citizen",
        action: "booking.made",
        subject: &id,
        detail: &detail,
    };
    match state.store.book(&new, slot.capacity, true, &event).await? {
        BookOutcome::Booked => {}
        BookOutcome::Full => return Err(slot_full(lang)),
        // Another booking for this number won a race with this one.
        BookOutcome::AlreadyBooked(other) => {
            return Err(Error::client(
                StatusCode::CONFLICT,
                "already_booked",
                match lang {
                    Lang::Es => format!("Ya tiene una cita el {}.", when(lang, other.slot_at)),
                    Lang::En => format!(
                        "You already have an appointment on {}.",
                        when(lang, other.slot_at)
                    ),
                },
            ));
        }
    }
    let booking = as_booked(&new);
    Ok((
        StatusCode::CREATED,
        Json(BookingView::of(&state, &booking, lang, now)),
    ))
}
