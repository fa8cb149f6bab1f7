//! `POST /api/v1/applications`: ID number and contrast data in, application token out.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::identity::{
    Contrast, ContrastError, DniNie, IdKind, IdNumberError, Outcome, TestCall, verify_and_apply,
};
use crate::state::AppState;
use agent_console::i18n::Lang;
use agent_console::refusal::ErrorBody;
use signaling::client_addr::ClientAddr;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/applications", post(create))
}

/// What a citizen sends to apply.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ApplicationRequest {
    /// DNI (8 digits and a check letter) or NIE (X, Y or Z, 7 digits and a check letter).
    #[schema(example = "12345678Z")]
    id_number: String,
    /// The contrast data: for a DNI its validity date `DD-MM-YYYY` (the issue date for a
    /// permanent DNI), for a NIE the support number (E or C and 8 digits).
    #[serde(default)]
    #[schema(example = "01-01-2030")]
    contrast: String,
    /// The token from a passed test call (the test-call page's WebSocket gives it).
    #[serde(default)]
    test_call: String,
}

/// ID number kinds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    /// Documento Nacional de Identidad.
    Dni,
    /// Número de Identidad de Extranjero.
    Nie,
}

/// A verified application.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ApplicationCreated {
    /// The application token (shown once), for joining the queue on `/ws/citizen`.
    application: String,
    /// When the token stops being accepted (RFC 3339, UTC).
    #[schema(format = DateTime)]
    expires_at: String,
    /// The ID number, masked.
    id_number: String,
    /// Its kind.
    kind: Kind,
}

/// Verifies the ID number and contrast data against the identity registry and, if they
/// match, issues an application token.
#[utoipa::path(
    post,
    path = "/api/v1/applications",
    tag = "citizen",
    operation_id = "create_application",
    request_body = ApplicationRequest,
    responses(
        (status = 201, description = "Verified: the application token", body = ApplicationCreated),
        (status = 400, description = "`invalid_body`: not JSON with the fields", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`invalid_id_number`, `invalid_contrast`, `test_call_required`, `not_verified` or `document_expired`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts` for this ID number or address", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "`internal`, with the request id", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database cannot be reached", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    lang: Lang,
    ClientAddr(client_addr): ClientAddr,
    body: Result<Json<ApplicationRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<ApplicationCreated>), Error> {
    let Json(body) = body.map_err(|r| super::invalid_body(lang, &r, "id_number, contrast"))?;
    let id = DniNie::parse(&body.id_number).map_err(|e| invalid_id(lang, e))?;
    let contrast =
        Contrast::parse(id.kind(), &body.contrast).map_err(|e| invalid_contrast(lang, e))?;
    let now = state.clock.now();
    let test_call = passed_test_call(&state, lang, &body.test_call, now).await?;
    match verify_and_apply(&state.store, &state.verify, &id, &contrast, &test_call, &client_addr, now).await? {
        Outcome::Verified(issued) => Ok((
            StatusCode::CREATED,
            Json(ApplicationCreated {
                application: issued.token,
                expires_at: issued.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                id_number: id.masked(),
                kind: match id.kind() { IdKind::Dni => Kind::Dni, IdKind::Nie => Kind::Nie },
            }),
        )),
        Outcome::NotVerified => Err(Error::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_verified",
            lang.pick(
                "No hemos podido comprobar estos datos. Revise el número y el dato de contraste tal como aparecen en su documento.",
                "We could not verify these details. Check the number and the contrast data exactly as they appear on your document.",
            ),
        )),
        Outcome::DocumentExpired => Err(Error::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "document_expired",
            lang.pick(
                "Su DNI está caducado. Renuévelo antes de registrarse en Cl@ve.",
                "Your DNI has expired. Renew it before registering for Cl@ve.",
            ),
        )),
        Outcome::TestCallUsedUp => Err(test_call_required(lang)),
        Outcome::TooManyAttempts { retry_at } => {
            Err(super::too_many_attempts(lang, (retry_at - now).num_seconds()))
        }
    }
}

/// The passed test call named by `token`, or the error telling the citizen to do one.
async fn passed_test_call(
    state: &AppState,
    lang: Lang,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<TestCall, Error> {
    let token_hash = store::secrets::hash_token(token);
    let found = if token.is_empty() || token.len() > 128 {
        None
    } else {
        state.store.peek_test_call(&token_hash, now).await?
    };
    found
        .map(|result| TestCall { token_hash, result })
        .ok_or_else(|| test_call_required(lang))
}

/// The test call is missing, expired, used, or has been used for its checks.
fn test_call_required(lang: Lang) -> Error {
    Error::client(
        StatusCode::UNPROCESSABLE_ENTITY,
        "test_call_required",
        lang.pick(
            "Antes de solicitar el registro, haga la prueba de cámara y conexión en /test-call (o repítala: vale 30 minutos, tres comprobaciones de datos y una sola solicitud).",
            "Before applying, do the camera and connection test at /test-call (or repeat it: it is valid for 30 minutes, three checks of your details and one application).",
        ),
    )
}

fn invalid_id(lang: Lang, e: IdNumberError) -> Error {
    let message = crate::citizen::messages::id_number(lang, e);
    Error::client(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_id_number",
        message,
    )
}

fn invalid_contrast(lang: Lang, e: ContrastError) -> Error {
    let message = match e {
        ContrastError::Date => lang.pick(
            "Para un DNI, escriba su fecha de validez como DD-MM-AAAA (si su DNI es permanente, la fecha de expedición).",
            "For a DNI, enter its validity date as DD-MM-YYYY (if your DNI is permanent, its issue date).",
        ),
        ContrastError::SupportNumber => lang.pick(
            "Para un NIE, escriba el número de soporte de su tarjeta o certificado: E o C seguida de 8 cifras.",
            "For a NIE, enter the support number on your card or certificate: E or C followed by 8 digits.",
        ),
    };
    Error::client(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_contrast",
        message,
    )
}
