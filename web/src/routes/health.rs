//! `GET /healthz`: the server is up, not stopping, and its database answers. Fast even when the database
//! is not: the check is bounded by a short timeout, and the answer names what is down.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::state::AppState;

/// The longest the database check may take before the database counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// The node's health.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok`, `draining` (stopping: send nobody new here) or `unavailable`.
    status: HealthStatus,
    /// Whether the database answered; absent while draining.
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<DatabaseStatus>,
}

/// The node's state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HealthStatus {
    /// Serving.
    Ok,
    /// Stopping.
    Draining,
    /// The database does not answer.
    Unavailable,
}

/// The database's state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DatabaseStatus {
    /// Answered within the check's timeout.
    Up,
    /// Failed or timed out.
    Down,
}

/// Whether the node serves: for load balancers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "health",
    responses(
        (status = 200, description = "Serving, the database up", body = Health),
        (status = 503, description = "Draining, or the database is down", body = Health),
    )
)]
pub(crate) async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    // A stopping node says so at once, so that the load balancer sends nobody new here.
    if state.signaling.hub.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: HealthStatus::Draining,
                database: None,
            }),
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
            Json(Health {
                status: HealthStatus::Ok,
                database: Some(DatabaseStatus::Up),
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: HealthStatus::Unavailable,
                database: Some(DatabaseStatus::Down),
            }),
        )
    }
}
