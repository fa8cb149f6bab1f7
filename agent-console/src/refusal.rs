//! Refusals: every way a staff request is turned down because of the client, built in one
//! place, and the checks several routes share that end in one (the call an agent holds, the
//! sign-in gate, with the sign-in form the gate answers with).
//!
//! A [`Refusal`] is held by [`Error::Refused`], so handlers refuse with `?` and keep one error
//! type. It carries how it is shown, because staff routes answer two kinds of client. The
//! console's `fetch` calls, and any request that does not ask for a page, get JSON in the same
//! shape as the citizen API: `{"error": {"code": "…", "message": "es / en"}}` with the status.
//! A browser navigating gets what a browser can use: a page (the 403 page, the sign-in form
//! saying how long to wait) or a redirect (to sign in, to the second factor, to the right
//! form). Internal errors are never refusals: they stay in [`Error`]'s other variants, are
//! logged once and are shown with the request id.

use std::fmt;

use askama::Template;
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::{NewAuditEvent, ThrottleScope, Ticket, TicketStatus, secrets};

use crate::auth::{LOGIN_CSRF_COOKIE, set_cookie};
use crate::checklist::Missing;
use crate::i18n::Lang;
use crate::lockout::{Backoff, STAFF_NAME};
use crate::routes::Chrome;
use crate::throttle::{Admission, Limit, admit};
use crate::{ConsoleState, Error};

/// A request refused because of the client, and how it is shown.
#[derive(Debug)]
pub enum Refusal {
    /// For clients that did not ask for a page: `status` and an [`ErrorBody`]
    /// `{"error": {"code": …, "message": …}}`, with `missing` when an approval lacks checks.
    Json {
        /// HTTP status.
        status: StatusCode,
        /// Stable machine-readable code, e.g. `not_in_call`.
        code: &'static str,
        /// What went wrong, in Spanish and English ("es / en").
        message: String,
        /// What an approval lacks (`checklist_incomplete`); `None` for other refusals.
        missing: Option<Vec<Missing>>,
    },
    /// For a browser: a page (boxed: it is much larger than the other refusals).
    Page(Box<Page>),
    /// For a browser: the staff page to go to instead (303 See Other).
    Redirect(&'static str),
}

/// A rendered page with its status and headers.
#[derive(Debug)]
pub struct Page {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers besides the content type (e.g. a cookie).
    pub headers: HeaderMap,
    /// The HTML document.
    pub html: String,
}

impl Refusal {
    /// A JSON refusal.
    pub fn json(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Json {
            status,
            code,
            message: message.into(),
            missing: None,
        }
    }

    /// A page refusal.
    pub fn page(page: Page) -> Self {
        Self::Page(Box::new(page))
    }

    /// Adds what an approval lacks to a JSON refusal; pages and redirects are left as they are.
    pub fn with_missing(mut self, lacking: Vec<Missing>) -> Self {
        if let Self::Json { missing, .. } = &mut self {
            *missing = Some(lacking);
        }
        self
    }

    /// Signed in without the role for this: the 403 page for a browser, JSON otherwise.
    pub fn forbidden(page: bool) -> Self {
        const MESSAGE: &str = "Su perfil no permite esta acción. / Your role does not allow this.";
        if page {
            Self::page(Page::message(StatusCode::FORBIDDEN, MESSAGE))
        } else {
            Self::json(StatusCode::FORBIDDEN, "forbidden", MESSAGE)
        }
    }

    /// No session: to the sign-in page for a browser, 401 JSON otherwise.
    pub fn sign_in(page: bool) -> Self {
        if page {
            Self::Redirect("/staff/login")
        } else {
            Self::json(
                StatusCode::UNAUTHORIZED,
                "sign_in_required",
                "Inicie sesión en /staff/login. / Sign in at /staff/login.",
            )
        }
    }

    /// A `fetch` request whose `X-CSRF-Token` header does not match the session.
    pub fn invalid_session() -> Self {
        Self::json(
            StatusCode::FORBIDDEN,
            "csrf",
            "Sesión no válida; recargue la página. / Invalid session; reload the page.",
        )
    }

    /// The agent does not hold the call the request is about.
    pub fn not_in_call() -> Self {
        Self::json(
            StatusCode::CONFLICT,
            "not_in_call",
            "No está en llamada con este ciudadano. / You are not in a call with this citizen.",
        )
    }

