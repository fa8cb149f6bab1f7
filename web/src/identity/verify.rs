//! Verification against the identity registry, with limits on failed attempts.
//!
//! An unknown ID and a wrong contrast value take the same path (one count of the attempt,
//! one registry read, one comparison) and give the same answer, so that neither the answer
//! nor its timing tells whether an ID number exists.
//!
//! Limits are back-offs counted before the check ([`agent_console::throttle`]), per ID number
//! and per client address: after `per_id` (or `per_address`) failures the next check waits a
//! minute, doubling up to `max_wait`, and failures are forgotten after `window` without one.
//! Checks refused while a limit holds are not counted, so a stranger cannot lengthen the wait
//! by trying more, only renew it by failing once more after it, and every check uses up one of
//! the [`CHECKS_PER_TEST_CALL`] a passed test call allows.

use agent_console::lockout::Backoff;
use agent_console::throttle::{self, Admission, Limit};
use chrono::{DateTime, TimeDelta, Utc};
use store::{NewApplication, NewAuditEvent, Store, ThrottleScope};

use super::{Contrast, DniNie, IdKind, PERMANENT, parse_iso};
use store::secrets;

/// Contrast checks one passed test call allows (a typo or two forgiven); each check, right
/// or wrong, uses one, and a successful application uses the test call up.
pub const CHECKS_PER_TEST_CALL: i64 = 3;

/// Limits and lifetimes for verification, from configuration.
#[derive(Debug, Clone)]
pub struct VerifyPolicy {
    /// Failed checks per ID number before the back-off starts.
    pub per_id: u32,
    /// Failed checks per client address before the back-off starts.
    pub per_address: u32,
    /// Failures are forgotten after this long without one.
    pub window: TimeDelta,
    /// The longest wait the back-off imposes.
    pub max_wait: TimeDelta,
    /// How long an application token stays valid.
    pub application_ttl: TimeDelta,
}

/// A passed test call, presented with the application: its token's hash and its result.
#[derive(Debug, Clone)]
pub struct TestCall {
    /// SHA-256 of the token.
    pub token_hash: String,
    /// The result as stored (JSON).
    pub result: String,
}

/// What a verified citizen receives.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The opaque application token (shown once; only its hash is stored).
    pub token: String,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// The result of a verification attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The registry confirmed the contrast data.
    Verified(Issued),
    /// Unknown ID or wrong contrast value: deliberately indistinguishable.
    NotVerified,
    /// The contrast data matched, but the DNI's validity date has passed.
    DocumentExpired,
    /// Too many failures recently; try again at the given instant.
    TooManyAttempts {
        /// The first instant at which an attempt will be accepted again.
        retry_at: DateTime<Utc>,
    },
    /// The test call has been used for [`CHECKS_PER_TEST_CALL`] checks (or is gone): a new
    /// one is needed.
    TestCallUsedUp,
}

impl VerifyPolicy {
    fn backoff(&self, free: u32) -> Backoff {
        Backoff {
            free: i64::from(free),
            first: TimeDelta::minutes(1).min(self.max_wait),
            cap: self.max_wait,
            forget: Some(self.window),
            lock_after: None,
        }
    }

    /// The limits a check of `id` from `client_addr` falls under.
    fn limits<'a>(&self, id: &'a DniNie, client_addr: &'a str) -> [Limit<'a>; 2] {
        [
            Limit {
                scope: ThrottleScope::VerifyId,
                subject: id.as_str(),
                backoff: self.backoff(self.per_id),
            },
            Limit {
                scope: ThrottleScope::VerifyAddress,
                subject: client_addr,
                backoff: self.backoff(self.per_address),
            },
        ]
    }
}

/// Checks `contrast` for `id` against the registry and, if it matches, creates an
/// application. `client_addr` is the address failures are counted against.
pub async fn verify_and_apply(
    store: &Store,
    policy: &VerifyPolicy,
    id: &DniNie,
    contrast: &Contrast,
    test_call: &TestCall,
    client_addr: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, crate::Error> {
    let limits = policy.limits(id, client_addr);
    match throttle::admit(store, &limits, now).await? {
        Admission::Admitted(_) => {}
        Admission::Wait { until, .. } => return Ok(Outcome::TooManyAttempts { retry_at: until }),
        Admission::Locked { .. } => {
            let retry_at = now + policy.max_wait;
            return Ok(Outcome::TooManyAttempts { retry_at });
        }
    }
    let counted = store
        .count_contrast_check(&test_call.token_hash, now, CHECKS_PER_TEST_CALL)
        .await?;
    if counted.is_none() {
        return Ok(Outcome::TestCallUsedUp);
    }

    let record = store.find_identity(id.as_str()).await?;
    let expected = record.as_ref().and_then(Contrast::expected);
    let given = contrast.canonical();
    let matches = match &expected {
        Some(e) => secrets::constant_time_eq(e.canonical().as_bytes(), given.as_bytes()),
        None => {
            // Same comparison work as for a known ID, whose result is thrown away.
            let _ = secrets::constant_time_eq(given.as_bytes(), given.as_bytes());
            false
        }
    };
    if !matches {
        store
            .append_audit(&NewAuditEvent {
                at: now,
                actor: "citizen",
                action: "verification.failed",
                // Masked as the console shows it; the keyed hash links the events.
                subject: &id.masked(),
                detail: &crate::citizen::id_event_detail(store, id, client_addr),
            })
            .await?;
        return Ok(Outcome::NotVerified);
    }
    throttle::succeeded(store, &limits).await?;

    if id.kind() == IdKind::Dni {
        let valid_until = record
            .as_ref()
            .and_then(|r| r.valid_until.as_deref())
            .and_then(parse_iso);
        let today = scheduler::local_date(now);
        if valid_until.is_some_and(|v| v != PERMANENT && v < today) {
            return Ok(Outcome::DocumentExpired);
        }
    }

    let (issued, application_id) = issue_application(
        store,
        policy,
        id.as_str(),
        &test_call.result,
        client_addr,
        now,
    )
    .await?;
    // The test call is used up by this application (it was only looked at until now).
    store.take_test_call(&test_call.token_hash, now).await?;
    store
        .append_audit(&NewAuditEvent {
            at: now,
            actor: "citizen",
            action: "application.created",
            subject: &application_id,
            detail: &serde_json::json!({ "id_number": id.masked(), "client_addr": client_addr })
                .to_string(),
        })
        .await?;
    Ok(Outcome::Verified(issued))
}

/// Stores a new application for `id_number` (verified, now or when it booked) with the test
/// call's `result`; the token to join the queue with, and the application's id.
pub async fn issue_application(
    store: &Store,
    policy: &VerifyPolicy,
    id_number: &str,
    test_call: &str,
    client_addr: &str,
    now: DateTime<Utc>,
) -> Result<(Issued, String), crate::Error> {
    let (token, token_hash) = secrets::new_token()?;
    let id = secrets::new_id()?;
    let expires_at = now + policy.application_ttl;
    store
        .insert_application(&NewApplication {
            id: &id,
            token_hash: &token_hash,
            id_number,
            client_addr,
            created_at: now,
            expires_at,
            test_call: Some(test_call),
        })
        .await?;
    Ok((Issued { token, expires_at }, id))
}
