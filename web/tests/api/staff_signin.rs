use chrono::TimeDelta;
use store::StaffRole;
use web::config::{ServeArgs, Toggle};

use crate::helpers::{Db, spawn_app, spawn_app_with};
use crate::staff_helpers::{PASSWORD, between};

async fn audit_actions(app: &crate::helpers::TestApp, name: &str) -> Vec<String> {
    app.store
        .audit_for_subject(name)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn first_sign_in_enrols_totp_with_a_qr_code_and_reaches_home() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    let after = b.submit_password("marta", PASSWORD).await;
    assert_eq!(
        (after.status, after.location.as_deref()),
        (303, Some("/staff/mfa/enroll"))
    );
    let session = after
        .set_cookies
        .iter()
        .find(|c| c.starts_with("videoreg_staff="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "not configured");
    // Half signed in: staff pages still send to the second factor.
    assert_eq!(
        b.get("/staff").await.location.as_deref(),
        Some("/staff/mfa")
    );
    let enrol = b.get("/staff/mfa/enroll").await;
    assert!(enrol.body.contains("<svg"), "QR code shown");
    b.totp_secret = between(&enrol.body, "<code class=\"secret\">", "</code>");
    let code = b.code();
    let done = b
        .post(
            "/staff/mfa/enroll",
            &[("code", &code), ("csrf", &enrol.csrf())],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/staff"));
    let home = b.get("/staff").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("marta") && home.body.contains("agent"));
    let actions = audit_actions(&app, "marta").await;
    for a in [
        "staff.user_added.agent",
        "staff.password_accepted",
        "staff.mfa_enrolled",
        "staff.signed_in",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    let wrong = b.submit_password("marta", "not the password at all").await;
    let unknown = b.submit_password("nobody", "not the password at all").await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    let strip = |p: &crate::staff_helpers::Page, name: &str| {
        p.body.replace(&p.csrf(), "").replace(name, "NAME")
    };
    assert_eq!(strip(&wrong, "marta"), strip(&unknown, "nobody"));
    assert!(wrong.body.contains("Usuario o contraseña incorrectos"));
    assert!(
        audit_actions(&app, "nobody")
            .await
            .contains(&"staff.login_failed".to_owned())
    );
}

#[tokio::test]
async fn after_five_failures_attempts_are_delayed_progressively_and_after_twenty_locked() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    for _ in 0..5 {
        assert_eq!(
            b.submit_password("marta", "wrong password 123")
                .await
                .status,
            401
        );
    }
    let early = b.submit_password("marta", PASSWORD).await;
    assert_eq!(early.status, 429, "even the right password waits");
    assert!(early.body.contains("30 s"), "{}", early.body);
    app.clock.advance(TimeDelta::seconds(30));
    assert_eq!(
        b.submit_password("marta", "wrong password 123")
            .await
            .status,
        401,
        "sixth failure"
    );
    app.clock.advance(TimeDelta::seconds(30));
    assert_eq!(
        b.submit_password("marta", PASSWORD).await.status,
        429,
        "now 60 s"
    );
    // Keep failing, waiting out each delay, up to 20.
    for _ in 6..20 {
        app.clock.advance(TimeDelta::minutes(16));
        assert_eq!(
            b.submit_password("marta", "wrong password 123")
                .await
                .status,
            401
        );
    }
    app.clock.advance(TimeDelta::days(2));
    let locked = b.submit_password("marta", PASSWORD).await;
    assert_eq!(
        locked.status, 423,
        "locked until reset, however long one waits"
    );
    assert!(
        audit_actions(&app, "marta")
            .await
            .contains(&"staff.locked".to_owned())
    );
    // The same answer for a name that does not exist, after as many failures.
    let mut other = app.browser();
    for _ in 0..20 {
        app.clock.advance(TimeDelta::minutes(16));
        other.submit_password("ghost", "wrong password 123").await;
    }
    assert_eq!(other.submit_password("ghost", PASSWORD).await.status, 423);

    app.accounts()
        .reset_password("marta", PASSWORD, app.clock.now())
        .await
        .expect("reset");
    assert_eq!(
        b.submit_password("marta", PASSWORD).await.status,
        303,
        "unlocked by the reset"
    );
}

#[tokio::test]
async fn failures_are_limited_per_client_address() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    for i in 0..30 {
        assert_eq!(
            b.submit_password(&format!("name{i}"), "wrong password 123")
                .await
                .status,
            401
        );
    }
    assert_eq!(b.submit_password("marta", PASSWORD).await.status, 429);
    app.clock.advance(TimeDelta::minutes(16));
    assert_eq!(b.submit_password("marta", PASSWORD).await.status, 303);
}

