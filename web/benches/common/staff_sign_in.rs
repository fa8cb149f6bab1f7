//! A staff account for a benchmark: created with `videoreg user add`, signed in over HTTP as
//! a browser would (the form's CSRF cookie and field, then the second factor's enrolment with a
//! code computed from the secret the page shows).

use std::collections::BTreeMap;

/// Creates an agent account `name` with `videoreg user add --generate`; returns its password.
pub async fn add_agent(binary: &str, database_url: &str, name: &str) -> String {
    let out = tokio::process::Command::new(binary)
        .args(["user", "add", "--role", "agent", "--generate", name])
        .args(["--database-url", database_url])
        .output()
        .await
        .expect("run videoreg user add");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "videoreg user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prefix = format!("password for {name} (shown once): ");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .expect("the generated password is printed")
        .to_owned()
}

/// A browser reduced to its cookie jar.
struct Visitor {
    client: reqwest::Client,
    base: String,
    jar: BTreeMap<String, String>,
}

impl Visitor {
    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends `request` with the jar's cookies; keeps the cookies it sets. Returns the status,
    /// the redirect's target and the body.
    async fn send(&mut self, request: reqwest::RequestBuilder) -> (u16, Option<String>, String) {
        let r = request
            .header("accept", "text/html")
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("staff request");
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap_or("");
            if let Some((k, v)) = c.split(';').next().and_then(|kv| kv.split_once('=')) {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.jar.remove(k);
                } else {
                    self.jar.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, location, r.text().await.expect("body"))
    }

    async fn get(&mut self, path: &str) -> String {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await.2
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Option<String> {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        let (status, location, body) = self.send(request).await;
        assert_eq!(status, 303, "POST {path}: {body}");
        location
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let from = s.find(start).map(|i| i + start.len()).expect(start);
    let len = s[from..].find(end).expect(end);
    &s[from..from + len]
}

/// Signs `name` in on `base` (first sign-in: password, then TOTP enrolment); returns the
/// `Cookie` header that carries the staff session.
pub async fn sign_in(base: &str, name: &str, password: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    let mut visitor = Visitor {
        client,
        base: base.to_owned(),
        jar: BTreeMap::new(),
    };
    let csrf_field = "name=\"csrf\" value=\"";
    let form = visitor.get("/staff/login").await;
    let csrf = between(&form, csrf_field, "\"").to_owned();
    let next = visitor
        .post(
            "/staff/login",
            &[("name", name), ("password", password), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(next.as_deref(), Some("/staff/mfa/enroll"), "first sign-in");
    let page = visitor.get("/staff/mfa/enroll").await;
    let secret = between(&page, "<code class=\"secret\">", "</code>");
    let csrf = between(&page, csrf_field, "\"");
    let code = agent_console::totp::code_at(secret, chrono::Utc::now()).expect("TOTP code");
    let next = visitor
        .post("/staff/mfa/enroll", &[("code", &code), ("csrf", csrf)])
        .await;
    assert_eq!(
        next.as_deref(),
        Some("/staff"),
        "signed in with the second factor"
    );
    visitor.cookie_header()
}
