//! Limits on failed attempts at `/login`, `/activate` and `/receipt`, each an exponential
//! back-off with a cap ([`ATTEMPTS`]), counted before the check ([`agent_console::throttle`])
//! so that concurrent attempts count exactly:
//!
//! - per client address, every route: a success from the address clears it;
//! - per ID number at `/login` only, where a password could be guessed from many addresses;
//!   an address the citizen has succeeded from before is trusted and not held by it, so a
//!   stranger provoking it does not keep the citizen out;
//! - per ID number *and* address at `/activate` and `/receipt`: an activation code has 80
//!   random bits, so strangers elsewhere gain nothing by guessing it and cannot hold the
//!   citizen back.
//!
//! No limit locks for good; an audited unlock ([`unlock`]) clears an ID number's counters.

use agent_console::i18n::Lang;
use agent_console::lockout::Backoff;
use agent_console::throttle::{self, Admission, Limit};
use axum::http::{StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use store::{AttemptKind, NewAuditEvent, Store, ThrottleScope, pair_subject};

use super::form::Shown;
use super::mask_id_number;
use crate::identity::DniNie;
use agent_console::passwords::hashing::{Admitted, HashPool, RETRY_AFTER_SECS};

/// The citizens' limits.
#[derive(Debug, Clone, Copy)]
pub struct AttemptPolicy {
    /// Sign-in failures for an ID number from addresses it has not succeeded from.
    pub by_id: Backoff,
    /// Wrong codes for an ID number from one address.
    pub by_pair: Backoff,
    /// Failures from one address, whatever the ID number.
    pub by_address: Backoff,
    /// How long an address the citizen succeeded from stays trusted.
    pub trust_for: TimeDelta,
}

/// A back-off of one minute doubling to one hour after `free` failures, forgotten after a
/// day without one.
const fn minute_to_hour(free: i64) -> Backoff {
    Backoff {
        free,
        first: TimeDelta::minutes(1),
        cap: TimeDelta::hours(1),
        forget: Some(TimeDelta::days(1)),
        lock_after: None,
    }
}

/// The limits in force.
pub const ATTEMPTS: AttemptPolicy = AttemptPolicy {
    by_id: minute_to_hour(10),
    by_pair: minute_to_hour(10),
    by_address: minute_to_hour(20),
    trust_for: TimeDelta::days(180),
};

/// An admitted attempt: the counters it was counted in, to clear on success.
#[derive(Debug)]
pub struct Attempt {
    counted: Vec<(ThrottleScope, String, Backoff)>,
}

/// Why an attempt may not go ahead: a 429 page saying when to try again, with `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    alert: String,
    retry_after_secs: i64,
}

impl Refusal {
    /// The page `render` draws for the refusal, with `Retry-After`.
    pub fn respond(
        self,
        render: impl FnOnce(Shown) -> Result<Response, crate::Error>,
    ) -> Result<Response, crate::Error> {
        let mut response = render(Shown::alert(StatusCode::TOO_MANY_REQUESTS, self.alert))?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, self.retry_after_secs.into());
        Ok(response)
    }
}

/// Counts an attempt of `kind` for `id` from `client_addr` against the limits that apply,
/// before it is checked: `Ok(attempt)` to go ahead, else the refusal to show in `lang`.
pub async fn begin(
    store: &Store,
    lang: Lang,
    id: &DniNie,
    client_addr: &str,
    kind: AttemptKind,
    now: DateTime<Utc>,
) -> Result<Result<Attempt, Refusal>, crate::Error> {
    let p = &ATTEMPTS;
    let mut counted = vec![(
        ThrottleScope::CitizenAddress,
        client_addr.to_owned(),
        p.by_address,
    )];
    match kind {
        AttemptKind::Login => {
            let trusted = store
                .citizen_address_trusted(id.as_str(), client_addr, now - p.trust_for)
                .await?;
            if !trusted {
                counted.push((ThrottleScope::CitizenId, id.as_str().to_owned(), p.by_id));
            }
        }
        AttemptKind::Activation | AttemptKind::Receipt => counted.push((
            ThrottleScope::CitizenCodePair,
            pair_subject(id.as_str(), client_addr),
            p.by_pair,
        )),
    }
    let attempt = Attempt { counted };
    Ok(
        match throttle::admit(store, &attempt.limits(), now).await? {
            Admission::Admitted(_) => Ok(attempt),
            Admission::Wait { until, .. } => Err(Refusal {
                alert: wait_message(lang, now, until),
                retry_after_secs: (until - now).num_seconds().max(1),
            }),
            // No citizen limit locks; should one ever, it is told as the longest wait.
            Admission::Locked { .. } => Err(Refusal {
                alert: wait_message(lang, now, now + p.by_id.cap),
                retry_after_secs: p.by_id.cap.num_seconds(),
            }),
        },
    )
}

