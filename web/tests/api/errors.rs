//! How errors look: client errors have one JSON shape on the citizen API and on the staff
//! routes; internal errors show a generic message with the request id.

use serde_json::{Value, json};
use store::StaffRole;

use crate::console_helpers::browser_json;
use crate::helpers::spawn_app;

/// Asserts that `body` is a refusal: a JSON object whose one key, `error`, holds a string
/// `code` and a string `message`. Returns the code.
fn refusal_code(body: &Value, what: &str) -> String {
    let keys: Vec<&String> = body.as_object().expect(what).keys().collect();
    assert_eq!(keys, ["error"], "{what}: {body}");
    let message = body["error"]["message"].as_str();
    assert!(message.is_some_and(|m| !m.is_empty()), "{what}: {body}");
    body["error"]["code"].as_str().expect(what).to_owned()
}

/// Asserts a 500 answered as JSON with a generic message quoting the request id (also in
/// the body and the header) and nothing of the cause.
async fn assert_generic_internal_error(r: reqwest::Response) {
    assert_eq!(r.status().as_u16(), 500);
    let id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("request id header")
        .to_owned();
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "internal");
    assert_eq!(body["error"]["request_id"], id.as_str());
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains(&id), "{message}");
    assert!(
        !message.to_lowercase().contains("pool"),
        "no internals leak: {message}"
    );
}

#[tokio::test]
async fn an_internal_error_shows_a_generic_message_with_the_request_id() {
    let app = spawn_app().await;
    let test_call = app.passed_test_call().await;
    // Break the schema under the running server: a genuine fault, not an outage.
    store::testing::execute_raw(
        &app.store,
        "ALTER TABLE identities RENAME TO identities_gone",
    )
    .await
    .expect("rename");
    let r = app
        .client
        .post(app.url("/api/v1/applications"))
        .json(&serde_json::json!({ "id_number": "12345678Z", "contrast": "15/03/2031", "test_call": test_call }))
        .send()
        .await
        .expect("request");
    assert_generic_internal_error(r).await;
}

#[tokio::test]
async fn an_unknown_path_is_404() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/nothing-here"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn citizen_and_staff_refusals_have_the_same_json_shape() {
    let app = spawn_app().await;
    let (status, body) = app.apply("12345678A", "15/03/2031").await;
    assert_eq!(status, 422, "{body}");
    refusal_code(&body, "citizen: a wrong check letter");

    app.add_staff("ana", StaffRole::Agent).await;
    let mut ana = app.browser();
    ana.sign_in("ana").await;
    let csrf = ana.session_csrf().await;
    let decision = json!({ "decision": "abort", "reason": "video_quality" });
    let path = "/staff/calls/not-hers/decision";
    let (status, body) =
        browser_json(&app, &ana, "POST", path, Some((&csrf, decision.clone()))).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        refusal_code(&body, "a decision for a call she does not hold"),
        "not_in_call"
    );
    let (status, body) = browser_json(&app, &ana, "POST", path, Some(("forged", decision))).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(refusal_code(&body, "a forged CSRF header"), "csrf");
    let (status, body) = browser_json(&app, &ana, "GET", "/supervisor/dashboard.json", None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(refusal_code(&body, "a supervisors' route"), "forbidden");
    let nobody = app.browser();
    let (status, body) = browser_json(&app, &nobody, "GET", "/staff/console/call", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(refusal_code(&body, "no session"), "sign_in_required");
}

/// Agent ana, signed in; the console's call for the current call, as JSON.
async fn staff_call(app: &crate::helpers::TestApp, break_it: &str) -> reqwest::Response {
    app.add_staff("ana", StaffRole::Agent).await;
    let mut ana = app.browser();
    ana.sign_in("ana").await;
    if break_it == "close the pool" {
        app.store.close().await;
    } else {
        store::testing::execute_raw(&app.store, break_it)
            .await
            .expect("break the schema");
    }
    app.client
        .get(app.url("/staff/console/call"))
        .header("accept", "application/json")
        .header("accept-language", "en")
        .header("cookie", ana.cookie_header())
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_staff_call_that_fails_inside_gets_json_with_the_request_id() {
    let app = spawn_app().await;
    let r = staff_call(
        &app,
        "ALTER TABLE staff_sessions RENAME TO staff_sessions_gone",
    )
    .await;
    assert_generic_internal_error(r).await;
}

#[tokio::test]
async fn a_staff_call_without_a_database_gets_503_unavailable_json_with_retry_after() {
    let app = spawn_app().await;
    let r = staff_call(&app, "close the pool").await;
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("temporarily unavailable"), "{message}");
}
