//! `GET /receipt` and `POST /receipt`: the registration receipt as a PDF. The activation code
//! is the citizen's proof, so no other token is needed (posts from other sites are refused by
//! `crate::middleware::same_origin_posts`): the ID number and the code must
//! match the stored code (compared in constant time), which may be unexpired or already
//! used for activation (a receipt may be wanted later). Wrong pairs count toward the limits
//! activation uses. The result page posts here directly; `GET` shows the same form for a
//! citizen who comes back later, and errors are shown on it.

use askama::Template;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use store::{AttemptKind, NewAuditEvent};

use crate::Error;
use crate::citizen::form::Shown;
use crate::citizen::limits;
use crate::citizen::messages::{self, FormErrors};
use crate::citizen::receipt::{ReceiptData, madrid_time, render_receipt};
use crate::citizen::{full_name, id_and_code, mask_id_number, match_code};
use crate::state::AppState;
use agent_console::i18n::Lang;
use signaling::client_addr::ClientAddr;

pub fn routes() -> Router<AppState> {
    Router::new().route("/receipt", get(page).post(download))
}

#[derive(Template)]
#[template(path = "account_receipt.html")]
struct ReceiptPage {
    lang: Lang,
    always_open: bool,
    id_number: String,
    include_code: bool,
    alert: Option<String>,
    errors: FormErrors,
}

fn render(
    state: &AppState,
    lang: Lang,
    id_number: String,
    include_code: bool,
    shown: Shown,
) -> Result<Response, Error> {
    let page = ReceiptPage {
        lang,
        always_open: state.calendar.is_always_open(),
        id_number,
        include_code,
        alert: shown.alert,
        errors: shown.errors,
    };
    Ok((shown.status, Html(page.render()?)).into_response())
}

async fn page(State(state): State<AppState>, lang: Lang) -> Result<Response, Error> {
    render(&state, lang, String::new(), false, Shown::blank())
}

#[derive(Deserialize)]
struct ReceiptForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    code: String,
    /// A checkbox: present (any value) when ticked.
    #[serde(default)]
    include_code: Option<String>,
    /// The receipt's language, when the page that posts says it; else the visitor's.
    #[serde(default)]
    lang: Option<String>,
}

async fn download(
    State(state): State<AppState>,
    visitor_lang: Lang,
    ClientAddr(addr): ClientAddr,
    form: Result<Form<ReceiptForm>, FormRejection>,
) -> Result<Response, Error> {
    let Ok(Form(form)) = form else {
        let shown = Shown::bad_form(visitor_lang);
        return render(&state, visitor_lang, String::new(), false, shown);
    };
    let lang = match form.lang.as_deref() {
        Some("es") => Lang::Es,
        Some("en") => Lang::En,
        _ => visitor_lang,
    };
    let include_code = form.include_code.is_some();
    let typed: String = form.id_number.chars().take(32).collect();
    let show = |shown| render(&state, lang, typed.clone(), include_code, shown);

    let mut errors = FormErrors::default();
    let (id, code) = id_and_code(lang, &form.id_number, &form.code, &mut errors);
    let (Some(id), Some(code)) = (id, code) else {
        return show(Shown::invalid(errors));
    };

    let now = state.clock.now();
    let kind = AttemptKind::Receipt;
    let attempt = match limits::begin(&state.store, lang, &id, &addr, kind, now).await? {
        Ok(attempt) => attempt,
        Err(refusal) => return refusal.respond(show),
    };

    let Some(matched) = match_code(&state.store, &id, &code.hash()).await? else {
        attempt.failed(&state.store, &id, &addr, kind, now).await?;
        let wrong = messages::wrong_code(lang);
        return show(Shown::alert(StatusCode::UNPROCESSABLE_ENTITY, wrong));
    };
    attempt.succeeded(&state.store, &id, &addr, now).await?;
    if matched.code.used_at.is_none() && matched.code.expires_at <= now {
        let on = madrid_time(lang, matched.code.expires_at);
        let expired = messages::code_expired(lang, &on);
        return show(Shown::alert(StatusCode::GONE, expired));
    }

    let full_name = full_name(&state.store, &id).await?;
    let reference = matched.registration.id.clone();
    let data = ReceiptData {
        full_name,
        masked_id: mask_id_number(&id),
        reference: reference.clone(),
        registered_at: matched.registration.created_at,
        code_expires_at: matched.code.expires_at,
        code_used_at: matched.code.used_at,
        code: include_code.then(|| code.to_string()),
        issued_at: now,
    };
    let pdf = tokio::task::spawn_blocking(move || render_receipt(&data, lang))
        .await
        .map_err(|e| Error::PasswordHash(format!("receipt task: {e}")))??;
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor: "citizen",
            action: "citizen.receipt",
            subject: &reference,
            detail: &serde_json::json!({ "client_addr": addr, "with_code": include_code })
                .to_string(),
        })
        .await?;

    // The reference is hex from our own generator; anything else is left out of the name.
    let safe: String = reference
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let disposition = format!("attachment; filename=\"clave-registro-{safe}.pdf\"");
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
