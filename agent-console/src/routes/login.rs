//! `/staff/login` and `/staff/logout`.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use store::{NewStaffSession, SessionStage, StaffUser, secrets};

use super::{audit_sign_in, record_failure, signed_in_clears};
use crate::auth::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, csrf_ok, current_session, set_cookie,
};
use crate::i18n::Lang;
use crate::passwords::hashing::RETRY_AFTER_SECS;
use crate::refusal::{Page, Refusal, sign_in_form, sign_in_gate};
use crate::{ConsoleState, Error};
use signaling::client_addr::ClientAddr;

/// The form again with `status` and a message.
fn render(
    state: &ConsoleState,
    lang: Lang,
    status: StatusCode,
    name: &str,
    error: Option<String>,
) -> Result<Response, Error> {
    Ok(sign_in_form(state, lang, status, name, error)?.into_response())
}

pub async fn page(State(state): State<ConsoleState>, lang: Lang) -> Result<Page, Error> {
    sign_in_form(&state, lang, StatusCode::OK, "", None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn submit(
    State(state): State<ConsoleState>,
    lang: Lang,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, Error> {
    let Ok(Form(form)) = form else {
        return render(
            &state,
            lang,
            StatusCode::BAD_REQUEST,
            "",
            Some(lang.pick("Formulario no válido.", "Invalid form.").into()),
        );
    };
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE, state.policy.secure_cookies).unwrap_or("");
    if !csrf_ok(expected, &form.csrf) {
        let msg = lang.pick(
            "El formulario ha caducado. Vuelva a escribir sus datos.",
            "The form has expired. Please enter your details again.",
        );
        return render(&state, lang, StatusCode::FORBIDDEN, "", Some(msg.into()));
    }
    let name: String = form.name.trim().to_lowercase().chars().take(64).collect();
    let now = state.clock.now();

    // Before anything else costs: one address may have only so many checks at once.
    let Some(admitted) = state.hashing.admit(&addr) else {
        return too_many_at_once(&state, lang, &name);
    };
    let failures = sign_in_gate(&state, lang, &name, Some(&addr), now).await?;

    let user = state.store.find_staff_by_name(&name).await?;
    // An unknown name is checked against a dummy hash: the same work, the same answer.
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let password_ok = state
        .hashing
        .verify(&admitted, form.password, stored)
        .await?;
    drop(admitted);
    let Some(user) = user.filter(|_| password_ok) else {
        return failed(&state, lang, &name, &addr, failures, now).await;
    };
    if user.disabled {
        audit_sign_in(
            &state,
            now,
            &user.id,
            "staff.login_disabled_account",
            &name,
            &addr,
        )
        .await?;
        let msg = lang.pick(
            "Esta cuenta está desactivada. Hable con su supervisor.",
            "This account is disabled. Talk to your supervisor.",
        );
        return render(&state, lang, StatusCode::FORBIDDEN, &name, Some(msg.into()));
    }
    start_session(&state, &user, &addr, now).await
}

/// Starts a session for `user` whose password was accepted: fully signed in when the second
/// factor is off, else waiting for it; sets the session cookie and sends the browser on.
async fn start_session(
    state: &ConsoleState,
    user: &StaffUser,
    addr: &str,
    now: DateTime<Utc>,
) -> Result<Response, Error> {
    let name = &user.name;
    let (token, id_hash) = secrets::new_token()?;
    let (csrf, _) = secrets::new_token()?;
    let stage = if state.policy.mfa_required {
        SessionStage::Password
    } else {
        SessionStage::Full
    };
    state
        .store
        .insert_staff_session(&NewStaffSession {
            id_hash: &id_hash,
            user_id: &user.id,
            stage,
            csrf_token: &csrf,
            client_addr: addr,
            created_at: now,
            expires_at: now + state.policy.absolute_lifetime,
        })
        .await?;
    let next = if !state.policy.mfa_required {
        signed_in_clears(state, name, addr).await?;
        audit_sign_in(state, now, &user.id, "staff.signed_in", name, addr).await?;
        "/staff"
    } else {
        audit_sign_in(state, now, &user.id, "staff.password_accepted", name, addr).await?;
        if user.totp_secret.is_some() {
            "/staff/mfa"
        } else {
            "/staff/mfa/enroll"
        }
    };
    let max_age = state.policy.absolute_lifetime.num_seconds();
    let session_cookie = set_cookie(SESSION_COOKIE, &token, max_age, state.policy.secure_cookies);
    let clear_login_csrf = set_cookie(LOGIN_CSRF_COOKIE, "", 0, state.policy.secure_cookies);
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, session_cookie),
            (header::SET_COOKIE, clear_login_csrf),
        ]),
        Redirect::to(next),
    )
        .into_response())
}

/// The form again with 429 and `Retry-After`: this address already has as many password
/// checks running as it may. Nothing was hashed and nothing is counted.
fn too_many_at_once(state: &ConsoleState, lang: Lang, name: &str) -> Result<Response, Error> {
    let msg = lang.pick(
        "Hay demasiados inicios de sesión a la vez desde su dirección. Espere un momento y vuelva a intentarlo.",
        "Too many sign-ins at once from your address. Wait a moment and try again.",
    );
    let form = sign_in_form(
        state,
        lang,
        StatusCode::TOO_MANY_REQUESTS,
        name,
        Some(msg.into()),
    )?;
    Ok(([(header::RETRY_AFTER, RETRY_AFTER_SECS.to_string())], form).into_response())
}

/// Records a failed attempt (wrong name or password) and answers the same way for all.
async fn failed(
    state: &ConsoleState,
    lang: Lang,
    name: &str,
    addr: &str,
    failures: i64,
    now: DateTime<Utc>,
) -> Result<Response, Error> {
    record_failure(state, name, addr, failures, now).await?;
    let msg = lang.pick(
        "Usuario o contraseña incorrectos.",
        "Wrong user name or password.",
    );
    render(
        state,
        lang,
        StatusCode::UNAUTHORIZED,
        name,
        Some(msg.into()),
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session, at whatever stage (a half-finished sign-in can be abandoned too).
pub async fn logout(
    State(state): State<ConsoleState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, Error> {
    let now = state.clock.now();
    let Some((session, user)) = current_session(&state, &headers, now).await? else {
        return Ok(Redirect::to("/staff/login").into_response());
    };
    let submitted = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if !csrf_ok(&session.csrf_token, &submitted) {
        return Err(Refusal::forbidden(true).into());
    }
    state.store.delete_staff_session(&session.id_hash).await?;
    audit_sign_in(&state, now, &user.id, "staff.signed_out", &user.name, &addr).await?;
    let clear = set_cookie(SESSION_COOKIE, "", 0, state.policy.secure_cookies);
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/staff/login")).into_response())
}
