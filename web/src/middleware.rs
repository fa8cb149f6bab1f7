//! Request-wide layers: request ids, tracing, security and caching headers, the
//! same-origin check of the citizen's account forms, and rendering internal errors with the
//! request id.

use agent_console::i18n::Lang;
use agent_console::refusal::{ErrorBody, ErrorDetail};
use agent_console::{InternalError, UNAVAILABLE_RETRY_AFTER_SECONDS, Unavailable};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Json, Response};

use crate::state::AppState;

/// The header that carries the request id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Replaces the body of an internal-error response with a generic message in the visitor's
/// language and the request id: as JSON under `/api/` and for clients that ask for JSON (the
/// staff console's calls), as a page elsewhere.
pub async fn render_internal_errors(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let is_api = request.uri().path().starts_with("/api/") || asks_for_json(request.headers());
    let (parts, body) = request.into_parts();
    let lang = Lang::from_parts(&parts);
    let response = next.run(Request::from_parts(parts, body)).await;
    if response.extensions().get::<Unavailable>().is_some() {
        return render_unavailable(response, lang, is_api);
    }
    if response.extensions().get::<InternalError>().is_none() {
        return response;
    }
    let message = lang.pick(
        "Algo ha fallado en nuestro lado. Inténtelo de nuevo en unos minutos; si vuelve a ocurrir, indique este código",
        "Something went wrong on our side. Please try again in a few minutes; if it happens again, quote this code",
    );
    let mut out = if is_api {
        let body = ErrorBody {
            error: ErrorDetail {
                request_id: Some(request_id.clone()),
                ..ErrorDetail::new("internal", format!("{message}: {request_id}"))
            },
        };
        (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
    } else {
        let page = format!(
            "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>videoreg</title><link rel=\"stylesheet\" href=\"/static/app.css\"><main><h1>{}</h1><p>{}: <code>{}</code></p><p><a href=\"/\">{}</a></p></main></html>",
            lang.code(),
            lang.pick("Error", "Error"),
            message,
            html_escape(&request_id),
            lang.pick("Volver al inicio", "Back to the start"),
        );
        (StatusCode::INTERNAL_SERVER_ERROR, Html(page)).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        out.headers_mut().insert(REQUEST_ID, v);
    }
    out
}

/// A 503 for a database that cannot be reached, as `unavailable` with the time to retry,
/// keeping the response's `Retry-After`. No request id: nothing needs quoting.
fn render_unavailable(response: Response, lang: Lang, is_api: bool) -> Response {
    let message = lang.pick(
        "El servicio no está disponible en este momento. Lo reintentamos en unos segundos; no hace falta que haga nada",
        "The service is temporarily unavailable. We are retrying in a few seconds; there is nothing you need to do",
    );
    let mut out = if is_api {
        let body = ErrorBody {
            error: ErrorDetail {
                retry_after_seconds: Some(UNAVAILABLE_RETRY_AFTER_SECONDS),
                ..ErrorDetail::new("unavailable", message)
            },
        };
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    } else {
        let page = format!(
            "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><meta http-equiv=\"refresh\" content=\"{}\"><title>videoreg</title><link rel=\"stylesheet\" href=\"/static/app.css\"><main><h1>{}</h1><p>{}.</p></main></html>",
            lang.code(),
            UNAVAILABLE_RETRY_AFTER_SECONDS,
            lang.pick("Servicio no disponible", "Service unavailable"),
            message,
        );
        (StatusCode::SERVICE_UNAVAILABLE, Html(page)).into_response()
    };
    if let Some(v) = response.headers().get(header::RETRY_AFTER) {
        out.headers_mut().insert(header::RETRY_AFTER, v.clone());
    }
    out
}

/// Security headers on every response; with `--secure-cookies` (served over HTTPS) also
/// `Strict-Transport-Security`. Staff responses (but their static scripts) and every
/// citizen response that does not set its own caching (static assets do) get
/// `Cache-Control: no-store`, so that no page, JSON or file with personal data is kept by
/// the browser or a shared cache.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    if state.console.policy.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    let staff = ["/staff", "/supervisor", "/ws/agent"]
        .iter()
        .any(|p| path.starts_with(p))
        && !path.starts_with("/staff/static/");
    if staff || !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Refuses a form posted from another site (403): a browser's `Origin` must be the
/// server's own or one of `--allowed-origin`; without `Origin`, `Sec-Fetch-Site` must not
/// say `cross-site` or `same-site`. Requests with neither header are not a browser's and pass.
/// Applied to the citizen's account forms (`/login`, `/receipt`, `/activate`), which have
/// no session to protect but whose attempts count toward the ID number's limits.
pub async fn same_origin_posts(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    if request.method() == axum::http::Method::POST && !same_origin(&state, request.headers()) {
        let (parts, _) = request.into_parts();
        let lang = Lang::from_parts(&parts);
        tracing::warn!(path = %parts.uri.path(), "cross-origin form refused");
        let message = lang.pick(
            "Este formulario solo se puede enviar desde esta misma web.",
            "This form can only be sent from this same website.",
        );
        return crate::Error::client(StatusCode::FORBIDDEN, "cross_origin", message)
            .into_response();
    }
    next.run(request).await
}

fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` with their own
    // forms; then `Sec-Fetch-Site` (set by the browser, not by scripts) says where it came from.
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin.is_some_and(|o| o != "null") {
        return signaling::socket::origin_allowed(headers, &state.signaling.allowed_origins);
    }
    !headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| matches!(site, "cross-site" | "same-site"))
}

/// Keeps the language chosen with `?lang=es|en` in a `lang` cookie (a year), so that the
/// following pages speak it too.
pub async fn remember_language(request: Request<Body>, next: Next) -> Response {
    let chosen = request.uri().query().and_then(Lang::from_query);
    let mut response = next.run(request).await;
    if let Some(lang) = chosen
        && let Ok(v) = HeaderValue::from_str(&format!(
            "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.code()
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Whether the request's `Accept` header names JSON.
fn asks_for_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

fn html_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}
