//! Path parameters that are not UTF-8 (percent-encoded bytes such as `%FF`): refused in the
//! one refusal shape, or with the page the route shows for what does not exist, never with
//! axum's plain-text `400 Invalid URL`, which the OpenAPI description does not have. Found
//! while checking the contract by hand.

use serde_json::{Value, json};
use store::StaffRole;

use crate::console_helpers::browser_json;
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_ticket_that_is_not_utf8_is_refused_as_json_on_the_console_calls() {
    let app = spawn_app().await;
    app.add_staff("agente", StaffRole::Agent).await;
    let mut agent = app.browser();
    agent.sign_in("agente").await;
    let csrf = agent.session_csrf().await;

    let decision = Some((csrf.as_str(), json!({ "decision": "approve" })));
    let (status, body) =
        browser_json(&app, &agent, "POST", "/staff/calls/%FF/decision", decision).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_path", "{body}");

    let r = app
        .client
        .post(app.url("/staff/calls/%FF/stills/face"))
        .header("cookie", agent.cookie_header())
        .header("x-csrf-token", &csrf)
        .body(vec![0u8; 16])
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.expect("JSON refusal");
    assert_eq!(body["error"]["code"], "invalid_path", "{body}");

    let (status, body) = browser_json(&app, &agent, "GET", "/staff/stills/%FF", None).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found", "{body}");
}

#[tokio::test]
async fn a_ticket_that_is_not_utf8_is_no_call_on_the_review_page() {
    let app = spawn_app().await;
    app.add_staff("auditora", StaffRole::Auditor).await;
    let mut auditor = app.browser();
    auditor.sign_in("auditora").await;
    let page = auditor.get("/staff/decisions/%FF").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("No such call"), "{}", page.body);
}
