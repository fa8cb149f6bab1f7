//! Staff accounts: names, the staff side of the password policy (the rules are
//! [`crate::passwords`]'), and the operations behind `videoreg user …`, which hash on the
//! bounded pool ([`HashPool`]). Every change is written to the audit trail.

use chrono::{DateTime, Utc};
use store::{NewAuditEvent, StaffRole, Store, secrets};

use crate::Error;
use crate::passwords::hashing::HashPool;
use crate::passwords::{self, Context, Weakness};

/// Characters of generated passwords: no 0/O, 1/l/I look-alikes.
const GENERATED_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Checks a new staff password against the policy ([`passwords::check`]): at least
/// `min_chars` characters ([`passwords::staff_min_chars`]), not common, not built from the
/// service's or the user's name.
pub fn check_password(name: &str, password: &str, min_chars: usize) -> Result<(), Weakness> {
    passwords::check(
        password,
        &Context {
            min_chars,
            id_number: "",
            names: name,
        },
    )
}

/// Checks a sign-in name: 2 to 64 characters, lower-case letters, digits, `.`, `_`, `-`.
pub fn check_name(name: &str) -> Result<(), Error> {
    let ok = (2..=64).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::Account(format!(
            "invalid user name {name:?}: use 2 to 64 lower-case letters, digits, '.', '_' or '-'"
        )))
    }
}

/// A strong random password: 20 characters from a 56-letter alphabet (about 116 bits).
pub fn generate_password() -> Result<String, Error> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| Error::PasswordHash(e.to_string()))?;
    // 256 is not a multiple of 56; the bias this leaves (under 1 %) costs well under a bit.
    Ok(bytes
        .iter()
        .map(|b| char::from(GENERATED_ALPHABET[usize::from(*b) % GENERATED_ALPHABET.len()]))
        .collect())
}

async fn audit(
    store: &Store,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
) -> Result<(), Error> {
    store
        .append_audit(&NewAuditEvent {
            at: now,
            actor,
            action,
            subject,
            detail: "{}",
        })
        .await?;
    Ok(())
}

async fn existing(store: &Store, name: &str) -> Result<store::StaffUser, Error> {
    store
        .find_staff_by_name(name)
        .await?
        .ok_or_else(|| Error::Account(format!("no staff account named {name:?}")))
}

/// Where password-changing account operations run: the database, the hashing pool, who acts
/// (for the audit trail: `cli` on the command line) and the shortest password allowed.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'a> {
    /// The database.
    pub store: &'a Store,
    /// The pool every argon2 computation runs on.
    pub hashing: &'a HashPool,
    /// Who acts.
    pub actor: &'a str,
    /// Shortest password, in characters ([`passwords::staff_min_chars`]).
    pub min_chars: usize,
}

impl Accounts<'_> {
    /// Checks and hashes a new password for `name`.
    async fn new_hash(&self, name: &str, password: &str) -> Result<String, Error> {
        check_password(name, password, self.min_chars)
            .map_err(|e| Error::Account(e.to_string()))?;
        let admitted = self
            .hashing
            .admit(self.actor)
            .ok_or_else(|| Error::Internal("the password pool refused the command line".into()))?;
        self.hashing.hash(&admitted, password.to_owned()).await
    }

    /// Creates an account.
    pub async fn add_user(
        &self,
        name: &str,
        role: StaffRole,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        check_name(name)?;
        let hash = self.new_hash(name, password).await?;
        let id = secrets::new_id()?;
        match self
            .store
            .insert_staff_user(&id, name, role, &hash, now)
            .await
        {
            Err(e) if e.is_unique_violation() => Err(Error::Account(format!(
                "a staff account named {name:?} already exists"
            ))),
            other => other.map_err(Error::from),
        }?;
        let action = format!("staff.user_added.{}", role.as_str());
        audit(self.store, now, self.actor, &action, name).await
    }

    /// Sets a new password, re-enables the account, lifts any lockout and ends its sessions.
    pub async fn reset_password(
        &self,
        name: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let store = self.store;
        let user = existing(store, name).await?;
        let hash = self.new_hash(name, password).await?;
        store.set_staff_password(&user.id, &hash, now).await?;
        store.set_staff_disabled(&user.id, false, now).await?;
        store.clear_staff_login_failures(name).await?;
        store.delete_staff_sessions_for_user(&user.id).await?;
        audit(store, now, self.actor, "staff.password_reset", name).await
    }
}

/// Disables an account and ends its sessions.
pub async fn disable_user(
    store: &Store,
    actor: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let user = existing(store, name).await?;
    store.set_staff_disabled(&user.id, true, now).await?;
    store.delete_staff_sessions_for_user(&user.id).await?;
    audit(store, now, actor, "staff.user_disabled", name).await
}

/// Makes an agent a reviewer of other agents' approvals, or not (only agents review).
pub async fn set_reviewer(
    store: &Store,
    actor: &str,
    name: &str,
    reviewer: bool,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let user = existing(store, name).await?;
    if user.role != store::StaffRole::Agent {
        return Err(Error::Account(format!(
            "{name:?} is not an agent: only agents review approvals"
        )));
    }
    store.set_staff_reviewer(&user.id, reviewer, now).await?;
    let action = if reviewer {
        "staff.reviewer_granted"
    } else {
        "staff.reviewer_revoked"
    };
    audit(store, now, actor, action, name).await
}

/// Forgets an account's second factor: it enrols again at its next sign-in.
pub async fn reset_mfa(
    store: &Store,
    actor: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let user = existing(store, name).await?;
    store.set_staff_totp(&user.id, None, None, now).await?;
    store.delete_staff_sessions_for_user(&user.id).await?;
    audit(store, now, actor, "staff.mfa_reset", name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_passwords_follow_the_shared_policy_with_the_user_name() {
        assert_eq!(
            check_password("marta", "marta-is-great-2026", 12),
            Err(Weakness::ContainsName)
        );
        assert_eq!(
            check_password("x", "password1234", 12),
            Err(Weakness::Common)
        );
        assert_eq!(check_password("x", "marmotaverdeazul", 15), Ok(()));
        assert_eq!(
            check_password("x", "tortugalentaz", 15),
            Err(Weakness::TooShort(15))
        );
    }

    #[test]
    fn names_are_short_lower_case_identifiers() {
        assert!(check_name("marta.garcia").is_ok());
        assert!(check_name("a").is_err());
        assert!(check_name("Marta").is_err());
        assert!(check_name("marta garcia").is_err());
        assert!(check_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        for _ in 0..20 {
            let p = generate_password().unwrap();
            assert_eq!(p.chars().count(), 20);
            assert_eq!(check_password("somebody", &p, 15), Ok(()), "{p}");
        }
    }
}
