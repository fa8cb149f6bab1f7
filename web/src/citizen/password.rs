//! The Permanent Cl@ve password policy and its hashing. A password is accepted with at least
//! 8 characters from 3 of the 4 groups (upper case, lower case, digits, symbols), or with at
//! least 16 characters of any kind; at most 256 bytes; and it must not contain the ID number
//! (with or without its letter) nor any part of the citizen's name of 3 letters or more,
//! ignoring case and accents. Hashing is argon2id with the parameters staff passwords use.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Shortest password accepted when it mixes 3 of the 4 groups, in characters.
pub const MIN_MIXED_CHARS: usize = 8;
/// Shortest password accepted of any kind, in characters.
pub const MIN_ANY_CHARS: usize = 16;
/// Longest password accepted, in bytes (bounds the hashing work an attacker can ask for).
pub const MAX_BYTES: usize = 256;

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than 8 characters.
    #[error("the password must have at least 8 characters")]
    TooShort,
    /// 8 to 15 characters from fewer than 3 groups.
    #[error(
        "a password under 16 characters must mix 3 of: upper case, lower case, digits, symbols"
    )]
    TooSimple,
    /// More than 256 bytes.
    #[error("the password must have at most 256 bytes")]
    TooLong,
    /// It contains the ID number.
    #[error("the password must not contain the ID number")]
    ContainsIdNumber,
    /// It contains one of the citizen's names.
    #[error("the password must not contain your name or surnames")]
    ContainsName,
}

/// A new password that meets the policy for one citizen. Never printed.
pub struct CitizenPassword(String);

impl std::fmt::Debug for CitizenPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CitizenPassword(…)")
    }
}

impl CitizenPassword {
    /// Checks `password` for the citizen with canonical `id_number` (`12345678Z`) and full
    /// name `names` (may be empty when the name is not known yet).
    pub fn parse(password: &str, id_number: &str, names: &str) -> Result<Self, PasswordError> {
        if password.len() > MAX_BYTES {
            return Err(PasswordError::TooLong);
        }
        let chars = password.chars().count();
        if chars < MIN_MIXED_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars < MIN_ANY_CHARS && groups(password) < 3 {
            return Err(PasswordError::TooSimple);
        }
        let folded = fold(password);
        let id = id_number.to_ascii_lowercase();
        let id_digits = id.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        if !id.is_empty() && (folded.contains(&id) || folded.contains(id_digits)) {
            return Err(PasswordError::ContainsIdNumber);
        }
        let name_parts = fold(names);
        if name_parts
            .split(|c: char| !c.is_alphanumeric())
            .filter(|part| part.chars().count() >= 3)
            .any(|part| folded.contains(part))
        {
            return Err(PasswordError::ContainsName);
        }
        Ok(Self(password.to_owned()))
    }

    /// The argon2id PHC string for this password (salted; some tens of milliseconds: call
    /// it off the async runtime).
    pub fn hash(&self) -> Result<String, argon2::password_hash::Error> {
        Argon2::default()
            .hash_password(self.0.as_bytes())
            .map(|h| h.to_string())
    }
}

/// Whether `password` matches a stored argon2id hash; a malformed hash never matches.
pub fn verify(password: &str, hash: &str) -> bool {
    password.len() <= MAX_BYTES
        && Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok()
}

/// How many of the four groups (upper, lower, digit, symbol) `s` uses.
fn groups(s: &str) -> usize {
    let has = |f: fn(&char) -> bool| usize::from(s.chars().any(|c| f(&c)));
    has(|c| c.is_uppercase())
        + has(|c| c.is_lowercase())
        + has(char::is_ascii_digit)
        + has(|c| !c.is_alphanumeric())
}

/// Lower case without the accents Spanish names carry, for comparison: `Lucía` → `lucia`.
fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "12345678Z";
    const NAME: &str = "Lucía Martín Ficticia";

    fn check(pw: &str) -> Result<(), PasswordError> {
        CitizenPassword::parse(pw, ID, NAME).map(|_| ())
    }

    #[test]
    fn eight_characters_need_three_groups() {
        assert_eq!(check("Ab3$efg"), Err(PasswordError::TooShort));
        assert_eq!(check("abcdefgh"), Err(PasswordError::TooSimple));
        assert_eq!(check("abcdefg9"), Err(PasswordError::TooSimple));
        assert_eq!(check("Abcdefg9"), Ok(()));
        assert_eq!(check("abcdef9!"), Ok(()));
        assert_eq!(
            check("ÁRBOLes9"),
            Ok(()),
            "accented letters count as letters"
        );
    }

    #[test]
    fn sixteen_characters_of_any_kind_are_enough() {
        assert_eq!(check("abcdefghijklmnop"), Ok(()));
        assert_eq!(check("abcdefghijklmno"), Err(PasswordError::TooSimple));
        assert_eq!(check("lámpara verde río"), Ok(()));
    }

    #[test]
    fn long_passwords_are_refused_by_bytes() {
        assert_eq!(check(&"aB3!".repeat(64)), Ok(()));
        assert_eq!(check(&"aB3!".repeat(65)), Err(PasswordError::TooLong));
        assert_eq!(check(&"ñ".repeat(129)), Err(PasswordError::TooLong));
    }

    #[test]
    fn the_id_number_is_refused_with_or_without_its_letter() {
        assert_eq!(check("Xx12345678z!"), Err(PasswordError::ContainsIdNumber));
        assert_eq!(check("Hola#12345678"), Err(PasswordError::ContainsIdNumber));
        assert_eq!(check("Hola#1234567"), Ok(()), "a part of it is fine");
        let nie = CitizenPassword::parse("casa-x1234567L", "X1234567L", "").map(|_| ());
        assert_eq!(nie, Err(PasswordError::ContainsIdNumber));
    }

    #[test]
    fn names_are_refused_without_case_or_accents() {
        assert_eq!(check("LUCIA2026!x"), Err(PasswordError::ContainsName));
        assert_eq!(check("mi-martin-99X"), Err(PasswordError::ContainsName));
        assert_eq!(
            check("ficticia larga frase"),
            Err(PasswordError::ContainsName)
        );
        let short_parts = CitizenPassword::parse("Delano-2026!", ID, "Ana de la Osa").map(|_| ());
        assert_eq!(short_parts, Ok(()), "parts under 3 letters are not names");
        let ana = CitizenPassword::parse("Banana-2026!", ID, "Ana de la Osa").map(|_| ());
        assert_eq!(ana, Err(PasswordError::ContainsName));
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let pw = CitizenPassword::parse("Abcdefg9", ID, NAME).expect("valid");
        let (h1, h2) = (pw.hash().expect("hash"), pw.hash().expect("hash"));
        assert!(h1.starts_with("$argon2id$"));
        assert_ne!(h1, h2, "salted");
        assert!(verify("Abcdefg9", &h1));
        assert!(!verify("abcdefg9", &h1));
        assert!(!verify("Abcdefg9", "not a hash"));
        assert_eq!(format!("{pw:?}"), "CitizenPassword(…)");
    }
}
