//! Staff sessions and the one role extractor.
//!
//! A session is a random 256-bit cookie value; the store keeps only its SHA-256. It ends
//! after `idle_timeout` without a request or `absolute_lifetime` after sign-in. Every staff
//! route takes a [`Staff<P>`], where the policy `P` says which roles may use it and how:
//! a member of staff without the role gets 403 (logged, and written to the audit trail), a
//! visitor without a session is sent to the sign-in page (pages) or gets 401 (other
//! requests). Those refusals are [`Refusal`]s: pages and redirects for a browser asking for
//! a page, `{"error": {"code", "message"}}` otherwise.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use chrono::{DateTime, Utc};
use store::{NewAuditEvent, SessionStage, StaffRole, StaffSession, StaffUser, secrets};

use crate::refusal::Refusal;
use crate::{ConsoleState, Error};

/// The session cookie's name (`__Host-` prefixed over HTTPS, see [`cookie_name`]).
pub const SESSION_COOKIE: &str = "videoreg_staff";
/// The pre-sign-in CSRF cookie's name (double submit on the sign-in form).
pub const LOGIN_CSRF_COOKIE: &str = "videoreg_login_csrf";

/// Which roles may use a route, and whether read-only access is enough.
pub trait Policy: Send + Sync + 'static {
    /// Whether `role` may make a request with `method`.
    fn allows(role: StaffRole, method: &Method) -> bool;
}

/// Any signed-in member of staff.
pub struct AnyStaff;
impl Policy for AnyStaff {
    fn allows(_: StaffRole, _: &Method) -> bool {
        true
    }
}

/// Supervisors (the staff list, the dashboard); auditors may read.
pub struct SupervisorsAndAuditorsRead;
impl Policy for SupervisorsAndAuditorsRead {
    fn allows(role: StaffRole, method: &Method) -> bool {
        match role {
            StaffRole::Supervisor => true,
            StaffRole::Auditor => is_read(method),
            StaffRole::Agent => false,
        }
    }
}

/// The supervisors' dashboard, its live stream and the daily report: supervisors only.
pub struct SupervisorsOnly;
impl Policy for SupervisorsOnly {
    fn allows(role: StaffRole, _: &Method) -> bool {
        role == StaffRole::Supervisor
    }
}

/// The audit trail: auditors and supervisors read it; nobody changes it.
pub struct AuditRead;
impl Policy for AuditRead {
    fn allows(role: StaffRole, method: &Method) -> bool {
        matches!(role, StaffRole::Auditor | StaffRole::Supervisor) && is_read(method)
    }
}

/// Agent pages: agents fully, supervisors read-only.
pub struct AgentPages;
impl Policy for AgentPages {
    fn allows(role: StaffRole, method: &Method) -> bool {
        match role {
            StaffRole::Agent => true,
            StaffRole::Supervisor => is_read(method),
            StaffRole::Auditor => false,
        }
    }
}

/// A call's working routes (details, stills, decisions): agents only; the handler also
/// checks that the call is the agent's own.
pub struct AgentsOnly;
impl Policy for AgentsOnly {
    fn allows(role: StaffRole, _: &Method) -> bool {
        role == StaffRole::Agent
    }
}

/// Decisions and stills after the fact: auditors read them; nobody changes them.
pub struct AuditorsRead;
impl Policy for AuditorsRead {
    fn allows(role: StaffRole, method: &Method) -> bool {
        role == StaffRole::Auditor && is_read(method)
    }
}

/// A decision's page and its evidence (recording, stills): auditors read them, and so do
/// agents who review approvals, for approvals of others queued for review (the handler
/// checks with [`may_review`]).
pub struct DecisionRead;
impl Policy for DecisionRead {
    fn allows(role: StaffRole, method: &Method) -> bool {
        matches!(role, StaffRole::Auditor | StaffRole::Agent) && is_read(method)
    }
}

/// Second reviews: agents with the reviewer flag review, auditors resolve flags (the
/// handlers check which).
pub struct ReviewWork;
impl Policy for ReviewWork {
    fn allows(role: StaffRole, _: &Method) -> bool {
        matches!(role, StaffRole::Auditor | StaffRole::Agent)
    }
}

/// Whether `user` reviews others' approvals: an agent with the reviewer flag.
pub fn is_reviewer(user: &store::StaffUser) -> bool {
    user.role == StaffRole::Agent && user.reviewer
}

/// Whether `user` may see the call on `ticket` as its second reviewer: a reviewer
/// ([`is_reviewer`]), an approval queued for review, and not their own.
pub async fn may_review(
    store: &store::Store,
    user: &store::StaffUser,
    ticket: &str,
) -> Result<bool, store::Error> {
    if !is_reviewer(user) {
        return Ok(false);
    }
    Ok(reviews(user, store.review(ticket).await?.as_ref()))
}

/// [`may_review`] with the call's review already read.
pub fn reviews(user: &store::StaffUser, review: Option<&store::Review>) -> bool {
    is_reviewer(user) && review.is_some_and(|r| r.agent_id != user.id)
}

