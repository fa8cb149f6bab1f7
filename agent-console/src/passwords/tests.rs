use super::*;

const ID: &str = "12345678Z";
const NAME: &str = "Lucía Martín Ficticia";

fn citizen(pw: &str) -> Result<(), Weakness> {
    check(
        pw,
        &Context {
            min_chars: CITIZEN_MIN_CHARS,
            id_number: ID,
            names: NAME,
        },
    )
}

fn staff(pw: &str, mfa: bool) -> Result<(), Weakness> {
    check(
        pw,
        &Context {
            min_chars: staff_min_chars(mfa),
            id_number: "",
            names: "marta.garcia",
        },
    )
}

#[test]
fn common_and_breached_passwords_are_refused_with_their_disguises() {
    assert_eq!(citizen("Password1"), Err(Weakness::Common));
    assert_eq!(citizen("qwertyuiop"), Err(Weakness::Common));
    assert_eq!(
        citizen("P@ssw0rd2026!"),
        Err(Weakness::Common),
        "leet and digits"
    );
    assert_eq!(citizen("Contraseña2026!"), Err(Weakness::Common), "Spanish");
    assert_eq!(
        staff("Passw0rdPassw0rd", false),
        Err(Weakness::Common),
        "doubled"
    );
    assert_eq!(staff("administrations", false), Err(Weakness::Common));
    assert_eq!(
        citizen("mypassword12"),
        Err(Weakness::Common),
        "a common word plus digits"
    );
}

#[test]
fn no_composition_rule_a_long_plain_passphrase_is_fine() {
    assert_eq!(citizen("marmotaverdeazul"), Ok(()), "16 letters, no symbol");
    assert_eq!(staff("marmotaverdeazul", false), Ok(()));
    assert_eq!(citizen("tortuga lenta"), Ok(()), "lower case only");
    assert_eq!(citizen("80417395"), Ok(()), "digits only, not common");
    assert_eq!(citizen("lámpara verde río"), Ok(()));
}

#[test]
fn minimums_are_8_for_citizens_15_for_staff_and_12_with_a_second_factor() {
    assert_eq!(citizen("tortuga"), Err(Weakness::TooShort(8)));
    assert_eq!(citizen("tortugaz"), Ok(()));
    assert_eq!(staff("tortugalentaz", false), Err(Weakness::TooShort(15)));
    assert_eq!(staff("tortugalentaz", true), Ok(()));
    assert_eq!(staff("tortugalent", true), Err(Weakness::TooShort(12)));
    assert_eq!(citizen(&"aB3!".repeat(64)), Err(Weakness::Repetitive));
    assert_eq!(citizen(&"x7".repeat(129)), Err(Weakness::TooLong));
    assert_eq!(
        citizen(&"ñ".repeat(129)),
        Err(Weakness::TooLong),
        "bytes, not characters"
    );
}

#[test]
fn repeated_characters_are_refused() {
    assert_eq!(citizen("zzzzzzzzzz"), Err(Weakness::Repetitive));
    assert_eq!(citizen("kq7kq7kq7kq7"), Err(Weakness::Repetitive));
}

#[test]
fn the_service_id_number_and_names_are_refused() {
    assert_eq!(citizen("miclave2026!"), Err(Weakness::ServiceName));
    assert_eq!(citizen("Cl@ve-Cl@ve-99"), Err(Weakness::ServiceName));
    assert_eq!(citizen("videoreg-2026"), Err(Weakness::ServiceName));
    assert_eq!(
        citizen("la clave del huerto"),
        Ok(()),
        "a phrase that names it"
    );
    assert_eq!(citizen("Xx12345678z!"), Err(Weakness::ContainsIdNumber));
    assert_eq!(citizen("Blorft#12345678"), Err(Weakness::ContainsIdNumber));
    assert_eq!(citizen("Blorft#1234567"), Ok(()), "a part of it is fine");
    assert_eq!(citizen("LUCIA2026!xk"), Err(Weakness::ContainsName));
    assert_eq!(citizen("mi-martin-99X"), Err(Weakness::ContainsName));
    assert_eq!(
        staff("marta-is-great-2026", true),
        Err(Weakness::ContainsName)
    );
    assert_eq!(
        staff("GARCIA.forever.99", true),
        Err(Weakness::ContainsName)
    );
}

#[test]
fn every_refusal_is_told_in_spanish_and_english() {
    for w in [
        Weakness::TooShort(8),
        Weakness::TooLong,
        Weakness::Common,
        Weakness::Repetitive,
        Weakness::ServiceName,
        Weakness::ContainsIdNumber,
        Weakness::ContainsName,
    ] {
        let (es, en) = (w.message(Lang::Es), w.message(Lang::En));
        assert!(
            es.starts_with("La contraseña") || es.starts_with("Esa contraseña"),
            "{es}"
        );
        assert!(
            en.starts_with("The password") || en.starts_with("That password"),
            "{en}"
        );
    }
    assert!(Weakness::TooShort(15).message(Lang::En).contains("15"));
}
