//! `GET /login` and `POST /login`: a citizen signs in with the ID number and the Permanent
//! Cl@ve password and sees the registration, which proves the password works. No session is
//! made (nothing after this page needs one), so there is no session to ride: the form is
//! guarded against other sites by the same-origin check of the account forms
//! (`crate::middleware::same_origin_posts`), since its failures count. An unknown ID
//! number, an ID without a password yet, and a wrong password take the same path (one
//! argon2id verification on the bounded pool, against a dummy hash when there is no
//! credential) and get the same answer; failures count toward the limits activation uses.
//! One address may have only so many checks at once: over that it gets 429 at once.

use askama::Template;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use store::{AttemptKind, NewAuditEvent};

use crate::Error;
use crate::citizen::form::Shown;
use crate::citizen::limits;
use crate::citizen::limits::admit_password_check;
use crate::citizen::messages::{self, FormErrors};
use crate::citizen::receipt::{grouped_reference, madrid_time};
use crate::citizen::{full_name, mask_id_number};
use crate::identity::DniNie;
use crate::state::AppState;
use agent_console::i18n::Lang;
use signaling::client_addr::ClientAddr;

pub fn routes() -> Router<AppState> {
    Router::new().route("/login", get(page).post(submit))
}

#[derive(Template)]
#[template(path = "account_login.html")]
struct LoginPage {
    lang: Lang,
    always_open: bool,
    id_number: String,
    alert: Option<String>,
    errors: FormErrors,
}

/// The registration a signed-in citizen sees.
#[derive(Template)]
#[template(path = "account_registration.html")]
struct RegistrationPage {
    lang: Lang,
    always_open: bool,
    full_name: String,
    masked_id: String,
    registered_at: Option<String>,
    reference: Option<String>,
}

fn render(
    state: &AppState,
    lang: Lang,
    id_number: String,
    shown: Shown,
) -> Result<Response, Error> {
    let page = LoginPage {
        lang,
        always_open: state.calendar.is_always_open(),
        id_number,
        alert: shown.alert,
        errors: shown.errors,
    };
    Ok((shown.status, Html(page.render()?)).into_response())
}

async fn page(State(state): State<AppState>, lang: Lang) -> Result<Response, Error> {
    render(&state, lang, String::new(), Shown::blank())
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    password: String,
}

async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientAddr(addr): ClientAddr,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, Error> {
    let Ok(Form(form)) = form else {
        return render(&state, lang, String::new(), Shown::bad_form(lang));
    };
    let typed: String = form.id_number.chars().take(32).collect();
    let mut errors = FormErrors::default();
    let id = DniNie::parse(&form.id_number)
        .map_err(|e| errors.add("id_number", messages::id_number(lang, e)))
        .ok();
    if form.password.is_empty() {
        errors.add("password", messages::password_missing(lang));
    }
    let (Some(id), true) = (id, errors.is_empty()) else {
        return render(&state, lang, typed, Shown::invalid(errors));
    };

    let admitted = match admit_password_check(&state.console.hashing, lang, &addr) {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal.respond(|shown| render(&state, lang, typed, shown)),
    };
    let now = state.clock.now();
    let kind = AttemptKind::Login;
    let attempt = match limits::begin(&state.store, lang, &id, &addr, kind, now).await? {
        Ok(attempt) => attempt,
        Err(refusal) => return refusal.respond(|shown| render(&state, lang, typed, shown)),
    };

    let credential = state.store.citizen_credential(id.as_str()).await?;
    let known = credential.is_some();
    // No credential: checked against a dummy hash, the same work and the same answer.
    let matches = state
        .console
        .hashing
        .verify(
            &admitted,
            form.password,
            credential.map(|c| c.password_hash),
        )
        .await?;
    drop(admitted);
    if !(known && matches) {
        attempt.failed(&state.store, &id, &addr, kind, now).await?;
        let wrong = messages::wrong_password(lang);
        let shown = Shown::alert(StatusCode::UNPROCESSABLE_ENTITY, wrong);
        return render(&state, lang, typed, shown);
    }
    attempt.succeeded(&state.store, &id, &addr, now).await?;

    let masked = mask_id_number(&id);
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor: "citizen",
            action: "citizen.signed_in",
            subject: &masked,
            detail: &crate::citizen::id_event_detail(&state.store, &id, &addr),
        })
        .await?;
    let registration = state.store.citizen_registration(id.as_str()).await?;
    let full_name = full_name(&state.store, &id).await?;
    let page = RegistrationPage {
        lang,
        always_open: state.calendar.is_always_open(),
        full_name,
        masked_id: masked,
        registered_at: registration
            .as_ref()
            .map(|r| madrid_time(lang, r.created_at)),
        reference: registration.as_ref().map(|r| grouped_reference(&r.id)),
    };
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(page.render()?),
    )
        .into_response())
}
