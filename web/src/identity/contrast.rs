//! Contrast data: the second fact a citizen gives to prove the ID number is theirs.
//!
//! - DNI: its validity date, or its issue date if the DNI is permanent (valid to 01-01-9999);
//! - NIE: the support number printed on the card (E + 8 digits) or certificate (C + 8 digits).

use chrono::NaiveDate;
use store::{IdentityKind, IdentityRecord};

use super::IdKind;

/// The validity date printed on a permanent DNI.
pub const PERMANENT: NaiveDate = match NaiveDate::from_ymd_opt(9999, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// A contrast value in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contrast {
    /// A date (validity or issue).
    Date(NaiveDate),
    /// A NIE support number, e.g. `E12345678`.
    SupportNumber(String),
}

/// Why a contrast value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContrastError {
    /// A DNI needs a date: DD-MM-YYYY, DD/MM/YYYY or YYYY-MM-DD.
    Date,
    /// A NIE needs a support number: E or C followed by 8 digits.
    SupportNumber,
}

impl Contrast {
    /// Reads the contrast value a citizen typed for an ID of `kind`.
    pub fn parse(kind: IdKind, input: &str) -> Result<Self, ContrastError> {
        match kind {
            IdKind::Dni => parse_date(input).map(Self::Date).ok_or(ContrastError::Date),
            IdKind::Nie => parse_support_number(input)
                .map(Self::SupportNumber)
                .ok_or(ContrastError::SupportNumber),
        }
    }

    /// The value the registry expects for a record, if the record holds it.
    pub fn expected(record: &IdentityRecord) -> Option<Self> {
        match record.kind {
            IdentityKind::Dni => {
                let valid = parse_iso(record.valid_until.as_deref()?)?;
                if valid == PERMANENT {
                    parse_iso(record.issued_on.as_deref()?).map(Self::Date)
                } else {
                    Some(Self::Date(valid))
                }
            }
            IdentityKind::Nie => {
                parse_support_number(record.support_number.as_deref()?).map(Self::SupportNumber)
            }
        }
    }

    /// A fixed-width text form used for comparison: `2031-02-03` or `E12345678`.
    pub fn canonical(&self) -> String {
        match self {
            Self::Date(d) => d.format("%Y-%m-%d").to_string(),
            Self::SupportNumber(s) => s.clone(),
        }
    }
}

/// Reads a date as people write it: `DD-MM-YYYY`, `DD/MM/YYYY`, `DD.MM.YYYY`, `DD MM YYYY`
/// or ISO `YYYY-MM-DD`.
pub fn parse_date(input: &str) -> Option<NaiveDate> {
    if input.len() > 32 {
        return None;
    }
    let unified: String = input
        .trim()
        .chars()
        .map(|c| if matches!(c, '/' | '.' | ' ') { '-' } else { c })
        .collect();
    let four_digit_year = |s: &str| s.split('-').any(|p| p.len() == 4);
    if !four_digit_year(&unified) {
        return None;
    }
    NaiveDate::parse_from_str(&unified, "%d-%m-%Y")
        .or_else(|_| NaiveDate::parse_from_str(&unified, "%Y-%m-%d"))
        .ok()
}

/// Reads an ISO date (`YYYY-MM-DD`), as the registry stores them.
pub fn parse_iso(input: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(input, "%Y-%m-%d").ok()
}

/// Reads a NIE support number: E or C and 8 digits; case and separators are forgiven.
pub fn parse_support_number(input: &str) -> Option<String> {
    if input.len() > 32 {
        return None;
    }
    let s: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let b = s.as_bytes();
    let ok = b.len() == 9 && matches!(b[0], b'E' | b'C') && b[1..].iter().all(u8::is_ascii_digit);
    ok.then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        kind: IdentityKind,
        valid: Option<&str>,
        issued: Option<&str>,
        support: Option<&str>,
    ) -> IdentityRecord {
        IdentityRecord {
            id_number: "12345678Z".into(),
            kind,
            full_name: "Prueba".into(),
            valid_until: valid.map(Into::into),
            issued_on: issued.map(Into::into),
            support_number: support.map(Into::into),
            birth_date: None,
        }
    }

    fn date(s: &str) -> NaiveDate {
        parse_iso(s).unwrap()
    }

    #[test]
    fn dates_are_read_in_spanish_and_iso_forms() {
        for input in [
            "03-02-2031",
            "03/02/2031",
            "3/2/2031",
            "03.02.2031",
            " 03 02 2031 ",
            "2031-02-03",
        ] {
            assert_eq!(parse_date(input), Some(date("2031-02-03")), "{input}");
        }
        for bad in [
            "2031",
            "31-02-2031",
            "03-02-31",
            "tomorrow",
            "",
            "03-13-2031",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn support_numbers_are_e_or_c_and_eight_digits() {
        assert_eq!(parse_support_number("e12345678"), Some("E12345678".into()));
        assert_eq!(
            parse_support_number("C-1234 5678"),
            Some("C12345678".into())
        );
        for bad in ["E1234567", "X12345678", "E123456789", "12345678E", ""] {
            assert_eq!(parse_support_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_dni_expects_its_validity_date() {
        let r = record(
            IdentityKind::Dni,
            Some("2031-02-03"),
            Some("2021-02-03"),
            None,
        );
        assert_eq!(
            Contrast::expected(&r),
            Some(Contrast::Date(date("2031-02-03")))
        );
    }

    #[test]
    fn a_permanent_dni_expects_its_issue_date() {
        let r = record(
            IdentityKind::Dni,
            Some("9999-01-01"),
            Some("2015-06-20"),
            None,
        );
        assert_eq!(
            Contrast::expected(&r),
            Some(Contrast::Date(date("2015-06-20")))
        );
        let missing = record(IdentityKind::Dni, Some("9999-01-01"), None, None);
        assert_eq!(Contrast::expected(&missing), None);
    }

    #[test]
    fn a_nie_expects_its_support_number() {
        let r = record(IdentityKind::Nie, None, None, Some("E00012345"));
        assert_eq!(
            Contrast::expected(&r),
            Some(Contrast::SupportNumber("E00012345".into()))
        );
    }

    #[test]
    fn the_typed_value_is_read_by_the_kind_of_id() {
        assert_eq!(
            Contrast::parse(IdKind::Dni, "03/02/2031"),
            Ok(Contrast::Date(date("2031-02-03")))
        );
        assert_eq!(
            Contrast::parse(IdKind::Dni, "E12345678"),
            Err(ContrastError::Date)
        );
        assert_eq!(
            Contrast::parse(IdKind::Nie, "03/02/2031"),
            Err(ContrastError::SupportNumber)
        );
    }
}
