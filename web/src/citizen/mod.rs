//! Citizen accounts after registration: the PDF receipt, Permanent Cl@ve activation with the
//! activation code, and sign-in with the password set there. This module holds what the
//! three routes share: the password policy ([`password`]), the receipt ([`receipt`]), the
//! limits on failed attempts, and the check of an activation code against the one stored
//! for an ID number.
//!
//! Every failed attempt (a wrong code at `/activate` or `/receipt`, a wrong password at
//! `/login`) is written to the database, so limits hold across restarts and nodes: at most
//! [`AttemptPolicy::per_address`] per client address and [`AttemptPolicy::per_id`] per ID
//! number in a sliding [`AttemptPolicy::window`], and an ID number is locked for good after
//! [`AttemptPolicy::lock_after`] failures. An unknown ID number and a wrong code or password
//! take the same path and get the same answer.

pub mod form;
pub mod messages;
pub mod password;
mod pen;
pub mod receipt;

use axum::http::{StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use store::secrets::constant_time_eq;
use store::{AttemptKind, CitizenRegistration, NewAuditEvent, Store, StoredCode};

use self::form::Shown;
use crate::identity::{DniNie, IdKind};
use agent_console::i18n::Lang;
use agent_console::passwords::hashing::{Admitted, HashPool, RETRY_AFTER_SECS};

/// Limits on failed attempts at activation, sign-in and receipts (all counted together).
#[derive(Debug, Clone, Copy)]
pub struct AttemptPolicy {
    /// Failures allowed per ID number within `window`.
    pub per_id: u32,
    /// Failures allowed per client address within `window`.
    pub per_address: u32,
    /// The sliding window of the two limits above.
    pub window: TimeDelta,
    /// Failures after which an ID number is locked for good.
    pub lock_after: u64,
}

/// The limits in force.
pub const ATTEMPTS: AttemptPolicy = AttemptPolicy {
    per_id: 10,
    per_address: 20,
    window: TimeDelta::minutes(15),
    lock_after: 100,
};

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead.
    Open,
    /// Too many recent failures: wait until the instant given.
    Wait(DateTime<Utc>),
    /// The ID number has failed too often and is locked.
    Locked,
}

/// Reads the failures for `id` and `client_addr` and says whether to go ahead.
pub async fn gate(
    store: &Store,
    policy: &AttemptPolicy,
    id: &DniNie,
    client_addr: &str,
    now: DateTime<Utc>,
) -> Result<Gate, crate::Error> {
    if store.citizen_failures_total(id.as_str()).await? >= policy.lock_after {
        return Ok(Gate::Locked);
    }
    let cap = policy.per_id.max(policy.per_address);
    let failures = store
        .citizen_failures_since(id.as_str(), client_addr, now - policy.window, cap)
        .await?;
    let oldest_counted = [
        limit_reached(&failures.by_id, policy.per_id),
        limit_reached(&failures.by_address, policy.per_address),
    ]
    .into_iter()
    .flatten()
    .max();
    Ok(oldest_counted.map_or(Gate::Open, |t| Gate::Wait(t + policy.window)))
}

/// Why an attempt may not go ahead: the page's status and sentence, and for a wait the
/// seconds for `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    status: StatusCode,
    alert: String,
    retry_after_secs: Option<i64>,
}

impl Refusal {
    /// The page `render` draws for the refusal, with `Retry-After` for a wait.
    pub fn respond(
        self,
        render: impl FnOnce(Shown) -> Result<Response, crate::Error>,
    ) -> Result<Response, crate::Error> {
        let mut response = render(Shown::alert(self.status, self.alert))?;
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.into());
        }
        Ok(response)
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
        status: StatusCode::TOO_MANY_REQUESTS,
        alert: messages::too_many_at_once(lang).to_owned(),
        retry_after_secs: Some(i64::from(RETRY_AFTER_SECS)),
    })
}

/// Checks the [`ATTEMPTS`] limits for `id` and `client_addr`: `None` when the attempt may
/// go ahead, else the refusal to show in `lang`.
pub async fn attempt_refusal(
    store: &Store,
    lang: Lang,
    id: &DniNie,
    client_addr: &str,
    now: DateTime<Utc>,
) -> Result<Option<Refusal>, crate::Error> {
    Ok(match gate(store, &ATTEMPTS, id, client_addr, now).await? {
        Gate::Open => None,
        Gate::Wait(until) => Some(Refusal {
            status: StatusCode::TOO_MANY_REQUESTS,
            alert: wait_message(lang, now, until),
            retry_after_secs: Some((until - now).num_seconds().max(1)),
        }),
        Gate::Locked => Some(Refusal {
            status: StatusCode::FORBIDDEN,
            alert: locked_message(lang).to_owned(),
            retry_after_secs: None,
        }),
    })
}

/// If `failures` (oldest first) has reached `limit`, the failure whose ageing out will bring
/// the count back under the limit.
fn limit_reached(failures: &[DateTime<Utc>], limit: u32) -> Option<DateTime<Utc>> {
    let limit = usize::try_from(limit).ok()?;
    (failures.len() >= limit)
        .then(|| failures.len() - limit)
        .and_then(|i| failures.get(i).copied())
}

