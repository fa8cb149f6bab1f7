//! The one place where errors become HTTP responses.
//!
//! Client errors carry a stable code and a message in the visitor's language, as JSON
//! `{"error": {"code", "message"}}`; the staff side's refusals ([`agent_console::Refusal`])
//! have the same shape and are shown as they say. Everything else is internal: it is logged
//! once (here, or by `agent_console` for its own), with the request's span (and so its
//! request id) as context, and the visitor sees a generic message with the request id, added
//! by [`crate::middleware::render_internal_errors`]. A database that cannot be reached is
//! not internal: it answers 503 `unavailable` with `Retry-After`, logged once as a warning,
//! so that people are told to wait and their pages retry.

use agent_console::InternalError;
use agent_console::refusal::{ErrorBody, ErrorDetail};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Everything the web crate can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request was wrong; the visitor is told why.
    #[error("{code}: {message}")]
    Client {
        /// HTTP status.
        status: StatusCode,
        /// Stable machine-readable code, e.g. `invalid_id_number`.
        code: &'static str,
        /// Human-readable message in the visitor's language.
        message: String,
        /// Seconds after which to retry, for 429 answers.
        retry_after: Option<u64>,
    },
    /// A staff operation failed.
    #[error("{0}")]
    Console(#[from] agent_console::Error),
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] store::Error),
    /// A page could not be rendered.
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    /// A citizen's password could not be hashed.
    #[error("password hashing: {0}")]
    PasswordHash(String),
    /// A receipt could not be rendered.
    #[error("receipt: {0}")]
    Receipt(#[from] crate::citizen::receipt::ReceiptError),
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The OpenAPI description could not be serialised.
    #[error("OpenAPI description: {0}")]
    OpenApi(#[from] serde_json::Error),
    /// The daily report could not be made.
    #[error("report: {0}")]
    Report(String),
    /// `audit verify` found a broken link; the message names it.
    #[error("{0}")]
    AuditBroken(String),
    /// A command-line argument was refused; the message says why.
    #[error("{0}")]
    Usage(String),
    /// The server will not start here; the message says why and what to do.
    #[error("{0}")]
    Refused(String),
    /// An import file was refused; the message lists every bad line.
    #[error("{0}")]
    Import(String),
    /// Reading a file or binding a socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl Error {
    /// A client error with a code and a message.
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Client {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Client {
                status,
                code,
                message,
                retry_after,
            } => {
                let body = ErrorBody {
                    error: ErrorDetail {
                        retry_after_seconds: retry_after,
                        ..ErrorDetail::new(code, message)
                    },
                };
                let mut response = (status, Json(body)).into_response();
                if let Some(secs) = retry_after {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                response
            }
            // A refusal is shown as it says; an internal error is logged and marked there.
            Error::Console(e) => e.into_response(),
            Error::Store(e) if e.is_unavailable() => agent_console::unavailable_response(&e),
            internal => {
                tracing::error!(error = %internal, "internal error");
                let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                response.extensions_mut().insert(InternalError);
                response
            }
        }
    }
}
