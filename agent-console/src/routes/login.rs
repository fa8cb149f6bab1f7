//! `/staff/login` and `/staff/logout`.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use store::{NewAuditEvent, NewStaffSession, SessionStage, secrets};

use super::{Chrome, wait_message};
use crate::accounts::{MAX_PASSWORD_BYTES, hash_password, verify_password};
use crate::auth::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, csrf_ok, current_session, set_cookie,
};
use crate::i18n::Lang;
use crate::lockout::{Gate, LOCK_AFTER, gate};
use crate::{ConsoleState, Error};
use signaling::client_addr::ClientAddr;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    lang: Lang,
    chrome: Chrome,
    csrf: String,
    name: String,
    error: Option<String>,
}

/// Renders the form with a fresh double-submit CSRF token.
fn render(
    state: &ConsoleState,
    lang: Lang,
    status: StatusCode,
    name: &str,
    error: Option<String>,
) -> Result<Response, Error> {
    let (csrf, _) = secrets::new_token()?;
    let page = LoginPage {
        lang,
        chrome: Chrome::new(state, None),
        csrf: csrf.clone(),
        name: name.to_owned(),
        error,
    };
    let cookie = set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, state.policy.secure_cookies);
    Ok((status, [(header::SET_COOKIE, cookie)], Html(page.render()?)).into_response())
}

pub async fn page(State(state): State<ConsoleState>, lang: Lang) -> Result<Response, Error> {
    render(&state, lang, StatusCode::OK, "", None)
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

async fn audit(
    state: &ConsoleState,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    addr: &str,
) -> Result<(), Error> {
    let detail = serde_json::json!({ "client_addr": addr }).to_string();
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor,
            action,
            subject,
            detail: &detail,
        })
        .await?;
    Ok(())
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
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if !csrf_ok(expected, &form.csrf) {
        let msg = lang.pick(
            "El formulario ha caducado. Vuelva a escribir sus datos.",
            "The form has expired. Please enter your details again.",
        );
        return render(&state, lang, StatusCode::FORBIDDEN, "", Some(msg.into()));
    }
    let name: String = form.name.trim().to_lowercase().chars().take(64).collect();
    let now = state.clock.now();

    let from_addr = state
        .store
        .staff_login_failures_for_address(&addr, now - state.policy.address_window)
        .await?;
    if from_addr >= state.policy.address_limit {
        audit(
            &state,
            now,
            "anonymous",
            "staff.login_throttled_address",
            &name,
            &addr,
        )
        .await?;
        let msg = wait_message(lang, now, now + state.policy.address_window);
        return render(
            &state,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &name,
            Some(msg),
        );
    }
    if let Some(response) = gate_response(&state, lang, &name, now).await? {
        return Ok(response);
    }

    let user = state.store.find_staff_by_name(&name).await?;
    let password_ok = match &user {
        Some(u) => verify_password(&form.password, &u.password_hash),
        None => {
            // The same argon2 work as a real check, so timing does not tell names apart.
            if form.password.len() <= MAX_PASSWORD_BYTES {
                let _ = hash_password(&form.password)?;
            }
            false
        }
    };
    let Some(user) = user.filter(|_| password_ok) else {
        return failed(&state, lang, &name, &addr, now).await;
    };
    if user.disabled {
        audit(
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
            client_addr: &addr,
            created_at: now,
            expires_at: now + state.policy.absolute_lifetime,
        })
        .await?;
    let next = if !state.policy.mfa_required {
        state.store.clear_staff_login_failures(&name).await?;
        audit(&state, now, &user.id, "staff.signed_in", &name, &addr).await?;
        "/staff"
    } else {
        audit(
            &state,
            now,
            &user.id,
            "staff.password_accepted",
            &name,
            &addr,
        )
        .await?;
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

/// If the name may not try now, the page that says so.
pub(super) async fn gate_response(
    state: &ConsoleState,
    lang: Lang,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Option<Response>, Error> {
    let (failures, latest) = state.store.staff_login_failures_for_name(name).await?;
    Ok(match gate(failures, latest, now) {
        Gate::Open => None,
        Gate::WaitUntil(until) => {
            let msg = wait_message(lang, now, until);
            Some(render(
                state,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                name,
                Some(msg),
            )?)
        }
        Gate::Locked => {
            let msg = lang.pick(
                "Cuenta bloqueada por demasiados intentos fallidos. Pida a un administrador que la restablezca.",
                "Account locked after too many failed attempts. Ask an administrator to reset it.",
            );
            Some(render(
                state,
                lang,
                StatusCode::LOCKED,
                name,
                Some(msg.into()),
            )?)
        }
    })
}

/// Records a failed attempt (wrong name, password or code) and answers the same way for all.
pub(super) async fn failed(
    state: &ConsoleState,
    lang: Lang,
    name: &str,
    addr: &str,
    now: DateTime<Utc>,
) -> Result<Response, Error> {
    state
        .store
        .record_staff_login_failure(name, addr, now)
        .await?;
    audit(state, now, "anonymous", "staff.login_failed", name, addr).await?;
    let (failures, _) = state.store.staff_login_failures_for_name(name).await?;
    if failures == LOCK_AFTER {
        tracing::warn!(user = %name, "staff sign-in locked after repeated failures");
        audit(state, now, "system", "staff.locked", name, addr).await?;
    }
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
        return Ok((StatusCode::FORBIDDEN, super::forbidden_page()).into_response());
    }
    state.store.delete_staff_session(&session.id_hash).await?;
    audit(&state, now, &user.id, "staff.signed_out", &user.name, &addr).await?;
    let clear = set_cookie(SESSION_COOKIE, "", 0, state.policy.secure_cookies);
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/staff/login")).into_response())
}
