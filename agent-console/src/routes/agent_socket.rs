//! `/ws/agent`: the console's live connection. Authenticated by the staff session and the
//! agent-pages policy (agents act; supervisors watch read-only), then handed to `signaling`.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use signaling::SignalingState;
use signaling::agent::{AgentIdentity, serve};
use signaling::socket::origin_allowed;
use store::StaffRole;

use crate::auth::{AgentPages, Staff};

pub async fn upgrade(
    State(state): State<SignalingState>,
    staff: Staff<AgentPages>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &state.allowed_origins) {
        tracing::warn!(origin = ?headers.get("origin"), user = %staff.user.name, "agent socket refused: foreign origin");
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    if state.hub.is_draining() {
        return signaling::socket::draining_refusal();
    }
    let who = AgentIdentity {
        user_id: staff.user.id.clone(),
        read_only: staff.user.role != StaffRole::Agent,
    };
    signaling::socket::configure(ws, &state.limits)
        .on_upgrade(move |socket| serve(socket, state, who))
}
