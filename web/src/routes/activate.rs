//! `GET /activate` and `POST /activate`: Permanent Cl@ve activation. The citizen gives the ID
//! number, the activation code and a new password (twice); a right, unused, unexpired code
//! is used up and the password stored as an argon2id hash. An unknown ID number and a wrong
//! code get the same answer and count toward the limits; an expired or used code is said so
//! plainly, once the code itself has matched. The form is anonymous, so it carries a
//! double-submit CSRF token (a cookie and a hidden field that must agree).

use agent_console::auth::{cookie, csrf_ok, set_cookie};
use askama::Template;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use signaling::activation::ActivationCode;
use store::{Activation, AttemptKind, NewActivation, NewAuditEvent, secrets};

use crate::Error;
use crate::citizen::form::Shown;
use crate::citizen::limits;
use crate::citizen::limits::admit_password_check;
use crate::citizen::messages::{self, FormErrors};
use crate::citizen::password::CitizenPassword;
use crate::citizen::{MatchedCode, full_name, id_and_code, mask_id_number, match_code};
use crate::identity::DniNie;
use crate::state::AppState;
use agent_console::i18n::Lang;
use signaling::client_addr::ClientAddr;

/// The cookie half of the activation form's CSRF token.
const CSRF_COOKIE: &str = "videoreg_activate_csrf";

pub fn routes() -> Router<AppState> {
    Router::new().route("/activate", get(page).post(submit))
}

#[derive(Template)]
#[template(path = "account_activate.html")]
struct ActivatePage {
    lang: Lang,
    always_open: bool,
    csrf: String,
    id_number: String,
    code: String,
    /// A sentence about the whole form (wrong pair, used or expired code, limits).
    alert: Option<String>,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "account_activated.html")]
struct ActivatedPage {
    lang: Lang,
    always_open: bool,
    masked_id: String,
}

/// What was typed, kept when the form is shown again (never the passwords).
#[derive(Default)]
struct Typed {
    id_number: String,
    code: String,
}

/// The form with a fresh CSRF token and its cookie.
fn render(state: &AppState, lang: Lang, typed: Typed, shown: Shown) -> Result<Response, Error> {
    let (csrf, _) = secrets::new_token()?;
    let page = ActivatePage {
        lang,
        always_open: state.calendar.is_always_open(),
        csrf: csrf.clone(),
        id_number: typed.id_number,
        code: typed.code,
        alert: shown.alert,
        errors: shown.errors,
    };
    let secure = state.console.policy.secure_cookies;
    let cookie = set_cookie(CSRF_COOKIE, &csrf, 3600, secure);
    let html = Html(page.render()?);
    Ok((shown.status, [(header::SET_COOKIE, cookie)], html).into_response())
}

async fn page(State(state): State<AppState>, lang: Lang) -> Result<Response, Error> {
    render(&state, lang, Typed::default(), Shown::blank())
}

#[derive(Deserialize)]
struct ActivateForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    csrf: String,
}

async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<ActivateForm>, FormRejection>,
) -> Result<Response, Error> {
    let Ok(Form(form)) = form else {
        return render(&state, lang, Typed::default(), Shown::bad_form(lang));
    };
    let typed = Typed {
        id_number: form.id_number.chars().take(32).collect(),
        code: form.code.chars().take(32).collect(),
    };
    let fail =
        |status, typed, alert: String| render(&state, lang, typed, Shown::alert(status, alert));
    if !csrf_ok(
        cookie(&headers, CSRF_COOKIE, state.console.policy.secure_cookies).unwrap_or(""),
        &form.csrf,
    ) {
        return fail(
            StatusCode::FORBIDDEN,
            typed,
            messages::form_expired(lang).to_owned(),
        );
    }

    let (id, code) = match checked_fields(lang, &form) {
        Ok(fields) => fields,
        Err(errors) => return render(&state, lang, typed, Shown::invalid(errors)),
    };

    let admitted = match admit_password_check(&state.console.hashing, lang, &addr) {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal.respond(|shown| render(&state, lang, typed, shown)),
    };
    let now = state.clock.now();
    let kind = AttemptKind::Activation;
    let attempt = match limits::begin(&state.store, lang, &id, &addr, kind, now).await? {
        Ok(attempt) => attempt,
        Err(refusal) => return refusal.respond(|shown| render(&state, lang, typed, shown)),
    };

    let code_hash = code.hash();
    let Some(matched) = match_code(&state.store, &id, &code_hash).await? else {
        attempt.failed(&state.store, &id, &addr, kind, now).await?;
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            typed,
            messages::wrong_code(lang).to_owned(),
        );
    };
    attempt.succeeded(&state.store, &id, &addr, now).await?;
    if matched.code.used_at.is_some() {
        return fail(
            StatusCode::CONFLICT,
            typed,
            messages::code_used(lang).to_owned(),
        );
    }
    if matched.code.expires_at <= now {
        let on = crate::citizen::receipt::madrid_time(lang, matched.code.expires_at);
        return fail(StatusCode::GONE, typed, messages::code_expired(lang, &on));
    }
    if let Some(review) = state
        .store
        .review_blocking(&matched.registration.id)
        .await?
    {
        let message = match review.resolution.as_deref() {
            Some("revoked") => messages::registration_revoked(lang),
            _ => messages::under_review(lang),
        };
        return fail(StatusCode::CONFLICT, typed, message.to_owned());
    }

    // The code is right: now the name can be checked against the password.
    let names = full_name(&state.store, &id).await?;
    let password = match CitizenPassword::parse(&form.password, id.as_str(), &names) {
        Ok(p) => p,
        Err(e) => {
            let mut errors = FormErrors::default();
            errors.add("password", messages::password(lang, e));
            return render(&state, lang, typed, Shown::invalid(errors));
        }
    };
    let password_hash = state
        .console
        .hashing
        .hash(&admitted, password.into_inner())
        .await?;
    drop(admitted);

    let done = Activated {
        id: &id,
        code_hash: &code_hash,
        password_hash: &password_hash,
        matched: &matched,
        addr: &addr,
        now,
    };
    store_activation(&state, lang, typed, done).await
}

