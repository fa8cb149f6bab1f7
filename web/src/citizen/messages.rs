//! What the activation, sign-in and receipt pages say, in Spanish and English: one sentence
//! per error, shown next to its field and in the summary at the top of the page.

use signaling::activation::CodeError;

use super::password::Weakness;
use crate::identity::IdNumberError;
use agent_console::i18n::Lang;

/// An error on a form: the field it belongs to (its element id) and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's element id, for the summary's link.
    pub field: &'static str,
    /// The sentence.
    pub message: String,
}

/// The errors of one form submission, in the order the fields appear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    /// Adds an error for `field`.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// The error for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Every error, in order.
    pub fn all(&self) -> &[FieldError] {
        &self.0
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Why the ID number was refused.
pub fn id_number(lang: Lang, e: IdNumberError) -> &'static str {
    match e {
        IdNumberError::Empty => lang.pick("Escriba su número de DNI o NIE.", "Enter your DNI or NIE number."),
        IdNumberError::Format => lang.pick(
            "El número no tiene el formato de un DNI (8 cifras y una letra) ni de un NIE (X, Y o Z, 7 cifras y una letra).",
            "The number is not shaped like a DNI (8 digits and a letter) or a NIE (X, Y or Z, 7 digits and a letter).",
        ),
        IdNumberError::CheckLetter => lang.pick(
            "La letra no corresponde al número. Compruebe que lo ha escrito bien.",
            "The letter does not match the number. Check that you typed it correctly.",
        ),
    }
}

/// Why the activation code was refused, before any lookup.
pub fn code(lang: Lang, typed: &str, e: CodeError) -> &'static str {
    if typed.trim().is_empty() {
        return lang.pick(
            "Escriba el código de activación.",
            "Enter the activation code.",
        );
    }
    match e {
        CodeError::Character => lang.pick(
            "El código solo lleva letras de la A a la Z (sin I ni O) y cifras del 2 al 9.",
            "The code has only the letters A to Z (no I or O) and the digits 2 to 9.",
        ),
        CodeError::Length | CodeError::Random => lang.pick(
            "El código tiene 16 letras y cifras, por ejemplo ABCD-EFGH-JKLM-NPQR.",
            "The code has 16 letters and digits, for example ABCD-EFGH-JKLM-NPQR.",
        ),
    }
}

/// Why the new password was refused: the rule that failed.
pub fn password(lang: Lang, e: Weakness) -> String {
    e.message(lang)
}

/// This address already has as many password checks running as it may (429).
pub fn too_many_at_once(lang: Lang) -> &'static str {
    lang.pick(
        "Hay demasiadas comprobaciones de contraseña a la vez desde su dirección. Espere un momento y vuelva a intentarlo.",
        "Too many password checks at once from your address. Wait a moment and try again.",
    )
}

/// No password typed.
pub fn password_missing(lang: Lang) -> &'static str {
    lang.pick("Escriba la contraseña.", "Enter the password.")
}

/// The two new passwords differ.
pub fn passwords_differ(lang: Lang) -> &'static str {
    lang.pick(
        "Las dos contraseñas no coinciden. Escríbalas de nuevo.",
        "The two passwords do not match. Type them again.",
    )
}

/// An unknown ID number or a wrong code: deliberately the same sentence.
pub fn wrong_code(lang: Lang) -> &'static str {
    lang.pick(
        "El DNI/NIE o el código de activación no son correctos. Compruébelos en la pantalla del final de la videollamada.",
        "The DNI/NIE or the activation code is not correct. Check them on the screen shown at the end of the video call.",
    )
}

/// An unknown ID number, no password yet, or a wrong password: the same sentence.
pub fn wrong_password(lang: Lang) -> &'static str {
    lang.pick(
        "El DNI/NIE o la contraseña no son correctos.",
        "The DNI/NIE or the password is not correct.",
    )
}

/// The code matched but has been used.
pub fn code_used(lang: Lang) -> &'static str {
    lang.pick(
        "Este código de activación ya se ha utilizado. Si ya activó su Cl@ve Permanente, entre con su contraseña en /login.",
        "This activation code has already been used. If you have already activated your Permanent Cl@ve, sign in with your password at /login.",
    )
}

/// The code matched, but a second review of the approval stopped it for now.
pub fn under_review(lang: Lang) -> &'static str {
    lang.pick(
        "Su registro está en revisión: una segunda persona está comprobando la videollamada y, mientras tanto, el código de activación no se puede usar. No tiene que hacer nada; vuelva a intentarlo en unos días. Si tiene dudas, llame al 060.",
        "Your registration is under review: a second person is checking the video call, and until they finish the activation code cannot be used. You do not need to do anything; try again in a few days. If in doubt, call 060.",
    )
}

/// The code matched, but the registration was revoked after review.
pub fn registration_revoked(lang: Lang) -> &'static str {
    lang.pick(
        "Tras la revisión de la videollamada, su registro no se ha podido confirmar y este código ya no sirve. Puede registrarse de nuevo con otra videollamada o en una oficina; si tiene dudas, llame al 060.",
        "After the video call was reviewed, your registration could not be confirmed and this code no longer works. You can register again with another video call or at an office; if in doubt, call 060.",
    )
}

/// The code matched but has expired.
pub fn code_expired(lang: Lang, on: &str) -> String {
    match lang {
        Lang::Es => format!(
            "Este código de activación caducó el {on}. Su registro sigue siendo válido, pero una nueva videollamada no vuelve a registrarle ni da otro código: llame al 060 y pida ayuda."
        ),
        Lang::En => format!(
            "This activation code expired on {on}. Your registration is still valid, but another video call does not register you again or give another code: call 060 and ask for help."
        ),
    }
}

/// The anonymous form's CSRF token did not match.
pub fn form_expired(lang: Lang) -> &'static str {
    lang.pick(
        "El formulario ha caducado. Vuelva a escribir las contraseñas y envíelo de nuevo.",
        "The form has expired. Type the passwords again and send it again.",
    )
}

/// The form could not be read at all.
pub fn bad_form(lang: Lang) -> &'static str {
    lang.pick("Formulario no válido.", "Invalid form.")
}
