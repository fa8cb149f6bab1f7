//! Auditors' view: recent decisions, and one call's decision with its recordings (a player
//! with the call's events on a timeline that seeks it), its checklist, its stills (zoomable),
//! its legal hold and its audit events.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::openapi::StaffRefusals;
use super::second_review::sampled_words;
use super::{Chrome, chrome, madrid_time, staff_names};
use crate::auth::{AuditorsRead, DecisionRead, Staff, reviews};
use crate::i18n::Lang;
use crate::refusal::{ErrorBody, Page, Refusal};
use crate::{ConsoleState, Error};
use store::StaffRole;

/// How many decisions the list shows.
const LIST: u32 = 200;

/// One row of the list.
pub struct DecisionRow {
    ticket: String,
    at: String,
    agent: String,
    outcome: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "decisions.html")]
struct DecisionsPage {
    lang: Lang,
    chrome: Chrome,
    rows: Vec<DecisionRow>,
}

/// `GET /staff/decisions`: the recent decisions, as a page.
#[utoipa::path(
    get,
    path = "/staff/decisions",
    tag = "review",
    operation_id = "decisions",
    security(("staff_session" = [])),
    responses(
        (status = 200, description = "The most recent decisions (a page)", content(("text/html"))),
        (status = 403, description = "`forbidden`: not an auditor (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        StaffRefusals,
    )
)]
pub async fn list(
    State(state): State<ConsoleState>,
    lang: Lang,
    staff: Staff<AuditorsRead>,
) -> Result<Html<String>, Error> {
    let names = staff_names(&state).await?;
    let rows = state
        .store
        .recent_decisions(LIST)
        .await?
        .into_iter()
        .map(|d| DecisionRow {
            at: madrid_time(d.at),
            agent: names.get(&d.agent_id).cloned().unwrap_or(d.agent_id),
            outcome: d.outcome.as_str().to_owned(),
            reason: d.reason.unwrap_or_default(),
            ticket: d.ticket_id,
        })
        .collect();
    let page = DecisionsPage {
        lang,
        chrome: chrome(&state, &staff),
        rows,
    };
    Ok(Html(page.render()?))
}

/// A still as the detail page shows it.
pub struct StillView {
    id: String,
    kind: &'static str,
    size: String,
    sha256: String,
    at: String,
    /// When retention deleted its image (Madrid time), if it did.
    purged: Option<String>,
}

/// A recording as the detail page shows it: a player (kept files) with the call's events
/// on its timeline, or the tombstone's date (purged files).
pub struct RecordingView {
    id: String,
    started: String,
    duration: String,
    size: String,
    sha256: String,
    incomplete: Option<String>,
    purged: Option<String>,
    /// (seconds into the recording, as shown `m:ss`, the event's action).
    timeline: Vec<(i64, String, String)>,
}

impl RecordingView {
    fn new(r: store::Recording, events: &[store::AuditEvent]) -> Self {
        let secs = i64::try_from(r.duration_ms / 1000).unwrap_or(i64::MAX);
        let timeline = events
            .iter()
            .filter(|e| e.at >= r.started_at && e.at <= r.ended_at)
            .filter(|e| e.action != "recording.viewed")
            .map(|e| {
                let at = (e.at - r.started_at).num_seconds();
                (at, clock(at), e.action.clone())
            })
            .collect();
        Self {
            started: madrid_time(r.started_at),
            duration: clock(secs),
            size: format!("{:.1} MB", r.bytes as f64 / 1_000_000.0),
            incomplete: r.incomplete_reason,
            purged: r.purged_at.map(madrid_time),
            sha256: r.sha256,
            id: r.id,
            timeline,
        }
    }
}

