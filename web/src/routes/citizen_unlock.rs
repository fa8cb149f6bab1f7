//! `POST /staff/citizens/unlock`: a supervisor lifts every wait on a citizen's ID number
//! (sign-in, activation, receipts, contrast checks), for a citizen who calls because a
//! stranger keeps provoking them. Supervisors only (checked on the server by the role
//! extractor, which audits a refusal); the session's CSRF token must come as the `csrf` field
//! or the `x-csrf-token` header; the unlock is written to the audit trail as
//! `citizen.unlocked` with the supervisor as actor, in the same transaction as the unlock.
//! It lives here rather than in `agent_console` because the ID number's rules are `web`'s.

use agent_console::auth::{Staff, SupervisorsOnly, csrf_header_ok, csrf_ok};
use agent_console::i18n::Lang;
use agent_console::refusal::ErrorBody;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use signaling::client_addr::ClientAddr;

use crate::Error;
use crate::citizen::limits;
use crate::identity::DniNie;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/staff/citizens/unlock", post(unlock))
}

/// The unlock form.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UnlockForm {
    /// The citizen's DNI or NIE.
    #[serde(default)]
    #[schema(example = "12345678Z")]
    id_number: String,
    /// Why (kept in the audit trail, 200 characters at most).
    #[serde(default)]
    reason: String,
    /// The session's CSRF token, unless sent as `X-CSRF-Token`.
    #[serde(default)]
    csrf: String,
}

/// What an unlock cleared.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Unlocked {
    /// The ID number, masked.
    unlocked: String,
    /// How many counters were cleared.
    cleared: u64,
}

/// Lifts every wait on a citizen's ID number.
#[utoipa::path(
    post,
    path = "/staff/citizens/unlock",
    tag = "supervision",
    operation_id = "unlock_citizen",
    security(("staff_session" = [], "csrf" = []), ("staff_session" = [])),
    request_body(content = UnlockForm, content_type = "application/x-www-form-urlencoded",
        description = "The CSRF token comes as the `csrf` field or the `X-CSRF-Token` header"),
    responses(
        (status = 200, description = "Unlocked, and written to the audit trail", body = Unlocked),
        (status = 303, description = "A browser (`Accept: text/html`) without a session is sent to `/staff/login`",
            headers(("Location" = String))),
        (status = 400, description = "`bad_form`: not a form (or larger than 16 KiB)", body = ErrorBody),
        (status = 401, description = "`sign_in_required`", body = ErrorBody),
        (status = 403, description = "`forbidden` (not a supervisor; a page for a browser) or `csrf`",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 422, description = "`invalid_id_number`", body = ErrorBody),
        (status = 500, description = "`internal`, with the request id (a page unless JSON is accepted)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 503, description = "`unavailable`: the database cannot be reached (a page unless JSON is accepted)",
            content((ErrorBody = "application/json"), (String = "text/html")),
            headers(("Retry-After" = u64))),
    )
)]
pub(crate) async fn unlock(
    State(state): State<AppState>,
    staff: Staff<SupervisorsOnly>,
    lang: Lang,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<UnlockForm>, FormRejection>,
) -> Result<Json<Unlocked>, Error> {
    let Ok(Form(form)) = form else {
        let msg = crate::citizen::messages::bad_form(lang);
        return Err(Error::client(StatusCode::BAD_REQUEST, "bad_form", msg));
    };
    let csrf =
        csrf_ok(&staff.session.csrf_token, &form.csrf) || csrf_header_ok(&headers, &staff.session);
    if !csrf {
        return Err(agent_console::Error::from(agent_console::Refusal::invalid_session()).into());
    }
    let id = DniNie::parse(&form.id_number).map_err(|e| {
        let msg = crate::citizen::messages::id_number(lang, e);
        Error::client(StatusCode::UNPROCESSABLE_ENTITY, "invalid_id_number", msg)
    })?;
    let reason: String = form.reason.chars().take(200).collect();
    let detail = json!({ "client_addr": addr, "reason": reason });
    let now = state.clock.now();
    let cleared = limits::unlock(&state.store, &id, &staff.user.id, detail, now).await?;
    Ok(Json(Unlocked {
        unlocked: id.masked(),
        cleared,
    }))
}
