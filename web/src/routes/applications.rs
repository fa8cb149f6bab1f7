//! `POST /api/v1/applications`: ID number and contrast data in, application token out.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Error;
use crate::identity::{
    Contrast, ContrastError, DniNie, IdKind, IdNumberError, Outcome, TestCall, verify_and_apply,
};
use crate::state::AppState;
use agent_console::i18n::Lang;
use signaling::client_addr::ClientAddr;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/applications", post(create))
}

#[derive(Debug, Deserialize)]
struct ApplicationRequest {
    id_number: String,
    #[serde(default)]
    contrast: String,
    /// The token from a passed test call.
    #[serde(default)]
    test_call: String,
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    ClientAddr(client_addr): ClientAddr,
    body: Result<Json<ApplicationRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let Json(body) = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Error::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                lang.pick(
                    "La solicitud es demasiado grande.",
                    "The request is too large.",
                ),
            );
        }
        Error::client(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            lang.pick(
                "La solicitud debe ser JSON con los campos id_number y contrast.",
                "The request must be JSON with the fields id_number and contrast.",
            ),
        )
    })?;
    let id = DniNie::parse(&body.id_number).map_err(|e| invalid_id(lang, e))?;
    let contrast =
        Contrast::parse(id.kind(), &body.contrast).map_err(|e| invalid_contrast(lang, e))?;
    let now = state.clock.now();
    let test_call = passed_test_call(&state, lang, &body.test_call, now).await?;
    match verify_and_apply(&state.store, &state.verify, &id, &contrast, &test_call, &client_addr, now).await? {
        Outcome::Verified(issued) => Ok((
            StatusCode::CREATED,
            Json(json!({
                "application": issued.token,
                "expires_at": issued.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                "id_number": id.masked(),
                "kind": match id.kind() { IdKind::Dni => "dni", IdKind::Nie => "nie" },
            })),
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
            let secs = (retry_at - now).num_seconds().max(1);
            let minutes = (secs + 59) / 60;
            Err(Error::Client {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "too_many_attempts",
                message: match lang {
                    Lang::Es => format!("Demasiados intentos fallidos. Vuelva a intentarlo dentro de {minutes} min."),
                    Lang::En => format!("Too many failed attempts. Try again in {minutes} min."),
                },
                retry_after: u64::try_from(secs).ok(),
            })
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
