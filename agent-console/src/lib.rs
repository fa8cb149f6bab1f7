//! `agent_console` owns the staff side of videoreg: accounts (argon2id passwords under a
//! policy, TOTP second factor), the password policy and the bounded hashing pool that
//! citizens' passwords use too ([`passwords`]), sign-in at `/staff/login` with brute-force delays and
//! lockout, server-side sessions with CSRF tokens, and the one role extractor
//! ([`auth::Staff`]) that every staff route and staff WebSocket goes through; and the agent
//! console: the page agents work in, the call's details, document stills (checked and
//! re-encoded under limits), the checklist and reason codes, decisions, the activation code
//! issued on approval, and the auditors' read-only view of decisions and stills. It never
//! talks to citizens directly: that goes through `signaling`.
//!
//! Its router takes [`ConsoleState`] through `FromRef`, so it never names the server's
//! `AppState`. Its one error type holds client errors as [`Refusal`]s, built in
//! [`refusal`]: JSON `{"error": {"code", "message"}}` (the citizen API's shape) for the
//! console's HTTP calls, pages and redirects for browsers. Its JSON calls and pages are
//! described for OpenAPI on their handlers and gathered in [`ConsoleApi`].

pub mod accounts;
pub mod auth;
pub mod checklist;
mod error;
pub mod i18n;
pub mod lockout;
pub mod passwords;
pub mod refusal;
mod routes;
pub mod second_review;
pub mod state;
pub mod still_quality;
pub mod stills;
pub mod supervisor;
pub mod throttle;
pub mod totp;

pub use error::{
    Error, InternalError, UNAVAILABLE_RETRY_AFTER_SECONDS, Unavailable, unavailable_response,
};
pub use refusal::Refusal;
pub use routes::{ConsoleApi, router};
pub use state::{ConsoleState, LivenessPolicy, StaffPolicy, VerificationPolicy};
