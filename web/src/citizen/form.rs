//! How a citizen account form (`/activate`, `/login`, `/receipt`) is shown: the status, a
//! sentence about the whole form, and each field's errors. The routes build one of these for
//! every answer and hand it, with what was typed, to their page.

use axum::http::StatusCode;

use super::messages::{self, FormErrors};
use agent_console::i18n::Lang;

/// The status of a form's page, its alert and its field errors.
#[derive(Debug, Default)]
pub struct Shown {
    pub status: StatusCode,
    /// A sentence about the whole form (wrong pair, used or expired code, limits).
    pub alert: Option<String>,
    pub errors: FormErrors,
}

impl Shown {
    /// The empty form, as `GET` shows it.
    pub fn blank() -> Self {
        Self::default()
    }

    /// A body that could not be read as the form.
    pub fn bad_form(lang: Lang) -> Self {
        Self::alert(StatusCode::BAD_REQUEST, messages::bad_form(lang))
    }

    /// Fields that failed their own checks.
    pub fn invalid(errors: FormErrors) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            alert: None,
            errors,
        }
    }

    /// A refusal of the whole form, with `status`.
    pub fn alert(status: StatusCode, alert: impl Into<String>) -> Self {
        Self {
            status,
            alert: Some(alert.into()),
            errors: FormErrors::default(),
        }
    }
}
