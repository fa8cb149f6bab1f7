//! The router: one file per route group.

mod activate;
mod applications;
mod assets;
mod booking_access;
mod booking_change;
mod booking_page;
mod bookings;
mod citizen_flow;
mod citizen_login;
mod citizen_unlock;
mod health;
mod landing;
pub(crate) mod metrics;
pub mod openapi;
mod receipt;
mod service_hours;
mod test_call;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::Error;
use crate::middleware::{
    REQUEST_ID, remember_language, render_internal_errors, same_origin_posts, security_headers,
};
use crate::state::AppState;
use agent_console::i18n::Lang;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;

/// Request bodies larger than this are refused with 413 before any handler runs.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Receipts, Permanent Cl@ve activation and sign-in.
/// Forms posted from another site are refused ([`same_origin_posts`]).
fn citizen_accounts(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(activate::routes())
        .merge(citizen_login::routes())
        .merge(receipt::routes())
        .merge(citizen_unlock::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            same_origin_posts,
        ))
}

/// Every route of the server with its layers.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(landing::routes())
        .merge(health::routes())
        .merge(service_hours::routes())
        .merge(applications::routes())
        .merge(bookings::routes())
        .merge(booking_access::routes())
        .merge(booking_change::routes())
        .merge(booking_page::routes())
        .merge(test_call::routes())
        .merge(citizen_flow::routes())
        .merge(assets::routes())
        .merge(metrics::routes())
        .merge(openapi::routes())
        .merge(citizen_accounts(&state))
        .merge(agent_console::router(
            state.console.verification.stills.max_bytes,
        ))
        .merge(signaling::citizen::router())
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(axum::middleware::from_fn(remember_language))
        .layer(axum::middleware::from_fn(render_internal_errors))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let id = request
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
                })
                .on_response(|response: &axum::http::Response<_>, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_millis() as u64, "response");
                })
                // A server error is logged once, with its cause, where it is mapped to the
                // response; 503 `unavailable` and `draining` are expected states, not errors.
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// 413 for a large body, else 400 `invalid_body` naming the fields expected.
fn invalid_body(lang: Lang, r: &JsonRejection, fields: &str) -> Error {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
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
        match lang {
            Lang::Es => format!("La solicitud debe ser JSON con los campos {fields}."),
            Lang::En => format!("The request must be JSON with the fields {fields}."),
        },
    )
}

/// 429 `too_many_attempts`: try again in `secs` seconds (said in whole minutes), with
/// `Retry-After`.
fn too_many_attempts(lang: Lang, secs: i64) -> Error {
    let secs = secs.max(1);
    let minutes = (secs + 59) / 60;
    Error::Client {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "too_many_attempts",
        message: match lang {
            Lang::Es => format!(
                "Demasiados intentos fallidos. Vuelva a intentarlo dentro de {minutes} min."
            ),
            Lang::En => format!("Too many failed attempts. Try again in {minutes} min."),
        },
        retry_after: u64::try_from(secs).ok(),
    }
}

/// A page's messages as `key → text` in `lang`, for its JSON data block.
fn messages(
    lang: Lang,
    pairs: &[(&str, &str, &str)],
) -> serde_json::Map<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(key, es, en)| ((*key).to_owned(), lang.pick(es, en).into()))
        .collect()
}
