//! Staff accounts: names, the password policy, argon2id hashing, and the operations behind
//! `videoreg user …`. Every change is written to the audit trail.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use store::{NewAuditEvent, StaffRole, Store, secrets};

use crate::Error;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in bytes (bounds the hashing work an attacker can ask for).
pub const MAX_PASSWORD_BYTES: usize = 256;
/// Common passwords and the words they are built from.
const COMMON: &str = include_str!("common-passwords.txt");
/// Characters of generated passwords: no 0/O, 1/l/I look-alikes.
const GENERATED_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Why a password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Fewer than 12 characters.
    #[error("the password must have at least 12 characters")]
    TooShort,
    /// More than 256 bytes.
    #[error("the password must have at most 256 bytes")]
    TooLong,
    /// It contains the user name.
    #[error("the password must not contain the user name")]
    ContainsName,
    /// It is, or is built from, a common password.
    #[error("the password is too common; choose a passphrase of several unrelated words")]
    Common,
}

/// Checks a new password against the policy.
pub fn check_password(name: &str, password: &str) -> Result<(), PolicyError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PolicyError::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PolicyError::TooShort);
    }
    let lower = password.to_lowercase();
    if !name.is_empty() && lower.contains(&name.to_lowercase()) {
        return Err(PolicyError::ContainsName);
    }
    let core = lower.trim_matches(|c: char| {
        c.is_ascii_digit() || c.is_ascii_punctuation() || c.is_whitespace()
    });
    let common = COMMON
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .any(|w| w == lower || w == core);
    let one_char = lower.chars().all(|c| lower.starts_with(c));
    if common || one_char || core.is_empty() {
        return Err(PolicyError::Common);
    }
    Ok(())
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

/// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes), salted.
pub fn hash_password(password: &str) -> Result<String, Error> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::PasswordHash(e.to_string()))
}

/// Whether `password` matches a stored hash. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    password.len() <= MAX_PASSWORD_BYTES
        && Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok()
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

/// Creates an account. `actor` is who did it, for the audit trail (`cli` on the command line).
pub async fn add_user(
    store: &Store,
    actor: &str,
    name: &str,
    role: StaffRole,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    check_name(name)?;
    check_password(name, password).map_err(|e| Error::Account(e.to_string()))?;
    let id = secrets::new_id()?;
    let hash = hash_password(password)?;
    match store.insert_staff_user(&id, name, role, &hash, now).await {
        Err(e) if e.is_unique_violation() => Err(Error::Account(format!(
            "a staff account named {name:?} already exists"
        ))),
        other => other.map_err(Error::from),
    }?;
    audit(
        store,
        now,
        actor,
        &format!("staff.user_added.{}", role.as_str()),
        name,
    )
    .await
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

/// Sets a new password, re-enables the account, lifts any lockout and ends its sessions.
pub async fn reset_password(
    store: &Store,
    actor: &str,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let user = existing(store, name).await?;
    check_password(name, password).map_err(|e| Error::Account(e.to_string()))?;
    store
        .set_staff_password(&user.id, &hash_password(password)?, now)
        .await?;
    store.set_staff_disabled(&user.id, false, now).await?;
    store.clear_staff_login_failures(name).await?;
    store.delete_staff_sessions_for_user(&user.id).await?;
    audit(store, now, actor, "staff.password_reset", name).await
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
    fn the_policy_wants_twelve_characters_not_the_name_not_common() {
        assert_eq!(check_password("marta", "short"), Err(PolicyError::TooShort));
        assert_eq!(
            check_password("marta", "marta-is-great-2026"),
            Err(PolicyError::ContainsName)
        );
        assert_eq!(
            check_password("marta", "MARTA.forever.99"),
            Err(PolicyError::ContainsName)
        );
        assert_eq!(
            check_password("x", "password1234"),
            Err(PolicyError::Common)
        );
        assert_eq!(
            check_password("x", "Contraseña2026!"),
            Err(PolicyError::Common),
            "common word plus digits"
        );
        assert_eq!(
            check_password("x", "123456789012"),
            Err(PolicyError::Common)
        );
        assert_eq!(
            check_password("x", "aaaaaaaaaaaaaaa"),
            Err(PolicyError::Common)
        );
        assert_eq!(
            check_password("x", &"a".repeat(300)),
            Err(PolicyError::TooLong)
        );
        assert_eq!(
            check_password("marta", "lámpara verde sobre el río"),
            Ok(())
        );
        assert_eq!(check_password("marta", "tZ7#pQ9!rW2@"), Ok(()));
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
    fn hashes_are_argon2id_salted_and_verify() {
        let h1 = hash_password("lámpara verde sobre el río").unwrap();
        let h2 = hash_password("lámpara verde sobre el río").unwrap();
        assert!(h1.starts_with("$argon2id$"));
        assert_ne!(h1, h2, "salted");
        assert!(verify_password("lámpara verde sobre el río", &h1));
        assert!(!verify_password("lámpara verde sobre el rio", &h1));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        for _ in 0..20 {
            let p = generate_password().unwrap();
            assert_eq!(p.chars().count(), 20);
            assert_eq!(check_password("somebody", &p), Ok(()), "{p}");
        }
    }
}
