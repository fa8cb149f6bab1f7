//! Transport, cache and evidence hygiene: HSTS and `__Host-` cookies over HTTPS, a new
//! session id after the second factor, `no-store` on staff and personal pages, account forms
//! refused from other sites, and audit subjects without full ID numbers.

use chrono::TimeDelta;
use store::StaffRole;
use web::config::ServeArgs;

use crate::account_helpers::{GOOD_PASSWORD, LUCIA, register};
use crate::helpers::{Db, TestApp, spawn_app, spawn_app_with};
use crate::staff_helpers::{PASSWORD, between};

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn get(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("accept", "text/html")
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET")
}

#[tokio::test]
async fn the_session_id_changes_when_the_second_factor_is_passed() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    let after_password = b.submit_password("marta", PASSWORD).await;
    assert_eq!(
        after_password.location.as_deref(),
        Some("/staff/mfa/enroll")
    );
    let before = b.cookie_header();
    let page = b.get("/staff/mfa/enroll").await;
    b.totp_secret = between(&page.body, "<code class=\"secret\">", "</code>");
    let code = b.code();
    let done = b
        .post(
            "/staff/mfa/enroll",
            &[("code", &code), ("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/staff"));
    let after = b.cookie_header();
    assert!(after.contains("videoreg_staff="), "{after}");
    assert_ne!(before, after, "a new session id after the second factor");
    assert_eq!(b.get("/staff").await.status, 200);
    let old = get(&app, "/staff", &before).await;
    assert_eq!(
        header(old.headers(), "location").as_deref(),
        Some("/staff/login"),
        "the id known before the second factor no longer signs in"
    );
}

#[tokio::test]
async fn with_secure_cookies_responses_carry_hsts_and_host_prefixed_cookies() {
    let args = ServeArgs {
        secure_cookies: true,
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    app.add_staff("marta", StaffRole::Auditor).await;
    let landing = get(&app, "/", "").await;
    assert_eq!(
        header(landing.headers(), "strict-transport-security").as_deref(),
        Some("max-age=31536000")
    );
    let mut b = app.browser();
    let login = b.get("/staff/login").await;
    assert!(
        login
            .set_cookies
            .iter()
            .any(|c| c.starts_with("__Host-videoreg_login_csrf=") && c.contains("; Secure")),
        "{:?}",
        login.set_cookies
    );
    let signed_in = b.sign_in("marta").await;
    assert_eq!(signed_in.location.as_deref(), Some("/staff"));
    assert!(
        signed_in.set_cookies.iter().any(|c| {
            c.starts_with("__Host-videoreg_staff=")
                && c.contains("; Secure")
                && c.contains("Path=/")
                && !c.contains("Domain")
        }),
        "{:?}",
        signed_in.set_cookies
    );
    assert_eq!(b.get("/staff/audit").await.status, 200);

    let plain = spawn_app().await;
    let landing = get(&plain, "/", "").await;
    assert_eq!(header(landing.headers(), "strict-transport-security"), None);
}

#[tokio::test]
async fn staff_and_personal_pages_are_not_stored_by_browsers_or_caches() {
    let app = spawn_app().await;
    app.add_staff("ana", StaffRole::Auditor).await;
    app.add_staff("sara", StaffRole::Supervisor).await;
    let mut auditor = app.browser();
    auditor.sign_in("ana").await;
    let mut supervisor = app.browser();
    supervisor.sign_in("sara").await;
    let no_store = |r: &reqwest::Response| header(r.headers(), "cache-control");
    for (path, cookie) in [
        ("/staff/audit", auditor.cookie_header()),
        ("/staff/decisions", auditor.cookie_header()),
        (
            "/supervisor/report?date=2026-11-26&format=csv",
            supervisor.cookie_header(),
        ),
        ("/staff/login", String::new()),
        ("/activate", String::new()),
        ("/receipt", String::new()),
    ] {
        let r = get(&app, path, &cookie).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(no_store(&r).as_deref(), Some("no-store"), "{path}");
    }
    register(&app, LUCIA, TimeDelta::days(30)).await;
    let login = app.citizen_login(LUCIA, GOOD_PASSWORD, "es").await;
    assert_eq!(
        header(&login.headers, "cache-control").as_deref(),
        Some("no-store")
    );
    let asset = get(&app, "/static/app.css", "").await;
    assert_ne!(
        no_store(&asset).as_deref(),
        Some("no-store"),
        "assets cache"
    );
}

#[tokio::test]
async fn a_cross_origin_post_to_login_and_receipt_is_refused() {
    let app = spawn_app().await;
    let own = app.base.clone();
    let id = [("id_number", LUCIA), ("password", "x"), ("code", "x")];
    for path in ["/login", "/receipt"] {
        let foreign = [("origin", "https://evil.example".to_owned())];
        let refused = app.post_form(path, "en", &id, &foreign).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
        assert!(refused.body.contains("cross_origin"), "{}", refused.body);
        let fetch_site = [("sec-fetch-site", "cross-site".to_owned())];
        let refused = app.post_form(path, "en", &id, &fetch_site).await;
        assert_eq!(refused.status, 403, "{path} without Origin");
        let hidden = [
            ("origin", "null".to_owned()),
            ("sec-fetch-site", "cross-site".to_owned()),
        ];
        let refused = app.post_form(path, "en", &id, &hidden).await;
        assert_eq!(refused.status, 403, "{path} from a hidden foreign origin");
        let same = [("origin", own.clone())];
        let allowed = app.post_form(path, "en", &id, &same).await;
        assert_ne!(allowed.status, 403, "{path} from the site itself");
    }
    // The site's own form under `Referrer-Policy: no-referrer`: Chromium sends
    // `Origin: null`, and says the request is same-origin.
    let own_form = [
        ("origin", "null".to_owned()),
        ("sec-fetch-site", "same-origin".to_owned()),
    ];
    let allowed = app.post_form("/receipt", "en", &id, &own_form).await;
    assert_ne!(allowed.status, 403, "the site's own form with Origin: null");
    let failures = app
        .store
        .recent_audit(50)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action.ends_with("_failed"))
        .count();
    // Only the same-origin /login counts (the receipt's malformed code is refused before
    // counting); the refused posts count nothing.
    assert_eq!(failures, 1);
}

#[tokio::test]
async fn audit_subjects_hold_no_full_id_number_and_a_keyed_hash_links_them() {
    let app = spawn_app().await;
    for _ in 0..2 {
        assert_eq!(app.apply(LUCIA, "01/01/2030").await.0, 422);
    }
    let events = app.store.recent_audit(50).await.expect("audit");
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.action == "verification.failed")
        .collect();
    assert_eq!(failed.len(), 2);
    for e in &events {
        assert!(
            !e.subject.contains(LUCIA) && !e.detail.contains(LUCIA),
            "{e:?}"
        );
    }
    assert!(failed.iter().all(|e| e.subject == "*****678Z"));
    let link = |e: &store::AuditEvent| {
        serde_json::from_str::<serde_json::Value>(&e.detail).expect("JSON")["id_link"]
            .as_str()
            .map(str::to_owned)
    };
    let first = link(failed[0]).expect("a keyed hash");
    assert_eq!(Some(first.clone()), link(failed[1]), "the same ID links");
    assert_eq!(first.len(), 32);

    app.add_staff("ana", StaffRole::Auditor).await;
    let mut auditor = app.browser();
    auditor.sign_in("ana").await;
    let page = auditor.get("/staff/audit").await;
    assert!(page.body.contains("*****678Z") && !page.body.contains(LUCIA));
}
