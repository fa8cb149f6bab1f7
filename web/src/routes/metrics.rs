//! `/metrics`: this server's figures in the Prometheus text exposition format, rendered from
//! its own recorder (see `signaling::telemetry`). Loopback addresses may always scrape; any
//! other address must present `Authorization: Bearer <--metrics-token>`, compared by hash
//! in constant time. Without a configured token only loopback is served.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use signaling::telemetry::Telemetry;
use store::secrets;

use crate::state::AppState;

/// How often histograms are folded in when nobody scrapes, so that they do not grow.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Whether the request may read the figures.
fn allowed(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> bool {
    let client =
        signaling::client_addr::client_ip(headers, Some(peer), state.signaling.trust_forwarded_for);
    if client.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
        return true;
    }
    let Some(expected) = state.metrics_token_hash.as_deref() else {
        return false;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| {
            secrets::constant_time_eq(
                secrets::hash_token(token.trim()).as_bytes(),
                expected.as_bytes(),
            )
        })
}

async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !allowed(&state, &headers, peer) {
        tracing::warn!(%peer, "metrics refused");
        let mut r = (
            StatusCode::UNAUTHORIZED,
            "metrics: loopback only, or Authorization: Bearer <token>\n",
        )
            .into_response();
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    let telemetry = &state.signaling.telemetry;
    telemetry.sample_process();
    let body = telemetry.handle().render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Folds recorded histograms in every few seconds, until the task is dropped.
pub async fn upkeep(telemetry: Telemetry) {
    let handle = telemetry.handle();
    loop {
        tokio::time::sleep(UPKEEP_EVERY).await;
        handle.run_upkeep();
    }
}
