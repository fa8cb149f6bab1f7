//! The staff home page, the staff account list and the audit trail.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::{Chrome, chrome, madrid_time, staff_names};
use crate::auth::{
    AgentPages, AnyStaff, AuditRead, AuditorsRead, Policy, Staff, SupervisorsAndAuditorsRead,
    SupervisorsOnly,
};
use crate::i18n::Lang;
use crate::lockout::LOCK_AFTER;
use crate::{ConsoleState, Error};

/// How many audit events the page shows.
const AUDIT_PAGE: u32 = 200;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    lang: Lang,
    chrome: Chrome,
    name: String,
    role: &'static str,
    show_users: bool,
    show_audit: bool,
    show_console: bool,
    show_decisions: bool,
    show_supervisor: bool,
    show_reviews: bool,
}

pub async fn home(
    State(state): State<ConsoleState>,
    lang: Lang,
    staff: Staff<AnyStaff>,
) -> Result<Html<String>, Error> {
    let get = axum::http::Method::GET;
    let role = staff.user.role;
    let page = HomePage {
        lang,
        chrome: chrome(&state, &staff),
        name: staff.user.name.clone(),
        role: role.as_str(),
        show_users: SupervisorsAndAuditorsRead::allows(role, &get),
        show_audit: AuditRead::allows(role, &get),
        show_console: AgentPages::allows(role, &get),
        show_decisions: AuditorsRead::allows(role, &get),
        show_supervisor: SupervisorsOnly::allows(role, &get),
        show_reviews: role == store::StaffRole::Auditor || crate::auth::is_reviewer(&staff.user),
    };
    Ok(Html(page.render()?))
}

/// One row of the account list.
pub struct UserRow {
    name: String,
    role: &'static str,
    mfa: bool,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    lang: Lang,
    chrome: Chrome,
    users: Vec<UserRow>,
}

pub async fn users(
    State(state): State<ConsoleState>,
    lang: Lang,
    staff: Staff<SupervisorsAndAuditorsRead>,
) -> Result<Html<String>, Error> {
    let mut rows = Vec::new();
    for u in state.store.list_staff().await? {
        let (failures, _) = state.store.staff_login_failures_for_name(&u.name).await?;
        let account_state = if u.disabled {
            lang.pick("desactivada", "disabled")
        } else if failures >= LOCK_AFTER {
            lang.pick("bloqueada", "locked")
        } else {
            lang.pick("activa", "active")
        };
        rows.push(UserRow {
            name: u.name,
            role: u.role.as_str(),
            mfa: u.totp_secret.is_some(),
            state: account_state,
        });
    }
    let page = UsersPage {
        lang,
        chrome: chrome(&state, &staff),
        users: rows,
    };
    Ok(Html(page.render()?))
}

/// A subject as the audit page shows it: a full ID number (only in events written before
/// subjects were masked, which stay as written because the chain covers them; the
/// `audit_unmasked_subjects` table lists them) is masked as the console masks it.
fn masked_subject(subject: String) -> String {
    let b = subject.as_bytes();
    let id_number = b.len() == 9
        && (b[0].is_ascii_digit() || matches!(b[0], b'X' | b'Y' | b'Z'))
        && b[1..8].iter().all(u8::is_ascii_digit)
        && b[8].is_ascii_uppercase();
    if id_number {
        format!("*****{}", &subject[5..])
    } else {
        subject
    }
}

/// One row of the audit page.
pub struct EventRow {
    id: i64,
    at: String,
    actor: String,
    action: String,
    subject: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    lang: Lang,
    chrome: Chrome,
    events: Vec<EventRow>,
}

pub async fn audit(
    State(state): State<ConsoleState>,
    lang: Lang,
    staff: Staff<AuditRead>,
) -> Result<Html<String>, Error> {
    let names = staff_names(&state).await?;
    let events = state
        .store
        .recent_audit(AUDIT_PAGE)
        .await?
        .into_iter()
        .map(|e| EventRow {
            id: e.id,
            at: madrid_time(e.at),
            actor: names.get(&e.actor).cloned().unwrap_or(e.actor),
            action: e.action,
            subject: masked_subject(e.subject),
        })
        .collect();
    let page = AuditPage {
        lang,
        chrome: chrome(&state, &staff),
        events,
    };
    Ok(Html(page.render()?))
}

#[cfg(test)]
mod tests {
    use super::masked_subject;

    #[test]
    fn full_id_numbers_of_older_events_are_masked_when_shown() {
        assert_eq!(masked_subject("12345678Z".into()), "*****678Z");
        assert_eq!(masked_subject("X1234567L".into()), "*****567L");
        assert_eq!(masked_subject("*****678Z".into()), "*****678Z");
        assert_eq!(masked_subject("marta".into()), "marta");
        assert_eq!(
            masked_subject("0123456789abcdef".into()),
            "0123456789abcdef"
        );
    }
}
