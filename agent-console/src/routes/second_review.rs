//! Second review (four eyes): `/staff/reviews` lists what waits — approvals of others for an
//! agent with the reviewer flag, unresolved flags for an auditor; the reviewer confirms or
//! flags an approval from its decision page (`POST /staff/decisions/{ticket}/review`), never
//! their own; an auditor resolves a flag (`…/review/resolve`): cleared, the activation code
//! works again; revoked, the registration is void. Every step is audited.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use store::{NewAuditEvent, Review, StaffRole};

use super::{Chrome, chrome, madrid_time, staff_names};
use crate::auth::{ReviewWork, Staff, csrf_ok, is_reviewer};
use crate::i18n::Lang;
use crate::refusal::{Page, Refusal};
use crate::{ConsoleState, Error};

/// Rows a list shows.
const LIST_LIMIT: u32 = 200;
/// The longest note kept with a review or a resolution.
const NOTE_MAX_CHARS: usize = 1000;

/// One waiting item.
pub struct ReviewRow {
    ticket: String,
    agent: String,
    queued: String,
    why: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    lang: Lang,
    chrome: Chrome,
    auditor: bool,
    rows: Vec<ReviewRow>,
}

/// Why an approval was chosen, in words.
pub(crate) fn sampled_words(lang: Lang, why: &str) -> String {
    match why {
        "new_agent" => lang.pick(
            "agente en sus primeras aprobaciones",
            "agent in their first approvals",
        ),
        "poor_quality" => lang.pick("calidad de la llamada mala", "poor call quality"),
        _ => lang.pick("muestra al azar", "random sample"),
    }
    .to_owned()
}

/// Refuses an agent without the reviewer flag (auditors pass: they resolve flags).
fn reviewer(staff: &Staff<ReviewWork>) -> Result<(), Error> {
    if staff.user.role != StaffRole::Auditor && !is_reviewer(&staff.user) {
        return Err(Refusal::forbidden(true).into());
    }
    Ok(())
}

/// `GET /staff/reviews`: what waits for this member of staff.
pub async fn list(
    State(state): State<ConsoleState>,
    lang: Lang,
    staff: Staff<ReviewWork>,
) -> Result<Response, Error> {
    reviewer(&staff)?;
    let auditor = staff.user.role == StaffRole::Auditor;
    let reviews = if auditor {
        state.store.unresolved_flags(LIST_LIMIT).await?
    } else {
        state
            .store
            .pending_reviews_for(&staff.user.id, LIST_LIMIT)
            .await?
    };
    let names = staff_names(&state).await?;
    let rows = reviews
        .into_iter()
        .map(|r| ReviewRow {
            agent: names.get(&r.agent_id).cloned().unwrap_or(r.agent_id),
            queued: madrid_time(r.queued_at),
            why: sampled_words(lang, &r.sampled_for),
            reason: r
                .reason
                .and_then(|c| {
                    state
                        .verification
                        .rules
                        .flag_reason(&c)
                        .map(|f| lang.pick(&f.label.es, &f.label.en).to_owned())
                })
                .unwrap_or_default(),
            ticket: r.ticket_id,
        })
        .collect();
    let page = ReviewsPage {
        lang,
        chrome: chrome(&state, &staff),
        auditor,
        rows,
    };
    Ok(Html(page.render()?).into_response())
}

/// The reviewer's form.
#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: String,
    /// `confirm` or `flag`.
    #[serde(default)]
    outcome: String,
    /// A flag's reason code.
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

fn unprocessable(message: &'static str) -> Error {
    Refusal::page(Page::message(StatusCode::UNPROCESSABLE_ENTITY, message)).into()
}

fn conflict(message: &'static str) -> Error {
    Refusal::page(Page::message(StatusCode::CONFLICT, message)).into()
}

/// The review of `ticket`, or 404.
async fn review_of(state: &ConsoleState, ticket: &str) -> Result<Review, Error> {
    state.store.review(ticket).await?.ok_or_else(|| {
        let message = "Esa llamada no está en revisión. / That call is not under review.";
        Refusal::page(Page::message(StatusCode::NOT_FOUND, message)).into()
    })
}

