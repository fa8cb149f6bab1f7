//! The crate's one error type. A client error is a [`Refusal`], which knows how it is shown
//! (JSON `{"error": {"code", "message"}}`, a page or a redirect). Everything else is internal:
//! it turns into a response only as far as a status and a marker, is logged once here, and is
//! rendered with the request id by the server's middleware.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::refusal::Refusal;

/// Marks a response as an internal error so that the server can add the request id.
#[derive(Debug, Clone, Copy)]
pub struct InternalError;

/// Everything the staff side can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request was refused because of the client; the refusal says how it is shown.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] store::Error),
    /// A page could not be rendered.
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    /// Password hashing failed.
    #[error("password hashing: {0}")]
    PasswordHash(String),
    /// TOTP set-up failed.
    #[error("totp: {0}")]
    Totp(String),
    /// Signaling failed while telling the citizen or the agent.
    #[error("signaling: {0}")]
    Signaling(#[from] signaling::Error),
    /// Something that should not fail did (a task panicked, an encoder failed).
    #[error("internal: {0}")]
    Internal(String),
    /// A command-line account operation was refused; the message says why.
    #[error("{0}")]
    Account(String),
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(refusal) => refusal.into_response(),
            internal => {
                tracing::error!(error = %internal, "internal error");
                let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                response.extensions_mut().insert(InternalError);
                response
            }
        }
    }
}