impl Attempt {
    fn limits(&self) -> Vec<Limit<'_>> {
        self.counted
            .iter()
            .map(|(scope, subject, backoff)| Limit {
                scope: *scope,
                subject,
                backoff: *backoff,
            })
            .collect()
    }

    /// The attempt failed: it is already counted; writes its audit event.
    pub async fn failed(
        self,
        store: &Store,
        id: &DniNie,
        client_addr: &str,
        kind: AttemptKind,
        now: DateTime<Utc>,
    ) -> Result<(), crate::Error> {
        store
            .append_audit(&NewAuditEvent {
                at: now,
                actor: "citizen",
                action: &format!("citizen.{}_failed", kind.as_str()),
                subject: &mask_id_number(id),
                detail: &super::id_event_detail(store, id, client_addr),
            })
            .await?;
        Ok(())
    }

    /// The citizen proved to hold the code or the password: the attempt's counters and the
    /// ID number's sign-in counter are cleared, and the address is trusted for sign-in.
    pub async fn succeeded(
        self,
        store: &Store,
        id: &DniNie,
        client_addr: &str,
        now: DateTime<Utc>,
    ) -> Result<(), crate::Error> {
        throttle::succeeded(store, &self.limits()).await?;
        store
            .clear_throttle(ThrottleScope::CitizenId, id.as_str())
            .await?;
        store
            .trust_citizen_address(id.as_str(), client_addr, now)
            .await?;
        Ok(())
    }
}

/// Clears every counter that holds `id` back and writes `citizen.unlocked` by `actor` with
/// `detail` in the same transaction; returns how many counters there were.
pub async fn unlock(
    store: &Store,
    id: &DniNie,
    actor: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<u64, crate::Error> {
    let mut tx = store.begin().await?;
    let cleared = tx.clear_citizen_throttles(id.as_str()).await?;
    let mut detail = detail;
    detail["cleared"] = cleared.into();
    tx.audit(&NewAuditEvent {
        at: now,
        actor,
        action: "citizen.unlocked",
        subject: &mask_id_number(id),
        detail: &detail.to_string(),
    })
    .await?;
    tx.commit().await?;
    Ok(cleared)
}

/// The 429 sentence: how long to wait, until when in Madrid time, and what to do if it keeps
/// happening.
pub fn wait_message(lang: Lang, now: DateTime<Utc>, until: DateTime<Utc>) -> String {
    let secs = (until - now).num_seconds().max(1);
    let minutes = (secs + 59) / 60;
    let at = until.with_timezone(&scheduler::SERVICE_TZ).format("%H:%M");
    match lang {
        Lang::Es => format!(
            "Demasiados intentos fallidos. Espere {minutes} min (hasta las {at}, hora de Madrid) antes de volver a intentarlo. Si le sigue ocurriendo aunque escriba bien sus datos, puede que otra persona esté usando su número: entre desde un dispositivo en el que ya entró antes o llame al 060 y pida que desbloqueen su acceso."
        ),
        Lang::En => format!(
            "Too many failed attempts. Wait {minutes} min (until {at}, Madrid time) before trying again. If it keeps happening although you type your details correctly, someone else may be using your number: sign in from a device you have used before, or call 060 and ask for your access to be unblocked."
        ),
    }
}

/// Admits one password check from `client_addr` to the bounded hashing pool, or the 429
/// refusal (with `Retry-After`) when that address already has as many running as it may:
/// refused at once, before any lookup or hashing, and not counted as a failure.
pub fn admit_password_check(
    pool: &HashPool,
    lang: Lang,
    client_addr: &str,
) -> Result<Admitted, Refusal> {
    pool.admit(client_addr).ok_or_else(|| Refusal {
        alert: super::messages::too_many_at_once(lang).to_owned(),
        retry_after_secs: i64::from(RETRY_AFTER_SECS),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_told_in_minutes_and_madrid_time_with_what_to_do_next() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T09:00:00Z")
            .expect("instant")
            .to_utc();
        let msg = wait_message(Lang::En, now, now + TimeDelta::seconds(61));
        assert!(
            msg.starts_with(
                "Too many failed attempts. Wait 2 min (until 10:01, Madrid time) before trying again."
            ),
            "{msg}"
        );
        assert!(msg.contains("060"));
        assert!(!msg.contains("register again"));
        assert!(wait_message(Lang::Es, now, now).contains("Espere 1 min"));
    }

    #[test]
    fn no_citizen_limit_locks_and_every_wait_is_capped_at_an_hour() {
        for b in [ATTEMPTS.by_id, ATTEMPTS.by_pair, ATTEMPTS.by_address] {
            assert_eq!(b.lock_after, None);
            assert_eq!(b.delay_after(1_000_000), TimeDelta::hours(1));
        }
    }
}
