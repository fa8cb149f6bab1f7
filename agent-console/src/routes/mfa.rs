//! `/staff/mfa` (the TOTP code at each sign-in) and `/staff/mfa/enroll` (first sign-in).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use store::{NewAuditEvent, RenewedSession, SessionStage, StaffSession, StaffUser, secrets};

use super::{Chrome, SignedIn, record_failure, signed_in_clears};
use crate::auth::{SESSION_COOKIE, csrf_ok, current_session, set_cookie};
use crate::i18n::Lang;
use crate::refusal::{Refusal, sign_in_gate};
use crate::{ConsoleState, Error, totp};
use signaling::client_addr::ClientAddr;

/// The secret and QR code being enrolled.
pub struct Enrolment {
    secret: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    lang: Lang,
    chrome: Chrome,
    action: &'static str,
    csrf: String,
    enrolment: Option<Enrolment>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

/// The half-finished sign-in of this request; refused with a redirect to where the visitor
/// belongs instead (the sign-in page without one, home when already fully signed in).
async fn awaiting(
    state: &ConsoleState,
    headers: &HeaderMap,
) -> Result<(StaffSession, StaffUser), Error> {
    let now = state.clock.now();
    match current_session(state, headers, now).await? {
        None => Err(Refusal::Redirect("/staff/login").into()),
        Some((s, _)) if s.stage == SessionStage::Full => Err(Refusal::Redirect("/staff").into()),
        Some(pair) => Ok(pair),
    }
}

fn render(
    state: &ConsoleState,
    lang: Lang,
    status: StatusCode,
    session: &StaffSession,
    user: &StaffUser,
    enrolment: Option<Enrolment>,
    error: Option<String>,
) -> Result<Response, Error> {
    let chrome = Chrome::new(
        state,
        Some(SignedIn {
            name: user.name.clone(),
            role: user.role.as_str(),
            csrf: session.csrf_token.clone(),
        }),
    );
    let page = MfaPage {
        lang,
        chrome,
        action: if enrolment.is_some() {
            "/staff/mfa/enroll"
        } else {
            "/staff/mfa"
        },
        csrf: session.csrf_token.clone(),
        enrolment,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn page(
    State(state): State<ConsoleState>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let (session, user) = awaiting(&state, &headers).await?;
    if user.totp_secret.is_none() {
        return Err(Refusal::Redirect("/staff/mfa/enroll").into());
    }
    render(&state, lang, StatusCode::OK, &session, &user, None, None)
}

pub async fn enrol_page(
    State(state): State<ConsoleState>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let (session, user) = awaiting(&state, &headers).await?;
    if user.totp_secret.is_some() {
        return Err(Refusal::Redirect("/staff/mfa").into());
    }
    let enrolment = enrolment_for(&state, &session, &user).await?;
    render(
        &state,
        lang,
        StatusCode::OK,
        &session,
        &user,
        Some(enrolment),
        None,
    )
}

async fn enrolment_for(
    state: &ConsoleState,
    session: &StaffSession,
    user: &StaffUser,
) -> Result<Enrolment, Error> {
    let secret = match &session.pending_totp_secret {
        Some(s) => s.clone(),
        None => {
            let s = totp::new_secret()?;
            state
                .store
                .set_pending_totp_secret(&session.id_hash, &s)
                .await?;
            s
        }
    };
    let qr_svg = totp::qr_svg(&totp::otpauth_url(&secret, &user.name)?)?;
    Ok(Enrolment { secret, qr_svg })
}

/// A code submission that passed the checks both forms share.
struct Submission {
    session: StaffSession,
    user: StaffUser,
    code: String,
    now: chrono::DateTime<chrono::Utc>,
    /// The name's failures counted, this attempt included.
    failures: i64,
}

/// The checks both code forms share: a half-finished sign-in, an account that is (or is not
/// yet) enrolled, the CSRF token, and the brute-force gate. Each refuses as a browser needs:
/// a redirect to the right place, the 403 page, or the sign-in form saying how long to wait.
async fn checked(
    state: &ConsoleState,
    lang: Lang,
    headers: &HeaderMap,
    form: Result<Form<CodeForm>, FormRejection>,
    enrolled: bool,
) -> Result<Submission, Error> {
    let (session, user) = awaiting(state, headers).await?;
    if user.totp_secret.is_some() != enrolled {
        let to = if enrolled {
            "/staff/mfa/enroll"
        } else {
            "/staff/mfa"
        };
        return Err(Refusal::Redirect(to).into());
    }
    let form = form.map(|Form(f)| f).unwrap_or(CodeForm {
        code: String::new(),
        csrf: String::new(),
    });
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return Err(Refusal::forbidden(true).into());
    }
    let now = state.clock.now();
    let failures = sign_in_gate(state, lang, &user.name, None, now).await?;
    Ok(Submission {
        session,
        user,
        code: form.code,
        now,
        failures,
    })
}

pub async fn submit(
    State(state): State<ConsoleState>,
    lang: Lang,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Result<Response, Error> {
    let Submission {
        session,
        user,
        code,
        now,
        failures,
    } = checked(&state, lang, &headers, form, true).await?;
    let Some(secret) = user.totp_secret.clone() else {
        return Err(Refusal::Redirect("/staff/mfa/enroll").into());
    };
    let accepted = match totp::check(&secret, &code, now)? {
        Some(step) => state.store.advance_staff_totp_step(&user.id, step).await?,
        None => false,
    };
    if !accepted {
        record_failure(&state, &user.name, &addr, failures, now).await?;
        let msg = lang.pick(
            "Código incorrecto o ya usado. Espere al siguiente código y vuelva a intentarlo.",
            "Wrong or already used code. Wait for the next code and try again.",
        );
        return render(
            &state,
            lang,
            StatusCode::UNAUTHORIZED,
            &session,
            &user,
            None,
            Some(msg.into()),
        );
    }
    finish(&state, &session, &user, &addr, "staff.signed_in").await
}

pub async fn enrol_submit(
    State(state): State<ConsoleState>,
    lang: Lang,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Result<Response, Error> {
    let Submission {
        session,
        user,
        code,
        now,
        failures,
    } = checked(&state, lang, &headers, form, false).await?;
    let enrolment = enrolment_for(&state, &session, &user).await?;
    let Some(step) = totp::check(&enrolment.secret, &code, now)? else {
        record_failure(&state, &user.name, &addr, failures, now).await?;
        let msg = lang.pick(
            "El código no coincide. Compruebe la hora de su teléfono y escriba el código actual.",
            "The code does not match. Check your phone's clock and type the current code.",
        );
        return render(
            &state,
            lang,
            StatusCode::UNAUTHORIZED,
            &session,
            &user,
            Some(enrolment),
            Some(msg.into()),
        );
    };
    state
        .store
        .set_staff_totp(&user.id, Some(&enrolment.secret), Some(step), now)
        .await?;
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor: &user.id,
            action: "staff.mfa_enrolled",
            subject: &user.name,
            detail: "{}",
        })
        .await?;
    finish(&state, &session, &user, &addr, "staff.signed_in").await
}

/// Completes the sign-in under a new session id and CSRF token, so that an id learned
/// before the second factor (a fixed or leaked cookie) is worth nothing after it.
async fn finish(
    state: &ConsoleState,
    session: &StaffSession,
    user: &StaffUser,
    addr: &str,
    action: &str,
) -> Result<Response, Error> {
    let now = state.clock.now();
    let (token, id_hash) = secrets::new_token()?;
    let (csrf, _) = secrets::new_token()?;
    let renewed = RenewedSession {
        id_hash: &id_hash,
        csrf_token: &csrf,
    };
    if !state
        .store
        .complete_staff_session(&session.id_hash, &renewed, now)
        .await?
    {
        // Completed meanwhile by a concurrent request: this one signs in afresh.
        return Err(Refusal::Redirect("/staff/login").into());
    }
    signed_in_clears(state, &user.name, addr).await?;
    let detail = serde_json::json!({ "client_addr": addr }).to_string();
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor: &user.id,
            action,
            subject: &user.name,
            detail: &detail,
        })
        .await?;
    let max_age = (session.expires_at - now).num_seconds().max(0);
    let cookie = set_cookie(SESSION_COOKIE, &token, max_age, state.policy.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/staff")).into_response())
}
