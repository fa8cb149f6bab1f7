//! The staff routes: sign-in, second factor, sign-out, and the pages each role may read;
//! and what their pages share (the chrome, names and times as shown, sign-in auditing).
//! Route files import from here and from the crate's modules (refusals from
//! [`crate::refusal`]), never from each other.

mod agent_socket;
mod bookings;
mod call;
mod challenge;
mod console;
mod decision;
mod hold;
mod login;
mod mfa;
mod monitor;
mod openapi;
mod pages;
mod recording;
mod report;
mod review;
mod second_review;
mod supervisor;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use scheduler::SERVICE_TZ;
use store::NewAuditEvent;

use crate::auth::{Policy, Staff};
use crate::lockout::LOCK_AFTER;
use crate::{ConsoleState, Error};
pub use openapi::ConsoleApi;

/// Largest decision request body.
const DECISION_BODY_LIMIT: usize = 16 * 1024;
/// Largest challenge request (it carries a language at most; as large as a decision's, so
/// that a malformed body is answered for what it says, not for its size).
const CHALLENGE_BODY_LIMIT: usize = 16 * 1024;
/// Largest monitor request: a receive-only offer with its candidates (a browser's is 5–8 KiB).
const MONITOR_BODY_LIMIT: usize = 64 * 1024;
/// Largest whisper request (280 characters, escaped; room as for a decision).
const WHISPER_BODY_LIMIT: usize = 16 * 1024;

/// Every staff route. `S` is the server's state; it only has to yield a [`ConsoleState`]
/// and a [`signaling::SignalingState`]. `still_max_bytes` bounds still uploads before they
/// are read into memory.
pub fn router<S>(still_max_bytes: usize) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ConsoleState: FromRef<S>,
    signaling::SignalingState: FromRef<S>,
{
    Router::new()
        .route("/staff/login", get(login::page).post(login::submit))
        .route("/staff/logout", post(login::logout))
        .route("/staff/mfa", get(mfa::page).post(mfa::submit))
        .route(
            "/staff/mfa/enroll",
            get(mfa::enrol_page).post(mfa::enrol_submit),
        )
        .route("/staff", get(pages::home))
        .route("/staff/users", get(pages::users))
        .route("/staff/audit", get(pages::audit))
        .route("/ws/agent", get(agent_socket::upgrade))
        .route("/staff/console", get(console::page))
        .route("/staff/static/console.js", get(console::script))
        .route("/staff/static/console-keys.js", get(console::keys_script))
        .route(
            "/staff/static/console-decision.js",
            get(console::decision_script),
        )
        .route("/staff/static/console-script.js", get(console::call_script))
        .route(
            "/staff/static/console-challenge.js",
            get(console::challenge_script),
        )
        .route(
            "/staff/static/console-monitor.js",
            get(console::monitor_script),
        )
        .route(
            "/staff/static/console-stills.js",
            get(console::stills_script),
        )
        .route("/staff/console/call", get(call::details))
        .route(
            "/staff/calls/{ticket}/stills/{kind}",
            post(call::upload).layer(DefaultBodyLimit::max(still_max_bytes)),
        )
        .route(
            "/staff/calls/{ticket}/challenge",
            post(challenge::issue).layer(DefaultBodyLimit::max(CHALLENGE_BODY_LIMIT)),
        )
        .route(
            "/staff/calls/{ticket}/challenge/{id}/heard",
            post(challenge::heard),
        )
        .route(
            "/staff/calls/{ticket}/decision",
            post(decision::decide).layer(DefaultBodyLimit::max(DECISION_BODY_LIMIT)),
        )
        .route("/staff/stills/{id}", get(call::image))
        .route("/staff/stills/{id}/thumbnail", get(call::thumbnail))
        .route("/staff/decisions", get(review::list))
        .route("/staff/decisions/{ticket}", get(review::show))
        .route("/staff/decisions/{ticket}/hold", post(hold::place))
        .route("/staff/recordings/{id}", get(recording::replay))
        .route("/staff/decisions/{ticket}/hold/lift", post(hold::lift))
        .route("/staff/reviews", get(second_review::list))
        .route(
            "/staff/decisions/{ticket}/review",
            post(second_review::complete),
        )
        .route(
            "/staff/decisions/{ticket}/review/resolve",
            post(second_review::resolve),
        )
        .route("/supervisor", get(supervisor::page))
        .route("/supervisor/dashboard.json", get(supervisor::snapshot))
        .route("/supervisor/stream", get(supervisor::stream))
        .route("/supervisor/report", get(report::show))
        .route("/supervisor/bookings", get(bookings::page))
        .route(
            "/supervisor/calls/{ticket}/monitor",
            post(monitor::start).layer(DefaultBodyLimit::max(MONITOR_BODY_LIMIT)),
        )
        .route(
            "/supervisor/calls/{ticket}/monitor/{id}/stop",
            post(monitor::stop),
        )
        .route(
            "/supervisor/calls/{ticket}/whisper",
            post(monitor::whisper).layer(DefaultBodyLimit::max(WHISPER_BODY_LIMIT)),
        )
        .route("/staff/static/supervisor.js", get(supervisor::script))
        .route(
            "/staff/static/supervisor-monitor.js",
            get(supervisor::monitor_script),
        )
        .route(
            "/staff/static/decision.js",
            get(|| async { javascript(DECISION_JS) }),
        )
        .route(
            "/staff/static/staff.js",
            get(|| async { javascript(STAFF_JS) }),
        )
}

