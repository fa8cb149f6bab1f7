//! DNI and NIE numbers: parsing the way people type them, and the check letter.

use std::fmt;

/// The check-letter table: the letter for a number is `LETTERS[n mod 23]`.
const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Which document an ID number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// Documento Nacional de Identidad: 8 digits and a check letter.
    Dni,
    /// Número de Identidad de Extranjero: X, Y or Z, 7 digits and a check letter.
    Nie,
}

/// Why an ID number was refused before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdNumberError {
    /// Nothing was typed.
    Empty,
    /// Not the shape of a DNI or a NIE.
    Format,
    /// The shape is right but the check letter does not match the digits.
    CheckLetter,
}

/// A DNI or NIE whose format and check letter are valid, in canonical form (upper case, no
/// separators): `12345678Z`, `X1234567L`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DniNie {
    canonical: String,
    kind: IdKind,
}

impl DniNie {
    /// Parses an ID number as typed: case, spaces, hyphens and dots are forgiven, and a DNI
    /// typed with a missing leading zero (7 digits) is not: the 8 digits are part of it.
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        // Bound the work on hostile input before normalising.
        if input.len() > 64 {
            return Err(IdNumberError::Format);
        }
        let canonical: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '\t'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if canonical.is_empty() {
            return Err(IdNumberError::Empty);
        }
        let bytes = canonical.as_bytes();
        if bytes.len() != 9 || !bytes[8].is_ascii_uppercase() {
            return Err(IdNumberError::Format);
        }
        let (kind, number) = match bytes[0] {
            b'0'..=b'9' => (IdKind::Dni, digits(&bytes[..8])?),
            prefix @ (b'X' | b'Y' | b'Z') => {
                let lead = u32::from(prefix - b'X');
                (IdKind::Nie, lead * 10_000_000 + digits(&bytes[1..8])?)
            }
            _ => return Err(IdNumberError::Format),
        };
        if check_letter(number) != bytes[8] {
            return Err(IdNumberError::CheckLetter);
        }
        Ok(Self { canonical, kind })
    }

    /// DNI or NIE.
    pub fn kind(&self) -> IdKind {
        self.kind
    }

    /// The canonical form, as stored.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The number with all but the last four characters hidden, for display: `*****678Z`.
    pub fn masked(&self) -> String {
        let tail = &self.canonical[self.canonical.len() - 4..];
        format!("*****{tail}")
    }
}

impl fmt::Display for DniNie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

/// The check letter for a number.
pub fn check_letter(number: u32) -> u8 {
    LETTERS[(number % 23) as usize]
}

fn digits(bytes: &[u8]) -> Result<u32, IdNumberError> {
    bytes.iter().try_fold(0u32, |acc, b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + u32::from(b - b'0'))
        } else {
            Err(IdNumberError::Format)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_dnis_parse() {
        for (input, canonical) in [
            ("12345678Z", "12345678Z"),
            ("00000000T", "00000000T"),
            ("99999999R", "99999999R"),
            ("00000023T", "00000023T"),
            ("87654321X", "87654321X"),
        ] {
            let id = DniNie::parse(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert_eq!((id.as_str(), id.kind()), (canonical, IdKind::Dni));
        }
    }

    #[test]
    fn known_valid_nies_parse() {
        for input in ["X1234567L", "Y1234567X", "Z1234567R", "X0000000T"] {
            let id = DniNie::parse(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert_eq!(id.kind(), IdKind::Nie);
        }
    }

    #[test]
    fn input_is_normalised_the_way_people_type_it() {
        for input in [
            "12345678z",
            " 12345678 Z ",
            "12345678-Z",
            "12.345.678-z",
            "x-1234567-l",
        ] {
            assert!(DniNie::parse(input).is_ok(), "{input}");
        }
        assert_eq!(
            DniNie::parse("x 1234567 l").map(|d| d.to_string()),
            Ok("X1234567L".into())
        );
    }

    #[test]
    fn wrong_check_letters_are_refused() {
        assert_eq!(DniNie::parse("12345678A"), Err(IdNumberError::CheckLetter));
        assert_eq!(DniNie::parse("X1234567A"), Err(IdNumberError::CheckLetter));
        assert_eq!(
            DniNie::parse("Y1234567L"),
            Err(IdNumberError::CheckLetter),
            "prefix counts"
        );
    }

    #[test]
    fn malformed_numbers_are_refused() {
        assert_eq!(DniNie::parse(""), Err(IdNumberError::Empty));
        assert_eq!(DniNie::parse("  - "), Err(IdNumberError::Empty));
        for bad in [
            "1234567Z",
            "123456789Z",
            "A1234567L",
            "X123456L",
            "12345678",
            "1234567ZZ",
            "12345678Ñ",
            "１２３４５６７８Z",
        ] {
            assert_eq!(DniNie::parse(bad), Err(IdNumberError::Format), "{bad}");
        }
        assert_eq!(
            DniNie::parse(&"1".repeat(10_000)),
            Err(IdNumberError::Format)
        );
    }

    #[test]
    fn masked_shows_only_the_last_four() {
        assert_eq!(
            DniNie::parse("12345678Z").map(|d| d.masked()),
            Ok("*****678Z".into())
        );
    }
}
