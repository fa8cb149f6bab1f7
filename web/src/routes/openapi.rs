//! `GET /api/v1/openapi.json`: the HTTP API's OpenAPI 3.1 description, generated from the
//! handlers' annotations and the request and response types themselves (`utoipa`), so that
//! it cannot drift from them. `videoreg openapi` prints the same document; `docs/openapi.json`
//! is its committed copy, and a test fails when the two differ.

use agent_console::refusal::ErrorBody;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::Error;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(serve))
}

/// The staff session cookie and the CSRF header, as security schemes.
struct StaffSecurity;

impl Modify for StaffSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "staff_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                agent_console::auth::SESSION_COOKIE,
                "The staff session, set by signing in at /staff/login (the form's POST); named `__Host-videoreg_staff` when the server runs with --secure-cookies.",
            ))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The session's CSRF token, which the staff pages carry (the console's `data-csrf`); required on every POST with a session.",
            ))),
        );
    }
}

/// The server's own operations; [`document`] adds the staff side's.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "videoreg",
        description = "Registration for Cl@ve by video call: the citizen API, the staff console's HTTP calls, the review and report endpoints, and the health check. Refusals share one JSON shape, `{\"error\": {\"code\", \"message\"}}` (ErrorBody); messages follow the visitor's language (`?lang=es|en`, the `lang` cookie or `Accept-Language`). The two WebSocket protocols (`/ws/citizen`, `/ws/agent`) are described in docs/protocol.md."
    ),
    paths(
        super::applications::create,
        super::bookings::slots,
        super::bookings::book,
        super::bookings::mine,
        super::bookings::cancel,
        super::booking_access::find,
        super::booking_access::check_in,
        super::booking_access::calendar,
        super::booking_change::rebook,
        super::service_hours::service_hours,
        super::health::healthz,
        super::citizen_unlock::unlock,
        serve,
    ),
    modifiers(&StaffSecurity),
    tags(
        (name = "citizen", description = "The citizen API"),
        (name = "console", description = "The agent console's calls about the call it holds"),
        (name = "review", description = "Auditors' view of decisions (pages)"),
        (name = "supervision", description = "Supervisors' dashboard, report and unlocks"),
        (name = "operations", description = "Health and this description"),
    )
)]
struct WebApi;

/// The whole description: the server's operations and the staff side's, as JSON.
pub fn document() -> Result<Value, Error> {
    let mut doc = WebApi::openapi();
    doc.merge(agent_console::ConsoleApi::openapi());
    let mut value = serde_json::to_value(&doc)?;
    spell_links(&mut value);
    Ok(value)
}

/// The description as `videoreg openapi` prints it and `docs/openapi.json` holds it.
pub fn document_text() -> Result<String, Error> {
    Ok(serde_json::to_string_pretty(&document()?)?)
}

/// utoipa 5.5 writes a Link Object's fields in snake case (`operation_id`); OpenAPI spells
/// them `operationId`, `operationRef` and `requestBody`, and tools ignore links otherwise.
fn spell_links(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let links = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(Value::as_object_mut))
        .flat_map(|responses| responses.values_mut())
        .filter_map(|r| r.get_mut("links").and_then(Value::as_object_mut))
        .flat_map(|links| links.values_mut())
        .filter_map(Value::as_object_mut);
    for link in links {
        for (snake, camel) in [
            ("operation_id", "operationId"),
            ("operation_ref", "operationRef"),
            ("request_body", "requestBody"),
        ] {
            if let Some(v) = link.remove(snake) {
                link.insert(camel.to_owned(), v);
            }
        }
    }
}

/// This description.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 description", body = Object),
        (status = 500, description = "`internal`, with the request id", body = ErrorBody),
    )
)]
pub(crate) async fn serve() -> Result<Json<Value>, Error> {
    Ok(Json(document()?))
}
