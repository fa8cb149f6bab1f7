//! The appointment API (*cita previa*): the free slots, booking one with a verified
//! application, and the browser's own booking (read, cancel). Finding a booking from another
//! browser, checking in and the calendar file are in [`super::booking_access`].
//!
//! A booking is opened by the `videoreg_booking` cookie of the browser that made it, or that
//! found it last (finding it moves it there: a lost or shared device stops opening it):
//! HttpOnly, SameSite=Strict; only its SHA-256 is stored.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use scheduler::SERVICE_TZ;
use scheduler::booking::{Slot, SlotRefusal, bookable, next_free};
use serde::{Deserialize, Serialize};
use store::{BookOutcome, Booking, NewAuditEvent, NewBooking, secrets};

use super::invalid_body;
use crate::Error;
use crate::booking::BookingReference;
use crate::state::AppState;
use agent_console::auth::{cookie, set_cookie};
use agent_console::i18n::Lang;
use agent_console::refusal::ErrorBody;

/// The cookie that opens a browser's booking.
pub(super) const BOOKING_COOKIE: &str = "videoreg_booking";
/// How many free slots the API lists at most.
const LISTED: usize = 60;
/// How far ahead booked counts are read: more than any `--booking-days` reaches.
const HORIZON_DAYS: i64 = 120;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/bookings/slots", get(slots))
        .route("/api/v1/bookings", post(book))
        .route("/api/v1/bookings/mine", get(mine).delete(cancel))
}

/// A free slot.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FreeSlot {
    /// When it starts (RFC 3339, UTC): the value to book.
    #[schema(format = DateTime)]
    starts: String,
    /// When it ends.
    #[schema(format = DateTime)]
    ends: String,
    /// Places left.
    free: u32,
}

/// The next free slots.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FreeSlots {
    /// A slot's length in minutes.
    slot_minutes: i64,
    /// In time order (at most 60).
    slots: Vec<FreeSlot>,
}

/// The next free appointment slots over the booking days.
#[utoipa::path(get, path = "/api/v1/bookings/slots", tag = "citizen", operation_id = "free_slots",
    responses(
        (status = 200, description = "The next free slots", body = FreeSlots),
        (status = 503, description = "`unavailable`", body = ErrorBody),
    ))]
pub(crate) async fn slots(State(state): State<AppState>) -> Result<Json<FreeSlots>, Error> {
    let now = state.clock.now();
    let policy = &state.signaling.booking;
    let booked = booked(&state, now).await?;
    let free = next_free(
        &state.calendar,
        now,
        &policy.rules,
        &policy.capacity,
        &booked,
        LISTED,
    );
    Ok(Json(FreeSlots {
        slot_minutes: policy.rules.length().num_minutes(),
        slots: free
            .into_iter()
            .map(|s| FreeSlot {
                starts: rfc3339(s.starts),
                ends: rfc3339(s.ends),
                free: s.free(),
            })
            .collect(),
    }))
}

/// What a citizen sends to book.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct BookingRequest {
    /// The application token (from `POST /api/v1/applications`).
    application: String,
    /// The slot's start, as listed.
    #[schema(format = DateTime)]
    slot: String,
    /// Replace this ID number's live booking (rebooking); without it a live booking is 409.
    #[serde(default)]
    replace: bool,
}

/// A booking as its citizen sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BookingView {
    /// The reference, `ABCD-EFGH`: with the ID number it opens the booking anywhere.
    reference: String,
    /// `booked`, `cancelled`, `kept`, `late` or `no_show`.
    status: String,
    /// The slot's start (RFC 3339, UTC).
    #[schema(format = DateTime)]
    slot: String,
    /// The slot's end.
    #[schema(format = DateTime)]
    slot_ends: String,
    /// The appointment in words, in the visitor's language and Madrid time.
    when: String,
    /// From when the citizen may come in.
    #[schema(format = DateTime)]
    check_in_from: String,
    /// Until when the citizen keeps the appointment's priority.
    #[schema(format = DateTime)]
    priority_until: String,
    /// Whether the citizen may come in now (check-in open, priority or not).
    may_check_in: bool,
    /// The ID number, masked.
    id_number: String,
}

impl BookingView {
    pub(super) fn of(state: &AppState, b: &Booking, lang: Lang, now: DateTime<Utc>) -> Self {
        let rules = &state.signaling.booking.rules;
        let ends = b.slot_at + rules.length();
        let check_in_from = b.slot_at - rules.check_in();
        Self {
            reference: BookingReference::shown(&b.reference),
            status: b.status.clone(),
            slot: rfc3339(b.slot_at),
            slot_ends: rfc3339(ends),
            when: when(lang, b.slot_at),
            check_in_from: rfc3339(check_in_from),
            priority_until: rfc3339(b.slot_at + rules.grace()),
            may_check_in: b.status == "booked" && now >= check_in_from,
            id_number: crate::identity::DniNie::parse(&b.id_number)
                .map_or_else(|_| "****".to_owned(), |id| id.masked()),
        }
    }
}

