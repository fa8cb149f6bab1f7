//! The Permanent Cl@ve password: the citizen's side of the one password policy
//! ([`agent_console::passwords`], after NIST SP 800-63B: at least 8 characters, no
//! composition rules, not a common or breached password, not built from the service's name,
//! the ID number or the citizen's names). Hashing runs on the shared bounded pool
//! ([`agent_console::passwords::hashing::HashPool`]).

use agent_console::passwords::{self, CITIZEN_MIN_CHARS, Context};

pub use agent_console::passwords::Weakness;

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
    pub fn parse(password: &str, id_number: &str, names: &str) -> Result<Self, Weakness> {
        passwords::check(
            password,
            &Context {
                min_chars: CITIZEN_MIN_CHARS,
                id_number,
                names,
            },
        )?;
        Ok(Self(password.to_owned()))
    }

    /// The password itself, to be hashed.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "12345678Z";
    const NAME: &str = "Lucía Martín Ficticia";

    fn check(pw: &str) -> Result<(), Weakness> {
        CitizenPassword::parse(pw, ID, NAME).map(|_| ())
    }

    #[test]
    fn eight_characters_of_any_kind_unless_common() {
        assert_eq!(check("tortuga"), Err(Weakness::TooShort(8)));
        assert_eq!(check("abcdefg9"), Err(Weakness::Common));
        assert_eq!(check("tortugaz"), Ok(()), "no composition rule");
        assert_eq!(check("Password1"), Err(Weakness::Common));
        assert_eq!(check("marmotaverdeazul"), Ok(()));
        assert_eq!(
            check("Cuaderno-azul-7"),
            Ok(()),
            "the browser test's password"
        );
    }

    #[test]
    fn the_id_number_and_the_names_are_refused() {
        assert_eq!(check("Blorft#12345678"), Err(Weakness::ContainsIdNumber));
        let nie = CitizenPassword::parse("casa-x1234567L", "X1234567L", "").map(|_| ());
        assert_eq!(nie, Err(Weakness::ContainsIdNumber));
        assert_eq!(check("ficticia larga frase"), Err(Weakness::ContainsName));
        let short_parts = CitizenPassword::parse("Delaxqz-2026!", ID, "Ana de la Osa").map(|_| ());
        assert_eq!(short_parts, Ok(()), "parts under 3 letters are not names");
        assert_eq!(
            format!("{:?}", CitizenPassword::parse("tortugaz", ID, NAME)),
            "Ok(CitizenPassword(…))"
        );
    }
}
