//! A minimal browser for staff pages: a cookie jar, forms with their CSRF token, and the
//! second factor computed from the enrolment page.

use std::collections::BTreeMap;

use agent_console::accounts::Accounts;
use chrono::TimeDelta;
use store::StaffRole;

use crate::helpers::TestApp;

/// A password that passes the policy.
pub const PASSWORD: &str = "lámpara verde sobre el río";

/// One visitor's cookies and last page.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    jar: BTreeMap<String, String>,
    /// The TOTP secret learnt at enrolment.
    pub totp_secret: Option<String>,
}

/// A response as the tests look at it.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Page {
    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        between(&self.body, "name=\"csrf\" value=\"", "\"").unwrap_or_default()
    }
}

pub fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(s[from..from + len].to_owned())
}

impl TestApp {
    /// Creates an account directly, as `videoreg user add` would.
    pub async fn add_staff(&self, name: &str, role: StaffRole) {
        self.accounts()
            .add_user(name, role, PASSWORD, self.clock.now())
            .await
            .expect("add staff account");
    }

    /// Creates the agent `name` and records them in `status` (as a console would), now.
    pub async fn agent_in(&self, name: &str, status: store::AgentStatus) {
        self.add_staff(name, StaffRole::Agent).await;
        let agent = self
            .store
            .find_staff_by_name(name)
            .await
            .expect("find")
            .expect("the account just added");
        self.store
            .set_agent_state(&agent.id, status, None, self.clock.now())
            .await
            .expect("agent state");
    }

    /// Account operations as `videoreg user` runs them, on the server's hashing pool, with
    /// the single-factor minimum length.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts {
            store: &self.store,
            hashing: &self.state.console.hashing,
            actor: "test",
            min_chars: agent_console::passwords::STAFF_MIN_CHARS_SINGLE_FACTOR,
        }
    }

    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            jar: BTreeMap::new(),
            totp_secret: None,
        }
    }
}

impl Browser<'_> {
    pub fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let set_cookies: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for c in &set_cookies {
            let first = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.jar.remove(k);
                } else {
                    self.jar.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        Page {
            status,
            location,
            set_cookies,
            body: r.text().await.expect("body"),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self
            .app
            .client
            .get(self.app.url(path))
            .header("accept", "text/html")
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.finish(r).await
    }

    /// A GET whose body is not read (for streams that never end).
    pub async fn get_headers(&mut self, path: &str) -> Page {
        let r = self
            .app
            .client
            .get(self.app.url(path))
            .header("accept", "text/html")
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("GET");
        Page {
            status: r.status().as_u16(),
            location: None,
            set_cookies: Vec::new(),
            body: String::new(),
        }
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .app
            .client
            .post(self.app.url(path))
            .header("accept", "text/html")
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("POST");
        self.finish(r).await
    }

    /// Fetches the sign-in form and submits it.
    pub async fn submit_password(&mut self, name: &str, password: &str) -> Page {
        let form = self.get("/staff/login").await;
        let csrf = form.csrf();
        self.post(
            "/staff/login",
            &[("name", name), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    /// The code for the enrolled secret at the server's current time.
    pub fn code(&self) -> String {
        let secret = self.totp_secret.as_deref().expect("enrolled first");
        agent_console::totp::code_at(secret, self.app.clock.now()).expect("code")
    }

    /// Signs in completely: password, then enrolment (first time) or the code.
    pub async fn sign_in(&mut self, name: &str) -> Page {
        let after_password = self.submit_password(name, PASSWORD).await;
        match after_password.location.as_deref() {
            Some("/staff/mfa/enroll") => {
                let page = self.get("/staff/mfa/enroll").await;
                let secret = between(&page.body, "<code class=\"secret\">", "</code>")
                    .expect("secret shown");
                self.totp_secret = Some(secret);
                let code = self.code();
                self.post(
                    "/staff/mfa/enroll",
                    &[("code", &code), ("csrf", &page.csrf())],
                )
                .await
            }
            Some("/staff/mfa") => {
                // A code is accepted once: move to the next 30-second step first.
                self.app.clock.advance(TimeDelta::seconds(30));
                let page = self.get("/staff/mfa").await;
                let code = self.code();
                self.post("/staff/mfa", &[("code", &code), ("csrf", &page.csrf())])
                    .await
            }
            _ => after_password,
        }
    }

    /// The CSRF token of a signed-in page.
    pub async fn session_csrf(&mut self) -> String {
        self.get("/staff").await.csrf()
    }
}
