//! `POST /staff/citizens/unlock`: a supervisor lifts every wait on a citizen's ID number
//! (sign-in, activation, receipts, contrast checks), for a citizen who calls because a
//! stranger keeps provoking them. Supervisors only (checked on the server by the role
//! extractor, which audits a refusal); the session's CSRF token must come as the `csrf` field
//! or the `x-csrf-token` header; the unlock is written to the audit trail as
//! `citizen.unlocked` with the supervisor as actor, in the same transaction as the unlock.
//! It lives here rather than in `agent_console` because the ID number's rules are `web`'s.

use agent_console::auth::{Staff, SupervisorsOnly, csrf_header_ok, csrf_ok};
use agent_console::i18n::Lang;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;
use signaling::client_addr::ClientAddr;

use crate::Error;
use crate::citizen::limits;
use crate::identity::DniNie;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/staff/citizens/unlock", post(unlock))
}

#[derive(Deserialize)]
struct UnlockForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    csrf: String,
}

async fn unlock(
    State(state): State<AppState>,
    staff: Staff<SupervisorsOnly>,
    lang: Lang,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<UnlockForm>, FormRejection>,
) -> Result<Json<serde_json::Value>, Error> {
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
    Ok(Json(json!({ "unlocked": id.masked(), "cleared": cleared })))
}
