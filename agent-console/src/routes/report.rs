//! `/supervisor/report?date=YYYY-MM-DD`: the daily report as a page (the day's figures and
//! one row per ticket), or as CSV with `&format=csv`. Without a date, today (Madrid).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use scheduler::metrics::{DayFigures, Outcomes, day_figures, outcomes};
use serde::Deserialize;

use super::openapi::StaffRefusals;
use super::{Chrome, chrome};
use crate::auth::{Staff, SupervisorsOnly};
use crate::i18n::Lang;
use crate::refusal::{ErrorBody, Page, Refusal};
use crate::supervisor::bookings::{DayAppointments, day_appointments};
use crate::supervisor::day::DayFacts;
use crate::supervisor::report::{self, ReportRow};
use crate::{ConsoleState, Error};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The Madrid date, `YYYY-MM-DD`; empty or absent, today.
    #[param(pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$", example = "2026-11-26")]
    date: Option<String>,
    /// `csv` for the CSV file; anything else, the page.
    #[param(example = "csv")]
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    lang: Lang,
    chrome: Chrome,
    date: String,
    csv_href: String,
    threshold_min: i64,
    figures: DayFigures,
    outcomes: Outcomes,
    rows: Vec<ReportRow>,
    /// Second review of the day's approvals, per approving agent.
    reviews: Vec<ReviewRow>,
    /// The day's appointments.
    appointments: DayAppointments,
}

/// One agent's approvals of the day under second review.
pub struct ReviewRow {
    agent: String,
    queued: i64,
    confirmed: i64,
    flagged: i64,
    revoked: i64,
    pending: i64,
}

impl ReportPage {
    fn percent(&self, v: &Option<f64>) -> String {
        v.map_or_else(|| "–".to_owned(), |v| format!("{:.0} %", v * 100.0))
    }

    fn seconds(&self, v: &Option<i64>) -> String {
        v.map_or_else(|| "–".to_owned(), crate::supervisor::clock)
    }

    fn duration(&self, v: &Option<f64>) -> String {
        v.map_or_else(
            || "–".to_owned(),
            |v| crate::supervisor::clock(v.round() as i64),
        )
    }
}

/// The daily report: the day's figures and one row per ticket.
#[utoipa::path(
    get,
    path = "/supervisor/report",
    tag = "supervision",
    operation_id = "report",
    security(("staff_session" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The report: a page, or CSV with `format=csv`",
            content(("text/html"), ("text/csv"))),
        (status = 400, description = "Not a date, or a malformed query (a page)", content(("text/html"))),
        (status = 403, description = "`forbidden`: not a supervisor (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        StaffRefusals,
    )
)]
pub async fn show(
    State(state): State<ConsoleState>,
    lang: Lang,
    staff: Staff<SupervisorsOnly>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let bad_date = || -> Error {
        let message = "Fecha no válida: use AAAA-MM-DD. / Invalid date: use YYYY-MM-DD.";
        Refusal::page(Page::message(StatusCode::BAD_REQUEST, message)).into()
    };
    let Ok(Query(q)) = query else {
        return Err(bad_date());
    };
    let now = state.clock.now();
    let date = match q.date.as_deref().filter(|d| !d.is_empty()) {
        None => scheduler::local_date(now),
        Some(d) => match report::parse_date(d) {
            Some(date) => date,
            None => return Err(bad_date()),
        },
    };
    let facts = DayFacts::load(&state.store, date).await?;
    let rows: Vec<ReportRow> = facts.rows.iter().map(report::row).collect();
    if q.format.as_deref() == Some("csv") {
        let disposition = format!("attachment; filename=\"{}\"", report::file_name(date));
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            report::to_csv(&rows)?,
        )
            .into_response());
    }
    let names = super::staff_names(&state).await?;
    let reviews = state
        .store
        .review_counts(facts.from, facts.to)
        .await?
        .into_iter()
        .map(|c| ReviewRow {
            agent: names.get(&c.agent_id).cloned().unwrap_or(c.agent_id),
            pending: c.queued - c.confirmed - c.flagged,
            queued: c.queued,
            confirmed: c.confirmed,
            flagged: c.flagged,
            revoked: c.revoked,
        })
        .collect();
    let booked = state.store.bookings_between(facts.from, facts.to).await?;
    let appointments = day_appointments(&booked, &facts.rows);
    let threshold = state.supervision.service_level_threshold;
    let page = ReportPage {
        lang,
        chrome: chrome(&state, &staff),
        date: date.to_string(),
        csv_href: format!("/supervisor/report?date={date}&format=csv"),
        threshold_min: threshold.num_minutes(),
        figures: day_figures(&facts.tickets, now.min(facts.to), threshold),
        outcomes: outcomes(&facts.decisions),
        rows,
        reviews,
        appointments,
    };
    Ok(Html(page.render()?).into_response())
}
