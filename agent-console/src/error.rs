//! The crate's one error type. A client error is a [`Refusal`], which knows how it is shown
//! (JSON `{"error": {"code", "message"}}`, a page or a redirect). Everything else is internal:
//! it turns into a response only as far as a status and a marker, is logged once here, and is
//! rendered with the request id by the server's middleware.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::refusal::Refusal;

/// Marks a response as an internal error so that the server can add the request id.
#[derive(Debug, Clone, Copy)]
pub struct InternalError;

/// Marks a response as "the database cannot be reached": the server renders it as 503
/// `unavailable` in the visitor's language.
#[derive(Debug, Clone, Copy)]
pub struct Unavailable;

/// Seconds after which a client should try again while the database cannot be reached.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 2;

/// The response for a failure to reach the database: logged once here as a warning with
/// the request's span, 503 with `Retry-After`, marked [`Unavailable`] for the server to
/// render in the visitor's language.
pub fn unavailable_response(error: &dyn std::fmt::Display) -> Response {
    tracing::warn!(error = %error, "database unavailable");
    let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECONDS),
    );
    response.extensions_mut().insert(Unavailable);
    response
}

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

impl Error {
    /// Whether the database could not be reached (see [`store::Error::is_unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Store(e) => e.is_unavailable(),
            Self::Signaling(e) => e.is_unavailable(),
            _ => false,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(refusal) => refusal.into_response(),
            unavailable if unavailable.is_unavailable() => unavailable_response(&unavailable),
            internal => {
                tracing::error!(error = %internal, "internal error");
                let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                response.extensions_mut().insert(InternalError);
                response
            }
        }
    }
}
