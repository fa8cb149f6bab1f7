//! `GET /api/v1/service-hours?from=<RFC 3339>&days=<1..=366>`: the opening windows.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::state::AppState;
use agent_console::i18n::Lang;
use agent_console::refusal::ErrorBody;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/service-hours", get(service_hours))
}

/// One window, opening first, as RFC 3339 with the Madrid offset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WindowJson {
    /// When the service opens.
    #[schema(format = DateTime, example = "2026-11-26T09:00:00+01:00")]
    opens: String,
    /// When it closes.
    #[schema(format = DateTime, example = "2026-11-26T14:00:00+01:00")]
    closes: String,
}

/// The opening windows in a span of days.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ServiceHours {
    /// The service's time zone, always `Europe/Madrid`.
    #[schema(example = "Europe/Madrid")]
    timezone: &'static str,
    /// The windows, earliest first.
    windows: Vec<WindowJson>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Params {
    /// Start of the span (RFC 3339). [default: now]
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<String>,
    /// Length of the span in days, 1 to 366. [default: 7]
    #[param(value_type = Option<u16>, minimum = 1, maximum = 366)]
    days: Option<String>,
}

/// The service's opening windows from `from` for `days` days.
#[utoipa::path(
    get,
    path = "/api/v1/service-hours",
    tag = "citizen",
    operation_id = "service_hours",
    params(Params),
    responses(
        (status = 200, description = "The opening windows", body = ServiceHours),
        (status = 400, description = "`invalid_parameter` (also for a span reaching within two days of year 0000 or 9999's end: RFC 3339 cannot write the windows)", body = ErrorBody),
        (status = 500, description = "`internal`, with the request id", body = ErrorBody),
    )
)]
pub(crate) async fn service_hours(
    State(state): State<AppState>,
    lang: Lang,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<ServiceHours>, Error> {
    let bad = |message: &str| Error::client(StatusCode::BAD_REQUEST, "invalid_parameter", message);
    let Query(params) =
        params.map_err(|_| bad(lang.pick("Parámetros no válidos.", "Invalid parameters.")))?;
    let from = match params.from.as_deref() {
        None => state.clock.now(),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| {
                bad(lang.pick(
                    "`from` debe ser una fecha y hora RFC 3339, por ejemplo 2026-11-26T09:00:00+01:00.",
                    "`from` must be an RFC 3339 date-time, for example 2026-11-26T09:00:00+01:00.",
                ))
            })?
            .to_utc(),
    };
    let days: i64 = match params.days.as_deref() {
        None => 7,
        Some(s) => s
            .parse()
            .ok()
            .filter(|d| (1..=366).contains(d))
            .ok_or_else(|| {
                bad(lang.pick(
                    "`days` debe ser un número entre 1 y 366.",
                    "`days` must be a number from 1 to 366.",
                ))
            })?,
    };
    let out_of_range = || bad(lang.pick("`from` está fuera de rango.", "`from` is out of range."));
    let to = from
        .checked_add_signed(TimeDelta::days(days))
        .ok_or_else(out_of_range)?;
    if !writable(from, to) {
        return Err(out_of_range());
    }
    let windows: Vec<WindowJson> = state
        .calendar
        .windows_between(from, to)
        .iter()
        .map(|w| WindowJson {
            opens: w.opens_local().to_rfc3339(),
            closes: w.closes_local().to_rfc3339(),
        })
        .collect();
    Ok(Json(ServiceHours {
        timezone: "Europe/Madrid",
        windows,
    }))
}

/// Whether every window between `from` and `to` can be written in RFC 3339, whose years run
/// from 0000 to 9999: a window may open a day before `from` and close a day after `to` (in
/// Madrid time), so the span keeps two days clear of either end.
fn writable(from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    let margin = TimeDelta::days(2);
    let first = from.checked_sub_signed(margin).map(|t| t.year());
    let last = to.checked_add_signed(margin).map(|t| t.year());
    first.is_some_and(|y| y >= 0) && last.is_some_and(|y| y <= 9999)
}
