//! Static assets, compiled into the binary so that one file is the whole server.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

const APP_CSS: &str = include_str!("../../static/app.css");
const LOCAL_TIME_JS: &str = include_str!("../../static/local-time.js");
const TEST_CALL_JS: &str = include_str!("../../static/test-call.js");
const APPLY_JS: &str = include_str!("../../static/apply.js");
const QUEUE_JS: &str = include_str!("../../static/queue.js");
const RESULT_JS: &str = include_str!("../../static/result.js");
const SLOTS_JS: &str = include_str!("../../static/slots.js");
const WHEN_JS: &str = include_str!("../../static/when.js");
const NETWORK_PATH_JS: &str = include_str!("../../static/network-path.js");
const BOOKING_JS: &str = include_str!("../../static/booking.js");
const ACTIVATE_JS: &str = include_str!("../../static/activate.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/static/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route(
            "/static/test-call.js",
            get(|| async { asset("text/javascript; charset=utf-8", TEST_CALL_JS) }),
        )
        .route(
            "/static/apply.js",
            get(|| async { asset("text/javascript; charset=utf-8", APPLY_JS) }),
        )
        .route(
            "/static/queue.js",
            get(|| async { asset("text/javascript; charset=utf-8", QUEUE_JS) }),
        )
        .route(
            "/static/result.js",
            get(|| async { asset("text/javascript; charset=utf-8", RESULT_JS) }),
        )
        .route(
            "/static/slots.js",
            get(|| async { asset("text/javascript; charset=utf-8", SLOTS_JS) }),
        )
        .route(
            "/static/when.js",
            get(|| async { asset("text/javascript; charset=utf-8", WHEN_JS) }),
        )
        .route(
            "/static/network-path.js",
            get(|| async { asset("text/javascript; charset=utf-8", NETWORK_PATH_JS) }),
        )
        .route(
            "/static/booking.js",
            get(|| async { asset("text/javascript; charset=utf-8", BOOKING_JS) }),
        )
        .route(
            "/static/activate.js",
            get(|| async { asset("text/javascript; charset=utf-8", ACTIVATE_JS) }),
        )
        .route(
            "/static/local-time.js",
            get(|| async { asset("text/javascript; charset=utf-8", LOCAL_TIME_JS) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}