/// Records a failed attempt and its audit event.
pub async fn record_failure(
    store: &Store,
    id: &DniNie,
    client_addr: &str,
    kind: AttemptKind,
    now: DateTime<Utc>,
) -> Result<(), crate::Error> {
    store
        .record_citizen_failure(id.as_str(), client_addr, kind, now)
        .await?;
    store
        .append_audit(&NewAuditEvent {
            at: now,
            actor: "citizen",
            action: &format!("citizen.{}_failed", kind.as_str()),
            subject: &mask_id_number(id),
            detail: &serde_json::json!({ "client_addr": client_addr }).to_string(),
        })
        .await?;
    Ok(())
}

/// The registration and the code a typed code's hash matched, compared in constant time.
#[derive(Debug, Clone)]
pub struct MatchedCode {
    /// The ID number's registration.
    pub registration: CitizenRegistration,
    /// The stored code the hash matched.
    pub code: StoredCode,
}

/// Finds the stored code of `id`'s registration whose hash is `code_hash`. Every stored
/// code is compared (in constant time), and an ID without a registration is compared
/// against a dummy, so that the work does not tell whether the ID is registered.
pub async fn match_code(
    store: &Store,
    id: &DniNie,
    code_hash: &str,
) -> Result<Option<MatchedCode>, crate::Error> {
    let Some(registration) = store.citizen_registration(id.as_str()).await? else {
        let _ = constant_time_eq(code_hash.as_bytes(), code_hash.as_bytes());
        return Ok(None);
    };
    let mut found = None;
    for code in &registration.codes {
        if constant_time_eq(code.code_hash.as_bytes(), code_hash.as_bytes()) && found.is_none() {
            found = Some(code.clone());
        }
    }
    Ok(found.map(|code| MatchedCode { registration, code }))
}

/// The full name on record for `id`, or empty when there is none.
pub async fn full_name(store: &Store, id: &DniNie) -> Result<String, crate::Error> {
    Ok(store
        .find_identity(id.as_str())
        .await?
        .map(|r| r.full_name)
        .unwrap_or_default())
}

/// The ID number as receipts and pages show it: the last four characters, and a NIE's
/// leading letter: `*****678Z`, `X****567L`.
pub fn mask_id_number(id: &DniNie) -> String {
    let s = id.as_str();
    let tail = &s[s.len().saturating_sub(4)..];
    match id.kind() {
        IdKind::Dni => format!("*****{tail}"),
        IdKind::Nie => format!("{}****{tail}", &s[..1]),
    }
}

/// How many seconds and minutes until `until`, as a sentence for a 429 page.
pub fn wait_message(lang: Lang, now: DateTime<Utc>, until: DateTime<Utc>) -> String {
    let secs = (until - now).num_seconds().max(1);
    let minutes = (secs + 59) / 60;
    let at = until.with_timezone(&scheduler::SERVICE_TZ).format("%H:%M");
    match lang {
        Lang::Es => format!(
            "Demasiados intentos fallidos. Espere {minutes} min (hasta las {at}, hora de Madrid) antes de volver a intentarlo."
        ),
        Lang::En => format!(
            "Too many failed attempts. Wait {minutes} min (until {at}, Madrid time) before trying again."
        ),
    }
}

/// The sentence for a locked ID number.
pub fn locked_message(lang: Lang) -> &'static str {
    lang.pick(
        "Este DNI/NIE está bloqueado por demasiados intentos fallidos. Para desbloquearlo, regístrese de nuevo por videollamada o llame al 060.",
        "This DNI/NIE is locked after too many failed attempts. To unlock it, register again by video call or call 060.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_masked_to_their_last_four_and_a_nie_letter() {
        let dni = DniNie::parse("12345678Z").expect("valid");
        let nie = DniNie::parse("X1234567L").expect("valid");
        assert_eq!(mask_id_number(&dni), "*****678Z");
        assert_eq!(mask_id_number(&nie), "X****567L");
    }

    #[test]
    fn the_limit_lifts_when_enough_failures_age_out() {
        let t = |m| DateTime::<Utc>::UNIX_EPOCH + TimeDelta::minutes(m);
        assert_eq!(limit_reached(&[t(1), t(2)], 3), None);
        assert_eq!(limit_reached(&[t(1), t(2), t(3)], 3), Some(t(1)));
        assert_eq!(limit_reached(&[t(1), t(2), t(3), t(4)], 3), Some(t(2)));
    }

    #[test]
    fn the_wait_is_told_in_minutes_and_madrid_time() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T09:00:00Z")
            .expect("instant")
            .to_utc();
        let msg = wait_message(Lang::En, now, now + TimeDelta::seconds(61));
        assert_eq!(
            msg,
            "Too many failed attempts. Wait 2 min (until 10:01, Madrid time) before trying again."
        );
        assert!(wait_message(Lang::Es, now, now).contains("Espere 1 min"));
    }
}
