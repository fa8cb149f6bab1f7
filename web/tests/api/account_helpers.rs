//! Registrations with a known activation code, written straight into the store, and the
//! forms of `/activate`, `/login` and `/receipt` as a browser sends them.

use chrono::TimeDelta;
use signaling::activation::ActivationCode;
use store::{
    NewApplication, NewAuditEvent, NewDecision, NewRegistration, NewTicket, Outcome, StaffRole,
};

use crate::helpers::TestApp;

/// The demo registry's DNI holder, Lucía Martín Ficticia.
pub const LUCIA: &str = "12345678Z";
/// The demo registry's NIE holder, Amina Haddad Demo.
pub const AMINA: &str = "X1234567L";
/// A password that meets the policy for both.
pub const GOOD_PASSWORD: &str = "Verde-Mar-2026";

/// An approved registration and its code.
pub struct Registered {
    pub code: ActivationCode,
    pub reference: String,
}

/// Approves `id_number` (of the demo registry) now, with a code valid for `valid_for`.
pub async fn register(app: &TestApp, id_number: &str, valid_for: TimeDelta) -> Registered {
    let store = &app.store;
    let now = app.clock.now();
    if store
        .find_staff_by_id("agent-1")
        .await
        .expect("find")
        .is_none()
    {
        store
            .insert_staff_user("agent-1", "agente", StaffRole::Agent, "h", now)
            .await
            .expect("agent");
    }
    let app_id = format!("app-{id_number}");
    store
        .insert_application(&NewApplication {
            id: &app_id,
            token_hash: &format!("tok-{id_number}"),
            id_number,
            client_addr: "127.0.0.1",
            created_at: now,
            expires_at: now + TimeDelta::hours(6),
            test_call: None,
        })
        .await
        .expect("application");
    let ticket = format!("t-{id_number}");
    store
        .join_queue(
            &NewTicket {
                id: &ticket,
                application_id: &app_id,
                id_number,
                priority: 0,
                joined_at: now,
                told_estimate_secs: None,
                resume_token_hash: &format!("resume-{id_number}"),
                consent_at: now,
                appointment_at: None,
                told_range_secs: None,
            },
            None,
        )
        .await
        .expect("join");
    store
        .claim_next("agent-1", now)
        .await
        .expect("claim")
        .expect("a ticket");
    assert!(store.answer_ticket(&ticket, now).await.expect("answer"));
    let code = ActivationCode::generate().expect("code");
    let reference = store::secrets::new_id().expect("reference");
    let hash = code.hash();
    store
        .record_decision(
            &NewDecision {
                id: &format!("d-{id_number}"),
                ticket_id: &ticket,
                agent_id: "agent-1",
                outcome: Outcome::Approved,
                reason: None,
                note: "",
                checklist: "[]",
                registration: Some(NewRegistration {
                    id: &reference,
                    code_id: &format!("c-{id_number}"),
                    code_hash: &hash,
                    code_expires_at: now + valid_for,
                }),
                review: None,
                requeue_priority: 0,
                at: now,
            },
            &NewAuditEvent {
                at: now,
                actor: "agent-1",
                action: "decision.approved",
                subject: &ticket,
                detail: "{}",
            },
        )
        .await
        .expect("decide");
    Registered { code, reference }
}

/// A page's answer: status, headers and body text.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl TestApp {
    /// Whether `id_number` has set a Permanent Cl@ve password.
    pub async fn has_password(&self, id_number: &str) -> bool {
        self.store
            .citizen_credential(id_number)
            .await
            .expect("read")
            .is_some()
    }

    /// `GET path` as a browser in `lang`.
    pub async fn account_page(&self, path: &str, lang: &str) -> Answer {
        let r = self
            .client
            .get(self.url(path))
            .header("accept-language", lang)
            .send()
            .await
            .expect("request");
        answer(r).await
    }

    /// Posts a form to `path` in `lang` with extra headers (cookies, forwarded address).
    pub async fn post_form(
        &self,
        path: &str,
        lang: &str,
        form: &[(&str, &str)],
        headers: &[(&str, String)],
    ) -> Answer {
        let mut request = self
            .client
            .post(self.url(path))
            .header("accept-language", lang)
            .form(form);
        for (k, v) in headers {
            request = request.header(*k, v);
        }
        answer(request.send().await.expect("request")).await
    }

    /// Fills in and sends `/activate` as a browser would (CSRF cookie and field from the form).
    pub async fn activate(
        &self,
        id: &str,
        code: &str,
        password: &str,
        repeat: &str,
        lang: &str,
    ) -> Answer {
        self.activate_from(id, code, password, repeat, lang, "203.0.113.9")
            .await
    }

    /// `/activate` as if through a proxy reporting the client as `addr`.
    pub async fn activate_from(
        &self,
        id: &str,
        code: &str,
        password: &str,
        repeat: &str,
        lang: &str,
        addr: &str,
    ) -> Answer {
        let form = self.account_page("/activate", lang).await;
        let cookie = set_cookie_pair(&form.headers, "videoreg_activate_csrf");
        let csrf = hidden_value(&form.body, "csrf");
        let fields = [
            ("id_number", id),
            ("code", code),
            ("password", password),
            ("repeat", repeat),
            ("csrf", csrf.as_str()),
        ];
        let headers = [("cookie", cookie), ("x-forwarded-for", addr.to_owned())];
        self.post_form("/activate", lang, &fields, &headers).await
    }

    /// Signs in at `/login`.
    pub async fn citizen_login(&self, id: &str, password: &str, lang: &str) -> Answer {
        let fields = [("id_number", id), ("password", password)];
        self.post_form("/login", lang, &fields, &[]).await
    }

    /// Signs in at `/login` as if through a proxy reporting the client as `addr`.
    pub async fn citizen_login_from(
        &self,
        id: &str,
        password: &str,
        lang: &str,
        addr: &str,
    ) -> Answer {
        let fields = [("id_number", id), ("password", password)];
        let headers = [("x-forwarded-for", addr.to_owned())];
        self.post_form("/login", lang, &fields, &headers).await
    }

    /// Wrong codes counted for `id` from `addr` (activation and receipts).
    pub async fn code_failures(&self, id: &str, addr: &str) -> i64 {
        let subject = store::pair_subject(id, addr);
        self.store
            .throttle(store::ThrottleScope::CitizenCodePair, &subject)
            .await
            .expect("read")
            .map_or(0, |t| t.failures)
    }
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.text().await.expect("body");
    Answer {
        status,
        headers,
        body,
    }
}

/// `name=value` of the cookie a response sets.
pub fn set_cookie_pair(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no {name} cookie set"))
}

/// The value of the hidden input `name` in a page.
pub fn hidden_value(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .map(|i| i + marker.len())
        .expect("hidden field");
    body[start..].split('"').next().expect("value").to_owned()
}
