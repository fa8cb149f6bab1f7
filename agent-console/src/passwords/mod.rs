//! The password policy for citizens and staff alike, after NIST SP 800-63B §5.1.1.2: a
//! minimum length (8 characters for citizens; 15 for staff signing in with a password alone,
//! 12 with the second factor), at most 256 bytes, no composition rules, and refused when it
//! is a commonly used or breached password ([`blocklist`], with common disguises undone:
//! case, digits and symbols around a word, `0` for `o`, a word repeated), or built from the
//! context: the service's names (`clave`, `videoreg`), the person's ID number or names.
//! Each refusal says which rule failed, in Spanish and English ([`Weakness::message`]).
//!
//! Hashing is [`hashing`]'s: every argon2 computation runs on its bounded pool.

pub mod blocklist;
pub mod hashing;
#[cfg(test)]
mod tests;

use crate::i18n::Lang;

/// Shortest citizen password, in characters.
pub const CITIZEN_MIN_CHARS: usize = 8;
/// Shortest staff password when a password alone signs in, in characters.
pub const STAFF_MIN_CHARS_SINGLE_FACTOR: usize = 15;
/// Shortest staff password when a second factor is required, in characters.
pub const STAFF_MIN_CHARS_WITH_MFA: usize = 12;
/// Longest password accepted, in bytes (bounds the hashing work an attacker can ask for).
pub const MAX_BYTES: usize = 256;
/// The service's own names, which no password may be built from.
const SERVICE_WORDS: [&str; 2] = ["videoreg", "clave"];
/// Fewest letters a password must keep once the service's names are taken out of it.
const MIN_LETTERS_BESIDES_SERVICE: usize = 4;

/// The shortest staff password, by whether the second factor is required.
pub fn staff_min_chars(mfa_required: bool) -> usize {
    if mfa_required {
        STAFF_MIN_CHARS_WITH_MFA
    } else {
        STAFF_MIN_CHARS_SINGLE_FACTOR
    }
}

/// What a password is checked against besides the list: its minimum length and the words
/// of its owner.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Shortest length, in characters.
    pub min_chars: usize,
    /// The owner's ID number (`12345678Z`), refused with or without its letter; empty if none.
    pub id_number: &'a str,
    /// The owner's names (a citizen's full name, a staff user name): any part of 3 letters
    /// or more is refused; empty if not known.
    pub names: &'a str,
}

/// Why a password was refused: one rule, named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Weakness {
    /// Shorter than the minimum (which it carries).
    #[error("the password must have at least {0} characters")]
    TooShort(usize),
    /// More than 256 bytes.
    #[error("the password must have at most 256 bytes")]
    TooLong,
    /// A commonly used or breached password, or one with digits, symbols or look-alike
    /// letters added.
    #[error("the password is on a list of common or breached passwords")]
    Common,
    /// One character or one group of characters repeated.
    #[error("the password repeats the same characters")]
    Repetitive,
    /// Built from the service's name (`clave`, `videoreg`).
    #[error("the password must not be built from the name of the service")]
    ServiceName,
    /// It contains the ID number.
    #[error("the password must not contain the ID number")]
    ContainsIdNumber,
    /// It contains a part of the owner's name.
    #[error("the password must not contain your name")]
    ContainsName,
}

impl Weakness {
    /// The rule that failed, for the person, in `lang`.
    pub fn message(self, lang: Lang) -> String {
        let (es, en) = match self {
            Weakness::TooShort(n) => {
                return match lang {
                    Lang::Es => format!(
                        "La contraseña debe tener al menos {n} caracteres. Una frase de varias palabras es fácil de recordar."
                    ),
                    Lang::En => format!(
                        "The password must have at least {n} characters. A phrase of several words is easy to remember."
                    ),
                };
            }
            Weakness::TooLong => (
                "La contraseña es demasiado larga: como máximo 256 bytes (unos 250 caracteres).",
                "The password is too long: at most 256 bytes (about 250 characters).",
            ),
            Weakness::Common => (
                "Esa contraseña es de las más usadas o ha aparecido en filtraciones (también con cifras, símbolos o letras cambiadas). Elija otra, por ejemplo varias palabras sin relación.",
                "That password is one of the most used or has appeared in breaches (also with digits, symbols or swapped letters). Choose another, for example several unrelated words.",
            ),
            Weakness::Repetitive => (
                "La contraseña repite los mismos caracteres. Elija otra.",
                "The password repeats the same characters. Choose another.",
            ),
            Weakness::ServiceName => (
                "La contraseña no puede basarse en el nombre del servicio (Cl@ve, videoreg).",
                "The password must not be based on the name of the service (Cl@ve, videoreg).",
            ),
            Weakness::ContainsIdNumber => (
                "La contraseña no puede contener su número de DNI o NIE.",
                "The password must not contain your DNI or NIE number.",
            ),
            Weakness::ContainsName => (
                "La contraseña no puede contener su nombre ni sus apellidos.",
                "The password must not contain your name or surnames.",
            ),
        };
        lang.pick(es, en).to_owned()
    }
}