/// A checked activation, ready to be stored.
struct Activated<'a> {
    id: &'a DniNie,
    code_hash: &'a str,
    password_hash: &'a str,
    matched: &'a MatchedCode,
    addr: &'a str,
    now: chrono::DateTime<chrono::Utc>,
}

/// Stores the password and uses up the code in one transaction with its audit event, and
/// answers: the "activated" page, or why not (the code used, expired or changed meanwhile).
async fn store_activation(
    state: &AppState,
    lang: Lang,
    typed: Typed,
    done: Activated<'_>,
) -> Result<Response, Error> {
    let fail =
        |status, typed, alert: String| render(state, lang, typed, Shown::alert(status, alert));
    let masked = mask_id_number(done.id);
    let detail =
        serde_json::json!({ "client_addr": done.addr, "registration": done.matched.registration.id })
            .to_string();
    let activated = state
        .store
        .activate(
            &NewActivation {
                id_number: done.id.as_str(),
                code_hash: done.code_hash,
                password_hash: done.password_hash,
                client_addr: done.addr,
                at: done.now,
            },
            &NewAuditEvent {
                at: done.now,
                actor: "citizen",
                action: "citizen.activated",
                subject: &masked,
                detail: &detail,
            },
        )
        .await?;
    match activated {
        Activation::Activated => {
            let page = ActivatedPage {
                lang,
                always_open: state.calendar.is_always_open(),
                masked_id: masked,
            };
            let clear = set_cookie(CSRF_COOKIE, "", 0, state.console.policy.secure_cookies);
            Ok((
                StatusCode::OK,
                [(header::SET_COOKIE, clear)],
                Html(page.render()?),
            )
                .into_response())
        }
        // Another request used the code between the check above and this transaction.
        Activation::AlreadyUsed => fail(
            StatusCode::CONFLICT,
            typed,
            messages::code_used(lang).to_owned(),
        ),
        Activation::Expired => {
            let on = crate::citizen::receipt::madrid_time(lang, done.matched.code.expires_at);
            fail(StatusCode::GONE, typed, messages::code_expired(lang, &on))
        }
        // A second reviewer flagged the approval between the check above and this
        // transaction.
        Activation::UnderReview => fail(
            StatusCode::CONFLICT,
            typed,
            messages::under_review(lang).to_owned(),
        ),
        Activation::WrongCode | Activation::NoRegistration => fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            typed,
            messages::wrong_code(lang).to_owned(),
        ),
    }
}

/// Every field's own checks, so that all their errors show at once: the ID number, the code,
/// and the password (its rules that need no registry data) with its repetition.
fn checked_fields(lang: Lang, form: &ActivateForm) -> Result<(DniNie, ActivationCode), FormErrors> {
    let mut errors = FormErrors::default();
    let (id, code) = id_and_code(lang, &form.id_number, &form.code, &mut errors);
    if form.password.is_empty() {
        errors.add("password", messages::password_missing(lang));
    } else if let Err(e) =
        CitizenPassword::parse(&form.password, id.as_ref().map_or("", DniNie::as_str), "")
    {
        errors.add("password", messages::password(lang, e));
    } else if form.password != form.repeat {
        errors.add("repeat", messages::passwords_differ(lang));
    }
    match (id, code, errors.is_empty()) {
        (Some(id), Some(code), true) => Ok((id, code)),
        _ => Err(errors),
    }
}