/// The registry's record as the decision page lists it (empty without one).
fn registry_rows(lang: Lang, record: Option<store::IdentityRecord>) -> Vec<(String, String)> {
    let Some(r) = record else {
        return Vec::new();
    };
    let row = |es: &str, en: &str, v: Option<String>| v.map(|v| (lang.pick(es, en).to_owned(), v));
    [
        row("Nombre", "Name", Some(r.full_name)),
        row("Fecha de nacimiento", "Birth date", r.birth_date),
        row("Validez", "Valid until", r.valid_until),
        row("Expedición", "Issued on", r.issued_on),
        row("Número de soporte", "Support number", r.support_number),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Where a review stands, in words.
fn review_state(lang: Lang, r: &store::Review) -> String {
    match (r.outcome.as_deref(), r.resolution.as_deref()) {
        (None, _) => lang.pick("pendiente de revisión", "waiting for review"),
        (Some("confirmed"), _) => {
            lang.pick("confirmada por el revisor", "confirmed by the reviewer")
        }
        (_, Some("cleared")) => lang.pick(
            "alerta levantada por auditoría: el código vuelve a valer",
            "flag cleared by an auditor: the code works again",
        ),
        (_, Some("revoked")) => lang.pick(
            "registro anulado por auditoría",
            "registration revoked by an auditor",
        ),
        _ => lang.pick(
            "con alerta: código de activación suspendido",
            "flagged: activation code suspended",
        ),
    }
    .to_owned()
}

/// Seconds as `m:ss`.
fn clock(secs: i64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// An audit event as the detail page shows it.
pub struct EventView {
    id: i64,
    at: String,
    actor: String,
    action: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "decision.html")]
struct DecisionPage {
    lang: Lang,
    chrome: Chrome,
    ticket: String,
    id_number: String,
    decisions: Vec<DecisionRow>,
    checklist: Vec<(String, bool)>,
    note: String,
    stills: Vec<StillView>,
    events: Vec<EventView>,
    recordings: Vec<RecordingView>,
    /// The legal hold, as shown: who, when (Madrid) and why.
    hold: Option<(String, String, String)>,
    /// For the hold and review forms.
    csrf: String,
    /// Whether the viewer is an auditor (holds, resolving flags).
    auditor: bool,
    /// The second review, if the approval was chosen for one.
    review: Option<ReviewView>,
    /// Whether the viewer may confirm or flag it now.
    can_review: bool,
    /// Whether the viewer may resolve its flag now.
    can_resolve: bool,
    /// The flag reasons: (code, label).
    flag_reasons: Vec<(String, String)>,
    /// The identity registry's record of the ID number, as (label, value) rows.
    registry: Vec<(String, String)>,
}

/// A second review as the decision page shows it.
pub struct ReviewView {
    why: String,
    state: String,
    reviewer: String,
    reason: String,
    note: String,
}

/// `GET /staff/decisions/{ticket}`: one call's decisions, checklist, stills and audit
/// events, as a page.
#[utoipa::path(
    get,
    path = "/staff/decisions/{ticket}",
    tag = "review",
    operation_id = "decision",
    security(("staff_session" = [])),
    params(("ticket" = String, Path, description = "The call's ticket")),
    responses(
        (status = 200, description = "The call's decision (a page)", content(("text/html"))),
        (status = 403, description = "`forbidden`: not an auditor, nor a reviewer of this approval (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 404, description = "No such call (a page)", content(("text/html"))),
        StaffRefusals,
    )
)]
pub async fn show(
    State(state): State<ConsoleState>,
    lang: Lang,
    staff: Staff<DecisionRead>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    let no_such_call = || -> Error {
        let message = "No existe esa llamada. / No such call.";
        Refusal::page(Page::message(StatusCode::NOT_FOUND, message)).into()
    };
    // A ticket that is not even UTF-8 names no call.
    let Ok(Path(ticket)) = path else {
        return Err(no_such_call());
    };
    let auditor = staff.user.role == StaffRole::Auditor;
    let review = state.store.review(&ticket).await?;
    if !auditor && !reviews(&staff.user, review.as_ref()) {
        return Err(Refusal::forbidden(true).into());
    }
    let Some(t) = state.store.ticket(&ticket).await? else {
        return Err(no_such_call());
    };
    let registry = registry_rows(lang, state.store.find_identity(&t.id_number).await?);
    let names = staff_names(&state).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let decisions = state.store.decisions_for_ticket(&ticket).await?;
    let last = decisions.last();
    let ticked: Vec<String> = last
        .and_then(|d| serde_json::from_str(&d.checklist).ok())
        .unwrap_or_default();
    let checklist = state
        .verification
        .rules
        .items
        .iter()
        .map(|i| {
            (
                lang.pick(&i.label.es, &i.label.en).to_owned(),
                ticked.contains(&i.id),
            )
        })
        .collect();
    let audit = state.store.audit_for_subject(&ticket).await?;
    let recordings = state
        .store
        .recordings_for_ticket(&ticket)
        .await?
        .into_iter()
        .map(|r| RecordingView::new(r, &audit))
        .collect();
    let hold = state
        .store
        .legal_hold(&ticket)
        .await?
        .map(|h| (name(&h.held_by), madrid_time(h.held_at), h.reason));
    let can_review = !auditor && review.as_ref().is_some_and(|r| r.outcome.is_none());
    let can_resolve = auditor
        && review
            .as_ref()
            .is_some_and(|r| r.outcome.as_deref() == Some("flagged") && r.resolution.is_none());
    let rules = &state.verification.rules;
    let flag_label = |code: &str| {
        rules.flag_reason(code).map_or_else(
            || code.to_owned(),
            |f| lang.pick(&f.label.es, &f.label.en).to_owned(),
        )
    };
    let review = review.map(|r| ReviewView {
        why: sampled_words(lang, &r.sampled_for),
        state: review_state(lang, &r),
        reviewer: r.reviewer_id.as_deref().map(&name).unwrap_or_default(),
        reason: r.reason.as_deref().map(&flag_label).unwrap_or_default(),
        note: r.note.unwrap_or_default(),
    });
    let page = DecisionPage {
        lang,
        chrome: chrome(&state, &staff),
        auditor,
        registry,
        review,
        can_review,
        can_resolve,
        flag_reasons: rules
            .review_flags
            .iter()
            .map(|f| {
                (
                    f.code.clone(),
                    lang.pick(&f.label.es, &f.label.en).to_owned(),
                )
            })
            .collect(),
        hold,
        recordings,
        csrf: staff.session.csrf_token.clone(),
        id_number: t.id_number,
        note: last.map(|d| d.note.clone()).unwrap_or_default(),
        checklist,
        decisions: decisions
            .iter()
            .map(|d| DecisionRow {
                ticket: d.ticket_id.clone(),
                at: madrid_time(d.at),
                agent: name(&d.agent_id),
                outcome: d.outcome.as_str().to_owned(),
                reason: d.reason.clone().unwrap_or_default(),
            })
            .collect(),
        stills: state
            .store
            .stills_for_ticket(&ticket)
            .await?
            .into_iter()
            .map(|s| StillView {
                kind: s.kind.as_str(),
                size: format!("{}×{}", s.width, s.height),
                at: madrid_time(s.at),
                purged: s.purged_at.map(madrid_time),
                sha256: s.sha256,
                id: s.id,
            })
            .collect(),
        events: audit
            .into_iter()
            .map(|e| EventView {
                id: e.id,
                at: madrid_time(e.at),
                actor: name(&e.actor),
                action: e.action,
                detail: e.detail,
            })
            .collect(),
        ticket,
    };
    Ok(Html(page.render()?).into_response())
}
