//! A booking's reference: eight characters of Crockford's base 32 (40 random bits), shown as
//! `ABCD-EFGH`, typed back in any case, with or without the dash, and with the letters
//! people confuse with digits read as those digits.

use std::fmt;

/// The alphabet: digits and letters without I, L, O and U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LEN: usize = 8;

/// A booking reference in its canonical form (eight characters, no dash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingReference(String);

impl BookingReference {
    /// A new random reference.
    pub fn generate() -> Result<Self, store::Error> {
        let mut s = String::with_capacity(LEN);
        for _ in 0..LEN {
            let i = store::secrets::random_below(32)? as usize;
            s.push(char::from(ALPHABET[i]));
        }
        Ok(Self(s))
    }

    /// A reference as typed: case, spaces and dashes do not matter; `O` reads as 0 and `I`,
    /// `L` as 1. `None` when it cannot be a reference.
    pub fn parse(typed: &str) -> Option<Self> {
        if typed.len() > 32 {
            return None;
        }
        let mut s = String::with_capacity(LEN);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
                _ => return None,
            };
            s.push(c);
        }
        (s.len() == LEN).then_some(Self(s))
    }

    /// A stored reference as a citizen is shown it (`ABCD-EFGH`); anything else as it is.
    pub fn shown(stored: &str) -> String {
        Self::parse(stored).map_or_else(|| stored.to_owned(), |r| r.to_string())
    }

    /// The canonical form, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BookingReference {
    /// `ABCD-EFGH`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = self.0.split_at(LEN / 2);
        write!(f, "{a}-{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_reference_reads_back_as_shown_and_as_typed_loosely() {
        let r = BookingReference::generate().expect("random");
        assert_eq!(r.as_str().len(), 8);
        let shown = r.to_string();
        assert_eq!(&shown[4..5], "-");
        assert_eq!(BookingReference::parse(&shown), Some(r.clone()));
        let loose = format!(" {} ", shown.to_lowercase().replace('-', " "));
        assert_eq!(BookingReference::parse(&loose), Some(r));
    }

    #[test]
    fn confusable_letters_read_as_digits_and_anything_else_is_refused() {
        assert_eq!(
            BookingReference::parse("oIl0-abcd").map(|r| r.0),
            Some("0110ABCD".into())
        );
        for bad in [
            "",
            "ABCD-EFG",
            "ABCD-EFGHJ",
            "ABCD-EFGU",
            "ABCD_EFGH",
            "ÁBCD-EFGH",
        ] {
            assert_eq!(BookingReference::parse(bad), None, "{bad:?}");
        }
        assert_eq!(BookingReference::parse(&"A".repeat(40)), None);
    }

    #[test]
    fn references_are_not_repeated_in_a_thousand() {
        let all: std::collections::HashSet<String> = (0..1000)
            .map(|_| BookingReference::generate().expect("random").0)
            .collect();
        assert_eq!(all.len(), 1000);
    }
}