/// Books a slot for a verified application: 201 with the booking and the browser's cookie.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "citizen", operation_id = "book",
    request_body = BookingRequest,
    responses(
        (status = 201, description = "Booked; `Set-Cookie` opens it from this browser", body = BookingView),
        (status = 400, description = "`invalid_body`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 409, description = "`slot_full`, or `already_booked` (this ID number has a live booking; send `replace`)", body = ErrorBody),
        (status = 422, description = "`not_verified` (application unknown or expired) or `no_such_slot`", body = ErrorBody),
        (status = 503, description = "`unavailable`", body = ErrorBody),
    ))]
pub(crate) async fn book(
    State(state): State<AppState>,
    lang: Lang,
    body: Result<Json<BookingRequest>, JsonRejection>,
) -> Result<Response, Error> {
    let Json(body) = body.map_err(|r| invalid_body(lang, &r, "application, slot"))?;
    let now = state.clock.now();
    let app = match body.application.len() {
        1..=128 => {
            state
                .store
                .find_application_by_token(&secrets::hash_token(&body.application), now)
                .await?
        }
        _ => None,
    };
    let Some(app) = app else {
        return Err(Error::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_verified",
            lang.pick(
                "Su solicitud ha caducado. Vuelva a comprobar sus datos para pedir cita.",
                "Your application has expired. Check your details again to book.",
            ),
        ));
    };
    let slot = free_slot(&state, lang, &body.slot, now).await?;
    let reference = BookingReference::generate()?;
    let (browser, browser_hash) = secrets::new_token()?;
    let id = secrets::new_id()?;
    let new = NewBooking {
        id: &id,
        reference: reference.as_str(),
        id_number: &app.id_number,
        application_id: &app.id,
        test_call: app.test_call.as_deref(),
        lang: lang.code(),
        slot_at: slot.starts,
        browser_hash: &browser_hash,
        created_at: now,
    };
    let detail =
        serde_json::json!({ "slot_at": rfc3339(slot.starts), "replace": body.replace }).to_string();
    let event = NewAuditEvent {
        at: now,
        actor: "citizen",
        action: "booking.made",
        subject: &id,
        detail: &detail,
    };
    match state
        .store
        .book(&new, slot.capacity, body.replace, &event)
        .await?
    {
        BookOutcome::Booked => {}
        BookOutcome::Full => return Err(slot_full(lang)),
        BookOutcome::AlreadyBooked(old) => {
            return Err(Error::client(
                StatusCode::CONFLICT,
                "already_booked",
                match lang {
                    Lang::Es => format!(
                        "Ya tiene una cita el {}. Puede cambiarla por esta o anularla.",
                        when(lang, old.slot_at)
                    ),
                    Lang::En => format!(
                        "You already have an appointment on {}. You may change it for this one or cancel it.",
                        when(lang, old.slot_at)
                    ),
                },
            ));
        }
    }
    let booking = as_booked(&new);
    Ok(with_cookie(
        &state,
        &browser,
        &booking,
        StatusCode::CREATED,
        BookingView::of(&state, &booking, lang, now),
    ))
}

/// This browser's latest booking (live or not).
#[utoipa::path(get, path = "/api/v1/bookings/mine", tag = "citizen", operation_id = "my_booking",
    responses(
        (status = 200, description = "The booking", body = BookingView),
        (status = 404, description = "`no_booking`: none from this browser", body = ErrorBody),
    ))]
pub(crate) async fn mine(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Json<BookingView>, Error> {
    let b = browser_booking(&state, &headers, lang).await?;
    Ok(Json(BookingView::of(&state, &b, lang, state.clock.now())))
}

/// Cancels this browser's live booking, freeing its place.
#[utoipa::path(delete, path = "/api/v1/bookings/mine", tag = "citizen", operation_id = "cancel_booking",
    responses(
        (status = 200, description = "Cancelled", body = BookingView),
        (status = 404, description = "`no_booking`", body = ErrorBody),
        (status = 409, description = "`not_live`: already cancelled, kept or missed", body = ErrorBody),
    ))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Json<BookingView>, Error> {
    let b = browser_booking(&state, &headers, lang).await?;
    let now = state.clock.now();
    let detail = serde_json::json!({ "slot_at": rfc3339(b.slot_at) }).to_string();
    let event = NewAuditEvent {
        at: now,
        actor: "citizen",
        action: "booking.cancelled",
        subject: &b.id,
        detail: &detail,
    };
    if !state.store.cancel_booking(&b.id, now, &event).await? {
        return Err(Error::client(
            StatusCode::CONFLICT,
            "not_live",
            lang.pick(
                "Esta cita ya no está activa.",
                "This appointment is no longer live.",
            ),
        ));
    }
    let cancelled = Booking {
        status: "cancelled".to_owned(),
        settled_at: Some(now),
        ..b
    };
    Ok(Json(BookingView::of(&state, &cancelled, lang, now)))
}

