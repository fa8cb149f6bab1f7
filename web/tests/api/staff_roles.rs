//! Every staff route × every role (and no session) → the expected status. Later issues add
//! their routes to `ROUTES`.

use store::StaffRole;

use crate::helpers::spawn_app;

/// (method, path, none, agent, supervisor, auditor). 303 without a session means "sent to
/// the sign-in page".
const ROUTES: &[(&str, &str, u16, u16, u16, u16)] = &[
    ("GET", "/staff", 303, 200, 200, 200),
    ("GET", "/staff/users", 303, 403, 200, 200),
    ("GET", "/staff/audit", 303, 403, 200, 200),
    ("POST", "/staff/logout", 303, 303, 303, 303),
    ("GET", "/staff/mfa", 303, 303, 303, 303),
    ("GET", "/staff/mfa/enroll", 303, 303, 303, 303),
    // A plain GET passes the role check and then fails the WebSocket handshake (400);
    // the handshake itself is tested in ws_agent.rs.
    ("GET", "/ws/agent", 303, 400, 400, 403),
    // The console: agents work, supervisors watch, auditors have no business there.
    ("GET", "/staff/console", 303, 200, 200, 403),
    // Agents only; 409 because this agent holds no call.
    ("GET", "/staff/console/call", 303, 409, 403, 403),
    // Agents only; the agent's form post lacks the X-CSRF-Token header (403 csrf).
    ("POST", "/staff/calls/t/stills/face", 303, 403, 403, 403),
    // Agents only; the agent's form post is not JSON (415).
    ("POST", "/staff/calls/t/decision", 303, 415, 403, 403),
    // The agent whose call it is and auditors; no such still here (404).
    ("GET", "/staff/stills/s", 303, 404, 403, 404),
    ("GET", "/staff/stills/s/thumbnail", 303, 404, 403, 404),
    // Auditors read decisions; nobody else.
    ("GET", "/staff/decisions", 303, 403, 403, 200),
    ("GET", "/staff/decisions/t", 303, 403, 403, 404),
    // Second review: agents with the reviewer flag review, auditors resolve (these
    // accounts: an agent without the flag); a resolution without its explanation is refused.
    ("GET", "/staff/reviews", 303, 403, 403, 200),
    ("POST", "/staff/decisions/t/review", 303, 403, 403, 403),
    (
        "POST",
        "/staff/decisions/t/review/resolve",
        303,
        403,
        403,
        422,
    ),
    // The supervisors' dashboard, its JSON snapshot and live stream, and the daily report
    // (page and CSV): supervisors only.
    ("GET", "/supervisor", 303, 403, 200, 403),
    ("GET", "/supervisor/dashboard.json", 303, 403, 200, 403),
    ("GET", "/supervisor/stream", 303, 403, 200, 403),
    ("GET", "/supervisor/report", 303, 403, 200, 403),
    ("GET", "/supervisor/bookings", 303, 403, 200, 403),
    (
        "GET",
        "/supervisor/report?date=2026-11-26&format=csv",
        303,
        403,
        200,
        403,
    ),
];

/// A stream never ends: only its status is read.
fn is_stream(path: &str) -> bool {
    path.ends_with("/stream")
}

#[tokio::test]
async fn every_staff_route_answers_each_role_as_the_table_says() {
    let app = spawn_app().await;
    let roles = [
        ("agente", StaffRole::Agent),
        ("supervisora", StaffRole::Supervisor),
        ("auditora", StaffRole::Auditor),
    ];
    let mut secrets = std::collections::HashMap::new();
    for (name, role) in roles {
        app.add_staff(name, role).await;
    }
    for &(method, path, none, agent, supervisor, auditor) in ROUTES {
        let mut anonymous = app.browser();
        let page = match method {
            "GET" if is_stream(path) => anonymous.get_headers(path).await,
            "GET" => anonymous.get(path).await,
            _ => anonymous.post(path, &[]).await,
        };
        assert_eq!(page.status, none, "{method} {path} without a session");
        for ((name, _), expected) in roles.iter().zip([agent, supervisor, auditor]) {
            let mut b = app.browser();
            b.totp_secret = secrets.get(name).cloned();
            b.sign_in(name).await;
            secrets.insert(*name, b.totp_secret.clone().expect("enrolled"));
            let csrf = b.session_csrf().await;
            let page = match method {
                "GET" if is_stream(path) => b.get_headers(path).await,
                "GET" => b.get(path).await,
                _ => b.post(path, &[("csrf", &csrf)]).await,
            };
            assert_eq!(page.status, expected, "{method} {path} as {name}");
        }
    }
    let denied = app.store.audit_for_subject("agente").await.expect("audit");
    assert!(
        denied.iter().any(|e| e.action == "staff.access_denied"),
        "role violations are audited"
    );
}

#[tokio::test]
async fn requests_that_are_not_pages_get_401_without_a_session() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/staff/users"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 401);
}