/// Legal holds on decisions: auditors only (the handler checks the CSRF token).
pub struct AuditorsOnly;
impl Policy for AuditorsOnly {
    fn allows(role: StaffRole, _: &Method) -> bool {
        role == StaffRole::Auditor
    }
}

/// A still's image: the agent whose call it is (checked by the handler) and auditors.
pub struct StillRead;
impl Policy for StillRead {
    fn allows(role: StaffRole, method: &Method) -> bool {
        match role {
            StaffRole::Agent => true,
            StaffRole::Auditor => is_read(method),
            StaffRole::Supervisor => false,
        }
    }
}

/// Whether a `fetch` request carries the session's CSRF token in `X-CSRF-Token`.
pub fn csrf_header_ok(headers: &HeaderMap, session: &StaffSession) -> bool {
    headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| csrf_ok(&session.csrf_token, v))
}

fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// A fully signed-in member of staff allowed by policy `P`. Extracting it also refreshes
/// the session's idle timer.
pub struct Staff<P: Policy> {
    /// The account.
    pub user: StaffUser,
    /// The session.
    pub session: StaffSession,
    _policy: PhantomData<P>,
}

impl<S, P> FromRequestParts<S> for Staff<P>
where
    S: Send + Sync,
    ConsoleState: FromRef<S>,
    P: Policy,
{
    /// No session: to the sign-in page (pages) or 401; password only: to the second factor
    /// (pages) or 401; without the role: 403. Refusals are pages or redirects for a browser
    /// asking for a page, JSON otherwise.
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let state = ConsoleState::from_ref(state);
        let page = wants_page(&parts.headers);
        let now = state.clock.now();
        let Some((session, user)) = current_session(&state, &parts.headers, now).await? else {
            return Err(Refusal::sign_in(page).into());
        };
        if session.stage != SessionStage::Full {
            return Err(if page {
                Refusal::Redirect("/staff/mfa")
            } else {
                Refusal::sign_in(page)
            }
            .into());
        }
        if !P::allows(user.role, &parts.method) {
            tracing::warn!(user = %user.name, role = user.role.as_str(), method = %parts.method, path = %parts.uri.path(), "role violation");
            let detail = serde_json::json!({ "method": parts.method.as_str(), "path": parts.uri.path(), "role": user.role.as_str() });
            state
                .store
                .append_audit(&NewAuditEvent {
                    at: now,
                    actor: &user.id,
                    action: "staff.access_denied",
                    subject: &user.name,
                    detail: &detail.to_string(),
                })
                .await?;
            return Err(Refusal::forbidden(page).into());
        }
        Ok(Staff {
            user,
            session,
            _policy: PhantomData,
        })
    }
}

/// The session named by the request's cookie, if it is alive at `now` and its account is
/// enabled; refreshes its idle timer. Expired sessions are deleted on sight.
pub async fn current_session(
    state: &ConsoleState,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<Option<(StaffSession, StaffUser)>, Error> {
    let Some(value) = cookie(headers, SESSION_COOKIE, state.policy.secure_cookies) else {
        return Ok(None);
    };
    let id_hash = secrets::hash_token(value);
    let Some(session) = state.store.find_staff_session(&id_hash).await? else {
        return Ok(None);
    };
    let idle_limit = match session.stage {
        SessionStage::Full => state.policy.idle_timeout,
        // A half-finished sign-in does not linger.
        SessionStage::Password => chrono::TimeDelta::minutes(5).min(state.policy.idle_timeout),
    };
    if now >= session.expires_at || now >= session.last_seen_at + idle_limit {
        state.store.delete_staff_session(&id_hash).await?;
        return Ok(None);
    }
    let Some(user) = state.store.find_staff_by_id(&session.user_id).await? else {
        return Ok(None);
    };
    if user.disabled {
        state.store.delete_staff_session(&id_hash).await?;
        return Ok(None);
    }
    state.store.touch_staff_session(&id_hash, now).await?;
    Ok(Some((session, user)))
}

/// The name a cookie goes by: with `secure` (HTTPS) it takes the `__Host-` prefix, which
/// browsers accept only from a secure origin, with `Path=/` and no `Domain`, so that no
/// sibling host or plain-HTTP page can set or shadow it.
pub fn cookie_name(name: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// A cookie's value from the request headers, under the name [`set_cookie`] gave it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str, secure: bool) -> Option<&'a str> {
    let name = cookie_name(name, secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/; with `secure`, also `Secure`
/// and the `__Host-` prefix ([`cookie_name`]).
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        cookie_name(name, secure),
        if secure { "; Secure" } else { "" }
    )
}

/// Whether the client is a browser asking for a page.
fn wants_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// Compares a submitted CSRF token with the expected one.
pub fn csrf_ok(expected: &str, submitted: &str) -> bool {
    !expected.is_empty() && secrets::constant_time_eq(expected.as_bytes(), submitted.as_bytes())
}