/// The booking `new` is once stored, live.
pub(super) fn as_booked(new: &NewBooking<'_>) -> Booking {
    Booking {
        id: new.id.to_owned(),
        reference: new.reference.to_owned(),
        id_number: new.id_number.to_owned(),
        application_id: new.application_id.to_owned(),
        test_call: new.test_call.map(str::to_owned),
        lang: new.lang.to_owned(),
        slot_at: new.slot_at,
        browser_hash: new.browser_hash.to_owned(),
        status: "booked".to_owned(),
        created_at: new.created_at,
        settled_at: None,
        ticket_id: None,
    }
}

/// The booking this browser's cookie opens, or 404 `no_booking`.
pub(super) async fn browser_booking(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<Booking, Error> {
    let token = cookie(headers, BOOKING_COOKIE, state.console.policy.secure_cookies)
        .filter(|t| t.len() <= 128);
    let found = match token {
        Some(t) => {
            state
                .store
                .booking_by_browser(&secrets::hash_token(t))
                .await?
        }
        None => None,
    };
    found.ok_or_else(|| Error::client(StatusCode::NOT_FOUND, "no_booking", lang.pick(
        "No encontramos ninguna cita desde este navegador. Búsquela con su referencia y su número de DNI o NIE.",
        "We found no appointment from this browser. Look it up with its reference and your DNI or NIE number.",
    )))
}

/// `view` with the cookie that opens `booking` from this browser, kept a day past the slot.
pub(super) fn with_cookie(
    state: &AppState,
    token: &str,
    booking: &Booking,
    status: StatusCode,
    view: BookingView,
) -> Response {
    let keep = (booking.slot_at + chrono::TimeDelta::days(1) - state.clock.now())
        .num_seconds()
        .max(60);
    let set = set_cookie(
        BOOKING_COOKIE,
        token,
        keep,
        state.console.policy.secure_cookies,
    );
    (status, [(header::SET_COOKIE, set)], Json(view)).into_response()
}

/// The slot starting at `typed` (RFC 3339) if it is offered and has a place: 422
/// `no_such_slot` or 409 `slot_full` otherwise.
pub(super) async fn free_slot(
    state: &AppState,
    lang: Lang,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<Slot, Error> {
    let no_such_slot = || {
        Error::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_such_slot",
            lang.pick(
                "Esa hora ya no se ofrece. Elija otra de la lista.",
                "That time is no longer offered. Choose another from the list.",
            ),
        )
    };
    if typed.len() > 64 {
        return Err(no_such_slot());
    }
    let starts = DateTime::parse_from_rfc3339(typed)
        .map_err(|_| no_such_slot())?
        .to_utc();
    let policy = &state.signaling.booking;
    let booked = booked(state, now).await?;
    match bookable(
        &state.calendar,
        now,
        &policy.rules,
        &policy.capacity,
        &booked,
        starts,
    ) {
        Ok(slot) => Ok(slot),
        Err(SlotRefusal::NoSuchSlot) => Err(no_such_slot()),
        Err(SlotRefusal::Full) => Err(slot_full(lang)),
    }
}

/// Live bookings per slot over the booking horizon.
async fn booked(state: &AppState, now: DateTime<Utc>) -> Result<scheduler::booking::Booked, Error> {
    Ok(state
        .store
        .booked_slots(
            now - chrono::TimeDelta::days(1),
            now + chrono::TimeDelta::days(HORIZON_DAYS),
        )
        .await?)
}

pub(super) fn slot_full(lang: Lang) -> Error {
    Error::client(
        StatusCode::CONFLICT,
        "slot_full",
        lang.pick(
            "Esa hora se acaba de ocupar. Elija otra.",
            "That time has just been taken. Choose another.",
        ),
    )
}

/// The appointment in words: `lunes, 7 de diciembre de 2026, 09:10` (Madrid time).
pub(super) fn when(lang: Lang, t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&SERVICE_TZ);
    format!("{}, {}", lang.long_date(&local), local.format("%H:%M"))
}

pub(super) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
