//! Legal holds: an auditor puts a decision on hold (with a reason) or lifts the hold, from
//! the decision's page. While held, retention purges nothing of the call. Both are audited.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::{AuditorsOnly, Staff, csrf_ok};
use crate::refusal::{Page, Refusal};
use crate::{ConsoleState, Error};

/// The longest reason kept with a hold.
const REASON_MAX_CHARS: usize = 500;

/// The hold form.
#[derive(Deserialize)]
pub struct HoldForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /staff/decisions/{ticket}/hold`: places the hold, then back to the decision.
pub async fn place(
    State(state): State<ConsoleState>,
    staff: Staff<AuditorsOnly>,
    Path(ticket): Path<String>,
    form: Result<Form<HoldForm>, FormRejection>,
) -> Result<Response, Error> {
    let form = checked(&staff, form)?;
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_MAX_CHARS {
        let message = "Indique el motivo de la retención (hasta 500 caracteres). / Give the hold's reason (up to 500 characters).";
        return Err(Refusal::page(Page::message(StatusCode::UNPROCESSABLE_ENTITY, message)).into());
    }
    known(&state, &ticket).await?;
    let now = state.clock.now();
    state
        .store
        .place_legal_hold(&ticket, &staff.user.id, reason, now)
        .await?;
    Ok(back(&ticket))
}

/// `POST /staff/decisions/{ticket}/hold/lift`: lifts the hold, then back to the decision.
pub async fn lift(
    State(state): State<ConsoleState>,
    staff: Staff<AuditorsOnly>,
    Path(ticket): Path<String>,
    form: Result<Form<HoldForm>, FormRejection>,
) -> Result<Response, Error> {
    checked(&staff, form)?;
    known(&state, &ticket).await?;
    let now = state.clock.now();
    state
        .store
        .lift_legal_hold(&ticket, &staff.user.id, now)
        .await?;
    Ok(back(&ticket))
}

/// The form, once its CSRF token matches the session's.
fn checked(
    staff: &Staff<AuditorsOnly>,
    form: Result<Form<HoldForm>, FormRejection>,
) -> Result<HoldForm, Error> {
    match form {
        Ok(Form(f)) if csrf_ok(&staff.session.csrf_token, &f.csrf) => Ok(f),
        _ => Err(Refusal::forbidden(true).into()),
    }
}

/// Refuses a ticket that does not exist.
async fn known(state: &ConsoleState, ticket: &str) -> Result<(), Error> {
    if state.store.ticket(ticket).await?.is_none() {
        let message = "No existe esa llamada. / No such call.";
        return Err(Refusal::page(Page::message(StatusCode::NOT_FOUND, message)).into());
    }
    Ok(())
}

fn back(ticket: &str) -> Response {
    Redirect::to(&format!("/staff/decisions/{ticket}")).into_response()
}
