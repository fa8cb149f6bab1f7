//! The crate's one error type. It turns into a response only as far as a status and a
//! marker: client errors are already pages or redirects; internal errors are logged once
//! here and rendered with the request id by the server's middleware.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Marks a response as an internal error so that the server can add the request id.
#[derive(Debug, Clone, Copy)]
pub struct InternalError;

/// Everything the staff side can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
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

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "internal error");
        let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        response.extensions_mut().insert(InternalError);
        response
    }
}
