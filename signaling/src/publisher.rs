//! Keeps every waiting citizen told: recomputes the queue when it changes (and at least every
//! 15 s), sends each connected citizen their position and estimate when either changed or
//! when 15 s have passed, sends agents the queue at a glance, and lets go of places whose
//! citizen stayed disconnected past the grace period.

use std::collections::HashMap;
use std::time::Duration;

use scheduler::AtClosing;
use store::AgentStatus;
use tokio::time::Instant;

use crate::protocol::{RefusalReason, ToAgent, ToCitizen};
use crate::queue_view::{QueueView, Told};
use crate::{Error, SignalingState};

/// The longest a waiting citizen goes without an update.
pub const REFRESH: Duration = Duration::from_secs(15);
/// Changes arriving this close together are published once.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Runs until the task is dropped.
pub async fn run(state: SignalingState) {
    let mut told: HashMap<String, ((u32, Told), Instant)> = HashMap::new();
    loop {
        tokio::select! {
            () = state.hub.changed() => tokio::time::sleep(DEBOUNCE).await,
            () = tokio::time::sleep(REFRESH) => {}
        }
        if let Err(e) = publish_once(&state, &mut told).await {
            tracing::warn!(error = %e, "queue publisher; retrying");
        }
    }
}

/// One round: upkeep, then updates. `told` remembers what each ticket was last told.
pub async fn publish_once(
    state: &SignalingState,
    told: &mut HashMap<String, ((u32, Told), Instant)>,
) -> Result<(), Error> {
    let now = state.clock.now();
    let abandoned = state
        .store
        .abandon_disconnected(now - state.grace, now)
        .await?;
    if !abandoned.is_empty() {
        state.telemetry.abandoned("gone", abandoned.len());
        tracing::info!(
            count = abandoned.len(),
            "places released after the grace period"
        );
    }
    state.lifecycle().end_abandoned_calls(now).await?;
    crate::agent_state::sweep(state, now).await?;
    if state.queue.at_closing == AtClosing::Expire && !state.calendar.is_open(now) {
        let next_opening = state
            .calendar
            .next_opening(now)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        for ticket in state.store.expire_waiting(now).await? {
            crate::deliver::to_citizen(
                state,
                &ticket,
                &ToCitizen::Refused {
                    reason: RefusalReason::Closed,
                    closes: None,
                    next_opening: next_opening.clone(),
                },
            )
            .await?;
        }
    }
    let view = QueueView::load(state).await?;
    tell_waiting(state, &view, told);
    let waiting = u32::try_from(view.waiting.len()).unwrap_or(u32::MAX);
    let longest_wait_secs = view.longest_wait_secs(now);
    state.hub.to_all_agents(&ToAgent::Queue {
        waiting,
        longest_wait_secs,
    });
    let by_state: Vec<(&'static str, usize)> = [
        AgentStatus::Available,
        AgentStatus::InCall,
        AgentStatus::WrapUp,
        AgentStatus::Break,
        AgentStatus::Offline,
    ]
    .into_iter()
    .map(|s| {
        (
            s.as_str(),
            view.agents.iter().filter(|a| a.status == s).count(),
        )
    })
    .collect();
    state
        .telemetry
        .queue(view.waiting.len(), longest_wait_secs, &by_state);
    state.hub.round_published();
    Ok(())
}

/// Sends each connected waiting citizen their position and estimate, when either changed or
/// [`REFRESH`] has passed since they were last told.
fn tell_waiting(
    state: &SignalingState,
    view: &QueueView,
    told: &mut HashMap<String, ((u32, Told), Instant)>,
) {
    let connected = state.hub.connected_tickets();
    let here: std::collections::HashSet<&String> = connected.iter().collect();
    told.retain(|t, _| here.contains(t));
    let instant = Instant::now();
    for ticket in connected {
        let Some((position, estimate)) = view.position_of(&ticket) else {
            continue;
        };
        let now_told = (position, Told::from(estimate));
        let stale = told
            .get(&ticket)
            .is_none_or(|(last, at)| *last != now_told || instant.duration_since(*at) >= REFRESH);
        if stale {
            let (position, t) = now_told;
            state.hub.to_citizen(
                &ticket,
                &ToCitizen::Position {
                    position,
                    estimate_secs: t.estimate_secs,
                    estimate_low_secs: t.low_secs,
                    estimate_high_secs: t.high_secs,
                },
            );
            told.insert(ticket, (now_told, instant));
        }
    }
}
