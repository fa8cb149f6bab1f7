//! Citizen accounts after registration: the PDF receipt, Permanent Cl@ve activation with the
//! activation code, and sign-in with the password set there. This module holds what the
//! three routes share: the password policy ([`password`]), the receipt ([`receipt`]), the
//! limits on failed attempts, and the check of an activation code against the one stored
//! for an ID number.
//!
//! Every attempt (a code at `/activate` or `/receipt`, a password at `/login`) is counted in
//! the database before it is checked, so limits hold across restarts and nodes and cannot be
//! raced ([`limits`]): each limit is a back-off with a cap, never a lock a stranger can make
//! permanent. An unknown ID number and a wrong code or password take the same path and get
//! the same answer.

pub mod form;
pub mod limits;
pub mod messages;
pub mod password;
mod pen;
pub mod receipt;

use store::secrets::constant_time_eq;
use store::{CitizenRegistration, Store, StoredCode};

use crate::identity::{DniNie, IdKind};
use agent_console::i18n::Lang;
use messages::FormErrors;
use signaling::activation::ActivationCode;
/// The detail of an audit event about an ID number: the client address and, with the
/// secrets key, the keyed hash that links every event about that number (the subject shows
/// only its last four characters, which many numbers share). The number itself is never in
/// the audit trail.
pub fn id_event_detail(store: &Store, id: &DniNie, client_addr: &str) -> String {
    let mut detail = serde_json::json!({ "client_addr": client_addr });
    if let Some(key) = store.secrets_key() {
        detail["id_link"] = key.link(id.as_str()).into();
    }
    detail.to_string()
}

/// The registration and the code a typed code's hash matched, compared in constant time.
#[derive(Debug, Clone)]
pub struct MatchedCode {
    /// The ID number's registration.
    pub registration: CitizenRegistration,
    /// The stored code the hash matched.
    pub code: StoredCode,
}

/// Finds the stored code of `id`'s registration whose hash is `code_hash`. Every stored
/// code is compared (in constant time), and an ID without a registration is compared
/// against a dummy, so that the work does not tell whether the ID is registered.
pub async fn match_code(
    store: &Store,
    id: &DniNie,
    code_hash: &str,
) -> Result<Option<MatchedCode>, crate::Error> {
    let Some(registration) = store.citizen_registration(id.as_str()).await? else {
        let _ = constant_time_eq(code_hash.as_bytes(), code_hash.as_bytes());
        return Ok(None);
    };
    let mut found = None;
    for code in &registration.codes {
        if constant_time_eq(code.code_hash.as_bytes(), code_hash.as_bytes()) && found.is_none() {
            found = Some(code.clone());
        }
    }
    Ok(found.map(|code| MatchedCode { registration, code }))
}

/// The full name on record for `id`, or empty when there is none.
pub async fn full_name(store: &Store, id: &DniNie) -> Result<String, crate::Error> {
    Ok(store
        .find_identity(id.as_str())
        .await?
        .map(|r| r.full_name)
        .unwrap_or_default())
}

/// The ID number and activation-code fields the receipt and activation forms open with,
/// each parsed or its error added to `errors` (so that every field's error shows at once).
pub fn id_and_code(
    lang: Lang,
    id_number: &str,
    code: &str,
    errors: &mut FormErrors,
) -> (Option<DniNie>, Option<ActivationCode>) {
    let id = DniNie::parse(id_number)
        .map_err(|e| errors.add("id_number", messages::id_number(lang, e)))
        .ok();
    let code_parsed = ActivationCode::parse(code)
        .map_err(|e| errors.add("code", messages::code(lang, code, e)))
        .ok();
    (id, code_parsed)
}

/// The ID number as receipts and pages show it: the last four characters, and a NIE's
/// leading letter: `*****678Z`, `X****567L`.
pub fn mask_id_number(id: &DniNie) -> String {
    let s = id.as_str();
    let tail = &s[s.len().saturating_sub(4)..];
    match id.kind() {
        IdKind::Dni => format!("*****{tail}"),
        IdKind::Nie => format!("{}****{tail}", &s[..1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_masked_to_their_last_four_and_a_nie_letter() {
        let dni = DniNie::parse("12345678Z").expect("valid");
        let nie = DniNie::parse("X1234567L").expect("valid");
        assert_eq!(mask_id_number(&dni), "*****678Z");
        assert_eq!(mask_id_number(&nie), "X****567L");
    }
}
