//! `/supervisor/bookings`: the appointments of today and the coming service days, slot by
//! slot against capacity (booked, kept, late, no-show, cancelled). Supervisors only.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use chrono::TimeDelta;
use scheduler::{SERVICE_TZ, local_date};
use signaling::SignalingState;

use super::openapi::StaffRefusals;
use super::{Chrome, chrome};
use crate::auth::{Staff, SupervisorsOnly};
use crate::i18n::Lang;
use crate::refusal::ErrorBody;
use crate::supervisor::bookings::{DaySlots, days};
use crate::supervisor::day::day_bounds;
use crate::{ConsoleState, Error};

#[derive(Template)]
#[template(path = "bookings.html")]
struct BookingsPage {
    lang: Lang,
    chrome: Chrome,
    days: Vec<(String, DaySlots)>,
    slot_minutes: i64,
}

/// The booking days' slots with their bookings.
#[utoipa::path(
    get,
    path = "/supervisor/bookings",
    tag = "supervision",
    operation_id = "bookings",
    security(("staff_session" = [])),
    responses(
        (status = 200, description = "The slots of the booking days against capacity (a page)", content_type = "text/html"),
        (status = 403, description = "`forbidden`: not a supervisor (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        StaffRefusals,
    )
)]
pub async fn page(
    State(state): State<ConsoleState>,
    State(signaling): State<SignalingState>,
    lang: Lang,
    staff: Staff<SupervisorsOnly>,
) -> Result<Html<String>, Error> {
    let now = state.clock.now();
    let (today, _) = day_bounds(local_date(now));
    let policy = &signaling.booking;
    // Service days can be far apart (weekends, holidays): two months reach past any
    // `--booking-days`.
    let bookings = state
        .store
        .bookings_between(today, today + TimeDelta::days(120))
        .await?;
    let days = days(&signaling.calendar, today, policy, &bookings)
        .into_iter()
        .map(|d| {
            let first = d
                .date
                .and_hms_opt(12, 0, 0)
                .and_then(|t| t.and_local_timezone(SERVICE_TZ).single());
            let name = first.map_or_else(|| d.date.to_string(), |t| lang.long_date(&t));
            (name, d)
        })
        .collect();
    let page = BookingsPage {
        lang,
        chrome: chrome(&state, &staff),
        days,
        slot_minutes: policy.rules.length().num_minutes(),
    };
    Ok(Html(page.render()?))
}