    /// A path whose parameters could not be read (e.g. percent-encoded bytes that are not
    /// UTF-8): `400 invalid_path`, in the one refusal shape rather than axum's plain text.
    pub fn unreadable_path() -> Self {
        Self::json(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            "La dirección no es válida. / The address is not valid.",
        )
    }

    /// A request body that could not be read as the route takes it: `413 body_too_large`,
    /// or `invalid_body` (with the extractor's status) saying what the route takes.
    pub fn unreadable_body(status: StatusCode, expected: &'static str) -> Self {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::json(
                status,
                "body_too_large",
                "La petición es demasiado grande. / The request is too large.",
            )
        } else {
            Self::json(status, "invalid_body", expected)
        }
    }
}

/// The one shape of every JSON refusal, the citizen API's and the console's alike, and of
/// the generic 500 and 503 answers: `{"error": {"code", "message", …}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// Inside an [`ErrorBody`]: a stable code, a message, and the optional fields some codes carry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_id_number`, `not_in_call`, `internal`.
    #[schema(example = "not_in_call")]
    pub code: &'static str,
    /// What went wrong, for people: in the visitor's language (citizen API) or "es / en"
    /// (staff).
    pub message: String,
    /// Seconds after which to try again (`too_many_attempts`, `unavailable`); the
    /// `Retry-After` header says the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// The request id to quote (`internal`); the `X-Request-Id` header says the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// What an approval lacks (`checklist_incomplete`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<Missing>>,
}

impl ErrorDetail {
    /// A code and a message, no optional fields.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_seconds: None,
            request_id: None,
            missing: None,
        }
    }
}

impl Page {
    /// A short page with one of our messages ("es / en", inserted as it is) and a link back
    /// to the staff home page.
    pub fn message(status: StatusCode, message: &'static str) -> Self {
        let html = format!(
            "<!doctype html><html lang=\"es\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{code}</title><link rel=\"stylesheet\" href=\"/static/app.css\"><main><h1>{code}</h1><p>{message}</p><p><a href=\"/staff\">Volver / Back</a></p></main></html>",
            code = status.as_u16(),
        );
        Self {
            status,
            headers: HeaderMap::new(),
            html,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json {
                status,
                code,
                message,
                ..
            } => write!(f, "{status} {code}: {message}"),
            Self::Page(page) => write!(f, "{} page", page.status),
            Self::Redirect(to) => write!(f, "redirect to {to}"),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Json {
                status,
                code,
                message,
                missing,
            } => {
                let body = ErrorBody {
                    error: ErrorDetail {
                        missing,
                        ..ErrorDetail::new(code, message)
                    },
                };
                (status, Json(body)).into_response()
            }
            Self::Page(page) => (*page).into_response(),
            Self::Redirect(to) => Redirect::to(to).into_response(),
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        (self.status, self.headers, Html(self.html)).into_response()
    }
}

/// A console call's ticket and JSON body, checked in the order the console's refusals are
/// documented: the path, the body (`expected` says what it must be), then the session's
/// CSRF token in `X-CSRF-Token`.
pub(crate) fn console_request<T>(
    session: &store::StaffSession,
    path: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
    headers: &HeaderMap,
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
    expected: &'static str,
) -> Result<(String, T), Refusal> {
    let Ok(axum::extract::Path(ticket)) = path else {
        return Err(Refusal::unreadable_path());
    };
    let Json(req) =
        body.map_err(|rejection| Refusal::unreadable_body(rejection.status(), expected))?;
    if !crate::auth::csrf_header_ok(headers, session) {
        return Err(Refusal::invalid_session());
    }
    Ok((ticket, req))
}

/// The ticket `agent_id` holds in a call (or is offered, when `offered_too`), and only if it
/// is `ticket_id` when one is given; refused with `409 not_in_call` otherwise.
pub(crate) async fn own_call(
    state: &ConsoleState,
    agent_id: &str,
    ticket_id: Option<&str>,
    offered_too: bool,
) -> Result<Ticket, Error> {
    match state.store.current_ticket_for_agent(agent_id).await? {
        Some(t)
            if ticket_id.is_none_or(|id| id == t.id)
                && (t.status == TicketStatus::InCall || offered_too) =>
        {
            Ok(t)
        }
        _ => Err(Refusal::not_in_call().into()),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    lang: Lang,
    chrome: Chrome,
    csrf: String,
    name: String,
    error: Option<String>,
}

/// The sign-in form with `status`, `name` filled in and `error` shown, and a fresh
/// double-submit CSRF token (in the form and in a cookie).
pub(crate) fn sign_in_form(
    state: &ConsoleState,
    lang: Lang,
    status: StatusCode,
    name: &str,
    error: Option<String>,
) -> Result<Page, Error> {
    let (csrf, _) = secrets::new_token()?;
    let page = LoginPage {
        lang,
        chrome: Chrome::new(state, None),
        csrf: csrf.clone(),
        name: name.to_owned(),
        error,
    };
    let cookie = set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, state.policy.secure_cookies);
    let mut headers = HeaderMap::new();
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|e| Error::Internal(format!("sign-in cookie: {e}")))?;
    headers.insert(header::SET_COOKIE, cookie);
    Ok(Page {
        status,
        headers,
        html: page.render()?,
    })
}

