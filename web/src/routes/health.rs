//! `GET /healthz`: the server is up, not stopping, and its database answers. Fast even when the database
//! is not: the check is bounded by a short timeout, and the answer names what is down.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::AppState;

/// The longest the database check may take before the database counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    // A stopping node says so at once, so that the load balancer sends nobody new here.
    if state.signaling.hub.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining" })),
        );
    }
    let database_up = match tokio::time::timeout(CHECK_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: database failed");
            false
        }
        Err(_) => {
            tracing::warn!("health check: database timed out");
            false
        }
    };
    if database_up {
        (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": "up" })),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": "down" })),
        )
    }
}
