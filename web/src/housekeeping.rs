//! Background upkeep while the server runs: forgetting verification failures once they can
//! no longer count toward a limit, and deleting staff sessions that have ended.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::state::AppState;

/// How often upkeep runs.
const EVERY: Duration = Duration::from_secs(600);

/// One round of upkeep at `now`; returns how many rows were deleted.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> Result<u64, crate::Error> {
    let failures = state
        .store
        .prune_verification_failures(now - state.verify.window)
        .await?;
    let sessions = state
        .store
        .prune_staff_sessions(now - state.console.policy.idle_timeout, now)
        .await?;
    let payloads = state
        .store
        .prune_bus_payloads(now - chrono::TimeDelta::hours(1))
        .await?;
    Ok(failures + sessions + payloads)
}

/// Runs upkeep every ten minutes until the task is dropped. Failures are logged and retried
/// at the next round.
pub async fn run_forever(state: AppState) {
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        ticks.tick().await;
        match run_once(&state, state.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                deleted = n,
                "pruned old verification failures and ended sessions"
            ),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; retrying next round"),
        }
    }
}
