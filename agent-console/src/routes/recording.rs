//! Replaying a call's recording: auditors only, with HTTP range requests so that the
//! browser's `<video>` can seek; every request is an audit event (`recording.viewed`, with
//! the range asked for and the client's address).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use signaling::client_addr::ClientAddr;
use store::{NewAuditEvent, StaffRole};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::auth::{DecisionRead, Staff, may_review};
use crate::refusal::{Page, Refusal};
use crate::{ConsoleState, Error};

/// `GET /staff/recordings/{id}`: the WebM file, whole or the range asked for.
pub async fn replay(
    State(state): State<ConsoleState>,
    staff: Staff<DecisionRead>,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<String>,
    request: Request<Body>,
) -> Result<Response, Error> {
    let gone = || {
        let message = "No hay grabación con ese número, o se borró al cumplir su plazo. / No such recording, or it was deleted when its retention ended.";
        Error::from(Refusal::page(Page::message(StatusCode::NOT_FOUND, message)))
    };
    let recording = state.store.recording(&id).await?.ok_or_else(gone)?;
    if recording.purged_at.is_some() {
        return Err(gone());
    }
    if staff.user.role == StaffRole::Agent
        && !may_review(&state.store, &staff.user, &recording.ticket_id).await?
    {
        return Err(Refusal::forbidden(true).into());
    }
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(100)
        .collect::<String>();
    let detail = serde_json::json!({
        "recording": recording.id, "range": range, "client_addr": addr,
    })
    .to_string();
    state
        .store
        .append_audit(&NewAuditEvent {
            at: state.clock.now(),
            actor: &staff.user.id,
            action: "recording.viewed",
            subject: &recording.ticket_id,
            detail: &detail,
        })
        .await?;
    let path = state.recordings_dir.join(&recording.file_name);
    if !path.is_file() {
        tracing::error!(recording = %recording.id, file = %path.display(), "a sealed recording's file is missing");
        return Err(gone());
    }
    let served = ServeFile::new(&path)
        .oneshot(request)
        .await
        .map_err(|e| Error::Internal(format!("serving recording {}: {e}", recording.id)))?;
    let mut response = served.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/webm"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    Ok(response)
}