/// The decision page's script: the timeline seeks the recording.
const DECISION_JS: &str = include_str!("../../static/decision.js");

/// The staff pages' shared script module (language, agent state names).
const STAFF_JS: &str = include_str!("../../static/staff.js");

/// A script module as served: JavaScript, revalidated on every load.
pub(crate) fn javascript(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

/// What every staff page shows around its content.
pub struct Chrome {
    /// Who is signed in, with the CSRF token for the sign-out form.
    pub signed_in: Option<SignedIn>,
    /// Whether the second factor is required (a banner says when it is not).
    pub mfa_required: bool,
    /// Whether the calendar is overridden.
    pub always_open: bool,
}

/// The signed-in member of staff, as the page header shows them.
pub struct SignedIn {
    /// Sign-in name.
    pub name: String,
    /// Role name.
    pub role: &'static str,
    /// CSRF token for forms.
    pub csrf: String,
}

impl Chrome {
    /// The chrome for `signed_in` (nobody on the sign-in page).
    pub(crate) fn new(state: &ConsoleState, signed_in: Option<SignedIn>) -> Self {
        Self {
            signed_in,
            mfa_required: state.policy.mfa_required,
            always_open: state.always_open,
        }
    }
}

/// The chrome of a page for a signed-in member of staff.
fn chrome<P: Policy>(state: &ConsoleState, staff: &Staff<P>) -> Chrome {
    Chrome::new(
        state,
        Some(SignedIn {
            name: staff.user.name.clone(),
            role: staff.user.role.as_str(),
            csrf: staff.session.csrf_token.clone(),
        }),
    )
}

/// Staff user id → sign-in name, for showing who did what.
async fn staff_names(state: &ConsoleState) -> Result<HashMap<String, String>, Error> {
    Ok(state
        .store
        .list_staff()
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

/// An instant as staff pages show it: Madrid wall-clock time to the second.
fn madrid_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&SERVICE_TZ)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Writes a sign-in event (sign-in, sign-out, refusals) with the client's address.
async fn audit_sign_in(
    state: &ConsoleState,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    addr: &str,
) -> Result<(), Error> {
    let detail = serde_json::json!({ "client_addr": addr }).to_string();
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor,
            action,
            subject,
            detail: &detail,
        })
        .await?;
    Ok(())
}

/// Records a failed sign-in step (wrong name, password or code) for `name`, already counted
/// as the name's `failures`-th, and the lock when this failure is the one that reaches it.
async fn record_failure(
    state: &ConsoleState,
    name: &str,
    addr: &str,
    failures: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    audit_sign_in(state, now, "anonymous", "staff.login_failed", name, addr).await?;
    if crate::throttle::crossed(failures, LOCK_AFTER) {
        tracing::warn!(user = %name, "staff sign-in locked after repeated failures");
        audit_sign_in(state, now, "system", "staff.locked", name, addr).await?;
    }
    Ok(())
}

/// Clears the counters a successful sign-in by `name` from `addr` lifts: the name's and the
/// address's (a success restores the address's trust).
async fn signed_in_clears(state: &ConsoleState, name: &str, addr: &str) -> Result<(), Error> {
    state.store.clear_staff_login_failures(name).await?;
    state
        .store
        .clear_throttle(store::ThrottleScope::StaffAddress, addr)
        .await?;
    Ok(())
}
