//! Background upkeep while the server runs: forgetting failed attempts once they can no
//! longer count toward a limit (staff names excepted: their lock lasts until a reset),
//! deleting staff sessions that have ended, retention's purge of recordings and stills
//! ([`crate::evidence::purge_once`]), keeping recordings a stopped node left unfinished
//! ([`crate::evidence::recover_interrupted`]), recording missed appointments
//! ([`no_shows`]), and learning the wait range's recalibration again
//! (`signaling::queue_view::relearn`).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::state::AppState;

/// How often upkeep runs.
const EVERY: Duration = Duration::from_secs(600);

/// One round of upkeep at `now`; returns how many rows were deleted and recordings kept.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> Result<u64, crate::Error> {
    let failures = prune_throttles(state, now).await?;
    let sessions = state
        .store
        .prune_staff_sessions(now - state.console.policy.idle_timeout, now)
        .await?;
    let payloads = state
        .store
        .prune_bus_payloads(now - chrono::TimeDelta::hours(1))
        .await?;
    let purged = crate::evidence::purge_once(&state.store, &state.evidence, now).await?;
    if purged != crate::evidence::Purged::default() {
        tracing::info!(
            recordings = purged.recordings,
            stills = purged.stills,
            files_left = purged.files_left,
            "retention purged evidence past its time"
        );
    }
    let dir = &state.evidence.recordings_dir;
    let recovered = crate::evidence::recover_interrupted(&state.store, dir, now).await?;
    let missed = no_shows(state, now).await?;
    signaling::queue_view::relearn(&state.signaling)
        .await
        .map_err(agent_console::Error::from)?;
    Ok(failures + sessions + payloads + purged.recordings + purged.stills + recovered + missed)
}

/// How long after its slot a booking nobody came for is recorded as a no-show: until then a
/// citizen past the grace still hears that they are late (and join as a walk-in).
pub const NO_SHOW_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Records live bookings whose slot started [`NO_SHOW_AFTER`] (or the grace, if longer)
/// ago as no-shows, each audited; returns how many.
pub async fn no_shows(state: &AppState, now: DateTime<Utc>) -> Result<u64, crate::Error> {
    let after = NO_SHOW_AFTER.max(state.signaling.booking.rules.grace());
    let missed = state
        .store
        .mark_no_shows(now - after, now, "system")
        .await?;
    if !missed.is_empty() {
        tracing::info!(
            count = missed.len(),
            "appointments missed: recorded as no-shows"
        );
    }
    Ok(missed.len() as u64)
}

/// Forgets failed attempts that no longer count: counters quiet for longer than their limit
/// remembers and holding nobody, and addresses citizens have not succeeded from for long.
async fn prune_throttles(state: &AppState, now: DateTime<Utc>) -> Result<u64, crate::Error> {
    use store::ThrottleScope as S;
    let citizens = crate::citizen::limits::ATTEMPTS;
    let day = chrono::TimeDelta::days(1);
    let quiet = [
        (S::CitizenId, citizens.by_id.forget.unwrap_or(day)),
        (S::CitizenCodePair, citizens.by_pair.forget.unwrap_or(day)),
        (S::CitizenAddress, citizens.by_address.forget.unwrap_or(day)),
        (S::VerifyId, state.verify.window),
        (S::VerifyAddress, state.verify.window),
        (S::StaffAddress, state.console.policy.address_window),
    ];
    let mut pruned = 0;
    for (scope, after) in quiet {
        pruned += state.store.prune_throttles(scope, now - after, now).await?;
    }
    let trusted = now - citizens.trust_for;
    Ok(pruned + state.store.prune_trusted_addresses(trusted).await?)
}

/// Runs upkeep every ten minutes until the task is dropped. Failures are logged and retried
/// at the next round.
pub async fn run_forever(state: AppState) {
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        ticks.tick().await;
        match run_once(&state, state.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned old failed attempts and ended sessions"),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; retrying next round"),
        }
    }
}
