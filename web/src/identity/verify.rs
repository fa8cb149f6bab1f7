//! Verification against the identity registry, with limits on failed attempts.
//!
//! An unknown ID and a wrong contrast value take the same path (one limit read, one registry
//! read, one comparison, one failure write) and give the same answer, so that neither the
//! answer nor its timing tells whether an ID number exists.

use chrono::{DateTime, TimeDelta, Utc};
use store::{NewApplication, NewAuditEvent, Store};

use super::{Contrast, DniNie, IdKind, PERMANENT, parse_iso};
use store::secrets;

/// Limits and lifetimes for verification, from configuration.
#[derive(Debug, Clone)]
pub struct VerifyPolicy {
    /// Failed checks allowed per ID number within `window`.
    pub per_id: u32,
    /// Failed checks allowed per client address within `window`.
    pub per_address: u32,
    /// The sliding window the limits apply to.
    pub window: TimeDelta,
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
    let since = now - policy.window;
    let cap = policy.per_id.max(policy.per_address);
    let failures = store
        .verification_failures_since(id.as_str(), client_addr, since, cap)
        .await?;
    let retry_at = [
        limit_reached(&failures.by_id, policy.per_id),
        limit_reached(&failures.by_address, policy.per_address),
    ]
    .into_iter()
    .flatten()
    .max();
    if let Some(oldest_counted) = retry_at {
        return Ok(Outcome::TooManyAttempts {
            retry_at: oldest_counted + policy.window,
        });
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
            .record_verification_failure(id.as_str(), client_addr, now)
            .await?;
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

    let (token, token_hash) = secrets::new_token()?;
    let application_id = secrets::new_id()?;
    let expires_at = now + policy.application_ttl;
    store
        .insert_application(&NewApplication {
            id: &application_id,
            token_hash: &token_hash,
            id_number: id.as_str(),
            client_addr,
            created_at: now,
            expires_at,
            test_call: Some(&test_call.result),
        })
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
    Ok(Outcome::Verified(Issued { token, expires_at }))
}

/// If `failures` (oldest first) has reached `limit`, the failure whose ageing out will bring
/// the count back under the limit.
fn limit_reached(failures: &[DateTime<Utc>], limit: u32) -> Option<DateTime<Utc>> {
    let limit = usize::try_from(limit).ok()?;
    (failures.len() >= limit)
        .then(|| failures.len() - limit)
        .and_then(|i| failures.get(i).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_lifts_when_enough_failures_age_out() {
        let t = |m| DateTime::<Utc>::UNIX_EPOCH + TimeDelta::minutes(m);
        assert_eq!(limit_reached(&[t(1), t(2)], 3), None);
        assert_eq!(limit_reached(&[t(1), t(2), t(3)], 3), Some(t(1)));
        assert_eq!(limit_reached(&[t(1), t(2), t(3), t(4)], 3), Some(t(2)));
        assert_eq!(
            limit_reached(&[], 0),
            None,
            "a limit of 0 with no failures blocks nothing"
        );
    }
}