/// `POST /staff/decisions/{ticket}/review`: a reviewer confirms or flags the approval.
pub async fn complete(
    State(state): State<ConsoleState>,
    staff: Staff<ReviewWork>,
    Path(ticket): Path<String>,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Result<Response, Error> {
    let form = match form {
        Ok(Form(f)) if csrf_ok(&staff.session.csrf_token, &f.csrf) => f,
        _ => return Err(Refusal::forbidden(true).into()),
    };
    if !is_reviewer(&staff.user) {
        return Err(Refusal::forbidden(true).into());
    }
    let note = form.note.trim();
    if note.chars().count() > NOTE_MAX_CHARS {
        return Err(unprocessable(
            "La nota es demasiado larga (hasta 1000 caracteres). / The note is too long (up to 1000 characters).",
        ));
    }
    let (outcome, reason) = match form.outcome.as_str() {
        "confirm" => ("confirmed", None),
        "flag" => match state.verification.rules.flag_reason(&form.reason) {
            Some(f) => ("flagged", Some(f.code.as_str())),
            None => {
                return Err(unprocessable(
                    "Elija el motivo de la alerta de la lista. / Choose the flag's reason from the list.",
                ));
            }
        },
        _ => {
            return Err(unprocessable(
                "Confirme o marque con alerta. / Confirm or flag.",
            ));
        }
    };
    let review = review_of(&state, &ticket).await?;
    if review.agent_id == staff.user.id {
        let message =
            "No puede revisar sus propias decisiones. / You cannot review your own decisions.";
        return Err(Refusal::page(Page::message(StatusCode::FORBIDDEN, message)).into());
    }
    let now = state.clock.now();
    let detail = serde_json::json!({
        "decision": review.decision_id,
        "registration": review.registration_id,
        "approved_by": review.agent_id,
        "sampled_for": review.sampled_for,
        "reason": reason,
        "note": note,
    })
    .to_string();
    let action = format!("review.{outcome}");
    let event = NewAuditEvent {
        at: now,
        actor: &staff.user.id,
        action: &action,
        subject: &ticket,
        detail: &detail,
    };
    if !state
        .store
        .complete_review(&ticket, &staff.user.id, outcome, reason, note, now, &event)
        .await?
    {
        return Err(conflict(
            "Esta aprobación ya se revisó. / This approval has already been reviewed.",
        ));
    }
    tracing::info!(reviewer = %staff.user.name, ticket = %ticket, outcome, "approval reviewed");
    Ok(Redirect::to("/staff/reviews").into_response())
}

/// The auditor's form.
#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    csrf: String,
    /// `clear` or `revoke`.
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    note: String,
}

/// `POST /staff/decisions/{ticket}/review/resolve`: an auditor resolves a flag.
pub async fn resolve(
    State(state): State<ConsoleState>,
    staff: Staff<ReviewWork>,
    Path(ticket): Path<String>,
    form: Result<Form<ResolveForm>, FormRejection>,
) -> Result<Response, Error> {
    let form = match form {
        Ok(Form(f)) if csrf_ok(&staff.session.csrf_token, &f.csrf) => f,
        _ => return Err(Refusal::forbidden(true).into()),
    };
    if staff.user.role != StaffRole::Auditor {
        return Err(Refusal::forbidden(true).into());
    }
    let note = form.note.trim();
    if note.is_empty() || note.chars().count() > NOTE_MAX_CHARS {
        return Err(unprocessable(
            "Explique la resolución (hasta 1000 caracteres). / Explain the resolution (up to 1000 characters).",
        ));
    }
    let resolution = match form.resolution.as_str() {
        "clear" => "cleared",
        "revoke" => "revoked",
        _ => {
            return Err(unprocessable(
                "Levante la alerta o anule el registro. / Clear the flag or revoke the registration.",
            ));
        }
    };
    let review = review_of(&state, &ticket).await?;
    let now = state.clock.now();
    let detail = serde_json::json!({
        "decision": review.decision_id,
        "registration": review.registration_id,
        "flag": review.reason,
        "note": note,
    })
    .to_string();
    let action = format!("review.{resolution}");
    let event = NewAuditEvent {
        at: now,
        actor: &staff.user.id,
        action: &action,
        subject: &ticket,
        detail: &detail,
    };
    if !state
        .store
        .resolve_review(&ticket, &staff.user.id, resolution, now, &event)
        .await?
    {
        return Err(conflict(
            "No hay ninguna alerta pendiente en esta llamada. / This call has no unresolved flag.",
        ));
    }
    tracing::info!(auditor = %staff.user.name, ticket = %ticket, resolution, "review flag resolved");
    Ok(Redirect::to(&format!("/staff/decisions/{ticket}")).into_response())
}
