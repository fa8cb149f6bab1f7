//! Every call's recording, from the call's life: started with the call's media (the file is
//! named after the ticket and the start, under `--recordings-dir`), the agent warned when it
//! cannot hold all of the call (the call goes on), and sealed in the audit chain when the
//! call's media ends, however the call ends. The file itself is `media::recorder`'s.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use media::MediaCall;
use media::recorder::{Incomplete, RecordingReport};
use store::{NewAuditEvent, NewRecording};
use tokio::sync::watch;

use crate::protocol::{RecordingState, ToAgent, ToCitizen};
use crate::{SignalingState, deliver};

/// A call's recording as it started: running (with its trouble watch), or not at all.
pub(crate) enum Started {
    /// Recording; the watch says when it runs into trouble.
    Recording(watch::Receiver<Option<Incomplete>>),
    /// It could not start; the call goes on unrecorded.
    Failed(Incomplete),
}

/// Starts recording `call` of `ticket` into the recordings directory, from `now`.
pub(crate) async fn start(
    state: &SignalingState,
    call: &Arc<MediaCall>,
    ticket: &str,
    now: DateTime<Utc>,
) -> Started {
    let name = format!("{ticket}-{}.webm", now.timestamp_millis());
    let path = state.recordings_dir.join(name);
    match call.start_recording(path, now).await {
        Ok(trouble) => Started::Recording(trouble),
        Err(e) => {
            tracing::error!(error = %e, %ticket, "the call's recording could not start");
            Started::Failed(Incomplete::Disk {
                error: e.to_string(),
            })
        }
    }
}

/// Tells both sides how the recording started (after `call_started`, so that the pages
/// show it in the call): `on` to both, then, as soon as it runs into trouble, a warning to
/// the agent (once; the task ends with the recording).
pub(crate) async fn tell(state: &SignalingState, ticket: &str, agent: &str, started: Started) {
    let mut trouble = match started {
        Started::Recording(trouble) => trouble,
        Started::Failed(why) => return warn_agent(state, agent, &why).await,
    };
    let on = ToAgent::Recording {
        state: RecordingState::On,
        message: None,
    };
    if let Err(e) = deliver::to_agent(state, agent, &on).await {
        tracing::warn!(error = %e, "telling the agent the call is recorded");
    }
    let on = ToCitizen::Recording {
        state: RecordingState::On,
    };
    if let Err(e) = deliver::to_citizen(state, ticket, &on).await {
        tracing::warn!(error = %e, "telling the citizen the call is recorded");
    }
    let (state, agent) = (state.clone(), agent.to_owned());
    // The writer drops the watch's sender when it finishes, which ends this task; the
    // trouble may be there already (a directory that cannot be made).
    tokio::spawn(async move {
        let why = match trouble.wait_for(Option::is_some).await {
            Ok(why) => why.clone(),
            Err(_) => return,
        };
        if let Some(why) = why {
            warn_agent(&state, &agent, &why).await;
        }
    });
}

/// Whether the call of `ticket` runs here and is being recorded (to tell a reconnecting
/// page again).
pub(crate) fn is_on(state: &SignalingState, ticket: &str) -> bool {
    trouble_watch(state, ticket).is_some()
}

/// Why the recording of `ticket`'s call, running here, will be incomplete, if it will.
pub(crate) fn trouble(state: &SignalingState, ticket: &str) -> Option<Incomplete> {
    trouble_watch(state, ticket)?.borrow().clone()
}

/// The trouble watch of the recording of `ticket`'s call, when one runs here.
fn trouble_watch(
    state: &SignalingState,
    ticket: &str,
) -> Option<tokio::sync::watch::Receiver<Option<Incomplete>>> {
    state.calls.get(ticket)?.recording_trouble()
}

async fn warn_agent(state: &SignalingState, agent: &str, why: &Incomplete) {
    tracing::warn!(%why, "a call's recording will be incomplete");
    let message = match why {
        Incomplete::Disk { .. } => {
            "La grabación estará incompleta: no se puede escribir en el disco. Siga con la llamada; la decisión lo hará constar. / The recording will be incomplete: the disk cannot be written. Go on with the call; the decision will say so."
        }
        Incomplete::QueueOverflow { .. } => {
            "La grabación estará incompleta: el disco va lento y se han perdido paquetes. Siga con la llamada; la decisión lo hará constar. / The recording will be incomplete: the disk is slow and packets were left out. Go on with the call; the decision will say so."
        }
        Incomplete::NoMedia => return,
    };
    let m = ToAgent::Recording {
        state: RecordingState::Trouble,
        message: Some(message.to_owned()),
    };
    if let Err(e) = deliver::to_agent(state, agent, &m).await {
        tracing::warn!(error = %e, "warning the agent about the recording");
    }
}

/// Finishes the recording of a call whose media has ended and seals it: its row and a
/// `recording.sealed` event with its hash, or a `recording.failed` event when no file could
/// be kept. Failures are logged: the call has ended either way.
pub(crate) async fn finish(state: &SignalingState, ticket: &str, call: &MediaCall) {
    let Some(report) = call.stop_recording().await else {
        return;
    };
    if let Err(e) = seal(state, ticket, &report).await {
        tracing::error!(error = %e, %ticket, file = ?report.file.as_ref().map(|f| &f.path), "sealing a call's recording failed");
    }
}

async fn seal(
    state: &SignalingState,
    ticket: &str,
    report: &RecordingReport,
) -> Result<(), crate::Error> {
    let now = state.clock.now();
    let reasons: Vec<String> = report.incomplete.iter().map(ToString::to_string).collect();
    let Some(file) = &report.file else {
        state.telemetry.recorded("failed", 0);
        let detail = serde_json::json!({ "reasons": reasons }).to_string();
        let event = NewAuditEvent {
            at: now,
            actor: "system",
            action: "recording.failed",
            subject: ticket,
            detail: &detail,
        };
        state.store.append_audit(&event).await?;
        return Ok(());
    };
    let file_name = file
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tracks = serde_json::to_string(&report.tracks).unwrap_or_else(|_| "[]".into());
    let id = store::secrets::new_id()?;
    let incomplete = (!reasons.is_empty()).then(|| reasons.join("; "));
    let sealed = NewRecording {
        id: &id,
        ticket_id: ticket,
        file_name: &file_name,
        sha256: &file.sha256,
        bytes: file.size,
        duration_ms: report.duration_ms,
        tracks: &tracks,
        incomplete_reason: incomplete.as_deref(),
        started_at: report.started_at,
        ended_at: now,
    };
    state.store.seal_recording(&sealed, "system").await?;
    let result = if incomplete.is_some() {
        "incomplete"
    } else {
        "complete"
    };
    state.telemetry.recorded(result, file.size);
    Ok(())
}