/// Checks a new password; the first rule it breaks, in the order of [`Weakness`].
pub fn check(password: &str, context: &Context<'_>) -> Result<(), Weakness> {
    if password.chars().count() < context.min_chars {
        return Err(Weakness::TooShort(context.min_chars));
    }
    if password.len() > MAX_BYTES {
        return Err(Weakness::TooLong);
    }
    let folded = fold(password);
    if let Some(unit) = repeated_unit(&folded) {
        // `aaaaaaaa`, `abcabcabc`, `Passw0rdPassw0rd`: a repeated common word is common.
        return Err(if is_common(unit) {
            Weakness::Common
        } else {
            Weakness::Repetitive
        });
    }
    if built_from_service_name(&folded) {
        return Err(Weakness::ServiceName);
    }
    if is_common(&folded) || is_common(&password.to_lowercase()) {
        return Err(Weakness::Common);
    }
    let id = fold(context.id_number);
    let id_digits = id.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    if !id.is_empty()
        && (folded.contains(&id) || (!id_digits.is_empty() && folded.contains(id_digits)))
    {
        return Err(Weakness::ContainsIdNumber);
    }
    if fold(context.names)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|part| part.chars().count() >= 3)
        .any(|part| folded.contains(part))
    {
        return Err(Weakness::ContainsName);
    }
    Ok(())
}

/// Whether `folded` is on the list as it is, with digits and symbols taken off its ends,
/// or with look-alike digits and symbols read as letters (`p@ssw0rd`).
fn is_common(folded: &str) -> bool {
    let core = |s: &str| s.trim_matches(|c: char| !c.is_alphabetic()).to_owned();
    let plain = unleet(folded);
    [folded.to_owned(), core(folded), plain.clone(), core(&plain)]
        .iter()
        .any(|candidate| candidate.chars().count() >= 4 && blocklist::contains(candidate))
}

/// The shortest group of characters that `s`, repeated, makes (`abab` → `ab`), if any.
fn repeated_unit(s: &str) -> Option<&str> {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    (1..=n / 2)
        .filter(|len| n.is_multiple_of(*len))
        .find(|&len| chars.chunks(len).all(|c| c == &chars[..len]))
        .and_then(|len| s.char_indices().nth(len).map(|(i, _)| &s[..i]))
}

/// Whether taking the service's names out of `folded` (also written with look-alikes:
/// `cl@ve`) leaves fewer than 4 letters, or a common password.
fn built_from_service_name(folded: &str) -> bool {
    let plain: Vec<char> = unleet(folded).chars().collect();
    let mut covered = vec![false; plain.len()];
    for word in SERVICE_WORDS {
        let word: Vec<char> = word.chars().collect();
        for start in 0..plain.len().saturating_sub(word.len() - 1) {
            if plain[start..].starts_with(&word) {
                covered[start..start + word.len()].fill(true);
            }
        }
    }
    if !covered.contains(&true) {
        return false;
    }
    // `unleet` maps one character to one, so positions in `plain` are positions in `folded`.
    let letters: String = folded
        .chars()
        .zip(covered)
        .filter(|(c, covered)| !covered && c.is_alphabetic())
        .map(|(c, _)| c)
        .collect();
    letters.chars().count() < MIN_LETTERS_BESIDES_SERVICE || is_common(&letters)
}

/// Digits and symbols read as the letters they stand for: `p@55w0rd` → `password`.
fn unleet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect()
}

/// Lower case without the accents Spanish names carry, for comparison: `Lucía` → `lucia`.
pub fn fold(s: &str) -> String {
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
