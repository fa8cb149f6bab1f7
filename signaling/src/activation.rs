//! Activation codes: 16 characters from a 32-letter alphabet without look-alikes (no I, O,
//! 0 or 1), i.e. 80 bits from the operating system's random source, shown in groups of four
//! (`ABCD-EFGH-JKLM-NPQR`). Only the SHA-256 of the canonical form is stored: with 80 random
//! bits a fast hash is enough (argon2 is for guessable secrets such as passwords), and the
//! activation page limits guesses besides.

use std::fmt;

/// The alphabet: 32 symbols, so each random byte's low five bits pick one uniformly.
const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Symbols in a code.
const LEN: usize = 16;

/// An activation code in canonical form (16 symbols, no separators).
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationCode(String);

/// Why typed text is not an activation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Not 16 symbols once spaces and dashes are removed.
    #[error("an activation code has 16 letters and digits")]
    Length,
    /// A character outside the alphabet.
    #[error("an activation code has only the letters A–Z (no I or O) and digits 2–9")]
    Character,
    /// The random source failed.
    #[error("random source unavailable")]
    Random,
}

impl ActivationCode {
    /// A fresh code from the operating system's random source.
    pub fn generate() -> Result<Self, CodeError> {
        let mut bytes = [0u8; LEN];
        getrandom::fill(&mut bytes).map_err(|_| CodeError::Random)?;
        Ok(Self(
            bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
                .collect(),
        ))
    }

    /// Reads a code as a citizen types it: any case, with or without dashes and spaces.
    pub fn parse(typed: &str) -> Result<Self, CodeError> {
        let mut code = String::with_capacity(LEN);
        for c in typed.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let c = c.to_ascii_uppercase();
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(CodeError::Character);
            }
            if code.len() == LEN {
                return Err(CodeError::Length);
            }
            code.push(c);
        }
        if code.len() != LEN {
            return Err(CodeError::Length);
        }
        Ok(Self(code))
    }

    /// The hash under which the code is stored and looked up.
    pub fn hash(&self) -> String {
        store::secrets::hash_token(&self.0)
    }
}

/// Grouped for people: `ABCD-EFGH-JKLM-NPQR`.
impl fmt::Display for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, chunk) in self.0.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            f.write_str(std::str::from_utf8(chunk).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

/// Never printed in logs.
impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCode(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_grouped_unambiguous_and_differ() {
        let a = ActivationCode::generate().unwrap();
        let b = ActivationCode::generate().unwrap();
        assert_ne!(a, b);
        let shown = a.to_string();
        assert_eq!(shown.len(), 19);
        assert_eq!(shown.matches('-').count(), 3);
        assert!(!shown.contains(['I', 'O', '0', '1']));
        assert_eq!(ActivationCode::parse(&shown).unwrap(), a);
    }

    #[test]
    fn typed_codes_are_normalised() {
        let code = ActivationCode::parse("abcd efgh-jklm npqr").unwrap();
        assert_eq!(code.to_string(), "ABCD-EFGH-JKLM-NPQR");
        assert_eq!(
            code.hash(),
            ActivationCode::parse("ABCDEFGHJKLMNPQR").unwrap().hash()
        );
        assert_eq!(format!("{code:?}"), "ActivationCode(…)");
    }

    #[test]
    fn bad_codes_say_why() {
        assert_eq!(ActivationCode::parse("ABCD-EFGH"), Err(CodeError::Length));
        assert_eq!(
            ActivationCode::parse("ABCD-EFGH-JKLM-NPQR-S"),
            Err(CodeError::Length)
        );
        assert_eq!(
            ActivationCode::parse("ABCD-EFGH-JKLM-NPQ0"),
            Err(CodeError::Character)
        );
        assert_eq!(
            ActivationCode::parse("ÁBCD-EFGH-JKLM-NPQR"),
            Err(CodeError::Character)
        );
    }

    #[test]
    fn every_symbol_appears_over_many_codes() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            seen.extend(ActivationCode::generate().unwrap().0.into_bytes());
        }
        assert_eq!(seen.len(), 32);
    }
}