#[tokio::test]
async fn a_totp_code_is_refused_when_wrong_and_when_replayed_within_its_step() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    b.sign_in("marta").await;
    let csrf = b.session_csrf().await;
    b.post("/staff/logout", &[("csrf", &csrf)]).await;

    // Same 30-second step as the enrolment code: a replay.
    assert_eq!(
        b.submit_password("marta", PASSWORD)
            .await
            .location
            .as_deref(),
        Some("/staff/mfa")
    );
    let page = b.get("/staff/mfa").await;
    let replay = b
        .post("/staff/mfa", &[("code", &b.code()), ("csrf", &page.csrf())])
        .await;
    assert_eq!(replay.status, 401);
    let wrong_code = if b.code() == "000000" {
        "111111"
    } else {
        "000000"
    };
    let wrong = b
        .post(
            "/staff/mfa",
            &[("code", wrong_code), ("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(wrong.status, 401);
    app.clock.advance(TimeDelta::seconds(30));
    let right = b
        .post("/staff/mfa", &[("code", &b.code()), ("csrf", &page.csrf())])
        .await;
    assert_eq!(right.location.as_deref(), Some("/staff"));
    assert_eq!(b.get("/staff").await.status, 200);
    let actions = audit_actions(&app, "marta").await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "staff.login_failed")
            .count(),
        2,
        "{actions:?}"
    );
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    b.get("/staff/login").await;
    let missing = b
        .post("/staff/login", &[("name", "marta"), ("password", PASSWORD)])
        .await;
    assert_eq!(missing.status, 403);
    let wrong = b
        .post(
            "/staff/login",
            &[
                ("name", "marta"),
                ("password", PASSWORD),
                ("csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 403);
    b.sign_in("marta").await;
    assert_eq!(b.post("/staff/logout", &[]).await.status, 403);
    assert_eq!(
        b.post("/staff/logout", &[("csrf", "forged")]).await.status,
        403
    );
    assert_eq!(b.get("/staff").await.status, 200, "still signed in");
    let csrf = b.session_csrf().await;
    let out = b.post("/staff/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/staff/login"));
    assert_eq!(
        b.get("/staff").await.location.as_deref(),
        Some("/staff/login")
    );
    assert!(
        audit_actions(&app, "marta")
            .await
            .contains(&"staff.signed_out".to_owned())
    );
}

#[tokio::test]
async fn sessions_end_after_idle_time_and_after_their_absolute_lifetime() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    b.sign_in("marta").await;
    app.clock.advance(TimeDelta::minutes(29));
    assert_eq!(
        b.get("/staff").await.status,
        200,
        "29 idle minutes are fine"
    );
    app.clock.advance(TimeDelta::minutes(30));
    assert_eq!(
        b.get("/staff").await.location.as_deref(),
        Some("/staff/login"),
        "30 idle minutes end it"
    );

    b.sign_in("marta").await;
    for _ in 0..29 {
        app.clock.advance(TimeDelta::minutes(20));
        assert_eq!(b.get("/staff").await.status, 200);
    }
    // 9 h 40 min of steady use so far; the 10-hour limit ends it regardless.
    app.clock.advance(TimeDelta::minutes(20));
    assert_eq!(
        b.get("/staff").await.location.as_deref(),
        Some("/staff/login")
    );
}

#[tokio::test]
async fn a_disabled_account_loses_its_sessions_and_cannot_sign_in() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    b.sign_in("marta").await;
    agent_console::accounts::disable_user(&app.store, "test", "marta", app.clock.now())
        .await
        .expect("disable");
    assert_eq!(
        b.get("/staff").await.location.as_deref(),
        Some("/staff/login")
    );
    let refused = b.submit_password("marta", PASSWORD).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("desactivada"));
    let wrong = b.submit_password("marta", "wrong password 123").await;
    assert_eq!(
        wrong.status, 401,
        "a wrong password still looks like any other"
    );
}

#[tokio::test]
async fn with_mfa_off_the_password_is_enough_and_every_staff_page_says_so() {
    let args = ServeArgs {
        staff_mfa: Some(Toggle::Off),
        secure_cookies: true,
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    app.add_staff("marta", StaffRole::Supervisor).await;
    let mut b = app.browser();
    let login = b.get("/staff/login").await;
    assert!(login.body.contains("Segundo factor DESACTIVADO"));
    let after = b.submit_password("marta", PASSWORD).await;
    assert_eq!(after.location.as_deref(), Some("/staff"));
    assert!(
        after
            .set_cookies
            .iter()
            .any(|c| c.starts_with("__Host-videoreg_staff=") && c.contains("; Secure"))
    );
    let home = b.get("/staff").await;
    assert!(home.body.contains("Segundo factor DESACTIVADO"));
}

#[tokio::test]
async fn staff_sign_in_works_on_postgres() {
    let app = spawn_app_with(Db::Postgres, ServeArgs::default()).await;
    app.add_staff("marta", StaffRole::Auditor).await;
    let mut b = app.browser();
    assert_eq!(b.sign_in("marta").await.location.as_deref(), Some("/staff"));
    assert_eq!(b.get("/staff/audit").await.status, 200);
}

#[tokio::test]
async fn a_half_finished_sign_in_can_be_abandoned() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    b.submit_password("marta", PASSWORD).await;
    let enrol = b.get("/staff/mfa/enroll").await;
    let out = b.post("/staff/logout", &[("csrf", &enrol.csrf())]).await;
    assert_eq!(out.location.as_deref(), Some("/staff/login"));
    assert_eq!(
        b.get("/staff/mfa/enroll").await.location.as_deref(),
        Some("/staff/login")
    );
}