/// The limits a sign-in step falls under: the name typed and, for the password step, the
/// client address (its failures free up to the policy's limit, then a back-off up to the
/// policy's window).
pub(crate) fn sign_in_limits<'a>(
    state: &ConsoleState,
    name: &'a str,
    addr: Option<&'a str>,
) -> Vec<Limit<'a>> {
    let by_address = Backoff {
        free: state.policy.address_limit,
        first: chrono::TimeDelta::minutes(1),
        cap: state.policy.address_window,
        forget: Some(state.policy.address_window),
        lock_after: None,
    };
    let mut limits = vec![Limit {
        scope: ThrottleScope::StaffName,
        subject: name,
        backoff: STAFF_NAME,
    }];
    if let Some(addr) = addr {
        limits.push(Limit {
            scope: ThrottleScope::StaffAddress,
            subject: addr,
            backoff: by_address,
        });
    }
    limits
}

/// Counts a sign-in step (the password, with the client address `addr`, or a code) for
/// `name` before it is checked, and refuses it while a limit holds it: the sign-in form
/// again, saying how long to wait (429) or that the account is locked (423). Admitted, it
/// returns the name's failures counted, this attempt included.
pub(crate) async fn sign_in_gate(
    state: &ConsoleState,
    lang: Lang,
    name: &str,
    addr: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let limits = sign_in_limits(state, name, addr);
    let (status, message) = match admit(&state.store, &limits, now).await? {
        Admission::Admitted(counts) => return Ok(counts.first().copied().unwrap_or(0)),
        Admission::Wait { until, scope } => {
            if scope == ThrottleScope::StaffAddress {
                let detail = serde_json::json!({ "client_addr": addr }).to_string();
                state
                    .store
                    .append_audit(&NewAuditEvent {
                        at: now,
                        actor: "anonymous",
                        action: "staff.login_throttled_address",
                        subject: name,
                        detail: &detail,
                    })
                    .await?;
            }
            (StatusCode::TOO_MANY_REQUESTS, wait_message(lang, now, until))
        }
        Admission::Locked { .. } => (
            StatusCode::LOCKED,
            lang.pick(
                "Cuenta bloqueada por demasiados intentos fallidos. Pida a un administrador que la restablezca.",
                "Account locked after too many failed attempts. Ask an administrator to reset it.",
            )
            .to_owned(),
        ),
    };
    let form = sign_in_form(state, lang, status, name, Some(message))?;
    Err(Refusal::page(form).into())
}

/// How long to wait before trying to sign in again, in the visitor's language: seconds under
/// two minutes, minutes (rounded up) beyond.
pub(crate) fn wait_message(lang: Lang, now: DateTime<Utc>, until: DateTime<Utc>) -> String {
    let secs = (until - now).num_seconds().max(1);
    let (n, unit) = if secs < 120 {
        (secs, "s")
    } else {
        ((secs + 59) / 60, "min")
    };
    match lang {
        Lang::Es => {
            format!("Demasiados intentos fallidos. Espere {n} {unit} antes de volver a intentarlo.")
        }
        Lang::En => format!("Too many failed attempts. Wait {n} {unit} before trying again."),
    }
}
